"""The generic step library: every step in Chinese and English, no two steps claiming one sentence,
English scenarios running end to end, and a sentence that matches no step failing with the list."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from features.support import registry as R
from features.support import sandbox
from features.support.profiles import field_catalogue, resolve_field, set_field

ROOT = Path(__file__).resolve().parents[1]


def _sample(template: str) -> str:
    """A sentence a scenario could write with this template."""

    def fill(m: re.Match) -> str:
        return '"甲"、"乙"' if m["many"] else '"甲"'

    return R._PLACEHOLDER.sub(fill, template)


def test_every_step_reads_in_chinese_and_in_english():
    for sd in R.STEPS:
        assert sd.zh and sd.en, sd
        assert sd.keyword in R.EN_KEYWORD, sd
        assert sd.help, sd


@pytest.mark.parametrize("sd", R.STEPS, ids=lambda sd: sd.en[0])
def test_each_sentence_matches_its_own_step_only(sd):
    for template in (*sd.zh, *sd.en):
        text = _sample(template)
        owners = [other.en[0] for other in R.STEPS if other.matches(text)]
        assert owners == [sd.en[0]], f"{text!r} is claimed by {owners}"


def test_quotes_may_be_chinese_and_keep_inner_quotes():
    sd = next(s for s in R.STEPS if s.en[0].startswith("evaluated against"))
    for text in (
        '按"科技型企业“白名单”与科技增信"评估',
        "按“高新技术企业认定条件”评估",
        "按「hte-recognition」和「tsme-evaluation」评估",
    ):
        m = next(re.fullmatch(p, text) for p in sd.patterns if re.fullmatch(p, text))
        assert R.quoted_items(m["measures"])


def test_fields_by_path_or_chinese_label():
    assert resolve_field("fiscal_years[2024].sales_revenue", None) == "fiscal_years[2024].sales_revenue"
    assert resolve_field("2024年度销售收入", None) == "fiscal_years[2024].sales_revenue"
    assert resolve_field("上一年度科技人员数", 2024) == "fiscal_years[2024].tech_staff"
    assert resolve_field("项目 P1 的项目类别", None) == "projects[P1].category"
    assert resolve_field("创新能力评价得分", None) == "innovation_score"
    assert resolve_field("高新技术企业证书颁发日期", None) == "certifications.hte.issued_on"
    profile: dict = {"credit_code": "x"}
    set_field(profile, "projects[P1].category", "人才类")
    set_field(profile, "certifications.hte.issued_on", "2024-12-01")
    set_field(profile, resolve_field("2024年度职工总数", None), "1,200人")
    assert profile["projects"] == [{"id": "P1", "category": "talent"}]
    assert profile["certifications"]["hte"]["issued_on"] == "2024-12-01"
    assert profile["fiscal_years"] == [{"year": 2024, "employees": 1200}]
    set_field(profile, "certifications.hte.issued_on", "无")
    assert profile["certifications"]["hte"] is None
    assert len(field_catalogue()) > 30


def test_english_scenarios_run_and_an_unknown_sentence_lists_the_steps(tmp_path):
    """A feature in English with the same steps, and a step that exists nowhere, in a pytest of their own
    (the conftest collects the .feature file itself, as it does under features/)."""
    sandbox.prepare(tmp_path)
    (tmp_path / "en.feature").write_text(
        textwrap.dedent(
            """\
            Feature: High-tech enterprise recognition, in English
              Background:
                Given the assessment date is "2025-06-30"
                And an enterprise like the example "enterprise-established"

              Scenario: the R&D ratio band follows the last year's sales
                Given "fiscal_years[2024].sales_revenue" is "9000"
                When evaluated against "High-tech enterprise recognition"
                Then the outcome is "eligible"
                And criterion "R&D expense ratio" requires "4%"
                And the benefit rate is "15%"

              Scenario: a missing score leaves it undecided
                Given "innovation_score" is unknown
                When evaluated against "hte-recognition"
                Then the outcome is "undetermined"
                And the only missing fact is "innovation_score"

              Scenario: projects are judged one by one
                When evaluated against "land-use-priority"
                Then the outcome for project "P2" is "eligible"
                And the benefit tier is "provincial_quota"

              Scenario: a sentence no step knows
                When evaluated against "hte-recognition"
                Then the verdict is "yes"
            """
        ),
        encoding="utf-8",
    )
    out = sandbox.run_pytest(
        [
            str(tmp_path),
            "--rootdir",
            str(tmp_path),
            "-q",
            f"--huiqi-coverage-record={tmp_path / 'record.json'}",
        ],
        tmp_path,
    )
    assert "1 failed, 3 passed" in out, out
    assert '没有与这一步对应的步骤定义 / no step matches: Then the verdict is "yes"' in out, out
    for sd in R.STEPS:  # the message lists every step, in both languages
        assert f"{sd.keyword}{sd.zh[0]}" in out, sd.zh[0]
        assert f"{R.EN_KEYWORD[sd.keyword]} {sd.en[0]}" in out, sd.en[0]


def test_the_guide_lists_every_step():
    guide = (ROOT / "docs" / "writing-scenarios.md").read_text(encoding="utf-8")
    missing = [sd.zh[0] for sd in R.STEPS if f"`{sd.zh[0]}" not in guide] + [
        sd.en[0] for sd in R.STEPS if f"`{sd.en[0]}`" not in guide
    ]
    assert not missing, f"docs/writing-scenarios.md 的步骤一览缺少：{missing}"
