"""Proactive matching (免申即享): every stored enterprise's latest profile screened, and the
enterprises found eligible for a measure they have not applied for."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import Engine as DbEngine
from sqlalchemy import LargeBinary, Text, cast, select
from sqlalchemy.orm import Session, aliased

from intake import DEFAULT_LIMITS, lines_batch

from ..errors import NotFound
from ..models import ProfileVersion
from .batches import read_batch
from .importer import end_import, store_batch
from .models import ScreeningRow, ScreeningRun
from .regions import region_name
from .store import results_frame, rows_frame
from .wording import engine_of, subject_kind, with_reasons
from .work import Evaluators

# chunks of profiles read by one query and one call of the JSON reader: each has a fixed cost
# (20,000 lines in 0.25 s, 5,000 in 0.1 s)
PAGE_CHUNKS = 4


def import_profiles(db_engine: DbEngine, run_id: str) -> None:
    """The latest profile version of every stored enterprise becomes a row of a proactive run
    (read a page at a time, each in its own short transaction)."""
    with Session(db_engine) as s:
        run = s.get(ScreeningRun, run_id)
        assert run is not None
        size = run.chunk_size
    newer = aliased(ProfileVersion)
    # the latest version: none newer of the same enterprise (an index range scan per page on the
    # unique (credit_code, version), where a GROUP BY over every version ran again for each page)
    latest = ~(
        select(newer.id)
        .where(newer.credit_code == ProfileVersion.credit_code, newer.version > ProfileVersion.version)
        .exists()
    )
    # the stored JSON as it is, straight to the intake's JSON reader and its fast path: SQLite
    # hands the bytes over as they are stored; PostgreSQL writes its JSON out as text
    raw = db_engine.dialect.name == "sqlite"
    document = cast(ProfileVersion.profile, LargeBinary if raw else Text)
    after = ""
    chunk_no = 0
    number = 0
    try:
        while True:
            with Session(db_engine) as s:
                page = s.execute(
                    select(ProfileVersion.credit_code, document)
                    .where(ProfileVersion.credit_code > after, latest)
                    .order_by(ProfileVersion.credit_code)
                    .limit(size * PAGE_CHUNKS)
                ).all()
            if not page:
                break
            lines = [(number + i, text if raw else text.encode()) for i, (_c, text) in enumerate(page, 1)]
            rows, table = read_batch(run_id, lines_batch(lines, "zh", DEFAULT_LIMITS))
            for k in range(0, len(rows), size):
                part = rows[k : k + size]
                held = None
                if table is not None:
                    held = table.filter(pl.col("row").is_between(part[0]["row_no"], part[-1]["row_no"]))
                store_batch(db_engine, run_id, chunk_no, part, held if held is not None and held.height else None)
                chunk_no += 1
            number += len(page)
            after = page[-1][0]
    except Exception as e:
        end_import(
            db_engine,
            run_id,
            {"zh": f"读取企业画像失败：{type(e).__name__}", "en": f"reading profiles failed: {e}"},
        )
        raise
    end_import(db_engine, run_id)


def applied(db: Session, measures: list[str]) -> pl.DataFrame:
    """(credit code, measure) of every application screened: a valid row of an application run
    that screened the measure (all measures when the run named none)."""
    runs = dict(
        db.execute(
            select(ScreeningRun.id, ScreeningRun.measures).where(ScreeningRun.kind == "applications")
        ).all()
    )
    if not runs:
        return pl.DataFrame(schema={"credit_code": pl.Utf8, "measure_id": pl.Utf8})
    pairs = db.execute(
        select(ScreeningRow.run_id, ScreeningRow.credit_code)
        .where(
            ScreeningRow.run_id.in_(list(runs)),
            ScreeningRow.valid.is_(True),
            ScreeningRow.credit_code.is_not(None),
        )
        .distinct()
    ).all()
    out = [(code, m) for run_id, code in pairs for m in measures if not runs[run_id] or m in runs[run_id]]
    return pl.DataFrame(out, schema={"credit_code": pl.Utf8, "measure_id": pl.Utf8}, orient="row").unique()


def proactive_candidates(
    db: Session,
    run: ScreeningRun,
    evaluators: Evaluators,
    lang: str,
    measure: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    if run.kind != "proactive":
        raise NotFound("这不是免申即享匹配", "this screening is not a proactive matching run")
    f = results_frame(db, run).filter(pl.col("outcome") == "eligible")
    if measure:
        f = f.filter(pl.col("measure_id") == measure)
    f = f.join(rows_frame(db, run), on="row", how="left")
    done = applied(db, sorted(set(f["measure_id"].unique().to_list())))
    f = f.join(done, on=["credit_code", "measure_id"], how="anti").sort(
        "measure_id", "credit_code", pl.col("subject_id").fill_null(""), maintain_order=True
    )
    engine = engine_of(evaluators, run)
    page = with_reasons(f.slice(offset, limit), run, engine, lang)
    items = [
        {
            "credit_code": r["credit_code"],
            "name": r["name"],
            "region_code": r["region_code"],
            "district": region_name(r["region_code"], lang),
            "measure_id": r["measure_id"],
            "subject": {
                "kind": subject_kind(engine, r["measure_id"], r["subject_id"]),
                "id": r["subject_id"],
            },
            "benefit_amount": r["benefit_amount"],
            "reasons": r["reasons"] or "",
        }
        for r in page.iter_rows(named=True)
    ]
    return items, f.height
