"""Two backends that evaluate the same compiled model and report the same thing: for each subject,
the names of the rules that fired — ``u<i>`` (criterion i is unmet) and ``m<i>`` (a fact it needs is
missing). A criterion that fires neither is met.

The durable-rules backend follows ../shared/notes/durable-rules.md: rulesets built from JSON and
driven through the C module (no ``durable.lang`` host), facts not events, one session id per
concurrent evaluation taken from a pool and reused, the action loop always drained, a catch-all
rule so that every assert completes an action, and "no action" treated as an error.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Protocol

import durable_rules_engine as dre

from . import facts as F
from .compile import CompiledLeaf, RuleGroup, encoder, field_name
from .schema import Op

Subject = tuple[str, dict[str, F.Fact]]  # (subject key, facts by path)


class EngineError(RuntimeError):
    """The rules engine misbehaved: never a verdict, always an error."""


class Backend(Protocol):
    name: str

    def run(self, group: RuleGroup, subjects: list[Subject]) -> dict[str, set[str]]: ...

    def release(self, group: RuleGroup) -> None: ...


def normalise(rule: str) -> str:
    """``u12_2`` (a band of a tiered criterion) → ``u12``; ``m12_by`` → ``m12``."""
    return rule.split("_", 1)[0]


# ------------------------------------------------------------------ plain Python


def _holds(op: Op, actual: Any, expected: Any) -> bool:
    if op is Op.eq:
        return actual == expected
    if op is Op.ne:
        return actual != expected
    if op is Op.gt:
        return actual > expected
    if op is Op.gte:
        return actual >= expected
    if op is Op.lt:
        return actual < expected
    if op is Op.lte:
        return actual <= expected
    if op is Op.in_:
        return actual in expected
    if op is Op.not_in:
        return actual not in expected
    raise ValueError(op)


def leaf_fires(leaf: CompiledLeaf, facts: dict[str, F.Fact]) -> str | None:
    """'u', 'm' or None for one leaf, by Python's exact comparisons on the typed values."""
    if leaf.node.op is Op.manual:
        return None
    assert leaf.spec is not None
    value = facts[leaf.spec.path].value
    if value is None:
        return "m"
    if leaf.tiers is not None:
        assert leaf.by is not None
        by_value = facts[leaf.by.path].value
        if by_value is None:
            return "m"
        expected = leaf.expected_for(by_value)
    else:
        expected = leaf.expected
    return None if _holds(leaf.node.op, value, expected) else "u"


class PythonBackend:
    name = "python"

    def run(self, group: RuleGroup, subjects: list[Subject]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for key, facts in subjects:
            fired = set()
            for leaf in group.leaves:
                hit = leaf_fires(leaf, facts)
                if hit:
                    fired.add(f"{hit}{leaf.idx}")
            out[key] = fired
        return out

    def release(self, group: RuleGroup) -> None:
        pass


# ------------------------------------------------------------------ durable-rules


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


class _Handle:
    def __init__(self, group: RuleGroup) -> None:
        self.handle = dre.create_ruleset(group.name, json.dumps(group.definition, ensure_ascii=False))
        specs = {cl.spec.path: cl.spec for cl in group.leaves if cl.spec is not None}
        specs.update({cl.by.path: cl.by for cl in group.leaves if cl.by is not None})
        # (path, '"<field>":', the encoder writing its value) for every fact the rules read
        self.fields = [(path, f'"{field_name(path)}":', encoder(specs[path])) for path in group.fact_paths]
        self.in_flight = 0
        self.retired = False


class DurableBackend:
    name = "durable"

    def __init__(self) -> None:
        self._handles: dict[str, _Handle] = {}
        self._lock = threading.Lock()
        self._sids = _SidPool()

    def release(self, group: RuleGroup) -> None:
        """Delete a ruleset once no evaluation uses it (swap-then-delete hot reload)."""
        with self._lock:
            h = self._handles.get(group.name)
            if h is None:
                return
            h.retired = True
            if h.in_flight == 0:
                del self._handles[group.name]
                dre.delete_ruleset(h.handle)

    def run(self, group: RuleGroup, subjects: list[Subject]) -> dict[str, set[str]]:
        with self._lock:
            # taken and counted under one lock, so that a release cannot delete it in between;
            # a retired ruleset still serves evaluations that began before the swap and is
            # deleted when the last of them finishes
            h = self._handles.get(group.name)
            if h is None:
                h = _Handle(group)
                self._handles[group.name] = h
            h.in_flight += 1
        sid = self._sids.take()
        try:
            return self._run(h, sid, group, subjects)
        finally:
            self._sids.give(sid)
            with self._lock:
                h.in_flight -= 1
                if h.retired and h.in_flight == 0 and self._handles.get(group.name) is h:
                    del self._handles[group.name]
                    dre.delete_ruleset(h.handle)

    @staticmethod
    def encode(h: _Handle, sid: str, subjects: list[Subject]) -> str:
        """The facts of one call as durable-rules reads them: JSON written directly, keys fixed
        short names, values integers or JSON strings (``make bench`` replays these texts to time
        durable-rules alone)."""
        docs = []
        for key, facts in subjects:
            parts = [f'{{"id":"{key}","sid":"{sid}","t":1']
            for path, name, enc in h.fields:
                v = facts[path].value
                if v is not None:
                    parts.append(name + enc(v))
            docs.append(",".join(parts) + "}")
        return "[" + ",".join(docs) + "]"

    def _run(self, h: _Handle, sid: str, group: RuleGroup, subjects: list[Subject]) -> dict[str, set[str]]:
        text = self.encode(h, sid, subjects)
        out: dict[str, set[str]] = {key: set() for key, _ in subjects}
        caught: set[str] = set()
        handle = h.handle
        complete = dre.complete_and_start_action
        match = _MESSAGE.match
        code, state = dre.assert_facts(handle, text)
        drained = False
        try:
            if code != 0:
                raise EngineError(f"durable-rules refused the facts (code {code})")
            result = dre.start_action_for_state(handle, state)
            message = result[1] if result else None
            while message:
                m = match(message)
                for rule, key in (m.groups(),) if m is not None else _fired(message):
                    fired = out.get(key)
                    if fired is None:
                        raise EngineError(f"rule {rule} fired for an unknown subject {key!r}")
                    if rule == "z_catch_all":
                        caught.add(key)
                    else:
                        fired.add(normalise(rule))
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
        if caught != set(out):
            raise EngineError(
                f"durable-rules completed no action for {sorted(set(out) - caught)}: refusing to guess a verdict"
            )
        return out


# An action message is {"<rule>":{"m":{"id": "<subject>", ...}}}: the whole fact echoed back.
# Parsing it with json costs more than the match itself; the two names lie at its start.
_MESSAGE = re.compile(r'^\{"([^"]+)":\{"m":\{\s*"id":\s*"([^"]*)"')


def _fired(message: str) -> list[tuple[str, str | None]]:
    m = _MESSAGE.match(message)
    if m:
        return [(m.group(1), m.group(2))]
    out = []
    for rule, matched in json.loads(message).items():
        fact = matched.get("m", matched) if isinstance(matched, dict) else None
        out.append((rule, fact.get("id") if isinstance(fact, dict) else None))
    return out


_BACKENDS: dict[str, Backend] = {}
_BACKENDS_LOCK = threading.Lock()


def get_backend(name: str) -> Backend:
    with _BACKENDS_LOCK:
        if name not in _BACKENDS:
            if name == "durable":
                _BACKENDS[name] = DurableBackend()
            elif name == "python":
                _BACKENDS[name] = PythonBackend()
            else:
                raise ValueError(f"unknown backend {name!r} (durable or python)")
        return _BACKENDS[name]
