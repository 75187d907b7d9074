"""Screening workers die with the service that started them, shutdown cannot hang, and a worker never
screens with rules the service did not load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.screening.models import ScreeningChunk
from api.screening.runner import EXIT_PACK_CHANGED, Runner
from tests.screening.conftest import csv_bytes, profiles, screening_settings, upload


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): read its state
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_workers_die_with_a_service_killed_with_sigkill(bureau, tmp_path):
    # before: the workers were re-parented to PID 1 and went on claiming chunks with the old code
    script = textwrap.dedent(
        f"""
        import sys, time
        from api.screening.runner import Runner
        from tests.screening.conftest import screening_settings
        from pathlib import Path
        tmp = Path({str(tmp_path)!r})
        runner = Runner({bureau.url!r}, screening_settings(tmp, workers=2, poll_seconds=0.1),
                        backend="python", lock_path=tmp / "runner.lock")
        runner.start()
        while len(runner.alive_workers()) < 2:
            time.sleep(0.05)
        print(" ".join(str(p) for p in runner.alive_workers().values()), flush=True)
        time.sleep(600)
        """
    )
    service = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        workers = [int(p) for p in service.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
        service.send_signal(signal.SIGKILL)  # the service only, not its process group
        service.wait()
        _wait(lambda: not any(_alive(p) for p in workers), timeout=10)
    finally:
        service.kill()
        service.wait()


def test_stop_ends_even_when_an_idle_worker_was_killed_while_waiting(bureau, tmp_path):
    # before: a worker killed inside multiprocessing.Event.wait() left the event's lock held, and
    # the shutdown's Event.set() blocked for ever (the old instance kept the screening lock)
    runner = Runner(
        bureau.url,
        screening_settings(tmp_path, workers=2, poll_seconds=0.05),
        backend="python",
        lock_path=tmp_path / "runner.lock",
    )
    runner.start()
    _wait(lambda: len(runner.alive_workers()) == 2)
    time.sleep(0.5)  # idle: waiting for work
    pids = list(runner.alive_workers().values())
    os.kill(pids[0], signal.SIGKILL)
    stopper = threading.Thread(target=runner.stop)
    stopper.start()
    stopper.join(30)
    assert not stopper.is_alive(), "stop() hung"
    assert not any(_alive(p) for p in pids)
    assert runner._lock_fh is None, "the host lock is given back"


def test_a_worker_never_screens_with_rules_the_service_did_not_load(bureau, tmp_path):
    run = upload(bureau, csv_bytes(profiles(20, seed=61)), measures=["hte-recognition"])
    runner = Runner(
        bureau.url,
        screening_settings(tmp_path, workers=1, poll_seconds=0.05),
        backend="python",
        lock_path=tmp_path / "runner.lock",
        expected_version="sha256:not-the-rules-on-disk",
    )
    runner.start()
    try:
        _wait(lambda: runner.processes and not any(p.is_alive() for p in runner.processes.values()))
        (p,) = runner.processes.values()
        assert p.exitcode == EXIT_PACK_CHANGED
        time.sleep(1.0)
        assert runner.alive_workers() == {}, "not restarted"
    finally:
        runner.stop()
    with Session(bureau.app.state.db_engine) as s:
        done = s.scalar(
            select(func.count()).where(ScreeningChunk.run_id == run["id"], ScreeningChunk.attempts > 0)
        )
    assert done == 0, "no chunk was claimed"
    bureau.client.delete(f"/v1/screenings/{run['id']}", headers=bureau.admin.headers)
