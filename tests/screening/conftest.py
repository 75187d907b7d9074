"""Screening fixtures: the app on SQLite and on PostgreSQL (as tests/api), bureau accounts, files.

Runs are worked off in the test's own thread (``work.drain``) unless a test starts real worker
processes (the crash and restart tests)."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import intake
from api.config import Settings
from api.db import migrate
from api.main import create_app
from api.screening.settings import ScreeningSettings
from api.screening.work import drain
from tests.api.conftest import _actor, _postgres_database
from tests.population import AS_OF, population

YEARS = [AS_OF.year - 3, AS_OF.year - 2, AS_OF.year - 1]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def screening_db_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('screening-db') / 'huiqi.db'}"
    else:
        yield from _postgres_database()


@dataclasses.dataclass
class Bureau:
    app: FastAPI
    url: str
    admin: object
    reviewer: object
    enterprise: object

    @property
    def client(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=False)

    def drain(self) -> int:
        return drain(self.app.state.screening_db, self.app.state.screening_evaluators)


def screening_settings(tmp_path, **kw) -> ScreeningSettings:
    base = {
        "upload_dir": tmp_path / "uploads",
        "chunk_rows": 25,
        "workers": -1,
        "max_rows": 2000,
        "max_upload_bytes": 4 * 1024 * 1024,
        "lease_seconds": 60,
        "poll_seconds": 0.2,
    }
    base.update(kw)
    return ScreeningSettings(**base)


@pytest.fixture(scope="session")
def bureau(screening_db_url, tmp_path_factory) -> Iterator[Bureau]:
    app = create_app(Settings(database_url=screening_db_url, backend="python"))
    app.state.screening_settings = screening_settings(tmp_path_factory.mktemp("screening"))
    migrate(app.state.db_engine)
    with app.state.sessionmaker() as db:
        b = Bureau(
            app,
            screening_db_url,
            admin=_actor(db, "s-admin", "admin", None),
            reviewer=_actor(db, "s-reviewer", "reviewer", None),
            enterprise=_actor(db, "s-ent", "enterprise", "91370100CA85GF0T94"),
        )
    yield b
    app.state.screening_db.dispose()
    app.state.db_engine.dispose()


def profiles(n: int, seed: int = 11) -> list[dict]:
    return population(n, seed=seed)


def csv_bytes(rows: list[dict], encoding: str = "utf-8", extra: list[list[str]] | None = None) -> bytes:
    """A file as a bureau clerk would fill in the template: Chinese headers, one row per enterprise."""
    cols = intake.template_columns(YEARS)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([c.zh for c in cols])
    for p in rows:
        w.writerow(intake.cells_of(p, cols))
    for line in extra or []:
        w.writerow(line + [""] * (len(cols) - len(line)))
    return out.getvalue().encode(encoding)


def header_index(path: str) -> int:
    return next(i for i, c in enumerate(intake.template_columns(YEARS)) if c.path == path)


def upload(b: Bureau, data: bytes, filename: str = "申报.csv", **form) -> dict:
    form.setdefault("as_of", AS_OF.isoformat())
    r = b.client.post(
        "/v1/screenings", files={"file": (filename, data, "text/csv")}, data=form, headers=b.reviewer.headers
    )
    assert r.status_code == 202, r.text
    return r.json()


def run_done(b: Bureau, data: bytes, filename: str = "申报.csv", **form) -> dict:
    run = upload(b, data, filename, **form)
    b.drain()
    r = b.client.get(f"/v1/screenings/{run['id']}", headers=b.reviewer.headers)
    assert r.json()["status"] == "done", r.json()
    return r.json()


def verdicts_per_row(db, run_id: str) -> dict[int, int]:
    """How many verdicts each row has in the stored results of a run, every chunk's document read
    as it is (a chunk stored twice would count twice)."""
    from collections import Counter

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from api.screening.models import ScreeningChunk
    from api.screening.store import from_parquet

    counts: Counter[int] = Counter()
    with Session(db) as s:
        for blob in s.scalars(select(ScreeningChunk.results).where(ScreeningChunk.run_id == run_id)):
            if blob:
                counts.update(from_parquet(blob, ["row"])["row"].to_list())
    return dict(counts)
