"""docs/writing-scenarios.md says what the steps accept: its table of names (with the synonyms that
work) and the figures of the example enterprises are the ones the code has, and every name it lists
resolves to the field it stands beside."""

from __future__ import annotations

import pytest

from features.support import guide
from features.support.profiles import FISCAL_ALIASES, resolve_field


@pytest.mark.parametrize("name", sorted(guide.BLOCKS))
def test_the_generated_blocks_of_the_guide_are_current(name):
    text = guide.GUIDE.read_text(encoding="utf-8")
    shown = guide.block(text, name)
    assert shown is not None, f"docs/writing-scenarios.md 缺少 <!-- {name}:begin --> … <!-- {name}:end -->"
    if shown != guide.BLOCKS[name]():
        pytest.fail(
            f"docs/writing-scenarios.md 的「{name}」一节与代码不一致：运行 .venv/bin/python -m features.support.guide 重新生成",
            pytrace=False,
        )


def _with_prefix(path: str, name: str) -> str:
    """An English name of a yearly or project field is written after the year or project, as in Chinese."""
    if path.startswith("fiscal_years[") and "." in path:
        return f"{guide.YEAR}年度{name}"
    if path.startswith("projects["):
        return f"项目 P1 的{name}"
    return name


def test_every_name_in_the_guide_resolves_to_its_field():
    wrong = []
    for path, zh, others, english, _ in guide.name_rows():
        for name in (path, zh, *others, *(_with_prefix(path, e) for e in english)):
            got = resolve_field(name, last_year=guide.YEAR)
            if got != path:
                wrong.append(f"{name} → {got}，表中写的是 {path}")
    assert not wrong, "\n".join(wrong)


def test_the_synonyms_officers_use_are_in_the_guide():
    text = guide.GUIDE.read_text(encoding="utf-8")
    for alias in (*FISCAL_ALIASES, "职工人数", "职工总人数", "营业收入"):
        assert f"{guide.YEAR}年度{alias}`" in text, alias
    for word in ("上年度", "上一年", "最近一年"):
        assert word in text, word
