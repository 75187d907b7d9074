"""One uploaded file read row by row: its format, its layout and its rows (``Table.rows``), each a
validated profile or its errors. The batch readers (``intake.batches``) read the same files in
columns; this is the path of one row at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from .cells import blank
from .csvfile import csv_records, detect_encoding
from .errors import TableError
from .jsonl import jsonl_lines
from .layout import Layout, layout_of
from .limits import DEFAULT_LIMITS, Limits
from .rows import ParsedRow, build_row, parse_json_line
from .xlsx import Xlsx

FORMATS = ("csv", "xlsx", "jsonl")  # the formats of uploads and templates
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/x-ndjson",
}


def detect_format(filename: str | None, head: bytes) -> str:
    """From the content first (an XLSX is a ZIP), then the file name."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    name = (filename or "").lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".xls"):
        raise TableError(
            "unsupported-format",
            "不支持旧版 Excel 97-2003（.xls）文件，请另存为 .xlsx 或 CSV",
            "old Excel 97-2003 (.xls) files are not supported; save as .xlsx or CSV",
        )
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "jsonl"
    return "csv"


class Table:
    """One uploaded file: its layout (from the header row) and its rows, streamed within ``limits``."""

    def __init__(self, fh: IO[bytes], fmt: str, lang: str = "zh", limits: Limits = DEFAULT_LIMITS) -> None:
        if fmt not in FORMATS:
            raise TableError("unsupported-format", f"不支持的格式 {fmt}", f"unsupported format {fmt}")
        self.fh = fh
        self.format = fmt
        self.lang = lang
        self.limits = limits
        self.encoding: str | None = None
        self.layout: Layout | None = None
        self._xlsx: Xlsx | None = None
        if fmt == "csv":
            self.encoding = detect_encoding(fh)
            header = next(self._csv_records(), None)
            if header is None:
                raise TableError("empty-file", "文件是空的", "the file is empty")
            self.layout = layout_of(header[1], limits)
        elif fmt == "xlsx":
            self._xlsx = Xlsx(fh, limits)
            header = next(self._xlsx_records(), None)
            if header is None:
                raise TableError("empty-file", "工作表是空的", "the worksheet is empty")
            self.layout = layout_of(list(header[1]), limits)

    # -- raw records: (row number, cells)

    def _csv_records(self) -> Iterator[tuple[int, list[str]]]:
        return csv_records(self.fh, self.encoding or "utf-8", self.limits)

    def _xlsx_records(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        assert self._xlsx is not None
        return self._xlsx.records()

    def close(self) -> None:
        if self._xlsx is not None:
            self._xlsx.close()
            self._xlsx = None

    # -- rows

    def count_rows(self, limit: int | None = None) -> int:
        """Data rows (blank rows not counted); stops counting once past ``limit``."""
        n = 0
        for _number, _cells in self.data_records():
            n += 1
            if limit is not None and n > limit:
                return n
        return n

    def data_records(self) -> Iterator[tuple[int, Any]]:
        """(row number, cells or JSONL line) of every data row: blank rows and lines skipped."""
        if self.format == "jsonl":
            yield from jsonl_lines(self.fh, self.limits.max_line_bytes)
            return
        records = self._csv_records() if self.format == "csv" else self._xlsx_records()
        next(records, None)  # the header
        for number, cells in records:
            if all(blank(c) and (c is None or not str(c).strip()) for c in cells):
                continue
            yield number, cells

    def rows(self, start_after: int = 0) -> Iterator[ParsedRow]:
        """Every data row, parsed; ``start_after`` skips rows up to that number (resuming an import).
        Past ``limits.max_rows`` data rows, ``TableError``."""
        seen = 0
        max_rows = self.limits.max_rows
        for number, cells in self.data_records():
            seen += 1
            if max_rows is not None and seen > max_rows:
                raise TableError(
                    "too-many-rows",
                    f"文件超过行数上限：最多 {max_rows} 行数据，请拆分后分批上传",
                    f"too many rows: at most {max_rows} data rows per file; split it",
                )
            if number <= start_after:
                continue
            if self.format == "jsonl":
                yield parse_json_line(number, cells, self.lang, self.limits)
            else:
                assert self.layout is not None
                yield build_row(number, list(cells), self.layout, self.lang)


def open_table(
    fh: IO[bytes],
    filename: str | None = None,
    fmt: str | None = None,
    lang: str = "zh",
    limits: Limits = DEFAULT_LIMITS,
) -> Table:
    fh.seek(0)
    head = fh.read(8)
    fh.seek(0)
    return Table(fh, fmt or detect_format(filename, head), lang, limits)


