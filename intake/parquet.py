"""Parquet in: a profile table (``engine.table.SCHEMA``, as ``huiqi screen`` or a previous step wrote
it, optionally with ``as_of``), or the template's columns (headers as in the CSV and XLSX templates).

A profile table is checked by the fast path like any other batch; a row it refuses is written back
as the contract's JSON (``engine.table.profile_of``) and read by the per-row path, which names its
errors. Template columns are read as a spreadsheet's cells. Rows are numbered by the table's
``row`` column where it has one, else from 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from engine.table import ENTERPRISE_COLUMNS, SCHEMA, profile_of

from . import fast, sheet
from .batch import Batch, gather, split
from .errors import TableError
from .layout import Layout, layout_of
from .limits import Limits
from .rows import parse_json_line


def _bad(e: BaseException) -> TableError:
    return TableError(
        "bad-parquet",
        f"无法读取 Parquet 文件（{type(e).__name__}），文件可能已损坏",
        f"cannot read the Parquet file ({type(e).__name__}); it may be damaged",
    )


def _open(fh: IO[bytes]) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(fh)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise _bad(e) from None


def count(fh: IO[bytes]) -> int:
    """Rows of the file (its metadata says; blank rows of template columns are counted)."""
    return _open(fh).metadata.num_rows


def is_profile_table(names: list[str]) -> bool:
    return {"credit_code", "fiscal_years", "projects"} <= set(names)


def batches(
    fh: IO[bytes],
    lang: str,
    size: int,
    limits: Limits,
    start_after: int,
    keep_raw: bool,
    count: Callable[[int], None],
    on_layout: Callable[[Layout], None] | None = None,
) -> Iterator[Batch]:
    pf = _open(fh)
    names = pf.schema_arrow.names
    if len(names) > limits.max_columns:
        raise TableError(
            "limit",
            f"文件超出上限：列数最多 {limits.max_columns:,}",
            f"the file exceeds a limit: at most {limits.max_columns:,} columns",
        )
    if is_profile_table(names):
        yield from _profile_table(pf, lang, size, start_after, count)
    else:
        layout = layout_of(names, limits)
        if on_layout is not None:
            on_layout(layout)
        yield from sheet.settle(layout, _template_cells(pf, layout, size, start_after, count), lang, keep_raw)


def _frames(pf: pq.ParquetFile, size: int) -> Iterator[pl.DataFrame]:
    try:
        for rb in pf.iter_batches(batch_size=size):
            frame = pl.from_arrow(rb)
            assert isinstance(frame, pl.DataFrame)
            yield frame
    except (pa.ArrowException, OSError, ValueError) as e:
        raise _bad(e) from None


def _template_cells(
    pf: pq.ParquetFile, layout: Any, size: int, start_after: int, count: Callable[[int], None]
) -> Iterator[sheet.Cells]:
    number = 0
    for frame in _frames(pf, size):
        records = []
        for cells in frame.iter_rows():
            number += 1
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            count(1)
            if number > start_after:
                records.append((number, cells))
        if records:
            yield sheet.records_cells(layout, records)


# ---- a profile table


def _profile_table(
    pf: pq.ParquetFile, lang: str, size: int, start_after: int, count: Callable[[int], None]
) -> Iterator[Batch]:
    missing = [c for c in SCHEMA if c != "row" and c not in pf.schema_arrow.names]
    if missing:
        raise TableError(
            "bad-headers",
            f"Parquet 画像表缺少列：{', '.join(missing)}",
            f"the Parquet profile table lacks columns: {', '.join(missing)}",
        )
    first = 0
    for frame in _frames(pf, size):
        count(frame.height)
        rows = frame["row"] if "row" in frame.columns else pl.int_range(first + 1, first + 1 + frame.height, eager=True)
        first += frame.height
        try:
            table = frame.select(
                rows.cast(pl.Int64).alias("row"),
                *(pl.col(c).cast(t) for c, t in SCHEMA.items() if c != "row"),
                (pl.col("as_of") if "as_of" in frame.columns else pl.lit(None)).cast(pl.Date).alias("as_of"),
            )
        except pl.exceptions.PolarsError as e:
            raise TableError(
                "bad-headers",
                f"Parquet 画像表的列类型不符：{e}",
                f"the Parquet profile table's column types do not match: {e}",
            ) from None
        table = table.filter(pl.col("row") > start_after)
        if table.height == 0:
            continue
        staged = _stage(table)
        accepted, refused = split(staged)
        slow = [read_back(table.row(i, named=True), lang) for i in refused]
        yield gather(accepted, slow, lang)


def _stage(table: pl.DataFrame) -> fast.Staged:
    E = table.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_i"),
        "row",
        "as_of",
        pl.lit(False).alias("_slow"),
        *(pl.col(p) for p in ENTERPRISE_COLUMNS),
    )
    return fast.Staged(E, _long(table, "fiscal_years"), _long(table, "projects"))


def _long(table: pl.DataFrame, column: str) -> pl.DataFrame:
    items = (
        table.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("_i"), pl.col(column).alias("_item"))
        .filter(pl.col("_item").list.len() > 0)
        .explode("_item")
        .with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("_i").alias("_k"))
    )
    # a null item is read back and refused by the per-row path
    items = items.with_columns(pl.col("_item").is_null().alias("_slow"))
    return items.with_columns(pl.col("_item").struct.unnest()).drop("_item")


def read_back(row: dict[str, Any], lang: str) -> Any:
    """A profile table's row as the contract's JSON, read by the per-row path."""
    given = {key: row.get(key) or [] for key in ("fiscal_years", "projects")}
    doc = profile_of({**row, **{key: [x for x in items if x is not None] for key, items in given.items()}})
    for key, items in given.items():  # a null item, which profile_of cannot hold: the per-row path refuses it
        if any(x is None for x in items):
            kept = iter(doc[key])
            doc[key] = [None if x is None else next(kept) for x in items]
    line: dict[str, Any] = doc if row["as_of"] is None else {"as_of": row["as_of"].isoformat(), "profile": doc}
    return parse_json_line(row["row"], json.dumps(line, ensure_ascii=False), lang)
