"""The background workers of one service instance: a supervisor thread and one process per core.

Each worker process loops: claim a chunk, evaluate it, store it (``work.work_once``). The supervisor
restarts a worker that dies and gives its claimed chunk back at once. On one machine only one
supervisor runs (a file lock), however many uvicorn workers serve HTTP; several machines sharing a
PostgreSQL database each run theirs and share the work through the chunk claims. At start the
supervisor takes back what a crashed instance left: claims of dead local processes (all claims on
SQLite, which has one instance by definition) and imports whose importer stopped.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from .importer import import_upload, interrupted_imports
from .settings import ScreeningSettings
from .work import (
    Evaluators,
    dead_local_workers,
    finish_complete_runs,
    release_claims,
    work_once,
    worker_db_engine,
)

log = logging.getLogger("huiqi.screening")
HOST = socket.gethostname()
IMPORT_SCAN_SECONDS = 2.0  # how often the supervisor looks for imports to take over


def worker_main(
    database_url: str,
    rules_dir: str | None,
    backend: str | None,
    packs_dir: str | None,
    worker_id: str,
    lease_seconds: float,
    poll_seconds: float,
    stop: Any,
) -> None:
    """One worker process (started with ``spawn``: a fresh interpreter, no threads inherited)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when workers stop
    logging.basicConfig(level=logging.WARNING)
    db = worker_db_engine(database_url)
    evaluators = Evaluators(rules_dir, backend, packs_dir)
    while not stop.is_set():
        try:
            busy = work_once(db, evaluators, worker_id, lease_seconds)
        except Exception:  # noqa: BLE001 - a lost connection or a locked database: wait and go on
            log.exception("worker %s: error; retrying", worker_id)
            busy = False
        if not busy:
            stop.wait(poll_seconds)
    db.dispose()


class Runner:
    def __init__(
        self,
        database_url: str,
        settings: ScreeningSettings,
        rules_dir: str | Path | None = None,
        backend: str | None = None,
        lock_path: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.settings = settings
        self.rules_dir = str(rules_dir) if rules_dir else None
        self.backend = backend
        self.n = settings.workers if settings.workers > 0 else (os.cpu_count() or 1)
        self.lock_path = lock_path or settings.upload_dir / ".screening-runner.lock"
        self.ctx = mp.get_context("spawn")
        self.stop_event = self.ctx.Event()
        self._halt = threading.Event()
        self.processes: dict[str, Any] = {}  # worker id → Process
        self._thread: threading.Thread | None = None
        self._lock_fh: Any = None
        self.db = worker_db_engine(database_url)
        self.active = False  # holds the host lock and runs workers
        self._importing: dict[str, threading.Thread] = {}  # imports this supervisor resumed
        self._next_import_scan = 0.0

    # -------------------------------------------------------------- life

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, name="screening-supervisor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._halt.set()
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for p in self.processes.values():
            p.join(timeout)
            if p.is_alive():
                p.kill()
                p.join(2)
        if self.active:
            release_claims(self.db, list(self.processes))
        self.processes.clear()
        self._unlock()
        self.db.dispose()

    def kill(self) -> None:
        """Stop as a crash would: workers killed, nothing handed back (tests)."""
        self._halt.set()
        for p in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGKILL)
            p.join(5)
        if self._thread is not None:
            self._thread.join(10)
        self.processes.clear()
        self._unlock()
        self.db.dispose()

    # -------------------------------------------------------------- host lock

    def _try_lock(self) -> bool:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.lock_path, "a")  # noqa: SIM115 - held open for as long as we hold the lock
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        self._lock_fh = fh
        return True

    def _unlock(self) -> None:
        if self._lock_fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    # -------------------------------------------------------------- supervision

    def _spawn(self) -> None:
        worker_id = f"{HOST}:{{pid}}:{uuid.uuid4().hex[:8]}"
        p = self.ctx.Process(
            target=_worker_entry,
            args=(
                self.database_url,
                self.rules_dir,
                self.backend,
                str(self.settings.rule_packs_dir) if self.settings.rule_packs_dir else None,
                worker_id,
                self.settings.lease_seconds,
                self.settings.poll_seconds,
                self.stop_event,
            ),
            name="huiqi-screening-worker",
            daemon=True,
        )
        p.start()
        self.processes[worker_id.replace("{pid}", str(p.pid))] = p

    def _recover(self) -> None:
        if self.database_url.startswith("sqlite"):
            n = release_claims(self.db)  # one instance on SQLite: every claim left is a dead one's
        else:
            n = release_claims(self.db, dead_local_workers(self.db, HOST))
        if n:
            log.warning("screening: %d chunk(s) left claimed by a stopped worker were queued again", n)
        finish_complete_runs(self.db)

    def _resume_imports(self) -> None:
        """Take over every import whose importer stopped: called at start and then every
        ``IMPORT_SCAN_SECONDS`` for as long as the service runs, so that an import abandoned by an
        instance that died (its lease ran out, or it was a process of this host that is gone) is
        resumed whenever that happens, not only when this supervisor first took the host lock."""
        self._importing = {k: t for k, t in self._importing.items() if t.is_alive()}
        for run_id in interrupted_imports(self.db):
            if run_id in self._importing:
                continue
            log.warning("screening: resuming the interrupted import of run %s", run_id)
            t = threading.Thread(
                target=import_upload,
                args=(self.db, run_id, self.settings.limits(), self.settings.import_lease),
                name=f"screening-import-{run_id[:8]}",
                daemon=True,
            )
            self._importing[run_id] = t
            t.start()

    def _supervise(self) -> None:
        while not self._halt.is_set():
            if not self.active:
                if not self._try_lock():
                    self._halt.wait(5.0)
                    continue
                self.active = True
                try:
                    self._recover()
                except Exception:  # noqa: BLE001 - the database may not be up yet; try again
                    log.exception("screening: recovery failed; retrying")
                    self.active = False
                    self._unlock()
                    self._halt.wait(5.0)
                    continue
                for _ in range(self.n):
                    self._spawn()
            if time.monotonic() >= self._next_import_scan:
                self._next_import_scan = time.monotonic() + IMPORT_SCAN_SECONDS
                try:
                    self._resume_imports()
                except Exception:  # noqa: BLE001 - the database may be restarting; next time
                    log.exception("screening: could not look for interrupted imports")
            dead = [wid for wid, p in self.processes.items() if not p.is_alive()]
            if dead and not self._halt.is_set():
                try:
                    n = release_claims(self.db, dead)
                except Exception:  # noqa: BLE001
                    log.exception("screening: could not release the claims of %s", dead)
                    n = 0
                log.warning("screening: worker(s) %s stopped; %d chunk(s) queued again; restarting", dead, n)
                for wid in dead:
                    self.processes.pop(wid).join(1)
                    self._spawn()
            self._halt.wait(0.5)

    def alive_workers(self) -> dict[str, int]:
        return {wid: p.pid for wid, p in self.processes.items() if p.is_alive()}


def _worker_entry(
    database_url: str,
    rules_dir: str | None,
    backend: str | None,
    packs_dir: str | None,
    worker_id: str,
    lease_seconds: float,
    poll_seconds: float,
    stop: Any,
) -> None:
    worker_main(
        database_url,
        rules_dir,
        backend,
        packs_dir,
        worker_id.replace("{pid}", str(os.getpid())),
        lease_seconds,
        poll_seconds,
        stop,
    )
