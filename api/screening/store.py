"""A run's profiles and verdicts as Parquet documents on its chunks, and read back as frames.

A chunk stores two documents (``models.ScreeningChunk``):

- ``profiles``: the chunk's valid rows as rows of the profile table (``engine/table.py``; the
  ``row`` column is the row's number in the file, ``as_of`` its own assessment date where it has
  one). ``engine.table.profile_of`` gives a row back as the profile's JSON, so nothing is lost.
- ``results``: the chunk's verdicts, one row per profile row, measure and subject (``RESULTS``):
  the outcome, the status of every criterion as one character each, the missing facts, the benefit's
  tier and amount (exact decimal text, 万元), and the criteria that failed it (its decisive unmet
  ones). No words: they are rendered when a page, report or export asks (``wording.py``).

Zstandard-compressed Parquet holds a verdict in a few bytes (a run of 100,000 applications and 14
measures stores its verdicts in ~6 MB: ~62 bytes per screened row).

The verdicts of a run are read as one Polars frame, kept per process while the run does not change
(``results_frame``): filters, pages, reports and exports are queries on it.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.table import SCHEMA

from .models import ScreeningChunk, ScreeningRow, ScreeningRun

PROFILES: dict[str, Any] = {**SCHEMA, "as_of": pl.Date}
RESULTS: dict[str, Any] = {
    "row": pl.Int64,
    "measure_id": pl.Utf8,
    "subject_id": pl.Utf8,  # a project's id; null for the enterprise
    "subject_name": pl.Utf8,
    "outcome": pl.Utf8,
    "statuses": pl.Utf8,  # one character per node of the measure's tree: m met, u unmet, ? unknown, ! manual
    "missing_facts": pl.List(pl.Utf8),
    "reason": pl.Utf8,  # not applicable: window | no_parameter | no_subject
    "benefit_tier": pl.Utf8,
    "benefit_amount": pl.Utf8,  # 万元, exact decimal text
    "failed": pl.List(pl.Utf8),  # the criteria that made it ineligible (decisive and unmet)
    "as_of": pl.Date,  # the row's own assessment date; null: the run's
    "words": pl.Utf8,  # runs stored before verdicts: the reasons as they were stored; else null
}
ROWS: dict[str, Any] = {
    "row": pl.Int64,
    "credit_code": pl.Utf8,
    "name": pl.Utf8,
    "region_code": pl.Utf8,
}


def to_parquet(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf, compression="zstd", compression_level=3, statistics=False)
    return buf.getvalue()


def from_parquet(blob: bytes, columns: list[str] | None = None) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(blob), columns=columns)


def empty_results() -> pl.DataFrame:
    return pl.DataFrame(schema=RESULTS)


def results_of(verdicts: pl.DataFrame) -> pl.DataFrame:
    """A verdict table (``engine.population``) with the columns a stored result has, in order."""
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in RESULTS.items() if c not in verdicts.columns]
    return verdicts.with_columns(missing).select([pl.col(c).cast(t) for c, t in RESULTS.items()])


# ------------------------------------------------------------------ reading a run


def source_of(run: ScreeningRun) -> str:
    """The run whose rows a run evaluates (an impact run evaluates its baseline's)."""
    return run.source_run_id or run.id


class _Frames:
    """The frames of the runs read lately, while they do not change (a run's key names its chunks
    done and when the last was): a page of results is a query on a frame, not on 1.4 million rows
    of a database table. Kept up to ``BUDGET`` bytes in all (a run of 100,000 applications and 14
    measures is ~135 MB), the least recently used dropped first; the latest is always kept."""

    BUDGET = 400 * 1024 * 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frames: OrderedDict[tuple, pl.DataFrame] = OrderedDict()

    def get(self, key: tuple, load: Any) -> pl.DataFrame:
        with self._lock:
            hit = self._frames.get(key)
            if hit is not None:
                self._frames.move_to_end(key)
                return hit
        frame = load()
        with self._lock:
            for old in [k for k in self._frames if k[:2] == key[:2]]:
                del self._frames[old]  # the same run, older
            self._frames[key] = frame
            while len(self._frames) > 1 and sum(f.estimated_size() for f in self._frames.values()) > self.BUDGET:
                self._frames.popitem(last=False)
        return frame

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()


FRAMES = _Frames()


def _done_key(db: Session, run_id: str) -> tuple:
    n, last = db.execute(
        select(func.count(), func.max(ScreeningChunk.done_at)).where(
            ScreeningChunk.run_id == run_id, ScreeningChunk.status == "done"
        )
    ).one()
    return (n, last)


def collect(query: pl.LazyFrame) -> pl.DataFrame:
    """A query on a run's frames, by Polars' streaming engine: in memory, one group-by of a
    100,000-row run's 1.4 million verdicts took ~370 MB for its hash tables; streamed, a few MB."""
    return query.collect(engine="streaming")


def results_frame(db: Session, run: ScreeningRun) -> pl.DataFrame:
    """Every stored verdict of a run (its chunks done so far), ordered by row."""

    def load() -> pl.DataFrame:
        blobs = db.scalars(
            select(ScreeningChunk.results)
            .where(
                ScreeningChunk.run_id == run.id,
                ScreeningChunk.status == "done",
                ScreeningChunk.results.is_not(None),
            )
            .order_by(ScreeningChunk.chunk_no)
        ).all()
        parts = [from_parquet(b) for b in blobs if b]
        if not parts:
            return empty_results()
        # the chunks stay chunks: copying them into one (rechunk), or casting columns that already
        # have their type, doubled the service's memory for a 100,000-row run (+550 MB, not +300)
        return pl.concat(
            [p if dict(p.schema) == RESULTS else results_of(p) for p in parts], how="vertical", rechunk=False
        )

    return FRAMES.get(("results", run.id, *_done_key(db, run.id)), load)


def rows_frame(db: Session, run: ScreeningRun) -> pl.DataFrame:
    """The valid rows of the run's file: number, credit code, name, district."""
    src = source_of(run)

    def load() -> pl.DataFrame:
        # through the connection, not the ORM: plain tuples, half the time at 100,000 rows
        rows = (
            db.connection()
            .execute(
                select(ScreeningRow.row_no, ScreeningRow.credit_code, ScreeningRow.name, ScreeningRow.region_code)
                .where(ScreeningRow.run_id == src, ScreeningRow.valid.is_(True))
                .order_by(ScreeningRow.row_no)
            )
            .all()
        )
        return pl.DataFrame(rows, schema=ROWS, orient="row")

    with_rows = db.scalar(select(ScreeningRun.valid_rows).where(ScreeningRun.id == src)) or 0
    return FRAMES.get(("rows", src, with_rows, None), load)


def chunk_of(db: Session, run_id: str, row_no: int) -> ScreeningChunk | None:
    return db.scalar(
        select(ScreeningChunk).where(
            ScreeningChunk.run_id == run_id,
            ScreeningChunk.first_row <= row_no,
            ScreeningChunk.last_row >= row_no,
        )
    )


def row_results(db: Session, run: ScreeningRun, row_no: int) -> pl.DataFrame:
    """The stored verdicts of one row (read from its chunk alone)."""
    chunk = chunk_of(db, run.id, row_no)
    if chunk is None or chunk.status != "done" or not chunk.results:
        return empty_results()
    return results_of(from_parquet(chunk.results)).filter(pl.col("row") == row_no)


def stored_profile(db: Session, run: ScreeningRun, row: ScreeningRow) -> dict[str, Any] | None:
    """A valid row's profile as its JSON: from its chunk's profile table, or the row's own JSON."""
    from engine.table import profile_of

    if row.profile is not None or not row.valid:
        return row.profile
    chunk = chunk_of(db, source_of(run), row.row_no)
    if chunk is None or not chunk.profiles:
        return None
    hit = from_parquet(chunk.profiles).filter(pl.col("row") == row.row_no)
    if hit.height == 0:
        return None
    return profile_of(hit.row(0, named=True))
