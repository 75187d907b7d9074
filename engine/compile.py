"""Compile the rule pack, as in force on one day, into a model every backend evaluates.

A compiled leaf is one criterion with its parameter resolved to the value in force (or, for a
tiered parameter, its bands). A compiled measure carries its criteria tree in the shapes judging
needs: the node ids in reading order, the groups children before parents, and the judge generated
from them (``engine/judge.py``). Measures are grouped by dependency stage and subject kind; each
backend turns a group into what it runs (``engine/durable.py`` into rulesets).

Nothing here depends on a profile, and nothing is filled in later: a compiled pack is immutable
once built, and the engine keeps its caches to itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import facts as F
from .errors import CompileError
from .judge import decided_alike, judge_code
from .loader import Pack, dependency_order, pack_fact_specs, typed_value
from .schema import DatedValue, Group, Leaf, Measure, Op, Tiered, leaves, walk
from .scores import plan as score_plan
from .verdict import criteria_code, jsonable


def typed_literal(spec: F.FactSpec, value: Any) -> Any:
    """A criterion's literal in the fact's Python type (for comparisons and for display)."""
    if isinstance(value, list):
        return [typed_literal(spec, v) for v in value]
    if spec.kind in ("decimal", "int") and not isinstance(value, bool):
        return Decimal(str(value))
    if spec.kind == "date" and not isinstance(value, dt.date):
        return dt.date.fromisoformat(str(value))
    return value


@dataclass(slots=True, eq=False)
class CompiledLeaf:
    idx: int  # unique in the compiled pack
    measure_id: str
    node: Leaf
    spec: F.FactSpec | None
    expected: Any = None  # the literal or parameter value in force (typed)
    tiers: list[tuple[Decimal | None, Decimal | None, Any]] | None = None  # (lower excl., upper incl., value)
    by: F.FactSpec | None = None
    param_status: str | None = None  # verified | provisional | override when from a parameter
    parent: str | None = None  # the id of the group it sits in (None at the top)
    depth: int = 0  # how deep in the criteria tree
    manual: bool = False  # judged by a person (operator manual)

    def expected_for(self, by_value: Any) -> Any:
        """The threshold that applies: for tiered parameters, the band picked by ``by_value``."""
        if self.tiers is None:
            return self.expected
        for lower, upper, value in self.tiers:
            if (lower is None or by_value > lower) and (upper is None or by_value <= upper):
                return value
        raise AssertionError("tiers cover every value")


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One node of a criteria tree in reading order."""

    node: Leaf | Group
    leaf: CompiledLeaf | None  # None for a group
    parent: str | None
    depth: int


@dataclass(eq=False)
class CompiledMeasure:
    measure: Measure
    leaves: list[CompiledLeaf]
    params: dict[str, Any]  # name -> typed value in force
    param_status: dict[str, str]
    stage: int
    unavailable: str | None = None  # why it cannot be evaluated on this day (a parameter has no value)
    # the criteria tree in reading order; ``Verdict.statuses`` follows it
    tree: tuple[TreeRow, ...] = ()
    # the groups, children before parents: (id, kind, child ids)
    plan: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    judge: Any = None  # the criteria tree as generated code (engine/judge.py)
    score_check: Any = None  # whether its criteria decide alike at a partly known score's bounds
    score_plans: tuple = ()  # its scores as every evaluation computes them (engine/scores.py)
    node_index: dict[str, int] = field(default_factory=dict)  # node id -> position in ``tree``
    expected: tuple[Any, ...] = ()  # each criterion's threshold in force (None where tiered)
    tiered: bool = False  # a threshold depends on a band: ``expected`` is worked out per subject
    excludes: tuple[str, ...] = ()  # the measures it cannot be stacked with, either way round
    # the tree as the verdict's JSON walks it: (node id, leaf position or -1, operator)
    json_rows: tuple[tuple[str, int, Any], ...] = ()
    expected_json: tuple[Any, ...] = ()  # ``expected`` as JSON (where not tiered)
    criteria_json: Any = None  # its nodes as the verdict's JSON lists them, generated (engine/verdict.py)
    rank: int = 0  # its place in the order results are reported in
    id: str = ""

    def __post_init__(self) -> None:
        self.id = self.measure.id

    @functools.cached_property
    def outcome_path(self) -> str:
        return F.measure_fact_path(self.measure.id)

    @functools.cached_property
    def leaf_by_id(self) -> dict[str, CompiledLeaf]:
        return {cl.node.id: cl for cl in self.leaves}

    @functools.cached_property
    def depends_on(self) -> tuple[str, ...]:
        """The measures whose outcome a criterion of this one tests."""
        return tuple(
            dict.fromkeys(
                cl.spec.path.split(".")[1]
                for cl in self.leaves
                if cl.spec is not None and cl.spec.path.startswith("measure.")
            )
        )

    def in_force(self, day: dt.date) -> bool:
        return self.unavailable is None and self.measure.effective.contains(day)


@dataclass(eq=False)
class RuleGroup:
    """The measures of one dependency stage and subject kind, evaluated together by a backend."""

    name: str
    stage: int
    subject: str
    measure_ids: list[str]
    leaves: list[CompiledLeaf]
    fact_paths: list[str]  # every fact the group's criteria read
    scored_measures: list[CompiledMeasure] = field(default_factory=list)  # those that define scores
    facts: Any = None  # an enterprise's facts for the group, generated (engine/facts.py facts_code)


@dataclass(eq=False)
class CompiledPack:
    pack: Pack
    key: tuple
    measures: dict[str, CompiledMeasure]
    stages: list[list[str]]
    groups: list[RuleGroup]
    leaves: list[CompiledLeaf]
    specs: dict[str, F.FactSpec]
    pack_params: dict[str, Any]
    overrides: dict[str, Any]
    exclusive_with: dict[str, list[str]] = field(default_factory=dict)
    # the order results are reported in: national measures first, then by id
    order: dict[str, int] = field(default_factory=dict)

    @property
    def version(self) -> str:
        if not self.overrides:
            return self.pack.version
        return self.pack.version + "+override"


_names = itertools.count(1)


def _positions(root: Any) -> dict[str, tuple[str | None, int]]:
    """Every node's parent id and depth in a criteria tree."""
    return {n.id: (parents[-1].id if parents else None, len(parents)) for n, parents in walk(root)}


def _tree(m: Measure, leaf_by_id: dict[str, CompiledLeaf]) -> tuple[TreeRow, ...]:
    return tuple(
        TreeRow(node, leaf_by_id.get(node.id) if isinstance(node, Leaf) else None, parents[-1].id if parents else None, len(parents))
        for node, parents in walk(m.criteria)
    )


def group_plan(root: Any) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The groups of a criteria tree, children before parents: (id, kind, child ids)."""
    plan: list[tuple[str, str, tuple[str, ...]]] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, visited = stack.pop()
        if not isinstance(node, Group):
            continue
        if visited:
            plan.append((node.id, node.kind, tuple(c.id for c in node.children)))
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(node.children))
    return tuple(plan)


def compile_pack(pack: Pack, as_of: dt.date, overrides: dict[str, Any] | None = None) -> CompiledPack:
    """``overrides`` maps ``"<measure-id>.<parameter>"`` to a value tried instead of the one in force."""
    overrides = dict(overrides or {})
    stages, cycle = dependency_order(pack.measures)
    if cycle:
        raise CompileError(f"dependency cycle: {cycle}")
    specs = {**F.SPECS, **pack_fact_specs(pack.measures)}
    stage_of = {mid: i for i, ids in enumerate(stages) for mid in ids}
    unknown = [
        k
        for k in overrides
        if k.split(".", 1)[0] not in pack.measures
        or k.split(".", 1)[-1] not in pack.measures[k.split(".", 1)[0]].parameters
    ]
    if unknown:
        raise CompileError(f"unknown parameter override(s): {', '.join(unknown)}")

    idx = itertools.count()
    measures: dict[str, CompiledMeasure] = {}
    all_leaves: list[CompiledLeaf] = []
    key_parts: list[Any] = [pack.version]
    for mid in itertools.chain.from_iterable(stages):
        m = pack.measures[mid]
        params: dict[str, Any] = {}
        status: dict[str, str] = {}
        for name, p in m.parameters.items():
            dated = p.value_on(as_of)
            okey = f"{mid}.{name}"
            if okey in overrides:
                params[name] = typed_value(
                    p, DatedValue(value=overrides[okey], reference="override", status="provisional")
                )
                status[name] = "override"
            else:
                params[name] = typed_value(p, dated)
                status[name] = dated.status.value if dated is not None else "absent"
            key_parts.append((mid, name, repr(params[name])))
        cleaves = []
        unavailable = None
        where = _positions(m.criteria)
        for node in leaves(m.criteria):
            spec = specs.get(node.fact) if node.fact else None
            cl = CompiledLeaf(next(idx), mid, node, spec, manual=node.op is Op.manual)
            cl.parent, cl.depth = where[node.id]
            if node.op is not Op.manual:
                assert spec is not None
                if node.param is not None:
                    value = params.get(node.param)
                    cl.param_status = status.get(node.param)
                    if isinstance(value, Tiered):
                        cl.by = specs[value.by]
                        bounds: list[tuple[Decimal | None, Decimal | None, Any]] = []
                        lower = None
                        for t in value.tiers:
                            bounds.append((lower, t.upto, typed_literal(spec, t.value)))
                            lower = t.upto
                        cl.tiers = bounds
                    elif value is None:
                        # not yet in force (or repealed): the measure cannot apply on this day
                        unavailable = f"parameter {node.param!r} has no value on {as_of}"
                    else:
                        cl.expected = typed_literal(spec, value)
                else:
                    cl.expected = typed_literal(spec, node.value)
            cleaves.append(cl)
        cm = CompiledMeasure(m, cleaves, params, status, stage_of[mid], unavailable)
        cm.tree = _tree(m, cm.leaf_by_id)
        cm.node_index = {row.node.id: i for i, row in enumerate(cm.tree)}
        cm.plan = group_plan(m.criteria)
        cm.expected = tuple(cl.expected for cl in cleaves)
        cm.tiered = any(cl.tiers is not None for cl in cleaves)
        cm.expected_json = tuple(jsonable(e) for e in cm.expected)
        positions = {cl.node.id: i for i, cl in enumerate(cleaves)}
        cm.json_rows = tuple(
            (row.node.id, positions.get(row.node.id, -1), row.node.op if row.leaf is not None else None)
            for row in cm.tree
        )
        cm.criteria_json = criteria_code(cm)
        cm.judge = judge_code(cm)
        cm.score_check = decided_alike(cm)
        cm.score_plans = tuple(score_plan(score, params) for score in m.scores)
        measures[mid] = cm
        all_leaves += cleaves

    groups: list[RuleGroup] = []
    for stage, ids in enumerate(stages):
        for subject in ("enterprise", "project"):
            batch = [
                mid for mid in ids if measures[mid].measure.subject == subject and not measures[mid].unavailable
            ]
            if not batch:
                continue
            gleaves = [cl for mid in batch for cl in measures[mid].leaves]
            paths: dict[str, None] = {}
            for cl in gleaves:
                if cl.spec is not None:
                    paths.setdefault(cl.spec.path)
                if cl.by is not None:
                    paths.setdefault(cl.by.path)
            scored = [measures[mid] for mid in batch if measures[mid].measure.scores]
            name = f"huiqi_{next(_names)}"
            group = RuleGroup(name, stage, subject, batch, gleaves, list(paths), scored)
            if subject == "enterprise":
                group.facts = F.facts_code(name, group.fact_paths)
            groups.append(group)

    exclusive: dict[str, set[str]] = {}
    for mid, m in pack.measures.items():
        for other in m.excludes:
            exclusive.setdefault(mid, set()).add(other)
            exclusive.setdefault(other, set()).add(mid)
    ranked = sorted(measures, key=lambda i: (measures[i].measure.issuer != "national", i))
    for i, mid in enumerate(ranked):
        measures[mid].rank = i
        measures[mid].excludes = tuple(sorted(exclusive.get(mid, ())))
    return CompiledPack(
        pack,
        tuple(key_parts),
        measures,
        stages,
        groups,
        all_leaves,
        specs,
        pack.params_on(as_of),
        overrides,
        {k: sorted(v) for k, v in exclusive.items()},
        {mid: i for i, mid in enumerate(ranked)},
    )


def compile_key(pack: Pack, as_of: dt.date, overrides: dict[str, Any] | None = None) -> tuple:
    """What decides the compiled model: the pack version and the parameter values in force."""
    parts: list[Any] = [pack.version]
    for mid in sorted(pack.measures):
        for name, p in sorted(pack.measures[mid].parameters.items()):
            d = p.value_on(as_of)
            parts.append((mid, name, None if d is None else repr(d.value)))
    for name, p in sorted(pack.pack_params.items()):
        d = p.value_on(as_of)
        parts.append(("pack", name, None if d is None else repr(d.value)[:64]))
    if overrides:
        parts.append(tuple(sorted((k, repr(v)) for k, v in overrides.items())))
    return tuple(parts)
