"""Boundary tests of hte-recognition: 《高新技术企业认定管理办法》（国科发火〔2016〕32号）第十一条 and
工作指引（国科发火〔2016〕195号）. Every threshold is tried on the number itself and just past it.

以上/以下/不低于/不超过 include the number; 超过/不足/不含 exclude it. The profile is the established
example (eligible), as of 2025-06-30: Y = 2024, the last three years 2022–2024.
"""

from __future__ import annotations

import pytest

from tests.conftest import criterion, outcome
from tests.rules.helpers import (
    AS_OF,
    drop_fiscal_year,
    evaluate,
    fiscal_year,
    missing_paths,
    national_engine,
    share_a_ruleset,
)

HTE = "hte-recognition"


def judge(engine, profile: dict, criterion_id: str, as_of: str = AS_OF) -> tuple[str, dict]:
    result = evaluate(engine, profile, HTE, as_of)
    return outcome(result, HTE), criterion(result, HTE, criterion_id)


def set_rd_years(profile: dict, sales: tuple[str, str, str], rd: tuple[str, str, str]) -> None:
    """Sales revenue and R&D expense of 2022, 2023, 2024 (all R&D spent in China)."""
    for year, s, r in zip((2022, 2023, 2024), sales, rd, strict=True):
        fy = fiscal_year(profile, year)
        fy["sales_revenue"], fy["rd_expense"], fy["rd_expense_domestic"] = s, r, r


def test_established_example_is_eligible(engine, established):
    assert outcome(evaluate(engine, established["profile"], HTE), HTE) == "eligible"


# ---------------------------------------------------------------- 第二条 居民企业


def test_art2_non_resident_enterprise_fails(engine, established):
    established["profile"]["resident_enterprise"] = False
    verdict, c = judge(engine, established["profile"], "resident_enterprise")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


# ---------------------------------------------------------------- 第十一条（一） 注册成立一年以上


def test_art11_1_registered_exactly_one_year_before_passes(engine, established):
    # 2024-06-30 → 2025-06-30: one full year on the anniversary; 一年以上 includes the year itself
    established["profile"]["registered_on"] = "2024-06-30"
    verdict, c = judge(engine, established["profile"], "art11_1_registered_one_year")
    assert c["actual"] == 1
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_1_registered_a_day_short_of_one_year_fails(engine, established):
    # 2024-07-01 → 2025-06-30: 364 days, the anniversary not yet reached
    established["profile"]["registered_on"] = "2024-07-01"
    verdict, c = judge(engine, established["profile"], "art11_1_registered_one_year")
    assert c["actual"] == 0
    assert (verdict, c["status"]) == ("ineligible", "unmet")
    assert c["gap"] == "1"


def test_art11_1_a_year_spanning_29_february_is_counted_by_calendar_date(engine, established):
    # 2023-03-01 → 2024-02-29 is 365 days but not yet a year: the anniversary is 2024-03-01
    established["profile"]["registered_on"] = "2023-03-01"
    verdict, c = judge(engine, established["profile"], "art11_1_registered_one_year", as_of="2024-02-29")
    assert c["actual"] == 0
    assert c["status"] == "unmet"


def test_art11_1_unknown_registration_date_is_undetermined_naming_it(engine, established):
    established["profile"]["registered_on"] = None
    result = evaluate(engine, established["profile"], HTE)
    assert outcome(result, HTE) == "undetermined"
    assert missing_paths(result, HTE) == ["registered_on"]


# ---------------------------------------------------------------- 第十一条（二） 核心知识产权


def test_art11_2_without_core_ip_fails(engine, established):
    established["profile"]["ip"]["core_ip_owned"] = False
    verdict, c = judge(engine, established["profile"], "art11_2_core_ip")
    assert (verdict, c["status"]) == ("ineligible", "unmet")
    assert c["remedy"]


def test_art11_2_unknown_core_ip_is_undetermined_naming_it(engine, established):
    established["profile"]["ip"]["core_ip_owned"] = None
    result = evaluate(engine, established["profile"], HTE)
    assert outcome(result, HTE) == "undetermined"
    assert missing_paths(result, HTE) == ["ip.core_ip_owned"]


# ---------------------------------------------------------------- 第十一条（三） 高新技术领域


@pytest.mark.parametrize(
    "field",
    [
        "electronic_information",
        "biomedicine",
        "aerospace",
        "new_materials",
        "high_tech_services",
        "new_energy",
        "resources_environment",
        "advanced_manufacturing",
    ],
)
def test_art11_3_each_of_the_eight_supported_fields_passes(engine, established, field):
    established["profile"]["tech_field"] = field
    verdict, c = judge(engine, established["profile"], "art11_3_tech_field")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_3_technology_outside_the_eight_fields_fails(engine, established):
    established["profile"]["tech_field"] = "none"
    verdict, c = judge(engine, established["profile"], "art11_3_tech_field")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


# ---------------------------------------------------------------- 第十一条（四） 科技人员不低于10%


def test_art11_4_tech_staff_exactly_10_percent_passes(engine, established):
    # Y = 2024: 100 ÷ 1000 = 10%, 不低于10% includes 10%
    fy = fiscal_year(established["profile"], 2024)
    fy["employees"], fy["tech_staff"] = 1000, 100
    verdict, c = judge(engine, established["profile"], "art11_4_tech_staff_ratio")
    assert c["actual"] == "0.1"
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_4_tech_staff_just_under_10_percent_fails(engine, established):
    # Y = 2024: 99 ÷ 1000 = 9.9% < 10%; one more person would do
    fy = fiscal_year(established["profile"], 2024)
    fy["employees"], fy["tech_staff"] = 1000, 99
    verdict, c = judge(engine, established["profile"], "art11_4_tech_staff_ratio")
    assert (verdict, c["status"]) == ("ineligible", "unmet")
    assert c["gap"] == "0.001"
    assert "1 人" in c["need"]


def test_art11_4_tech_staff_ratio_uses_the_last_year_only(engine, established):
    # 2022 and 2023 at 5% do not matter: 2024 has 70 ÷ 200 = 35%
    for year in (2022, 2023):
        fiscal_year(established["profile"], year)["tech_staff"] = 10
    verdict, c = judge(engine, established["profile"], "art11_4_tech_staff_ratio")
    assert (verdict, c["status"]) == ("eligible", "met")


# ---------------------------------------------------------------- 第十一条（五） 研发费用占比，按最近一年销售收入分档


def test_art11_5_sales_exactly_5000_is_in_the_5_percent_band_and_5_percent_passes(engine, established):
    # Y sales 5000 万元 ≤ 5000（含） → 5% band; (250 × 3) ÷ (5000 × 3) = 750 ÷ 15000 = 5%
    set_rd_years(established["profile"], ("5000", "5000", "5000"), ("250", "250", "250"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.05"
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_5_sales_exactly_5000_a_hair_under_5_percent_fails(engine, established):
    # 749.999999 ÷ 15000 = 4.99999999…% < 5%
    set_rd_years(established["profile"], ("5000", "5000", "5000"), ("250", "250", "249.999999"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.05"
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art11_5_sales_exactly_5000_with_4_percent_fails(engine, established):
    # 5000（含） stays in the 5% band: 600 ÷ 15000 = 4% is not enough there
    set_rd_years(established["profile"], ("5000", "5000", "5000"), ("200", "200", "200"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.05"
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art11_5_sales_5000_01_is_in_the_4_percent_band_and_4_percent_passes(engine, established):
    # Y sales 5000.01 > 5000 → 4% band; sums 4999.99 + 5000 + 5000.01 = 15000, 600 ÷ 15000 = 4%
    set_rd_years(established["profile"], ("4999.99", "5000", "5000.01"), ("200", "200", "200"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.04"
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_5_sales_5000_01_a_hair_under_4_percent_fails(engine, established):
    # 599.999999 ÷ 15000 = 3.99999999…% < 4%
    set_rd_years(established["profile"], ("4999.99", "5000", "5000.01"), ("200", "200", "199.999999"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.04"
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art11_5_sales_exactly_20000_is_in_the_4_percent_band_and_4_percent_passes(engine, established):
    # Y sales 20000 ≤ 2亿元（含） → 4% band; 2400 ÷ 60000 = 4%
    set_rd_years(established["profile"], ("20000", "20000", "20000"), ("800", "800", "800"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.04"
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_5_sales_exactly_20000_a_hair_under_4_percent_fails(engine, established):
    # 2399.999999 ÷ 60000 < 4%
    set_rd_years(established["profile"], ("20000", "20000", "20000"), ("800", "800", "799.999999"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.04"
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art11_5_sales_20000_01_is_in_the_3_percent_band_and_3_percent_passes(engine, established):
    # Y sales 20000.01 > 2亿元 → 3% band; sums 19999.99 + 20000 + 20000.01 = 60000, 1800 ÷ 60000 = 3%
    set_rd_years(established["profile"], ("19999.99", "20000", "20000.01"), ("600", "600", "600"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.03"
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_5_sales_20000_01_a_hair_under_3_percent_fails(engine, established):
    # 1799.999999 ÷ 60000 < 3%
    set_rd_years(established["profile"], ("19999.99", "20000", "20000.01"), ("600", "600", "599.999999"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.03"
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art11_5_band_is_chosen_by_last_year_sales_not_by_the_three_year_sum(engine, established):
    # Y sales 4000 → 5% band, though 30000 + 30000 + 4000 = 64000 (average 21333 > 20000) would
    # read as the 3% band; 2000 ÷ 64000 = 3.125% passes 3% but not 5%
    set_rd_years(established["profile"], ("30000", "30000", "4000"), ("900", "900", "200"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.05"
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art11_5_ratio_uses_three_year_sums_not_the_last_year_alone(engine, established):
    # Y alone: 500 ÷ 5000 = 10%; three years: (50 + 50 + 500) ÷ 15000 = 4% < 5% → fails
    set_rd_years(established["profile"], ("5000", "5000", "5000"), ("50", "50", "500"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["actual"] == "0.04"
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art11_5_low_last_year_ratio_passes_when_the_three_year_sums_reach_the_band(engine, established):
    # Y alone: 50 ÷ 5000 = 1%; three years: (350 + 350 + 50) ÷ 15000 = 5% → passes
    set_rd_years(established["profile"], ("5000", "5000", "5000"), ("350", "350", "50"))
    verdict, c = judge(engine, established["profile"], "art11_5_rd_expense_ratio")
    assert c["actual"] == "0.05"
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_5_registered_later_counts_only_the_years_since_registration(engine, established):
    # 实际经营期不满三年的按实际经营时间计算: registered 2023-03-01 → 2023 and 2024 only.
    # (50 + 50) ÷ (1000 + 1000) = 5%; a 2022 entry (0 R&D on 100000 sales) would give 0.098% were it counted
    profile = established["profile"]
    profile["registered_on"] = "2023-03-01"
    set_rd_years(profile, ("100000", "1000", "1000"), ("0", "50", "50"))
    verdict, c = judge(engine, profile, "art11_5_rd_expense_ratio")
    assert c["actual"] == "0.05"
    assert c["expected"] == "0.05"
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_5_registered_later_missing_its_first_year_is_undetermined_naming_it(engine, young):
    # the young example was registered 2023-09-01: 2023 and 2024 count; without 2023 nothing adds up
    drop_fiscal_year(young["profile"], 2023)
    young["profile"]["innovation_score"] = 80
    result = evaluate(engine, young["profile"], HTE)
    assert outcome(result, HTE) == "undetermined"
    assert missing_paths(result, HTE) == ["fiscal_years[2023]"]


def test_art11_5_young_enterprise_ratio_over_its_two_years(engine, young):
    # (75.70 + 84.00) ÷ (1081.39 + 1200) = 159.70 ÷ 2281.39 = 7.0% ≥ 5% (Y sales 1200 ≤ 5000)
    young["profile"]["innovation_score"] = 80
    verdict, c = judge(engine, young["profile"], "art11_5_rd_expense_ratio")
    assert c["expected"] == "0.05"
    assert (verdict, c["status"]) == ("eligible", "met")


# ---------------------------------------------------------------- 第十一条（五） 境内研发费用不低于60%


def set_domestic(profile: dict, rd: tuple[str, str, str], domestic: tuple[str, str, str]) -> None:
    for year, r, d in zip((2022, 2023, 2024), rd, domestic, strict=True):
        fy = fiscal_year(profile, year)
        fy["rd_expense"], fy["rd_expense_domestic"] = r, d


def test_art11_5_domestic_rd_exactly_60_percent_passes(engine, established):
    # (300 + 360 + 420) ÷ (500 + 600 + 700) = 1080 ÷ 1800 = 60%
    set_domestic(established["profile"], ("500", "600", "700"), ("300", "360", "420"))
    verdict, c = judge(engine, established["profile"], "art11_5_domestic_rd_ratio")
    assert c["actual"] == "0.6"
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_5_domestic_rd_a_hair_under_60_percent_fails(engine, established):
    # 1079.999999 ÷ 1800 < 60%
    set_domestic(established["profile"], ("500", "600", "700"), ("300", "360", "419.999999"))
    verdict, c = judge(engine, established["profile"], "art11_5_domestic_rd_ratio")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


# ---------------------------------------------------------------- 第十一条（六） 高新技术收入不低于60%


def test_art11_6_high_tech_revenue_exactly_60_percent_passes(engine, established):
    # Y = 2024: 6000 ÷ 10000 = 60%
    fy = fiscal_year(established["profile"], 2024)
    fy["total_revenue"], fy["high_tech_revenue"] = "10000", "6000"
    verdict, c = judge(engine, established["profile"], "art11_6_high_tech_revenue_ratio")
    assert c["actual"] == "0.6"
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_6_high_tech_revenue_a_hair_under_60_percent_fails(engine, established):
    # 5999.999999 ÷ 10000 = 59.99999999% < 60%
    fy = fiscal_year(established["profile"], 2024)
    fy["total_revenue"], fy["high_tech_revenue"] = "10000", "5999.999999"
    verdict, c = judge(engine, established["profile"], "art11_6_high_tech_revenue_ratio")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


# ---------------------------------------------------------------- 第十一条（七） 创新能力 70分以上（不含70分）


def test_art11_7_innovation_score_exactly_70_fails(engine, established):
    # 70分以上（不含70分）: strictly more than 70
    established["profile"]["innovation_score"] = 70
    verdict, c = judge(engine, established["profile"], "art11_7_innovation_score")
    assert (verdict, c["status"]) == ("ineligible", "unmet")
    assert "须超过" in c["gap_display"]


def test_art11_7_innovation_score_70_01_passes(engine, established):
    established["profile"]["innovation_score"] = "70.01"
    verdict, c = judge(engine, established["profile"], "art11_7_innovation_score")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art11_7_unknown_innovation_score_is_undetermined_naming_it(engine, established):
    established["profile"]["innovation_score"] = None
    result = evaluate(engine, established["profile"], HTE)
    assert outcome(result, HTE) == "undetermined"
    assert missing_paths(result, HTE) == ["innovation_score"]


# ---------------------------------------------------------------- 第十一条（八） 安全、质量、环境


@pytest.mark.parametrize(
    ("field", "criterion_id"),
    [
        ("major_safety_quality_incident_within_1y", "no_major_incident"),
        ("serious_environmental_violation_within_1y", "no_environmental_violation"),
    ],
)
def test_art11_8_an_incident_or_violation_within_a_year_fails(engine, established, field, criterion_id):
    established["profile"]["compliance"][field] = True
    verdict, c = judge(engine, established["profile"], criterion_id)
    assert (verdict, c["status"]) == ("ineligible", "unmet")


# ---------------------------------------------------------------- missing data


def test_missing_last_fiscal_year_is_undetermined_naming_it(engine, established):
    drop_fiscal_year(established["profile"], 2024)
    result = evaluate(engine, established["profile"], HTE)
    assert outcome(result, HTE) == "undetermined"
    assert "fiscal_years[2024]" in missing_paths(result, HTE)


def test_missing_last_year_tech_staff_is_undetermined_naming_it(engine, established):
    fiscal_year(established["profile"], 2024)["tech_staff"] = None
    result = evaluate(engine, established["profile"], HTE)
    assert outcome(result, HTE) == "undetermined"
    assert missing_paths(result, HTE) == ["fiscal_years[2024].tech_staff"]


def test_hte_recognition_evaluated_alone(engine, established, tmp_path):
    # a pack of the national measures: tsme-evaluation (scored) shares the ruleset of HTE
    national = national_engine(engine, tmp_path)
    assert share_a_ruleset(national, AS_OF, HTE, "tsme-evaluation")
    result = national.explain(established["profile"], AS_OF, measures=[HTE])
    assert outcome(result, HTE) == "eligible"
