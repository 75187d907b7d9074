"""Rule-change impact: a run's verdicts against those of its baseline — what changed, for whom, and
what it does to the budget. One join of two frames."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

import polars as pl
from sqlalchemy.orm import Session

from ..errors import NotFound
from .models import ScreeningRun
from .reports import benefit_sums
from .store import collect, results_frame, rows_frame
from .wording import engine_of, outcome_label, subject_kind, with_reasons
from .work import Evaluators

KEYS = ["row", "measure_id", "_subject"]


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def _keyed(frame: Frame) -> Frame:
    return frame.with_columns(pl.col("subject_id").fill_null("").alias("_subject"))


def impact(
    db: Session,
    run: ScreeningRun,
    evaluators: Evaluators,
    lang: str,
    measure: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    if run.kind != "impact" or not run.baseline_run_id:
        raise NotFound("这不是影响分析", "this screening is not an impact run")
    baseline = db.get(ScreeningRun, run.baseline_run_id)
    assert baseline is not None  # deleting a baseline deletes the runs built on it
    before = results_frame(db, baseline)
    after = results_frame(db, run)
    if measure:
        before = before.filter(pl.col("measure_id") == measure)
        after = after.filter(pl.col("measure_id") == measure)
    # the comparison joins the outcomes and amounts only; the page's rows are looked up afterwards
    # (joining every column of two 1.4-million-row frames took the service to 2 GB)
    compared = ["outcome", "benefit_amount", "subject_id"]
    changed = collect(
        _keyed(before.lazy().select("row", "measure_id", *compared))
        .join(
            _keyed(after.lazy().select("row", "measure_id", *compared)).drop("subject_id"),
            on=KEYS,
            how="inner",
            suffix="_after",
            maintain_order="left",
        )
        .filter(pl.col("outcome") != pl.col("outcome_after"))
    )
    page = changed.slice(offset, limit)
    shown = _keyed(after.filter(pl.col("row").is_in(page["row"].implode())))
    worded = with_reasons(
        page.select(KEYS).join(shown, on=KEYS, how="left", maintain_order="left").drop("_subject"),
        run,
        engine_of(evaluators, run),
        lang,
    )
    info = rows_frame(db, run)
    page = page.with_columns(worded["reasons"].alias("reasons_after")).join(
        info, on="row", how="left", maintain_order="left"
    )
    engine = engine_of(evaluators, run)
    items = [
        {
            "row": r["row"],
            "credit_code": r["credit_code"],
            "name": r["name"],
            "region_code": r["region_code"],
            "measure_id": r["measure_id"],
            "subject": {
                "kind": subject_kind(engine, r["measure_id"], r["subject_id"]),
                "id": r["subject_id"],
            },
            "before": r["outcome"],
            "before_label": outcome_label(r["outcome"], lang),
            "after": r["outcome_after"],
            "after_label": outcome_label(r["outcome_after"], lang),
            "benefit_before": r["benefit_amount"] if r["outcome"] == "eligible" else None,
            "benefit_after": r["benefit_amount_after"] if r["outcome_after"] == "eligible" else None,
            "reasons_after": r["reasons_after"] or "",
        }
        for r in page.iter_rows(named=True)
    ]
    before_sums = benefit_sums(before)
    after_sums = benefit_sums(after)
    budget = []
    for mid in sorted(set(before_sums) | set(after_sums) | ({measure} if measure else set())):
        b = before_sums[mid]["eligible"] if mid in before_sums else Decimal(0)
        a = after_sums[mid]["eligible"] if mid in after_sums else Decimal(0)
        budget.append(
            {
                "measure_id": mid,
                "before": format(b, "f"),
                "after": format(a, "f"),
                "difference": format(a - b, "f"),
            }
        )
    flips = (
        changed.group_by("measure_id", "outcome", "outcome_after")
        .len()
        .sort("measure_id", "outcome", "outcome_after")
    )
    diff_total = sum((Decimal(x["difference"]) for x in budget), Decimal(0))
    return {
        "run_id": run.id,
        "baseline_run_id": run.baseline_run_id,
        "status": run.status,
        "overrides": run.overrides,
        "rule_pack_version": run.rule_pack_version,
        "changed": changed.height,
        "transitions": [
            {"measure_id": m, "before": b, "after": a, "count": n} for m, b, a, n in flips.iter_rows()
        ],
        "budget": budget,
        "budget_difference_total": format(diff_total, "f"),
        "unit": "万元",
        "items": items,
        "limit": limit,
        "offset": offset,
    }
