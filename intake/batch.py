"""A batch of rows of a file, as every reader hands it on: the fast path's profile table, the
profiles only pydantic accepted, the refused rows' errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from engine import Profile
from engine.table import SCHEMA, table_of

from . import fast
from .rows import ParsedRow

TABLE_SCHEMA = {**SCHEMA, "as_of": pl.Date}
_TITLE = ("数据有误，未评估", "bad data, not evaluated")

@dataclass
class Batch:
    """One batch of rows of a file. ``table``: the rows the fast path accepted, as a profile table
    (``engine.table.SCHEMA`` and ``as_of``: a date, or null where the row gave none; ``row`` the
    row as the user sees it: the spreadsheet's row number, the JSONL line number); ``profiles``:
    the rows the fast checks refused but pydantic accepted, as (row, profile, as_of); ``errors``:
    the refused rows, ``{"row", "title", "errors": [{row, column, header, field, value, reason}],
    "credit_code", "name", "region_code", "raw"}`` (what was given: nothing is lost); ``raw``:
    every row's cells as given, by header (spreadsheets, when asked for)."""

    table: pl.DataFrame
    profiles: list[tuple[int, Profile, dt.date | None]]
    errors: list[dict[str, Any]]
    raw: list[tuple[int, dict[str, Any]]] | None = None

    @property
    def rows(self) -> int:
        return self.table.height + len(self.profiles) + len(self.errors)


def profiles_table(profiles: list[Profile], rows: list[int] | None = None) -> pl.DataFrame:
    """Validated profiles as a profile table (rows numbered from 1 unless given)."""
    out = table_of(profiles, 1)
    if rows is not None:
        out = out.with_columns(pl.Series("row", rows, dtype=pl.Int64))
    return out


def error_of(row: ParsedRow, lang: str) -> dict[str, Any]:
    """A refused row as a batch reports it."""
    return {
        "row": row.number,
        "title": _TITLE[1] if lang == "en" else _TITLE[0],
        "errors": row.errors,
        "credit_code": row.credit_code,
        "name": row.name,
        "region_code": row.region_code,
        "raw": row.raw,  # what was given: the cells by header, or the JSONL line
    }


def split(staged: fast.Staged) -> tuple[pl.DataFrame, list[int]]:
    """The accepted rows as a profile table, and the ``_i`` of the refused ones."""
    if staged.E.height == 0:
        return pl.DataFrame(schema=TABLE_SCHEMA), []
    ok = fast.check(staged)
    refused = staged.E.filter(~ok)["_i"].to_list()
    return fast.assemble(staged, ok), refused


def gather(table: pl.DataFrame, slow: list[ParsedRow], lang: str, raw: list | None = None) -> Batch:
    """A batch from the fast path's table and the rows read one at a time."""
    profiles: list[tuple[int, Profile, dt.date | None]] = []
    errors: list[dict[str, Any]] = []
    for row in sorted(slow, key=lambda r: r.number):
        if row.model is not None:
            profiles.append((row.number, row.model, dt.date.fromisoformat(row.as_of) if row.as_of else None))
        else:
            errors.append(error_of(row, lang))
    return Batch(table, profiles, errors, raw)
