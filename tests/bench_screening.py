"""``make bench`` (screening): a generated CSV through the API end to end — upload, import, evaluate on
every core (worker processes), store — on SQLite and on PostgreSQL (HUIQI_TEST_POSTGRES_URL).

Prints rows/s and the peak memory (RSS) of the service process and of the largest worker for each
file size, so that one can see that memory stays flat as the file grows (the file is streamed)."""

from __future__ import annotations

import argparse
import csv
import os
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
from api.db import migrate  # noqa: E402
from api.main import create_app  # noqa: E402
from api.schemas.users import ApiKeyCreate, UserCreate  # noqa: E402
from api.screening.runner import Runner  # noqa: E402
from api.screening.settings import ScreeningSettings  # noqa: E402
from api.screening.work import wait_for  # noqa: E402
from api.services import accounts  # noqa: E402
from tests.population import AS_OF, population  # noqa: E402
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
            print(
                f"{label:<10} {n:>8} rows ({mb:6.1f} MB CSV): {status}, {seconds:7.1f} s = {n / seconds:7.0f} rows/s "
                f"(upload+import {accepted:5.1f} s); peak RSS service {me:5.0f} MB, largest worker {kids:5.0f} MB",
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
