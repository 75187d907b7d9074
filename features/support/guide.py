"""The parts of docs/writing-scenarios.md that the code decides: the names a field may be written by,
and the figures of the example enterprises a scenario may start from.

Both are generated here and checked by features/test_guide.py, so that the guide lists every synonym
the steps accept (and no name they refuse) and the example figures an officer's scenario inherits.
After changing a name or an example: ``.venv/bin/python -m features.support.guide`` rewrites the two
blocks of the guide between their ``<!-- … -->`` markers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from engine.facts import SPECS
from engine.vocabulary import ENUM_LABELS, FIELD_LABELS, FISCAL_FIELDS, PROJECT_LABELS

from .profiles import EXAMPLE_DIRS, FIELD_ALIASES, FISCAL_ALIASES, ROOT, is_contract_path

GUIDE = ROOT / "docs" / "writing-scenarios.md"
YEAR = 2024  # the year the table's examples are written with
NOTES = {
    "certifications.hte": "写 `无` 表示没有证书",
    "certifications.tsme": "写 `无` 表示未入库",
    "honors.national_sci_award_top3_on": "写 `无` 表示没有",
    "honors.led_standard_on": "写 `无` 表示没有",
    "fiscal_years[2024]": "整年，用于“未提供”",
}


def _cell(names: list[str]) -> str:
    return "、".join(f"`{n}`" for n in dict.fromkeys(names)) or ""


def name_rows() -> list[tuple[str, str, list[str], list[str], str]]:
    """(path, Chinese name, other Chinese names, English names, note) of every field a scenario can set."""
    rows = []
    for path, (zh, en) in FIELD_LABELS.items():
        if not is_contract_path(path):
            continue
        spec = SPECS.get(path)
        aliases = [a for a, target in FIELD_ALIASES.items() if target == path]
        others = ([spec.zh] if spec and spec.zh != zh else []) + [a for a in aliases if not a.isascii()]
        english = [en] + ([spec.en] if spec and spec.en != en else []) + [a for a in aliases if a.isascii()]
        rows.append((path, zh, others, english, NOTES.get(path, "")))
    for name, (_, _, zh, en) in FISCAL_FIELDS.items():
        aliases = [f"{YEAR}年度{a}" for a, target in FISCAL_ALIASES.items() if target == name]
        path = f"fiscal_years[{YEAR}].{name}"
        rows.append((path, f"{YEAR}年度{zh}", aliases, [en], NOTES.get(path, "")))
    rows.append(
        (
            f"fiscal_years[{YEAR}]",
            f"{YEAR}年度财务数据",
            [f"{YEAR}年度数据"],
            [],
            NOTES[f"fiscal_years[{YEAR}]"],
        )
    )
    for name, (zh, en) in PROJECT_LABELS.items():
        spec = SPECS.get(f"project.{name}")
        others = [f"项目 P1 的{zh.removeprefix('项目')}"] if zh.startswith("项目") else []
        if spec and spec.zh != zh:
            others.append(f"项目 P1 的{spec.zh}")
        rows.append((f"projects[P1].{name}", f"项目 P1 的{zh}", others, [en], ""))
    return rows


def names_table() -> str:
    lines = [
        "| 字段路径 | 中文名称 | 也可以写 | English | 说明 |",
        "|---|---|---|---|---|",
    ]
    for path, zh, others, english, note in name_rows():
        lines.append(f"| `{path}` | {zh} | {_cell(others)} | {_cell(english)} | {note} |")
    return "\n".join(lines)


# ------------------------------------------------------------------ the example enterprises


# null is "holds none" for a certificate or an honour's date, "unknown" everywhere else
NONE_HELD = {
    "certifications.hte",
    "certifications.tsme",
    "honors.national_sci_award_top3_on",
    "honors.led_standard_on",
}


def _words(value: Any, path: str = "") -> str:
    if value is None:
        return "无" if path in NONE_HELD else "未知"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, str) and value in ENUM_LABELS:
        return ENUM_LABELS[value][0]
    return str(value)


def _flat(prefix: str, node: dict) -> list[tuple[str, Any]]:
    out = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in FIELD_LABELS:
            out += _flat(f"{path}.", value)
        elif isinstance(value, dict):  # a certificate: its own fields
            out += _flat(f"{path}.", value) if value else [(path, None)]
        else:
            out.append((path, value))
    return out


def example_section(name: str, path: Path) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    profile, as_of = (data["profile"], data.get("as_of")) if "profile" in data else (data, None)
    shown = path.relative_to(ROOT).as_posix()
    lines = [f"#### `{name}`（{shown}）", ""]
    title = profile.get("name") or name
    lines.append(f"{title}" + (f"；文件中的评估日期 {as_of}" if as_of else "") + "。")
    lines += ["", "| 字段 | 值 |", "|---|---|"]
    for key, value in _flat("", {k: v for k, v in profile.items() if k not in ("fiscal_years", "projects")}):
        label = FIELD_LABELS[key][0] if key in FIELD_LABELS else f"`{key}`"
        lines.append(f"| {label} | {_words(value, key)} |")
    years = profile.get("fiscal_years") or []
    if years:
        lines += ["", "| 年度数据 | " + " | ".join(f"{y['year']}年度" for y in years) + " |"]
        lines.append("|---|" + "---|" * len(years))
        for field, (_, unit, zh, _) in FISCAL_FIELDS.items():
            unit_word = "（万元）" if unit == "wan_yuan" else "（人）" if unit == "people" else ""
            cells = [_words(y.get(field)) if field in y else "未知" for y in years]
            lines.append(f"| {zh}{unit_word} | " + " | ".join(cells) + " |")
    projects = profile.get("projects") or []
    if projects:
        columns = list(PROJECT_LABELS)
        lines += ["", "| 项目 | " + " | ".join(PROJECT_LABELS[c][0] for c in columns) + " |"]
        lines.append("|---|" + "---|" * len(columns))
        for p in projects:
            lines.append(
                f"| {p['id']} | " + " | ".join(_words(p.get(c)) if c in p else "未知" for c in columns) + " |"
            )
    return "\n".join(lines)


def examples_text() -> str:
    parts = []
    seen = set()
    for folder in EXAMPLE_DIRS:
        for path in sorted(folder.glob("*.json")):
            if path.stem in seen:
                continue  # features/examples/ wins over tests/examples/, as load_example reads them
            seen.add(path.stem)
            parts.append(example_section(path.stem, path))
    return "\n\n".join(parts)


# ------------------------------------------------------------------ the guide's generated blocks

BLOCKS = {"names": names_table, "examples": examples_text}


def block(text: str, name: str) -> str | None:
    """The text between <!-- name:begin --> and <!-- name:end --> in the guide, or None."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text or end not in text:
        return None
    return text.split(begin, 1)[1].split(end, 1)[0].strip("\n")


def rewrite(text: str) -> str:
    for name, make in BLOCKS.items():
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        if block(text, name) is None:
            raise SystemExit(f"docs/writing-scenarios.md has no {begin} … {end} block")
        head, rest = text.split(begin, 1)
        text = f"{head}{begin}\n{make()}\n{end}{rest.split(end, 1)[1]}"
    return text


def main() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    new = rewrite(text)
    if new != text:
        GUIDE.write_text(new, encoding="utf-8")
        sys.stdout.write(f"rewrote the generated blocks of {GUIDE.relative_to(ROOT)}\n")


if __name__ == "__main__":
    main()
