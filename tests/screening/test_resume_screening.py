"""A run survives a worker killed mid-chunk and a service that crashes: it resumes where it stopped,
and every row ends with exactly one result per measure (none lost, none counted twice)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.screening.models import ScreeningChunk, ScreeningRun
from api.screening.runner import Runner
from api.screening.work import wait_for
from tests.screening.conftest import csv_bytes, profiles, screening_settings, upload, verdicts_per_row

MEASURES = ["hte-recognition", "tsme-evaluation"]


def _runner(bureau, tmp_path, **kw) -> Runner:
    settings = screening_settings(tmp_path, workers=2, chunk_rows=10, lease_seconds=3, poll_seconds=0.1, **kw)
    return Runner(bureau.url, settings, backend="python", lock_path=tmp_path / "runner.lock")


def _claimed_by(db, worker_id: str, run_id: str) -> list[int]:
    with Session(db) as s:
        return list(
            s.scalars(
                select(ScreeningChunk.chunk_no).where(
                    ScreeningChunk.run_id == run_id,
                    ScreeningChunk.claimed_by == worker_id,
                    ScreeningChunk.status == "claimed",
                )
            )
        )


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _check_every_row_once(db, run_id: str, rows: int) -> None:
    with Session(db) as s:
        run = s.get(ScreeningRun, run_id)
        chunks = s.execute(
            select(ScreeningChunk.status, func.count())
            .where(ScreeningChunk.run_id == run_id)
            .group_by(ScreeningChunk.status)
        ).all()
    assert run.status == "done"
    assert dict(chunks) == {"done": -(-rows // run.chunk_size)}
    per_row = verdicts_per_row(db, run_id)
    assert sorted(per_row) == list(range(2, rows + 2)), "every row has verdicts"
    assert set(per_row.values()) == {len(MEASURES)}, "one verdict per row and measure"


def test_a_worker_killed_mid_chunk_loses_no_row_and_counts_none_twice(bureau, tmp_path):
    rows = 300
    run = upload(bureau, csv_bytes(profiles(rows, seed=41)), measures=MEASURES)
    db = bureau.app.state.db_engine  # plain transactions: reading never waits for a worker's write lock
    runner = _runner(bureau, tmp_path)
    runner.start()
    try:
        _wait(lambda: len(runner.alive_workers()) == 2)
        # freeze a worker while it holds a chunk (so that it cannot finish it), then kill it
        victim = None
        while victim is None:
            for wid, pid in runner.alive_workers().items():
                os.kill(pid, signal.SIGSTOP)
                try:
                    if _claimed_by(db, wid, run["id"]):
                        victim = (wid, pid)
                        break
                finally:
                    if victim is None:
                        os.kill(pid, signal.SIGCONT)
            time.sleep(0.02)
        held = _claimed_by(db, victim[0], run["id"])
        os.kill(victim[1], signal.SIGKILL)
        assert wait_for(db, run["id"], timeout=120) == "done"
        with Session(db) as s:
            retried = s.scalars(
                select(ScreeningChunk).where(
                    ScreeningChunk.run_id == run["id"], ScreeningChunk.chunk_no.in_(held)
                )
            ).all()
        assert all(c.status == "done" and c.attempts >= 2 for c in retried), (
            "the killed worker's chunk was done again"
        )
        assert victim[0] not in runner.alive_workers()
        assert len(runner.alive_workers()) == 2, "the dead worker was replaced"
    finally:
        runner.stop()
    _check_every_row_once(db, run["id"], rows)
    progress = bureau.client.get(f"/v1/screenings/{run['id']}", headers=bureau.reviewer.headers).json()[
        "progress"
    ]
    assert (progress["rows_done"], progress["rows_total"]) == (rows, rows)


def test_a_service_that_crashes_mid_run_resumes_where_it_stopped(bureau, tmp_path):
    rows = 300
    run = upload(bureau, csv_bytes(profiles(rows, seed=42)), measures=MEASURES)
    db = bureau.app.state.db_engine

    def done_chunks() -> int:
        with Session(db) as s:
            return (
                s.scalar(
                    select(func.count()).where(
                        ScreeningChunk.run_id == run["id"], ScreeningChunk.status == "done"
                    )
                )
                or 0
            )

    first = _runner(bureau, tmp_path)
    first.start()
    _wait(lambda: done_chunks() >= 3)
    first.kill()  # as a crash: workers killed, claims left behind
    before = done_chunks()
    assert 0 < before < 12
    second = _runner(bureau, tmp_path)  # the restarted service
    second.start()
    try:
        assert wait_for(db, run["id"], timeout=120) == "done"
    finally:
        second.stop()
    _check_every_row_once(db, run["id"], rows)


def _abandoned_import(bureau, rows: int, owner: str, lease_seconds: float, stored_chunks: int) -> str:
    """A run left importing by an importer that is gone, with its first chunks stored."""
    import datetime as dt
    import io

    from sqlalchemy import update

    import intake
    from api.db import utcnow
    from api.screening import importer, runs
    from api.screening.batches import read_batch

    settings = bureau.app.state.screening_settings
    with bureau.app.state.sessionmaker() as db:
        run = runs.create_upload_run(
            db,
            bureau.app.state.engine,
            settings,
            _principal(bureau),
            io.BytesIO(csv_bytes(profiles(rows, seed=43))),
            "abandoned.csv",
            dt.date(2025, 6, 30),
            MEASURES,
            "zh",
            None,
        )
    db = bureau.app.state.screening_db
    batches = intake.read_batches(Path(run.upload_path), "csv", batch_rows=settings.chunk_rows)
    for n, batch in zip(range(stored_chunks), batches, strict=False):
        importer.store_batch(db, run.id, n, *read_batch(run.id, batch))
    with Session(db) as s, s.begin():
        s.execute(
            update(ScreeningRun)
            .where(ScreeningRun.id == run.id)
            .values(import_owner=owner, import_lease_until=utcnow() + dt.timedelta(seconds=lease_seconds))
        )
    return run.id


def _principal(bureau):
    from api.deps import Principal

    r = bureau.reviewer
    return Principal(r.user_id, r.username, r.role, None, "api_key")


def test_an_import_abandoned_after_the_supervisor_started_is_resumed_without_waiting_for_a_restart(
    bureau, tmp_path
):
    # before: interrupted imports were looked for only when the supervisor first took its lock, so
    # an import killed at 6,400 of 20,000 rows stayed "importing" for good after a quick restart
    import subprocess
    import sys

    from api.screening.importer import HOST

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process of this host that no longer runs
    runner = _runner(bureau, tmp_path)
    runner.start()
    try:
        _wait(lambda: runner.active and len(runner.alive_workers()) == 2)
        time.sleep(1.0)  # the supervisor's first look is over
        db = bureau.app.state.db_engine
        dead_here = _abandoned_import(bureau, 120, f"{HOST}:{gone.pid}", 600, stored_chunks=3)
        elsewhere = _abandoned_import(bureau, 60, "other-host:1", -1, stored_chunks=1)  # lease ran out
        assert wait_for(db, dead_here, timeout=60) == "done"
        assert wait_for(db, elsewhere, timeout=60) == "done"
    finally:
        runner.stop()
    _check_every_row_once(db, dead_here, 120)
    _check_every_row_once(db, elsewhere, 60)
