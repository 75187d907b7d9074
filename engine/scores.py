"""Scores a measure defines (``scores:`` in its rule file): ``score.<id>`` and ``score.<id>.<part>``.

A part takes points from a table on one fact, or the best of several alternatives (``max_of``:
"whichever scores higher"). Where parts are unknown, the score is known all the same if every
criterion on it decides alike at the lowest and the highest total the unknown parts allow (e.g.
20 + 50 points already reach 60, whatever the IP part scores).

``compute`` gives the values every evaluation needs; ``formulas`` gives, on request, how the
points came about (structured, worded by the renderer) from the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .facts import Env, Formula, Unknown, score_fact_path
from .schema import PointsRow, Score, ScorePart

_ZERO = Decimal(0)


def _points(table: list[PointsRow], value: Any) -> Decimal:
    for row in table:
        if value >= row.at_least:
            return row.points
    return _ZERO


def _part_max(part: ScorePart, params: dict[str, Any]) -> Decimal:
    if part.max_of:
        return max(_part_max(alt, params) for alt in part.max_of)
    return max((r.points for r in params[part.table] or ()), default=_ZERO)


def _points_of(env: Env, part: ScorePart, params: dict[str, Any]) -> tuple[Decimal | None, tuple[str, ...]]:
    """A part's points, or None and the facts missing. A value that cannot be computed although
    nothing is missing (a ratio over zero) scores 0."""
    if part.max_of:
        best: Decimal | None = None
        missing: list[str] = []
        for alt in part.max_of:
            pts, miss = _points_of(env, alt, params)
            if pts is None:
                missing += miss
            elif best is None or pts > best:
                best = pts
        # an unknown alternative could score more, unless the best known one has the most points
        if missing and (best is None or best < _part_max(part, params)):
            return None, tuple(missing)
        return best, ()
    v = env.get(part.fact)
    if type(v) is Unknown:
        return (_ZERO, ()) if v.undefined and not v.missing else (None, v.missing)
    return _points(params[part.table], v), ()


def _score(env: Env, score: Score, params: dict[str, Any], decided_alike: Any) -> tuple[dict[str, Any], dict]:
    """``{path: value}`` of a score and its parts, and what explaining it needs."""
    path = score_fact_path(score.id)
    out: dict[str, Any] = {}
    total = _ZERO
    headroom = _ZERO
    missing: list[str] = []
    for part in score.parts:
        pts, miss = _points_of(env, part, params)
        ppath = f"{path}.{part.id}"
        if pts is None:
            missing += miss
            headroom += _part_max(part, params)
            out[ppath] = Unknown(tuple(miss))
        else:
            total += pts
            out[ppath] = pts
    if not missing or decided_alike(path, total, total + headroom):
        out[path] = total
    else:
        out[path] = Unknown(tuple(dict.fromkeys(missing)))
    return out, {"total": total, "high": total + headroom, "missing": list(dict.fromkeys(missing))}


@dataclass(frozen=True, slots=True)
class ScorePlan:
    """A score as every evaluation computes it: per part the fact and its table (rows as
    (at least, points)), or the alternatives of a ``max_of``, and the most points the part can give."""

    path: str
    parts: tuple[tuple[str, tuple, Decimal], ...]  # (part path, alternatives [(fact, rows)], top)


def plan(score: Score, params: dict[str, Any]) -> ScorePlan:
    path = score_fact_path(score.id)

    def rows(part: ScorePart) -> tuple:
        # no table in force (before the measure was issued): no points; the measure does not apply
        return tuple((r.at_least, r.points) for r in params[part.table] or ())

    parts = []
    for part in score.parts:
        alternatives = part.max_of or [part]
        parts.append((f"{path}.{part.id}", tuple((alt.fact, rows(alt)) for alt in alternatives), _part_max(part, params)))
    return ScorePlan(path, tuple(parts))


def compute(env: Env, plans: tuple[ScorePlan, ...], decided_alike: Any) -> dict[str, Any]:
    """The values of a measure's scores and their parts (every evaluation of such a measure pays
    for this, so it runs on a plan worked out at compile time; ``_score`` is the same reckoning on
    the rule file's terms, for explanations). ``decided_alike(path, low, high)`` says whether every
    criterion on the score decides alike at both totals."""
    out: dict[str, Any] = {}
    get = env.get
    for sp in plans:
        total = headroom = _ZERO
        missing: list[str] = []
        for ppath, alternatives, top in sp.parts:
            best = None
            miss: list[str] = []
            for fact, rows in alternatives:
                v = get(fact)
                if type(v) is Unknown:
                    if v.undefined and not v.missing:
                        pts = _ZERO  # it cannot be computed although nothing is missing: 0 points
                    else:
                        miss += v.missing
                        continue
                else:
                    pts = _ZERO
                    for at_least, points in rows:
                        if v >= at_least:
                            pts = points
                            break
                if best is None or pts > best:
                    best = pts
            # an unknown alternative could score more, unless the best known one has the most points
            if miss and (best is None or best < top):
                missing += miss
                headroom += top
                out[ppath] = Unknown(tuple(miss))
            else:
                total += best
                out[ppath] = best
        if not missing or decided_alike(sp.path, total, total + headroom):
            out[sp.path] = total
        else:
            out[sp.path] = Unknown(tuple(dict.fromkeys(missing)))
    return out


def _note(env: Env, part: ScorePart, params: dict[str, Any]) -> Formula:
    """How a part with known points got them."""
    if part.max_of:
        known = [alt for alt in part.max_of if _points_of(env, alt, params)[0] is not None]
        return Formula("best_of", {"parts": [_note(env, alt, params) for alt in known]})
    v = env.get(part.fact)
    if type(v) is Unknown:  # known points of an unknown value: it cannot be computed, 0 points
        return Formula("points_undefined", {"label": part.label, "reason": v.undefined})
    return Formula("points", {"label": part.label, "value": v, "fact": part.fact, "points": _points(params[part.table], v)})


def formulas(env: Env, scores: list[Score], params: dict[str, Any], decided_alike: Any) -> dict[str, Formula]:
    """How the points of each score and part came about (explanations only)."""
    out: dict[str, Formula] = {}
    for score in scores:
        path = score_fact_path(score.id)
        values, how = _score(env, score, params, decided_alike)
        notes = []
        for part in score.parts:
            ppath = f"{path}.{part.id}"
            if type(values[ppath]) is not Unknown:
                out[ppath] = _note(env, part, params)
                notes.append(out[ppath])
        if type(values[path]) is Unknown:
            continue
        if how["missing"]:
            out[path] = Formula("score_partial", {"parts": notes, **how})
        else:
            out[path] = Formula("score_total", {"parts": notes, "total": how["total"]})
    return out
