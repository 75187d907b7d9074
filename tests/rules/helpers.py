"""Shared helpers for the boundary tests of the published measures.

Every test builds its profile from tests/examples/*.json (deep-copied by the fixtures of
tests/conftest.py) and changes only what its claim is about. ``AS_OF`` is the examples'
assessment date; the last fiscal year Y is 2024 and the "last three years" are 2022–2024.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from engine import Engine, Options
from tests.conftest import outcome

AS_OF = "2025-06-30"  # Y = 2024


def evaluate(engine, profile: dict, measure: str, as_of: str = AS_OF, lang: str = "zh", **kw: Any) -> dict:
    """Evaluate ``measure`` alone on ``profile``: its full explanation."""
    return engine.answer(profile, as_of, [measure], Options("full", lang), **kw)


def result_of(result: dict, measure: str) -> dict:
    outcome(result, measure)  # fails clearly when the measure is absent
    return next(r for r in result["results"] if r["measure_id"] == measure)


def missing_paths(result: dict, measure: str) -> list[str]:
    return [m["path"] for m in result_of(result, measure)["missing_facts"]]


def fiscal_year(profile: dict, year: int) -> dict:
    return next(fy for fy in profile["fiscal_years"] if fy["year"] == year)


def drop_fiscal_year(profile: dict, year: int) -> None:
    profile["fiscal_years"] = [fy for fy in profile["fiscal_years"] if fy["year"] != year]


NATIONAL = Path(__file__).resolve().parents[2] / "rules" / "national"


def national_engine(engine: Engine, tmp_path: Path) -> Engine:
    """An engine, on the same backend, over the national measures only.

    hte-recognition, tsme-evaluation and rd-super-deduction (31 criteria) then share one ruleset,
    whatever the rest of the pack holds: the engine bug of ``evaluate`` shows deterministically.
    """
    (tmp_path / "national").mkdir()
    for mid in ("hte-recognition", "tsme-evaluation", "rd-super-deduction"):
        shutil.copy(NATIONAL / f"{mid}.yaml", tmp_path / "national" / f"{mid}.yaml")
    return Engine(rules_dir=tmp_path, backend=engine.backend_name)


def share_a_ruleset(engine: Engine, as_of: str, *measures: str) -> bool:
    cp = engine.compiled(dt.date.fromisoformat(as_of))
    return any(set(measures) <= set(g.measure_ids) for g in cp.groups)
