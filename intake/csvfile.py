"""CSV: its encoding (UTF-8 with or without BOM, UTF-16 with BOM, GB18030, which includes GBK and
GB2312 as Chinese office software writes them), its delimiter, its records within the limits."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import IO, Any

from .errors import TableError, limit_error
from .limits import Limits


def detect_encoding(fh: IO[bytes]) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, else GB18030; the whole file is checked, 1 MiB at a time."""
    fh.seek(0)
    head = fh.read(4)
    fh.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for enc in candidates:
        decoder = codecs.getincrementaldecoder(enc)()
        fh.seek(0)
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        fh.seek(0)
        return enc
    fh.seek(0)
    raise TableError(
        "bad-encoding",
        "无法识别文件编码：请另存为 UTF-8 或 GB18030（GBK）编码的 CSV",
        "cannot tell the file's encoding: save the CSV as UTF-8 or GB18030 (GBK)",
    )


def trim_width(cells: list[Any], limit: int, number: int) -> list[Any]:
    """A row wider than the limit is refused unless all it has past the limit is blank."""
    if any(c is not None and str(c).strip() for c in cells[limit:]):
        raise limit_error(f"每行的列数（第 {number} 行超出）", f"columns in a row (row {number})", limit)
    return cells[:limit]


def csv_records(fh: IO[bytes], encoding: str, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    """(record number, cells) for every record from the header (1), each within ``limits``."""
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=encoding, newline="")
    limit = limits.max_line_bytes
    taken = 0  # characters of the record being read (csv asks for lines until the record ends)

    def lines() -> Iterator[str]:
        nonlocal taken
        while True:
            line = text.readline(limit + 1)
            if not line:
                return
            taken += len(line)
            if taken > limit:
                raise limit_error("一行的字符数", "characters in one row", limit)
            yield line

    try:
        first = text.readline(limit + 1)
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        text.seek(0)
        reader = csv.reader(lines(), delimiter=delimiter)
        try:
            for number, cells in enumerate(reader, start=1):
                taken = 0
                if len(cells) > limits.max_columns:
                    cells = trim_width(cells, limits.max_columns, number)
                yield number, cells
        except csv.Error as e:
            raise TableError(
                "bad-csv",
                f"CSV 第 {reader.line_num} 行无法解析：{e}",
                f"CSV line {reader.line_num} cannot be parsed: {e}",
            ) from None
    finally:
        text.detach()
