"""Boundary tests of tsme-evaluation: 《科技型中小企业评价办法》（国科发政〔2017〕115号）第六条、第七条、第八条.

不超过/不低于/以上 include the number. The profile is the established example as of 2025-06-30
(Y = 2024): 200 employees, 70 tech staff (35% → 20), R&D 630 on sales 9000 (7% → 50), two class I
IP (30): score 100, no direct route.
"""

from __future__ import annotations

import pytest

from tests.conftest import criterion, outcome
from tests.rules.helpers import AS_OF, drop_fiscal_year, evaluate, fiscal_year, missing_paths, result_of

TSME = "tsme-evaluation"


def judge(engine, profile: dict, criterion_id: str, as_of: str = AS_OF) -> tuple[str, dict]:
    result = evaluate(engine, profile, TSME, as_of)
    return outcome(result, TSME), criterion(result, TSME, criterion_id)


def scores(engine, profile: dict) -> dict:
    """The score's total and parts, as the result shows them."""
    s = result_of(evaluate(engine, profile, TSME), TSME)["scores"]["tsme_score"]
    return {"total": s["total"], **{k: v["points"] for k, v in s["parts"].items()}}


def set_score_inputs(
    profile: dict,
    *,
    employees: int = 200,
    tech_staff: int = 70,
    sales: str = "9000",
    cost: str = "7200",
    rd: str = "630",
    class_i: int = 0,
    class_ii: int = 0,
) -> None:
    fy = fiscal_year(profile, 2024)
    fy.update(
        employees=employees,
        tech_staff=tech_staff,
        sales_revenue=sales,
        cost_and_expense=cost,
        rd_expense=rd,
        rd_expense_domestic=rd,
    )
    profile["ip"].update(class_i_count=class_i, class_ii_count=class_ii)


@pytest.fixture
def low_score(established) -> dict:
    """Base conditions met, score 0: 10 ÷ 200 = 5% (0), 100 ÷ 9000 = 1.11% and 100 ÷ 7200 = 1.39% (0), no IP (0)."""
    profile = established["profile"]
    set_score_inputs(profile, tech_staff=10, rd="100")
    return profile


def test_established_example_is_eligible_with_score_100(engine, established):
    assert outcome(evaluate(engine, established["profile"], TSME), TSME) == "eligible"
    assert scores(engine, established["profile"]) == {
        "total": "100",
        "tech_staff": "20",
        "rd": "50",
        "ip": "30",
    }


def test_young_example_is_eligible(engine, young):
    assert outcome(evaluate(engine, young["profile"], TSME), TSME) == "eligible"


def test_low_score_profile_scores_0_and_fails_without_a_direct_route(engine, low_score):
    assert scores(engine, low_score) == {"total": "0", "tech_staff": "0", "rd": "0", "ip": "0"}
    verdict, c = judge(engine, low_score, "art6_5_score_at_least_60")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


# ---------------------------------------------------------------- 第六条（一） 居民企业


def test_art6_1_non_resident_enterprise_fails(engine, established):
    established["profile"]["resident_enterprise"] = False
    verdict, c = judge(engine, established["profile"], "art6_1_resident_enterprise")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


# ---------------------------------------------------------------- 第六条（二） 规模


def test_art6_2_exactly_500_employees_passes(engine, established):
    # 不超过500人 includes 500 (70 ÷ 500 = 14% → 4; score 4 + 50 + 30 = 84)
    fiscal_year(established["profile"], 2024)["employees"] = 500
    verdict, c = judge(engine, established["profile"], "art6_2_employees")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art6_2_501_employees_fails(engine, established):
    fiscal_year(established["profile"], 2024)["employees"] = 501
    verdict, c = judge(engine, established["profile"], "art6_2_employees")
    assert (verdict, c["status"]) == ("ineligible", "unmet")
    assert c["gap"] == "1"


def test_art6_2_sales_exactly_20000_passes(engine, established):
    # 2亿元 = 20000 万元（含）; score 20 + 20 (630 ÷ 20000 = 3.15%) + 30 = 70
    fiscal_year(established["profile"], 2024)["sales_revenue"] = "20000"
    verdict, c = judge(engine, established["profile"], "art6_2_sales_revenue")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art6_2_sales_20000_01_fails(engine, established):
    fiscal_year(established["profile"], 2024)["sales_revenue"] = "20000.01"
    verdict, c = judge(engine, established["profile"], "art6_2_sales_revenue")
    assert (verdict, c["status"]) == ("ineligible", "unmet")
    assert c["gap"] == "0.01"


def test_art6_2_total_assets_exactly_20000_passes(engine, established):
    fiscal_year(established["profile"], 2024)["total_assets"] = "20000"
    verdict, c = judge(engine, established["profile"], "art6_2_total_assets")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art6_2_total_assets_20000_01_fails(engine, established):
    fiscal_year(established["profile"], 2024)["total_assets"] = "20000.01"
    verdict, c = judge(engine, established["profile"], "art6_2_total_assets")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art6_2_size_is_judged_on_the_last_year(engine, established):
    # 2023 with 600 employees and 25000 万元 of sales does not matter: Y = 2024
    fy = fiscal_year(established["profile"], 2023)
    fy["employees"], fy["sales_revenue"] = 600, "25000"
    assert outcome(evaluate(engine, established["profile"], TSME), TSME) == "eligible"


# ---------------------------------------------------------------- 第六条（三）（四）


def test_art6_3_prohibited_products_fail(engine, established):
    established["profile"]["prohibited_category"] = True
    verdict, c = judge(engine, established["profile"], "art6_3_not_prohibited")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


@pytest.mark.parametrize(
    ("field", "criterion_id"),
    [
        ("major_safety_quality_incident_within_1y", "art6_4_no_major_incident"),
        ("serious_environmental_violation_within_1y", "art6_4_no_environmental_violation"),
        ("serious_research_misconduct", "art6_4_no_research_misconduct"),
        ("abnormal_operation_list", "art6_4_not_abnormal_operation"),
        ("serious_dishonesty_list", "art6_4_not_serious_dishonesty"),
    ],
)
def test_art6_4_each_incident_misconduct_or_listing_fails(engine, established, field, criterion_id):
    established["profile"]["compliance"][field] = True
    verdict, c = judge(engine, established["profile"], criterion_id)
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art6_4_a_listing_fails_even_with_a_direct_route(engine, established):
    # 第八条 applies only to enterprises meeting 第六条（一）～（四）
    established["profile"]["compliance"]["serious_dishonesty_list"] = True
    established["profile"]["honors"]["rd_institution_level"] = "national"
    assert outcome(evaluate(engine, established["profile"], TSME), TSME) == "ineligible"


# ---------------------------------------------------------------- 第七条 科技人员指标（满分20分）

# employees 10000 so that one person is 0.01%: the size condition fails, but the points are
# computed all the same and are what these tests are about.
TECH_STAFF_EDGES = [
    pytest.param(3000, "20", id="exactly_30_percent_scores_20"),
    pytest.param(2999, "16", id="just_under_30_percent_scores_16"),
    pytest.param(2500, "16", id="exactly_25_percent_scores_16"),
    pytest.param(2499, "12", id="just_under_25_percent_scores_12"),
    pytest.param(2000, "12", id="exactly_20_percent_scores_12"),
    pytest.param(1999, "8", id="just_under_20_percent_scores_8"),
    pytest.param(1500, "8", id="exactly_15_percent_scores_8"),
    pytest.param(1499, "4", id="just_under_15_percent_scores_4"),
    pytest.param(1000, "4", id="exactly_10_percent_scores_4"),
    pytest.param(999, "0", id="just_under_10_percent_scores_0"),
    pytest.param(0, "0", id="no_tech_staff_scores_0"),
]


@pytest.mark.parametrize(("tech_staff", "points"), TECH_STAFF_EDGES)
def test_art7_tech_staff_band_edges_score_as_published(engine, established, tech_staff, points):
    # A 30%（含）以上 20; B 25%（含）-30% 16; C 20%（含）-25% 12; D 15%（含）-20% 8; E 10%（含）-15% 4; F 10%以下 0
    set_score_inputs(established["profile"], employees=10000, tech_staff=tech_staff)
    assert scores(engine, established["profile"])["tech_staff"] == points


# ---------------------------------------------------------------- 第七条 研发投入指标（满分50分）

# sales 10000, cost 100000: R&D ÷ cost stays under 10% (0 points), so the sales ratio decides
RD_TO_SALES_EDGES = [
    pytest.param("600", "50", id="exactly_6_percent_scores_50"),
    pytest.param("599.999999", "40", id="just_under_6_percent_scores_40"),
    pytest.param("500", "40", id="exactly_5_percent_scores_40"),
    pytest.param("499.999999", "30", id="just_under_5_percent_scores_30"),
    pytest.param("400", "30", id="exactly_4_percent_scores_30"),
    pytest.param("399.999999", "20", id="just_under_4_percent_scores_20"),
    pytest.param("300", "20", id="exactly_3_percent_scores_20"),
    pytest.param("299.999999", "10", id="just_under_3_percent_scores_10"),
    pytest.param("200", "10", id="exactly_2_percent_scores_10"),
    pytest.param("199.999999", "0", id="just_under_2_percent_scores_0"),
]


@pytest.mark.parametrize(("rd", "points"), RD_TO_SALES_EDGES)
def test_art7_rd_to_sales_band_edges_score_as_published(engine, established, rd, points):
    # (1) 研发费用总额占销售收入总额: A 6%（含）以上 50 … E 2%（含）-3% 10; F 2%以下 0 (rd ÷ 10000)
    set_score_inputs(established["profile"], sales="10000", cost="100000", rd=rd)
    assert scores(engine, established["profile"])["rd"] == points


# sales 20000, cost 1000: R&D ÷ sales stays under 2% (0 points), so the cost ratio decides
RD_TO_COST_EDGES = [
    pytest.param("300", "50", id="exactly_30_percent_scores_50"),
    pytest.param("299.999999", "40", id="just_under_30_percent_scores_40"),
    pytest.param("250", "40", id="exactly_25_percent_scores_40"),
    pytest.param("249.999999", "30", id="just_under_25_percent_scores_30"),
    pytest.param("200", "30", id="exactly_20_percent_scores_30"),
    pytest.param("199.999999", "20", id="just_under_20_percent_scores_20"),
    pytest.param("150", "20", id="exactly_15_percent_scores_20"),
    pytest.param("149.999999", "10", id="just_under_15_percent_scores_10"),
    pytest.param("100", "10", id="exactly_10_percent_scores_10"),
    pytest.param("99.999999", "0", id="just_under_10_percent_scores_0"),
]


@pytest.mark.parametrize(("rd", "points"), RD_TO_COST_EDGES)
def test_art7_rd_to_cost_band_edges_score_as_published(engine, established, rd, points):
    # (2) 研发费用总额占成本费用支出总额: A 30%（含）以上 50 … E 10%（含）-15% 10; F 10%以下 0 (rd ÷ 1000)
    set_score_inputs(established["profile"], sales="20000", cost="1000", rd=rd)
    assert scores(engine, established["profile"])["rd"] == points


def test_art7_rd_takes_the_sales_ratio_when_it_scores_higher(engine, established):
    # 600 ÷ 10000 = 6% → 50; 600 ÷ 2400 = 25% → 40; 企业从两项指标中选择一个 → 50, not 90
    set_score_inputs(established["profile"], sales="10000", cost="2400", rd="600")
    assert scores(engine, established["profile"])["rd"] == "50"


def test_art7_rd_takes_the_cost_ratio_when_it_scores_higher(engine, established):
    # 600 ÷ 20000 = 3% → 20; 600 ÷ 2000 = 30% → 50 → 50, not 70
    set_score_inputs(established["profile"], sales="20000", cost="2000", rd="600")
    assert scores(engine, established["profile"])["rd"] == "50"


# ---------------------------------------------------------------- 第七条 科技成果指标（满分30分）

IP_EDGES = [
    pytest.param(1, 0, "30", id="one_class_i_scores_30"),
    pytest.param(1, 5, "30", id="class_i_with_class_ii_scores_30_not_the_sum"),
    pytest.param(0, 10, "24", id="ten_class_ii_scores_24"),
    pytest.param(0, 4, "24", id="exactly_4_class_ii_scores_24"),
    pytest.param(0, 3, "18", id="3_class_ii_score_18"),
    pytest.param(0, 2, "12", id="2_class_ii_score_12"),
    pytest.param(0, 1, "6", id="1_class_ii_scores_6"),
    pytest.param(0, 0, "0", id="no_ip_scores_0"),
]


@pytest.mark.parametrize(("class_i", "class_ii", "points"), IP_EDGES)
def test_art7_ip_bands_score_as_published(engine, established, class_i, class_ii, points):
    # A 1项及以上Ⅰ类 30; B 4项及以上Ⅱ类 24; C 3项 18; D 2项 12; E 1项 6; F 没有 0
    set_score_inputs(established["profile"], class_i=class_i, class_ii=class_ii)
    assert scores(engine, established["profile"])["ip"] == points


# ---------------------------------------------------------------- 第六条（五） 不低于60分，科技人员不为0分


def test_art6_5_score_exactly_60_passes(engine, established):
    # 20 ÷ 200 = 10% → 4; 540 ÷ 9000 = 6% → 50; one class II → 6: 4 + 50 + 6 = 60 ≥ 60
    set_score_inputs(established["profile"], tech_staff=20, rd="540", class_ii=1)
    verdict, c = judge(engine, established["profile"], "art6_5_score_at_least_60")
    assert c["actual"] == "60"
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art6_5_score_58_fails(engine, established):
    # every part scores an even number, so 59 cannot arise under the published tables: 58 is the
    # highest score below 60. 20 ÷ 200 = 10% → 4; 360 ÷ 9000 = 4% → 30; four class II → 24: 58
    set_score_inputs(established["profile"], tech_staff=20, rd="360", class_ii=4)
    verdict, c = judge(engine, established["profile"], "art6_5_score_at_least_60")
    assert c["actual"] == "58"
    assert (verdict, c["status"]) == ("ineligible", "unmet")
    assert c["gap"] == "2"
    assert c["remedy"]


def test_art6_5_score_59_fails(engine, established):
    # a 59 needs an odd part: try the tech-staff table with 5 points at 10% (an override, not the
    # published table): 5 + 30 (4%) + 24 (four class II) = 59 < 60
    set_score_inputs(established["profile"], tech_staff=20, rd="360", class_ii=4)
    table = [{"at_least": "0.10", "points": "5"}]
    result = evaluate(
        engine, established["profile"], TSME, overrides={"tsme-evaluation.tech_staff_points": table}
    )
    c = criterion(result, TSME, "art6_5_score_at_least_60")
    assert c["actual"] == "59"
    assert (outcome(result, TSME), c["status"]) == ("ineligible", "unmet")


def test_art6_5_zero_tech_staff_score_fails_even_with_score_80(engine, established):
    # 19 ÷ 200 = 9.5% → 0; 630 ÷ 9000 = 7% → 50; class I → 30: 80 ≥ 60, but 科技人员指标得分不得为0分
    set_score_inputs(established["profile"], tech_staff=19, class_i=1)
    result = evaluate(engine, established["profile"], TSME)
    assert criterion(result, TSME, "art6_5_score_at_least_60")["status"] == "met"
    c = criterion(result, TSME, "art6_5_tech_staff_score_nonzero")
    assert (c["actual"], c["status"]) == ("0", "unmet")
    assert outcome(result, TSME) == "ineligible"


def test_art6_5_tech_staff_exactly_10_percent_gives_a_non_zero_score(engine, established):
    # 20 ÷ 200 = 10% → 4 > 0; 4 + 50 + 30 = 84
    set_score_inputs(established["profile"], tech_staff=20, class_i=1)
    verdict, c = judge(engine, established["profile"], "art6_5_tech_staff_score_nonzero")
    assert (c["actual"], c["status"]) == ("4", "met")
    assert verdict == "eligible"


# ---------------------------------------------------------------- 第八条 直接确认


def test_art8_1_valid_hte_certificate_qualifies_directly(engine, low_score):
    # issued 2022-07-01: valid while as_of < 2025-07-01; 2025-06-30 is its last day
    low_score["certifications"]["hte"] = {"certificate_no": "GR202237000001", "issued_on": "2022-07-01"}
    verdict, c = judge(engine, low_score, "art8_1_valid_hte_certificate")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art8_1_hte_certificate_expired_on_as_of_does_not_qualify(engine, low_score):
    # issued 2022-06-30: valid until 2025-06-30 exclusive (三年), so expired on as_of
    low_score["certifications"]["hte"] = {"certificate_no": "GR202237000001", "issued_on": "2022-06-30"}
    verdict, c = judge(engine, low_score, "art8_1_valid_hte_certificate")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art8_1_hte_certificate_issued_after_as_of_does_not_qualify(engine, low_score):
    low_score["certifications"]["hte"] = {"certificate_no": "GR202537000001", "issued_on": "2025-07-01"}
    verdict, c = judge(engine, low_score, "art8_1_valid_hte_certificate")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art8_2_national_award_exactly_five_years_ago_qualifies(engine, low_score):
    # 近五年内: 2025-06-30 − 5 years = 2020-06-30, included
    low_score["honors"]["national_sci_award_top3_on"] = "2020-06-30"
    verdict, c = judge(engine, low_score, "art8_2_national_sci_award")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art8_2_national_award_a_day_over_five_years_ago_does_not_qualify(engine, low_score):
    low_score["honors"]["national_sci_award_top3_on"] = "2020-06-29"
    verdict, c = judge(engine, low_score, "art8_2_national_sci_award")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


@pytest.mark.parametrize("level", ["provincial", "national"])
def test_art8_3_provincial_or_higher_rd_institution_qualifies(engine, low_score, level):
    low_score["honors"]["rd_institution_level"] = level
    verdict, c = judge(engine, low_score, "art8_3_rd_institution")
    assert (verdict, c["status"]) == ("eligible", "met")


@pytest.mark.parametrize("level", ["municipal", "none"])
def test_art8_3_municipal_or_no_rd_institution_does_not_qualify(engine, low_score, level):
    low_score["honors"]["rd_institution_level"] = level
    verdict, c = judge(engine, low_score, "art8_3_rd_institution")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art8_4_standard_led_exactly_five_years_ago_qualifies(engine, low_score):
    low_score["honors"]["led_standard_on"] = "2020-06-30"
    verdict, c = judge(engine, low_score, "art8_4_led_standard")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_art8_4_standard_led_a_day_over_five_years_ago_does_not_qualify(engine, low_score):
    low_score["honors"]["led_standard_on"] = "2020-06-29"
    verdict, c = judge(engine, low_score, "art8_4_led_standard")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_art8_direct_route_needs_the_base_conditions(engine, low_score):
    # 符合第六条第（一）～（四）项条件的企业: 501 employees fail even with a valid certificate
    low_score["certifications"]["hte"] = {"certificate_no": "GR202237000001", "issued_on": "2024-12-01"}
    fiscal_year(low_score, 2024)["employees"] = 501
    assert outcome(evaluate(engine, low_score, TSME), TSME) == "ineligible"


def test_art8_direct_route_waives_the_tech_staff_score(engine, low_score):
    # tech staff 5% (0 points) and score 0: a national R&D institution qualifies all the same
    low_score["honors"]["rd_institution_level"] = "national"
    result = evaluate(engine, low_score, TSME)
    assert criterion(result, TSME, "art6_5_tech_staff_score_nonzero")["status"] == "unmet"
    assert outcome(result, TSME) == "eligible"


# ---------------------------------------------------------------- missing data


def test_missing_employees_is_undetermined_naming_it(engine, established):
    fiscal_year(established["profile"], 2024)["employees"] = None
    result = evaluate(engine, established["profile"], TSME)
    assert outcome(result, TSME) == "undetermined"
    assert missing_paths(result, TSME) == ["fiscal_years[2024].employees"]


def test_missing_last_fiscal_year_is_undetermined_naming_it(engine, established):
    drop_fiscal_year(established["profile"], 2024)
    result = evaluate(engine, established["profile"], TSME)
    assert outcome(result, TSME) == "undetermined"
    assert missing_paths(result, TSME) == ["fiscal_years[2024]"]


def test_missing_tech_staff_without_a_direct_route_is_undetermined_naming_it(engine, established):
    fiscal_year(established["profile"], 2024)["tech_staff"] = None
    result = evaluate(engine, established["profile"], TSME)
    assert outcome(result, TSME) == "undetermined"
    assert missing_paths(result, TSME) == ["fiscal_years[2024].tech_staff"]


def test_missing_tech_staff_does_not_matter_with_a_direct_route(engine, established):
    fiscal_year(established["profile"], 2024)["tech_staff"] = None
    established["profile"]["honors"]["led_standard_on"] = "2023-05-01"
    assert outcome(evaluate(engine, established["profile"], TSME), TSME) == "eligible"


def test_unknown_rd_institution_level_with_a_low_score_is_undetermined_naming_it(engine, low_score):
    low_score["honors"]["rd_institution_level"] = None
    result = evaluate(engine, low_score, TSME)
    assert outcome(result, TSME) == "undetermined"
    assert missing_paths(result, TSME) == ["honors.rd_institution_level"]


def test_unknown_class_ii_count_does_not_matter_with_a_class_i_right(engine, established):
    # one class I already scores the IP maximum (30): the class II count cannot change it
    established["profile"]["ip"].update(class_i_count=1, class_ii_count=None)
    assert scores(engine, established["profile"])["ip"] == "30"
    assert outcome(evaluate(engine, established["profile"], TSME), TSME) == "eligible"


def test_unknown_class_i_count_that_decides_the_score_is_undetermined_naming_it(engine, established):
    # 20 ÷ 200 = 10% → 4; 360 ÷ 9000 = 4% → 30; four class II → 24, or 30 with a class I right:
    # the score is 58 (fails) or 64 (passes), so the class I count decides
    set_score_inputs(established["profile"], tech_staff=20, rd="360", class_ii=4)
    established["profile"]["ip"]["class_i_count"] = None
    result = evaluate(engine, established["profile"], TSME)
    assert outcome(result, TSME) == "undetermined"
    assert missing_paths(result, TSME) == ["ip.class_i_count"]


def test_unknown_ip_does_not_matter_when_the_other_parts_reach_60(engine, established):
    # 70 ÷ 200 = 35% → 20; 630 ÷ 9000 = 7% → 50; IP unknown (0–30): the score is 70–100 ≥ 60
    established["profile"]["ip"].update(class_i_count=None, class_ii_count=None)
    assert outcome(evaluate(engine, established["profile"], TSME), TSME) == "eligible"


# ---------------------------------------------------------------- in force


def test_before_the_measure_was_issued_it_is_not_applicable(engine, established):
    result = engine.explain(established["profile"], "2017-05-02", measures=[TSME])
    assert outcome(result, TSME) == "not_applicable"
