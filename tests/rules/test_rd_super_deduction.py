"""Boundary tests of rd-super-deduction: 财政部 税务总局公告2023年第7号 一; excluded industries of
财税〔2015〕119号 四, read by GB/T 4754-2017 code.

The profile is the established example (I6513 应用软件开发) as of 2025-06-30: Y = 2024, R&D 630 万元.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import criterion, outcome
from tests.rules.helpers import (
    AS_OF,
    drop_fiscal_year,
    evaluate,
    fiscal_year,
    missing_paths,
    national_engine,
    result_of,
    share_a_ruleset,
)

RD = "rd-super-deduction"


def verdict_for_industry(engine, profile: dict, code: str | None) -> tuple[str, dict]:
    profile["industry_code"] = code
    result = evaluate(engine, profile, RD)
    return outcome(result, RD), result


def test_established_example_is_eligible(engine, established):
    assert outcome(evaluate(engine, established["profile"], RD), RD) == "eligible"


# ---------------------------------------------------------------- 财税〔2015〕119号 四 不适用的行业

EXCLUDED = [
    pytest.param("C1620", id="C16_tobacco_cigarette_manufacturing"),
    pytest.param("C1610", id="C16_tobacco_leaf_redrying"),
    pytest.param("H6110", id="H_accommodation"),
    pytest.param("H6210", id="H_catering"),
    pytest.param("F5111", id="F_wholesale"),
    pytest.param("F5211", id="F_retail"),
    pytest.param("K7010", id="K_real_estate"),
    pytest.param("L7111", id="L_leasing"),
    pytest.param("L7211", id="L_business_services"),
    pytest.param("R9011", id="R90_entertainment"),
]


@pytest.mark.parametrize("code", EXCLUDED)
def test_art4_each_excluded_industry_fails(engine, established, code):
    # 1.烟草制造业 2.住宿和餐饮业 3.批发和零售业 4.房地产业 5.租赁和商务服务业 6.娱乐业
    verdict, result = verdict_for_industry(engine, established["profile"], code)
    assert verdict == "ineligible"
    assert criterion(result, RD, "art4_not_excluded_industry")["status"] == "unmet"


INCLUDED = [
    pytest.param("C3911", id="C39_computer_manufacturing"),
    pytest.param("C2710", id="C27_pharmaceutical_manufacturing"),
    pytest.param("C1512", id="C15_beverages_next_to_tobacco"),
    pytest.param("C1711", id="C17_textiles_next_to_tobacco"),
    pytest.param("I6513", id="I_software"),
    pytest.param("M7320", id="M_engineering_research"),
    pytest.param("R8710", id="R87_broadcasting_same_section_as_entertainment"),
    pytest.param("R8911", id="R89_sports_next_to_entertainment"),
    pytest.param("G5810", id="G_transport_between_F_and_H"),
    pytest.param("J6610", id="J_finance_between_H_and_K"),
]


@pytest.mark.parametrize("code", INCLUDED)
def test_art4_manufacturing_and_other_industries_pass(engine, established, code):
    verdict, result = verdict_for_industry(engine, established["profile"], code)
    assert verdict == "eligible"
    assert criterion(result, RD, "art4_not_excluded_industry")["status"] == "met"


@pytest.mark.parametrize("section", ["F", "H", "K", "L"])
def test_art4_an_excluded_section_letter_alone_fails(engine, established, section):
    verdict, _ = verdict_for_industry(engine, established["profile"], section)
    assert verdict == "ineligible"


@pytest.mark.parametrize("section", ["C", "R"])
def test_art4_section_letter_c_or_r_alone_is_undetermined_naming_the_industry_code(
    engine, established, section
):
    # C holds tobacco (C16), R entertainment (R90): the division is needed and a letter lacks it
    verdict, result = verdict_for_industry(engine, established["profile"], section)
    assert verdict == "undetermined"
    assert missing_paths(result, RD) == ["industry_code"]


@pytest.mark.parametrize("section", ["I", "M", "A"])
def test_art4_other_section_letter_alone_is_enough(engine, established, section):
    # outside C and R no excluded division can apply: the section decides
    verdict, _ = verdict_for_industry(engine, established["profile"], section)
    assert verdict == "eligible"


def test_art4_unknown_industry_code_is_undetermined_naming_it(engine, established):
    verdict, result = verdict_for_industry(engine, established["profile"], None)
    assert verdict == "undetermined"
    assert missing_paths(result, RD) == ["industry_code"]


# ---------------------------------------------------------------- 公告2023年第7号 一 实际发生的研发费用


def test_art1_zero_rd_expense_fails(engine, established):
    # 0 > 0 is false: nothing to deduct
    fiscal_year(established["profile"], 2024)["rd_expense"] = "0"
    fiscal_year(established["profile"], 2024)["rd_expense_domestic"] = "0"
    result = evaluate(engine, established["profile"], RD)
    assert criterion(result, RD, "art1_rd_expense_incurred")["status"] == "unmet"
    assert outcome(result, RD) == "ineligible"
    assert result_of(result, RD)["benefit"] is None


def test_art1_smallest_rd_expense_passes(engine, established):
    # 0.000001 万元 (0.01 元, the smallest amount a profile holds) > 0
    fiscal_year(established["profile"], 2024)["rd_expense"] = "0.000001"
    fiscal_year(established["profile"], 2024)["rd_expense_domestic"] = "0"
    result = evaluate(engine, established["profile"], RD)
    assert outcome(result, RD) == "eligible"
    assert Decimal(result_of(result, RD)["benefit"]["amount"]) == Decimal("0.000001")


def test_art1_unknown_rd_expense_is_undetermined_naming_it(engine, established):
    fiscal_year(established["profile"], 2024)["rd_expense"] = None
    fiscal_year(established["profile"], 2024)["rd_expense_domestic"] = None
    result = evaluate(engine, established["profile"], RD)
    assert outcome(result, RD) == "undetermined"
    assert missing_paths(result, RD) == ["fiscal_years[2024].rd_expense"]


def test_art1_missing_last_fiscal_year_is_undetermined_naming_it(engine, established):
    drop_fiscal_year(established["profile"], 2024)
    result = evaluate(engine, established["profile"], RD)
    assert outcome(result, RD) == "undetermined"
    assert missing_paths(result, RD) == ["fiscal_years[2024]"]


def test_art1_uses_the_last_fiscal_year_only(engine, established):
    # R&D of 0 in 2023 does not matter: Y = 2024
    fiscal_year(established["profile"], 2023).update(rd_expense="0", rd_expense_domestic="0")
    assert outcome(evaluate(engine, established["profile"], RD), RD) == "eligible"


def test_non_resident_enterprise_fails(engine, established):
    # 财税〔2015〕119号 五（一）: 本通知适用于……居民企业
    established["profile"]["resident_enterprise"] = False
    result = evaluate(engine, established["profile"], RD)
    assert criterion(result, RD, "resident_enterprise")["status"] == "unmet"
    assert outcome(result, RD) == "ineligible"


# ---------------------------------------------------------------- benefit: 再按照实际发生额的100%加计扣除


def test_benefit_is_the_last_year_rd_expense_times_100_percent(engine, established):
    # 630.00 × 100% = 630 万元 of extra deduction
    benefit = result_of(evaluate(engine, established["profile"], RD), RD)["benefit"]
    assert benefit["kind"] == "deduction"
    assert benefit["unit"] == "wan_yuan"
    assert Decimal(benefit["rate"]) == Decimal("1")
    assert Decimal(benefit["base"]) == Decimal("630")
    assert Decimal(benefit["amount"]) == Decimal("630")
    assert "200%" in benefit["description"]


def test_benefit_keeps_every_decimal_place(engine, established):
    # 1234.567891 × 1.00 = 1234.567891 exactly (Decimal, no float)
    fiscal_year(established["profile"], 2024)["rd_expense"] = "1234.567891"
    benefit = result_of(evaluate(engine, established["profile"], RD), RD)["benefit"]
    assert Decimal(benefit["amount"]) == Decimal("1234.567891")


# ---------------------------------------------------------------- in force


def test_not_applicable_before_the_first_fiscal_year_it_covers(engine, established):
    # as_of 2023-12-31 judges fiscal year 2022, before 7号 (R&D incurred from 2023-01-01)
    result = evaluate(engine, established["profile"], RD, as_of="2023-12-31")
    assert outcome(result, RD) == "not_applicable"


def test_applies_from_2024_01_01_to_fiscal_year_2023(engine, established):
    # as_of 2024-01-01 → Y = 2023: R&D 581.69 × 100%
    result = evaluate(engine, established["profile"], RD, as_of="2024-01-01")
    assert outcome(result, RD) == "eligible"
    assert Decimal(result_of(result, RD)["benefit"]["amount"]) == Decimal("581.69")


def test_rd_super_deduction_evaluated_alone(engine, established, tmp_path):
    # a pack of the national measures: tsme-evaluation (scored) shares the ruleset of RD
    national = national_engine(engine, tmp_path)
    assert share_a_ruleset(national, AS_OF, RD, "tsme-evaluation")
    result = national.explain(established["profile"], AS_OF, measures=[RD])
    assert outcome(result, RD) == "eligible"
