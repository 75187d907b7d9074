"""A result as the policy officer reads it when a scenario fails.

Everything here is worded from the fields of the engine's *full* explanation (``detail="full"``):
each criterion's label, status, ``explanation`` (actual and required value, gap), ``band`` and
``formula`` (the working: a certificate's window, a size class's bounds, a ratio's sums), ``moot``
(an alternative that cannot change the outcome: 不影响结论, as the pages say), the missing facts,
the benefit. Nothing reaches into the engine: what the explanation does not carry is not shown.

Field paths become the names the officer typed (``fiscal_years[2024].sales_revenue`` → 2024年度营业收入
if that is how the scenario wrote it), and the index paths of a refused profile (``fiscal_years[2]``)
the year they stand for (2024年度).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from engine import path_label

GROUP_WORDS = {"all": "须全部满足", "any": "符合其一即可", "not": "不得满足"}
MOOT = "不影响结论"
_INDEXED = re.compile(r"^(?P<list>fiscal_years|projects)\[(?P<index>\d+)\](?P<rest>(?:\.\w+)*)$")


def field_name(path: str, typed: dict[str, str] | None = None) -> str:
    """How to name a field to the officer: as the scenario wrote it (with the engine's name when that
    differs, since the engine's own sentences use it), else its Chinese label."""
    label = path_label(path, "zh")
    if typed and path in typed and typed[path] != label:
        return f"{typed[path]}（{label}）" if typed[path] != path else path
    return label


def percent(value: Any) -> str | None:
    try:
        number = Decimal(str(value)) * 100
    except (InvalidOperation, ValueError):
        return None
    return f"{number.normalize():f}%"


def _wan_yuan(value: Any) -> str:
    try:
        return f"{Decimal(str(value)).normalize():f}万元"
    except (InvalidOperation, ValueError):
        return str(value)


def benefit_words(b: dict[str, Any]) -> str:
    """'首次认定 · 金额 10万元（暂定参数）：财政资金补助（…）' instead of the benefit's dict."""
    parts = []
    if b.get("tier_label"):
        parts.append(b["tier_label"])
    elif b.get("tier_note"):
        parts.append(f"档次未定（{b['tier_note']}）")
    if b.get("rate") is not None:
        parts.append(f"比例 {percent(b['rate']) or b['rate']}")
    if b.get("base") is not None:
        parts.append(f"基数 {_wan_yuan(b['base'])}")
    if b.get("amount") is not None:
        parts.append(f"金额 {b.get('amount_display') or _wan_yuan(b['amount'])}")
    if b.get("cap") is not None:
        parts.append(f"上限 {_wan_yuan(b['cap'])}")
    head = " · ".join(parts)
    if b.get("provisional"):
        head += "（暂定参数）"
    description = b.get("description") or ""
    return f"{head}：{description}" if head and description else head or description


def _criterion_lines(c: dict[str, Any], indent: str) -> list[str]:
    status = c.get("status_label") or c.get("status")
    mark = f"[{status}，{MOOT}]" if c.get("moot") else f"[{status}]"
    if c.get("kind") != "criterion":
        words = GROUP_WORDS.get(c.get("kind", ""), "")
        if not words or any(w in c["label"] for w in ("其一", "同时满足", "全部", "不得")):
            return [f"{indent}{mark} {c['label']}"]
        return [f"{indent}{mark} {c['label']}（{words}）"]
    text = c.get("explanation") or c["label"]
    gap = c.get("gap_display")
    if gap and gap not in text:
        text += f"，{gap}"
    lines = [f"{indent}{mark} {text}"]
    more = indent + "    "  # the working under its criterion
    if c.get("band"):
        lines.append(f"{more}门槛按 {c['band']} 分档")
    if c.get("formula"):
        lines.append(f"{more}{c['formula']}")
    return lines


def subject_words(r: dict[str, Any]) -> str:
    subject = r.get("subject") or {}
    if subject.get("kind") == "project":
        name = f"（{subject['name']}）" if subject.get("name") else ""
        return f"项目 {subject.get('id')}{name}"
    return "企业"


def headline(r: dict[str, Any]) -> str:
    as_of = f" · 评估日期 {r['as_of']}" if r.get("as_of") else ""
    outcome = r.get("outcome_label") or r.get("outcome")
    return f"{r['title']}（{r['measure_id']}）· {subject_words(r)}{as_of}：{outcome}"


def describe(r: dict[str, Any], typed: dict[str, str] | None = None) -> str:
    """The whole of one result: why the engine decided as it did, criterion by criterion."""
    lines = [headline(r)]
    if r.get("explanation"):
        lines.append(f"  说明：{r['explanation']}")
    for c in r.get("criteria", []):
        depth = c.get("depth", 1)
        if depth == 0 and c.get("kind") == "all":
            continue  # the root "all of the following" says no more than the outcome
        lines += _criterion_lines(c, "  " + "  " * max(depth - 1, 0))
    if r.get("missing_facts"):
        lines.append("  缺少的信息：" + "、".join(field_name(m["path"], typed) for m in r["missing_facts"]))
    formulas = {c.get("formula") for c in r.get("criteria", [])}
    for sid, s in (r.get("scores") or {}).items():
        working = f"（{s['formula']}）" if s.get("formula") and s["formula"] not in formulas else ""
        lines.append(f"  评分 {s.get('label', sid)}：{s.get('total')}分{working}")
    if r.get("benefit"):
        lines.append(f"  优惠：{benefit_words(r['benefit'])}")
    if r.get("not_stackable_with"):
        lines.append("  不可叠加：" + "、".join(r["not_stackable_with"]))
    return "\n".join(lines)


def others(results: list[dict[str, Any]], shown: dict[str, Any] | None) -> str:
    """The results the message did not describe, one line each (each result is printed once)."""
    rest = [r for r in results if r is not shown]
    if not rest:
        return ""
    lines = ['其他评估结果（写 那么"<措施>"的结果为… 可逐项查看）：']
    for r in rest:
        line = f"  {r['title']}（{r['measure_id']}）· {subject_words(r)}：{r.get('outcome_label') or r['outcome']}"
        if r.get("explanation") and r.get("outcome") != "eligible":
            line += f" — {r['explanation']}"
        lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------ a refused profile


def where(field: str, profile: dict[str, Any], typed: dict[str, str] | None = None) -> str:
    """``fiscal_years[2]`` → 2024年度, ``projects[0].category`` → 项目 J1 的项目类别, a path → its name."""
    m = _INDEXED.match(field or "")
    if m:
        items = profile.get(m["list"]) or []
        index = int(m["index"])
        if index < len(items):
            item = items[index]
            key = f"{item.get('year')}" if m["list"] == "fiscal_years" else f"{item.get('id')}"
            path = f"{m['list']}[{key}]{m['rest']}"
            if m["rest"]:
                return field_name(path, typed)
            return f"{key}年度" if m["list"] == "fiscal_years" else f"项目 {key}"
    if field == "projects":
        return "项目"
    if field == "fiscal_years":
        return "年度财务数据"
    return field_name(field, typed) if field else "画像"


def rejection(
    problem: Any,
    profile: dict[str, Any],
    typed: dict[str, str] | None = None,
    example: str | None = None,
    written: set[str] | None = None,
) -> str:
    """Why the profile was refused, each field named as the officer knows it; and, when the scenario
    started from an example, the example's figures that the scenario did not change (a lowered R&D
    total beneath the example's domestic R&D is refused, and the officer never wrote that figure)."""
    if not isinstance(problem, dict) or not problem.get("errors"):
        return f"  {problem.get('detail') or problem.get('title') if isinstance(problem, dict) else problem}"
    lines: list[str] = []
    from_example: dict[str, list[str]] = {}
    for item in problem["errors"]:
        if not isinstance(item, dict):
            lines.append(f"  {item}")
            continue
        field = _profile_field(str(item.get("field") or item.get("loc") or ""))
        lines.append(f"  {where(field, profile, typed)}：{item.get('message') or item.get('msg')}")
        if example is not None:
            untouched = _untouched(field, profile, written or set())
            if untouched:
                from_example[where(field, profile, typed)] = untouched
    for place, values in from_example.items():
        lines.append(f"  其中{place}的这些数据来自示例 {example!r}，本场景没有改写：{'、'.join(values)}")
    if from_example:
        lines.append("  （改写其中的数值，或写 未知，使各项一致）")
    return "\n".join(lines)


def _profile_field(field: str) -> str:
    """The service names a field of the request body (profile.fiscal_years[2]); the engine, of the profile."""
    for prefix in ("body.", "profile."):
        field = field.removeprefix(prefix)
    return field


def _untouched(field: str, profile: dict[str, Any], written: set[str]) -> list[str]:
    """The values of the fiscal year or project an error speaks of that the scenario did not write."""
    m = _INDEXED.match(field or "")
    if not m:
        return []
    items = profile.get(m["list"]) or []
    index = int(m["index"])
    if index >= len(items):
        return []
    item = items[index]
    ident = "year" if m["list"] == "fiscal_years" else "id"
    base = f"{m['list']}[{item.get(ident)}]"
    out = []
    for name, value in item.items():
        path = f"{base}.{name}"
        if name == ident or path in written or isinstance(value, dict | list):
            continue
        out.append(f"{path_label(path, 'zh').removeprefix(f'{item.get(ident)}年度')} {value}")
    return out
