"""A Python client generated from the app's OpenAPI document by ``openapi-python-client``, the way a
bureau's developer would make one: the generator must accept the document without a single warning
(a warning means a part of the API missing from the client, e.g. a response left unparsed), and the
generated package must evaluate a profile and read a screening's results, parsed into its models.

Offline: the document comes from the app in this process, the generator runs from the virtualenv,
and the client reaches the app through httpx's in-process ASGI transport."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app

# the screening fixtures (an app with bureau accounts, runs worked off in the test's thread), on
# SQLite and on PostgreSQL like tests/screening
from tests.screening.conftest import bureau, csv_bytes, profiles, run_done, screening_db_url  # noqa: F401

PACKAGE = "huiqi_client"
BASE_URL = "http://huiqi.test"


def _generate(document: dict, workdir: Path) -> subprocess.CompletedProcess[str]:
    spec = workdir / "openapi.json"
    spec.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    config = workdir / "config.json"
    # no post hooks: the default ones format the code with ruff, which the import does not need
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}), encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(workdir / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,  # a hung generator fails the test instead of the whole run
    )


@pytest.fixture(scope="module")
def client_package(tmp_path_factory) -> Iterator[ModuleType]:
    """The generated package, importable as ``huiqi_client`` for this module's tests."""
    app = create_app(Settings(database_url="sqlite://", migrate_on_start=False))
    document = TestClient(app).get("/openapi.json").json()  # what a client developer downloads
    workdir = tmp_path_factory.mktemp("generated-client")
    done = _generate(document, workdir)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, output
    # a clean run prints one line; anything else (a warning, a skipped schema …) fails the test
    assert output.splitlines() == [f"Generating {workdir / PACKAGE}"], output
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_the_generated_client_evaluates_a_profile(client_package, client, world, established_body):
    # ``client`` (tests/api) only puts the standing accounts back as they were made
    create_evaluation = _module("api.evaluations.create_evaluation")
    models = _module("models")
    body = models.EvaluationCreate.from_dict(established_body)
    transport = httpx.ASGITransport(app=world.app)

    async def call():
        async with client_package.Client(base_url=BASE_URL, httpx_args={"transport": transport}) as anonymous:
            answered = await create_evaluation.asyncio_detailed(client=anonymous, body=body)
        async with client_package.AuthenticatedClient(
            base_url=BASE_URL,
            token=world.ent_a.key,  # the established example's own account
            prefix="",  # an API key is sent as it is, in its own header
            auth_header_name="X-API-Key",
            httpx_args={"transport": transport},
        ) as enterprise:
            stored = await create_evaluation.asyncio_detailed(client=enterprise, body=body)
        return answered, stored

    answered, stored = asyncio.run(call())
    assert answered.status_code == 200, answered.content  # anonymous: answered, not stored
    answer = answered.parsed
    assert isinstance(answer, models.EvaluationPublic), answer
    assert answer.stored is False and answer.id is None
    assert answer.credit_code == established_body["profile"]["credit_code"]
    by_measure = {r.measure_id: r for r in answer.results}
    hte = by_measure["hte-recognition"]
    assert isinstance(hte, models.VerdictResult)
    assert hte.outcome == "eligible" and hte.subject.kind == "enterprise"
    assert hte.summary and hte.criteria
    # nothing dropped or altered on the way through the client's models
    assert answer.to_dict() == json.loads(answered.content)

    assert stored.status_code == 201, stored.content  # authenticated: stored, with an id
    record = stored.parsed
    assert isinstance(record, models.EvaluationPublic), record
    assert record.stored is True and record.id and stored.headers["location"].endswith(record.id)
    assert {r.measure_id: r.outcome for r in record.results} == {m: r.outcome for m, r in by_measure.items()}
    sent, parsed = json.loads(stored.content), record.to_dict()
    # a time is parsed into an aware datetime, written back as +00:00 where the service wrote Z
    assert record.created_at.tzinfo is not None
    assert record.created_at == dt.datetime.fromisoformat(sent.pop("created_at"))
    assert parsed.pop("created_at") == record.created_at.isoformat()
    assert parsed == sent


def test_the_generated_client_reads_screening_results_and_report(client_package, bureau):  # noqa: F811
    run = run_done(bureau, csv_bytes(profiles(5)))
    list_results = _module("api.screenings.list_screening_results")
    get_report = _module("api.reports.get_screening_report")
    models = _module("models")

    async def call():
        transport = httpx.ASGITransport(app=bureau.app)
        async with client_package.AuthenticatedClient(
            base_url=BASE_URL,
            token=bureau.reviewer.key,
            prefix="",
            auth_header_name="X-API-Key",
            httpx_args={"transport": transport},
        ) as client:
            results = await list_results.asyncio_detailed(run["id"], client=client, limit=500)
            report = await get_report.asyncio_detailed(run["id"], client=client)
            return results, report

    results, report = asyncio.run(call())
    assert results.status_code == 200, results.content
    page = results.parsed
    assert isinstance(page, models.PageResultPublic), page
    measures = {m["id"] for m in TestClient(bureau.app).get("/v1/measures").json()}
    assert page.total == len(page.items) >= 5  # every row, each with every measure's result
    assert {item.row for item in page.items} == {2, 3, 4, 5, 6}  # the header is row 1
    for item in page.items:
        assert isinstance(item, models.ResultPublic)
        assert isinstance(item.subject, models.ScreeningSubject)
        assert item.measure_id in measures
        assert item.outcome in {"eligible", "ineligible", "needs_review", "undetermined", "not_applicable"}
        assert item.outcome_label
    assert page.to_dict() == json.loads(results.content)

    assert report.status_code == 200, report.content
    assert isinstance(report.parsed, models.ReportPublic), report.parsed
    assert report.parsed.to_dict() == json.loads(report.content)
