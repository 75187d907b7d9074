"""Compile the rule pack, as in force on one day, into a model both backends evaluate.

A compiled leaf is one criterion with its parameter resolved to the value in force. For the
durable-rules backend each leaf becomes a *failure rule* (the negated comparison) and a
*missing-fact rule*; a criterion that fires neither is met. Measures are packed into rulesets
by dependency stage and subject kind, each ruleset small enough for durable-rules' limits.

Encoding for durable-rules (see ../shared/notes/durable-rules.md): no floats and no date strings
reach it. A number x becomes the integer ``2·⌊x·S⌋ + [x·S is not whole]`` with S a power of ten
per unit; a threshold t with t·S whole becomes ``2·t·S``. The map is strictly increasing and sends
thresholds to even numbers, so ``x op t`` ⇔ ``enc(x) op enc(t)`` for every operator, exactly.
Dates are day numbers, booleans 0/1, strings get an ``s:`` prefix so that "10" never equals 10.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from decimal import Context as DecimalContext
from typing import Any

from . import facts as F
from .loader import MAX_LEAVES_PER_MEASURE, Pack, dependency_order, pack_fact_specs, typed_value
from .schema import DatedValue, Leaf, Measure, Op, Tiered, leaves, walk

SCALE_DIGITS = {"ratio": 12, "wan_yuan": 6, "mu": 6, "points": 6}
DEFAULT_SCALE_DIGITS = 6
CLAMP = 2**61
# durable-rules fails an assert with error 303 once more than 64 rules match one fact (measured:
# 64 failing criteria + the catch-all). A criterion fires at most one failure rule, or two
# missing-fact rules when its threshold is tiered; keep the worst case of a ruleset at 56.
MAX_MATCHES_PER_RULESET = 56


_ENC = DecimalContext(prec=80)
_INT_SCALE = dict.fromkeys(("people", "days", "years", "count"), 10**DEFAULT_SCALE_DIGITS)


class CompileError(Exception):
    pass


@functools.lru_cache(maxsize=4096)
def field_name(path: str) -> str:
    """The durable-rules field name of a fact path: short, because durable-rules parses every
    asserted fact and echoes it whole in every action it fires (a 60-character name costs more than
    the comparison). ``f`` and 40 bits of BLAKE2 of the path in base 32; lint refuses a pack where
    two paths share a name or two names share durable-rules' 32-bit FNV-1 hash."""
    digest = hashlib.blake2b(path.encode(), digest_size=5).digest()
    return "f" + base64.b32encode(digest).decode().lower()


def _encode_text(v: Any) -> str:
    text = "s:" + str(v)
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # nothing to escape (codes, enum values)
    return json.dumps(text, ensure_ascii=False)


def encoder(spec: F.FactSpec) -> Callable[[Any], str]:
    """``encode`` for one fact, specialised once, writing the JSON text of the encoded value."""
    kind = spec.kind
    if kind == "bool":
        return lambda v: "1" if v else "0"
    if kind in ("enum", "str"):
        return _encode_text
    if kind == "date":
        return lambda v: str(2 * v.toordinal())
    if kind == "int" and spec.unit in _INT_SCALE:
        scale = 2 * _INT_SCALE[spec.unit]
        return lambda v: str(min(max(scale * int(v), -CLAMP), CLAMP))
    return lambda v: str(encode(spec, v))


def encode(spec: F.FactSpec, value: Any) -> Any:
    if value is None:
        return None
    kind = spec.kind
    if kind == "bool":
        return 1 if value else 0
    if kind in ("enum", "str"):
        return "s:" + str(value)
    if kind == "date":
        return 2 * value.toordinal()
    if kind == "int" and spec.unit in _INT_SCALE:
        enc = 2 * int(value) * _INT_SCALE[spec.unit]
    else:
        # 80 digits: scaleb rounds to the context's precision, and a 40-digit ratio must keep all
        scaled = Decimal(value).scaleb(SCALE_DIGITS.get(spec.unit, DEFAULT_SCALE_DIGITS), context=_ENC)
        whole = scaled.to_integral_value(rounding=ROUND_FLOOR, context=_ENC)
        enc = 2 * int(whole) + (0 if scaled == whole else 1)
    return -CLAMP if enc < -CLAMP else CLAMP if enc > CLAMP else enc


def encode_threshold(spec: F.FactSpec, value: Any, where: str) -> Any:
    if spec.kind in ("decimal", "int"):
        digits = SCALE_DIGITS.get(spec.unit, DEFAULT_SCALE_DIGITS)
        scaled = Decimal(value).scaleb(digits)
        if scaled != scaled.to_integral_value():
            raise CompileError(f"{where}: threshold {value} has more than {digits} decimal places")
        enc = 2 * int(scaled)
        if abs(enc) >= CLAMP:
            raise CompileError(f"{where}: threshold {value} is too large to compare exactly")
        return enc
    if spec.kind == "date":
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return 2 * day.toordinal()
    return encode(spec, value)


def typed_literal(spec: F.FactSpec, value: Any) -> Any:
    """A criterion's literal in the fact's Python type (for the plain backend and for display)."""
    if isinstance(value, list):
        return [typed_literal(spec, v) for v in value]
    if spec.kind in ("decimal", "int") and not isinstance(value, bool):
        return Decimal(str(value))
    if spec.kind == "date" and not isinstance(value, dt.date):
        return dt.date.fromisoformat(str(value))
    return value


@dataclass(slots=True)
class CompiledLeaf:
    idx: int
    measure_id: str
    node: Leaf
    spec: F.FactSpec | None
    expected: Any = None  # the literal or parameter value in force (typed)
    tiers: list[tuple[Decimal | None, Decimal | None, Any]] | None = None  # (lower excl., upper incl., value)
    by: F.FactSpec | None = None
    param_status: str | None = None  # verified | provisional when from a parameter
    templates: dict[str, dict] = field(
        default_factory=dict
    )  # the static part of its explanation, per language
    explained: dict[tuple, dict] = field(default_factory=dict)  # explanations of values seen before
    parent: str | None = None  # the id of the group it sits in (None at the top)
    depth: int = 0  # how deep in the criteria tree
    unmet_name: str = ""  # the failure rule's name: u<idx>
    missing_name: str = ""  # the missing-fact rule's name: m<idx>
    manual: bool = False  # judged by a person (operator manual)

    def __post_init__(self) -> None:
        self.unmet_name = f"u{self.idx}"
        self.missing_name = f"m{self.idx}"
        self.manual = self.node.op is Op.manual

    @property
    def unmet_rule(self) -> str:
        return self.unmet_name

    @property
    def missing_rule(self) -> str:
        return self.missing_name

    def expected_for(self, by_value: Any) -> Any:
        """The threshold that applies: for tiered parameters, the band picked by ``by_value``."""
        if self.tiers is None:
            return self.expected
        for lower, upper, value in self.tiers:
            if (lower is None or by_value > lower) and (upper is None or by_value <= upper):
                return value
        raise AssertionError("tiers cover every value")


@dataclass
class CompiledMeasure:
    measure: Measure
    leaves: list[CompiledLeaf]
    params: dict[str, Any]  # name -> typed value in force
    param_status: dict[str, str]
    stage: int
    unavailable: str | None = None  # why it cannot be evaluated on this day (a parameter has no value)
    plan: list | None = None  # the criteria tree flattened for judging (engine/evaluate.py)
    tree: list | None = None  # the criteria tree in reading order, for explaining (engine/evaluate.py)
    rows: dict[tuple, dict] = field(default_factory=dict)  # its groups' explanations by status and language
    heads: dict[str, dict] = field(default_factory=dict)  # the static part of its results, per language
    judge: Any = None  # its criteria tree as generated code (engine/evaluate.py _judge_code)
    # the nodes whose status decides the outcome, by the statuses of all nodes (engine/evaluate.py)
    decisive: dict[tuple, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)  # and moot

    @functools.cached_property
    def outcome_path(self) -> str:
        return F.measure_fact_path(self.measure.id)

    @property
    def id(self) -> str:
        return self.measure.id

    @functools.cached_property
    def leaf_by_id(self) -> dict[str, CompiledLeaf]:
        return {cl.node.id: cl for cl in self.leaves}

    def in_force(self, day: dt.date) -> bool:
        return self.unavailable is None and self.measure.effective.contains(day)


@dataclass
class RuleGroup:
    """Measures of one stage and subject kind evaluated by one durable-rules ruleset."""

    name: str
    stage: int
    subject: str
    measure_ids: list[str]
    leaves: list[CompiledLeaf]
    fact_paths: list[str]  # every fact a subject fact must carry for this group
    definition: dict[str, Any] = field(default_factory=dict)
    scored: list[str] = field(default_factory=list)  # measures of the group that define scores


@dataclass
class CompiledPack:
    pack: Pack
    key: tuple
    as_of_epoch: dt.date
    measures: dict[str, CompiledMeasure]
    stages: list[list[str]]
    groups: list[RuleGroup]
    leaves: list[CompiledLeaf]
    specs: dict[str, F.FactSpec]
    pack_params: dict[str, Any]
    overrides: dict[str, Any]
    exclusive_with: dict[str, list[str]] = field(default_factory=dict)
    day_plans: dict[tuple, Any] = field(default_factory=dict)  # engine/evaluate.py _day_plan

    @property
    def version(self) -> str:
        if not self.overrides:
            return self.pack.version
        return self.pack.version + "+override"


_names = itertools.count(1)


def _negated(fname: str, op: Op, enc: Any) -> dict:
    if op is Op.gte:
        return {"$lt": {fname: enc}}
    if op is Op.gt:
        return {"$lte": {fname: enc}}
    if op is Op.lte:
        return {"$gt": {fname: enc}}
    if op is Op.lt:
        return {"$gte": {fname: enc}}
    if op is Op.eq:
        return {"$neq": {fname: enc}}
    if op is Op.ne:
        return {fname: enc}
    if op is Op.in_:
        conds = [{"$neq": {fname: e}} for e in enc]
        return conds[0] if len(conds) == 1 else {"$and": conds}
    if op is Op.not_in:
        conds = [{fname: e} for e in enc]
        return conds[0] if len(conds) == 1 else {"$or": conds}
    raise CompileError(f"operator {op} has no failure rule")


def max_matches(leaf: CompiledLeaf) -> int:
    """How many of this criterion's rules can match one fact at once."""
    if leaf.node.op is Op.manual:
        return 0
    return 2 if leaf.tiers is not None else 1


def _missing(fname: str) -> dict:
    # anchored on t=1: the session's own state document (sid, id, $s) lacks every field and
    # would otherwise match each $nex condition
    return {"$and": [{"t": 1}, {"$nex": {fname: 1}}]}


def _durable_rules(leaf: CompiledLeaf) -> dict[str, Any]:
    node = leaf.node
    if node.op is Op.manual:
        return {}
    spec = leaf.spec
    assert spec is not None
    fname = field_name(spec.path)
    where = f"{leaf.measure_id}/{node.id}"

    def enc_expected(value: Any) -> Any:
        if isinstance(value, list):
            return [encode_threshold(spec, v, where) for v in value]
        return encode_threshold(spec, value, where)

    rules: dict[str, Any] = {}
    if leaf.tiers is None:
        rules[leaf.unmet_rule] = {"all": [{"m": _negated(fname, node.op, enc_expected(leaf.expected))}]}
        rules[leaf.missing_rule] = {"all": [{"m": _missing(fname)}]}
        return rules
    by = leaf.by
    assert by is not None
    bname = field_name(by.path)
    for k, (lower, upper, value) in enumerate(leaf.tiers):
        band = []
        if lower is not None:
            band.append({"$gt": {bname: encode_threshold(by, lower, where)}})
        if upper is not None:
            band.append({"$lte": {bname: encode_threshold(by, upper, where)}})
        conds = [*band, _negated(fname, node.op, enc_expected(value))]
        rules[f"{leaf.unmet_rule}_{k}"] = {"all": [{"m": {"$and": conds} if len(conds) > 1 else conds[0]}]}
    rules[leaf.missing_rule] = {"all": [{"m": _missing(fname)}]}
    rules[leaf.missing_rule + "_by"] = {"all": [{"m": _missing(bname)}]}
    return rules


def _positions(root: Any) -> dict[str, tuple[str | None, int]]:
    """Every node's parent id and depth in a criteria tree."""
    return {n.id: (parents[-1].id if parents else None, len(parents)) for n, parents in walk(root)}


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
            cl = CompiledLeaf(next(idx), mid, node, spec)
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
        measures[mid] = CompiledMeasure(m, cleaves, params, status, stage_of[mid], unavailable)
        all_leaves += cleaves

    groups: list[RuleGroup] = []
    for stage, ids in enumerate(stages):
        for subject in ("enterprise", "project"):
            current: list[str] = []
            count = 0
            batches: list[list[str]] = []
            for mid in ids:
                cm = measures[mid]
                if cm.measure.subject != subject or cm.unavailable:
                    continue
                if len(cm.leaves) > MAX_LEAVES_PER_MEASURE:
                    raise CompileError(f"{mid}: {len(cm.leaves)} criteria exceed {MAX_LEAVES_PER_MEASURE}")
                n = sum(max_matches(cl) for cl in cm.leaves)
                if current and count + n + 1 > MAX_MATCHES_PER_RULESET:
                    batches.append(current)
                    current, count = [], 0
                current.append(mid)
                count += n
            if current:
                batches.append(current)
            for batch in batches:
                gleaves = [cl for mid in batch for cl in measures[mid].leaves]
                paths: dict[str, None] = {}
                definition: dict[str, Any] = {}
                for cl in gleaves:
                    if cl.spec is not None:
                        paths.setdefault(cl.spec.path)
                    if cl.by is not None:
                        paths.setdefault(cl.by.path)
                    definition.update(_durable_rules(cl))
                definition["z_catch_all"] = {"all": [{"m": {"t": 1}}]}
                scored = [mid for mid in batch if measures[mid].measure.scores]
                groups.append(
                    RuleGroup(
                        f"huiqi_{next(_names)}",
                        stage,
                        subject,
                        batch,
                        gleaves,
                        list(paths),
                        definition,
                        scored,
                    )
                )

    exclusive: dict[str, set[str]] = {}
    for mid, m in pack.measures.items():
        for other in m.excludes:
            exclusive.setdefault(mid, set()).add(other)
            exclusive.setdefault(other, set()).add(mid)
    epoch = as_of
    return CompiledPack(
        pack,
        tuple(key_parts),
        epoch,
        measures,
        stages,
        groups,
        all_leaves,
        specs,
        pack.params_on(as_of),
        overrides,
        {k: sorted(v) for k, v in exclusive.items()},
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


def is_nan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)
