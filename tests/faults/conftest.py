"""The real service in subprocesses (uvicorn, its screening supervisor and worker processes), on
SQLite and on PostgreSQL, to be killed, restarted and stopped as an operator or a crash would.

Each service runs in its own process group, so that ``kill -9`` of the group is a machine losing
the service whole. PostgreSQL is ``tests/with_postgres.sh``'s throwaway server, which these tests
may restart (``HUIQI_TEST_PG_CTL`` …); without it the PostgreSQL cases skip (fail under CI=true)."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from api.db import make_sessionmaker, migrate
from api.schemas.users import ApiKeyCreate, UserCreate
from api.services import accounts
from tests.api.conftest import PASSWORD, _postgres_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'huiqi.db'}"
    else:
        yield from _postgres_database()


def reviewer_key(url: str) -> str:
    engine = create_engine(url)
    migrate(engine)
    with make_sessionmaker(engine)() as db:
        user = accounts.create_user(db, UserCreate(username="faults", password=PASSWORD, role="reviewer"))
        key = accounts.create_api_key(db, ApiKeyCreate(user_id=user.id, name="faults")).key
    engine.dispose()
    return key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (zombies do not count: they are dead, waiting for a parent)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(entry))
    return out


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


@dataclasses.dataclass
class Service:
    proc: subprocess.Popen
    url: str
    log: Path

    @property
    def pgid(self) -> int:
        return self.proc.pid  # started in a session of its own: the group is the process's pid

    def alive(self) -> list[int]:
        return group_members(self.pgid)

    def workers(self) -> list[int]:
        """The screening worker processes (spawned interpreters; not multiprocessing's resource
        tracker, which is in the group too)."""
        out = []
        for pid in self.alive():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                out.append(pid)
        return out

    def kill_group(self) -> list[int]:
        """``kill -9`` of the whole process group; the processes that were in it."""
        members = self.alive()
        os.killpg(self.pgid, signal.SIGKILL)
        self.proc.wait(10)
        return members

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.pgid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(10)


class Services:
    """Starts services on one database and one upload folder (a restart is another service on
    the same ones); kills whatever is left at the end."""

    def __init__(self, database_url: str, tmp: Path) -> None:
        self.database_url = database_url
        self.tmp = tmp
        self.started: list[Service] = []

    def start(self, workers: int = 2) -> Service:
        port = _free_port()
        env = {
            **os.environ,
            "HUIQI_DATABASE_URL": self.database_url,
            "HUIQI_BACKEND": "python",
            "HUIQI_SCREENING_UPLOAD_DIR": str(self.tmp / "uploads"),
            "HUIQI_SCREENING_WORKERS": str(workers),
            "HUIQI_SCREENING_CHUNK_ROWS": "200",
            "HUIQI_SCREENING_POLL_SECONDS": "0.2",
            "HUIQI_SCREENING_LEASE_SECONDS": "60",
            "HUIQI_SCREENING_MAX_UPLOAD_BYTES": str(64 * 1024 * 1024),
        }
        log = self.tmp / f"service-{len(self.started)}.log"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--no-proxy-headers",
                "--timeout-graceful-shutdown",
                "3",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        service = Service(proc, f"http://127.0.0.1:{port}", log)
        self.started.append(service)

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"the service exited: {log.read_text()[-3000:]}")
            try:
                return httpx.get(service.url + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 60, "the service to be ready")
        return service

    def close(self) -> None:
        for s in self.started:
            s.stop()


@pytest.fixture
def services(database_url, tmp_path) -> Iterator[Services]:
    s = Services(database_url, tmp_path)
    yield s
    s.close()


@dataclasses.dataclass(frozen=True)
class PgControl:
    pg_ctl: str
    data: str
    os_user: str

    def restart(self) -> None:
        """An immediate restart (no checkpoint, every connection cut), as after a crash."""
        log = str(Path(self.data).parent / "server.log")  # where tests/with_postgres.sh logs
        cmd = [self.pg_ctl, "-D", self.data, "-l", log, "-m", "immediate", "-w", "-t", "60", "restart"]
        if self.os_user:
            cmd = ["runuser", "-u", self.os_user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pg_control() -> PgControl | None:
    """How to restart the test server, when it is the one ``HUIQI_TEST_POSTGRES_URL`` names (its
    postmaster.pid gives its port): never another server that happens to be on the machine."""
    from sqlalchemy.engine import make_url

    ctl, data = os.environ.get("HUIQI_TEST_PG_CTL"), os.environ.get("HUIQI_TEST_PGDATA")
    url = os.environ.get("HUIQI_TEST_POSTGRES_URL")
    if not ctl or not data or not url:
        return None
    try:
        port = Path(data, "postmaster.pid").read_text().splitlines()[3].strip()
    except (OSError, IndexError):
        return None
    if str(make_url(url).port) != port:
        return None
    return PgControl(ctl, data, os.environ.get("HUIQI_TEST_PG_OS_USER", ""))
