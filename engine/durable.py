"""The durable-rules backend: the criteria of a rule group as a durable-rules ruleset, driven
through its C module.

What durable-rules is and is not safe for (measured; the traps are restated here because the
design rests on them, and in docs/engine.md §6.2 with the measurements):

- its convenient Python host (``durable.lang``) runs timer threads over a session index that is
  never updated on delete: segfaults under threads and lost results. Rulesets are created here
  from JSON and driven through ``durable_rules_engine`` directly;
- an event is consumed by the first rule it fires: the profile is asserted as a **fact** and
  retracted afterwards (an identical fact asserted twice is refused);
- at most 1,024 sessions per ruleset, and deleting one can free an uninitialised pointer: session
  ids come from a pool, one per evaluation in flight, reused, never deleted;
- an interrupted action loop leaves the session leased and the next evaluation silently gets no
  action: the loop is always drained, also when left by an exception; "no action" is an error;
- a fact no rule matches raises an exception and may leave the session unusable: a catch-all
  alternative makes every assert complete an action;
- names are compared by a 32-bit FNV-1 hash only; more than 63 conditions matching one fact at once
  is error 303; ~513 sibling conditions hang ``create_ruleset``; floats in exponent notation are
  refused, NaN reads as null, big integers saturate; dates are compared as strings; ``True == 1``.
  So: field names are checked for collisions when the pack is linted (``lint_pack``), a ruleset
  holds at most ``MAX_MATCHES`` criteria, and every value is sent as an integer (or an ``s:``
  string) whose order is the value's order.

**Failure rules.** Each criterion becomes one rule per way it can fail — its negated comparison,
or one per band of a tiered threshold (the bands exclude each other) — plus a catch-all rule. A
criterion none of whose rules fired is met, or unknown when Python did not send its fact (the judge
knows that without asking: measured, missing-fact rules cost 9 % more C time for nothing). One
``any`` rule per ruleset with ``cap``, which durable-rules answers in a single action, was measured
too: 80 µs of C per evaluation against 43 µs for rules of their own, whose ~30 actions cost less
than the ``any`` rule's matching.

**Encoding.** A number x becomes the integer ``2·⌊x·S⌋ + [x·S is not whole]`` with S a power of ten
per unit; a threshold t with t·S whole becomes ``2·t·S``. The map is strictly increasing and sends
thresholds to even numbers, so ``x op t ⇔ enc(x) op enc(t)`` for every operator, exactly. Dates are
day numbers, booleans 0/1, strings get an ``s:`` prefix so that "10" never equals 10.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Context as DecimalContext
from decimal import Decimal
from typing import Any

import durable_rules_engine as dre

from . import facts as F
from .compile import CompiledLeaf, RuleGroup
from .errors import CompileError, EngineError
from .schema import Group, Leaf, Op, walk

SCALE_DIGITS = {"ratio": 12, "wan_yuan": 6, "mu": 6, "points": 6}
DEFAULT_SCALE_DIGITS = 6
CLAMP = 2**61
# durable-rules fails an assert with error 303 once more than 63 conditions match one fact: a
# criterion's bands exclude each other, so each matches at most once, plus the catch-all
MAX_MATCHES = 56
MAX_SIBLINGS = 64  # 513 distinct sibling conditions hang create_ruleset; stay far below
MAX_IN_VALUES = 64
MAX_FIELDS_PER_FACT = 240  # 252 fields per fact
CATCH_ALL = "z"
_EXACT = DecimalContext(prec=80)


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def field_name(index: int) -> str:
    """The durable-rules name of a ruleset's ``index``-th field: ``f`` and the index in base 36.
    Short, because durable-rules parses every asserted fact and echoes it whole in every action
    (measured: names of nine characters cost 10 % more C time than these). No two of the first
    ``MAX_FIELDS_PER_FACT`` names share durable-rules' 32-bit FNV-1 hash (``lint_pack`` checks)."""
    out = ""
    while True:
        index, digit = divmod(index, 36)
        out = _DIGITS[digit] + out
        if not index:
            return "f" + out


def fnv1_32(text: str) -> int:
    """durable-rules compares names by this hash only (state.c:157)."""
    h = 2166136261
    for b in text.encode("utf-8"):
        h = (h * 16777619) & 0xFFFFFFFF
        h ^= b
    return h


# ------------------------------------------------------------------ encoding


_TEXTS: dict[str, str] = {}


def _encode_text(v: Any) -> str:
    """A string value as durable-rules gets it: ``"s:<value>"`` (so that "10" never equals 10).
    The same few codes and enum values recur in every evaluation: each is written once."""
    hit = _TEXTS.get(v)
    if hit is None:
        text = "s:" + str(v)
        if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
            hit = f'"{text}"'  # nothing to escape (codes, enum values)
        else:
            hit = json.dumps(text, ensure_ascii=False)
        if len(_TEXTS) > 10_000:
            _TEXTS.clear()
        _TEXTS[v] = hit
    return hit


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
    if spec.kind == "bool":
        return 1 if value else 0
    return "s:" + str(value)


# ------------------------------------------------------------------ rules


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
    raise CompileError(f"operator {op} has no failure condition")


def alternatives(leaf: CompiledLeaf, names: dict[str, str]) -> list[tuple[str, dict]]:
    """(name, condition) of each way a criterion can fail: its negated comparison, or one per band
    of a tiered threshold. A manual criterion has none. ``names``: the ruleset's field names."""
    node = leaf.node
    if leaf.manual:
        return []
    spec = leaf.spec
    assert spec is not None
    fname = names[spec.path]
    where = f"{leaf.measure_id}/{node.id}"

    def enc(value: Any) -> Any:
        if isinstance(value, list):
            return [encode_threshold(spec, v, where) for v in value]
        return encode_threshold(spec, value, where)

    if leaf.tiers is None:
        return [(f"u{leaf.idx}", _negated(fname, node.op, enc(leaf.expected)))]
    by = leaf.by
    assert by is not None
    bname = names[by.path]
    out = []
    for k, (lower, upper, value) in enumerate(leaf.tiers):
        conds = []
        if lower is not None:
            conds.append({"$gt": {bname: encode_threshold(by, lower, where)}})
        if upper is not None:
            conds.append({"$lte": {bname: encode_threshold(by, upper, where)}})
        conds.append(_negated(fname, node.op, enc(value)))
        out.append((f"u{leaf.idx}_{k}", {"$and": conds} if len(conds) > 1 else conds[0]))
    return out


@dataclass(frozen=True)
class RulesetPlan:
    """One ruleset: its definition, the criteria it holds, and the facts it reads with their names."""

    definition: dict[str, Any]
    leaves: list[CompiledLeaf]
    fields: list[tuple[str, str, F.FactSpec]]  # (path, field name, spec)


def rulesets(group: RuleGroup) -> list[RulesetPlan]:
    """The group's criteria split into rulesets of at most ``MAX_MATCHES`` criteria (whole
    measures together), each with its failure rules and the catch-all."""
    batches: list[list[CompiledLeaf]] = []
    current: list[CompiledLeaf] = []
    for mid in group.measure_ids:
        leaves = [cl for cl in group.leaves if cl.measure_id == mid and not cl.manual]
        if len(leaves) > MAX_MATCHES:
            raise CompileError(f"{mid}: {len(leaves)} criteria exceed {MAX_MATCHES} in one ruleset")
        if current and len(current) + len(leaves) > MAX_MATCHES:
            batches.append(current)
            current = []
        current += leaves
    if current or not batches:
        batches.append(current)
    out = []
    for leaves in batches:
        specs: dict[str, F.FactSpec] = {}
        for cl in leaves:
            for spec in (cl.spec, cl.by):
                if spec is not None:
                    specs.setdefault(spec.path, spec)
        names = {path: field_name(i) for i, path in enumerate(specs)}
        definition = {name: {"all": [{"m": cond}]} for cl in leaves for name, cond in alternatives(cl, names)}
        definition[CATCH_ALL] = {"all": [{"m": {"t": 1}}]}
        out.append(RulesetPlan(definition, leaves, [(p, names[p], spec) for p, spec in specs.items()]))
    return out


def encoder_code(name: str, fields: list[tuple[str, str, F.FactSpec]]) -> Callable[[list, str], str]:
    """The subjects' facts as durable-rules reads them, as one generated function of (subjects,
    session id) → JSON text: keys the ruleset's short names, values integers or JSON strings,
    unknown values left out."""
    lines = [
        "def encode(subjects, sid):",
        "    docs = []",
        "    for key, facts in subjects:",
        "        parts = ['{\"id\":\"', key, '\",\"sid\":\"', sid, '\",\"t\":1']",
    ]
    env: dict[str, Any] = {"Unknown": F.Unknown, "text": _encode_text, "CLAMP": CLAMP, "EXACT": _EXACT}
    for path, fname, spec in fields:
        head = f',"{fname}":'
        lines += [f"        v = facts[{path!r}]", "        if type(v) is not Unknown:"]
        if spec.kind == "bool":
            lines.append(f"            parts.append({head + '1'!r} if v else {head + '0'!r})")
        elif spec.kind in ("enum", "str"):
            lines.append(f"            parts.append({head!r} + text(v))")
        elif spec.kind == "date":
            lines.append(f"            parts.append({head!r} + str(2 * v.toordinal()))")
        else:
            scale = 10 ** SCALE_DIGITS.get(spec.unit, DEFAULT_SCALE_DIGITS)
            if spec.kind == "int":
                lines.append(f"            e = {2 * scale} * v")
            else:
                # exact: 80 digits hold a 40-digit quotient scaled by 10^12
                digits = SCALE_DIGITS.get(spec.unit, DEFAULT_SCALE_DIGITS)
                lines += [
                    f"            x = v.scaleb({digits}, EXACT)",
                    "            i = int(x)",
                    "            if x == i:",
                    "                e = 2 * i",
                    "            else:",
                    "                e = 2 * (i - 1 if x < 0 else i) + 1  # ⌊x⌋ of a negative amount is below int(x)",
                ]
            lines.append(
                f"            parts.append({head!r} + str(-CLAMP if e < -CLAMP else CLAMP if e > CLAMP else e))"
            )
    lines += ["        parts.append('}')", "        docs.append(''.join(parts))", "    return '[' + ','.join(docs) + ']'"]
    exec(compile("\n".join(lines), f"<encoder {name}>", "exec"), env)  # noqa: S102 - our own code
    return env["encode"]


# ------------------------------------------------------------------ lint hook


def lint_pack(specs: dict[str, F.FactSpec], measures: dict[str, Any]) -> list[tuple[str | None, tuple, str]]:
    """durable-rules' limits, checked before anything is compiled: (measure id or None, location
    in its file, reason) for each problem."""
    problems: list[tuple[str | None, tuple, str]] = []
    for mid, m in measures.items():
        count = 0
        for node, _ in walk(m.criteria):
            if isinstance(node, Group):
                if len(node.children) > MAX_SIBLINGS:
                    problems.append(
                        (
                            mid,
                            ("criteria",),
                            f"group {node.id!r} has {len(node.children)} criteria; at most {MAX_SIBLINGS} siblings"
                            " (durable-rules hangs on wide groups)",
                        )
                    )
                continue
            leaf: Leaf = node
            if leaf.op is not Op.manual:
                count += 1
            if isinstance(leaf.value, list) and len(leaf.value) > MAX_IN_VALUES:
                problems.append(
                    (mid, ("criteria",), f"{leaf.id}: at most {MAX_IN_VALUES} values in a list (durable-rules sibling limit)")
                )
        if count > MAX_MATCHES:
            problems.append(
                (
                    mid,
                    ("criteria",),
                    f"{count} criteria in one measure; at most {MAX_MATCHES} can match one fact together"
                    " (durable-rules error 303)",
                )
            )
    if len(specs) > MAX_FIELDS_PER_FACT:
        problems.append((None, (), f"{len(specs)} facts; durable-rules holds at most 252 fields per fact"))
    # a ruleset names its fields f0, f1, …: none of them may share durable-rules' name hash
    seen: dict[int, str] = {}
    for i in range(min(len(specs), MAX_FIELDS_PER_FACT)):
        name = field_name(i)
        h = fnv1_32(name)
        if h in seen:
            problems.append((None, (), f"fact field names {seen[h]!r} and {name!r} collide in durable-rules' 32-bit hash"))
        seen[h] = name
    return problems


# ------------------------------------------------------------------ the backend


class _SidPool:
    """Session ids, one per evaluation in flight, reused: a ruleset holds at most 1,024 sessions
    (rete.h:40) and deleting a session can free an uninitialised pointer (state.c:930)."""

    MAX = 512

    def __init__(self) -> None:
        self._free: list[str] = []
        self._next = 1
        self._lock = threading.Lock()

    def take(self) -> str:
        with self._lock:
            if self._free:
                return self._free.pop()
            if self._next > self.MAX:
                raise EngineError("too many evaluations in flight (more than 512 session ids)")
            sid = f"s{self._next}"
            self._next += 1
            return sid

    def give(self, sid: str) -> None:
        with self._lock:
            self._free.append(sid)


# An action message is {"<rule>":{"m":{"id": "<subject>", …}}}: the whole fact echoed back.
# Parsing it with json costs more than the match itself; the two names lie at its start.
_MESSAGE = re.compile(r'^\{"([a-z]\d*(?:_\d+)?)":\{"m":\{\s*"id":\s*"([^"]*)"')


class _Ruleset:
    def __init__(self, name: str, plan: RulesetPlan) -> None:
        self.name = name
        self.handle = dre.create_ruleset(name, json.dumps(plan.definition, ensure_ascii=False))
        # every rule's name (a band of a tiered criterion included) → the criterion's index
        self.unmet_of = {rule: int(rule[1:].split("_")[0]) for rule in plan.definition if rule != CATCH_ALL}
        self.encode = encoder_code(name, plan.fields)


class _Handle:
    def __init__(self, group: RuleGroup) -> None:
        self.rulesets = [_Ruleset(f"{group.name}_{i}", plan) for i, plan in enumerate(rulesets(group))]
        self.in_flight = 0
        self.retired = False

    def delete(self) -> None:
        for rs in self.rulesets:
            dre.delete_ruleset(rs.handle)


class DurableBackend:
    name = "durable"

    def __init__(self) -> None:
        self._handles: dict[str, _Handle] = {}
        self._lock = threading.Lock()
        self._sids = _SidPool()

    def lint(self, specs: dict[str, F.FactSpec], measures: dict[str, Any]) -> list[tuple[str | None, tuple, str]]:
        return lint_pack(specs, measures)

    def release(self, group: RuleGroup) -> None:
        """Delete a group's rulesets once no evaluation uses them (swap-then-delete hot reload)."""
        with self._lock:
            h = self._handles.get(group.name)
            if h is None:
                return
            h.retired = True
            if h.in_flight == 0:
                del self._handles[group.name]
                h.delete()

    def run(self, group: RuleGroup, subjects: list[tuple[str, dict[str, Any]]]) -> dict[str, set[int]]:
        with self._lock:
            # taken and counted under one lock, so that a release cannot delete it in between; a
            # retired handle still serves evaluations that began before the swap and is deleted
            # when the last of them finishes
            h = self._handles.get(group.name)
            if h is None:
                h = _Handle(group)
                self._handles[group.name] = h
            h.in_flight += 1
        sid = self._sids.take()
        try:
            out: dict[str, set[int]] = {key: set() for key, _ in subjects}
            for rs in h.rulesets:
                self._run(rs, sid, subjects, out)
            return out
        finally:
            self._sids.give(sid)
            with self._lock:
                h.in_flight -= 1
                if h.retired and h.in_flight == 0 and self._handles.get(group.name) is h:
                    del self._handles[group.name]
                    h.delete()

    def _run(self, rs: _Ruleset, sid: str, subjects: list[tuple[str, dict[str, Any]]], out: dict[str, set[int]]) -> None:
        text = rs.encode(subjects, sid)
        caught: set[str] = set()
        handle = rs.handle
        complete = dre.complete_and_start_action
        unmet_of = rs.unmet_of
        code, state = dre.assert_facts(handle, text)
        drained = False
        try:
            if code != 0:
                raise EngineError(f"durable-rules refused the facts (code {code})")
            result = dre.start_action_for_state(handle, state)
            message = result[1] if result else None
            while message:
                # {"<rule>":{"m":{"id":"<subject>",…}}}: our own compact text echoed back, so the
                # two names are the 2nd and 8th quoted pieces (a regular expression where not)
                bits = message.split('"', 8)
                if len(bits) == 9 and bits[5] == "id":
                    rule, key = bits[1], bits[7]
                else:
                    m = _MESSAGE.match(message)
                    if m is None:
                        raise EngineError(f"durable-rules answered in an unexpected shape: {message[:80]!r}")
                    rule, key = m.groups()
                unmet = out.get(key)
                if unmet is None:
                    raise EngineError(f"rule {rule} fired for an unknown subject {key!r}")
                if rule == CATCH_ALL:
                    caught.add(key)
                else:
                    idx = unmet_of.get(rule)
                    if idx is None:
                        raise EngineError(f"durable-rules fired an unknown rule {rule!r}")
                    unmet.add(idx)
                message = complete(handle, state)
            drained = True  # the last call found nothing pending: the session is free
        finally:
            if not drained:
                # an exception above must not leave the session leased: complete what is pending
                try:
                    while complete(handle, state):
                        pass
                except Exception:  # noqa: BLE001 - nothing was pending
                    pass
            dre.retract_facts(handle, text)
        if len(caught) != len(out):
            missed = sorted(set(out) - caught)
            raise EngineError(f"durable-rules completed no action for {missed}: refusing to guess a verdict")
