"""`huiqi rules lint` refuses, with file, line and reason, each kind of broken rule file; the loader
refuses what lint refuses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import Engine, LintError
from engine import durable as durable_mod
from engine.backends import lint_hooks
from engine.cli import app
from engine.durable import fnv1_32
from engine.loader import lint

RULES = Path(__file__).resolve().parents[2] / "rules"
HTE = RULES / "national" / "hte-recognition.yaml"


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    (tmp_path / "national").mkdir()
    shutil.copy(HTE, tmp_path / "national" / "hte-recognition.yaml")
    if (RULES / "pack.yaml").exists():
        shutil.copy(RULES / "pack.yaml", tmp_path / "pack.yaml")
    return tmp_path


def edit(pack_dir: Path, old: str, new: str) -> int:
    """Replace text in the copied HTE file; return the 1-based line of the edit."""
    path = pack_dir / "national" / "hte-recognition.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def problems(pack_dir: Path) -> list[tuple[str, int, str]]:
    pack, found = lint(pack_dir, lint_hooks())
    assert pack is None
    return [(Path(p.file).name, p.line, p.reason) for p in found]


def test_the_shipped_rule_pack_passes_lint():
    pack, found = lint(RULES, lint_hooks())
    assert found == []
    assert pack is not None and len(pack.measures) >= 1


def test_unknown_fact_path_is_refused_at_its_line(pack_dir):
    line = edit(pack_dir, "fact: last_year.tech_staff_ratio", "fact: last_year.tech_staf_ratio")
    assert ("hte-recognition.yaml", line, "unknown fact path 'last_year.tech_staf_ratio'") in problems(
        pack_dir
    )


def test_unknown_operator_is_refused_at_its_line(pack_dir):
    line = edit(
        pack_dir,
        "op: gte\n      param: min_tech_staff_ratio",
        "op: atleast\n      param: min_tech_staff_ratio",
    )
    found = problems(pack_dir)
    assert any(f == "hte-recognition.yaml" and ln == line and "op" in reason for f, ln, reason in found), (
        found
    )


def test_unit_mismatch_is_refused(pack_dir):
    line = edit(
        pack_dir, "unit: years\n      clause: 第十一条（一）", "unit: ratio\n      clause: 第十一条（一）"
    )
    found = problems(pack_dir)
    assert any(ln == line and "unit mismatch" in reason for _, ln, reason in found), found


def test_missing_quote_is_refused(pack_dir):
    edit(pack_dir, "      quote: 企业申请认定时须注册成立一年以上；\n", "")
    found = problems(pack_dir)
    assert any("quote" in reason and "required" in reason.lower() for _, _, reason in found), found


def test_missing_source_is_refused(pack_dir):
    edit(pack_dir, "  clause: 第十一条\n  quote: 认定为高企须同时满足以下条件\n", "")
    found = problems(pack_dir)
    assert any("source" in reason for _, _, reason in found), found


def test_undated_value_is_refused(pack_dir):
    line = edit(pack_dir, "      2016-01-01: {value: 1,", "      someday: {value: 1,")
    found = problems(pack_dir)
    assert any(ln == line and "date" in reason.lower() for _, ln, reason in found), found


def test_parameter_value_without_reference_is_refused(pack_dir):
    line = edit(
        pack_dir,
        "{value: 1, reference: 国科发火〔2016〕32号 第十一条（一）, status: verified}",
        "{value: 1, status: verified}",
    )
    found = problems(pack_dir)
    assert any(ln == line and "reference" in reason for _, ln, reason in found), found


def test_float_threshold_is_refused(pack_dir):
    edit(pack_dir, '2016-01-01: {value: "0.10",', "2016-01-01: {value: 0.10,")
    assert any("quoted decimal" in reason for _, _, reason in problems(pack_dir))


def _measure(mid: str, depends_on: str) -> str:
    return f"""id: {mid}
title: {{zh: 测试{mid}, en: test {mid}}}
issuer: jinan
status: provisional
source: {{document: 工作方案, clause: 五、9, quote: 测试}}
effective: {{from: 2023-01-01}}
subject: enterprise
summary: {{zh: 测试, en: test}}
criteria:
  id: top
  label: {{zh: 全部, en: all}}
  all:
    - id: dep
      label: {{zh: 依赖, en: depends}}
      fact: measure.{depends_on}.outcome
      op: in
      value: [eligible]
      unit: enum
      clause: 五、9
      quote: 测试
benefit: {{kind: status, description: {{zh: 测试, en: test}}}}
"""


def test_dependency_cycle_is_refused(pack_dir):
    (pack_dir / "jinan").mkdir()
    (pack_dir / "jinan" / "cycle-a.yaml").write_text(_measure("cycle-a", "cycle-b"), encoding="utf-8")
    (pack_dir / "jinan" / "cycle-b.yaml").write_text(_measure("cycle-b", "cycle-a"), encoding="utf-8")
    found = problems(pack_dir)
    assert {f for f, _, reason in found if "dependency cycle" in reason} == {"cycle-a.yaml", "cycle-b.yaml"}


def _wide(n: int) -> str:
    leaves = "".join(
        f"""    - id: c{i}
      label: {{zh: 条件{i}, en: criterion {i}}}
      fact: innovation_score
      op: gte
      value: {i}
      unit: points
      clause: 五、9
      quote: 测试
"""
        for i in range(n)
    )
    return (
        _measure("wide", "x").split("criteria:")[0]
        + "criteria:\n  id: top\n  label: {zh: 全部, en: all}\n  any:\n"
        + leaves
        + "benefit: {kind: status, description: {zh: 测试, en: test}}\n"
    )


def test_too_many_criteria_matching_together_is_refused(pack_dir):
    # each criterion fires at most one failure rule: 56 and the catch-all stay under durable-rules' 64
    (pack_dir / "jinan").mkdir()
    (pack_dir / "jinan" / "wide.yaml").write_text(_wide(60), encoding="utf-8")
    assert any(f == "wide.yaml" and "error 303" in reason for f, _, reason in problems(pack_dir))


def test_too_many_siblings_is_refused(pack_dir):
    (pack_dir / "jinan").mkdir()
    (pack_dir / "jinan" / "wide.yaml").write_text(_wide(70), encoding="utf-8")
    assert any(f == "wide.yaml" and "siblings" in reason for f, _, reason in problems(pack_dir))


def test_fnv1_hash_is_the_one_durable_rules_uses():
    # two names found to collide under 32-bit FNV-1; durable-rules would confuse them
    assert fnv1_32("f_x791389") == fnv1_32("f_x1088354")
    assert fnv1_32("a") != fnv1_32("b")


def test_colliding_field_names_are_refused(pack_dir, monkeypatch):
    names = {0: "f_x791389", 1: "f_x1088354"}
    real = durable_mod.field_name
    monkeypatch.setattr(durable_mod, "field_name", lambda i: names.get(i, real(i)))
    assert any("collide" in reason for _, _, reason in problems(pack_dir))


def test_no_two_field_names_of_a_ruleset_share_durable_rules_hash():
    names = [durable_mod.field_name(i) for i in range(durable_mod.MAX_FIELDS_PER_FACT)]
    assert len(set(names)) == len(names)
    assert len({fnv1_32(n) for n in names}) == len(names)


def test_loader_refuses_what_lint_refuses(pack_dir):
    edit(pack_dir, "fact: last_year.tech_staff_ratio", "fact: no.such.fact")
    with pytest.raises(LintError, match="unknown fact path 'no.such.fact'"):
        Engine(rules_dir=pack_dir)


def test_lint_command_exits_1_with_file_line_and_reason(pack_dir):
    line = edit(pack_dir, "fact: last_year.tech_staff_ratio", "fact: no.such.fact")
    result = CliRunner().invoke(app, ["rules", "lint", str(pack_dir)])
    assert result.exit_code == 1
    assert f"hte-recognition.yaml:{line}" in result.output.replace("\n", "")
    assert "unknown fact path" in result.output
