"""Database: the shared declarative ``Base``, engines and sessions, and migrations at start.

SQLite (a file under ``var/``) by default, PostgreSQL (psycopg 3) when ``HUIQI_DATABASE_URL`` says
so. Migrations are Alembic's (``api/migrations``); several workers starting together take a lock
first, so that only one of them migrates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic_core import to_json
from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from .config import Settings

log = logging.getLogger("huiqi.api")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# stable constraint names, so that migrations can name what they change on every database
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON on SQLite, JSONB on PostgreSQL. Money inside is kept as decimal strings, never floats.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(dt.UTC) if value is not None else None

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Shared by every model of the API (and of later packages such as ``api.screening``)."""

    metadata = MetaData(naming_convention=NAMING)


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def json_dumps(value: Any) -> str:
    # pydantic-core's encoder (several times faster than json's on a 60 KB result), and Chinese
    # text as itself rather than \uXXXX escapes: a stored result is a third of the size
    return to_json(value).decode()


def make_engine(settings: Settings, *, workers: bool = False) -> Engine:
    """The one way to a database engine. The API's (``workers=False``): on SQLite, writers queue
    on the write gate (``SQLiteWriteGate``, installed on its sessions). The screening workers'
    (``workers=True``): a small pool, and on SQLite every transaction takes the write lock at BEGIN
    (BEGIN IMMEDIATE), so that two workers never both read a chunk as free and then both claim it.
    JSON documents are written by pydantic-core's encoder either way."""
    url = settings.database_url
    if not settings.is_sqlite:
        size = 2 if workers else settings.db_pool_size
        return create_engine(
            url, pool_size=size, max_overflow=size * 2, pool_pre_ping=True, json_serializer=json_dumps
        )
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    busy_ms = 60_000 if workers else 30_000
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": busy_ms / 1000}, json_serializer=json_dumps
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        if workers:
            dbapi_conn.isolation_level = None  # SQLAlchemy, not pysqlite, says when a transaction begins
        cur = dbapi_conn.cursor()
        # WAL lets readers go on while one worker writes; foreign keys are off by default in SQLite
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.close()

    if workers:

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class SQLiteWriteGate:
    """One writer at a time on a SQLite file, across threads and worker processes.

    SQLite allows one writer; a second one waits in SQLite's busy handler, which polls with sleeps
    of up to 100 ms, so under load the slowest stored evaluations took seconds. Writers queue on a
    lock instead (a thread lock, then ``flock`` on a file beside the database) and are woken as soon
    as it is free. The gate is taken before a session's first flush and given back when its
    transaction ends (commit, rollback or close); sessions that only read never take it."""

    def __init__(self, db_path: Path) -> None:
        # re-entrant: a second session writing in the same thread must not wait on the first
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._path = str(db_path) + ".write.lock"
        self._fh: Any = None

    def acquire(self) -> None:
        self._thread_lock.acquire()
        try:
            if self._depth == 0:
                if self._fh is None:
                    self._fh = open(self._path, "a")  # kept open for the process's life
                fcntl.flock(self._fh, fcntl.LOCK_EX)
            self._depth += 1
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        try:
            self._depth -= 1
            if self._depth == 0:
                fcntl.flock(self._fh, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def install(self, factory: sessionmaker[Session]) -> None:
        @event.listens_for(factory, "before_flush")
        def _take(session: Session, _ctx: Any, _instances: Any) -> None:
            if not session.info.get("write_gate"):
                self.acquire()
                session.info["write_gate"] = True

        @event.listens_for(factory, "after_transaction_end")
        def _give_back(session: Session, transaction: Any) -> None:
            if transaction.parent is None and session.info.pop("write_gate", False):
                self.release()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(engine, expire_on_commit=False)
    path = sqlite_path(str(engine.url)) if engine.dialect.name == "sqlite" else None
    if path is not None:
        gate = SQLiteWriteGate(path)
        gate.install(factory)
        factory.configure(info={"sqlite_write_gate": gate})
    return factory


def take_write_gate(session: Session) -> None:
    """Take the SQLite write gate now, before reading what a write depends on (the audit chain's
    head, the decision a new one supersedes); it is given back when the transaction ends. Sessions
    of other databases, or not made by ``make_sessionmaker``, have no gate: a no-op."""
    gate = session.info.get("sqlite_write_gate")
    if gate is None or session.info.get("write_gate"):
        return
    session.connection()  # a transaction now, whose end gives the gate back
    gate.acquire()
    session.info["write_gate"] = True


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrator at a time: a file lock beside a SQLite file, an advisory lock on PostgreSQL."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(72657301)"))
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(72657301)"))
                conn.commit()
        return
    path = sqlite_path(str(engine.url))
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".migrate.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision``."""
    from alembic import command

    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with _migration_lock(engine):
        command.downgrade(alembic_config(engine), revision)


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
