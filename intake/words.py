"""Verdict tables in words: each verdict row's one-line summary (the engine's renderer: the decisive
failures or the missing facts by label), worked out once per distinct verdict — a population of
100,000 has a few thousand — and joined back.

(The engine renders words for one evaluation; this is its counterpart for a verdict table, built on
``Population.flags`` and ``Engine.renderer``.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import polars as pl

from engine import Engine, Subject, Verdict, vocabulary
from engine.population import STATUS_OF_CHAR, Population


def measure_titles(engine: Engine, lang: str) -> dict[str, str]:
    return {mid: m.title.get(lang) for mid, m in engine.pack.measures.items()}


def measure_subjects(engine: Engine) -> dict[str, str]:
    return {mid: m.subject for mid, m in engine.pack.measures.items()}


def outcome_label(outcome: str, lang: str) -> str:
    return vocabulary.pick(vocabulary.OUTCOMES[outcome], lang)


KEYS = [
    "as_of",
    "measure_id",
    "outcome",
    "statuses",
    "missing_facts",
    "reason",
    "subject_id",
    "subject_name",
    "benefit_tier",
    "benefit_amount",
]  # what a verdict's words and JSON depend on


class Worded:
    """Words for verdict tables, batch after batch: each distinct verdict is worded once (its one-line
    summary and its JSON as ``huiqi screen`` writes it) and kept for the batches after (a
    population has a few thousand distinct verdicts)."""

    LIMIT = 200_000

    def __init__(self, population: Population, lang: str) -> None:
        self.population = population
        self.lang = lang
        self.subjects = measure_subjects(population.engine)
        self.labels = {o: outcome_label(o, lang) for o in vocabulary.OUTCOMES}
        self.known: pl.DataFrame | None = None

    def __call__(self, verdicts: pl.DataFrame) -> pl.DataFrame:
        """``verdicts`` (a verdict table with each row's ``as_of``) with ``summary``, ``outcome_label``
        and ``verdict_json``."""
        distinct = verdicts.select(KEYS).unique()
        if self.known is not None and self.known.height + distinct.height > self.LIMIT:
            self.known = None
        new = distinct if self.known is None else distinct.join(self.known, on=KEYS, how="anti", nulls_equal=True)
        if new.height:
            summaries, texts = [], []
            for r in new.iter_rows(named=True):
                summary = _one(
                    self.population,
                    r["as_of"],
                    r["measure_id"],
                    r["outcome"],
                    r["statuses"],
                    tuple(r["missing_facts"] or ()),
                    r["reason"],
                    self.lang,
                )
                summaries.append(summary)
                texts.append(verdict_json(r, summary, self.subjects))
            new = new.with_columns(
                pl.Series("summary", summaries, dtype=pl.Utf8), pl.Series("verdict_json", texts, dtype=pl.Utf8)
            )
            self.known = new if self.known is None else pl.concat([self.known, new], how="vertical")
        assert self.known is not None
        return verdicts.join(self.known, on=KEYS, how="left", maintain_order="left", nulls_equal=True).with_columns(
            pl.col("outcome").replace_strict(self.labels, return_dtype=pl.Utf8).alias("outcome_label")
        )


def verdict_json(r: dict[str, Any], summary: str, subjects: dict[str, str]) -> str:
    """One verdict as ``huiqi screen`` writes it in JSONL: the engine's subject, a reason where not
    applicable, a benefit where granted."""
    kind = subjects[r["measure_id"]]
    subject: dict[str, Any] = {"kind": kind}
    if kind == "project":
        subject["id"] = r["subject_id"]
        if r["subject_id"] is not None:
            subject["name"] = r["subject_name"]
    out: dict[str, Any] = {
        "measure_id": r["measure_id"],
        "subject": subject,
        "outcome": r["outcome"],
        "summary": summary,
        "statuses": r["statuses"],
        "missing_facts": r["missing_facts"] or [],
    }
    if r["reason"] is not None:
        out["reason"] = r["reason"]
    if r["benefit_tier"] is not None or r["benefit_amount"] is not None:
        out["benefit"] = {"tier": r["benefit_tier"], "amount": r["benefit_amount"]}
    return orjson.dumps(out).decode()


def _one(
    population: Population,
    as_of: dt.date,
    mid: str,
    outcome: str,
    statuses: str,
    missing: tuple[str, ...],
    reason: str | None,
    lang: str,
) -> str:
    """The engine's one line for a verdict row (its decisive nodes from its statuses)."""
    engine = population.engine
    cp = engine.compiled(as_of, population.overrides)
    decisive, moot = population.flags(mid, statuses, as_of) if statuses else (frozenset(), frozenset())
    v = Verdict(
        mid,
        Subject("enterprise"),
        outcome,
        as_of,
        cp.version,
        tuple(STATUS_OF_CHAR[c] for c in statuses),
        decisive=decisive,
        moot=moot,
        missing_facts=missing,
        reason=reason,
    )
    return engine.renderer.summary(v, cp, lang)
