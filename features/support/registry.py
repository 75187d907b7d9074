"""The catalogue of generic steps: the sentences a scenario may use, in Chinese and in English.

Each step is written once as a template that people read (``评估日期为 "{日期}"``) and compiled
to the regular expression pytest-bdd matches. Quotes may be ASCII ("…") or Chinese (“…”, 「…」);
spaces around quotes and a trailing colon (: or ：) are optional. The same catalogue produces the
message of a step that matches nothing, and the list in docs/writing-scenarios.md.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

OPEN = '"“「『'
# a quoted text closes with the quote it opened with, so that "科技型企业“白名单”与科技增信" keeps its inner quotes
QUOTED = '(?:"[^"]*"|“[^”]*”|「[^」]*」|『[^』]*』)'
_PLACEHOLDER = re.compile(r'"\{(?P<name>\w+)(?P<many>\.\.\.)?\}"')
_LIST_SEP = r"\s*(?:[、,，/;；]|和|及|与|以及|and)?\s*"


def _compile(template: str) -> str:
    """'按 "{measures...}" 评估' → a regex with named groups; see the module docstring."""
    out = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        out.append(_literal(template[pos : m.start()]))
        name = m["name"]
        if m["many"]:
            out.append(rf"\s*(?P<{name}>{QUOTED}(?:{_LIST_SEP}{QUOTED})*)\s*")
        else:
            out.append(rf"\s*(?P<{name}>{QUOTED})\s*")
        pos = m.end()
    out.append(_literal(template[pos:]))
    return "".join(out)


def _literal(text: str) -> str:
    colon = text.endswith(":")
    if colon:
        text = text[:-1]
    parts = [re.escape(p) for p in re.split(r"\s+", text)]
    regex = r"\s*".join(parts)
    regex = regex.replace("，", "[，,]?\\s*").replace("的", "的?")
    return regex + (r"\s*[:：]?" if colon else "")


def unquote(text: str) -> str:
    """'"A"' → 'A' (the regex keeps the quotes, so that each kind closes its own)."""
    return text[1:-1] if len(text) >= 2 and text[0] in OPEN else text


def quoted_items(text: str) -> list[str]:
    """The quoted names of a list placeholder: '"A"、"B"' → ['A', 'B']."""
    return [unquote(q) for q in re.findall(QUOTED, text)]


def placeholders(template: str) -> list[tuple[str, bool]]:
    """(name, is_list) of each placeholder of a template."""
    return [(m["name"], bool(m["many"])) for m in _PLACEHOLDER.finditer(template)]


@dataclass
class StepDef:
    keyword: str  # the keyword the guide suggests: 假如 / 当 / 那么 (any keyword works)
    zh: list[str]
    en: list[str]
    help: str
    table: str | None = None  # what the step's table holds, when it takes one
    patterns: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.patterns = [_compile(t) for t in (*self.zh, *self.en)]

    def matches(self, text: str) -> bool:
        return any(re.fullmatch(p, text) for p in self.patterns)


STEPS: list[StepDef] = []

EN_KEYWORD = {"假如": "Given", "当": "When", "那么": "Then"}


def define(keyword: str, zh: list[str], en: list[str], help: str, table: str | None = None) -> StepDef:
    sd = StepDef(keyword, zh, en, help, table)
    STEPS.append(sd)
    return sd


def listing(lang: str = "both") -> str:
    lines = []
    for sd in STEPS:
        zh = f"{sd.keyword}{sd.zh[0]}" + ("  ＋表格" if sd.table else "")
        en = f"{EN_KEYWORD[sd.keyword]} {sd.en[0]}"
        if lang == "zh":
            lines.append(f"  {zh}")
        else:
            lines.append(f"  {zh}\n      {en}")
    return "\n".join(lines)


def sentence(keyword: str, text: str) -> str:
    """A step as written: 那么结果为… / Then the outcome is… (English keywords take a space)."""
    keyword = keyword.strip()
    return f"{keyword} {text}" if keyword[-1:].isascii() and keyword[-1:].isalpha() else f"{keyword}{text}"


def not_found_message(step_text: str, keyword: str, where: str) -> str:
    candidates = [t for sd in STEPS for t in (*sd.zh, *sd.en)]
    plain = re.sub(QUOTED, '"…"', step_text)
    shown = [re.sub(r"\{\w+(\.\.\.)?\}", "…", c) for c in candidates]
    close = difflib.get_close_matches(plain, shown, n=3, cutoff=0.3)
    lines = [
        f"没有与这一步对应的步骤定义 / no step matches: {sentence(keyword, step_text)}",
        f"  位置 / at: {where}",
    ]
    if close:
        lines.append("最接近的写法 / closest: " + "；".join(close))
    lines += [
        "",
        "可用的步骤（引号内换成自己的内容；关键字 假如/当/那么/并且/但是 均可）/ the steps that exist:",
        listing(),
        "",
        "字段、结论用词与示例见 docs/writing-scenarios.md",
    ]
    return "\n".join(lines)
