"""The words a policy officer writes in a scenario, and what they mean to the engine.

Outcomes and criterion statuses are spoken in Chinese (符合, 不满足 …) or English; measures are
named by their Chinese or English title or by their id; criteria by their label or id. Everything
is looked up in the rule pack itself, so a new measure or criterion needs no change here.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from engine.loader import DEFAULT_RULES_DIR, Pack, load_pack
from engine.schema import Group, Leaf, Measure, Op, walk
from engine.vocabulary import OUTCOMES, STATUSES


class ScenarioError(AssertionError):
    """A scenario names something that does not exist (a field, a measure, an outcome word)."""


def norm(text: str) -> str:
    """Compare words as people mean them: full-width and half-width alike, no spaces, no quotes, case-free."""
    text = unicodedata.normalize("NFKC", str(text))
    text = re.sub(r"[\s\"'“”‘’「」『』]", "", text)
    return text.casefold()


def nearest(word: str, candidates: list[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The candidates closest to a word (difflib's ratio), only those as close as the best: a typo of
    销售收入 suggests 销售收入, not also 总收入 and 高新收入."""
    scored = []
    for c in candidates:
        matcher = difflib.SequenceMatcher(None, word, c)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            ratio = matcher.ratio()
            if ratio >= cutoff:
                scored.append((ratio, c))
    if not scored:
        return []
    scored.sort(key=lambda rc: -rc[0])
    best = scored[0][0]
    return [c for ratio, c in scored[:n] if ratio >= best - 0.05]


def _word_table(pairs: dict[str, tuple[str, str]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for key, (zh, en) in pairs.items():
        for word in (key, zh, en):
            table[norm(word)] = key
    return table


OUTCOME_WORDS = _word_table(OUTCOMES)
STATUS_WORDS = _word_table(STATUSES)
# 满足/不满足 are the statuses' own words; officers also say 符合/不符合 of a single condition
STATUS_WORDS.update({norm("符合"): "met", norm("不符合"): "unmet", norm("需人工审核"): "manual_review"})


def outcome_key(word: str) -> str:
    key = OUTCOME_WORDS.get(norm(word))
    if key is None:
        raise ScenarioError(
            f"不认识的结论 {word!r}。可用："
            + " / ".join(zh for zh, _ in OUTCOMES.values())
            + "（或 "
            + " / ".join(en for _, en in OUTCOMES.values())
            + "）"
        )
    return key


def status_key(word: str) -> str:
    key = STATUS_WORDS.get(norm(word))
    if key is None:
        raise ScenarioError(
            f"不认识的条件状态 {word!r}。可用："
            + " / ".join(zh for zh, _ in STATUSES.values())
            + "（或 "
            + " / ".join(en for _, en in STATUSES.values())
            + "）"
        )
    return key


def outcome_word(key: str) -> str:
    return OUTCOMES[key][0]


def status_word(key: str) -> str:
    return STATUSES[key][0]


# ------------------------------------------------------------------ the rule pack


@cache
def pack() -> Pack:
    return load_pack(DEFAULT_RULES_DIR)


def measure_id(name: str) -> str:
    """A measure by id, Chinese title or English title."""
    wanted = norm(name)
    for mid, m in pack().measures.items():
        if wanted in (norm(mid), norm(m.title.zh), norm(m.title.en)):
            return mid
    known = "\n".join(f"  {mid}  {m.title.zh}" for mid, m in sorted(pack().measures.items()))
    raise ScenarioError(f"规则包中没有措施 {name!r}。现有措施（id 与名称均可）：\n{known}")


def measure(mid: str) -> Measure:
    return pack().measures[mid]


@dataclass(frozen=True)
class CriterionRef:
    id: str
    label: str
    kind: str  # criterion | all | any | not
    manual: bool = False


def criteria_of(mid: str) -> list[CriterionRef]:
    out = []
    for node, _ in walk(measure(mid).criteria):
        if isinstance(node, Group):
            out.append(CriterionRef(node.id, node.label.zh, node.kind))
        else:
            assert isinstance(node, Leaf)
            out.append(CriterionRef(node.id, node.label.zh, "criterion", node.op is Op.manual))
    return out


def criterion_id(mid: str, name: str) -> str:
    """A criterion of a measure by its label (Chinese or English) or id."""
    wanted = norm(name)
    for node, _ in walk(measure(mid).criteria):
        if wanted in (norm(node.id), norm(node.label.zh), norm(node.label.en)):
            return node.id
    known = "\n".join(f"  {c.label}（{c.id}）" for c in criteria_of(mid) if c.kind == "criterion")
    raise ScenarioError(f"措施 {mid} 没有条件 {name!r}。它的条件（名称或 id 均可）：\n{known}")


# ------------------------------------------------------------------ values as people write them

_UNIT_SUFFIX = re.compile(r"(万元|元|亩|人|天|年|项|分|个百分点|points?|days?|people|mu)$", re.IGNORECASE)


def as_number(value: Any) -> Decimal | None:
    """'7%' → 0.07, '5,000 万元' → 5000, '3029天' → 3029; None when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    text = _UNIT_SUFFIX.sub("", text)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return number / 100 if percent else number


def same_value(written: str, *actual: Any) -> bool:
    """Whether what the scenario says equals any of the result's renderings of a value."""
    want_number = as_number(written)
    for value in actual:
        if value is None:
            continue
        if want_number is not None and as_number(value) == want_number:
            return True
        if isinstance(value, bool):
            if norm(written) in ({"是", "true", "yes"} if value else {"否", "false", "no"}):
                return True
            continue
        if norm(str(value)) == norm(written):
            return True
    return False
