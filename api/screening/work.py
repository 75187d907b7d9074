"""The work of a run: claim a chunk of rows through the database, evaluate it, store its results.

Claiming is one short transaction: on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` picks a chunk
no other worker holds (so several service instances share a run); on SQLite every worker
transaction begins ``IMMEDIATE`` (one writer at a time, one instance does it all). A claim carries a
random token and a lease. The results of a chunk and its "done" mark are written in one
transaction that first checks the token: a worker that died, or whose lease ran out and whose chunk
went to another worker, commits nothing. So every row is evaluated once, none is lost, and the
primary key of the results would refuse a duplicate anyway.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as DbEngine
from sqlalchemy import and_, create_engine, event, exists, func, or_, select, update
from sqlalchemy.orm import Session

from engine import Engine, Options, path_label

from .. import audit
from ..db import json_dumps, utcnow
from .bulk import insert_many
from .models import ScreeningChunk, ScreeningResult, ScreeningRow, ScreeningRun

log = logging.getLogger("huiqi.screening")

ACTIVE = ("importing", "queued", "running")


def worker_db_engine(database_url: str) -> DbEngine:
    """A database engine for workers. On SQLite each transaction takes the write lock at BEGIN
    (BEGIN IMMEDIATE), so that two workers never both read a chunk as free and then both claim it.
    JSON documents are written by the API's encoder (``api.db.json_dumps``), as the API's own engine
    writes them: several times faster than ``json.dumps`` and Chinese text unescaped."""
    if database_url.startswith("postgres"):
        url = database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix) :]
        return create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True, json_serializer=json_dumps)
    engine = create_engine(
        database_url, connect_args={"check_same_thread": False, "timeout": 60}, json_serializer=json_dumps
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy, not pysqlite, says when a transaction begins
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


# ------------------------------------------------------------------ engines by rule pack version


class Evaluators:
    """Engines by rule pack version: the service's pack, and the packs under ``rule_packs_dir``."""

    def __init__(
        self,
        rules_dir: str | Path | None,
        backend: str | None,
        packs_dir: str | Path | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.backend = backend
        self.packs_dir = Path(packs_dir) if packs_dir else None
        main = engine or Engine(rules_dir, backend)
        self.engines: dict[str, Engine] = {main.version: main}
        self.dirs: dict[str, Path] = {main.version: main.rules_dir}
        self._scanned = False

    def _scan(self) -> None:
        if self._scanned or self.packs_dir is None or not self.packs_dir.is_dir():
            self._scanned = True
            return
        from engine.loader import load_pack

        for sub in sorted(p for p in self.packs_dir.iterdir() if p.is_dir()):
            try:
                version = load_pack(sub).version
            except Exception as e:  # noqa: BLE001 - a broken pack is skipped and logged, not fatal
                log.warning("rule pack %s not loaded: %s", sub, e)
                continue
            self.dirs.setdefault(version, sub)
        self._scanned = True

    def preload(self) -> None:
        """Load every pack now (a worker, at start); a pack that fails to load is left out."""
        self._scan()
        for version in list(self.dirs):
            try:
                self.get(version)
            except Exception as e:  # noqa: BLE001 - a broken pack is skipped and logged, not fatal
                log.warning("rule pack %s not loaded: %s", self.dirs[version], e)
                del self.dirs[version]

    def versions(self) -> list[str]:
        self._scan()
        return list(self.dirs)

    def get(self, version: str) -> Engine | None:
        hit = self.engines.get(version)
        if hit is None and version in self.dirs:
            hit = self.engines[version] = Engine(self.dirs[version], self.backend)
        return hit


# ------------------------------------------------------------------ claim, evaluate, store


@dataclass
class Claim:
    run_id: str
    chunk_no: int
    first_row: int
    last_row: int
    token: str
    source_run_id: str
    as_of: dt.date
    measures: list[str] | None
    overrides: dict[str, Any] | None
    lang: str
    rule_pack_version: str


def claim(db: DbEngine, worker_id: str, versions: list[str], lease_seconds: float) -> Claim | None:
    now = utcnow()
    with Session(db) as s, s.begin():
        q = (
            select(ScreeningChunk.run_id, ScreeningChunk.chunk_no)
            .join(ScreeningRun, ScreeningRun.id == ScreeningChunk.run_id)
            .where(
                ScreeningRun.status.in_(ACTIVE),
                ScreeningRun.rule_pack_version.in_(versions),
                or_(
                    ScreeningChunk.status == "pending",
                    and_(ScreeningChunk.status == "claimed", ScreeningChunk.lease_until < now),
                ),
            )
            .order_by(ScreeningRun.created_at, ScreeningChunk.run_id, ScreeningChunk.chunk_no)
            .limit(1)
            .with_for_update(skip_locked=True, of=ScreeningChunk)
        )
        hit = s.execute(q).first()
        if hit is None:
            return None
        run_id, chunk_no = hit
        token = uuid.uuid4().hex
        s.execute(
            update(ScreeningChunk)
            .where(ScreeningChunk.run_id == run_id, ScreeningChunk.chunk_no == chunk_no)
            .values(
                status="claimed",
                claimed_by=worker_id,
                claim_token=token,
                lease_until=now + dt.timedelta(seconds=lease_seconds),
                attempts=ScreeningChunk.attempts + 1,
            )
        )
        started = s.execute(
            update(ScreeningRun)
            .where(ScreeningRun.id == run_id, ScreeningRun.status == "queued")
            .values(status="running", started_at=now)
        ).rowcount
        if not started:
            s.execute(
                update(ScreeningRun)
                .where(ScreeningRun.id == run_id, ScreeningRun.started_at.is_(None))
                .values(started_at=now)
            )
        run = s.get(ScreeningRun, run_id)
        chunk = s.get(ScreeningChunk, (run_id, chunk_no))
        assert run is not None and chunk is not None
        return Claim(
            run_id,
            chunk_no,
            chunk.first_row,
            chunk.last_row,
            token,
            run.source_run_id or run.id,
            run.as_of,
            run.measures,
            run.overrides,
            run.lang,
            run.rule_pack_version,
        )


def result_records(claim: Claim, row: Any, result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for r in result["results"]:
        subject = r["subject"]
        failed = failed_criteria(r)
        b = r.get("benefit")
        benefit = (
            {
                k: b[k]
                for k in (
                    "kind",
                    "amount",
                    "amount_display",
                    "tier",
                    "tier_label",
                    "unit",
                    "rate",
                    "provisional",
                )
                if b.get(k) is not None
            }
            if b
            else None
        )
        amount = b.get("amount") if b else None
        out.append(
            {
                "run_id": claim.run_id,
                "row_no": row.row_no,
                "measure_id": r["measure_id"],
                "subject_id": str(subject.get("id") or "") if subject["kind"] == "project" else "",
                "subject_kind": subject["kind"],
                "outcome": r["outcome"],
                "failed": "," + ",".join(failed) + "," if failed else "",
                "benefit_amount": None if amount is None else str(amount),
                "benefit_tier": b.get("tier") if b else None,
                "credit_code": row.credit_code,
                "region_code": row.region_code,
                "rule_pack_version": r.get("rule_pack_version") or result["rule_pack_version"],
                "detail": {
                    "criteria": [
                        c if c.keys() <= _STORED_KEYS and None not in c.values() else _stored(c)
                        for c in r["criteria"]
                    ],
                    "missing": [_path(m) for m in r.get("missing_facts") or []],
                    "missing_labels": [_missing_label(m, claim.lang) for m in r.get("missing_facts") or []],
                    "benefit": benefit,
                    "subject_name": subject.get("name"),
                    "not_stackable_with": r.get("not_stackable_with") or [],
                },
            }
        )
    return out


def failed_criteria(r: dict[str, Any]) -> list[str]:
    """The criteria that made a result ineligible: its decisive unmet ones (a ``not`` group names
    its own failure). An eligible result has none, even an unmet criterion inside a ``not`` it
    needed; an unmet alternative of an any-of group that is met decides nothing. (Runs stored
    before the flag existed keep the failed criteria they were stored with.)"""
    if r["outcome"] != "ineligible":
        return []
    return [c["id"] for c in r["criteria"] if fails(c)]


def fails(c: dict[str, Any]) -> bool:
    """A criterion row (stored or fresh) that failed its result: unmet and decisive, a criterion or
    a ``not`` (a group that fails is named by the criteria inside it). Rows stored before the flags
    existed count when unmet."""
    return (
        c.get("status") == "unmet"
        and c.get("decisive", True)
        and c.get("kind", "criterion") in ("criterion", "not")
    )


# what a stored result keeps of a criterion; a compact result's rows hold no more than this and are
# stored as they are (they are the engine's fresh dicts, not shared)
_STORED_ORDER = ("id", "kind", "status", "explanation", "gap", "decisive", "moot")
_STORED_KEYS = frozenset(_STORED_ORDER)


def _stored(c: dict[str, Any]) -> dict[str, Any]:
    return {k: c[k] for k in _STORED_ORDER if c.get(k) is not None}


def _path(m: Any) -> str:
    return m["path"] if isinstance(m, dict) else str(m)


def _missing_label(m: Any, lang: str) -> str:
    if isinstance(m, dict) and m.get("label"):
        return m["label"]
    return path_label(_path(m), lang)


def evaluate_chunk(db: DbEngine, engine: Engine, c: Claim) -> tuple[list[dict[str, Any]], dict[int, dict]]:
    with Session(db) as s:
        rows = s.execute(
            select(
                ScreeningRow.row_no,
                ScreeningRow.profile,
                ScreeningRow.credit_code,
                ScreeningRow.region_code,
                ScreeningRow.as_of,
            )
            .where(
                ScreeningRow.run_id == c.source_run_id,
                ScreeningRow.row_no.between(c.first_row, c.last_row),
                ScreeningRow.valid.is_(True),
            )
            .order_by(ScreeningRow.row_no)
        ).all()
    records: list[dict[str, Any]] = []
    failures: dict[int, dict] = {}
    for row in rows:
        try:
            result = engine.answer(
                row.profile, row.as_of or c.as_of, c.measures, Options("compact", c.lang), overrides=c.overrides
            )
        except Exception as e:  # noqa: BLE001 - one row that breaks the engine must not stop the run
            log.exception("row %s of run %s failed to evaluate", row.row_no, c.run_id)
            failures[row.row_no] = {
                "title": "评估失败 / evaluation failed",
                "detail": f"{type(e).__name__}: {e}",
            }
            continue
        records.extend(result_records(c, row, result))
    return records, failures


class LostClaim(Exception):
    """The chunk is no longer ours (the lease ran out and another worker took it)."""


def store_chunk(db: DbEngine, c: Claim, records: list[dict[str, Any]], failures: dict[int, dict]) -> None:
    with Session(db) as s, s.begin():
        done = s.execute(
            update(ScreeningChunk)
            .where(
                ScreeningChunk.run_id == c.run_id,
                ScreeningChunk.chunk_no == c.chunk_no,
                ScreeningChunk.claim_token == c.token,
                ScreeningChunk.status == "claimed",
            )
            .values(status="done", done_at=utcnow(), lease_until=None)
        ).rowcount
        if done != 1:
            raise LostClaim(f"{c.run_id}/{c.chunk_no}")
        # one COPY (PostgreSQL) or one executemany for the chunk (``bulk``): the ORM's bulk insert
        # left out each record's None columns, which split a chunk into a batch per change of shape
        insert_many(s, ScreeningResult.__table__, records)
        if failures and c.source_run_id == c.run_id:
            for row_no, err in failures.items():
                s.execute(
                    update(ScreeningRow)
                    .where(ScreeningRow.run_id == c.run_id, ScreeningRow.row_no == row_no)
                    .values(eval_error=err)
                )


def finish_if_complete(db: DbEngine, run_id: str) -> bool:
    """Mark the run done once every chunk is; the one that marks it writes the audit entry."""
    with Session(db) as s, s.begin():
        remaining = exists().where(ScreeningChunk.run_id == run_id, ScreeningChunk.status != "done")
        now = utcnow()
        marked = s.execute(
            update(ScreeningRun)
            .where(ScreeningRun.id == run_id, ScreeningRun.status.in_(("queued", "running")), ~remaining)
            .values(status="done", finished_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if marked:
            run = s.get(ScreeningRun, run_id)
            assert run is not None
            audit.record(
                s,
                None,
                "screening.run.finish",
                "screening",
                run_id,
                after={
                    "kind": run.kind,
                    "rows": run.total_rows,
                    "evaluated": run.valid_rows,
                    "invalid": run.invalid_rows,
                    "rule_pack_version": run.rule_pack_version,
                    "seconds": round((now - run.started_at).total_seconds(), 3) if run.started_at else None,
                },
            )
        return bool(marked)


def work_once(db: DbEngine, evaluators: Evaluators, worker_id: str, lease_seconds: float) -> bool:
    """Claim and finish one chunk. False when there is nothing to do."""
    c = claim(db, worker_id, evaluators.versions(), lease_seconds)
    if c is None:
        return False
    engine = evaluators.get(c.rule_pack_version)
    assert engine is not None  # claim() only picks runs of the versions we have
    records, failures = evaluate_chunk(db, engine, c)
    try:
        store_chunk(db, c, records, failures)
    except LostClaim:
        log.warning(
            "chunk %s/%s was taken over by another worker; its results are discarded", c.run_id, c.chunk_no
        )
        return True
    finish_if_complete(db, c.run_id)
    return True


def drain(
    db: DbEngine, evaluators: Evaluators, worker_id: str | None = None, lease_seconds: float = 300
) -> int:
    """Work in this thread until nothing is left (tests; a one-off catch-up). Returns the chunks done."""
    worker_id = worker_id or f"inline:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    n = 0
    while work_once(db, evaluators, worker_id, lease_seconds):
        n += 1
    return n


# ------------------------------------------------------------------ recovery


def release_claims(db: DbEngine, worker_ids: list[str] | None = None) -> int:
    """Give the chunks claimed by these workers (all claimed chunks when None) back to the queue."""
    with Session(db) as s, s.begin():
        q = update(ScreeningChunk).where(ScreeningChunk.status == "claimed")
        if worker_ids is not None:
            if not worker_ids:
                return 0
            q = q.where(ScreeningChunk.claimed_by.in_(worker_ids))
        return s.execute(
            q.values(status="pending", claim_token=None, lease_until=None, claimed_by=None)
        ).rowcount


def dead_local_workers(db: DbEngine, host: str) -> list[str]:
    """Workers of this host that hold claims but whose process is gone (a service that crashed)."""
    with Session(db) as s:
        ids = s.scalars(
            select(ScreeningChunk.claimed_by)
            .where(ScreeningChunk.status == "claimed", ScreeningChunk.claimed_by.like(f"{host}:%"))
            .distinct()
        ).all()
    dead = []
    for wid in ids:
        try:
            pid = int(wid.split(":")[1])
            os.kill(pid, 0)
        except (IndexError, ValueError, ProcessLookupError):
            dead.append(wid)
        except PermissionError:
            pass
    return dead


def finish_complete_runs(db: DbEngine) -> int:
    """A safety net: runs whose chunks are all done but that are not marked done yet."""
    with Session(db) as s:
        ids = s.scalars(select(ScreeningRun.id).where(ScreeningRun.status.in_(("queued", "running")))).all()
    return sum(finish_if_complete(db, rid) for rid in ids)


def progress(s: Session, run: ScreeningRun, now: dt.datetime | None = None) -> dict[str, Any]:
    """Rows done / total, the recent rate (rows per second over the last minute) and time left."""
    now = now or utcnow()
    done = s.scalar(
        select(func.coalesce(func.sum(ScreeningChunk.rows), 0)).where(
            ScreeningChunk.run_id == run.id, ScreeningChunk.status == "done"
        )
    )
    total = run.valid_rows
    rate = None
    eta = None
    if run.started_at is not None and done:
        window_start = max(run.started_at, now - dt.timedelta(seconds=60))
        recent = s.scalar(
            select(func.coalesce(func.sum(ScreeningChunk.rows), 0)).where(
                ScreeningChunk.run_id == run.id,
                ScreeningChunk.status == "done",
                ScreeningChunk.done_at >= window_start,
            )
        )
        end = run.finished_at or now
        span = (end - window_start).total_seconds()
        if run.status == "done" and run.finished_at:
            span = (run.finished_at - run.started_at).total_seconds()
            recent = done
        if span > 0 and recent:
            rate = recent / span
    remaining = max(total - int(done or 0), 0)
    if rate and run.status in ACTIVE:
        eta = remaining / rate
    elif run.status == "done":
        eta = 0.0
    return {
        "rows_done": int(done or 0),
        "rows_total": total,
        "rows_invalid": run.invalid_rows,
        "rows_read": run.total_rows,
        "percent": round(100.0 * int(done or 0) / total, 1)
        if total
        else (100.0 if run.status == "done" else 0.0),
        "rate_per_second": round(rate, 1) if rate else None,
        "seconds_left": round(eta, 1) if eta is not None else None,
        "importing": run.status == "importing",
    }


def wait_for(db: DbEngine, run_id: str, timeout: float = 60.0, poll: float = 0.1) -> str:
    """Wait until the run is done or failed (tests, the bench). Returns its status."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(db) as s:
            status = s.scalar(select(ScreeningRun.status).where(ScreeningRun.id == run_id))
        if status in ("done", "failed") or time.monotonic() > deadline:
            return status or "missing"
        time.sleep(poll)
