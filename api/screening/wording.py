"""Stored verdicts in words: outcome labels, reasons, criterion labels, the cells of an export.

A stored verdict keeps no words and no figures of the enterprise. Its reasons are rendered from it
by the rule pack that made it (``engine.Population.reasons``: the decisive failures and what they
require, the missing facts, what a reviewer must judge, the benefit expected); a row's full
explanation, with its figures, is rendered when a reviewer opens the row (``results.row_detail``).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import polars as pl

from engine import Engine, path_label
from engine.population import Population
from engine.vocabulary import OUTCOMES, pick

from .models import ScreeningRun
from .work import Evaluators

DECISIONS = {
    "approve": ("同意", "approve"),
    "reject": ("不同意", "reject"),
    "request_info": ("要求补充材料", "request information"),
}

_POPULATIONS: OrderedDict[tuple, Population] = OrderedDict()


def population(engine: Engine, run: ScreeningRun) -> Population:
    """The run's rule pack with its measures and what-if overrides (kept for a few runs)."""
    key = (id(engine), engine.version, tuple(run.measures or ()), json.dumps(run.overrides, sort_keys=True))
    hit = _POPULATIONS.get(key)
    if hit is None or hit.engine is not engine:
        hit = _POPULATIONS[key] = Population(engine, run.measures, run.overrides)
        while len(_POPULATIONS) > 16:
            _POPULATIONS.popitem(last=False)
    return hit


def engine_of(evaluators: Evaluators, run: ScreeningRun) -> Engine | None:
    return evaluators.get(run.rule_pack_version)


def outcome_label(outcome: str, lang: str) -> str:
    return pick(OUTCOMES[outcome], lang) if outcome in OUTCOMES else outcome


def with_reasons(frame: pl.DataFrame, run: ScreeningRun, engine: Engine | None, lang: str) -> pl.DataFrame:
    """The frame with a ``reasons`` column: the stored words of a run stored before verdicts, else
    the words of its verdict (no words when the run's rule pack is not loaded here: its failed
    criteria and missing facts are still named by id)."""
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("reasons"))
    if engine is None:
        fallback = (
            pl.when(pl.col("outcome") == "ineligible")
            .then(pl.col("failed").list.join("；"))
            .when(pl.col("outcome") == "undetermined")
            .then(pl.col("missing_facts").list.join("、"))
            .otherwise(pl.lit(""))
        )
        return frame.with_columns(pl.coalesce(pl.col("words"), fallback).alias("reasons"))
    fresh = frame.filter(pl.col("words").is_null())
    if fresh.height == frame.height:
        return frame.with_columns(population(engine, run).reasons(frame, run.as_of, lang))
    worded = (
        population(engine, run).reasons(fresh, run.as_of, lang)
        if fresh.height
        else pl.Series([], dtype=pl.Utf8)
    )
    fresh_words = iter(worded.to_list())
    words = [w if w is not None else next(fresh_words) for w in frame["words"].to_list()]
    return frame.with_columns(pl.Series("reasons", words, dtype=pl.Utf8))


def missing_labels(paths: list[str] | None, lang: str) -> list[str]:
    return [path_label(p, lang) for p in paths or []]


def criterion_labels(engine: Engine | None, measure_id: str, lang: str) -> dict[str, str]:
    """Every criterion and group of a measure by id → its label."""
    if engine is None:
        return {}
    return engine.node_labels(measure_id, lang)


def measure_title(engine: Engine | None, measure_id: str, lang: str) -> str:
    m = engine.pack.measures.get(measure_id) if engine is not None else None
    return m.title.get(lang) if m is not None else measure_id


def pack_order(engine: Engine | None) -> dict[str, int]:
    """Measures in the catalogue's order: national first, then by id."""
    if engine is None:
        return {}
    ms = engine.pack.measures
    return {m: i for i, m in enumerate(sorted(ms, key=lambda m: (ms[m].issuer != "national", m)))}


def subject_kind(engine: Engine | None, measure_id: str, subject_id: str | None) -> str:
    m = engine.pack.measures.get(measure_id) if engine is not None else None
    if m is not None:
        return m.subject
    return "project" if subject_id else "enterprise"


def cell_text(results: list[dict[str, Any]], decisions: dict[tuple[str, str], Any], lang: str) -> str:
    """One export cell: each subject's outcome and why, and the latest review decision on it."""
    en = lang == "en"
    parts = []
    for r in results:
        text = outcome_label(r["outcome"], lang)
        if r.get("reasons"):
            text += (": " if en else "：") + r["reasons"]
        sid = r.get("subject_id") or ""
        if sid:
            text = (f"project {sid}: " if en else f"项目 {sid}：") + text
        d = decisions.get((r["measure_id"], sid))
        if d is not None:
            word = pick(DECISIONS[d.decision], lang)
            text += f" [review: {word} ({d.reason})]" if en else f"【审核：{word}（{d.reason}）】"
        parts.append(text)
    return "\n".join(parts)
