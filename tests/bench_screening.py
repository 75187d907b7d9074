"""``make bench`` (screening): a generated CSV through the API end to end — upload, import, evaluate on
every core (worker processes), store — on SQLite and on PostgreSQL (HUIQI_TEST_POSTGRES_URL).

Prints, for each file size: rows/s and the peak memory (RSS) of the service process and of the
largest worker (memory stays flat as the file grows: the file is streamed), the bytes of stored
verdicts per screened row, the first page of results and the report, a rule-change impact run
over the stored rows, and proactive matching over as many stored enterprise profiles. Targets
(issue 13): ≥ 5,000 rows/s, < 1 GB, ≤ 500 bytes per row, impact and proactive ≤ 5 s."""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

import intake  # noqa: E402
from api.config import Settings  # noqa: E402
from api.db import migrate, utcnow  # noqa: E402
from api.main import create_app  # noqa: E402
from api.models import ProfileVersion  # noqa: E402
from api.schemas.users import ApiKeyCreate, UserCreate  # noqa: E402
from api.screening.bulk import insert_many  # noqa: E402
from api.screening.models import ScreeningChunk  # noqa: E402
from api.screening.runner import Runner  # noqa: E402
from api.screening.settings import ScreeningSettings  # noqa: E402
from api.screening.work import wait_for  # noqa: E402
from api.services import accounts  # noqa: E402
from tests.population import AS_OF, population, profile  # noqa: E402
from tests.procfs import peak_rss_mb, stats  # noqa: E402


def write_csv(path: Path, n: int) -> None:
    cols = intake.template_columns([AS_OF.year - 3, AS_OF.year - 2, AS_OF.year - 1])
    pop = population(2000, seed=7)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([c.zh for c in cols])
        for i in range(n):
            w.writerow(intake.cells_of(pop[i % len(pop)], cols))


def rss_mb() -> tuple[float, float]:
    """Peak RSS of this process (the service) and of the largest live worker process: read from
    /proc (VmHWM), because ``RUSAGE_CHILDREN`` counts only children that have exited and been
    waited for — the workers of the run being measured are still alive."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    parents = {pid: int(f[1]) for pid, f in stats()}
    descendants, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - descendants
        descendants |= frontier
    kids = max((peak_rss_mb(pid) for pid in descendants), default=0.0)
    return me, kids


def stored_bytes(app, run_id: str) -> int:
    from sqlalchemy import func, select

    with app.state.sessionmaker() as db:
        return db.scalar(
            select(func.coalesce(func.sum(func.length(ScreeningChunk.results)), 0)).where(
                ScreeningChunk.run_id == run_id
            )
        )


def store_profiles(app, n: int) -> None:
    """n enterprises' profiles, stored as the API stores them (one version each)."""
    from sqlalchemy import delete

    from engine import Profile

    rng = random.Random(8)  # population(n, seed=8), one profile at a time: the bench's own data is not
    # the service's memory
    now = utcnow()  # COPY on PostgreSQL applies no Python-side default
    with app.state.sessionmaker() as db:
        db.execute(delete(ProfileVersion))
        seen: set[str] = set()
        batch = []
        for _ in range(n):
            doc = Profile.model_validate(profile(rng)).model_dump(mode="json")
            if doc["credit_code"] in seen:
                continue
            seen.add(doc["credit_code"])
            batch.append(
                {"credit_code": doc["credit_code"], "version": 1, "name": doc["name"], "profile": doc, "created_at": now}
            )
            if len(batch) == 5000:
                insert_many(db, ProfileVersion.__table__, batch)
                batch = []
        if batch:
            insert_many(db, ProfileVersion.__table__, batch)
        db.commit()


def bench(url: str, label: str, sizes: list[int], workers: int, tmp: Path) -> None:
    app = create_app(Settings(database_url=url, backend=os.environ.get("HUIQI_BACKEND", "durable")))
    settings = ScreeningSettings(upload_dir=tmp / "uploads", workers=workers, max_rows=10**7, max_upload_bytes=2**34)
    app.state.screening_settings = settings
    migrate(app.state.db_engine)
    with app.state.sessionmaker() as db:
        user = accounts.create_user(
            db, UserCreate(username=f"bench-{uuid.uuid4().hex[:6]}", password="bench-password-123", role="reviewer")
        )
        key = accounts.create_api_key(db, ApiKeyCreate(user_id=user.id, name="bench")).key
    runner = Runner(url, settings, backend=app.state.settings.backend, lock_path=tmp / f"{label}.lock")
    runner.start()
    client = TestClient(app)
    try:
        for n in sizes:
            src = tmp / f"in-{n}.csv"
            write_csv(src, n)
            mb = src.stat().st_size / 1e6
            t0 = time.perf_counter()
            with src.open("rb") as fh:
                r = client.post(
                    "/v1/screenings",
                    files={"file": (src.name, fh, "text/csv")},
                    data={"as_of": AS_OF.isoformat()},
                    headers={"X-API-Key": key},
                )
            r.raise_for_status()
            accepted = time.perf_counter() - t0  # TestClient waits for the import (a background task)
            status = wait_for(app.state.screening_db, r.json()["id"], timeout=7200, poll=0.5)
            seconds = time.perf_counter() - t0
            me, kids = rss_mb()
            run_id = r.json()["id"]
            print(
                f"{label:<10} {n:>8} rows ({mb:6.1f} MB CSV): {status}, {seconds:7.1f} s = {n / seconds:7.0f} rows/s "
                f"(upload+import {accepted:5.1f} s); peak RSS service {me:5.0f} MB, largest worker {kids:5.0f} MB; "
                f"verdicts stored {stored_bytes(app, run_id) / n:5.0f} bytes/row",
                flush=True,
            )
            h = {"X-API-Key": key}
            t0 = time.perf_counter()
            client.get(f"/v1/screenings/{run_id}/results?outcome=ineligible&limit=50", headers=h).raise_for_status()
            page = time.perf_counter() - t0
            t0 = time.perf_counter()
            client.get(f"/v1/screenings/{run_id}/report", headers=h).raise_for_status()
            report = time.perf_counter() - t0
            t0 = time.perf_counter()
            impact = client.post(
                f"/v1/screenings/{run_id}/impact",
                json={"overrides": {"hte-recognition.min_tech_staff_ratio": "0.12"}},
                headers=h,
            )
            impact.raise_for_status()
            t1 = time.perf_counter()
            wait_for(app.state.screening_db, impact.json()["id"], timeout=3600, poll=0.05)
            t2 = time.perf_counter()
            diff = client.get(f"/v1/screenings/{impact.json()['id']}/impact", headers=h)
            diff.raise_for_status()
            impact_s = time.perf_counter() - t0
            impact_parts = f"create {t1 - t0:.2f} + evaluate {t2 - t1:.2f} + compare {impact_s - (t2 - t0):.2f} s"
            print(
                f"{'':<10} {n:>8} rows: first results page {page:5.2f} s, report {report:5.2f} s; impact run "
                f"{impact_s:5.2f} s = {impact_parts} ({diff.json()['changed']} outcomes change); "
                f"peak RSS service {rss_mb()[0]:5.0f} MB",
                flush=True,
            )
            store_profiles(app, n)
            print(f"{'':<10} {n:>8} profiles stored; peak RSS service {rss_mb()[0]:5.0f} MB", flush=True)
            t0 = time.perf_counter()
            pro = client.post(
                "/v1/screenings/proactive",
                json={"measures": ["hte-cultivation-subsidy", "rd-super-deduction"], "as_of": AS_OF.isoformat()},
                headers=h,
            )
            pro.raise_for_status()
            t1 = time.perf_counter()  # TestClient waits for the import of the profiles (a background task)
            wait_for(app.state.screening_db, pro.json()["id"], timeout=3600, poll=0.05)
            t2 = time.perf_counter()
            found = client.get(f"/v1/screenings/{pro.json()['id']}/proactive", headers=h)
            found.raise_for_status()
            pro_s = time.perf_counter() - t0
            pro_parts = f"import {t1 - t0:.2f} + evaluate {t2 - t1:.2f} + list {pro_s - (t2 - t0):.2f} s"
            print(
                f"{'':<10} {n:>8} stored profiles: proactive matching {pro_s:5.2f} s = {pro_parts} "
                f"({found.json()['total']} eligible without an application); peak RSS service {rss_mb()[0]:5.0f} MB",
                flush=True,
            )
    finally:
        runner.stop()
        app.state.screening_db.dispose()
        app.state.db_engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000", help="rows per file, comma-separated")
    ap.add_argument("--workers", type=int, default=0, help="worker processes (0 = one per core)")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x]
    workers = args.workers or os.cpu_count() or 1
    print(f"screening through the API: {workers} worker processes on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bench(f"sqlite:///{tmp / 'bench.db'}", "sqlite", sizes, workers, tmp)
        pg = os.environ.get("HUIQI_TEST_POSTGRES_URL")
        if pg:
            import psycopg

            name = f"huiqi_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(pg, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                base, _, _ = pg.rpartition("/")
                bench(f"{base}/{name}", "postgresql", sizes, workers, tmp)
            finally:
                with psycopg.connect(pg, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print("postgresql: skipped (set HUIQI_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
