"""Spreadsheets (CSV, XLSX, Parquet with the template's columns) in batches, their cells converted in
columns.

The cells of a batch are staged as text, one column per template column (``Cells``); the usual
spellings of each kind are converted in column expressions — numbers as digits with an optional
sign, point, thousands separators and 万元, yes/no as the template's words, dates as YYYY-MM-DD,
YYYY/M/D or YYYY年M月D日, enumerations by code or label — into the fast path's staged tables
(``intake.fast``). A cell in any other spelling (full-width digits, exponent notation, white space
around it, an XLSX number in a text column …) sends its row to the per-row path (``build_row``),
which converts every spelling as it always has, or names the bad cell.

CSV is read by pyarrow's CSV reader while the file is a plain rectangle; where pyarrow cannot
follow it (a row wider or narrower than the header, a header over several lines, a bare carriage
return, a quote left open) the rest of the file is read by Python's ``csv`` module, as the per-row
path reads it. XLSX is read by the bounded openpyxl reader (``intake/xlsx.py``): python-calamine
reads a sheet several times faster but into a dense grid the size of the sheet's extent, so that a
2 KB file naming cell XFD1048576 makes it allocate hundreds of gigabytes before any limit can be
checked (docs/screening.md).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.csv as pcsv

from engine.vocabulary import ENUM_LABELS

from . import fast, jsonl
from .batch import Batch, gather, split
from .cells import UNKNOWN_WORDS, converter
from .columns import Column, norm
from .errors import CellError
from .layout import Layout
from .rows import ParsedRow, build_row
from .table import Table

# a cell the per-row path reads as blank: nothing, or white space as Python's str.strip() sees it
BLANK = r"^[\s\x1c-\x1f]*$"
SCIENTIFIC = r"(?i)^[+-]?\d+(\.\d+)?e[+-]?\d+$"  # a code the spreadsheet turned into a number
NUMBER = r"^(-?)([0-9]{1,12})(?:\.([0-9]{1,6}))?$"
WHOLE = r"^-?[0-9]{1,12}$"
DATE = r"^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?(?:[ T].*)?$"


@dataclass
class Cells:
    """One batch of a spreadsheet: its rows' numbers, each template column's cells as text (null
    where there is no cell), the rows whose cells could not be staged as text exactly, and the
    rows' cells as given (for the per-row path and ``raw``)."""

    numbers: list[int]
    text: dict[int, pl.Series]  # layout position → the cells as text
    odd: pl.Series | None  # rows with a cell that is not text (XLSX, Parquet): per-row path
    given: Callable[[int], list[Any]]  # the i-th row's cells by position


# ---- the spellings each kind takes in the fast path, worked out by the per-row converters


def _spellings(col: Column, candidates: list[str]) -> dict[str, Any]:
    """The candidate spellings the per-row converter accepts, with what it makes of them."""
    conv = converter(col)
    out = {}
    for text in candidates:
        try:
            out[text] = conv(text)
        except CellError:
            pass
    return out


def _variants(words: list[str]) -> list[str]:
    return sorted({v for w in words for v in (w, w.lower(), w.upper(), w.title(), norm(w))})


_BOOL_WORDS = _variants(["是", "否", "true", "false", "t", "f", "yes", "no", "y", "n", "1", "0", "√", "✓", "×", "✗", "有", "无", "对", "不是"])


def _enum_words(col: Column) -> list[str]:
    words = list(col.enum)
    for code in col.enum:
        words += list(ENUM_LABELS.get(code, ()))
    return _variants(words)


# ---- one column of cells → staged values


def _convert(col: Column, s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(value, odd): the cell's value in the fast path's staging (null where blank), and whether
    the cell is in a spelling the fast path leaves to the per-row path."""
    blank = s.is_null() | s.str.contains(BLANK) | s.str.to_lowercase().is_in(list(UNKNOWN_WORDS))
    edge = s.str.contains(fast.EDGE)
    kind = col.kind
    if kind == "text":
        value = s
        odd = edge
        if col.path in ("credit_code", "region_code"):
            odd = odd | s.str.contains(SCIENTIFIC)
    elif kind in ("enum", "bool"):
        words = _spellings(col, _enum_words(col) if kind == "enum" else _BOOL_WORDS)
        dtype = pl.Utf8 if kind == "enum" else pl.Boolean
        value = s.replace_strict(words, default=None, return_dtype=dtype)
        odd = value.is_null()
    elif kind == "date":
        parts = s.str.extract_groups(DATE)
        y, m, d = (parts.struct.field(str(i)) for i in (1, 2, 3))
        text = pl.concat_str(y, pl.lit("-"), m.str.zfill(2), pl.lit("-"), d.str.zfill(2))
        value = fast.iso_date(text)
        odd = value.is_null()
    elif kind in ("money", "decimal"):
        clean = s.str.replace_all(",", "", literal=True).str.strip_suffix("万元")
        parts = clean.str.extract_groups(NUMBER)
        sign = pl.when(parts.struct.field("1") == "-").then(-1).otherwise(1)
        whole = parts.struct.field("2").cast(pl.Int64)
        frac = parts.struct.field("3").fill_null("").str.pad_end(6, "0").cast(pl.Int64)
        value = sign * (whole * fast.MICRO + frac)
        odd = value.is_null()
    elif kind in ("int", "people", "count"):
        clean = s.str.replace_all(",", "", literal=True).str.strip_suffix("万元")
        value = pl.when(clean.str.contains(WHOLE)).then(clean).cast(pl.Int64, strict=False)
        odd = value.is_null()
    else:  # the projects JSON column: its text, for the JSON reader (``_json_projects``)
        value = s
        odd = pl.lit(False)
    return pl.when(~blank).then(value), (~blank & (edge | odd)).fill_null(True)


def stage(layout: Layout, cells: Cells) -> fast.Staged:
    """A batch of cells → the fast path's staged tables."""
    n = len(cells.numbers)
    frame = pl.DataFrame({f"c{i}": s for i, s in cells.text.items()}, schema={f"c{i}": pl.Utf8 for i in cells.text})
    values: list[pl.Expr] = []
    odds: list[pl.Expr] = []
    paths: dict[str, str] = {}  # contract path → its value column
    for i, col in layout.columns.items():
        value, odd = _convert(col, pl.col(f"c{i}"))
        values.append(value.alias(f"v{i}"))
        odds.append(odd)
        paths[col.path] = f"v{i}"
    frame = frame.with_columns(*values, pl.any_horizontal(odds or [pl.lit(False)]).alias("_odd"))
    odd = frame["_odd"]
    if cells.odd is not None:
        odd = odd | cells.odd
    frame = frame.with_columns(
        pl.int_range(n, dtype=pl.Int64).alias("_i"),
        pl.Series("row", cells.numbers, dtype=pl.Int64),
        odd.alias("_slow"),
    )

    def value(path: str, dtype: Any) -> pl.Expr:
        name = paths.get(path)
        return pl.col(name).cast(dtype) if name else pl.lit(None, dtype=dtype)

    enterprise = []
    for path, dtype in fast.E_SCHEMA.items():
        if path in ("certifications.hte", "certifications.tsme"):
            group = [p for p in paths if p.startswith(path + ".")]
            present = pl.any_horizontal([pl.col(paths[p]).is_not_null() for p in group] or [pl.lit(False)])
            enterprise.append(present.alias(path))
        else:
            enterprise.append(value(path, dtype).alias(path))
    FY = _groups(frame, paths, "fiscal_years", fast.FY_SCHEMA, value)
    PJ = _groups(frame, paths, "projects", fast.PJ_SCHEMA, value)
    json_cells = [i for i, col in layout.columns.items() if col.kind == "json"]
    if json_cells:
        more, odd_rows = _json_projects(frame, f"c{json_cells[0]}", f"v{json_cells[0]}")
        PJ = pl.concat([PJ, more.select(PJ.columns)], how="vertical")
        frame = frame.with_columns(pl.col("_slow") | pl.col("_i").is_in(odd_rows))
    E = frame.select("_i", "row", pl.lit(None, dtype=pl.Date).alias("as_of"), "_slow", *enterprise)
    return fast.Staged(E, FY, PJ)


def _json_projects(frame: pl.DataFrame, cell: str, value: str) -> tuple[pl.DataFrame, list[int]]:
    """The projects JSON column's cells read by the JSON reader (the cells ``_convert`` left to it):
    their projects, after the numbered groups; and the rows of cells it refuses."""
    given = frame.filter(pl.col(value).is_not_null()).select("_i", value)
    empty = pl.DataFrame(schema={"_i": pl.Int64, "_k": pl.Int64, **fast.PJ_SCHEMA})
    if given.height == 0:
        return empty, []
    keys = given["_i"].to_list()
    table, refused = jsonl.projects_cells(given[value].to_list())
    odd = [keys[i] for i in refused]
    if table is None:
        return empty, odd
    kept = [k for i, k in enumerate(keys) if i not in set(refused)]
    items, nulls = jsonl.project_items(table, kept)
    return items, odd + nulls


def _groups(frame: pl.DataFrame, paths: dict[str, str], what: str, schema: dict[str, Any], value: Any) -> pl.DataFrame:
    """The fiscal-year (or project) column groups as one row per group a row fills in, in the order
    of their year (or number), as the per-row path lists them."""
    keys = sorted({int(p[len(what) + 1 : p.index("]")]) for p in paths if p.startswith(what + "[")})
    parts = []
    for k in keys:
        fields = {name: value(f"{what}[{k}].{name}", dtype) for name, dtype in schema.items() if name != "year"}
        present = pl.any_horizontal([c.is_not_null() for c in fields.values()])
        key = {"year": pl.lit(k, dtype=pl.Int64)} if what == "fiscal_years" else {}
        parts.append(
            frame.filter(present).select(
                "_i", pl.lit(k, dtype=pl.Int64).alias("_k"), *(c.alias(n) for n, c in {**key, **fields}.items())
            )
        )
    empty = pl.DataFrame(schema={"_i": pl.Int64, "_k": pl.Int64, **schema})
    return pl.concat([empty, *(p.select(empty.columns) for p in parts)], how="vertical")


# ---- the sources


def records_cells(layout: Layout, records: list[tuple[int, Any]]) -> Cells:
    """Records read one at a time (Python's csv module, openpyxl, Parquet rows) as a batch of cells:
    text cells as they are; numbers, dates and booleans in the one spelling the per-row converters
    read the same way, anything else to the per-row path."""
    positions = list(layout.columns)
    kinds = {i: layout.columns[i].kind for i in positions}
    columns: dict[int, list[str | None]] = {i: [] for i in positions}
    odd: list[bool] = []
    for _number, cells in records:
        width = len(cells)
        bad = False
        for i in positions:
            v = cells[i] if i < width else None
            if v is None or isinstance(v, str):
                columns[i].append(v)
                continue
            text = _as_text(v, kinds[i])
            if text is None:
                bad = True
            columns[i].append(text)
        odd.append(bad)
    return Cells(
        [n for n, _ in records],
        {i: pl.Series(f"c{i}", columns[i], dtype=pl.Utf8) for i in positions},
        pl.Series("_odd", odd, dtype=pl.Boolean),
        lambda k: list(records[k][1]),
    )


def _as_text(v: Any, kind: str) -> str | None:
    """A typed cell as the text the fast path reads as the per-row converter reads the cell, or
    None when there is no such text (the row goes to the per-row path)."""
    if isinstance(v, bool):
        return ("true" if v else "false") if kind == "bool" else None
    if isinstance(v, int):
        if kind in ("money", "decimal", "int", "people", "count") or (kind == "bool" and v in (0, 1)):
            return str(v)
        return None
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        if kind == "bool" and v in (0.0, 1.0):
            return str(int(v))
        if kind in ("money", "decimal", "int", "people", "count"):
            # the per-row converter's own text of it (Decimal of the shortest repr): 1e-06 → 0.000001
            return str(int(v)) if v.is_integer() else format(Decimal(repr(v)), "f")
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if kind == "date" else None
    if isinstance(v, dt.date):
        return v.isoformat() if kind == "date" else None
    return None


def _slow_rows(layout: Layout, cells: Cells, refused: list[int], lang: str) -> list[ParsedRow]:
    return [build_row(cells.numbers[i], cells.given(i), layout, lang) for i in refused]


def _raw(layout: Layout, cells: Cells) -> list[tuple[int, dict[str, Any]]]:
    from .cells import text_of

    out = []
    for k, number in enumerate(cells.numbers):
        given = cells.given(k)
        width = len(given)
        raw = {}
        for i in layout.columns:
            v = given[i] if i < width else None
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            raw[layout.headers[i]] = v if isinstance(v, str) else text_of(v)
        out.append((number, raw))
    return out


def settle(layout: Layout, source: Iterator[Cells], lang: str, keep_raw: bool) -> Iterator[Batch]:
    """Batches of cells through the fast path, their refused rows through the per-row path."""
    for cells in source:
        accepted, refused = split(stage(layout, cells))
        raw = _raw(layout, cells) if keep_raw else None
        yield gather(accepted, _slow_rows(layout, cells, refused, lang), lang, raw)


def record_cells(
    table: Table, size: int, start_after: int, count: Callable[[int], None], after: int = 0
) -> Iterator[Cells]:
    """Rows read one at a time by the per-row path's readers (those past ``after``), in batches."""
    assert table.layout is not None
    batch: list[tuple[int, Any]] = []
    for number, cells in table.data_records():
        if number <= after:
            continue
        count(1)
        if number <= start_after:
            continue
        batch.append((number, cells))
        if len(batch) >= size:
            yield records_cells(table.layout, batch)
            batch = []
    if batch:
        yield records_cells(table.layout, batch)


def csv_cells(table: Table, size: int, start_after: int, count: Callable[[int], None]) -> Iterator[Cells]:
    """CSV by pyarrow while it can; from the first record it cannot follow, Python's csv module."""
    assert table.layout is not None and table.encoding is not None
    done = 1  # the last record read: the header
    try:
        for cells in _arrow_csv(table, size):
            last = cells.numbers[-1] if cells.numbers else done
            keep = [k for k, n in enumerate(cells.numbers) if n > start_after]
            count(len(cells.numbers))
            done = last
            if keep:
                yield _subset(cells, keep) if len(keep) < len(cells.numbers) else cells
    except _Fallback:
        yield from record_cells(table, size, start_after, count, after=done)


class _Fallback(Exception):
    """pyarrow cannot follow the file from here on."""


def _subset(cells: Cells, keep: list[int]) -> Cells:
    index = pl.Series(keep, dtype=pl.UInt32)
    return Cells(
        [cells.numbers[k] for k in keep],
        {i: s.gather(index) for i, s in cells.text.items()},
        None if cells.odd is None else cells.odd.gather(index),
        lambda j: cells.given(keep[j]),
    )


def _arrow_csv(table: Table, size: int) -> Iterator[Cells]:
    """The data records of a rectangular CSV in batches of at most ``size`` (blank rows skipped, as
    the per-row path skips them, their numbers kept)."""
    layout = table.layout
    assert layout is not None
    fh = table.fh
    encoding = table.encoding or "utf-8"
    fh.seek(0)
    head = fh.read(1 << 16)
    first = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head).split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    # pyarrow skips the header as a line, not as a record: a header over several lines (a quoted
    # line break: an odd number of quotes on its first line) is left to the csv module
    if first.count('"') % 2:
        raise _Fallback
    width = len(next(csv.reader([first.rstrip("\r")], delimiter=delimiter)))
    if width > table.limits.max_columns:
        raise _Fallback
    names = [f"c{i}" for i in range(width)]
    fh.seek(0)
    try:
        reader = pcsv.open_csv(
            fh,
            read_options=pcsv.ReadOptions(
                skip_rows=1,
                column_names=names,
                encoding="utf8" if encoding == "utf-8" else encoding,
                block_size=1 << 22,
            ),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowException, ValueError):
        raise _Fallback from None
    number = 1
    buffer: pa.Table | None = None
    limit = table.limits.max_line_bytes
    while True:
        try:
            rb = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowException, ValueError):
            raise _Fallback from None
        read = pa.Table.from_batches([rb])
        buffer = read if buffer is None else pa.concat_tables([buffer, read])
        # pyarrow's batches are blocks of bytes; the caller's are rows (a screening chunk, say)
        while buffer.num_rows >= size:
            number = yield from _emit(layout, buffer.slice(0, size), number, limit)
            buffer = buffer.slice(size)
    if buffer is not None and buffer.num_rows:
        yield from _emit(layout, buffer, number, limit)


def _emit(layout: Layout, records: pa.Table, number: int, limit: int) -> Iterator[Cells]:
    frame = pl.from_arrow(records)
    assert isinstance(frame, pl.DataFrame)
    # a record's text is at most twice its cells' (quotes doubled) and three characters a cell: a
    # record that might pass the limit is left to the csv module, which measures it exactly
    longest = frame.select(pl.sum_horizontal(pl.col(c).str.len_chars() for c in frame.columns)).to_series().max()
    if longest is not None and 2 * int(longest) + 3 * frame.width + 2 > limit:  # type: ignore[arg-type]
        raise _Fallback
    numbers = list(range(number + 1, number + 1 + frame.height))
    blank_row = pl.all_horizontal([pl.col(c).str.contains(BLANK) for c in frame.columns])
    keep = frame.select(~blank_row).to_series()
    frame = frame.filter(keep)
    kept = [n for n, k in zip(numbers, keep.to_list(), strict=True) if k]
    text = {i: frame[f"c{i}"] for i in layout.columns}
    width = frame.width

    def given(k: int) -> list[Any]:
        return list(frame.row(k)[:width])

    if kept:
        yield Cells(kept, text, None, given)
    return number + len(numbers)
