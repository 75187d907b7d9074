"""Backends evaluate the criteria of a rule group for a list of subjects and report, per subject, the
indices of the criteria that are **unmet**. A criterion whose fact is unknown is not sent (the judge
knows it is unknown); one reported by no backend is met.

Invariants every backend keeps: the answer depends only on the facts given (never on what was
evaluated before), every subject asked about gets an answer, and a backend that cannot answer
raises ``EngineError`` rather than return a verdict it did not reach.

``python`` compares the typed values exactly (``Decimal``, dates, enums) in code generated per
group; ``durable`` is the durable-rules backend (``engine/durable.py``). A hypothesis property
holds the two equal.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from .compile import RuleGroup
from .durable import DurableBackend
from .facts import FactSpec, Unknown
from .schema import Op

Subject = tuple[str, dict[str, Any]]  # (subject key, facts by path)
LintProblem = tuple[str | None, tuple, str]  # (measure id or None, location in its file, reason)


class Backend(Protocol):
    name: str

    def run(self, group: RuleGroup, subjects: list[Subject]) -> dict[str, set[int]]: ...

    def release(self, group: RuleGroup) -> None: ...

    def lint(self, specs: dict[str, FactSpec], measures: dict[str, Any]) -> list[LintProblem]: ...


_OPS = {Op.eq: "==", Op.ne: "!=", Op.gt: ">", Op.gte: ">=", Op.lt: "<", Op.lte: "<=", Op.in_: "in", Op.not_in: "not in"}


def _unmet_code(group: RuleGroup) -> Any:
    """The group's comparisons as one generated function of (facts) → the unmet criteria."""
    lines = ["def unmet(facts):", "    out = set()"]
    env: dict[str, Any] = {"Unknown": Unknown}
    for cl in group.leaves:
        if cl.manual:
            continue
        op = _OPS[cl.node.op]
        lines.append(f"    v = facts[{cl.spec.path!r}]")
        if cl.tiers is None:
            env[f"e{cl.idx}"] = cl.expected
            lines += [
                f"    if type(v) is not Unknown and not (v {op} e{cl.idx}):",
                f"        out.add({cl.idx})",
            ]
            continue
        env[f"L{cl.idx}"] = cl
        lines += [
            f"    b = facts[{cl.by.path!r}]",
            "    if type(v) is not Unknown and type(b) is not Unknown:",
            f"        if not (v {op} L{cl.idx}.expected_for(b)):",
            f"            out.add({cl.idx})",
        ]
    lines.append("    return out")
    exec(compile("\n".join(lines), f"<comparisons {group.name}>", "exec"), env)  # noqa: S102 - our own code
    return env["unmet"]


class PythonBackend:
    name = "python"

    def __init__(self) -> None:
        self._code: dict[str, Any] = {}
        self._lock = threading.Lock()

    def run(self, group: RuleGroup, subjects: list[Subject]) -> dict[str, set[int]]:
        code = self._code.get(group.name)
        if code is None:
            with self._lock:
                code = self._code.setdefault(group.name, _unmet_code(group))
        return {key: code(facts) for key, facts in subjects}

    def release(self, group: RuleGroup) -> None:
        with self._lock:
            self._code.pop(group.name, None)

    def lint(self, specs: dict[str, FactSpec], measures: dict[str, Any]) -> list[LintProblem]:
        return []


_BACKENDS: dict[str, Backend] = {}
_BACKENDS_LOCK = threading.Lock()
NAMES = ("durable", "python")


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


def lint_hooks() -> list[Any]:
    """Every backend's checks of a rule pack: a pack must hold on each of them."""
    return [get_backend(name).lint for name in NAMES]
