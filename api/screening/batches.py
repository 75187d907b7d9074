"""Rows of a run as they are stored: their ``screening_rows`` entries and their profile table.

A valid row's profile goes into the chunk's profile table (``engine/table.py``); one the table
cannot hold exactly (a score with more than six decimal places, say) keeps its JSON on its row and
is evaluated by the per-profile engine. A row with bad cells keeps its cells and its errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from pydantic import ValidationError

from engine import Profile, errors_of
from engine.table import row_of
from intake import ParsedRow

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


def parsed_batch(run_id: str, parsed: list[ParsedRow]) -> tuple[list[dict[str, Any]], pl.DataFrame | None]:
    """Rows read from an uploaded file."""
    records, table = [], []
    for r in parsed:
        code = (r.credit_code or None) and r.credit_code[:64]
        name = (r.name or None) and r.name[:200]
        as_of = dt.date.fromisoformat(r.as_of) if r.as_of else None
        if r.profile is None:
            records.append(
                _record(
                    run_id,
                    r.number,
                    False,
                    credit_code=code,
                    name=name,
                    region_code=r.region_code,
                    as_of=as_of,
                    raw=r.raw,
                    errors=r.errors or None,
                )
            )
            continue
        held = _held(Profile.model_validate(r.profile), r.number, as_of)
        if held is not None:
            table.append(held)
        records.append(
            _record(
                run_id,
                r.number,
                True,
                credit_code=code,
                name=name,
                region_code=r.region_code,
                as_of=as_of,
                profile=None if held is not None else r.profile,
            )
        )
    return records, _table(table)


def profile_batch(
    run_id: str, profiles: list[tuple[int, dict[str, Any]]]
) -> tuple[list[dict[str, Any]], pl.DataFrame | None]:
    """Stored profiles (proactive matching): valid when stored, checked again all the same."""
    records, table = [], []
    for number, doc in profiles:
        try:
            p = Profile.model_validate(doc)
        except ValidationError as e:
            records.append(
                _record(
                    run_id,
                    number,
                    False,
                    credit_code=str(doc.get("credit_code") or "")[:64] or None,
                    errors=[
                        {
                            "row": number,
                            "column": None,
                            "header": None,
                            "field": x["field"],
                            "value": x["value"],
                            "reason": x["message"],
                        }
                        for x in errors_of(e, "zh")
                    ][:20],
                )
            )
            continue
        held = _held(p, number, None)
        if held is not None:
            table.append(held)
        records.append(
            _record(
                run_id,
                number,
                True,
                credit_code=p.credit_code,
                name=p.name,
                region_code=p.region_code,
                profile=None if held is not None else doc,
            )
        )
    return records, _table(table)
