"""What changed between two answers about the same input: per measure and subject, the outcome,
the criteria whose status, requirement or value moved, and the benefit.

Both answers may be verdicts (the default answer) or full explanations: only ids, statuses,
machine values and figures are compared. Titles, labels and outcome words come from the current
pack in the reader's language (``label(measure_id, node_id or None)``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine import vocabulary as V

Key = tuple[str, str, str | None]
Label = Callable[[str, str | None], str | None]


def _key(r: dict[str, Any]) -> Key:
    s = r.get("subject") or {}
    return (r["measure_id"], s.get("kind", "enterprise"), s.get("id"))


def _criteria(r: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    if r is None:
        return {}
    return {c["id"]: c for c in r.get("criteria", []) if c.get("id") is not None}


def _benefit_core(b: dict[str, Any] | None) -> Any:
    if not b:
        return None
    return {k: b.get(k) for k in ("kind", "tier", "amount", "rate", "cap", "unit", "provisional")}


def _same(x: Any, y: Any) -> bool:
    """Machine values alike whether written as numbers or as decimal strings (older answers)."""
    return x == y or (x is not None and y is not None and str(x) == str(y))


def compare(
    before: dict[str, Any], after: dict[str, Any], label: Label, include_unchanged: bool = False
) -> list[dict[str, Any]]:
    lang = after.get("lang") or before.get("lang") or "zh"
    b_by = {_key(r): r for r in before.get("results", [])}
    a_by = {_key(r): r for r in after.get("results", [])}
    keys = list(a_by) + [k for k in b_by if k not in a_by]
    out = []
    for k in keys:
        b, a = b_by.get(k), a_by.get(k)
        crit_changes = []
        cb, ca = _criteria(b), _criteria(a)
        for cid in list(ca) + [c for c in cb if c not in ca]:
            x, y = cb.get(cid), ca.get(cid)
            sx, sy = (x or {}).get("status"), (y or {}).get("status")
            ex, ey = (x or {}).get("expected"), (y or {}).get("expected")
            if sx != sy or not _same(ex, ey):
                crit_changes.append(
                    {
                        "id": cid,
                        "label": label(k[0], cid) or (y or x or {}).get("label"),
                        "before": sx,
                        "after": sy,
                        "expected_before": ex,
                        "expected_after": ey,
                        "actual_before": (x or {}).get("actual"),
                        "actual_after": (y or {}).get("actual"),
                    }
                )
        benefit_changed = _benefit_core((b or {}).get("benefit")) != _benefit_core((a or {}).get("benefit"))
        if b is None:
            change = "added"
        elif a is None:
            change = "removed"
        elif b["outcome"] != a["outcome"] or crit_changes or benefit_changed:
            change = "changed"
        else:
            change = "unchanged"
        if change == "unchanged" and not include_unchanged:
            continue
        ref = a or b
        assert ref is not None
        out.append(
            {
                "measure_id": ref["measure_id"],
                "title": label(k[0], None) or ref.get("title"),
                "subject": ref.get("subject") or {"kind": "enterprise"},
                "change": change,
                "before": b["outcome"] if b else None,
                "after": a["outcome"] if a else None,
                "before_label": V.pick(V.OUTCOMES[b["outcome"]], lang) if b else None,
                "after_label": V.pick(V.OUTCOMES[a["outcome"]], lang) if a else None,
                "outcome_changed": (b or {}).get("outcome") != (a or {}).get("outcome"),
                "criteria": crit_changes,
                "benefit_before": (b or {}).get("benefit"),
                "benefit_after": (a or {}).get("benefit"),
            }
        )
    return out
