"""A run's report: outcomes per measure, the attrition funnel, districts, the benefit forecast."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.vocabulary import OUTCOMES, pick

from .models import ReviewDecision, ScreeningRun
from .regions import region_name
from .store import collect, results_frame, rows_frame
from .wording import criterion_labels, engine_of, measure_title, pack_order
from .work import Evaluators


def benefit_sums(frame: pl.DataFrame, measure: str | None = None) -> dict[str, dict[str, Decimal]]:
    """Per measure: the benefit amounts of eligible and of needs-review results (exact, in 万元:
    each distinct amount counted, then summed as ``Decimal``)."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"eligible": Decimal(0), "needs_review": Decimal(0)}
    )
    f = frame.lazy().filter(
        pl.col("outcome").is_in(["eligible", "needs_review"]) & pl.col("benefit_amount").is_not_null()
    )
    if measure:
        f = f.filter(pl.col("measure_id") == measure)
    counted = collect(f.group_by("measure_id", "outcome", "benefit_amount").len())
    for mid, outcome, amount, n in counted.iter_rows():
        sums[mid][outcome] += Decimal(amount) * n
    return sums


def approved_sums(db: Session, run_id: str, measure: str | None) -> dict[str, Decimal]:
    """Benefit of the applications whose latest review decision is approve."""
    latest = (
        select(func.max(ReviewDecision.id))
        .where(ReviewDecision.run_id == run_id)
        .group_by(ReviewDecision.row_no, ReviewDecision.measure_id, ReviewDecision.subject_id)
    )
    q = select(ReviewDecision.measure_id, ReviewDecision.benefit_amount).where(
        ReviewDecision.id.in_(latest), ReviewDecision.decision == "approve"
    )
    if measure:
        q = q.where(ReviewDecision.measure_id == measure)
    out: dict[str, Decimal] = defaultdict(Decimal)
    for mid, amount in db.execute(q):
        if amount is not None:
            out[mid] += Decimal(amount)
    return out


def failure_combinations(frame: pl.DataFrame) -> pl.DataFrame:
    """(measure, criteria failed, how many) of the ineligible results. The failed criteria follow
    from the statuses, so results are grouped by their statuses (a string: grouping by the list
    itself costs ~40 times more); results stored before statuses, by their failed list."""
    failing = frame.lazy().select("measure_id", "statuses", "failed").filter(pl.col("failed").list.len() > 0)
    by_statuses = collect(
        failing.filter(pl.col("statuses").is_not_null())
        .group_by("measure_id", "statuses")
        .agg(pl.col("failed").first(), pl.len())
        .select("measure_id", "failed", "len")
    )
    older = collect(failing.filter(pl.col("statuses").is_null()))
    if older.height == 0:
        return by_statuses
    by_list = (
        older.group_by("measure_id", pl.col("failed").list.join(",").alias("_key"))
        .agg(pl.col("failed").first(), pl.len())
        .select("measure_id", "failed", "len")
    )
    return pl.concat([by_statuses, by_list])


def funnel(combos: Counter[frozenset[str]], total: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Greedy attrition funnel: the criterion that excludes most of those still in, then the next."""
    fails: Counter[str] = Counter()
    for combo, n in combos.items():
        for c in combo:
            fails[c] += n
    remaining = dict(combos)
    left = total
    steps = []
    while remaining:
        counts: Counter[str] = Counter()
        for combo, n in remaining.items():
            for c in combo:
                counts[c] += n
        crit, excluded = max(counts.items(), key=lambda kv: (kv[1], -ord(kv[0][0]) if kv[0] else 0, kv[0]))
        remaining = {k: v for k, v in remaining.items() if crit not in k}
        left -= excluded
        steps.append({"criterion": crit, "excluded": excluded, "remaining": left})
    return steps, dict(fails)


def report(
    db: Session, run: ScreeningRun, evaluators: Evaluators, lang: str, measure: str | None
) -> dict[str, Any]:
    engine = engine_of(evaluators, run)
    frame = results_frame(db, run)
    if measure:
        frame = frame.filter(pl.col("measure_id") == measure)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for mid, outcome, n in collect(frame.lazy().group_by("measure_id", "outcome").len()).iter_rows():
        counts[mid][outcome] = n
    applicants = dict(collect(frame.lazy().group_by("measure_id").agg(pl.col("row").n_unique())).iter_rows())
    combos: dict[str, Counter[frozenset[str]]] = defaultdict(Counter)
    for mid, failed, n in failure_combinations(frame).iter_rows():
        combos[mid][frozenset(failed)] += n
    districts: dict[str, dict[str | None, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    regions = rows_frame(db, run).lazy().select("row", "region_code")
    by_region = frame.lazy().select("row", "measure_id", "outcome").join(regions, on="row", how="left")
    for mid, region, outcome, n in collect(
        by_region.group_by("measure_id", "region_code", "outcome").len()
    ).iter_rows():
        districts[mid][region][outcome] = n
    sums = benefit_sums(frame)
    approved = approved_sums(db, run.id, measure)
    order = pack_order(engine)
    measures_out = []
    for mid in sorted(counts, key=lambda m: (order.get(m, 10_000), m)):
        labels = criterion_labels(engine, mid, lang)
        total = sum(counts[mid].values())
        steps, fails = funnel(combos[mid], total)
        for s in steps:
            s["label"] = labels.get(s["criterion"], s["criterion"])
        top = max(fails.items(), key=lambda kv: (kv[1], kv[0])) if fails else None
        measures_out.append(
            {
                "measure_id": mid,
                "title": measure_title(engine, mid, lang),
                "subjects": total,
                "applicants": applicants.get(mid, 0),
                "by_outcome": {
                    o: {"count": counts[mid].get(o, 0), "label": pick(OUTCOMES[o], lang)} for o in OUTCOMES
                },
                "benefit_forecast": {
                    "eligible": format(sums[mid]["eligible"], "f"),
                    "needs_review": format(sums[mid]["needs_review"], "f"),
                    "approved": format(approved.get(mid, Decimal(0)), "f"),
                    "unit": "万元",
                },
                "top_excluding_criterion": (
                    {"criterion": top[0], "label": labels.get(top[0], top[0]), "excluded": top[1]}
                    if top
                    else None
                ),
                "funnel": steps,
                "criteria_failed": [
                    {"criterion": c, "label": labels.get(c, c), "count": n}
                    for c, n in sorted(fails.items(), key=lambda kv: (-kv[1], kv[0]))
                ],
                "by_district": [
                    {
                        "region_code": region,
                        "district": region_name(region, lang),
                        "by_outcome": dict(cnt),
                        "total": sum(cnt.values()),
                    }
                    for region, cnt in sorted(
                        districts[mid].items(), key=lambda kv: (kv[0] is None, kv[0] or "")
                    )
                ],
            }
        )
    total_budget = sum((sums[m]["eligible"] for m in sums), Decimal(0))
    return {
        "run_id": run.id,
        "status": run.status,
        "rule_pack_version": run.rule_pack_version,
        "as_of": run.as_of,
        "rows": run.total_rows,
        "evaluated": run.valid_rows,
        "invalid": run.invalid_rows,
        "benefit_forecast_total": format(total_budget, "f"),
        "measures": measures_out,
    }
