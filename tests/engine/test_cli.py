"""The `huiqi` command as a user runs it."""

from __future__ import annotations

import json

from rich.cells import cell_len
from typer.testing import CliRunner

from api.cli import huiqi
from engine.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()
ESTABLISHED = str(EXAMPLES / "enterprise-established.json")
YOUNG = str(EXAMPLES / "enterprise-young-incomplete.json")


def test_check_prints_a_table_of_outcomes_in_chinese():
    result = runner.invoke(app, ["check", ESTABLISHED])
    assert result.exit_code == 0, result.output
    assert "高新技术企业认定条件" in result.output
    assert "符合" in result.output
    assert "2025-06-30" in result.output


def test_check_lists_missing_facts_most_decisive_first():
    result = runner.invoke(app, ["check", YOUNG])
    assert result.exit_code == 0, result.output
    assert "innovation_score" in result.output
    assert "待补充的信息" in result.output


def test_check_json_follows_the_contract():
    result = runner.invoke(app, ["check", ESTABLISHED, "--json", "--measure", "hte-recognition"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["as_of"] == "2025-06-30"
    assert body["rule_pack_version"].startswith("sha256:")
    assert [r["measure_id"] for r in body["results"]] == ["hte-recognition"]
    r = body["results"][0]
    assert r["outcome"] == "eligible"
    assert r["subject"] == {"kind": "enterprise"}
    assert {c["status"] for c in r["criteria"]} == {"met"}
    assert r["rule_pack_version"] == body["rule_pack_version"]


def test_check_as_of_option_overrides_the_file_date():
    result = runner.invoke(
        app, ["check", ESTABLISHED, "--json", "--as-of", "2015-06-30", "-m", "hte-recognition"]
    )
    assert json.loads(result.output)["results"][0]["outcome"] == "not_applicable"


def test_check_in_english():
    result = runner.invoke(app, ["check", ESTABLISHED, "--json", "--lang", "en", "-m", "hte-recognition"])
    r = json.loads(result.output)["results"][0]
    assert r["summary"] == "the measure's conditions are met"
    assert "title" not in r  # the verdict carries no display text beyond its summary
    full = runner.invoke(app, ["check", ESTABLISHED, "--json", "--full", "--lang", "en", "-m", "hte-recognition"])
    r = json.loads(full.output)["results"][0]
    assert r["title"] == "High-tech enterprise recognition"
    assert r["outcome_label"] == "eligible"


def test_check_refuses_an_unknown_measure_by_name():
    result = runner.invoke(app, ["check", ESTABLISHED, "-m", "no-such-measure"])
    assert result.exit_code == 2
    assert "no-such-measure" in result.output


def test_check_refuses_a_malformed_date():
    result = runner.invoke(app, ["check", ESTABLISHED, "--as-of", "2025-6-30"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_measures_lists_the_catalogue():
    result = runner.invoke(app, ["measures", "--json"])
    assert result.exit_code == 0
    ids = {m["id"] for m in json.loads(result.output)}
    assert {
        "hte-recognition",
        "tsme-evaluation",
        "hte-cultivation-subsidy",
        "st-finance-whitelist",
        "lump-sum-funding-pilot",
        "land-use-priority",
        "rd-super-deduction",
    } <= ids
    assert len(ids) >= 12


def test_provisional_lists_each_provisional_parameter_with_its_clause():
    result = runner.invoke(app, ["rules", "provisional", "--json"])
    rows = json.loads(result.output)
    assert rows
    assert all(r["clause"] and r["reference"] for r in rows)
    assert any(r["measure_id"] == "hte-cultivation-subsidy" for r in rows)


def test_screen_writes_one_line_per_input_line_and_goes_on_after_a_bad_one(tmp_path):
    good = json.loads((EXAMPLES / "enterprise-established.json").read_text(encoding="utf-8"))
    young = json.loads((EXAMPLES / "enterprise-young-incomplete.json").read_text(encoding="utf-8"))
    bad = dict(good["profile"], credit_code="91370100CA85GF0T95")
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join([json.dumps(good["profile"]), "{not json", json.dumps(bad), json.dumps(young)]) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        huiqi, ["screen", str(src), "--as-of", "2025-06-30", "--out", str(out), "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["line"] for x in lines] == [1, 2, 3, 4]
    assert lines[0]["credit_code"] == good["profile"]["credit_code"] and lines[0]["results"]
    assert "error" in lines[1] and "results" not in lines[1]
    assert lines[2]["error"]["errors"][0]["field"] == "credit_code"
    assert lines[3]["credit_code"] == young["profile"]["credit_code"]
    hte = next(r for r in lines[3]["results"] if r["measure_id"] == "hte-recognition")
    assert hte["outcome"] == "undetermined"


def test_check_shows_no_unmet_alternative_of_an_eligible_measure():
    """The established enterprise is a TSME by its score; the other routes of that any-of group (a
    high-tech certificate, an award …) are unmet but decide nothing, so the table does not list them."""
    result = runner.invoke(app, ["check", ESTABLISHED], env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    row = (
        result.output.split("tsme-evaluation")[0].rsplit("├", 1)[-1]
        + result.output.split("tsme-evaluation")[1].split("├")[0]
    )
    assert "科技型中小企业评价" in row and "符合" in row
    assert "✘" not in row
    assert "✘" in result.output  # ineligible measures still say why


def test_measures_table_is_readable_in_an_80_column_terminal():
    result = runner.invoke(app, ["measures"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(cell_len(line) for line in lines) <= 80  # CJK counts 2
    assert all(line.rstrip().endswith("│") for line in lines if line.startswith("│"))  # not cropped
    for text in ("hte-recognition", "高新技术企业认定条件", "有效期", "2016-01-01"):
        assert text in result.output


def test_provisional_table_is_readable_in_an_80_column_terminal():
    result = runner.invoke(app, ["rules", "provisional"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(cell_len(line) for line in lines) <= 80  # CJK counts 2
    assert all(line.rstrip().endswith("│") for line in lines if line.startswith("│"))  # not cropped
    for text in ("angel-venture-support", "八、17", "5年"):
        assert text in result.output


def test_check_lists_why_an_ineligible_measure_failed_and_not_the_alternatives_it_did_not_need(tmp_path):
    """With a serious environmental violation the established enterprise is not a TSME: the table says
    so, and does not list the direct routes of 第八条 (a certificate, an award …), which it did not need
    because its score qualifies it."""
    body = json.loads((EXAMPLES / "enterprise-established.json").read_text(encoding="utf-8"))
    body["profile"]["compliance"]["serious_environmental_violation_within_1y"] = True
    src = tmp_path / "violating.json"
    src.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["check", str(src), "-m", "tsme-evaluation"], env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    assert "✘ 未发生严重环境违法行为" in result.output
    assert "高新技术企业资格证书" not in result.output
    assert result.output.count("✘") == 1
