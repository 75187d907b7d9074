"""Runs stored before verdicts (one ``screening_results`` row of JSON per result) keep working after
migration 0007: their results, filters, report, export, row detail, review and a rule-change impact
run over their rows; going down restores ``screening_results``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.config import Settings
from api.db import downgrade, migrate
from api.main import create_app
from api.screening.work import drain
from engine import Engine, Options, Profile
from tests.api.conftest import _actor, _postgres_database
from tests.population import AS_OF, population

MEASURES = ["hte-recognition", "tsme-evaluation"]


@pytest.fixture(params=["sqlite", "postgresql"])
def old_db_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
    else:
        yield from _postgres_database()


def _old_records(run_id: str, row_no: int, answer: dict) -> list[dict]:
    """What revision 0006's worker stored of a compact answer (api/screening/work.py then)."""
    out = []
    for r in answer["results"]:
        failed = [c["id"] for c in r["criteria"] if c["status"] == "unmet" and c.get("decisive", True)]
        failed = failed if r["outcome"] == "ineligible" else []
        b = r.get("benefit") or None
        out.append(
            {
                "run_id": run_id,
                "row_no": row_no,
                "measure_id": r["measure_id"],
                "subject_id": str(r["subject"].get("id") or ""),
                "subject_kind": r["subject"]["kind"],
                "outcome": r["outcome"],
                "failed": "," + ",".join(failed) + "," if failed else "",
                "benefit_amount": b.get("amount") if b else None,
                "benefit_tier": b.get("tier") if b else None,
                "credit_code": answer["credit_code"],
                "region_code": None,
                "rule_pack_version": answer["rule_pack_version"],
                "detail": {
                    "criteria": [
                        {k: c[k] for k in ("id", "status", "explanation", "decisive", "moot") if k in c}
                        for c in r["criteria"]
                    ],
                    "missing": [m if isinstance(m, str) else m["path"] for m in r.get("missing_facts") or []],
                    "missing_labels": [
                        m if isinstance(m, str) else m["label"] for m in r.get("missing_facts") or []
                    ],
                    "benefit": b,
                    "subject_name": r["subject"].get("name"),
                },
            }
        )
    return out


def _store_old_run(engine: sa.Engine, rows: list[dict]) -> tuple[str, list[dict]]:
    """A finished application run as revision 0006 stored it."""
    meta = sa.MetaData()
    meta.reflect(engine)
    runs, srows, chunks, results = (
        meta.tables[t] for t in ("screening_runs", "screening_rows", "screening_chunks", "screening_results")
    )
    run_id = uuid.uuid4().hex
    rules = Engine(backend="python")
    now = dt.datetime.now(dt.UTC)
    stored = []
    with engine.begin() as c:
        c.execute(
            sa.insert(runs).values(
                id=run_id,
                kind="applications",
                status="done",
                title="旧批次",
                lang="zh",
                as_of=AS_OF,
                measures=MEASURES,
                rule_pack_version=rules.version,
                chunk_size=10,
                total_rows=len(rows),
                valid_rows=len(rows),
                invalid_rows=0,
                created_at=now,
                started_at=now,
                finished_at=now,
            )
        )
        for i, doc in enumerate(rows):
            profile = Profile.model_validate(doc).model_dump(mode="json")
            c.execute(
                sa.insert(srows).values(
                    run_id=run_id,
                    row_no=i + 2,
                    valid=True,
                    credit_code=profile["credit_code"],
                    name=profile["name"],
                    region_code=profile["region_code"],
                    profile=profile,
                    raw={"A": "x"},
                )
            )
            answer = rules.answer(profile, AS_OF, MEASURES, Options("compact", "zh"))
            records = _old_records(run_id, i + 2, answer)
            c.execute(sa.insert(results), records)
            stored.extend(records)
        c.execute(
            sa.insert(chunks).values(
                run_id=run_id,
                chunk_no=0,
                first_row=2,
                last_row=len(rows) + 1,
                rows=len(rows),
                status="done",
                attempts=1,
                done_at=now,
            )
        )
    return run_id, stored


def test_a_run_stored_before_verdicts_works_after_the_migration_and_comes_back_down(old_db_url):
    engine = sa.create_engine(old_db_url)
    migrate(engine, "0006")
    docs = population(30, seed=73)
    run_id, old = _store_old_run(engine, docs)
    migrate(engine)  # 0007: results onto their chunk, screening_results dropped
    assert "screening_results" not in sa.inspect(engine).get_table_names()

    app = create_app(Settings(database_url=old_db_url, backend="python"))
    with app.state.sessionmaker() as db:
        reviewer = _actor(db, "m-reviewer", "reviewer", None)
    client = TestClient(app, raise_server_exceptions=False)
    h = reviewer.headers
    try:
        items = client.get(f"/v1/screenings/{run_id}/results?limit=500", headers=h).json()["items"]
        assert len(items) == len(old)
        by_key = {(r["row_no"], r["measure_id"]): r for r in old}
        for item in items:
            was = by_key[(item["row"], item["measure_id"])]
            assert item["outcome"] == was["outcome"]
            assert item["failed_criteria"] == [x for x in was["failed"].split(",") if x]
            if was["outcome"] == "ineligible":  # the words as they were stored
                failing = [
                    c["explanation"] for c in was["detail"]["criteria"] if c["id"] in item["failed_criteria"]
                ]
                assert item["reasons"] == "；".join(failing)
        ineligible = next(i for i in items if i["failed_criteria"])
        crit = ineligible["failed_criteria"][0]
        filtered = client.get(
            f"/v1/screenings/{run_id}/results", params={"criterion": crit, "limit": 500}, headers=h
        ).json()
        assert filtered["total"] == sum(1 for r in old if f",{crit}," in r["failed"])
        report = client.get(f"/v1/screenings/{run_id}/report", headers=h).json()
        hte = next(m for m in report["measures"] if m["measure_id"] == "hte-recognition")
        assert sum(v["count"] for v in hte["by_outcome"].values()) == len(docs)
        export = client.get(f"/v1/screenings/{run_id}/export?format=csv", headers=h)
        table = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
        assert len(table) == len(docs) + 1 and any(
            ineligible["reasons"] in cell for cell in table[1 + ineligible["row"] - 2]
        )
        # the row's explanation is rendered from the profile the row kept
        row = client.get(f"/v1/screenings/{run_id}/rows/{ineligible['row']}", headers=h).json()
        assert row["profile"]["credit_code"] == docs[ineligible["row"] - 2]["credit_code"]
        opened = next(r for r in row["results"] if r["measure_id"] == ineligible["measure_id"])
        assert any("explanation" in c and c["status"] == "unmet" for c in opened["detail"]["criteria"])
        r = client.post(
            f"/v1/screenings/{run_id}/rows/{ineligible['row']}/decisions",
            json={"measure_id": ineligible["measure_id"], "decision": "reject", "reason": "核实不符"},
            headers=h,
        )
        assert r.status_code == 201 and r.json()["automatic_outcome"] == "ineligible"
        # a rule-change impact run over the old rows (their profiles are JSON on the rows)
        impact = client.post(
            f"/v1/screenings/{run_id}/impact",
            json={"overrides": {"hte-recognition.min_tech_staff_ratio": "0.30"}},
            headers=h,
        ).json()
        drain(app.state.screening_db, app.state.screening_evaluators)
        diff = client.get(f"/v1/screenings/{impact['id']}/impact?limit=500", headers=h).json()
        overrides = {"hte-recognition.min_tech_staff_ratio": "0.30"}
        rules = Engine(backend="python")
        changed = {
            (i + 2, v.measure_id)
            for i, doc in enumerate(docs)
            for v in rules.evaluate(doc, AS_OF, MEASURES, overrides).verdicts
            if v.outcome != by_key[(i + 2, v.measure_id)]["outcome"]
        }
        assert diff["status"] == "done" and changed
        assert {(x["row"], x["measure_id"]) for x in diff["items"]} == changed
    finally:
        app.state.screening_db.dispose()
        app.state.db_engine.dispose()

    downgrade(engine, "0006")
    with engine.connect() as c:
        back = c.execute(
            sa.text("SELECT row_no, measure_id, outcome, failed FROM screening_results WHERE run_id = :r"),
            {"r": run_id},
        ).all()
    assert sorted(back) == sorted((r["row_no"], r["measure_id"], r["outcome"], r["failed"]) for r in old)
    engine.dispose()
