"""Judging: from the facts of a subject and the criteria a backend found unmet, the status of every
node of a measure's criteria tree, its outcome, which nodes decide it and which are moot, and the
missing facts that leave it undetermined.

Combination is the contract's three-valued one (``combine``). A criterion whose fact is unknown is
``unknown`` — or ``manual_review`` when nothing is missing but the value cannot be computed (a
ratio over zero): a person must judge it. Each measure's tree is generated once, at compile time,
into straight-line code (``judge_code``).
"""

from __future__ import annotations

from typing import Any

from .facts import Reason, Unknown, measure_fact_path
from .schema import Op

OUTCOME_OF_STATUS = {
    "met": "eligible",
    "unmet": "ineligible",
    "unknown": "undetermined",
    "manual_review": "needs_review",
}
NEGATION = {"met": "unmet", "unmet": "met"}  # ``not``: unknown and manual_review stay as they are


def combine(kind: str, statuses: list[str]) -> str:
    """Three-valued combination of the contract: in an all-of group one ``unmet`` makes it unmet;
    otherwise one ``unknown`` makes it unknown; otherwise one ``manual_review``; otherwise met. An
    any-of group is the mirror image (one ``met`` wins); ``not`` swaps met and unmet."""
    if kind == "not":
        s = statuses[0]
        return NEGATION.get(s, s)
    if kind == "all":
        for s in ("unmet", "unknown", "manual_review"):
            if s in statuses:
                return s
        return "met"
    for s in ("met", "unknown", "manual_review"):
        if s in statuses:
            return s
    return "unmet"


def holds(op: Op, actual: Any, expected: Any) -> bool:
    """A criterion's comparison on typed values (Decimal, int, date, bool, str), exactly."""
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


def fails(leaf: Any, facts: dict[str, Any]) -> bool | None:
    """Whether a criterion is unmet by Python's comparison, or None when a fact it needs is unknown
    (the plain-Python backend, and the check that a partly known score decides alike)."""
    if leaf.manual:
        return None
    value = facts[leaf.spec.path]
    if type(value) is Unknown:
        return None
    if leaf.tiers is not None:
        by_value = facts[leaf.by.path]
        if type(by_value) is Unknown:
            return None
        expected = leaf.expected_for(by_value)
    else:
        expected = leaf.expected
    return not holds(leaf.node.op, value, expected)


def missing_status(*values: Any) -> str:
    """The status of a criterion whose fact (or band's fact) is unknown: a person judges a value
    that cannot be computed although nothing is missing; otherwise it is unknown."""
    for v in values:
        if type(v) is Unknown and v.undefined is not None and not v.missing:
            return "manual_review"
    return "unknown"


_COMBINE = {
    # ``combine`` written out for generated code
    "all": '"unmet" if "unmet" in {a} else "unknown" if "unknown" in {a} else '
    '"manual_review" if "manual_review" in {a} else "met"',
    "any": '"met" if "met" in {a} else "unknown" if "unknown" in {a} else '
    '"manual_review" if "manual_review" in {a} else "unmet"',
    "not": "NEGATION.get({a}[0], {a}[0])",
}


def judge_code(cm: Any) -> Any:
    """A measure's criteria tree as one generated function of (facts by path, the indices of the
    criteria a backend found unmet) → (the status of every node in reading order, the top's, the
    fact value of every criterion in the order of the measure's leaves)."""
    lines = ["def judge(facts, unmet):"]
    names: dict[str, str] = {}
    env: dict[str, Any] = {"Unknown": Unknown, "missing_status": missing_status, "NEGATION": NEGATION}
    for i, cl in enumerate(cm.leaves):
        var = names[cl.node.id] = f"s{i}"
        if cl.manual:
            lines.append(f"    {var} = 'manual_review'")
            continue
        lines.append(f"    v = facts[{cl.spec.path!r}]")
        if cl.tiers is not None:
            lines += [
                f"    b = facts[{cl.by.path!r}]",
                "    if type(v) is Unknown or type(b) is Unknown:",
                f"        {var} = missing_status(v, b)",
            ]
        else:
            lines += ["    if type(v) is Unknown:", f"        {var} = missing_status(v)"]
        lines += [
            f"    elif {cl.idx} in unmet:",
            f"        {var} = 'unmet'",
            "    else:",
            f"        {var} = 'met'",
        ]
    top = names.get(cm.measure.criteria.id, "'met'")  # a lone criterion at the top decides alone
    for j, (node_id, kind, children) in enumerate(cm.plan):
        var = names[node_id] = f"g{j}"
        args = "(" + "".join(names[c] + ", " for c in children) + ")"
        lines.append(f"    {var} = " + _COMBINE[kind].format(a=args))
        top = var
    ordered = ", ".join(names[row.node.id] for row in cm.tree)
    actual = ", ".join(f"facts[{cl.spec.path!r}]" if cl.spec is not None else "None" for cl in cm.leaves)
    lines.append(f"    return ({ordered},), {top}, ({actual},)")
    exec(compile("\n".join(lines), f"<judge {cm.id}>", "exec"), env)  # noqa: S102 - our own code
    return env["judge"]


def decisive_nodes(cm: Any, statuses: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """(the decisive nodes, the moot nodes) of one verdict.

    **Decisive**: the nodes whose status is a reason for the outcome — the top, and below a decisive
    group the children whose status made the group's: in an all-of group that failed, its unmet
    criteria; in an any-of group that is met, the alternatives met (an unmet alternative there
    decides nothing); in a group met, unmet, unknown or awaiting review as a whole, the children
    alike. Under a ``not``, the child with the opposite status.

    **Moot**: the nodes that cannot help the measure be met, because a group above them already has
    the status it needs through another child — the other alternatives of an any-of group that is
    met (under a ``not``, of an all-of group that failed, which is what the ``not`` needs). An unmet
    alternative of an any-of group that is still unknown is not moot: meeting it would decide the
    measure."""
    index = cm.node_index
    top = cm.measure.criteria.id
    decisive = {top}
    moot: set[str] = set()
    needs = {top: "met"}  # the status each node needs for the measure to be met
    for node_id, kind, children in reversed(cm.plan):  # parents before children
        status, target = statuses[index[node_id]], needs[node_id]
        decides, is_moot = node_id in decisive, node_id in moot
        if kind == "not":
            want, child_target, reached = NEGATION.get(status, status), NEGATION[target], False
        else:
            want, child_target = status, target
            # one child with the status needed is enough: an any-of group to be met, an all-of
            # group to fail (under a ``not``)
            reached = (kind == "any") == (target == "met") and any(
                statuses[index[c]] == target for c in children
            )
        for child in children:
            cs = statuses[index[child]]
            needs[child] = child_target
            if decides and cs == want:
                decisive.add(child)
            if is_moot or (reached and cs != target):
                moot.add(child)
    return frozenset(decisive), frozenset(moot)


def decisive_missing(cm: Any, statuses: tuple[str, ...], facts: dict[str, Any]) -> tuple[str, ...]:
    """The missing facts whose absence leaves the outcome undetermined: those under unknown nodes
    all the way from the top. An unknown criterion in an any-of group already met, or in an all-of
    group already failed, decides nothing and is not asked for."""
    index = cm.node_index
    leaf_by_id = cm.leaf_by_id
    out: dict[str, None] = {}
    stack = [cm.measure.criteria]  # depth first, in reading order
    while stack:
        node = stack.pop()
        if statuses[index[node.id]] != "unknown":
            continue
        children = getattr(node, "children", None)
        if children is not None:
            stack.extend(reversed(children))
            continue
        cl = leaf_by_id[node.id]
        for spec in (cl.spec, cl.by):
            if spec is not None:
                v = facts[spec.path]
                if type(v) is Unknown:
                    for m in v.missing:
                        out.setdefault(m)
    return tuple(out)


def outcome_fact(cm: Any, outcome: str, missing: tuple[str, ...]) -> Any:
    """A measure's outcome as a fact for the measures that depend on it. Undetermined passes its
    missing facts on (the dependant is undetermined too, naming them); needs-review passes the
    judgment on to a person; the other outcomes are known values."""
    if outcome == "undetermined":
        return Unknown(missing or (measure_fact_path(cm.id),))
    if outcome == "needs_review":
        return Unknown(undefined=Reason("dependency_needs_review", (("measure", cm.id),)))
    return outcome


def decided_alike(cm: Any) -> Any:
    """For a measure's scores: whether every criterion on a score decides alike at its lowest and
    its highest possible total (then the score is known although some parts are not)."""

    users: dict[str, list] = {}
    for cl in cm.leaves:
        if cl.spec is not None and cl.tiers is None:
            users.setdefault(cl.spec.path, []).append(cl)

    def alike(path: str, low: Any, high: Any) -> bool:
        on = users.get(path)
        return bool(on) and all(fails(cl, {path: low}) == fails(cl, {path: high}) for cl in on)

    return alike
