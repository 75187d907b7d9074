"""The work of a run: claim a chunk of rows through the database, evaluate it, store its verdicts.

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
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine as DbEngine
from sqlalchemy import Text, and_, cast, exists, func, or_, select, update
from sqlalchemy.orm import Session

from engine import Engine
from engine.population import VERDICT_SCHEMA, Population, from_evaluation
from engine.table import profile_of

from .. import audit
from ..config import Settings
from ..db import make_engine, utcnow
from .models import ScreeningChunk, ScreeningRow, ScreeningRun
from .store import empty_results, from_parquet, results_of, to_parquet

log = logging.getLogger("huiqi.screening")

ACTIVE = ("importing", "queued", "running")


def worker_db_engine(database_url: str) -> DbEngine:
    """The workers' database engine (``api.db.make_engine``: BEGIN IMMEDIATE on SQLite)."""
    return make_engine(Settings(database_url=database_url), workers=True)


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


_POPULATIONS: dict[tuple, Population] = {}


def population_of(engine: Engine, c: Claim) -> Population:
    """The claim's rule pack, measures and overrides over tables (kept per worker: its compiled
    evaluators and flags are reused from chunk to chunk)."""
    key = (id(engine), tuple(c.measures or ()), json.dumps(c.overrides, sort_keys=True))
    hit = _POPULATIONS.get(key)
    if hit is None or hit.engine is not engine:
        if len(_POPULATIONS) > 16:
            _POPULATIONS.clear()
        hit = _POPULATIONS[key] = Population(engine, c.measures, c.overrides)
    return hit


def _stored(pop: Population, verdicts: pl.DataFrame, days: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Verdicts as stored: with the criteria that failed them and each row's own date."""
    out = verdicts.with_columns(pop.failed(verdicts, as_of, days))
    if days.height:
        out = out.join(days, on="row", how="left", maintain_order="left")
    return results_of(out)


def evaluate_chunk(db: DbEngine, engine: Engine, c: Claim) -> tuple[bytes, dict[int, dict]]:
    """The verdicts of a chunk's profiles (its profile table through the columnar evaluator; the
    profiles the table cannot hold, one by one through the engine), as a stored results document,
    and the rows that could not be evaluated."""
    with Session(db) as s:
        blob = s.scalar(
            select(ScreeningChunk.profiles).where(
                ScreeningChunk.run_id == c.source_run_id, ScreeningChunk.chunk_no == c.chunk_no
            )
        )
        # a row's JSON profile is JSON null, not SQL NULL, when its chunk's table holds it: told
        # apart in the database, so that the chunk's thousands of nulls are not read as JSON here
        singles = [
            r
            for r in s.execute(
                select(ScreeningRow.row_no, ScreeningRow.profile, ScreeningRow.as_of)
                .where(
                    ScreeningRow.run_id == c.source_run_id,
                    ScreeningRow.row_no.between(c.first_row, c.last_row),
                    ScreeningRow.valid.is_(True),
                    ScreeningRow.profile.is_not(None),
                    cast(ScreeningRow.profile, Text) != "null",
                )
                .order_by(ScreeningRow.row_no)
            )
            if r.profile is not None
        ]
    pop = population_of(engine, c)
    parts: list[pl.DataFrame] = []
    failures: dict[int, dict] = {}
    if blob:
        table = from_parquet(blob)
        days = table.select("row", "as_of").filter(pl.col("as_of").is_not_null())
        try:
            parts.append(_stored(pop, pop.verdicts(table, c.as_of), days, c.as_of))
        except Exception:  # noqa: BLE001 - judged one by one below: a bad row must not stop the run
            log.exception(
                "chunk %s/%s: the table could not be evaluated; rows go one by one", c.run_id, c.chunk_no
            )
            singles += [(r["row"], profile_of(r), r["as_of"]) for r in table.iter_rows(named=True)]
    rows: list[dict[str, Any]] = []
    own_days: list[dict[str, Any]] = []
    for row_no, profile, day in singles:
        try:
            ev = engine.evaluate(profile, day or c.as_of, c.measures, c.overrides)
        except Exception as e:  # noqa: BLE001 - one row that breaks the engine must not stop the run
            log.exception("row %s of run %s failed to evaluate", row_no, c.run_id)
            failures[row_no] = {"title": "评估失败 / evaluation failed", "detail": f"{type(e).__name__}: {e}"}
            continue
        rows.extend(from_evaluation(ev, row_no))
        if day is not None:
            own_days.append({"row": row_no, "as_of": day})
    if rows:
        days = pl.DataFrame(own_days, schema={"row": pl.Int64, "as_of": pl.Date})
        parts.append(_stored(pop, pl.DataFrame(rows, schema=VERDICT_SCHEMA), days, c.as_of))
    results = pl.concat(parts, how="vertical") if parts else empty_results()
    results = results.sort("row", "measure_id", pl.col("subject_id").fill_null(""), maintain_order=True)
    return to_parquet(results), failures


class LostClaim(Exception):
    """The chunk is no longer ours (the lease ran out and another worker took it)."""


def store_chunk(db: DbEngine, c: Claim, results: bytes, failures: dict[int, dict]) -> None:
    with Session(db) as s, s.begin():
        done = s.execute(
            update(ScreeningChunk)
            .where(
                ScreeningChunk.run_id == c.run_id,
                ScreeningChunk.chunk_no == c.chunk_no,
                ScreeningChunk.claim_token == c.token,
                ScreeningChunk.status == "claimed",
            )
            .values(status="done", done_at=utcnow(), lease_until=None, results=results)
        ).rowcount
        if done != 1:
            raise LostClaim(f"{c.run_id}/{c.chunk_no}")
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
    results, failures = evaluate_chunk(db, engine, c)
    try:
        store_chunk(db, c, results, failures)
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
