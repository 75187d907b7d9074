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
from typing import Any

import polars as pl

from .columnar import _SCHEMA, STATUS_OF_CHAR, ColumnarEvaluator, flags_of
from .compile import CompiledMeasure
from .evaluate import Engine
from .verdict import Evaluation

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

    def evaluator(self, as_of: dt.date) -> ColumnarEvaluator:
        cp = self.engine.compiled(as_of, self.overrides)
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
        cm: CompiledMeasure = self.engine.compiled(as_of, self.overrides).measures[measure_id]
        return flags_of(cm, statuses, self._flags)


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
