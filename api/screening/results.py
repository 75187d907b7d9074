"""A run's results: filtered pages of verdicts, the rows with bad cells, one application in full."""

from __future__ import annotations

import logging
import re
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Options

from ..errors import Invalid, NotFound
from .models import ReviewDecision, ScreeningRow, ScreeningRun
from .regions import region_name
from .review import decision_public
from .store import collect, results_frame, row_results, rows_frame, source_of, stored_profile
from .wording import engine_of, missing_labels, outcome_label, population, subject_kind, with_reasons
from .work import Evaluators

log = logging.getLogger("huiqi.screening")

_CRITERION_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")


def check_criterion(criterion: str) -> None:
    if not _CRITERION_ID.fullmatch(criterion):
        raise Invalid(
            "条件编号格式不对",
            "malformed criterion id",
            [{"field": "criterion", "location": "query", "message": "字母、数字、_ . -", "value": criterion}],
        )


def items_of(
    page: pl.DataFrame, run: ScreeningRun, evaluators: Evaluators, lang: str, rows: pl.DataFrame | None
) -> list[dict[str, Any]]:
    """Verdict rows as the API shows them: with the row's enterprise, the outcome in words, the
    reasons, and the criteria's statuses and flags (``detail``; no figures: a row's explanation is
    rendered when it is opened)."""
    engine = engine_of(evaluators, run)
    page = with_reasons(page, run, engine, lang)
    if rows is not None:
        page = page.join(rows, on="row", how="left", maintain_order="left")
    pop = population(engine, run) if engine is not None else None
    out = []
    for r in page.iter_rows(named=True):
        mid = r["measure_id"]
        day = r["as_of"] or run.as_of
        criteria = (
            pop.nodes(mid, r["statuses"], day) if pop is not None and mid in engine.pack.measures else []
        )
        amount, tier = r["benefit_amount"], r["benefit_tier"]
        region = r.get("region_code")
        out.append(
            {
                "row": r["row"],
                "credit_code": r.get("credit_code"),
                "name": r.get("name"),
                "region_code": region,
                "district": region_name(region, lang),
                "measure_id": mid,
                "subject": {"kind": subject_kind(engine, mid, r["subject_id"]), "id": r["subject_id"]},
                "outcome": r["outcome"],
                "outcome_label": outcome_label(r["outcome"], lang),
                "failed_criteria": list(r["failed"] or []),
                "benefit_amount": amount,
                "benefit_tier": tier,
                "rule_pack_version": run.rule_pack_version,
                "reasons": r["reasons"] or "",
                "detail": {
                    "criteria": criteria,
                    "missing": list(r["missing_facts"] or []),
                    "missing_labels": missing_labels(r["missing_facts"], lang),
                    "benefit": {
                        "tier": tier,
                        "amount": amount,
                        "unit": "万元" if amount is not None else None,
                    }
                    if tier is not None or amount is not None
                    else None,
                    "subject_name": r["subject_name"],
                    "reason": r["reason"],
                },
            }
        )
    return out


def query_results(
    db: Session,
    run: ScreeningRun,
    evaluators: Evaluators,
    lang: str,
    measure: str | None,
    outcome: str | None,
    criterion: str | None,
    region_code: str | None,
    credit_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    # lazily: a filter is not copied whole to count it and take a page of it
    f = results_frame(db, run).lazy()
    rows = rows_frame(db, run)
    if measure:
        f = f.filter(pl.col("measure_id") == measure)
    if outcome:
        f = f.filter(pl.col("outcome") == outcome)
    if criterion:
        check_criterion(criterion)
        f = f.filter(pl.col("failed").list.contains(criterion))
    if region_code or credit_code:
        chosen = rows
        if region_code:
            chosen = chosen.filter(pl.col("region_code") == region_code)
        if credit_code:
            chosen = chosen.filter(pl.col("credit_code") == credit_code)
        f = f.join(chosen.select("row").lazy(), on="row", how="semi", maintain_order="left")
    total = collect(f.select(pl.len())).item()
    return items_of(collect(f.slice(offset, limit)), run, evaluators, lang, rows), total


def list_errors(db: Session, run: ScreeningRun, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    from sqlalchemy import func

    src = source_of(run)
    conds = [ScreeningRow.run_id == src, ScreeningRow.valid.is_(False)]
    total = db.scalar(select(func.count()).select_from(ScreeningRow).where(*conds)) or 0
    rows = db.scalars(
        select(ScreeningRow).where(*conds).order_by(ScreeningRow.row_no).limit(limit).offset(offset)
    )
    return [
        {
            "row": r.row_no,
            "credit_code": r.credit_code,
            "name": r.name,
            "errors": r.errors or [],
            "cells": r.raw or {},
        }
        for r in rows
    ], total


_NOT_RENDERED = {
    "pack": (
        "本次筛查所用的规则包版本未加载，只能显示保存的结论",
        "the rule pack this screening used is not loaded here: only the stored verdict is shown",
    ),
    "differs": (
        "按保存的画像重新评估得出的结论与保存的结论不同，说明未显示",
        "evaluating the stored profile again gives another verdict: no explanation is shown",
    ),
    "failed": ("说明生成失败", "the explanation could not be rendered"),
}


def row_detail(
    db: Session, run: ScreeningRun, evaluators: Evaluators, row_no: int, lang: str
) -> dict[str, Any]:
    """One application: its cells or profile, its verdicts with their full explanation (rendered
    now from the stored profile, by the run's rule pack, on the run's date and overrides, and
    checked against the stored verdicts), and the review decisions on it."""
    src = source_of(run)
    row = db.get(ScreeningRow, (src, row_no))
    if row is None:
        raise NotFound(f"筛查 {run.id} 没有第 {row_no} 行", f"screening {run.id} has no row {row_no}")
    profile = stored_profile(db, run, row)
    stored = row_results(db, run, row_no)
    info = pl.DataFrame(
        [
            {
                "row": row.row_no,
                "credit_code": row.credit_code,
                "name": row.name,
                "region_code": row.region_code,
            }
        ],
        schema={"row": pl.Int64, "credit_code": pl.Utf8, "name": pl.Utf8, "region_code": pl.Utf8},
    )
    results = items_of(stored, run, evaluators, lang, info)
    if results and profile is not None:
        _explain(results, run, evaluators, row, profile, lang)
    decisions = db.scalars(
        select(ReviewDecision)
        .where(ReviewDecision.run_id == run.id, ReviewDecision.row_no == row_no)
        .order_by(ReviewDecision.id)
    ).all()
    return {
        "row": row.row_no,
        "valid": row.valid,
        "credit_code": row.credit_code,
        "name": row.name,
        "region_code": row.region_code,
        "district": region_name(row.region_code, lang),
        "cells": row.raw or {},
        "errors": row.errors or [],
        "evaluation_error": row.eval_error,
        "profile": profile,
        "results": results,
        "decisions": [decision_public(d, lang) for d in decisions],
    }


def _explain(
    results: list[dict[str, Any]],
    run: ScreeningRun,
    evaluators: Evaluators,
    row: ScreeningRow,
    profile: dict[str, Any],
    lang: str,
) -> None:
    engine = engine_of(evaluators, run)
    note = None
    fresh: dict[tuple[str, str | None], dict[str, Any]] = {}
    if engine is None:
        note = "pack"
    else:
        try:
            answer = engine.answer(
                profile, row.as_of or run.as_of, run.measures, Options("full", lang), run.overrides
            )
            fresh = {(r["measure_id"], r["subject"].get("id")): r for r in answer["results"]}
        except Exception:  # noqa: BLE001 - the stored verdicts stand; the words are what failed
            log.exception("row %s of run %s: explanation not rendered", row.row_no, run.id)
            note = "failed"
    for item in results:
        f = fresh.get((item["measure_id"], item["subject"]["id"]))
        if f is None or f["outcome"] != item["outcome"]:
            if f is not None:
                log.warning(
                    "row %s of run %s: %s evaluates otherwise now", row.row_no, run.id, item["measure_id"]
                )
            item["detail"]["note"] = outcome_note(note or "differs", lang)
            continue
        item["detail"].update(
            criteria=f["criteria"],
            benefit=f["benefit"],
            explanation=f.get("explanation"),
            not_stackable_with=f.get("not_stackable_with") or [],
        )
        if f.get("scores"):
            item["detail"]["scores"] = f["scores"]


def outcome_note(key: str, lang: str) -> str:
    zh, en = _NOT_RENDERED[key]
    return en if lang == "en" else zh
