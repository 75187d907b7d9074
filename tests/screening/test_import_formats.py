"""Reading CSV (UTF-8, UTF-8 with BOM, GB18030), XLSX and JSONL; every bad cell named; templates."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

import intake
from api.cli import huiqi as cli
from engine.profile import Profile
from tests.screening.conftest import YEARS, csv_bytes, header_index, profiles


def _read(data: bytes, name: str = "a.csv") -> list[intake.ParsedRow]:
    table = intake.open_table(io.BytesIO(data), name)
    return list(table.rows())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_every_encoding_office_software_writes_reads_the_same_profiles(encoding):
    people = profiles(30)
    rows = _read(csv_bytes(people, encoding))
    assert [r.number for r in rows] == list(range(2, 32))
    for row, p in zip(rows, people, strict=True):
        assert row.errors == []
        assert Profile.model_validate(row.profile) == Profile.model_validate(p)
    assert intake.open_table(io.BytesIO(csv_bytes(people[:1], encoding)), "a.csv").encoding in (
        "utf-8",
        "utf-8-sig",
        "gb18030",
    )


def test_gb18030_is_detected_and_chinese_names_survive():
    people = profiles(3)
    people[0]["name"] = "济南市历下区𠀀科技有限公司"  # a character outside GBK, inside GB18030
    rows = _read(csv_bytes(people, "gb18030"))
    assert rows[0].name == people[0]["name"]


def test_every_bad_cell_is_reported_with_row_column_value_and_reason_and_good_rows_still_read():
    people = profiles(4)
    bad = intake.cells_of(people[1], intake.template_columns(YEARS))
    sales = header_index(f"fiscal_years[{YEARS[-1]}].sales_revenue")
    resident = header_index("resident_enterprise")
    bad[sales] = "十二万"
    bad[resident] = "也许"
    bad[0] = bad[0][:-1] + ("0" if bad[0][-1] != "0" else "1")  # wrong checksum
    data = csv_bytes([people[0]], extra=[[str(x) for x in bad]])
    rows = _read(data)
    good, broken = rows
    assert good.profile is not None and good.errors == []
    assert broken.profile is None
    by_field = {e["field"]: e for e in broken.errors}
    assert set(by_field) == {"credit_code", "resident_enterprise", f"fiscal_years[{YEARS[-1]}].sales_revenue"}
    cell = by_field[f"fiscal_years[{YEARS[-1]}].sales_revenue"]
    assert cell["row"] == 3
    assert cell["column"] == intake.column_letter(sales)
    assert cell["header"] == f"{YEARS[-1]}年度销售收入（万元）"
    assert cell["value"] == "十二万"
    assert "数值" in cell["reason"]
    assert "校验位" in by_field["credit_code"]["reason"]
    assert by_field["resident_enterprise"]["value"] == "也许"


def test_a_rule_across_cells_names_the_year_group():
    p = profiles(1)[0]
    cols = intake.template_columns(YEARS)
    cells = intake.cells_of(p, cols)
    cells[header_index(f"fiscal_years[{YEARS[0]}].employees")] = "10"
    cells[header_index(f"fiscal_years[{YEARS[0]}].tech_staff")] = "20"
    (row,) = _read(csv_bytes([], extra=[[str(x) for x in cells]]))
    (err,) = row.errors
    assert err["field"] == f"fiscal_years[{YEARS[0]}]"
    assert "科技人员数" in err["reason"] and err["column"]


def test_blank_cells_are_unknown_never_zero():
    p = {"credit_code": profiles(1)[0]["credit_code"]}
    (row,) = _read(csv_bytes([p]))
    assert row.errors == []
    assert row.profile["fiscal_years"] == [] and row.profile["ip"]["class_i_count"] is None


def test_a_code_the_spreadsheet_turned_into_a_number_is_refused_with_the_reason():
    (row,) = _read(csv_bytes([], extra=[["9.13701E+17"]]))
    assert "科学计数法" in row.errors[0]["reason"]


def test_wrong_unit_in_a_header_is_refused_before_any_row():
    data = "统一社会信用代码,2024年度销售收入（元）\n".encode()
    with pytest.raises(intake.TableError) as e:
        intake.open_table(io.BytesIO(data), "a.csv")
    assert e.value.code == "bad-headers" and "万元" in e.value.zh


def test_a_file_without_a_credit_code_column_is_refused_clearly():
    with pytest.raises(intake.TableError) as e:
        intake.open_table(io.BytesIO("名称,备注\n甲,乙\n".encode()), "a.csv")
    assert "统一社会信用代码" in e.value.zh


def test_english_headers_and_unknown_columns():
    p = profiles(1)[0]
    data = (
        f"credit_code,fiscal_years[{YEARS[-1]}].sales_revenue,备注\n{p['credit_code']},5000,随便写\n"
    ).encode()
    table = intake.open_table(io.BytesIO(data), "a.csv")
    assert table.layout.ignored == [{"column": "C", "header": "备注"}]
    (row,) = table.rows()
    assert row.profile["fiscal_years"][0]["sales_revenue"] == "5000"


def test_xlsx_with_numbers_dates_and_booleans_as_excel_keeps_them():
    import datetime as dt

    p = profiles(1)[0]
    cols = intake.template_columns(YEARS)
    wb = Workbook()
    ws = wb.active
    ws.title = "企业画像"
    ws.append([c.zh for c in cols])
    cells = intake.cells_of(p, cols)
    cells[header_index("registered_on")] = dt.datetime(2015, 3, 1)
    cells[header_index(f"fiscal_years[{YEARS[-1]}].employees")] = 120.0
    cells[header_index("resident_enterprise")] = True
    ws.append(cells)
    ws.append([])  # a blank row is skipped
    ws.append([913701001234567890])  # Excel lost digits of this code
    buf = io.BytesIO()
    wb.save(buf)
    rows = _read(buf.getvalue(), "申报.xlsx")
    assert rows[0].errors == [] and rows[0].profile["registered_on"] == "2015-03-01"
    assert rows[0].profile["resident_enterprise"] is True
    assert rows[1].number == 4 and "文本" in rows[1].errors[0]["reason"]


def test_jsonl_lines_with_their_own_as_of_and_bad_lines():
    p = profiles(1)[0]
    data = (
        json.dumps({"as_of": "2024-01-01", "profile": p}) + "\nnot json\n\n" + json.dumps({"x": 1})
    ).encode()
    rows = _read(data, "a.jsonl")
    assert [r.number for r in rows] == [1, 2, 4]
    assert rows[0].as_of == "2024-01-01" and rows[0].errors == []
    assert rows[1].errors[0]["field"] == "(line)"
    assert rows[2].errors and rows[2].errors[0]["row"] == 4


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_templates_carry_the_contract_labels_and_read_back(fmt):
    buf = io.BytesIO()
    intake.write_template(fmt, buf, "zh", YEARS)
    if fmt == "csv":
        header = buf.getvalue().decode("utf-8-sig").splitlines()[0].split(",")
        assert header[0] == "统一社会信用代码"
        assert f"{YEARS[-1]}年度销售收入（万元）" in header and "项目1编号" in header
        assert intake.open_table(io.BytesIO(buf.getvalue()), "t.csv").count_rows() == 0
    elif fmt == "xlsx":
        wb = load_workbook(io.BytesIO(buf.getvalue()), read_only=True)
        assert wb.sheetnames == ["企业画像", "填写说明"]
        first = next(wb["企业画像"].iter_rows(values_only=True))
        assert first[0] == "统一社会信用代码" and f"{YEARS[0]}年度研究开发费用总额（万元）" in first
    else:
        line = json.loads(buf.getvalue())
        assert [fy["year"] for fy in line["fiscal_years"]] == YEARS


def test_cli_template_and_screen_a_gb18030_csv(tmp_path):
    runner = CliRunner()
    out = tmp_path / "t.xlsx"
    r = runner.invoke(cli, ["template", "xlsx", "-o", str(out), "--as-of", "2025-06-30"])
    assert r.exit_code == 0, r.output
    assert load_workbook(out, read_only=True).sheetnames[0] == "企业画像"
    src = tmp_path / "in.csv"
    src.write_bytes(csv_bytes(profiles(5), "gb18030", extra=[["bad"]]))
    dst = tmp_path / "out.jsonl"
    r = runner.invoke(cli, ["screen", str(src), "--as-of", "2025-06-30", "--out", str(dst), "--workers", "1"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in dst.read_text(encoding="utf-8").splitlines()]
    assert [x["line"] for x in lines] == [2, 3, 4, 5, 6, 7]
    assert all("results" in x for x in lines[:5])
    assert lines[5]["error"]["errors"][0]["column"] == "A"
