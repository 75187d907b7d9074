"""A chunk's rows go in by one COPY (PostgreSQL) or one executemany (SQLite)
(``api/screening/bulk.py``): the values stored are those the ORM's insert stored, a duplicate primary
key still fails the whole transaction with SQLAlchemy's ``IntegrityError`` (the importer relies on
it), and nothing of a failed chunk is left behind."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.screening.bulk import insert_many
from api.screening.importer import store_batch
from api.screening.models import ScreeningChunk, ScreeningRow, ScreeningRun


def _run(db) -> str:
    run_id = uuid.uuid4().hex
    with Session(db) as s, s.begin():
        s.add(
            ScreeningRun(
                id=run_id,
                status="importing",
                as_of=dt.date(2025, 6, 30),
                rule_pack_version="sha256:test",
                chunk_size=10,
                lang="zh",
            )
        )
    return run_id


def _row(run_id: str, row_no: int, valid: bool = True) -> dict:
    return {
        "run_id": run_id,
        "row_no": row_no,
        "valid": valid,
        "credit_code": "91370100CA85GF0T94" if valid else None,
        "name": "济南示例智能科技有限公司" if valid else None,
        "region_code": "370102" if valid else None,
        "as_of": dt.date(2025, 6, 30) if valid else None,
        "profile": {"name": "济南示例", "fiscal_years": [{"year": 2024, "sales_revenue": "12.50"}]}
        if valid
        else None,
        "raw": {"A": "济南示例", "B": '\t引号"与\\反斜杠\n'},
        "errors": None if valid else [{"row": row_no, "column": "B", "reason": "应为数值，收到“十二万”"}],
    }


def _stored(db, table: str, run_id: str, order: str, json_columns: tuple[str, ...]) -> list[dict]:
    nulls = "".join(f", ({c} IS NULL) AS {c}_is_sql_null" for c in json_columns)
    with db.connect() as c:
        rows = c.execute(
            text(f"SELECT *{nulls} FROM {table} WHERE run_id = :r ORDER BY {order}"), {"r": run_id}
        ).mappings()
        return [{k: v for k, v in r.items() if k != "run_id"} for r in rows]


def test_rows_are_stored_as_the_orm_insert_stored_them(bureau):
    db = bureau.app.state.screening_db
    bulk_run, orm_run = _run(db), _run(db)
    with Session(db) as s, s.begin():
        insert_many(s, ScreeningRow.__table__, [_row(bulk_run, 2), _row(bulk_run, 3, valid=False)])
    with Session(db) as s, s.begin():
        for r in (_row(orm_run, 2), _row(orm_run, 3, valid=False)):
            s.execute(insert(ScreeningRow), [r])  # the ORM's insert, one row at a time
    columns = ("profile", "raw", "errors", "eval_error")
    bulk = _stored(db, "screening_rows", bulk_run, "row_no", columns)
    assert bulk == _stored(db, "screening_rows", orm_run, "row_no", columns)
    # None in a JSON column is JSON null, as SQLAlchemy's JSON type binds it; elsewhere SQL NULL
    invalid = bulk[1]
    assert invalid["profile"] in (None, "null") and not invalid["profile_is_sql_null"]  # jsonb / text
    assert invalid["credit_code"] is None
    with Session(db) as s:
        row = s.get(ScreeningRow, (bulk_run, 2))
        assert row.profile["fiscal_years"][0]["sales_revenue"] == "12.50"
        assert row.raw["B"] == '\t引号"与\\反斜杠\n' and row.as_of == dt.date(2025, 6, 30)


def test_a_duplicate_fails_the_whole_chunk_with_integrity_error(bureau):
    db = bureau.app.state.screening_db
    run_id = _run(db)
    batch = [_row(run_id, n) for n in range(2, 7)]
    store_batch(db, run_id, 0, batch, None)
    with pytest.raises(IntegrityError):  # import_upload stops on it: another importer has the rows
        store_batch(db, run_id, 1, [_row(run_id, 7), *batch[:1]], None)
    with pytest.raises(IntegrityError), Session(db) as s, s.begin():
        insert_many(s, ScreeningRow.__table__, [_row(run_id, 8), _row(run_id, 9), _row(run_id, 8)])
    with Session(db) as s:  # nothing of the failed transactions is left, and the database goes on
        assert s.scalar(select(func.count()).where(ScreeningRow.run_id == run_id)) == 5
        assert s.scalar(select(func.count()).where(ScreeningChunk.run_id == run_id)) == 1
        assert s.get(ScreeningRun, run_id).total_rows == 5
    store_batch(db, run_id, 1, [_row(run_id, 8)], None)
    with Session(db) as s:
        assert s.get(ScreeningRow, (run_id, 8)).profile["fiscal_years"][0]["sales_revenue"] == "12.50"
        assert s.get(ScreeningRun, run_id).total_rows == 6
