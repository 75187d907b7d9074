"""The verdict: what an evaluation decides, typed, with no words in it.

An ``Evaluation`` holds one ``Verdict`` per measure and subject: the outcome, the status of every
criterion and group of the measure's tree (in the tree's reading order), which of them decide the
outcome (``decisive``) and which cannot change it (``moot``), the machine values a person or a
client needs to check it (actual, expected, gap), the missing facts, the benefit's figures, and
the ``as_of`` and rule pack version that make it reproducible. Display text is rendered from it on
request (``engine/explain.py``); the default answer is its JSON (``to_json``) with a one-line
summary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from .facts import Unknown
from .schema import COMPARISON_OPS, Op

_TEN_PLACES = Decimal("1e-10")


def _decimal_json(v: Decimal) -> str:
    text = format(v, "f")
    point = text.find(".")
    if point >= 0 and len(text) - point > 11:  # a 40-digit quotient: ten places say all there is
        return format(v.quantize(_TEN_PLACES).normalize(), "f")
    return text


def _list_json(v: Any) -> list:
    return [jsonable(x) for x in v]


_AS_IS = {bool: None, str: None, type(None): None}
_JSON_OF = {
    Decimal: _decimal_json,
    int: str,
    dt.date: dt.date.isoformat,
    list: _list_json,
    tuple: _list_json,
    Unknown: lambda v: None,
}


def jsonable(v: Any) -> Any:
    """A machine value for JSON: numbers as decimal strings (a 40-digit quotient to ten places),
    dates ISO, booleans and strings as they are, unknown as null."""
    t = type(v)
    if t in _AS_IS:
        return v
    convert = _JSON_OF.get(t)
    return convert(v) if convert is not None else v


def gap_of(op: Op, unit: str, actual: Any, expected: Any) -> Decimal | None:
    """How far an unmet numeric criterion is from its threshold, in the criterion's unit."""
    if op not in COMPARISON_OPS or isinstance(actual, bool) or not isinstance(actual, Decimal | int):
        return None
    if expected is None or isinstance(expected, list):
        return None
    actual = Decimal(actual)
    return (expected - actual) if op in (Op.gt, Op.gte) else (actual - expected)


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str  # enterprise | project
    id: str | None = None
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.kind == "enterprise":
            return {"kind": "enterprise"}
        if self.id is None:  # a project measure with no project to apply it to
            return {"kind": "project", "id": None}
        return {"kind": "project", "id": self.id, "name": self.name}


ENTERPRISE = Subject("enterprise")


@dataclass(frozen=True, slots=True)
class NodeVerdict:
    """One criterion or group of a verdict."""

    id: str
    kind: str  # criterion | all | any | not
    status: str  # met | unmet | unknown | manual_review
    decisive: bool
    moot: bool
    actual: Any = None  # a criterion's fact value (None when unknown)
    expected: Any = None  # the threshold that applies (a tiered one by its band)
    gap: Decimal | None = None  # unmet and numeric: how far, in the criterion's unit


@dataclass(frozen=True, slots=True)
class BenefitVerdict:
    """What a granted measure gives: its kind and figures (no description: that is the catalogue's)."""

    kind: str
    unit: str | None = None
    amount: Decimal | None = None
    rate: Decimal | None = None
    base: Decimal | None = None
    cap: Decimal | None = None
    tier: str | None = None
    tier_missing: tuple[str, ...] = ()  # the tier cannot be told: these facts are missing
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class ScoreVerdict:
    id: str
    total: Decimal | None
    parts: tuple[tuple[str, Decimal | None], ...]


class Verdict(NamedTuple):
    """One measure's verdict on one subject. Immutable (a named tuple: built on every evaluation
    for every measure, it must cost little to make). The statuses follow the measure's criteria
    tree in reading order; ``Evaluation.nodes`` gives them typed, one ``NodeVerdict`` each."""

    measure_id: str
    subject: Subject
    outcome: str
    as_of: dt.date
    rule_pack_version: str
    statuses: tuple[str, ...] = ()  # every node of the measure's tree, in reading order
    actual: tuple[Any, ...] = ()  # every criterion's fact value (or Unknown), in the order of its leaves
    expected: tuple[Any, ...] = ()  # every criterion's threshold in force
    decisive: frozenset[str] = frozenset()
    moot: frozenset[str] = frozenset()
    missing_facts: tuple[str, ...] = ()  # what leaves it undetermined, in reading order
    benefit: BenefitVerdict | None = None
    not_stackable_with: tuple[str, ...] = ()
    scores: tuple[ScoreVerdict, ...] = ()
    reason: str | None = None  # not applicable: window | no_parameter | no_subject


def nodes_of(v: Verdict, cm: Any) -> tuple[NodeVerdict, ...]:
    """Every criterion and group of a verdict, typed; ``cm`` is the compiled measure it refers to."""
    if not v.statuses:
        return ()
    out = []
    i = 0
    for row, status in zip(cm.tree, v.statuses, strict=True):
        node_id = row.node.id
        if row.leaf is None:
            out.append(NodeVerdict(node_id, row.node.kind, status, node_id in v.decisive, node_id in v.moot))
            continue
        actual, expected = v.actual[i], v.expected[i]
        i += 1
        if type(actual) is Unknown:
            actual = None
        gap = gap_of(row.node.op, row.node.unit.value, actual, expected) if status == "unmet" else None
        out.append(
            NodeVerdict(node_id, "criterion", status, node_id in v.decisive, node_id in v.moot, actual, expected, gap)
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class RankedMissing:
    path: str
    decides: int  # how many undetermined outcomes it leaves open
    measures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The verdicts of one profile on one day, and what explaining them needs."""

    credit_code: str
    name: str | None
    as_of: dt.date
    rule_pack_version: str
    backend: str
    verdicts: tuple[Verdict, ...]
    missing_facts: tuple[RankedMissing, ...]
    measures: tuple[str, ...] | None = None  # the measures asked for (None: all)
    # the validated input and the facts derived from it, kept for rendering explanations
    profile: Any = field(default=None, compare=False, repr=False)
    envs: Any = field(default=None, compare=False, repr=False)
    compiled: Any = field(default=None, compare=False, repr=False)

    def verdict(self, measure_id: str, subject_id: str | None = None) -> Verdict:
        for v in self.verdicts:
            if v.measure_id == measure_id and v.subject.id == subject_id:
                return v
        raise KeyError((measure_id, subject_id))

    def nodes(self, v: Verdict) -> tuple[NodeVerdict, ...]:
        """The criteria and groups of one of its verdicts, typed."""
        return nodes_of(v, self.compiled.measures[v.measure_id])


def rank_missing(verdicts: tuple[Verdict, ...] | list[Verdict]) -> tuple[RankedMissing, ...]:
    """Missing facts, the ones that decide the most outcomes first."""
    counts: dict[str, list[str]] = {}
    for v in verdicts:
        if v.outcome == "undetermined":
            for path in v.missing_facts:
                counts.setdefault(path, []).append(v.measure_id)
    ranked = sorted(counts.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return tuple(RankedMissing(p, len(ms), tuple(sorted(set(ms)))) for p, ms in ranked)


def benefit_json(b: BenefitVerdict | None) -> dict[str, Any] | None:
    if b is None:
        return None
    out: dict[str, Any] = {"kind": b.kind, "unit": b.unit}
    for key in ("amount", "rate", "base", "cap"):
        v = getattr(b, key)
        if v is not None:
            out[key] = jsonable(v)
    if b.tier is not None or b.tier_missing:
        out["tier"] = b.tier
    if b.tier_missing:
        out["tier_missing"] = list(b.tier_missing)
    out["provisional"] = b.provisional
    return out


def criteria_code(cm: Any) -> Any:
    """A measure's nodes as the verdict's JSON lists them, as one generated function of (statuses,
    actual values, expected values as JSON, expected values, decisive ids, moot ids): built for
    every default answer, so written out node by node rather than walked."""
    lines = ["def criteria(st, a, ej, e, D, M):"]
    env: dict[str, Any] = {"AS_IS": _AS_IS, "J": jsonable, "gap": gap_of}
    items = []
    for i, (node_id, leaf, op) in enumerate(cm.json_rows):
        var = f"x{i}"
        items.append(var)
        if leaf < 0:
            lines.append(f"    {var} = {{'id': {node_id!r}, 'status': st[{i}]}}")
        else:
            lines += [
                f"    v = a[{leaf}]",
                f"    {var} = {{'id': {node_id!r}, 'status': st[{i}], 'actual': v if type(v) in AS_IS else J(v),"
                f" 'expected': ej[{leaf}]}}",
            ]
            if op in COMPARISON_OPS:
                env[f"op{i}"] = op
                lines += [
                    f"    if st[{i}] == 'unmet':",
                    f"        g = gap(op{i}, '', v, e[{leaf}])",
                    "        if g is not None:",
                    f"            {var}['gap'] = J(g)",
                ]
        lines += [
            f"    if {node_id!r} in D:",
            f"        {var}['decisive'] = True",
            f"    if {node_id!r} in M:",
            f"        {var}['moot'] = True",
        ]
    lines.append(f"    return [{', '.join(items)}]")
    exec(compile("\n".join(lines), f"<verdict json {cm.id}>", "exec"), env)  # noqa: S102 - our own code
    return env["criteria"]


def verdict_json(v: Verdict, cm: Any, summary: str | None = None) -> dict[str, Any]:
    """The verdict as the default answer shows it (``cm``: the compiled measure it refers to;
    ``summary``: its one line in the reader's language)."""
    out: dict[str, Any] = {"measure_id": v.measure_id, "subject": v.subject.to_json(), "outcome": v.outcome}
    if summary is not None:
        out["summary"] = summary
    if v.reason is not None:
        out["reason"] = v.reason
    if v.statuses:
        expected = cm.expected_json if not cm.tiered else tuple(jsonable(e) for e in v.expected)
        criteria = cm.criteria_json(v.statuses, v.actual, expected, v.expected, v.decisive, v.moot)
    else:
        criteria = []
    out["criteria"] = criteria
    out["missing_facts"] = list(v.missing_facts)
    out["benefit"] = benefit_json(v.benefit)
    out["not_stackable_with"] = list(v.not_stackable_with)
    if v.scores:
        out["scores"] = {
            s.id: {"total": jsonable(s.total), "parts": {p: jsonable(x) for p, x in s.parts}} for s in v.scores
        }
    out["as_of"] = v.as_of.isoformat()
    out["rule_pack_version"] = v.rule_pack_version
    return out
