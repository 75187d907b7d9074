"""Rows of a run as they are stored: their ``screening_rows`` entries and their profile table.

A valid row's profile goes into the chunk's profile table (``engine/table.py``); one the table
cannot hold exactly (a score with more than six decimal places, say) keeps its JSON on its row and
is evaluated by the per-profile engine. A row with bad cells keeps its cells and its errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from engine import Profile
from engine.table import row_of
from intake import Batch

from .store import PROFILES


def _record(run_id: str, number: int, valid: bool, **kw: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "row_no": number,
        "valid": valid,
        "credit_code": None,
        "name": None,
        "region_code": None,
        "as_of": None,
        "profile": None,
        "raw": None,
        "errors": None,
        **kw,
    }


def _table(rows: list[dict[str, Any]]) -> pl.DataFrame | None:
    return pl.DataFrame(rows, schema=PROFILES) if rows else None


def _held(p: Profile, number: int, as_of: dt.date | None) -> dict[str, Any] | None:
    """The profile as a row of the table, or None when the table cannot hold it exactly."""
    try:
        row = row_of(p, number)
    except (ValueError, ArithmeticError):
        return None
    row["as_of"] = as_of
    return row


def read_batch(run_id: str, batch: Batch) -> tuple[list[dict[str, Any]], pl.DataFrame | None]:
    """A batch read by ``intake.read_batches``: the fast path's table as it is, the profiles only
    pydantic accepted into the table where it holds them exactly (their JSON on the row where it
    does not), the refused rows with their cells and errors. Records in row order."""
    fast = batch.table
    records = [
        _record(run_id, r["row_no"], True, **{k: r[k] for k in ("credit_code", "name", "region_code", "as_of")})
        for r in fast.select(
            pl.col("row").alias("row_no"),
            pl.col("credit_code").str.slice(0, 64),
            pl.col("name").str.slice(0, 200),
            "region_code",
            "as_of",
        ).iter_rows(named=True)
    ]
    held = []
    for number, p, as_of in batch.profiles:
        row = _held(p, number, as_of)
        if row is not None:
            held.append(row)
        records.append(
            _record(
                run_id,
                number,
                True,
                credit_code=p.credit_code[:64],
                name=p.name,
                region_code=p.region_code,
                as_of=as_of,
                profile=None if row is not None else p.model_dump(mode="json"),
            )
        )
    for e in batch.errors:
        records.append(
            _record(
                run_id,
                e["row"],
                False,
                credit_code=(e["credit_code"] or None) and e["credit_code"][:64],
                name=(e["name"] or None) and e["name"][:200],
                region_code=e["region_code"],
                raw=e["raw"],
                errors=e["errors"] or None,
            )
        )
    records.sort(key=lambda r: r["row_no"])
    table = pl.concat([fast, pl.DataFrame(held, schema=PROFILES)]).sort("row") if held else fast
    return records, table if table.height else None
