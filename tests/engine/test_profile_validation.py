"""A profile that breaks the contract is refused with the field path and what was expected;
nothing crashes and no traceback reaches the user."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import problem_from_validation
from engine.profile import Profile, credit_code_check_char


def problem(profile: dict, lang: str = "zh") -> dict:
    with pytest.raises(ValidationError) as info:
        Profile.model_validate(profile)
    return problem_from_validation(info.value, lang)


def fields(p: dict) -> list[str]:
    return [e["field"] for e in p["errors"]]


def test_the_example_credit_codes_pass_the_gb32100_checksum(established, young):
    for body in (established, young):
        code = body["profile"]["credit_code"]
        assert credit_code_check_char(code[:17]) == code[17]


def test_a_wrong_check_character_is_refused_naming_the_expected_one(established):
    p = established["profile"]
    p["credit_code"] = p["credit_code"][:17] + ("0" if p["credit_code"][17] != "0" else "1")
    out = problem(p)
    assert fields(out) == ["credit_code"]
    assert "校验位应为 4" in out["errors"][0]["message"]


def test_letters_gb32100_excludes_are_refused(established):
    p = established["profile"]
    p["credit_code"] = "91370100CA85GF0TI4"
    assert "非法字符" in problem(p)["errors"][0]["message"]


def test_negative_money_is_refused_at_its_path(established):
    p = established["profile"]
    p["fiscal_years"][1]["rd_expense"] = "-1"
    out = problem(p)
    assert fields(out) == ["fiscal_years[1].rd_expense"]
    assert "不能为负数" in out["errors"][0]["message"]


def test_more_tech_staff_than_employees_is_refused(established):
    p = established["profile"]
    p["fiscal_years"][2]["tech_staff"] = 201
    out = problem(p, "en")
    assert fields(out) == ["fiscal_years[2]"]
    assert "cannot exceed employees" in out["errors"][0]["message"]


def test_unknown_enum_value_is_refused_listing_the_allowed_ones(established):
    p = established["profile"]
    p["tech_field"] = "quantum"
    out = problem(p)
    assert fields(out) == ["tech_field"]
    assert "advanced_manufacturing" in out["errors"][0]["message"]


@pytest.mark.parametrize("bad", ["2024-1-5", "2024/01/05", "2024-02-30", "yesterday"])
def test_malformed_dates_are_refused(established, bad):
    p = established["profile"]
    p["registered_on"] = bad
    out = problem(p)
    assert fields(out) == ["registered_on"]
    assert "YYYY-MM-DD" in out["errors"][0]["message"]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "NaN", "Infinity", "-inf"])
def test_nan_and_infinity_are_refused(established, bad):
    p = established["profile"]
    p["fiscal_years"][0]["sales_revenue"] = bad
    out = problem(p)
    assert fields(out) == ["fiscal_years[0].sales_revenue"]
    assert "NaN" in out["errors"][0]["message"] or "无穷" in out["errors"][0]["message"]


def test_a_number_too_large_is_refused(established):
    p = established["profile"]
    p["fiscal_years"][0]["sales_revenue"] = "1e20"
    out = problem(p)
    assert "过大" in out["errors"][0]["message"]


def test_more_than_six_decimal_places_of_wan_yuan_is_refused(established):
    p = established["profile"]
    p["fiscal_years"][0]["sales_revenue"] = "1.0000001"
    assert fields(problem(p)) == ["fiscal_years[0].sales_revenue"]


def test_unknown_fields_are_refused_not_ignored(established):
    p = established["profile"]
    p["sales"] = 1
    assert fields(problem(p)) == ["sales"]


def test_duplicate_project_ids_are_refused(established):
    p = established["profile"]
    p["projects"][1]["id"] = "P1"
    assert fields(problem(p)) == ["projects"]


def test_booleans_are_not_numbers_and_numbers_not_booleans(established):
    p = established["profile"]
    p["fiscal_years"][0]["employees"] = True
    p["resident_enterprise"] = 1
    assert sorted(fields(problem(p))) == ["fiscal_years[0].employees", "resident_enterprise"]


def test_missing_money_stays_unknown_not_zero(established):
    p = established["profile"]
    p["fiscal_years"][0]["sales_revenue"] = None
    assert Profile.model_validate(p).fiscal_years[0].sales_revenue is None


def test_the_check_command_reports_bad_input_without_a_traceback(tmp_path, established):
    established["profile"]["fiscal_years"][1]["rd_expense"] = "-5"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(established), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert "fiscal_years[1].rd_expense" in result.output
    assert "Traceback" not in result.output


def test_the_check_command_refuses_nan_in_the_json_text(tmp_path):
    path = tmp_path / "nan.json"
    path.write_text('{"credit_code": "91370100CA85GF0T94", "innovation_score": NaN}', encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert "NaN" in result.output
