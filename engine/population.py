"""Populations: a table of profiles in, a table of verdicts out, whatever the number of rows.

``Population.verdicts`` is the one function every bulk path calls (``huiqi screen``, screening through
the API, rule-change impact, proactive matching): profiles as a profile table (``engine/table.py``),
verdicts as a verdict table — one row per profile row, measure and subject, in the engine's order:

    row, measure_id, subject_id, subject_name, outcome, statuses, missing_facts, reason,
    benefit_tier, benefit_amount

``statuses`` holds one character per node of the measure's criteria tree in reading order (``m`` met,
``u`` unmet, ``?`` unknown, ``!`` manual review); the decisive and moot flags follow from it
(``flags``). Rows with their own assessment date (an ``as_of`` column) are judged on it, one date at
a time; the others on the date given.

It maps over batches with flat memory (``stream``) and is a plain function of an Arrow table to an
Arrow table (``arrow``), so the same code runs over Parquet partitions on a cluster (docs/screening.md
has a Dask recipe). Profiles that cannot be held in the table's exact columns (a score with more
than six decimal places, say) are judged by the per-profile engine (``from_evaluation``): the same
verdicts, the same table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import polars as pl

from .columnar import _SCHEMA, STATUS_OF_CHAR, ColumnarEvaluator, flags_of
from .compile import CompiledMeasure, CompiledPack
from .evaluate import Engine
from .verdict import BenefitVerdict, Evaluation, Subject, Verdict

VERDICT_COLUMNS = [c for c in _SCHEMA if c not in ("_rank", "subject_index")]
VERDICT_SCHEMA = {c: _SCHEMA[c] for c in VERDICT_COLUMNS}
CHAR_OF_STATUS = {v: k for k, v in STATUS_OF_CHAR.items()}


class Population:
    """The engine's rule pack over populations (one per pack and what-if overrides)."""

    def __init__(self, engine: Engine, measures: Iterable[str] | None = None, overrides: dict | None = None):
        self.engine = engine
        self.measures = list(measures) if measures else None
        self.overrides = overrides or None
        self._evaluators: dict[tuple, ColumnarEvaluator] = {}
        self._flags: dict = {}
        self._packs: dict[dt.date, tuple[Any, CompiledPack]] = {}

    def compiled(self, day: dt.date) -> CompiledPack:
        """The pack compiled for a day under this population's overrides, looked up once per day:
        with overrides the engine writes the pack's key down on every call, and a chunk asks for
        it once per distinct verdict (a reloaded pack is noticed by identity)."""
        hit = self._packs.get(day)
        if hit is None or hit[0] is not self.engine.pack:
            if len(self._packs) > 4096:
                self._packs.clear()
            hit = self._packs[day] = (self.engine.pack, self.engine.compiled(day, self.overrides))
        return hit[1]

    def evaluator(self, as_of: dt.date) -> ColumnarEvaluator:
        cp = self.compiled(as_of)
        key = (id(cp), as_of)
        hit = self._evaluators.get(key)
        if hit is None or hit.cp is not cp:
            if len(self._evaluators) > 64:
                self._evaluators.clear()
            hit = self._evaluators[key] = ColumnarEvaluator(cp, as_of, self.measures)
        return hit

    def verdicts(self, table: pl.DataFrame, as_of: dt.date | None = None) -> pl.DataFrame:
        """The verdict table of a profile table. A row's own ``as_of`` (a column, where present and
        not null) wins over ``as_of``; rows of one date are judged together."""
        if table.height == 0:
            return pl.DataFrame(schema=VERDICT_SCHEMA)
        default = as_of or dt.date.today()
        if "as_of" not in table.columns:
            return self.evaluator(default).evaluate(table)
        days = table.with_columns(pl.col("as_of").fill_null(default).alias("_day"))
        parts = [
            self.evaluator(day).evaluate(group.drop(["as_of", "_day"]))
            for (day,), group in days.group_by("_day", maintain_order=True)
        ]
        out = pl.concat(parts, how="vertical")
        return out.sort("row", maintain_order=True) if len(parts) > 1 else out

    def stream(self, tables: Iterable[pl.DataFrame], as_of: dt.date | None = None) -> Iterator[pl.DataFrame]:
        """Verdict tables batch by batch: memory stays that of one batch."""
        for table in tables:
            yield self.verdicts(table, as_of)

    def arrow(self, table: Any, as_of: dt.date | None = None) -> Any:
        """An Arrow table of profiles to an Arrow table of verdicts (for a distributed engine's map)."""
        return self.verdicts(pl.from_arrow(table), as_of).to_arrow()

    def flags(self, measure_id: str, statuses: str, as_of: dt.date) -> tuple[frozenset[str], frozenset[str]]:
        """The decisive and moot nodes of a verdict row."""
        cm: CompiledMeasure = self.compiled(as_of).measures[measure_id]
        return flags_of(cm, statuses, self._flags)

    def failed(self, verdicts: pl.DataFrame, as_of: dt.date, days: pl.DataFrame | None = None) -> pl.Series:
        """Per verdict row, the criteria that made it ineligible: its decisive unmet criteria and
        ``not`` groups (a group that fails is named by the criteria inside it); an empty list for
        every other outcome. ``days``: ``row`` and ``as_of`` of the rows judged on their own date."""
        df = verdicts.select("row", "measure_id", "statuses", "outcome").with_row_index("_i")
        if days is not None and days.height:
            df = df.join(days.select("row", pl.col("as_of").alias("_day")), on="row", how="left")
            df = df.with_columns(pl.col("_day").fill_null(as_of))
        else:
            df = df.with_columns(pl.lit(as_of, dtype=pl.Date).alias("_day"))
        keys = df.filter(pl.col("outcome") == "ineligible").select("measure_id", "statuses", "_day").unique()
        names = [self._failed(mid, statuses, day) for mid, statuses, day in keys.iter_rows()]
        found = keys.with_columns(pl.Series("_failed", names, dtype=pl.List(pl.Utf8)))
        out = df.join(found, on=["measure_id", "statuses", "_day"], how="left").sort("_i")
        return out["_failed"].fill_null([]).alias("failed")

    def _failed(self, measure_id: str, statuses: str, day: dt.date) -> list[str]:
        cm: CompiledMeasure = self.compiled(day).measures[measure_id]
        key = ("failed", cm, statuses)
        hit = self._flags.get(key)
        if hit is None:
            if len(self._flags) > 100_000:  # a long-lived worker: distinct verdicts are kept, not all
                self._flags.clear()
            decisive, _ = flags_of(cm, statuses, self._flags)
            hit = self._flags[key] = [
                row.node.id
                for row, char in zip(cm.tree, statuses, strict=True)
                if char == "u"
                and row.node.id in decisive
                and (row.leaf is not None or row.node.kind == "not")
            ]
        return hit

    def nodes(self, measure_id: str, statuses: str, as_of: dt.date) -> list[dict[str, Any]]:
        """The criteria and groups of a stored verdict row, as the default answer lists them:
        ``id``, ``kind``, ``status`` and the ``decisive``/``moot`` flags (no figures: a verdict row
        keeps none). Empty when the statuses do not fit the measure's tree."""
        cm: CompiledMeasure = self.compiled(as_of).measures[measure_id]
        if not statuses or len(statuses) != len(cm.tree):
            return []
        decisive, moot = flags_of(cm, statuses, self._flags)
        return [
            {
                "id": row.node.id,
                "kind": "criterion" if row.leaf is not None else row.node.kind,
                "status": STATUS_OF_CHAR[char],
                "decisive": row.node.id in decisive,
                "moot": row.node.id in moot,
            }
            for row, char in zip(cm.tree, statuses, strict=True)
        ]

    def reasons(self, verdicts: pl.DataFrame, as_of: dt.date, lang: str = "zh") -> pl.Series:
        """Per verdict row, why in words (``Engine.reasons``: from the verdict alone), each distinct
        verdict worded once. Rows with an ``as_of`` of their own are worded on it."""
        day = (
            pl.col("as_of").fill_null(as_of) if "as_of" in verdicts.columns else pl.lit(as_of, dtype=pl.Date)
        )
        cols = [
            "measure_id",
            "outcome",
            "statuses",
            "missing_facts",
            "reason",
            "benefit_tier",
            "benefit_amount",
        ]
        df = verdicts.select(*cols, day.alias("_day"))
        key = pl.concat_str(
            [
                pl.col("measure_id"),
                pl.col("outcome"),
                pl.col("statuses").fill_null(""),
                pl.col("missing_facts").list.join("\x1f").fill_null(""),
                pl.col("reason").fill_null(""),
                pl.col("benefit_tier").fill_null(""),
                pl.col("benefit_amount").fill_null(""),
                pl.col("_day").cast(pl.Utf8),
            ],
            separator="\x1e",
        ).alias("_key")
        df = df.with_columns(key)
        keys = df.unique("_key", maintain_order=True)
        words = [self._reasons(r, lang) for r in keys.iter_rows(named=True)]
        found = keys.select("_key", pl.Series("_words", words, dtype=pl.Utf8))
        return (
            df.select("_key")
            .join(found, on="_key", how="left", maintain_order="left")["_words"]
            .alias("reasons")
        )

    def _reasons(self, r: dict[str, Any], lang: str) -> str:
        day = r["_day"]
        cp = self.compiled(day)
        cm = cp.measures.get(r["measure_id"])
        if cm is None:
            return ""
        chars = r["statuses"] or ""
        statuses = tuple(STATUS_OF_CHAR[c] for c in chars) if len(chars) == len(cm.tree) else ()
        b = cm.measure.benefit
        tier, amount = r["benefit_tier"], r["benefit_amount"]
        benefit = (
            BenefitVerdict(
                b.kind,
                b.unit.value if b.unit else None,
                amount=Decimal(amount) if amount else None,
                tier=tier,
            )
            if tier is not None or amount is not None
            else None
        )
        decisive = (
            frozenset(self._failed(cm.id, chars, day))
            if statuses and r["outcome"] == "ineligible"
            else frozenset()
        )
        v = Verdict(
            cm.id,
            Subject(cm.measure.subject),
            r["outcome"],
            day,
            cp.version,
            statuses,
            decisive=decisive,
            missing_facts=tuple(r["missing_facts"] or ()),
            benefit=benefit,
            reason=r["reason"],
        )
        return self.engine.renderer.reasons(v, cp, lang)


def from_evaluation(ev: Evaluation, row: int) -> list[dict[str, Any]]:
    """The per-profile engine's verdicts as rows of a verdict table (for profiles the columnar path
    cannot hold)."""
    out = []
    for v in ev.verdicts:
        b = v.benefit
        out.append(
            {
                "row": row,
                "measure_id": v.measure_id,
                "subject_id": v.subject.id,
                "subject_name": v.subject.name,
                "outcome": v.outcome,
                "statuses": "".join(CHAR_OF_STATUS[s] for s in v.statuses),
                "missing_facts": list(v.missing_facts),
                "reason": v.reason,
                "benefit_tier": b.tier if b else None,
                "benefit_amount": None if b is None or b.amount is None else format(b.amount, "f"),
            }
        )
    return out
