"""A file's header row → its layout: which column holds which contract field."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .cells import converter
from .columns import Column, column_for_header, column_letter, place
from .errors import TableError, limit_error
from .limits import DEFAULT_LIMITS, HEADER_CHARS_KEPT, IGNORED_KEPT, PROBLEMS_SHOWN, Limits


@dataclass
class Layout:
    """The file's columns: position → Column; headers nobody knows are ignored and reported."""

    headers: list[str]
    columns: dict[int, Column]
    ignored: list[dict[str, Any]] = field(default_factory=list)  # the first IGNORED_KEPT of them
    ignored_total: int = 0

    def index_of(self, path: str) -> int:
        return next(i for i, c in self.columns.items() if c.path == path)

    @functools.cached_property
    def plan(self) -> list[tuple[int, Column, str, str, str, int, str, Callable[[Any], Any]]]:
        """Per column, worked out once per file: (position, column, header, letter, where its
        value goes (``place``), the converter of its kind)."""
        return [
            (i, col, self.headers[i], column_letter(i), *place(col.path), converter(col))
            for i, col in self.columns.items()
        ]


def layout_of(headers: list[Any], limits: Limits = DEFAULT_LIMITS) -> Layout:
    """The columns a header row names. Unknown headers are ignored and reported, but only the first
    ``IGNORED_KEPT`` of them, each cut to ``HEADER_CHARS_KEPT`` characters, are kept: a header of
    500,000 junk columns or one 400 MB cell is a file's problem, not something to store."""
    if len(headers) > limits.max_columns:
        last = max((i for i, h in enumerate(headers) if h is not None and str(h).strip()), default=-1)
        if last >= limits.max_columns:
            raise limit_error("列数", "columns", limits.max_columns)
        headers = headers[: last + 1]
    texts = ["" if h is None else str(h).strip() for h in headers]
    columns: dict[int, Column] = {}
    ignored: list[dict[str, Any]] = []
    ignored_total = 0
    problems = []
    seen: dict[str, int] = {}
    for i, h in enumerate(texts):
        if not h:
            continue
        if len(h) > HEADER_CHARS_KEPT:
            # no column's header is this long: an unknown column, kept short
            h = texts[i] = h[:HEADER_CHARS_KEPT] + "…"
        col, problem = column_for_header(h)
        if problem:
            problems.append(
                {"row": 1, "column": column_letter(i), "header": h, "value": h, "reason": problem}
            )
            continue
        if col is None:
            ignored_total += 1
            if len(ignored) < IGNORED_KEPT:
                ignored.append({"column": column_letter(i), "header": h})
            continue
        if col.path in seen:
            problems.append(
                {
                    "row": 1,
                    "column": column_letter(i),
                    "header": h,
                    "value": h,
                    "reason": f"与 {column_letter(seen[col.path])} 列重复（{col.path}）/ duplicates column {column_letter(seen[col.path])}",
                }
            )
            continue
        seen[col.path] = i
        columns[i] = col
    if problems:
        shown = problems[:PROBLEMS_SHOWN]
        more_zh = f"等 {len(problems)} 处" if len(problems) > len(shown) else ""
        more_en = f" and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise TableError(
            "bad-headers",
            "表头有误："
            + "；".join(f"{p['column']} 列“{p['header']}”：{p['reason'].split(' / ')[0]}" for p in shown)
            + more_zh,
            "bad headers: " + "; ".join(f"column {p['column']} {p['header']!r}" for p in shown) + more_en,
            shown,
        )
    if "credit_code" not in seen:
        raise TableError(
            "no-credit-code",
            "找不到“统一社会信用代码”列（第 1 行应为表头，可下载模板对照）",
            "no credit_code column (row 1 must hold the headers; compare with the template)",
        )
    return Layout(texts, columns, ignored, ignored_total)


