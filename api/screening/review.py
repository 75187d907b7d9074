"""Review: a reviewer's decision on one application and measure, appended, never changed."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.vocabulary import OUTCOMES, pick

from .. import audit
from ..db import take_write_gate, utcnow
from ..errors import Conflict, Invalid, NotFound
from ..principal import Principal
from .models import ReviewDecision, ScreeningRow, ScreeningRun
from .store import row_results, source_of
from .wording import DECISIONS, outcome_label

# an automatic outcome a reviewer may approve only with an override reason
NOT_ELIGIBLE = ("ineligible", "undetermined", "not_applicable")


def decision_public(d: ReviewDecision, lang: str) -> dict[str, Any]:
    return {
        "id": d.id,
        "run_id": d.run_id,
        "row": d.row_no,
        "measure_id": d.measure_id,
        "subject_id": d.subject_id or None,
        "decision": d.decision,
        "decision_label": pick(DECISIONS[d.decision], lang),
        "reason": d.reason,
        "override_reason": d.override_reason,
        "automatic_outcome": d.automatic_outcome,
        "automatic_outcome_label": outcome_label(d.automatic_outcome, lang),
        "is_override": is_override(d.decision, d.automatic_outcome),
        "rule_pack_version": d.rule_pack_version,
        "benefit_amount": d.benefit_amount,
        "decided_by": d.decided_by_name,
        "decided_at": d.decided_at,
    }


def is_override(decision: str, outcome: str) -> bool:
    return (decision == "approve" and outcome in NOT_ELIGIBLE) or (
        decision == "reject" and outcome == "eligible"
    )


def _stored_result(
    db: Session, run: ScreeningRun, row_no: int, measure_id: str, subject_id: str
) -> dict | None:
    hit = row_results(db, run, row_no).filter(
        (pl.col("measure_id") == measure_id) & (pl.col("subject_id").fill_null("") == subject_id)
    )
    return hit.row(0, named=True) if hit.height else None


def decide(
    db: Session,
    principal: Principal,
    run: ScreeningRun,
    row_no: int,
    measure_id: str,
    subject_id: str,
    decision: str,
    reason: str,
    override_reason: str | None,
) -> ReviewDecision:
    if run.kind != "applications":
        raise Conflict("只能对申报筛查做审核决定", "decisions are made on application screenings only")
    # the decision this one supersedes (the audit entry's "before") is read under a lock on the
    # application's row: FOR UPDATE on PostgreSQL, the write gate on SQLite; concurrent decisions on
    # the same application then follow one another, each seeing the one before
    take_write_gate(db)
    db.scalar(
        select(ScreeningRow.row_no)
        .where(ScreeningRow.run_id == source_of(run), ScreeningRow.row_no == row_no)
        .with_for_update()
    )
    result = _stored_result(db, run, row_no, measure_id, subject_id)
    if result is None:
        project = f"（项目 {subject_id}）" if subject_id else ""
        raise NotFound(
            f"第 {row_no} 行没有措施 {measure_id}{project} 的筛查结果",
            f"row {row_no} has no result for {measure_id}{' (project ' + subject_id + ')' if subject_id else ''}",
        )
    outcome = result["outcome"]
    override_reason = (override_reason or "").strip() or None
    if decision == "approve" and outcome in NOT_ELIGIBLE and not override_reason:
        word = pick(OUTCOMES[outcome], "zh")
        raise Invalid(
            f"自动结论为“{word}”，同意须填写改判理由（override_reason）",
            f"the automatic outcome is {outcome}: approving it needs an override_reason",
            [
                {
                    "field": "override_reason",
                    "location": "body",
                    "message": "推翻自动结论须说明理由 / overriding the automatic outcome needs a reason",
                    "value": None,
                }
            ],
        )
    previous = db.scalar(
        select(ReviewDecision)
        .where(
            ReviewDecision.run_id == run.id,
            ReviewDecision.row_no == row_no,
            ReviewDecision.measure_id == measure_id,
            ReviewDecision.subject_id == subject_id,
        )
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    )
    d = ReviewDecision(
        run_id=run.id,
        row_no=row_no,
        measure_id=measure_id,
        subject_id=subject_id,
        decision=decision,
        reason=reason,
        override_reason=override_reason,
        automatic_outcome=outcome,
        rule_pack_version=run.rule_pack_version,
        benefit_amount=result["benefit_amount"],
        decided_by=principal.user_id,
        decided_by_name=principal.username,
        decided_at=utcnow(),
    )
    db.add(d)
    db.flush()
    target = f"{run.id}/{row_no}/{measure_id}" + (f"/{subject_id}" if subject_id else "")
    before = {
        "automatic_outcome": outcome,
        "decision": previous.decision if previous else None,
        "reason": previous.reason if previous else None,
    }
    after = {"decision": decision, "reason": reason, "override_reason": override_reason, "decision_id": d.id}
    audit.record(db, principal, "review.decision", "review", target, before=before, after=after)
    if is_override(decision, outcome):
        audit.record(db, principal, "review.override", "review", target, before=before, after=after)
    db.commit()
    return d


def list_decisions(
    db: Session, run: ScreeningRun, limit: int, offset: int
) -> tuple[list[ReviewDecision], int]:
    conds = [ReviewDecision.run_id == run.id]
    total = db.scalar(select(func.count()).select_from(ReviewDecision).where(*conds)) or 0
    rows = db.scalars(
        select(ReviewDecision).where(*conds).order_by(ReviewDecision.id).limit(limit).offset(offset)
    )
    return list(rows), total
