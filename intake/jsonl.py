"""JSONL: the lines of a file, each within the size limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO


def jsonl_lines(fh: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for every non-blank line; a line longer than ``limit`` bytes is read past
    in blocks and given as None (that row is an error, the others are read)."""
    fh.seek(0)
    number = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # the rest of the line, never held whole
                more = fh.readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            yield number, None
            continue
        if line.strip():
            yield number, line


