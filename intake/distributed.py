"""Beyond one machine: a population as Parquet partitions of profile tables, and the function a
distributed engine maps over them (docs/screening.md has the Dask recipe).

``write_partitions`` reads a file as ``huiqi screen`` does (``read_batches``) and writes each batch's
profile table (``engine.table.SCHEMA`` with ``as_of``) as one Parquet partition, the refused rows
to ``errors.jsonl`` beside them. ``screen_partition`` is a plain function of a partition's path to
its verdict table's path: it runs in any worker process (one engine per process, kept), streams the
partition in batches (``Population.stream``) with flat memory, and writes the verdicts atomically.
One machine remains the default: ``huiqi screen`` does both steps in one process.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from pathlib import Path

import orjson
import polars as pl
import pyarrow.parquet as pq

from engine import Engine
from engine.population import Population
from engine.table import table_of

from .batches import read_batches
from .limits import DEFAULT_LIMITS, Limits


def write_partitions(
    source: Path, out_dir: Path, rows: int = 250_000, lang: str = "zh", limits: Limits = DEFAULT_LIMITS
) -> list[Path]:
    """``source`` (JSONL, CSV, XLSX or Parquet) as profile-table partitions of at most ``rows`` rows
    in ``out_dir`` (``part-00000.parquet`` …); refused rows go to ``out_dir/errors.jsonl``. Profiles
    whose values the table cannot hold (more than six decimal places) are listed there too, with
    the reason, to be judged one by one (``huiqi screen`` does)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with (out_dir / "errors.jsonl").open("wb") as errors:
        for batch in read_batches(source, lang=lang, batch_rows=rows, limits=limits):
            tables = [batch.table]
            for row, profile, as_of in batch.profiles:
                try:
                    tables.append(table_of([profile], row).with_columns(pl.lit(as_of, dtype=pl.Date).alias("as_of")))
                except ValueError as e:
                    errors.write(orjson.dumps({"row": row, "credit_code": profile.credit_code, "table": str(e)}) + b"\n")
            for e in batch.errors:
                errors.write(orjson.dumps(e) + b"\n")
            table = pl.concat(tables, how="vertical_relaxed").sort("row")
            if table.height:
                path = out_dir / f"part-{len(paths):05d}.parquet"
                table.write_parquet(path)
                paths.append(path)
    return paths


@functools.lru_cache(maxsize=4)
def _population(rules_dir: str | None, measures: tuple[str, ...] | None) -> Population:
    """One engine per worker process and rule pack (loading a pack costs a second)."""
    return Population(Engine(rules_dir, "python"), measures)


def batches_of(path: Path, rows: int) -> Iterator[pl.DataFrame]:
    for rb in pq.ParquetFile(path).iter_batches(batch_size=rows):
        frame = pl.from_arrow(rb)
        assert isinstance(frame, pl.DataFrame)
        yield frame


def screen_partition(
    source: str | Path,
    target: str | Path,
    as_of: dt.date,
    measures: list[str] | None = None,
    rules_dir: str | None = None,
    batch_rows: int = 25_000,
) -> str:
    """The verdict table of one profile-table partition, written to ``target``; returns its path.
    Rows with their own ``as_of`` are judged on it, the others on ``as_of``."""
    population = _population(rules_dir, tuple(measures) if measures else None)
    target = Path(target)
    tmp = target.with_name(target.name + ".part")
    writer = None
    try:
        for verdicts in population.stream(batches_of(Path(source), batch_rows), as_of):
            table = verdicts.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table)
        if writer is None:
            population.verdicts(pl.DataFrame(), as_of).write_parquet(tmp)
        else:
            writer.close()
            writer = None
        tmp.replace(target)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return str(target)
