"""The empty templates (CSV, XLSX with a 填写说明 sheet, JSONL) and a profile as one template row."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO, Any

from engine.vocabulary import ENUM_LABELS, FISCAL_FIELDS, pick

from .columns import (
    ENTERPRISE_FIELDS,
    FY_PATH,
    PJ_PATH,
    PROJECT_FIELDS,
    SHEET_NAME,
    TEMPLATE_PROJECTS,
    Column,
    column_letter,
    template_columns,
    template_years,
)
from .errors import TableError
from .rows import set_path


def _instructions(cols: list[Column], lang: str) -> list[list[str]]:
    kinds = {
        "text": ("文本", "text"),
        "money": ("数值，单位万元，最多 6 位小数", "number in 万元, up to 6 decimals"),
        "decimal": ("数值", "number"),
        "int": ("整数", "whole number"),
        "people": ("整数（人）", "whole number (people)"),
        "count": ("整数（项）", "whole number (count)"),
        "bool": ("是 / 否", "yes / no (是/否, true/false)"),
        "date": ("日期 YYYY-MM-DD", "date YYYY-MM-DD"),
        "enum": ("以下之一", "one of"),
        "json": ("JSON 数组", "JSON array"),
    }
    out = []
    for c in cols:
        what = pick(kinds[c.kind], lang)
        if c.enum:
            what += "：" + "、".join(f"{pick(ENUM_LABELS[e], lang)}（{e}）" for e in c.enum)
        note = pick((c.note_zh, c.note_en), lang)
        if c.path == "credit_code":
            note = pick(
                (
                    "必填；18 位，校验位按 GB 32100-2015 检查",
                    "required; 18 characters, checksum per GB 32100-2015",
                ),
                lang,
            )
        elif c.path == "land_area_mu" or c.path.endswith(".land_area_mu"):
            note = pick(("单位：亩", "unit: mu"), lang)
        out.append([c.header("zh"), c.path, what, note])
    return out


GUIDE_ZH = [
    "每行一家企业；第 1 行为表头，不要改动。空白单元格表示“未知”（不是 0）。",
    "金额单位一律为万元；人数为整数；日期写作 YYYY-MM-DD；是否类填“是”或“否”。",
    "财务数据按年度分组（如“2024年度销售收入（万元）”），可增删年度列组，只要表头写法相同。",
    "项目按编号分组（项目1、项目2……），可以继续加“项目3编号”等列；项目更多时也可用“项目（JSON）”列。",
    "统一社会信用代码等代码列请设为“文本”格式，避免电子表格把它当作数字而丢失位数。",
    "有错误的单元格会逐一报告（行、列、值、原因）；其余行照常筛查。",
]
GUIDE_EN = [
    "One row per enterprise; row 1 holds the headers. A blank cell is unknown (not zero).",
    "Money in 万元 (10,000 CNY); head counts are whole numbers; dates YYYY-MM-DD; yes/no as 是/否.",
    "Fiscal years are column groups (fiscal_years[2024].sales_revenue); add or remove whole groups.",
    "Projects are numbered groups (projects[1].id …); add more groups, or use the projects JSON column.",
    "Keep code columns (credit code) as text so that the spreadsheet does not turn them into numbers.",
    "Every bad cell is reported (row, column, value, reason); the other rows are screened.",
]


def write_template(
    fmt: str,
    out: IO[bytes],
    lang: str = "zh",
    years: list[int] | None = None,
    projects: int = TEMPLATE_PROJECTS,
) -> None:
    """The empty template in ``fmt``: headers only (CSV, XLSX with a 填写说明 sheet) or a skeleton line (JSONL)."""
    years = years or template_years()
    cols = template_columns(years, projects)
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")  # the BOM makes Excel read UTF-8
        csv.writer(text).writerow([c.header(lang) for c in cols])
        text.flush()
        text.detach()
        return
    if fmt == "jsonl":
        skeleton: dict[str, Any] = {}
        for p, _k, _e in ENTERPRISE_FIELDS:
            set_path(skeleton, p, None)
        skeleton["certifications"] = {"hte": None, "tsme": None}
        skeleton["fiscal_years"] = [{"year": y, **dict.fromkeys(FISCAL_FIELDS)} for y in years]
        skeleton["projects"] = [{n: None for n, _k, _e in PROJECT_FIELDS}]
        skeleton["credit_code"] = ""
        out.write((json.dumps(skeleton, ensure_ascii=False) + "\n").encode("utf-8"))
        return
    if fmt != "xlsx":
        raise TableError("unsupported-format", f"不支持的格式 {fmt}", f"unsupported format {fmt}")
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_NAME if lang != "en" else "profiles")
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for i, c in enumerate(cols):
        letter = column_letter(i)
        ws.column_dimensions[letter].width = max(
            12, min(40, len(c.header(lang)) * (2 if lang != "en" else 1) + 2)
        )
        if c.kind in ("bool", "enum"):
            values = ["是", "否"] if c.kind == "bool" else [pick(ENUM_LABELS[e], "zh") for e in c.enum]
            if lang == "en":
                values = ["true", "false"] if c.kind == "bool" else list(c.enum)
            dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
            dv.add(f"{letter}2:{letter}100001")
            ws.data_validations.append(dv)
    ws.freeze_panes = "C2"
    header = []
    for c in cols:
        cell = WriteOnlyCell(ws, value=c.header(lang))
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True)
        header.append(cell)
    ws.append(header)
    guide = wb.create_sheet("填写说明" if lang != "en" else "how to fill in")
    guide.column_dimensions["A"].width = 36
    guide.column_dimensions["B"].width = 44
    guide.column_dimensions["C"].width = 50
    guide.column_dimensions["D"].width = 50
    for line in GUIDE_ZH if lang != "en" else GUIDE_EN:
        guide.append([line])
    guide.append([])
    head = (
        ["表头", "契约字段", "填写要求", "说明"]
        if lang != "en"
        else ["header", "contract field", "what to enter", "note"]
    )
    guide.append([WriteOnlyCell(guide, value=h) for h in head])
    for row in _instructions(cols, lang):
        guide.append(row)
    wb.save(out)


def template_filename(fmt: str, lang: str = "zh") -> str:
    return ("惠企批量筛查模板" if lang != "en" else "huiqi-screening-template") + "." + fmt


def write_template_file(fmt: str, path: Path, lang: str = "zh", years: list[int] | None = None) -> None:
    with path.open("wb") as fh:
        write_template(fmt, fh, lang, years)


def cells_of(profile: dict[str, Any], cols: list[Column], lang: str = "zh") -> list[Any]:
    """A profile (contract JSON) as one template row: the inverse of reading it (projects beyond the
    numbered groups go to the JSON column)."""
    fiscal = {fy.get("year"): fy for fy in profile.get("fiscal_years") or []}
    projects = list(profile.get("projects") or [])
    numbered = {int(m.group(1)) for c in cols if (m := PJ_PATH.match(c.path))}
    out: list[Any] = []
    for c in cols:
        v: Any
        m = FY_PATH.match(c.path)
        p = PJ_PATH.match(c.path)
        if m:
            v = (fiscal.get(int(m.group(1))) or {}).get(m.group(2))
        elif p:
            i = int(p.group(1)) - 1
            v = projects[i].get(p.group(2)) if i < len(projects) else None
        elif c.kind == "json":
            rest = projects[len(numbered) :]
            v = json.dumps(rest, ensure_ascii=False) if rest else None
        else:
            v = profile
            for part in c.path.split("."):
                v = v.get(part) if isinstance(v, dict) else None
        if isinstance(v, bool):
            v = ("是" if v else "否") if lang != "en" else ("true" if v else "false")
        elif c.kind == "enum" and isinstance(v, str) and lang != "en":
            v = pick(ENUM_LABELS[v], "zh") if v in ENUM_LABELS and c.enum else v
        out.append("" if v is None else v)
    return out
