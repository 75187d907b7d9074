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
import sys
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


# exit status of a worker whose rule pack on disk is not the one the service loaded (not restarted)
EXIT_PACK_CHANGED = 3
WORKER_GRACE_SECONDS = 3.0  # a worker finishing its chunk at shutdown, before it is killed
STOP_SECONDS = 6.0  # the most Runner.stop() takes (SIGTERM must end the service within 10 s)


def die_with_parent(parent_pid: int) -> None:
    """Make the kernel kill this process when the process that started it dies (Linux
    ``PR_SET_PDEATHSIG``), and exit now if it already has: a worker must never outlive its service,
    re-parented to PID 1, and go on claiming chunks with the code and rules of a dead instance."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(0)


def worker_main(
    database_url: str,
    rules_dir: str | None,
    backend: str | None,
    packs_dir: str | None,
    worker_id: str,
    lease_seconds: float,
    poll_seconds: float,
    stop: Any,
    parent_pid: int,
    expected_version: str | None,
) -> None:
    """One worker process (started with ``spawn``: a fresh interpreter, no threads inherited).

    ``stop`` is the read end of a pipe whose write end only the supervisor holds: a message or its
    end (the supervisor closed it, or its process died) stops the worker. A pipe, not a shared
    ``multiprocessing.Event``: a worker killed inside ``Event.wait()`` dies holding the event's lock,
    and ``Event.set()`` then blocks the shutdown for ever."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when workers stop
    logging.basicConfig(level=logging.WARNING)
    evaluators = Evaluators(rules_dir, backend, packs_dir)
    evaluators.preload()  # claims are limited to the packs loaded here, never one loaded later
    if expected_version is not None and expected_version not in evaluators.engines:
        log.error(
            "worker %s: the rule pack on disk is %s, the service loaded %s; this worker stops "
            "(restart the service to screen with the new rules)",
            worker_id,
            next(iter(evaluators.engines)),
            expected_version,
        )
        os._exit(EXIT_PACK_CHANGED)
    db = worker_db_engine(database_url)

    def stopping() -> bool:
        return os.getppid() != parent_pid or stop.poll()

    while not stopping():  # checked before every claim
        try:
            busy = work_once(db, evaluators, worker_id, lease_seconds)
        except Exception:  # noqa: BLE001 - a lost connection or a locked database: wait and go on
            log.exception("worker %s: error; retrying", worker_id)
            busy = False
        if not busy and stop.poll(poll_seconds):
            break
    db.dispose()


class Runner:
    def __init__(
        self,
        database_url: str,
        settings: ScreeningSettings,
        rules_dir: str | Path | None = None,
        backend: str | None = None,
        lock_path: Path | None = None,
        expected_version: str | None = None,
    ) -> None:
        self.database_url = database_url
        self.settings = settings
        self.rules_dir = str(rules_dir) if rules_dir else None
        self.backend = backend
        self.expected_version = expected_version
        self.n = settings.workers if settings.workers > 0 else (os.cpu_count() or 1)
        self.lock_path = lock_path or settings.upload_dir / ".screening-runner.lock"
        self.ctx = mp.get_context("spawn")
        self._halt = threading.Event()
        self._crashed = False
        self.processes: dict[str, Any] = {}  # worker id → Process
        self._stops: dict[str, Any] = {}  # worker id → the write end of its stop pipe
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

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop within ``timeout`` seconds whatever state the workers and the database are in: the
        supervisor thread (which started the workers) stops them and gives their claims back; if it
        cannot finish in time, the workers are killed from here."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("screening: the supervisor did not stop in %.0f s; killing its workers", timeout)
                self._kill_workers()
        self._unlock()
        self.db.dispose()

    def kill(self) -> None:
        """Stop as a crash would: workers killed, nothing handed back (tests)."""
        self._crashed = True
        self._kill_workers()
        self._halt.set()
        if self._thread is not None:
            self._thread.join(10)
        self.processes.clear()
        self._unlock()
        self.db.dispose()

    def _kill_workers(self) -> None:
        for p in list(self.processes.values()):
            with contextlib.suppress(ProcessLookupError, AttributeError, TypeError):
                os.kill(p.pid, signal.SIGKILL)
        for p in list(self.processes.values()):
            p.join(2)

    def _stop_workers(self) -> None:
        """At shutdown (in the supervisor thread): every worker told to stop by closing its pipe,
        given ``WORKER_GRACE_SECONDS`` to finish its chunk, then killed; claims given back."""
        for conn in self._stops.values():
            with contextlib.suppress(OSError):
                conn.close()
        deadline = time.monotonic() + WORKER_GRACE_SECONDS
        for p in self.processes.values():
            p.join(max(0.0, deadline - time.monotonic()))
        late = [p for p in self.processes.values() if p.is_alive()]
        for p in late:
            p.kill()
        for p in late:
            p.join(1)
        if self.active and not self._crashed:
            try:
                release_claims(self.db, list(self.processes))
            except Exception:  # noqa: BLE001 - the database may be down; the leases will expire
                log.exception("screening: could not give back the claims of the stopped workers")
        self.processes.clear()
        self._stops.clear()

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
        stop_read, stop_write = self.ctx.Pipe(duplex=False)
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
                stop_read,
                os.getpid(),
                self.expected_version,
            ),
            name="huiqi-screening-worker",
            daemon=True,
        )
        p.start()
        stop_read.close()  # only the worker holds the read end: the pipe ends when we do
        wid = worker_id.replace("{pid}", str(p.pid))
        self.processes[wid] = p
        self._stops[wid] = stop_write

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
        try:
            while not self._halt.is_set():
                try:
                    self._tick()
                except Exception:  # noqa: BLE001 - the supervisor must outlive any one failure
                    log.exception("screening: supervisor error; going on")
                self._halt.wait(0.5)
        finally:
            self._stop_workers()

    def _tick(self) -> None:
        if not self.active:
            if not self._try_lock():
                self._halt.wait(5.0)
                return
            self.active = True
            try:
                self._recover()
            except Exception:  # noqa: BLE001 - the database may not be up yet; try again
                log.exception("screening: recovery failed; retrying")
                self.active = False
                self._unlock()
                self._halt.wait(5.0)
                return
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
                p = self.processes.pop(wid)
                p.join(1)
                with contextlib.suppress(OSError):
                    self._stops.pop(wid).close()
                if p.exitcode == EXIT_PACK_CHANGED:
                    log.error("screening: not restarting %s: the rules on disk changed", wid)
                    continue
                self._spawn()

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
    parent_pid: int,
    expected_version: str | None,
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
        parent_pid,
        expected_version,
    )
