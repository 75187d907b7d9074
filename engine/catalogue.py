"""The catalogue of measures as people read it: criteria with clauses and quoted text,
parameters with their dated values and status, the effective window.

It is also what a client needs to word a verdict itself (``engine/verdict.py`` gives node ids,
statuses and machine values; this gives, by node id, the label, the operator and unit in words,
the clause, the quote, the remedy and the interpretation; and the words for outcomes and
statuses)."""

from __future__ import annotations

from typing import Any

from .facts import path_label
from .loader import Pack, jsonable, typed_value
from .schema import Group, Measure, walk
from .vocabulary import OP_WORDS, OUTCOMES, STATUSES, UNITS, pick


def _criteria(m: Measure, lang: str) -> list[dict[str, Any]]:
    rows = []
    for node, parents in walk(m.criteria):
        row: dict[str, Any] = {
            "id": node.id,
            "parent": parents[-1].id if parents else None,
            "depth": len(parents),
            "label": node.label.get(lang),
            "clause": node.clause,
            "quote": node.quote,
        }
        if isinstance(node, Group):
            row["kind"] = node.kind
        else:
            row.update(
                kind="criterion",
                fact=node.fact,
                fact_label=path_label(node.fact, lang) if node.fact else None,
                op=node.op.value,
                op_label=pick(OP_WORDS[node.op.value], lang),
                value=jsonable(node.value),
                param=node.param,
                unit=node.unit.value,
                unit_label=pick(UNITS[node.unit.value], lang) if node.unit.value in UNITS else None,
                remedy=node.remedy.get(lang) if node.remedy else None,
                interpretation=node.interpretation,
            )
        rows.append(row)
    return rows


def measure_detail(pack: Pack, m: Measure, lang: str = "zh") -> dict[str, Any]:
    return {
        "id": m.id,
        "title": m.title.get(lang),
        "title_zh": m.title.zh,
        "title_en": m.title.en,
        "issuer": m.issuer,
        "status": m.status,
        "subject": m.subject,
        "summary": m.summary.get(lang),
        "source": m.source.model_dump(mode="json"),
        "effective": {
            "from": m.effective.start.isoformat(),
            "to": m.effective.end.isoformat() if m.effective.end else None,
        },
        "criteria": _criteria(m, lang),
        "benefit": m.benefit.model_dump(mode="json", exclude_none=True)
        | {"description": m.benefit.description.get(lang)},
        "parameters": {
            name: {
                "description": p.description.get(lang),
                "unit": p.unit.value,
                "clause": p.clause,
                "values": [
                    {
                        "since": since.isoformat(),
                        "value": jsonable(typed_value(p, v)),
                        "reference": v.reference,
                        "status": v.status.value,
                        "note": v.note,
                    }
                    for since, v in sorted(p.values.items())
                ],
                "provisional": any(v.status.value == "provisional" for v in p.values.values()),
            }
            for name, p in m.parameters.items()
        },
        "excludes": list(m.excludes),
        "words": words(lang),
        "file": pack.files.get(m.id),
    }


def words(lang: str) -> dict[str, dict[str, str]]:
    """The words of outcomes and statuses in ``lang``: a verdict's codes for people."""
    return {
        "outcomes": {k: pick(v, lang) for k, v in OUTCOMES.items()},
        "statuses": {k: pick(v, lang) for k, v in STATUSES.items()},
    }


def catalogue(pack: Pack, lang: str = "zh") -> list[dict[str, Any]]:
    return [
        measure_detail(pack, pack.measures[mid], lang)
        for mid in sorted(pack.measures, key=lambda i: (pack.measures[i].issuer != "national", i))
    ]
