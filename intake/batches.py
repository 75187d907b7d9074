"""Batches of profiles from a file: a profile table for the rows the fast path accepts, validated
profiles for the rows only pydantic accepts, errors for the rest.

``read_batches`` is what every population path reads a file with (``huiqi screen``, screening
through the API): JSONL through pyarrow's JSON reader, CSV through pyarrow's CSV reader (Python's
``csv`` module where pyarrow cannot follow the file: ragged rows, blank lines), XLSX through the
bounded openpyxl reader (``intake/xlsx.py``), Parquet through pyarrow. The rows are checked in
columns (``intake.fast``); a row any check refuses goes to the per-row path (``intake/rows.py``),
which accepts it or reports its errors exactly as it always has. Memory is that of one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import polars as pl

from . import jsonl, parquet, sheet
from .batch import TABLE_SCHEMA, Batch, gather, split
from .errors import TableError
from .layout import Layout
from .limits import DEFAULT_LIMITS, Limits
from .rows import parse_json_line
from .table import Table, detect_format

INPUT_FORMATS = ("csv", "xlsx", "jsonl", "parquet")


def read_batches(
    source: Path | IO[bytes],
    fmt: str | None = None,
    *,
    filename: str | None = None,
    lang: str = "zh",
    batch_rows: int = 50_000,
    limits: Limits = DEFAULT_LIMITS,
    start_after: int = 0,
    keep_raw: bool = False,
    on_layout: Callable[[Layout], None] | None = None,
) -> Iterator[Batch]:
    """The file's rows in batches of at most ``batch_rows``, rows up to ``start_after`` skipped
    (resuming an import). A file that cannot be read as a whole raises ``TableError``: before the
    first batch when its format, encoding or header is at fault, at the batch where it passes a
    limit. ``keep_raw``: each spreadsheet row's cells as given, by header (``Batch.raw``).
    ``on_layout``: told a spreadsheet's columns (and the headers it ignores) once its header is read."""
    if isinstance(source, Path):
        with source.open("rb") as fh:
            yield from read_batches(
                fh,
                fmt,
                filename=filename or source.name,
                lang=lang,
                batch_rows=batch_rows,
                limits=limits,
                start_after=start_after,
                keep_raw=keep_raw,
                on_layout=on_layout,
            )
        return
    fh = source
    if fmt is None:
        fh.seek(0)
        head = fh.read(8)
        fh.seek(0)
        fmt = detect_format(filename, head)
    if fmt not in INPUT_FORMATS:
        raise TableError("unsupported-format", f"不支持的格式 {fmt}", f"unsupported format {fmt}")
    count = _Counter(limits.max_rows)
    if fmt == "jsonl":
        yield from _jsonl(fh, lang, batch_rows, limits, start_after, count)
    elif fmt == "parquet":
        yield from parquet.batches(fh, lang, batch_rows, limits, start_after, keep_raw, count, on_layout)
    else:
        table = Table(fh, fmt, lang, limits)
        try:
            assert table.layout is not None
            if on_layout is not None:
                on_layout(table.layout)
            cells = (
                sheet.csv_cells(table, batch_rows, start_after, count)
                if fmt == "csv"
                else sheet.record_cells(table, batch_rows, start_after, count)
            )
            yield from sheet.settle(table.layout, cells, lang, keep_raw)
        finally:
            table.close()


class _Counter:
    """Data rows read so far (those skipped by ``start_after`` too), against ``Limits.max_rows``."""

    def __init__(self, most: int | None) -> None:
        self.most = most
        self.seen = 0

    def __call__(self, n: int) -> None:
        self.seen += n
        if self.most is not None and self.seen > self.most:
            raise TableError(
                "too-many-rows",
                f"文件超过行数上限：最多 {self.most} 行数据，请拆分后分批上传",
                f"too many rows: at most {self.most} data rows per file; split it",
            )


def _jsonl(
    fh: IO[bytes], lang: str, size: int, limits: Limits, start_after: int, count: Callable[[int], None]
) -> Iterator[Batch]:
    for every in jsonl.line_batches(fh, limits.max_line_bytes, size):
        count(len(every))
        lines = [(n, line) for n, line in every if n > start_after]
        if lines:
            yield lines_batch(lines, lang, limits)


def lines_batch(lines: list[tuple[int, bytes | None]], lang: str = "zh", limits: Limits = DEFAULT_LIMITS) -> Batch:
    """JSON lines, each numbered as the user knows it (a line of a file, a stored profile), as one
    batch: a line is a profile or ``{"as_of", "profile"}``; ``None`` is a line too long to read."""
    # only lines that look like one object go to the JSON reader (pyarrow 26 crashes on a block
    # that starts with ``null``); the others are read one by one
    readable: list[tuple[int, bytes]] = []
    slow = []
    for n, line in lines:
        if line is not None and jsonl.object_like(line):
            readable.append((n, line))
        else:
            slow.append(parse_json_line(n, line, lang, limits))
    texts: list[bytes] = [line for _, line in readable]
    block = jsonl.Lines(texts)
    table, refused = jsonl.parse_lines(block)
    slow += [parse_json_line(readable[i][0], texts[i], lang, limits) for i in refused]
    accepted = pl.DataFrame(schema=TABLE_SCHEMA)
    if table is not None:
        if refused:
            kept = pl.Series(sorted(set(range(len(texts))) - set(refused)), dtype=pl.UInt32)
            rows = [readable[i][0] for i in kept]
        else:
            kept, rows = None, [n for n, _ in readable]
        accepted, others = split(jsonl.stage(table, block, kept, rows))
        for i in others:
            j = i if kept is None else kept[i]
            slow.append(parse_json_line(readable[j][0], texts[j], lang, limits))
    return gather(accepted, slow, lang)


def count_rows(source: IO[bytes], filename: str | None = None, fmt: str | None = None, limits: Limits = DEFAULT_LIMITS) -> int:
    """The data rows of a file (blank rows and lines not counted), to show progress against."""
    source.seek(0)
    fmt = fmt or detect_format(filename, source.read(8))
    source.seek(0)
    try:
        if fmt == "parquet":
            return parquet.count(source)
        if fmt == "jsonl":
            return sum(len(b) for b in jsonl.line_batches(source, limits.max_line_bytes, 100_000))
        table = Table(source, fmt, limits=limits)
        try:
            return table.count_rows()
        finally:
            table.close()
    finally:
        source.seek(0)
