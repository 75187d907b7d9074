"""``huiqi screen --explain ROWS``: the full explanation of chosen rows (``Engine.render`` with
``Options("full")``), read again one row at a time by the per-row path, one JSON line each:
``{"line": N, "credit_code", "as_of", "results": [… criteria, actual and expected values, gaps,
remedies, clauses …], "missing_facts"}`` or ``{"line": N, "error": …}``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson
import polars as pl

from engine import Engine, Options

from .batch import error_of
from .layout import layout_of
from .rows import ParsedRow, build_row
from .table import detect_format, open_table


def _parsed(fh: IO[bytes], name: str, last: int, lang: str) -> Iterator[ParsedRow]:
    """The file's rows as the per-row path reads them, up to row ``last``."""
    fh.seek(0)
    fmt = detect_format(name, fh.read(8))
    fh.seek(0)
    if fmt == "parquet":
        yield from _parquet_rows(fh, lang)
        return
    table = open_table(fh, name, fmt, lang)
    try:
        for row in table.rows():
            yield row
            if row.number >= last:
                return
    finally:
        table.close()


def _parquet_rows(fh: IO[bytes], lang: str) -> Iterator[ParsedRow]:
    import pyarrow.parquet as pq

    from . import parquet

    pf = pq.ParquetFile(fh)
    names = pf.schema_arrow.names
    if parquet.is_profile_table(names):
        first = 0
        for rb in pf.iter_batches(batch_size=10_000):
            frame = pl.from_arrow(rb)
            assert isinstance(frame, pl.DataFrame)
            if "row" not in frame.columns:
                frame = frame.with_columns(pl.int_range(first + 1, first + 1 + frame.height).alias("row"))
            if "as_of" not in frame.columns:
                frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("as_of"))
            first += frame.height
            for row in frame.iter_rows(named=True):
                yield parquet.read_back(row, lang)
        return
    layout = layout_of(names)
    number = 0
    for rb in pf.iter_batches(batch_size=10_000):
        frame = pl.from_arrow(rb)
        assert isinstance(frame, pl.DataFrame)
        for cells in frame.iter_rows():
            number += 1
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            yield build_row(number, list(cells), layout, lang)


def explain_rows(
    input: Path,
    output: Path,
    rows: set[int],
    as_of: dt.date,
    measures: list[str] | None,
    lang: str,
    engine: Engine | None = None,
) -> set[int]:
    """Write the full explanations of ``rows`` to ``output`` (atomically); the rows found."""
    engine = engine or Engine()
    found: set[int] = set()
    tmp = output.with_name(output.name + ".part")
    options = Options("full", lang)  # type: ignore[arg-type]
    try:
        with input.open("rb") as fh, tmp.open("wb") as out:
            for row in _parsed(fh, input.name, max(rows), lang):
                if row.number not in rows:
                    continue
                found.add(row.number)
                line: dict[str, Any]
                if row.model is None:
                    e = error_of(row, lang)
                    line = {"line": row.number, "credit_code": e["credit_code"], "error": {"title": e["title"], "errors": e["errors"]}}
                else:
                    day = dt.date.fromisoformat(row.as_of) if row.as_of else as_of
                    line = {"line": row.number, **engine.answer(row.model, day, measures, options)}
                out.write(orjson.dumps(line) + b"\n")
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)
    return found
