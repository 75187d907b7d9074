"""What a policy officer sees: each point of issue 15, shown as the message itself.

A trial feature file is written as an officer would write it (named freely, tagged with its measure,
started from an example, some scenarios wrong on purpose) and run by its path in a pytest of its own;
each test reads the message of one scenario. The input conversions, the names suggested for a
misspelt field, the naming of trial files and `huiqi rules coverage` are tested directly as well.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from engine import coverage
from features.support import explain, sandbox
from features.support import profiles as P
from features.support.clients import DETAIL, EngineClient, HttpClient
from features.support.gherkin import naming_problems
from features.support.vocab import ScenarioError, pack

ROOT = Path(__file__).resolve().parents[1]
FEATURES_DIR = ROOT / "features"

TRIAL = """\
# language: zh-CN
@hte-cultivation-subsidy
功能: 试写：高新技术企业培育奖补

  背景:
    假如评估日期为 "2025-06-30"
    并且一家企业的情况同示例 "jinan-tech-sme"

  场景: 证书颁发已超过一年
    假如"高新技术企业证书颁发日期"为"2024-06-29"
    当按"高新技术企业培育奖补"评估
    那么结果为"符合"

  场景: 示例企业属于中型企业
    当按"高新技术企业培育奖补"、"科技型中小企业评价"评估
    那么条件"属于中小微企业"的实际值为"中型"

  场景: 首次认定补助金额
    当按"高新技术企业培育奖补"评估
    那么优惠金额为"20万元"

  场景: 营业收入以亿元填写
    假如"2024年度营业收入"为"0.45亿元"
    当按"高新技术企业培育奖补"评估
    那么结果为"符合"

  场景: 销售收入以元填写
    假如"2024年度销售收入"为"45,000,000元"
    当按"高新技术企业培育奖补"评估
    那么结果为"符合"

  场景: 营业收入写成四千五百万
    假如"2024年度营业收入"为"四千五百万元"
    当按"高新技术企业培育奖补"评估
    那么结果为"符合"

  场景: 字段名写错一个字
    假如"2024年度销售收人"为"4500"
    当按"高新技术企业培育奖补"评估
    那么结果为"符合"

  场景大纲: 例子表少了一列
    假如"2024年度营业收入"为"<营业收入>"
    当按"高新技术企业培育奖补"评估
    那么结果为"<结论>"

    例子:
      | 收入 | 结论 |
      | 4500 | 符合 |

  场景: 不是大纲却引用了例子表的列
    假如"2024年度营业收入"为"<营业收入>"
    当按"高新技术企业培育奖补"评估
    那么结果为"符合"

  场景: 研发费用总额调低到135万元
    假如"2024年度研究开发费用总额"为"135"
    当按"高新技术企业认定条件"评估
    那么结果为"符合"

  场景: 缺少职工人数时科技型中小企业评价无法判定
    假如未提供"2024年度职工人数"
    当按"科技型中小企业评价"评估
    那么结果为"符合"
"""

BAD_TAG = """\
# language: zh-CN
@hte-cultivation-subsidi
功能: 标签写错了一个字母

  场景: 不会运行
    假如评估日期为 "2025-06-30"
"""

NO_LANGUAGE = """\
@hte-cultivation-subsidy
功能: 第一行漏写了语言

  场景: 不会运行
    假如评估日期为 "2025-06-30"
"""


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> dict[str, str]:
    """The trial files run by their path, as the guide says: pytest drafts/officer-trial.feature."""
    base = tmp_path_factory.mktemp("officer")
    sandbox.prepare(base)
    drafts = base / "drafts"
    drafts.mkdir()
    (drafts / "officer-trial.feature").write_text(TRIAL, encoding="utf-8")
    (drafts / "bad-tag.feature").write_text(BAD_TAG, encoding="utf-8")
    (drafts / "no-language.feature").write_text(NO_LANGUAGE, encoding="utf-8")
    out = sandbox.run_pytest(
        [
            "drafts/officer-trial.feature",
            "drafts/bad-tag.feature",
            "drafts/no-language.feature",
            "-v",
            "--continue-on-collection-errors",
            f"--huiqi-coverage-record={base / 'record.json'}",
        ],
        base,
    )
    return {"all": out, **_blocks(out)}


def _blocks(out: str) -> dict[str, str]:
    """The failure message of each test, by its name (the text between pytest's ____ name ____ rules)."""
    blocks: dict[str, str] = {}
    name = None
    for line in out.splitlines():
        m = re.match(r"^_{3,} (?:ERROR collecting )?(.+?) _{3,}$", line)
        if m:
            name = m[1]
            blocks[name] = ""
        elif line.startswith(("=====", "-----")):
            name = None
        elif name is not None:
            blocks[name] += line + "\n"
    return blocks


def _block(trial: dict[str, str], name: str) -> str:
    assert name in trial, f"no failure of {name!r} in:\n{trial['all']}"
    return trial[name]


# ------------------------------------------------------------------ the workflow


def test_a_trial_file_runs_by_its_path_with_readable_ids(trial):
    out = trial["all"]
    assert "drafts/officer-trial.feature::test_营业收入以亿元填写 PASSED" in out, out
    assert "drafts/officer-trial.feature::test_例子表少了一列[4500-符合] FAILED" in out, out
    assert "\\u" not in out, "test ids must read in Chinese, not as \\u escapes"
    assert "Traceback" not in out and "INTERNALERROR" not in out, out


def test_a_misspelt_tag_names_the_closest_measure(trial):
    message = _block(trial, "drafts/bad-tag.feature")
    assert (
        "标签 @hte-cultivation-subsidi 不是规则包中的措施或条件。是不是：@hte-cultivation-subsidy？"
        in message
    )
    assert "Traceback" not in message


def test_a_file_without_the_language_line_says_so(trial):
    message = _block(trial, "drafts/no-language.feature")
    assert "第 2 行无法解析：功能: 第一行漏写了语言" in message
    assert "文件第一行须为 # language: zh-CN" in message


def test_a_trial_file_without_a_measure_tag_says_what_to_write(tmp_path):
    measures = {mid: m.issuer for mid, m in pack().measures.items()}
    draft = tmp_path / "features" / "drafts" / "officer-trial.feature"
    draft.parent.mkdir(parents=True)
    draft.write_text(TRIAL.replace("@hte-cultivation-subsidy\n", ""), encoding="utf-8")
    [message] = naming_problems(draft, tmp_path / "features", measures)
    assert message.startswith(
        "features/drafts/officer-trial.feature 的文件名不是措施编号，“功能:”之前也没有标明措施"
    )
    assert "请在“功能:”的上一行写上措施编号作标签" in message
    draft.write_text(TRIAL, encoding="utf-8")
    assert naming_problems(draft, tmp_path / "features", measures) == []


def test_a_file_named_like_a_measure_is_pointed_at_its_name_and_folder(tmp_path):
    measures = {mid: m.issuer for mid, m in pack().measures.items()}
    misspelt = tmp_path / "features" / "jinan" / "hte-cultivation-subsidi.feature"
    misspelt.parent.mkdir(parents=True)
    misspelt.write_text(TRIAL.replace("@hte-cultivation-subsidy\n", ""), encoding="utf-8")
    [message] = naming_problems(misspelt, tmp_path / "features", measures)
    assert (
        "若这就是措施 hte-cultivation-subsidy 的场景文件，请改名为 features/jinan/hte-cultivation-subsidy.feature"
        in message
    )
    wrong_folder = tmp_path / "features" / "national" / "hte-cultivation-subsidy.feature"
    wrong_folder.parent.mkdir(parents=True)
    wrong_folder.write_text(TRIAL, encoding="utf-8")
    [message] = naming_problems(wrong_folder, tmp_path / "features", measures)
    assert (
        "措施 hte-cultivation-subsidy 的场景文件应为 features/jinan/hte-cultivation-subsidy.feature"
        in message
    )


# ------------------------------------------------------------------ failures in the officer's terms


def test_a_date_window_shows_the_issue_date_the_window_and_the_assessment_date(trial):
    message = _block(trial, "test_证书颁发已超过一年")
    assert 'officer-trial.feature:9 证书颁发已超过一年\n  第 12 行：那么结果为"符合"' in message
    assert "结论应为「符合」，实为「不符合」" in message
    assert "高新技术企业培育奖补（hte-cultivation-subsidy）· 企业 · 评估日期 2025-06-30：不符合" in message
    assert (
        "[不满足] 一年内通过高新技术企业认定：否，要求为 是\n      颁发日 2024-06-29，一年内指 2024-06-30 至 2025-06-30"
        in message
    )


def test_a_size_class_shows_its_working_and_each_result_is_printed_once(trial):
    message = _block(trial, "test_示例企业属于中型企业")
    assert "条件「属于中小微企业」的实际值为「小型」，场景写的是「中型」" in message
    assert "→ 小型" in message  # the size class's working, from the criterion's formula
    assert "'small'" not in message
    # the result spoken of in full, the other one once, in a line
    assert message.count("高新技术企业培育奖补（hte-cultivation-subsidy）") == 1
    assert message.count("科技型中小企业评价（tsme-evaluation）") == 1
    assert "  科技型中小企业评价（tsme-evaluation）· 企业：符合" in message
    assert "Captured" not in message


def test_the_benefit_is_worded(trial):
    message = _block(trial, "test_首次认定补助金额")
    assert "优惠金额为「10万元」，场景写的是「20万元」" in message
    assert (
        "优惠：首次认定 · 金额 10万元（暂定参数）：财政资金补助（首次认定与重新认定分档，金额暂定）"
        in message
    )
    assert "{'kind'" not in message and "wan_yuan" not in message


def test_alternatives_that_cannot_change_the_outcome_are_marked(trial):
    message = _block(trial, "test_缺少职工人数时科技型中小企业评价无法判定")
    assert "[不满足，不影响结论] 近五年获国家级科技奖励并排在前三名：否，要求为 是" in message
    assert "[满足] 直接确认或评价得分达标（符合其一即可）" in message
    assert "有效期 2024-11-28 至 2027-11-28（不含）" in message  # the certificate's window


def test_a_missing_fact_is_named_as_the_scenario_wrote_it(trial):
    message = _block(trial, "test_缺少职工人数时科技型中小企业评价无法判定")
    assert "缺少的信息：2024年度职工人数（2024年度职工总数）" in message


def test_a_refused_profile_names_the_year_and_the_examples_figures(trial):
    message = _block(trial, "test_研发费用总额调低到135万元")
    assert (
        "画像未通过校验，评估被拒绝：\n  2024年度：境内研发费用（234）不能超过研发费用总额（135）" in message
    )
    assert "fiscal_years[" not in message
    assert "其中2024年度的这些数据来自示例 'jinan-tech-sme'，本场景没有改写：" in message
    assert "境内研究开发费用 234" in message
    assert "研究开发费用总额 135" not in message  # the scenario wrote that one


# ------------------------------------------------------------------ input errors that say what to type


def test_units_the_officer_writes_are_converted(trial):
    out = trial["all"]
    assert "test_营业收入以亿元填写 PASSED" in out
    assert "test_销售收入以元填写 PASSED" in out


def test_a_value_that_is_not_an_amount_says_how_to_write_it(trial):
    message = _block(trial, "test_营业收入写成四千五百万")
    assert '第 33 行：假如"2024年度营业收入"为"四千五百万元"' in message
    assert (
        "「2024年度营业收入」以万元填写，如 4500（也可写 4,500、4500万元、0.45亿元、45000000元）；收到 '四千五百万元'"
        in message
    )
    assert "sales_revenue" not in message


def test_a_misspelt_field_suggests_the_closest_name(trial):
    message = _block(trial, "test_字段名写错一个字")
    assert "不认识的字段「2024年度销售收人」。是不是：2024年度销售收入？" in message


def test_a_column_missing_from_the_examples_is_named(trial):
    message = _block(trial, "test_例子表少了一列[4500-符合]")
    assert (
        "例子表中没有「营业收入」这一列：这一步的 <营业收入> 无从填写。是不是 <收入>？例子表的列：收入、结论"
        in message
    )
    assert "应为数值" not in message
    plain = _block(trial, "test_不是大纲却引用了例子表的列")
    assert "<营业收入> 引用例子表的一列，但这个场景没有例子表" in plain


@pytest.mark.parametrize(
    ("written", "wan_yuan"),
    [
        ("0.45亿元", "4500"),
        ("45000000元", "4500"),
        ("45,000,000元", "4500"),
        ("4,500", "4500"),
        ("4500万元", "4500"),
        ("4,500.25万元", "4500.25"),
        ("1元", "0.0001"),
        ("0.1元", "0.00001"),
        ("123456789012345678.12345元", "12345678901234.567812345"),
        ("3千万元", "3000"),
        ("45000千元", "4500"),
        ("200.0004", "200.0004"),
    ],
)
def test_money_converts_exactly(written, wan_yuan):
    value = P.convert("fiscal_years[2024].sales_revenue", written, "2024年度营业收入")
    assert value == wan_yuan
    assert Decimal(value) == P.money_in_wan_yuan(written)  # strings of decimals, never a float


@pytest.mark.parametrize(
    "written", ["4,50", "45,00,000元", "1e3", "4500美元", "4500亩", "约4500", "四千五百"]
)
def test_what_is_not_an_amount_is_refused_with_the_name_as_typed(written):
    with pytest.raises(ScenarioError) as e:
        P.convert("fiscal_years[2024].sales_revenue", written, "2024年度营业收入")
    assert str(e.value).startswith("「2024年度营业收入」以万元填写，如 4500")


def test_counts_and_other_units_say_what_to_type():
    assert P.convert("fiscal_years[2024].employees", "1,200人", "2024年度职工人数") == 1200
    assert P.convert("innovation_score", "71分") == "71"
    assert P.convert("projects[P1].land_area_mu", "30亩") == "30"
    with pytest.raises(
        ScenarioError, match=r"^「2024年度职工人数」应为整数（人），如 120 或 120人；收到 '12.5'"
    ):
        P.convert("fiscal_years[2024].employees", "12.5", "2024年度职工人数")
    with pytest.raises(ScenarioError, match=r"^「居民企业」应为 是 或 否，收到 '也许'"):
        P.convert("resident_enterprise", "也许", "居民企业")
    with pytest.raises(ScenarioError, match=r"^「成立日期」应为日期，写成 YYYY-MM-DD"):
        P.convert("registered_on", "2019年4月10日", "成立日期")


@pytest.mark.parametrize(
    ("written", "closest"),
    [
        ("2024年度销售收人", "2024年度销售收入"),
        ("上一年度职工总人", "上一年度职工总人数"),
        ("高企证书颁发日期", "高新技术企业证书颁发日期"),
        ("fiscal_years[2024].sales_revenu", "fiscal_years[2024].sales_revenue"),
        ("项目 P1 的项目类型", "项目 P1 的项目类别"),
    ],
)
def test_a_misspelt_field_name_suggests_the_closest(written, closest):
    with pytest.raises(ScenarioError) as e:
        P.resolve_field(written, 2024)
    assert f"不认识的字段「{written}」。是不是：{closest}？" in str(e.value)


def test_a_yearly_field_without_its_year_asks_for_the_year():
    with pytest.raises(
        ScenarioError, match="「销售收入」是年度数据，须写明年份：如 2024年度销售收入，或 上一年度销售收入"
    ):
        P.resolve_field("销售收入", 2024)


# ------------------------------------------------------------------ the words of a result


def test_benefits_of_every_kind_in_words():
    assert (
        explain.benefit_words(
            {
                "kind": "interest_subsidy",
                "description": "“鲁科贷”贴息",
                "unit": "ratio",
                "rate": "0.40",
                "cap": "50",
                "provisional": True,
            }
        )
        == "比例 40% · 上限 50万元（暂定参数）：“鲁科贷”贴息"
    )
    assert (
        explain.benefit_words(
            {
                "kind": "deduction",
                "description": "加计扣除",
                "rate": "1.00",
                "base": "150",
                "amount": "150.00",
                "amount_display": "150万元",
            }
        )
        == "比例 100% · 基数 150万元 · 金额 150万元：加计扣除"
    )
    assert (
        explain.benefit_words({"kind": "status", "description": "减按15%的税率", "rate": "0.15"})
        == "比例 15%：减按15%的税率"
    )
    assert explain.benefit_words(
        {"kind": "tier", "description": "用地保障", "tier": "x", "tier_label": "争取省级指标"}
    ) == ("争取省级指标：用地保障")


def test_a_refusal_from_the_service_names_the_year_too():
    profile = {
        "fiscal_years": [{"year": 2023}, {"year": 2024, "rd_expense": "135", "rd_expense_domestic": "234"}]
    }
    problem = {
        "errors": [
            {"field": "profile.fiscal_years[1]", "message": "境内研发费用（234）不能超过研发费用总额（135）"}
        ]
    }
    text = explain.rejection(
        problem, profile, example="jinan-tech-sme", written={"fiscal_years[2024].rd_expense"}
    )
    assert text.splitlines()[0] == "  2024年度：境内研发费用（234）不能超过研发费用总额（135）"
    assert "境内研究开发费用 234" in text and "研究开发费用总额 135" not in text


def test_every_transport_asks_for_the_full_explanation(monkeypatch):
    assert DETAIL == "full"
    seen = {}
    answer = EngineClient("python").evaluate({"credit_code": P.DEFAULT_CREDIT_CODE}, "2025-06-30", None, "zh")
    hte = next(r for r in answer["results"] if r["measure_id"] == "hte-recognition")
    assert hte["title"] and all(c["explanation"] and c["label"] for c in hte["criteria"])

    class Http:
        def post(self, url, json, headers):
            seen["body"] = json
            return type("R", (), {"status_code": 200, "json": lambda self: {"results": []}})()

    http = HttpClient.__new__(HttpClient)
    http.http, http.headers, http.name = Http(), {}, "api (test)"
    http.evaluate({"credit_code": P.DEFAULT_CREDIT_CODE}, "2025-06-30", None, "zh")
    assert seen["body"]["detail"] == "full"


# ------------------------------------------------------------------ huiqi rules coverage


def _record_with(tmp_path: Path, scenarios: list[dict]) -> Path:
    path = tmp_path / "record.json"
    path.write_text(
        json.dumps(coverage.make_record(scenarios, True, "test", FEATURES_DIR), ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def test_coverage_names_failing_scenarios_and_exits_non_zero(tmp_path):
    failing = {
        "scenario": "drafts/officer-trial.feature:9 证书颁发已超过一年",
        "nodeid": "features/drafts/officer-trial.feature::test_证书颁发已超过一年",
        "passed": False,
        "failed": True,
        "failure": '第 12 行：那么结果为"符合" — 结论应为「符合」，实为「不符合」',
        "evaluations": [],
    }
    out, err = Console(width=80, record=True), Console(width=80, record=True)
    code = coverage.command(
        run=False,
        record=_record_with(tmp_path, [failing]),
        measures=["hte-cultivation-subsidy"],
        verbose=False,
        as_json=False,
        out=out,
        err=err,
    )
    text = err.export_text()
    assert code == 1
    assert "1 个场景未通过，未计入覆盖" in text
    assert "drafts/officer-trial.feature:9 证书颁发已超过一年" in text
    assert '第 12 行：那么结果为"符合" — 结论应为「符合」，实为「不符合」' in text
    assert "-m pytest features/drafts/officer-trial.feature" in text


def test_coverage_at_80_columns_cuts_no_scenario_and_says_how_many_more(tmp_path):
    long_names = [
        f"jinan/hte-cultivation-subsidy.feature:{20 + i} 一个相当长的场景名称：高新技术企业证书须在评估日前一年内颁发（含当日）第{i}个"
        for i in range(6)
    ]
    criteria = {"hte_recognised_within_1y": "met", "sme_size_class": "unmet", "registered_in_jinan": "met"}
    scenarios = [
        {
            "scenario": name,
            "nodeid": f"n{i}",
            "passed": True,
            "failed": False,
            "failure": None,
            "evaluations": [
                {
                    "measure_id": "hte-cultivation-subsidy",
                    "subject": None,
                    "outcome": "eligible",
                    "criteria": criteria,
                }
            ],
        }
        for i, name in enumerate(long_names)
    ]
    record = _record_with(tmp_path, scenarios)
    for verbose in (False, True):
        out, err = Console(width=80, record=True), Console(width=80, record=True)
        coverage.command(
            run=False,
            record=record,
            measures=["hte-cultivation-subsidy"],
            verbose=verbose,
            as_json=False,
            out=out,
            err=err,
        )
        text = out.export_text()
        assert all(len(line) <= 80 for line in text.splitlines())
        assert "…" not in text.replace("……另", "")  # nothing is cut short
        flat = re.sub(r"\s+", "", text)
        shown = long_names if verbose else long_names[:3]
        for name in shown:
            assert re.sub(r"\s+", "", coverage.short_name(name, "hte-cultivation-subsidy")) in flat, name
        if not verbose:
            assert "……另 3 个（-v 列出全部）" in text


def test_coverage_run_names_what_failed(tmp_path, monkeypatch):
    """`huiqi rules coverage --run` over a features folder holding a failing trial: named, exit 1."""
    features = tmp_path / "features"
    (features / "drafts").mkdir(parents=True)
    shutil.copy(FEATURES_DIR / "conftest.py", features / "conftest.py")  # its FEATURES_DIR is this folder
    shutil.copytree(FEATURES_DIR / "examples", features / "examples")
    (features / "drafts" / "officer-trial.feature").write_text(
        textwrap.dedent(TRIAL.split("  场景: 示例企业属于中型企业")[0]), encoding="utf-8"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("HUIQI_API_URL", raising=False)
    err = Console(width=100, record=True)
    code = coverage.command(
        run=True,
        record=tmp_path / "record.json",
        measures=["hte-cultivation-subsidy"],
        verbose=False,
        as_json=False,
        out=Console(width=100, record=True),
        err=err,
        features_dir=features,
    )
    text = err.export_text()
    assert code == 1, text
    assert "1 个场景未通过，未计入覆盖" in text, text
    assert "drafts/officer-trial.feature:9 证书颁发已超过一年" in text
    assert "结论应为「符合」，实为「不符合」" in text
