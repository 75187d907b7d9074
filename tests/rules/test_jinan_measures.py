"""Claims about the Jinan measures of the 2023 work plan (rules/jinan/), on both backends.

The profiles start from tests/examples/*.json, assessed on 2025-06-30: the last fiscal year Y is 2024.
The established example (软件和信息技术服务业 I6513, 200 employees, 9000 万元 sales in 2024) is a
medium-sized enterprise registered in 历下区 (370103), holding no certificate; each test adds or
changes only what its claim is about.

Every evaluation runs the whole pack: asking for a subset of measures trips an engine bug (see
test_jinan_engine_limits.py), and the whole pack is what a user sees.
"""

from __future__ import annotations

import pytest

from tests.conftest import criterion, outcome

AS_OF = "2025-06-30"  # Y = 2024

CULTIVATION = "hte-cultivation-subsidy"
WHITELIST = "st-finance-whitelist"
LUMP_SUM = "lump-sum-funding-pilot"
LAND_USE = "land-use-priority"
JIEBANG = "jiebang-guashuai"
SHARING = "research-infrastructure-sharing"
PILOT_BASE = "pilot-base"
JOINT_LAB = "joint-lab"
ANGEL = "angel-venture-support"
INSURANCE = "tech-insurance"
KEY_LAB = "municipal-key-lab"

ENTERPRISE_MEASURES = [
    CULTIVATION,
    WHITELIST,
    JIEBANG,
    SHARING,
    PILOT_BASE,
    JOINT_LAB,
    ANGEL,
    INSURANCE,
    KEY_LAB,
]
PROJECT_MEASURES = [LUMP_SUM, LAND_USE]


# ---------------------------------------------------------------- helpers


def run(engine, profile: dict, as_of: str = AS_OF) -> dict:
    return engine.explain(profile, as_of)


def result_of(result: dict, measure: str, subject_id: str | None = None) -> dict:
    outcome(result, measure, subject_id)  # fails clearly when absent
    return next(
        r for r in result["results"] if r["measure_id"] == measure and r["subject"].get("id") == subject_id
    )


def missing_paths(result: dict, measure: str, subject_id: str | None = None) -> list[str]:
    return [m["path"] for m in result_of(result, measure, subject_id)["missing_facts"]]


def y(profile: dict, year: int = 2024) -> dict:
    return next(fy for fy in profile["fiscal_years"] if fy["year"] == year)


def give_hte(profile: dict, issued_on: str = "2024-12-01", first_time: bool | None = True) -> None:
    profile["certifications"]["hte"] = {
        "certificate_no": "GR202437000123",
        "issued_on": issued_on,
        "first_time": first_time,
    }


def give_tsme(profile: dict, year: int = 2025) -> None:
    profile["certifications"]["tsme"] = {"registration_no": f"{year}370103A0001234", "year": year}


def set_rd_expense(profile: dict, amount: str) -> None:
    fy = y(profile)
    fy["rd_expense"] = fy["rd_expense_domestic"] = amount


def set_size(profile: dict, employees: int | None, sales: str | None = None) -> None:
    """Employees (and sales revenue) of Y; tech staff kept within the head count."""
    fy = y(profile)
    fy["employees"] = employees
    if employees is not None:
        fy["tech_staff"] = min(fy["tech_staff"] or 0, employees)
    if sales is not None:
        fy["sales_revenue"] = sales
        fy["total_revenue"] = max(sales, fy["total_revenue"], key=float)


def judge(engine, profile: dict, measure: str, criterion_id: str, subject_id: str | None = None):
    result = run(engine, profile)
    return outcome(result, measure, subject_id), criterion(result, measure, criterion_id, subject_id)


# ================================================================ the examples of docs/contract.md §11


def test_example_established_lump_sum_p1_basic_research_is_eligible(engine, established):
    result = run(engine, established["profile"], established["as_of"])
    assert outcome(result, LUMP_SUM, "P1") == "eligible"
    assert result_of(result, LUMP_SUM, "P1")["benefit"]["kind"] == "status"


def test_example_established_lump_sum_p2_industrialization_is_ineligible(engine, established):
    result = run(engine, established["profile"], established["as_of"])
    assert outcome(result, LUMP_SUM, "P2") == "ineligible"
    c = criterion(result, LUMP_SUM, "talent_or_basic_research", "P2")
    assert (c["status"], c["actual"]) == ("unmet", "industrialization")


def test_example_established_land_use_p1_municipal_key_gets_municipal_county_quota(engine, established):
    result = run(engine, established["profile"], established["as_of"])
    assert outcome(result, LAND_USE, "P1") == "eligible"
    assert result_of(result, LAND_USE, "P1")["benefit"]["tier"] == "municipal_county_quota"


def test_example_established_land_use_p2_provincial_major_gets_provincial_quota(engine, established):
    result = run(engine, established["profile"], established["as_of"])
    assert outcome(result, LAND_USE, "P2") == "eligible"
    assert result_of(result, LAND_USE, "P2")["benefit"]["tier"] == "provincial_quota"


def test_example_young_lump_sum_t1_talent_is_eligible(engine, young):
    result = run(engine, young["profile"], young["as_of"])
    assert outcome(result, LUMP_SUM, "T1") == "eligible"


def test_example_young_land_use_t1_without_new_land_is_ineligible(engine, young):
    result = run(engine, young["profile"], young["as_of"])
    assert outcome(result, LAND_USE, "T1") == "ineligible"
    assert criterion(result, LAND_USE, "new_land_required", "T1")["status"] == "unmet"


def test_results_carry_the_pack_version_and_provisional_status(engine, established):
    result = run(engine, established["profile"])
    for mid in ENTERPRISE_MEASURES:
        r = result_of(result, mid)
        assert r["status"] == "provisional"
        assert r["rule_pack_version"] == result["rule_pack_version"]


# ================================================================ hte-cultivation-subsidy (五、9)


@pytest.fixture
def recognised(established) -> dict:
    """The established enterprise, recognised for the first time on 2024-12-01."""
    give_hte(established["profile"])
    return established["profile"]


def test_cultivation_recent_first_recognition_of_a_jinan_sme_is_eligible_for_10_wan(engine, recognised):
    result = run(engine, recognised)
    assert outcome(result, CULTIVATION) == "eligible"
    benefit = result_of(result, CULTIVATION)["benefit"]
    assert benefit["kind"] == "amount"
    assert (benefit["tier"], benefit["amount"], benefit["unit"]) == ("first_recognition", "10", "wan_yuan")
    assert benefit["provisional"] is True


def test_cultivation_re_recognition_pays_the_provisional_re_recognition_amount(engine, recognised):
    recognised["certifications"]["hte"]["first_time"] = False
    result = run(engine, recognised)
    benefit = result_of(result, CULTIVATION)["benefit"]
    assert (benefit["tier"], benefit["amount"]) == ("re_recognition", "5")


def test_cultivation_unknown_first_time_leaves_the_amount_open_but_not_the_outcome(engine, recognised):
    # first_time only picks the amount; eligibility does not depend on it
    recognised["certifications"]["hte"]["first_time"] = None
    result = run(engine, recognised)
    assert outcome(result, CULTIVATION) == "eligible"
    benefit = result_of(result, CULTIVATION)["benefit"]
    assert benefit["tier"] is None
    assert "amount" not in benefit
    assert benefit["tier_note"]


def test_cultivation_certificate_issued_exactly_one_year_before_as_of_counts(engine, recognised):
    # 2025-06-30 − 1 year = 2024-06-30: the window is 2024-06-30 … 2025-06-30, both ends included
    recognised["certifications"]["hte"]["issued_on"] = "2024-06-30"
    verdict, c = judge(engine, recognised, CULTIVATION, "hte_recognised_within_1y")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_cultivation_certificate_issued_a_day_before_the_year_does_not_count(engine, recognised):
    recognised["certifications"]["hte"]["issued_on"] = "2024-06-29"
    verdict, c = judge(engine, recognised, CULTIVATION, "hte_recognised_within_1y")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_cultivation_certificate_issued_on_as_of_counts(engine, recognised):
    recognised["certifications"]["hte"]["issued_on"] = AS_OF
    assert judge(engine, recognised, CULTIVATION, "hte_recognised_within_1y")[1]["status"] == "met"


def test_cultivation_certificate_issued_after_as_of_does_not_count(engine, recognised):
    recognised["certifications"]["hte"]["issued_on"] = "2025-07-01"
    assert judge(engine, recognised, CULTIVATION, "hte_recognised_within_1y")[1]["status"] == "unmet"


def test_cultivation_without_a_certificate_is_ineligible_with_a_remedy(engine, established):
    verdict, c = judge(engine, established["profile"], CULTIVATION, "hte_recognised_within_1y")
    assert (verdict, c["status"]) == ("ineligible", "unmet")
    assert "高新技术企业认定" in c["remedy"]


def test_cultivation_large_enterprise_is_not_an_sme(engine, recognised):
    # I65 软件和信息技术服务业: large needs employees ≥ 300 and revenue ≥ 10000
    set_size(recognised, 300, "10000")
    verdict, c = judge(engine, recognised, CULTIVATION, "sme_size_class")
    assert (verdict, c["status"], c["actual"]) == ("ineligible", "unmet", "large")


def test_cultivation_one_employee_short_of_large_is_medium_and_eligible(engine, recognised):
    set_size(recognised, 299, "10000")
    verdict, c = judge(engine, recognised, CULTIVATION, "sme_size_class")
    assert (verdict, c["status"], c["actual"]) == ("eligible", "met", "medium")


def test_cultivation_micro_enterprise_counts_as_sme(engine, recognised):
    # INTERPRETATION: 中小企业 includes micro (I65: employees < 10 → micro)
    set_size(recognised, 9, "9000")
    verdict, c = judge(engine, recognised, CULTIVATION, "sme_size_class")
    assert (verdict, c["actual"]) == ("eligible", "micro")


@pytest.mark.parametrize(
    ("region_code", "expected"),
    [
        ("370103", "eligible"),  # 市中区
        ("370116", "eligible"),  # 莱芜区, part of Jinan since 2019
        ("370117", "eligible"),  # 钢城区
        ("370203", "ineligible"),  # 青岛市市北区
        ("110108", "ineligible"),  # 北京市海淀区
    ],
)
def test_cultivation_jinan_registration(engine, recognised, region_code, expected):
    recognised["region_code"] = region_code
    verdict, c = judge(engine, recognised, CULTIVATION, "registered_in_jinan")
    assert verdict == expected
    assert c["actual"] == region_code[:4]


def test_cultivation_missing_region_is_undetermined_and_names_it(engine, recognised):
    recognised["region_code"] = None
    result = run(engine, recognised)
    assert outcome(result, CULTIVATION) == "undetermined"
    assert missing_paths(result, CULTIVATION) == ["region_code"]


def test_cultivation_missing_employees_is_undetermined_and_names_the_year(engine, recognised):
    y(recognised)["employees"] = None
    y(recognised)["tech_staff"] = None
    result = run(engine, recognised)
    assert outcome(result, CULTIVATION) == "undetermined"
    assert missing_paths(result, CULTIVATION) == ["fiscal_years[2024].employees"]


def test_cultivation_missing_last_fiscal_year_is_undetermined(engine, recognised):
    recognised["fiscal_years"] = [fy for fy in recognised["fiscal_years"] if fy["year"] != 2024]
    result = run(engine, recognised)
    assert outcome(result, CULTIVATION) == "undetermined"
    assert missing_paths(result, CULTIVATION) == ["fiscal_years[2024]"]


def test_cultivation_failed_criterion_wins_over_a_missing_fact(engine, recognised):
    recognised["region_code"] = None
    recognised["certifications"]["hte"]["issued_on"] = "2023-01-01"
    assert outcome(run(engine, recognised), CULTIVATION) == "ineligible"


# ================================================================ the window of the plan


@pytest.mark.parametrize("measure", ENTERPRISE_MEASURES)
def test_enterprise_measures_are_not_applicable_before_the_plan(engine, recognised, measure):
    # the plan is dated 2023-07-17
    result = run(engine, recognised, "2023-07-16")
    assert outcome(result, measure) == "not_applicable"
    assert result_of(result, measure)["benefit"] is None


@pytest.mark.parametrize("measure", PROJECT_MEASURES)
def test_project_measures_are_not_applicable_before_the_plan(engine, established, measure):
    result = run(engine, established["profile"], "2023-07-16")
    assert outcome(result, measure, None) == "not_applicable"


def test_cultivation_applies_from_the_plan_date(engine, established):
    give_hte(established["profile"], issued_on="2023-01-10")
    result = run(engine, established["profile"], "2023-07-17")
    # Y = 2022: 200 employees, 7437.16 万元 → medium
    assert outcome(result, CULTIVATION) == "eligible"


def test_cultivation_is_not_applicable_after_the_plan_horizon(engine, recognised):
    # INTERPRETATION: in force to the end of 2027, the horizon of the plan's targets
    assert outcome(run(engine, recognised, "2027-12-31"), CULTIVATION) != "not_applicable"
    assert outcome(run(engine, recognised, "2028-01-01"), CULTIVATION) == "not_applicable"


@pytest.mark.parametrize("measure", PROJECT_MEASURES)
def test_project_measures_are_not_applicable_after_the_plan_horizon(engine, established, measure):
    result = run(engine, established["profile"], "2028-01-01")
    assert outcome(result, measure, None) == "not_applicable"
    assert [r for r in result["results"] if r["measure_id"] == measure and r["subject"].get("id")] == []


# ================================================================ st-finance-whitelist (八、17)


@pytest.fixture
def whitelisted(established) -> dict:
    """The established enterprise with a TSME registration for 2025 (Y + 1)."""
    give_tsme(established["profile"], 2025)
    return established["profile"]


def test_whitelist_registered_tsme_in_jinan_is_eligible_with_the_lukedai_subsidy(engine, whitelisted):
    result = run(engine, whitelisted)
    assert outcome(result, WHITELIST) == "eligible"
    benefit = result_of(result, WHITELIST)["benefit"]
    assert benefit["kind"] == "interest_subsidy"
    # 鲁政办字〔2023〕155号 “鲁科贷”: 40% of the interest paid, at most 50 万元 per enterprise
    assert (benefit["rate"], benefit["cap"]) == ("0.40", "50")
    assert benefit["provisional"] is True


@pytest.mark.parametrize(("year", "status"), [(2026, "unmet"), (2025, "met"), (2024, "met"), (2023, "unmet")])
def test_whitelist_tsme_registration_must_be_for_y_or_y_plus_1(engine, established, year, status):
    give_tsme(established["profile"], year)
    verdict, c = judge(engine, established["profile"], WHITELIST, "tsme_registered")
    assert c["status"] == status
    assert verdict == ("eligible" if status == "met" else "ineligible")


def test_whitelist_valid_hte_certificate_alone_qualifies(engine, established):
    give_hte(established["profile"], issued_on="2023-03-01")  # valid until 2026-03-01
    verdict, c = judge(engine, established["profile"], WHITELIST, "tech_enterprise")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_whitelist_hte_certificate_expires_three_years_after_issue(engine, established):
    # issued 2022-06-30: valid 2022-06-30 … 2025-06-30 (exclusive) — expired on as_of
    give_hte(established["profile"], issued_on="2022-06-30")
    verdict, c = judge(engine, established["profile"], WHITELIST, "hte_valid")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_whitelist_neither_hte_nor_tsme_is_ineligible(engine, established):
    verdict, c = judge(engine, established["profile"], WHITELIST, "tech_enterprise")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


@pytest.mark.parametrize(
    ("field", "criterion_id"),
    [
        ("abnormal_operation_list", "not_abnormal_operation"),
        ("serious_dishonesty_list", "not_serious_dishonesty"),
        ("serious_research_misconduct", "no_research_misconduct"),
    ],
)
def test_whitelist_record_fails(engine, whitelisted, field, criterion_id):
    whitelisted["compliance"][field] = True
    verdict, c = judge(engine, whitelisted, WHITELIST, criterion_id)
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_whitelist_unknown_record_is_undetermined_and_names_it(engine, whitelisted):
    whitelisted["compliance"]["abnormal_operation_list"] = None
    result = run(engine, whitelisted)
    assert outcome(result, WHITELIST) == "undetermined"
    assert missing_paths(result, WHITELIST) == ["compliance.abnormal_operation_list"]


def test_whitelist_zero_rd_expense_fails(engine, whitelisted):
    # R&D expense must be more than 0 (provisional parameter)
    set_rd_expense(whitelisted, "0")
    verdict, c = judge(engine, whitelisted, WHITELIST, "rd_expense_last_year")
    assert (verdict, c["status"], c["provisional"]) == ("ineligible", "unmet", True)


def test_whitelist_smallest_rd_expense_passes(engine, whitelisted):
    set_rd_expense(whitelisted, "0.01")
    verdict, c = judge(engine, whitelisted, WHITELIST, "rd_expense_last_year")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_whitelist_missing_rd_expense_is_undetermined(engine, whitelisted):
    y(whitelisted)["rd_expense"] = y(whitelisted)["rd_expense_domestic"] = None
    result = run(engine, whitelisted)
    assert outcome(result, WHITELIST) == "undetermined"
    assert missing_paths(result, WHITELIST) == ["fiscal_years[2024].rd_expense"]


def test_whitelist_other_city_is_ineligible(engine, whitelisted):
    whitelisted["region_code"] = "370202"  # 青岛市市南区
    verdict, c = judge(engine, whitelisted, WHITELIST, "registered_in_jinan")
    assert (verdict, c["status"], c["actual"]) == ("ineligible", "unmet", "3702")


# ================================================================ lump-sum-funding-pilot (九、18)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("talent", "eligible"),
        ("basic_research", "eligible"),
        ("applied_research", "ineligible"),
        ("industrialization", "ineligible"),
        ("platform", "ineligible"),
        ("other", "ineligible"),
    ],
)
def test_lump_sum_only_talent_and_basic_research_projects(engine, established, category, expected):
    established["profile"]["projects"][0]["category"] = category
    verdict, c = judge(engine, established["profile"], LUMP_SUM, "talent_or_basic_research", "P1")
    assert verdict == expected
    assert c["actual"] == category


def test_lump_sum_unknown_category_is_undetermined_and_names_the_project(engine, established):
    established["profile"]["projects"][0]["category"] = None
    result = run(engine, established["profile"])
    assert outcome(result, LUMP_SUM, "P1") == "undetermined"
    assert missing_paths(result, LUMP_SUM, "P1") == ["projects[P1].category"]
    assert outcome(result, LUMP_SUM, "P2") == "ineligible"  # the other project is judged on its own


@pytest.mark.parametrize("measure", PROJECT_MEASURES)
def test_project_measures_without_projects_are_not_applicable(engine, established, measure):
    established["profile"]["projects"] = []
    result = run(engine, established["profile"])
    assert outcome(result, measure, None) == "not_applicable"
    assert result_of(result, measure, None)["subject"]["kind"] == "project"


def test_lump_sum_does_not_depend_on_the_enterprise(engine, established):
    # a project measure: region, size and certificates play no part
    established["profile"]["region_code"] = "110108"
    established["profile"]["fiscal_years"] = []
    result = run(engine, established["profile"])
    assert outcome(result, LUMP_SUM, "P1") == "eligible"


# ================================================================ land-use-priority (十、21)


def land(profile: dict, *, new_land, provincial, municipal) -> None:
    p = profile["projects"][0]
    p["new_land_required"], p["provincial_major_implementation"], p["municipal_key"] = (
        new_land,
        provincial,
        municipal,
    )


@pytest.mark.parametrize(
    ("provincial", "municipal", "expected", "tier"),
    [
        (True, True, "eligible", "provincial_quota"),
        (True, False, "eligible", "provincial_quota"),
        (False, True, "eligible", "municipal_county_quota"),
        (False, False, "ineligible", None),
    ],
)
def test_land_use_tiers(engine, established, provincial, municipal, expected, tier):
    land(established["profile"], new_land=True, provincial=provincial, municipal=municipal)
    result = run(engine, established["profile"])
    assert outcome(result, LAND_USE, "P1") == expected
    benefit = result_of(result, LAND_USE, "P1")["benefit"]
    assert (benefit or {}).get("tier") == tier
    if expected == "ineligible":
        assert criterion(result, LAND_USE, "on_a_key_project_list", "P1")["status"] == "unmet"


def test_land_use_no_new_land_is_ineligible_even_for_a_provincial_project(engine, established):
    land(established["profile"], new_land=False, provincial=True, municipal=True)
    verdict, c = judge(engine, established["profile"], LAND_USE, "new_land_required", "P1")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_land_use_unknown_new_land_is_undetermined(engine, established):
    land(established["profile"], new_land=None, provincial=False, municipal=True)
    result = run(engine, established["profile"])
    assert outcome(result, LAND_USE, "P1") == "undetermined"
    assert missing_paths(result, LAND_USE, "P1") == ["projects[P1].new_land_required"]


def test_land_use_unknown_provincial_flag_with_municipal_key_is_eligible_tier_open(engine, established):
    # any-of: the municipal flag alone qualifies; which quota applies is not known
    land(established["profile"], new_land=True, provincial=None, municipal=True)
    result = run(engine, established["profile"])
    assert outcome(result, LAND_USE, "P1") == "eligible"
    benefit = result_of(result, LAND_USE, "P1")["benefit"]
    assert benefit["tier"] is None
    assert benefit["tier_note"]


def test_land_use_unknown_provincial_flag_without_municipal_key_is_undetermined(engine, established):
    land(established["profile"], new_land=True, provincial=None, municipal=False)
    result = run(engine, established["profile"])
    assert outcome(result, LAND_USE, "P1") == "undetermined"
    assert missing_paths(result, LAND_USE, "P1") == ["projects[P1].provincial_major_implementation"]


# ================================================================ jiebang-guashuai (三、5, 三、6)


def test_jiebang_established_enterprise_needs_review_of_its_rd_capacity(engine, established):
    result = run(engine, established["profile"])
    assert outcome(result, JIEBANG) == "needs_review"
    assert criterion(result, JIEBANG, "rd_capacity_review")["status"] == "manual_review"
    assert criterion(result, JIEBANG, "rd_expense_last_year")["status"] == "met"
    assert result_of(result, JIEBANG)["benefit"]["kind"] == "access"


def test_jiebang_is_open_to_enterprises_outside_jinan(engine, established):
    established["profile"]["region_code"] = "320102"  # 南京市玄武区
    assert outcome(run(engine, established["profile"]), JIEBANG) == "needs_review"


@pytest.mark.parametrize(
    ("change", "criterion_id"),
    [
        (lambda p: p.update(resident_enterprise=False), "independent_legal_person"),
        (lambda p: set_rd_expense(p, "0"), "rd_expense_last_year"),
        (lambda p: p["ip"].update(core_ip_owned=False), "core_ip_owned"),
        (lambda p: p["compliance"].update(serious_dishonesty_list=True), "no_serious_dishonesty"),
    ],
    ids=["not_resident", "no_rd", "no_core_ip", "dishonest"],
)
def test_jiebang_failures(engine, established, change, criterion_id):
    change(established["profile"])
    verdict, c = judge(engine, established["profile"], JIEBANG, criterion_id)
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_jiebang_unknown_ip_is_undetermined_not_review(engine, established):
    # unknown outranks manual_review in an all-of group
    established["profile"]["ip"]["core_ip_owned"] = None
    result = run(engine, established["profile"])
    assert outcome(result, JIEBANG) == "undetermined"
    assert missing_paths(result, JIEBANG) == ["ip.core_ip_owned"]


# ================================================================ research-infrastructure-sharing (五、9)


@pytest.fixture
def small_tsme(established) -> dict:
    """Registered TSME; I65 with 50 employees and 9000 万元: small (employees < 100)."""
    give_tsme(established["profile"], 2025)
    set_size(established["profile"], 50)
    return established["profile"]


def test_sharing_small_registered_tsme_is_eligible(engine, small_tsme):
    result = run(engine, small_tsme)
    assert outcome(result, SHARING) == "eligible"
    assert criterion(result, SHARING, "small_or_micro")["actual"] == "small"
    assert result_of(result, SHARING)["benefit"]["kind"] == "access"


def test_sharing_micro_registered_tsme_is_eligible(engine, small_tsme):
    set_size(small_tsme, 9)
    verdict, c = judge(engine, small_tsme, SHARING, "small_or_micro")
    assert (verdict, c["actual"]) == ("eligible", "micro")


def test_sharing_medium_enterprise_is_ineligible(engine, small_tsme):
    # INTERPRETATION (docs/contract.md §7.3): small and micro only; 100 employees & 9000 万元 → medium in I65
    set_size(small_tsme, 100)
    verdict, c = judge(engine, small_tsme, SHARING, "small_or_micro")
    assert (verdict, c["status"], c["actual"]) == ("ineligible", "unmet", "medium")


def test_sharing_without_tsme_registration_is_ineligible(engine, small_tsme):
    small_tsme["certifications"]["tsme"] = None
    verdict, c = judge(engine, small_tsme, SHARING, "tsme_registered")
    assert (verdict, c["status"]) == ("ineligible", "unmet")
    assert c["remedy"]


# ================================================================ pilot-base and joint-lab (五、9)


@pytest.fixture
def hte_holder(established) -> dict:
    give_hte(established["profile"], issued_on="2023-03-01")  # valid on as_of
    return established["profile"]


def test_pilot_base_hte_holder_needs_review_of_its_partnership(engine, hte_holder):
    result = run(engine, hte_holder)
    assert outcome(result, PILOT_BASE) == "needs_review"
    assert criterion(result, PILOT_BASE, "partnership_with_university")["status"] == "manual_review"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: give_tsme(p, 2024), "needs_review"),
        (lambda p: p["honors"].update(rd_institution_level="municipal"), "needs_review"),
        (lambda p: p["honors"].update(rd_institution_level="national"), "needs_review"),
        (lambda p: None, "ineligible"),
    ],
    ids=["tsme", "municipal_rd_institution", "national_rd_institution", "none"],
)
def test_pilot_base_qualified_enterprise_routes(engine, established, change, expected):
    change(established["profile"])
    verdict, c = judge(engine, established["profile"], PILOT_BASE, "qualified_enterprise")
    assert verdict == expected
    assert c["status"] == ("met" if expected == "needs_review" else "unmet")


@pytest.mark.parametrize(
    ("change", "criterion_id"),
    [
        (lambda p: set_rd_expense(p, "0"), "rd_expense_last_year"),
        (lambda p: p["compliance"].update(serious_dishonesty_list=True), "not_serious_dishonesty"),
        (lambda p: p.update(region_code="370602"), "registered_in_jinan"),  # 烟台市芝罘区
    ],
    ids=["no_rd", "dishonest", "yantai"],
)
def test_pilot_base_failures(engine, hte_holder, change, criterion_id):
    change(hte_holder)
    verdict, c = judge(engine, hte_holder, PILOT_BASE, criterion_id)
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_joint_lab_medium_hte_holder_with_rd_needs_review(engine, hte_holder):
    # 2024: R&D 630 ÷ sales 9000 = 7% ≥ 3%
    result = run(engine, hte_holder)
    assert outcome(result, JOINT_LAB) == "needs_review"
    statuses = {c["id"]: c["status"] for c in result_of(result, JOINT_LAB)["criteria"]}
    assert statuses["leading_position_review"] == statuses["partnership_with_university"] == "manual_review"
    assert statuses["large_or_medium"] == statuses["innovation_standing"] == statuses["rd_intensity"] == "met"


def test_joint_lab_rd_intensity_exactly_3_percent_passes(engine, hte_holder):
    set_rd_expense(hte_holder, "270")  # 270 ÷ 9000 = 3%
    verdict, c = judge(engine, hte_holder, JOINT_LAB, "rd_intensity")
    assert (verdict, c["status"], c["provisional"]) == ("needs_review", "met", True)


def test_joint_lab_rd_intensity_just_below_3_percent_fails(engine, hte_holder):
    set_rd_expense(hte_holder, "269.99")  # 2.9999% < 3%
    verdict, c = judge(engine, hte_holder, JOINT_LAB, "rd_intensity")
    assert (verdict, c["status"]) == ("ineligible", "unmet")
    assert c["remedy"]


def test_joint_lab_small_enterprise_is_not_an_industry_leader(engine, hte_holder):
    set_size(hte_holder, 99)  # I65: employees < 100 → small
    verdict, c = judge(engine, hte_holder, JOINT_LAB, "large_or_medium")
    assert (verdict, c["actual"]) == ("ineligible", "small")


@pytest.mark.parametrize(
    ("level", "status"), [("provincial", "met"), ("national", "met"), ("municipal", "unmet")]
)
def test_joint_lab_rd_institution_route_needs_provincial_or_higher(engine, established, level, status):
    established["profile"]["honors"]["rd_institution_level"] = level
    _, c = judge(engine, established["profile"], JOINT_LAB, "innovation_standing")
    assert c["status"] == status


def test_joint_lab_outside_jinan_is_ineligible(engine, hte_holder):
    hte_holder["region_code"] = "370785"  # 潍坊市高密市
    verdict, c = judge(engine, hte_holder, JOINT_LAB, "registered_in_jinan")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_pilot_base_and_joint_lab_are_declared_not_stackable(engine):
    # INTERPRETATION: one university–enterprise platform is funded once (pilot-base.yaml, excludes)
    assert engine.pack.measures[PILOT_BASE].excludes == [JOINT_LAB]


# ================================================================ angel-venture-support (八、17)


def test_angel_young_enterprise_meeting_tsme_conditions_is_eligible(engine, young):
    # registered 2023-09-01: 1 full year on 2025-06-30; tsme-evaluation eligible
    result = run(engine, young["profile"], young["as_of"])
    assert outcome(result, "tsme-evaluation") == "eligible"
    assert outcome(result, ANGEL) == "eligible"
    c = criterion(result, ANGEL, "meets_tsme_conditions")
    assert (c["status"], c["actual"]) == ("met", "eligible")


def test_angel_registered_a_day_short_of_five_years_is_a_start_up(engine, young):
    young["profile"]["registered_on"] = "2020-07-01"  # 4 full years on 2025-06-30
    verdict, c = judge(engine, young["profile"], ANGEL, "seed_or_startup_stage")
    assert (verdict, c["actual"], c["provisional"]) == ("eligible", 4, True)


def test_angel_five_full_years_is_past_the_start_up_stage(engine, young):
    young["profile"]["registered_on"] = "2020-06-30"  # the fifth anniversary is as_of
    verdict, c = judge(engine, young["profile"], ANGEL, "seed_or_startup_stage")
    assert (verdict, c["status"], c["actual"]) == ("ineligible", "unmet", 5)


def test_angel_established_enterprise_is_past_the_start_up_stage(engine, established):
    assert judge(engine, established["profile"], ANGEL, "seed_or_startup_stage")[1]["actual"] == 8


def test_angel_tsme_registration_suffices_when_the_evaluation_fails(engine, young):
    set_size(young["profile"], 501)  # tsme-evaluation: at most 500 employees
    give_tsme(young["profile"], 2024)
    result = run(engine, young["profile"], young["as_of"])
    assert outcome(result, "tsme-evaluation") == "ineligible"
    assert outcome(result, ANGEL) == "eligible"


def test_angel_not_technology_based_is_ineligible(engine, young):
    set_size(young["profile"], 501)
    verdict, c = judge(engine, young["profile"], ANGEL, "tech_based")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_angel_valid_hte_certificate_makes_a_start_up_technology_based(engine, young):
    set_size(young["profile"], 501)  # tsme-evaluation fails
    give_hte(young["profile"], issued_on="2024-12-01")
    verdict, c = judge(engine, young["profile"], ANGEL, "tech_based")
    assert (verdict, c["status"]) == ("eligible", "met")


def test_angel_serious_dishonesty_is_ineligible(engine, young):
    young["profile"]["compliance"]["serious_dishonesty_list"] = True
    verdict, c = judge(engine, young["profile"], ANGEL, "not_serious_dishonesty")
    assert (verdict, c["status"]) == ("ineligible", "unmet")


def test_angel_other_city_is_ineligible(engine, young):
    young["profile"]["region_code"] = "440305"  # 深圳市南山区
    assert judge(engine, young["profile"], ANGEL, "registered_in_jinan")[0] == "ineligible"


def test_angel_unknown_registration_date_is_undetermined(engine, young):
    young["profile"]["registered_on"] = None
    result = run(engine, young["profile"], young["as_of"])
    assert outcome(result, ANGEL) == "undetermined"
    assert "registered_on" in missing_paths(result, ANGEL)


# ================================================================ tech-insurance (八、17)


def test_insurance_follows_the_whitelist(engine, whitelisted):
    result = run(engine, whitelisted)
    assert outcome(result, WHITELIST) == outcome(result, INSURANCE) == "eligible"
    c = criterion(result, INSURANCE, "on_tech_whitelist")
    assert (c["status"], c["actual"]) == ("met", "eligible")


def test_insurance_not_on_the_whitelist_is_ineligible(engine, established):
    result = run(engine, established["profile"])
    assert outcome(result, WHITELIST) == outcome(result, INSURANCE) == "ineligible"


def test_insurance_before_the_plan_sees_the_whitelist_not_applicable(engine, whitelisted):
    result = run(engine, whitelisted, "2023-07-16")
    assert outcome(result, WHITELIST) == outcome(result, INSURANCE) == "not_applicable"


# ================================================================ municipal-key-lab (二、1)


def test_key_lab_hte_holder_with_rd_needs_review_of_its_direction(engine, hte_holder):
    result = run(engine, hte_holder)
    assert outcome(result, KEY_LAB) == "needs_review"
    assert criterion(result, KEY_LAB, "research_direction_review")["status"] == "manual_review"


def test_key_lab_rd_expense_at_the_provisional_floor_passes(engine, hte_holder):
    set_rd_expense(hte_holder, "100")
    verdict, c = judge(engine, hte_holder, KEY_LAB, "rd_expense_floor")
    assert (verdict, c["status"], c["provisional"]) == ("needs_review", "met", True)


def test_key_lab_rd_expense_below_the_floor_fails_with_the_gap(engine, hte_holder):
    set_rd_expense(hte_holder, "99.99")
    verdict, c = judge(engine, hte_holder, KEY_LAB, "rd_expense_floor")
    assert (verdict, c["status"], c["gap"]) == ("ineligible", "unmet", "0.01")


def test_key_lab_without_certificate_or_registration_is_ineligible(engine, established):
    assert judge(engine, established["profile"], KEY_LAB, "tech_enterprise")[0] == "ineligible"


def test_key_lab_tsme_registration_is_the_other_route(engine, established):
    give_tsme(established["profile"], 2024)
    verdict, c = judge(engine, established["profile"], KEY_LAB, "tech_enterprise")
    assert (verdict, c["status"]) == ("needs_review", "met")


def test_key_lab_outside_jinan_is_ineligible(engine, hte_holder):
    hte_holder["region_code"] = "370102"  # 历下区 — still Jinan
    assert outcome(run(engine, hte_holder), KEY_LAB) == "needs_review"
    hte_holder["region_code"] = "371002"  # 威海市环翠区
    assert judge(engine, hte_holder, KEY_LAB, "registered_in_jinan")[0] == "ineligible"
