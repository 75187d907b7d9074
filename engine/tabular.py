"""Profiles in bulk from CSV, XLSX and JSONL, and the templates for them.

One row per enterprise. The columns are the contract's fields (docs/contract.md §2) under
their Chinese labels (engine/vocabulary.py), money in 万元; fiscal years are column groups
("2024年度销售收入（万元）"), projects are numbered column groups ("项目1编号", "项目1类别", …) and, for
more of them, an optional JSON column ("项目（JSON）"). English headers are the contract's paths
(``credit_code``, ``fiscal_years[2024].sales_revenue``, ``projects[1].id``); either may be used.

A blank cell is unknown, never zero. Every bad cell is reported with its row, column, header, value
and reason; a row with a bad cell is not evaluated, the others are. Files are streamed: CSV through
the ``csv`` module, XLSX through openpyxl in read-only mode, JSONL line by line; nothing is held whole.
CSV may be UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (which includes GBK and GB2312,
as Chinese office software writes them).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from .errors import message as pydantic_message
from .profile import (
    Ownership,
    Profile,
    ProjectCategory,
    ProjectLevel,
    RdInstitutionLevel,
    TechField,
    enum_values,
)
from .vocabulary import ENUM_LABELS, FIELD_LABELS, FISCAL_FIELDS, PROJECT_LABELS, pick

FORMATS = ("csv", "xlsx", "jsonl")
TEMPLATE_PROJECTS = 2  # numbered project groups in the templates; the reader takes any number
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/x-ndjson",
}
SHEET_NAME = "企业画像"
PROJECTS_JSON_ZH = "项目（JSON）"
UNKNOWN_WORDS = {"未知", "unknown", "n/a", "na"}  # read as unknown, like a blank cell

# ---------------------------------------------------------------- the columns


@dataclass(frozen=True)
class Column:
    path: str  # the contract path with the year or project number: fiscal_years[2024].rd_expense
    kind: str  # text | money | decimal | int | people | count | year | bool | date | enum | json
    zh: str  # the Chinese header, unit included
    enum: tuple[str, ...] = ()
    note_zh: str = ""
    note_en: str = ""

    @property
    def en(self) -> str:
        return self.path

    def header(self, lang: str) -> str:
        return self.path if lang == "en" else self.zh


_UNIT_SUFFIX = {"money": "（万元）", "people": "（人）", "bool": "（是/否）"}
# the enum values are the contract's (engine/profile.py), never written out twice
_OWNERSHIP = enum_values(Ownership)
_TECH_FIELDS = enum_values(TechField)
_RD_LEVELS = enum_values(RdInstitutionLevel)
_PROJECT_CATEGORIES = enum_values(ProjectCategory)
_PROJECT_LEVELS = enum_values(ProjectLevel)

# (path, kind, enum); the Chinese label comes from the vocabulary (FIELD_LABELS)
_ENTERPRISE: list[tuple[str, str, tuple[str, ...]]] = [
    ("credit_code", "text", ()),
    ("name", "text", ()),
    ("registered_on", "date", ()),
    ("region_code", "text", ()),
    ("resident_enterprise", "bool", ()),
    ("industry_code", "text", ()),
    ("ownership", "enum", _OWNERSHIP),
    ("tech_field", "enum", _TECH_FIELDS),
    ("prohibited_category", "bool", ()),
    ("innovation_score", "decimal", ()),
    ("ip.core_ip_owned", "bool", ()),
    ("ip.class_i_count", "count", ()),
    ("ip.class_ii_count", "count", ()),
    ("compliance.major_safety_quality_incident_within_1y", "bool", ()),
    ("compliance.serious_environmental_violation_within_1y", "bool", ()),
    ("compliance.serious_research_misconduct", "bool", ()),
    ("compliance.abnormal_operation_list", "bool", ()),
    ("compliance.serious_dishonesty_list", "bool", ()),
    ("certifications.hte.certificate_no", "text", ()),
    ("certifications.hte.issued_on", "date", ()),
    ("certifications.hte.first_time", "bool", ()),
    ("certifications.tsme.registration_no", "text", ()),
    ("certifications.tsme.year", "int", ()),
    ("honors.national_sci_award_top3_on", "date", ()),
    ("honors.rd_institution_level", "enum", _RD_LEVELS),
    ("honors.led_standard_on", "date", ()),
]
_PROJECT_FIELDS: list[tuple[str, str, tuple[str, ...]]] = [
    ("id", "text", ()),
    ("name", "text", ()),
    ("category", "enum", _PROJECT_CATEGORIES),
    ("level", "enum", _PROJECT_LEVELS),
    ("provincial_major_implementation", "bool", ()),
    ("municipal_key", "bool", ()),
    ("new_land_required", "bool", ()),
    ("land_area_mu", "money", ()),  # decimal with the money's six places; the unit is 亩
]
_PROJECT_ZH = {"id": "编号", **{k: v[0] for k, v in PROJECT_LABELS.items()}}
_FISCAL_KIND = {"decimal": "money", "int": "people"}


def _label(path: str) -> str:
    return FIELD_LABELS[path][0]


def _zh_with_unit(label: str, kind: str) -> str:
    return label + _UNIT_SUFFIX.get(kind, "")


def enterprise_columns() -> list[Column]:
    return [Column(p, k, _zh_with_unit(_label(p), k), e) for p, k, e in _ENTERPRISE]


def fiscal_columns(year: int) -> list[Column]:
    out = []
    for name, (kind, _unit, zh, _en) in FISCAL_FIELDS.items():
        k = _FISCAL_KIND[kind]
        out.append(Column(f"fiscal_years[{year}].{name}", k, _zh_with_unit(f"{year}年度{zh}", k)))
    return out


def project_columns(n: int) -> list[Column]:
    out = []
    for name, kind, enum in _PROJECT_FIELDS:
        zh = f"项目{n}{_PROJECT_ZH[name]}"
        if kind == "bool":
            zh += _UNIT_SUFFIX["bool"]
        out.append(Column(f"projects[{n}].{name}", kind, zh, enum))
    return out


PROJECTS_JSON = Column(
    "projects",
    "json",
    PROJECTS_JSON_ZH,
    note_zh="项目较多时可用：JSON 数组，每项字段同契约 projects[]，与编号列组合并",
    note_en="for many projects: a JSON array of the contract's projects[], merged with the numbered groups",
)


def template_years(as_of: dt.date | None = None) -> list[int]:
    """The three fiscal years before ``as_of`` (HTE and TSME look back three years)."""
    year = (as_of or dt.date.today()).year
    return [year - 3, year - 2, year - 1]


def template_columns(years: list[int] | None = None, projects: int = TEMPLATE_PROJECTS) -> list[Column]:
    cols = enterprise_columns()
    for y in years or template_years():
        cols += fiscal_columns(y)
    for n in range(1, projects + 1):
        cols += project_columns(n)
    cols.append(PROJECTS_JSON)
    return cols


# ---------------------------------------------------------------- headers


def _norm(text: str) -> str:
    """Headers compare without spaces, width or case: “（万元）” and “(万元)” are the same."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


_UNIT_AT_END = re.compile(r"^(.*?)\(([^()]*)\)$")
_FY_ZH = re.compile(r"^(\d{4})年度?(.+)$")
_FY_EN = re.compile(r"^(?:fiscal_years\[(\d{4})\]|fy(\d{4}))\.(\w+)$")
_PJ_ZH = re.compile(r"^项目(\d{1,3})(.+)$")
_PJ_EN = re.compile(r"^projects\[(\d{1,3})\]\.(\w+)$")

_ENTERPRISE_BY_NAME: dict[str, tuple[str, str, tuple[str, ...]]] = {}
for _p, _k, _e in _ENTERPRISE:
    _ENTERPRISE_BY_NAME[_norm(_p)] = (_p, _k, _e)
    _ENTERPRISE_BY_NAME[_norm(_label(_p))] = (_p, _k, _e)
_FISCAL_BY_NAME = {}
for _n, (_kind, _u, _zh, _en) in FISCAL_FIELDS.items():
    _FISCAL_BY_NAME[_norm(_zh)] = _n
    _FISCAL_BY_NAME[_norm(_n)] = _n
_PROJECT_BY_NAME = {}
for _n, _k, _e in _PROJECT_FIELDS:
    _PROJECT_BY_NAME[_norm(_PROJECT_ZH[_n])] = (_n, _k, _e)
    _PROJECT_BY_NAME[_norm(_n)] = (_n, _k, _e)
    _PROJECT_BY_NAME[_norm(_PROJECT_ZH[_n].split("（")[0])] = (_n, _k, _e)
_EXPECTED_UNIT = {"money": "万元", "people": "人"}


class TableError(Exception):
    """The file as a whole cannot be read (not one bad cell): format, encoding, headers, limits."""

    def __init__(self, code: str, zh: str, en: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{zh} / {en}")
        self.code = code
        self.zh = zh
        self.en = en
        self.errors = errors or []

    def text(self, lang: str) -> str:
        return pick((self.zh, self.en), lang)


# what is kept of columns nobody knows (reported, never used): enough to show a clerk what was skipped
IGNORED_KEPT = 50
HEADER_CHARS_KEPT = 100
PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class Limits:
    """What one file may hold. Every limit is checked while the file streams, so that a crafted file
    is refused after reading at most about a limit's worth of it, never after expanding it whole.

    An XLSX is a ZIP of XML parts: a few KB can expand to gigabytes, so the parts' expanded sizes
    (which ``zipfile`` enforces while reading: a part longer than its directory entry says fails its
    CRC) are checked before any is read, the shared strings are counted as they are read, and the
    worksheet's elements as they stream. Excel's own limits: 16,384 columns, 1,048,576 rows, 32,767
    characters in a cell."""

    max_rows: int | None = None  # data rows (blank rows are not counted)
    max_columns: int = 1024  # columns in the header and in any row
    max_cells: int = 50_000_000  # cells in the worksheet (XLSX)
    max_cell_chars: int = 32_767  # characters in one cell (Excel's own limit)
    max_shared_strings: int = 2_000_000  # distinct texts of an XLSX
    max_shared_strings_bytes: int = 128 * 1024 * 1024  # their XML, expanded
    max_sheet_bytes: int = 4 * 1024 * 1024 * 1024  # the worksheet's XML, expanded
    max_part_bytes: int = 16 * 1024 * 1024  # any other part (styles, workbook, theme …), expanded
    max_parts: int = 1000  # entries in the ZIP
    max_row_number: int = 1_048_576  # a row number past Excel's last row is a crafted file
    max_line_bytes: int = 16 * 1024 * 1024  # one JSONL line
    max_json_depth: int = 64  # nesting of a JSONL line or a projects JSON cell


DEFAULT_LIMITS = Limits()


def _limit_error(what_zh: str, what_en: str, limit: int) -> TableError:
    return TableError(
        "limit",
        f"文件超出上限：{what_zh}最多 {limit:,}，请检查文件或拆分后分批上传",
        f"the file exceeds a limit: at most {limit:,} {what_en}; check the file or split it",
    )


def _split_unit(header: str) -> tuple[str, str | None]:
    m = _UNIT_AT_END.match(header)
    if m:
        return m.group(1), m.group(2)
    return header, None


def column_for_header(header: str) -> tuple[Column | None, str | None]:
    """The column a header names, or (None, reason) when it names none or names a wrong unit."""
    h = _norm(header)
    if not h:
        return None, None
    if h in (_norm(PROJECTS_JSON_ZH), "projects", _norm("项目(json)")):
        return PROJECTS_JSON, None
    base, unit = _split_unit(h)
    for candidate in (h, base):
        hit = _ENTERPRISE_BY_NAME.get(candidate)
        if hit:
            path, kind, enum = hit
            return Column(path, kind, _zh_with_unit(_label(path), kind), enum), _unit_problem(
                kind, unit, candidate, h
            )
    m = _FY_EN.match(h)
    if m:
        year = int(m.group(1) or m.group(2))
        name = m.group(3)
        if name in FISCAL_FIELDS:
            return _fiscal_col(year, name), None
    m = _FY_ZH.match(base) or _FY_ZH.match(h)
    if m:
        year = int(m.group(1))
        name = _FISCAL_BY_NAME.get(m.group(2)) or _FISCAL_BY_NAME.get(_split_unit(m.group(2))[0])
        if name:
            col = _fiscal_col(year, name)
            return col, _unit_problem(col.kind, unit, base, h)
    m = _PJ_EN.match(h)
    if m:
        hit = _PROJECT_BY_NAME.get(m.group(2))
        if hit:
            return _project_col(int(m.group(1)), hit), None
    m = _PJ_ZH.match(h)
    if m:
        rest = m.group(2)
        hit = _PROJECT_BY_NAME.get(rest) or _PROJECT_BY_NAME.get(_split_unit(rest)[0])
        if hit:
            return _project_col(int(m.group(1)), hit), None
    return None, None


def _unit_problem(kind: str, unit: str | None, candidate: str, whole: str) -> str | None:
    if candidate == whole or unit is None:
        return None
    expected = _EXPECTED_UNIT.get(kind)
    if expected and unit != expected:
        return (
            f"单位应为“{expected}”，表头写的是“{unit}” / the unit must be {expected}, the header says {unit}"
        )
    return None


def _fiscal_col(year: int, name: str) -> Column:
    for c in fiscal_columns(year):
        if c.path.endswith("." + name):
            return c
    raise KeyError(name)  # pragma: no cover


def _project_col(n: int, hit: tuple[str, str, tuple[str, ...]]) -> Column:
    name = hit[0]
    for c in project_columns(n):
        if c.path.endswith("." + name):
            return c
    raise KeyError(name)  # pragma: no cover


@functools.lru_cache(maxsize=1024)
def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    s = ""
    i = index + 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


@dataclass
class Layout:
    """The file's columns: position → Column; headers nobody knows are ignored and reported."""

    headers: list[str]
    columns: dict[int, Column]
    ignored: list[dict[str, Any]] = field(default_factory=list)  # the first IGNORED_KEPT of them
    ignored_total: int = 0

    def index_of(self, path: str) -> int:
        return next(i for i, c in self.columns.items() if c.path == path)

    @functools.cached_property
    def plan(self) -> list[tuple[int, Column, str, str, str, int, str, Callable[[Any], Any]]]:
        """Per column, worked out once per file: (position, column, header, letter, where its
        value goes (``_place``), the converter of its kind)."""
        return [
            (i, col, self.headers[i], column_letter(i), *_place(col.path), converter(col))
            for i, col in self.columns.items()
        ]


def layout_of(headers: list[Any], limits: Limits = DEFAULT_LIMITS) -> Layout:
    """The columns a header row names. Unknown headers are ignored and reported, but only the first
    ``IGNORED_KEPT`` of them, each cut to ``HEADER_CHARS_KEPT`` characters, are kept: a header of
    500,000 junk columns or one 400 MB cell is a file's problem, not something to store."""
    if len(headers) > limits.max_columns:
        last = max((i for i, h in enumerate(headers) if h is not None and str(h).strip()), default=-1)
        if last >= limits.max_columns:
            raise _limit_error("列数", "columns", limits.max_columns)
        headers = headers[: last + 1]
    texts = ["" if h is None else str(h).strip() for h in headers]
    columns: dict[int, Column] = {}
    ignored: list[dict[str, Any]] = []
    ignored_total = 0
    problems = []
    seen: dict[str, int] = {}
    for i, h in enumerate(texts):
        if not h:
            continue
        if len(h) > HEADER_CHARS_KEPT:
            # no column's header is this long: an unknown column, kept short
            h = texts[i] = h[:HEADER_CHARS_KEPT] + "…"
        col, problem = column_for_header(h)
        if problem:
            problems.append(
                {"row": 1, "column": column_letter(i), "header": h, "value": h, "reason": problem}
            )
            continue
        if col is None:
            ignored_total += 1
            if len(ignored) < IGNORED_KEPT:
                ignored.append({"column": column_letter(i), "header": h})
            continue
        if col.path in seen:
            problems.append(
                {
                    "row": 1,
                    "column": column_letter(i),
                    "header": h,
                    "value": h,
                    "reason": f"与 {column_letter(seen[col.path])} 列重复（{col.path}）/ duplicates column {column_letter(seen[col.path])}",
                }
            )
            continue
        seen[col.path] = i
        columns[i] = col
    if problems:
        shown = problems[:PROBLEMS_SHOWN]
        more_zh = f"等 {len(problems)} 处" if len(problems) > len(shown) else ""
        more_en = f" and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise TableError(
            "bad-headers",
            "表头有误："
            + "；".join(f"{p['column']} 列“{p['header']}”：{p['reason'].split(' / ')[0]}" for p in shown)
            + more_zh,
            "bad headers: " + "; ".join(f"column {p['column']} {p['header']!r}" for p in shown) + more_en,
            shown,
        )
    if "credit_code" not in seen:
        raise TableError(
            "no-credit-code",
            "找不到“统一社会信用代码”列（第 1 行应为表头，可下载模板对照）",
            "no credit_code column (row 1 must hold the headers; compare with the template)",
        )
    return Layout(texts, columns, ignored, ignored_total)


# ---------------------------------------------------------------- cells


class CellError(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh)
        self.zh = zh
        self.en = en


_TRUE = {"是", "true", "t", "yes", "y", "1", "√", "✓", "有", "对"}
_FALSE = {"否", "false", "f", "no", "n", "0", "×", "✗", "无", "不是"}
_SCI = re.compile(r"^[+-]?\d+(\.\d+)?e[+-]?\d+$", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_ENUM_BY_LABEL: dict[str, str] = {}
for _code, (_zh_label, _en_label) in ENUM_LABELS.items():
    _ENUM_BY_LABEL.setdefault(_norm(_zh_label), _code)
    _ENUM_BY_LABEL.setdefault(_norm(_en_label), _code)


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        s = v.strip()
        return not s or s.lower() in UNKNOWN_WORDS
    return False


def _text_of(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _decimal(v: Any) -> Decimal:
    if isinstance(v, bool):
        raise CellError("应为数值，不能是是/否", "expected a number, not yes/no")
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise CellError("应为数值", "expected a number")
        return Decimal(repr(v))
    if isinstance(v, Decimal):
        return v
    if isinstance(v, dt.date):
        raise CellError("应为数值，单元格是日期格式", "expected a number, the cell is a date")
    s = str(v)
    if not s.isascii():  # full-width digits, ideographic spaces … (NFKC leaves ASCII as it is)
        s = unicodedata.normalize("NFKC", s)
    s = s.strip().replace(",", "")
    if s.endswith("万元"):
        s = s[:-2].strip()
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise CellError(f"应为数值，收到“{v}”", f"expected a number, got {v!r}") from None
    if not d.is_finite():
        raise CellError("应为有限的数值", "expected a finite number")
    return d


def _int(v: Any) -> int:
    d = _decimal(v)
    if d != d.to_integral_value():
        raise CellError(f"应为整数，收到“{_text_of(v)}”", f"expected a whole number, got {v!r}")
    return int(d)


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    text = str(v)
    s = text.strip().lower()  # the common spellings need no normalising
    if s not in _TRUE and s not in _FALSE:
        s = _norm(text)
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise CellError(f"应为“是”或“否”，收到“{_text_of(v)}”", f"expected yes or no (是/否), got {v!r}")


def _date(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int | float):
        raise CellError(
            f"应为日期 YYYY-MM-DD，收到数字 {_text_of(v)}",
            f"expected a date YYYY-MM-DD, got the number {v!r}",
        )
    s = unicodedata.normalize("NFKC", str(v)).strip()
    m = _DATE.match(s.split(" ")[0].split("T")[0])
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            pass
    raise CellError(f"应为日期 YYYY-MM-DD，收到“{s}”", f"expected a date YYYY-MM-DD, got {s!r}")


def _enum(v: Any, allowed: tuple[str, ...]) -> str:
    s = _norm(str(v))
    code = s if s in allowed else _ENUM_BY_LABEL.get(s)
    if code in allowed:
        return code
    choices = "、".join(f"{pick(ENUM_LABELS[a], 'zh')}（{a}）" for a in allowed)
    raise CellError(
        f"取值应为以下之一：{choices}；收到“{_text_of(v)}”",
        f"expected one of {', '.join(allowed)}; got {v!r}",
    )


def _text(v: Any, path: str) -> str:
    if isinstance(v, bool):
        raise CellError("应为文本", "expected text")
    if isinstance(v, float) or (isinstance(v, int) and abs(v) >= 10**15):
        if abs(v) >= 10**15 or (isinstance(v, float) and not v.is_integer()):
            raise CellError(
                "这是一个数字单元格：超过 15 位的数字在 Excel 中会丢失精度，请把该列设为“文本”格式后重新填写",
                "a number cell: Excel keeps only 15 digits; format the column as text and enter it again",
            )
    s = _text_of(v).strip()
    if _SCI.match(s) and path in ("credit_code", "region_code"):
        raise CellError(
            f"“{s}”是科学计数法：代码已被电子表格当作数字而丢失位数，请把该列设为“文本”格式后重新填写",
            f"{s!r} is scientific notation: the spreadsheet took the code for a number; format the column as text",
        )
    return s


def _number_text(v: Any) -> str:
    return format(_decimal(v), "f")


def _json_array(v: Any) -> list[Any]:
    try:
        data = _loads_bounded(str(v), DEFAULT_LIMITS.max_json_depth)
    except json.JSONDecodeError as e:
        raise CellError(f"不是有效的 JSON：{e.msg}（第 {e.pos} 个字符）", f"not valid JSON: {e}") from None
    except ValueError as e:
        raise CellError(f"不是有效的 JSON：{e}", f"not valid JSON: {e}") from None
    if not isinstance(data, list):
        raise CellError("应为 JSON 数组 [...]", "expected a JSON array [...]")
    return data


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "money": _number_text,
    "decimal": _number_text,
    "int": _int,
    "people": _int,
    "count": _int,
    "year": _int,
    "bool": _bool,
    "date": _date,
    "json": _json_array,
}


def converter(col: Column) -> Callable[[Any], Any]:
    """The function turning a cell of this column into the contract's value, or CellError."""
    if col.kind == "text":
        return functools.partial(_text, path=col.path)
    if col.kind == "enum":
        return functools.partial(_enum, allowed=col.enum)
    try:
        return _CONVERTERS[col.kind]
    except KeyError:  # pragma: no cover
        raise AssertionError(col.kind) from None


# ---------------------------------------------------------------- rows


@dataclass
class ParsedRow:
    number: int  # the row as the spreadsheet shows it (the header is row 1), or the JSONL line
    profile: dict[str, Any] | None  # the validated profile (JSON form), None when any cell is bad
    errors: list[dict[str, Any]]
    raw: dict[str, Any]  # header → the cell as given (text), so that nothing is lost
    as_of: str | None = None  # JSONL lines may carry their own
    credit_code: str | None = None
    name: str | None = None
    region_code: str | None = None


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = doc
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


_FY_PATH = re.compile(r"^fiscal_years\[(\d{4})\]\.(\w+)$")
_PJ_PATH = re.compile(r"^projects\[(\d+)\]\.(\w+)$")


@functools.lru_cache(maxsize=4096)
def _place(path: str) -> tuple[str, int, str]:
    """Where a column's value goes: ("year", 2024, field), ("project", n, field) or ("doc", 0, path)."""
    m = _FY_PATH.match(path)
    if m:
        return "year", int(m.group(1)), m.group(2)
    m = _PJ_PATH.match(path)
    if m:
        return "project", int(m.group(1)), m.group(2)
    return "doc", 0, path


def _error(
    number: int, letter: str | None, header: str | None, path: str, value: Any, zh: str, en: str, lang: str
) -> dict[str, Any]:
    if isinstance(value, dt.date | dt.datetime | Decimal):
        value = _text_of(value)
    elif value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    if isinstance(value, str) and len(value) > 200:
        value = value[:200] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        value = str(value)
    zh, en = _bilingual(zh, en)
    return {
        "row": number,
        "column": letter,
        "header": header,
        "field": path,
        "value": value,
        "reason": en if lang == "en" else zh,
    }


_BILINGUAL = re.compile(r"\s*/\s+(?=[A-Za-z])")


def _bilingual(zh: str, en: str) -> tuple[str, str]:
    """The engine's messages are often "中文 / English" in one string: keep each language's half."""
    for text in (zh, en):
        parts = _BILINGUAL.split(text, maxsplit=1)
        if len(parts) == 2 and re.search(r"[\u4e00-\u9fff]", parts[0]):
            return parts[0], parts[1]
    return zh, en


def build_row(number: int, cells: list[Any], layout: Layout, lang: str = "zh") -> ParsedRow:
    """Cells of one row → a validated profile, or every bad cell with its reason."""
    raw: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    doc: dict[str, Any] = {}
    years: dict[int, dict[str, Any]] = {}
    projects: dict[int, dict[str, Any]] = {}
    where: dict[str, tuple[str, str, Any]] = {}  # contract path → (letter, header, value) for pydantic errors
    json_projects: list[Any] = []
    width = len(cells)
    for i, col, header, letter, place, n, name, conv in layout.plan:
        v = cells[i] if i < width else None
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        raw[header] = v if isinstance(v, str) else _text_of(v)  # as given, even a word for unknown
        if _blank(v):
            continue
        try:
            value = conv(v)
        except CellError as e:
            errors.append(_error(number, letter, header, col.path, v, e.zh, e.en, lang))
            continue
        if place == "year":
            years.setdefault(n, {"year": n})[name] = value
            where[col.path] = (letter, header, v)
            continue
        if place == "project":
            projects.setdefault(n, {})[name] = value
            where[col.path] = (letter, header, v)
            continue
        if col.kind == "json":
            json_projects = value
            where["projects"] = (letter, header, v)
            continue
        _set(doc, col.path, value)
        where[col.path] = (letter, header, v)
    if "credit_code" not in doc and not any(e["field"] == "credit_code" for e in errors):
        i = layout.index_of("credit_code")
        errors.append(
            _error(
                number,
                column_letter(i),
                layout.headers[i],
                "credit_code",
                None,
                "必填：统一社会信用代码为空",
                "required: the credit code is empty",
                lang,
            )
        )
    year_order = sorted(years)
    if years:
        doc["fiscal_years"] = [years[y] for y in year_order]
    project_order = sorted(projects)
    if projects or json_projects:
        doc["projects"] = [projects[n] for n in project_order] + list(json_projects)
    result = ParsedRow(number, None, errors, raw)
    result.credit_code = doc.get("credit_code") if isinstance(doc.get("credit_code"), str) else None
    result.name = doc.get("name") if isinstance(doc.get("name"), str) else None
    rc = doc.get("region_code")
    result.region_code = rc if isinstance(rc, str) and re.fullmatch(r"\d{6}", rc) else None
    try:
        profile = Profile.model_validate(doc)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            loc = tuple(err["loc"])
            path, letter, header, value = _locate(loc, year_order, project_order, len(projects), where)
            zh = pydantic_message(err, "zh")
            en = pydantic_message(err, "en")
            if value is None and err.get("type") not in ("missing",):
                value = err.get("input") if isinstance(err.get("input"), str | int | float | bool) else None
            errors.append(_error(number, letter, header, path, value, zh, en, lang))
        profile = None
    if errors:
        errors.sort(
            key=lambda x: (x["column"] is None, len(x["column"] or ""), x["column"] or "", x["field"])
        )
        return result
    assert profile is not None
    result.profile = profile.model_dump(mode="json", exclude_none=False)
    result.credit_code = profile.credit_code
    result.name = profile.name
    result.region_code = profile.region_code
    return result


def _locate(
    loc: tuple[Any, ...],
    year_order: list[int],
    project_order: list[int],
    numbered: int,
    where: dict[str, tuple[str, str, Any]],
) -> tuple[str, str | None, str | None, Any]:
    """A pydantic location → (contract path with year / project number, column letter, header, value)."""
    parts = [p for p in loc if not (isinstance(p, str) and (p.startswith("function-") or p[:1].isupper()))]
    if parts and parts[0] == "fiscal_years" and len(parts) >= 2 and isinstance(parts[1], int):
        year = year_order[parts[1]] if parts[1] < len(year_order) else None
        if len(parts) >= 3:
            path = f"fiscal_years[{year}].{parts[2]}"
            hit = where.get(path)
            if hit:
                return path, hit[0], hit[1], hit[2]
            return path, None, None, None
        # a rule across the year's cells (e.g. 科技人员数 ≤ 职工总数): the year's group as a whole
        cells = sorted(
            (v for k, v in where.items() if k.startswith(f"fiscal_years[{year}].")),
            key=lambda x: (len(x[0]), x[0]),
        )
        return (
            f"fiscal_years[{year}]",
            cells[0][0] if cells else None,
            f"{year}年度（整组）" if cells else None,
            None,
        )
    if parts and parts[0] == "projects" and len(parts) >= 2 and isinstance(parts[1], int):
        idx = parts[1]
        if idx < numbered:
            n = project_order[idx]
            if len(parts) >= 3:
                path = f"projects[{n}].{parts[2]}"
                hit = where.get(path)
                if hit:
                    return path, hit[0], hit[1], hit[2]
                first = where.get(f"projects[{n}].id") or next(
                    (v for k, v in where.items() if k.startswith(f"projects[{n}].")), None
                )
                return path, first[0] if first else None, first[1] if first else None, None
            return f"projects[{n}]", None, None, None
        hit = where.get("projects")
        tail = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts[1:])
        tail = tail.replace(f"[{idx}]", f"[{idx - numbered}]", 1)
        return "projects" + tail, hit[0] if hit else None, hit[1] if hit else None, None
    if parts and parts[0] == "projects":
        hit = where.get("projects")
        return "projects", hit[0] if hit else None, hit[1] if hit else None, None
    path = ".".join(str(p) for p in parts) or "(row)"
    hit = where.get(path)
    if hit:
        return path, hit[0], hit[1], hit[2]
    # a rule on a group (e.g. certifications.hte needs both number and date): its first cell
    for k, v in sorted(where.items()):
        if k.startswith(path + "."):
            return path, v[0], v[1], None
    for k, v in where.items():
        if path.startswith(k):
            return path, v[0], v[1], v[2]
    return path, None, None, None


# ---------------------------------------------------------------- files


def detect_format(filename: str | None, head: bytes) -> str:
    """From the content first (an XLSX is a ZIP), then the file name."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    name = (filename or "").lower()
    if name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".xls"):
        raise TableError(
            "unsupported-format",
            "不支持旧版 Excel 97-2003（.xls）文件，请另存为 .xlsx 或 CSV",
            "old Excel 97-2003 (.xls) files are not supported; save as .xlsx or CSV",
        )
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "jsonl"
    return "csv"


def detect_encoding(fh: IO[bytes]) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, else GB18030; the whole file is checked, 1 MiB at a time."""
    fh.seek(0)
    head = fh.read(4)
    fh.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for enc in candidates:
        decoder = codecs.getincrementaldecoder(enc)()
        fh.seek(0)
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        fh.seek(0)
        return enc
    fh.seek(0)
    raise TableError(
        "bad-encoding",
        "无法识别文件编码：请另存为 UTF-8 或 GB18030（GBK）编码的 CSV",
        "cannot tell the file's encoding: save the CSV as UTF-8 or GB18030 (GBK)",
    )


class Table:
    """One uploaded file: its layout (from the header row) and its rows, streamed within ``limits``."""

    def __init__(self, fh: IO[bytes], fmt: str, lang: str = "zh", limits: Limits = DEFAULT_LIMITS) -> None:
        if fmt not in FORMATS:
            raise TableError("unsupported-format", f"不支持的格式 {fmt}", f"unsupported format {fmt}")
        self.fh = fh
        self.format = fmt
        self.lang = lang
        self.limits = limits
        self.encoding: str | None = None
        self.layout: Layout | None = None
        self._xlsx: _Xlsx | None = None
        if fmt == "csv":
            self.encoding = detect_encoding(fh)
            header = next(self._csv_records(), None)
            if header is None:
                raise TableError("empty-file", "文件是空的", "the file is empty")
            self.layout = layout_of(header[1], limits)
        elif fmt == "xlsx":
            self._xlsx = _Xlsx(fh, limits)
            header = next(self._xlsx_records(), None)
            if header is None:
                raise TableError("empty-file", "工作表是空的", "the worksheet is empty")
            self.layout = layout_of(list(header[1]), limits)

    # -- raw records: (row number, cells)

    def _csv_records(self) -> Iterator[tuple[int, list[str]]]:
        self.fh.seek(0)
        text = io.TextIOWrapper(self.fh, encoding=self.encoding or "utf-8", newline="")
        limit = self.limits.max_line_bytes
        taken = 0  # characters of the record being read (csv asks for lines until the record ends)

        def lines() -> Iterator[str]:
            nonlocal taken
            while True:
                line = text.readline(limit + 1)
                if not line:
                    return
                taken += len(line)
                if taken > limit:
                    raise _limit_error("一行的字符数", "characters in one row", limit)
                yield line

        try:
            first = text.readline(limit + 1)
            delimiter = "\t" if first.count("\t") > first.count(",") else ","
            text.seek(0)
            reader = csv.reader(lines(), delimiter=delimiter)
            try:
                for number, cells in enumerate(reader, start=1):
                    taken = 0
                    if len(cells) > self.limits.max_columns:
                        cells = _trim_width(cells, self.limits.max_columns, number)
                    yield number, cells
            except csv.Error as e:
                raise TableError(
                    "bad-csv",
                    f"CSV 第 {reader.line_num} 行无法解析：{e}",
                    f"CSV line {reader.line_num} cannot be parsed: {e}",
                ) from None
        finally:
            text.detach()

    def _xlsx_records(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        assert self._xlsx is not None
        return self._xlsx.records()

    def close(self) -> None:
        if self._xlsx is not None:
            self._xlsx.close()
            self._xlsx = None

    # -- rows

    def count_rows(self, limit: int | None = None) -> int:
        """Data rows (blank rows not counted); stops counting once past ``limit``."""
        n = 0
        for _number, _cells in self._data_records():
            n += 1
            if limit is not None and n > limit:
                return n
        return n

    def _data_records(self) -> Iterator[tuple[int, Any]]:
        if self.format == "jsonl":
            yield from _jsonl_lines(self.fh, self.limits.max_line_bytes)
            return
        records = self._csv_records() if self.format == "csv" else self._xlsx_records()
        next(records, None)  # the header
        for number, cells in records:
            if all(_blank(c) and (c is None or not str(c).strip()) for c in cells):
                continue
            yield number, cells

    def rows(self, start_after: int = 0) -> Iterator[ParsedRow]:
        """Every data row, parsed; ``start_after`` skips rows up to that number (resuming an import).
        Past ``limits.max_rows`` data rows, ``TableError``."""
        seen = 0
        max_rows = self.limits.max_rows
        for number, cells in self._data_records():
            seen += 1
            if max_rows is not None and seen > max_rows:
                raise TableError(
                    "too-many-rows",
                    f"文件超过行数上限：最多 {max_rows} 行数据，请拆分后分批上传",
                    f"too many rows: at most {max_rows} data rows per file; split it",
                )
            if number <= start_after:
                continue
            if self.format == "jsonl":
                yield parse_json_line(number, cells, self.lang, self.limits)
            else:
                assert self.layout is not None
                yield build_row(number, list(cells), self.layout, self.lang)


def _trim_width(cells: list[Any], limit: int, number: int) -> list[Any]:
    """A row wider than the limit is refused unless all it has past the limit is blank."""
    if any(c is not None and str(c).strip() for c in cells[limit:]):
        raise _limit_error(f"每行的列数（第 {number} 行超出）", f"columns in a row (row {number})", limit)
    return cells[:limit]


def _jsonl_lines(fh: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for every non-blank line; a line longer than ``limit`` bytes is read past
    in blocks and given as None (that row is an error, the others are read)."""
    fh.seek(0)
    number = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # the rest of the line, never held whole
                more = fh.readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            yield number, None
            continue
        if line.strip():
            yield number, line


# ---------------------------------------------------------------- XLSX within limits

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW_TAG = _MAIN_NS + "row"
_CELL_TAG = _MAIN_NS + "c"
_SHEET_DATA_TAG = _MAIN_NS + "sheetData"
_SI_TAG = _MAIN_NS + "si"


def _bad_xlsx(e: BaseException | None = None, zh: str = "", en: str = "") -> TableError:
    why = type(e).__name__ if e is not None else ""
    return TableError(
        "bad-xlsx",
        zh or f"无法读取 Excel 文件（{why}），请确认是 .xlsx 格式且未损坏",
        en or f"cannot read the Excel file ({why}); is it an undamaged .xlsx?",
    )


def check_xlsx_archive(fh: IO[bytes], limits: Limits = DEFAULT_LIMITS) -> None:
    """The ZIP's directory only, nothing expanded: a ZIP at all, not too many parts, and no part
    that would expand past its limit. Cheap enough to answer an upload with."""
    import zipfile

    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise _bad_xlsx(e) from None
    if len(infos) > limits.max_parts:
        raise _limit_error("ZIP 中的部件数", "parts in the ZIP", limits.max_parts)
    for info in infos:
        name = info.filename.lower()
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            cap = limits.max_sheet_bytes
        elif name == "xl/sharedstrings.xml":
            cap = limits.max_shared_strings_bytes
        else:
            cap = limits.max_part_bytes
        if info.file_size > cap:
            raise TableError(
                "limit",
                f"文件超出上限：Excel 文件中的 {info.filename} 展开后为 {info.file_size:,} 字节，最多 {cap:,} 字节",
                f"the file exceeds a limit: {info.filename} expands to {info.file_size:,} bytes, at most {cap:,}",
            )
    # the small parts that say what the workbook is: well-formed XML without DTD or entities
    names = {i.filename.lower(): i.filename for i in infos}
    fh.seek(0)
    with zipfile.ZipFile(fh) as archive:
        for part in ("[content_types].xml", "xl/workbook.xml"):
            if part not in names:
                raise _bad_xlsx(
                    zh=f"Excel 文件缺少 {part}，请确认是 .xlsx 格式", en=f"the Excel file has no {part}"
                )
            try:
                for _ in _iterparse(archive.open(names[part]), ("end",)):
                    pass
            except Exception as e:  # noqa: BLE001 - malformed XML, a DTD, an entity: the file's problem
                raise _bad_xlsx(e) from None
    fh.seek(0)


def _iterparse(source: Any, events: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    # no DTD, no entities: an XLSX needs neither, and refusing them refuses billion laughs and
    # external entities outright
    from defusedxml.ElementTree import iterparse

    return iterparse(source, events=events, forbid_dtd=True)


def _shared_strings(src: IO[bytes], limits: Limits) -> list[str]:
    """The shared string table, counted and measured while it streams (openpyxl's reader, bounded)."""
    from openpyxl.cell.text import Text

    strings: list[str] = []
    root = None
    for event, node in _iterparse(src, ("start", "end")):
        if event == "start":
            if root is None:
                root = node
            continue
        if node.tag != _SI_TAG:
            continue
        text = Text.from_tree(node).content.replace("x005F_", "")
        if len(text) > limits.max_cell_chars:
            raise _limit_error("单元格的字符数", "characters in a cell", limits.max_cell_chars)
        strings.append(text)
        if len(strings) > limits.max_shared_strings:
            raise _limit_error(
                "不同文本的个数（共享字符串）", "distinct texts (shared strings)", limits.max_shared_strings
            )
        root.clear()  # the strings read so far are kept as text, not as elements
    return strings


class _Xlsx:
    """An XLSX read within ``Limits``: openpyxl reads the workbook's parts (styles, sheets' names,
    date formats), the shared strings are read by ``_shared_strings``, and the worksheet's rows are
    streamed here, counting every element as it starts, so that a row of five million cells is
    refused at the first cell past the limit rather than built. Cells are converted by openpyxl's
    own worksheet parser (numbers, dates by the cell's number format, booleans, inline text)."""

    def __init__(self, fh: IO[bytes], limits: Limits) -> None:
        from openpyxl.reader.excel import ExcelReader
        from openpyxl.styles.stylesheet import apply_stylesheet
        from openpyxl.xml.constants import SHARED_STRINGS

        check_xlsx_archive(fh, limits)
        self.limits = limits

        class BoundedReader(ExcelReader):
            """openpyxl's reader doing only what is needed here: the manifest, the shared strings
            (bounded), the workbook (sheet names, the 1904 calendar) and the styles (which number
            formats are dates). Its worksheet objects are not made: making one parses the sheet
            up to its dimension, or whole when it has none, before a single row is read."""

            def read_strings(self) -> None:
                ct = self.package.find(SHARED_STRINGS)
                if ct is not None:
                    with self.archive.open(ct.PartName[1:]) as src:
                        self.shared_strings = _shared_strings(src, limits)

            def read(self) -> None:
                self.read_manifest()
                self.read_strings()
                self.read_workbook()
                apply_stylesheet(self.archive, self.wb)
                self.sheets = [
                    (sheet.name, rel.target)
                    for sheet, rel in self.parser.find_sheets()
                    if rel.target in self.valid_files and "chartsheet" not in rel.Type
                ]

        fh.seek(0)
        try:
            reader = BoundedReader(fh, read_only=True, data_only=True)
            reader.read()
        except TableError:
            raise
        except Exception as e:  # noqa: BLE001 - malformed XML, a missing part …: the file's problem
            raise _bad_xlsx(e) from None
        self.reader = reader
        self.wb = reader.wb
        self.strings = reader.shared_strings

    def close(self) -> None:
        self.reader.archive.close()

    def _sheet_part(self) -> str:
        sheets = dict(self.reader.sheets)
        if not sheets:
            raise _bad_xlsx(zh="Excel 文件中没有工作表", en="the Excel file has no worksheet")
        return sheets.get(SHEET_NAME) or self.reader.sheets[0][1]

    def records(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number, values) for every row from 1, blank rows included (as empty tuples)."""
        try:
            yield from self._records()
        except TableError:
            raise
        except Exception as e:  # noqa: BLE001 - a damaged sheet is the file's problem, not ours
            raise TableError(
                "bad-xlsx",
                f"Excel 工作表读取中断（{type(e).__name__}），文件可能已损坏",
                f"the worksheet cannot be read ({type(e).__name__}); the file may be damaged",
            ) from None

    def _records(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        from openpyxl.worksheet._reader import WorkSheetParser

        limits = self.limits
        wb = self.wb
        # the workbook's date formats as openpyxl's ReadOnlyWorksheet passes them to this parser
        # (wb._date_formats): cells read here are read exactly as there
        cells_of = WorkSheetParser(
            None,
            self.strings,
            data_only=True,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        in_row = 0  # elements inside the current row
        row_cells = 0
        cells = 0
        outside = 0  # elements outside rows (columns, merged cells, formatting …)
        depth = 0
        sheet_data = None
        last = 0
        per_row = limits.max_columns * 16 + 16
        with self.reader.archive.open(self._sheet_part()) as src:
            for event, el in _iterparse(src, ("start", "end")):
                if event == "start":
                    depth += 1
                    tag = el.tag
                    if tag == _ROW_TAG:
                        in_row, row_cells = 1, 0
                    elif in_row:
                        in_row += 1
                        if tag == _CELL_TAG:
                            row_cells += 1
                            cells += 1
                            if row_cells > limits.max_columns:
                                raise _limit_error("每行的单元格数", "cells in a row", limits.max_columns)
                            if cells > limits.max_cells:
                                raise _limit_error("单元格总数", "cells", limits.max_cells)
                        if in_row > per_row:
                            raise _bad_xlsx(
                                zh="Excel 工作表的一行中元素过多", en="too many elements in one row"
                            )
                    else:
                        if tag == _SHEET_DATA_TAG:
                            sheet_data = el
                        outside += 1
                        if outside > 1_000_000:
                            raise _bad_xlsx(
                                zh="Excel 工作表中元素过多", en="too many elements in the worksheet"
                            )
                    continue
                depth -= 1
                if el.tag == _ROW_TAG:
                    number, row = cells_of.parse_row(el)
                    in_row = 0
                    if sheet_data is not None:
                        sheet_data.clear()  # rows already read are not kept
                    if number <= last:
                        raise _bad_xlsx(
                            zh="Excel 工作表的行号顺序错乱", en="the worksheet's rows are out of order"
                        )
                    if number > limits.max_row_number:
                        raise _limit_error("行号", "as a row number", limits.max_row_number)
                    for blank in range(last + 1, number):
                        yield blank, ()
                    last = number
                    yield number, _values(row, limits.max_columns, number)
                elif depth == 1 and not in_row:
                    el.clear()  # a part of the sheet other than its rows: not needed


def _values(row: list[dict[str, Any]], limit: int, number: int) -> tuple[Any, ...]:
    """A row's cells (openpyxl's dicts with a column number) as values by position."""
    if not row:
        return ()
    width = max(c["column"] for c in row)
    if width > limit:
        raise _limit_error(
            f"列数（第 {number} 行有第 {width} 列）", f"columns (row {number} has column {width})", limit
        )
    values: list[Any] = [None] * width
    for c in row:
        values[c["column"] - 1] = c["value"]
    return tuple(values)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _depth(data: Any, limit: int) -> bool:
    """True when ``data`` nests deeper than ``limit`` (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            if d > limit:
                return True
            stack.extend((x, d + 1) for x in node if isinstance(x, dict | list))
    return False


def _loads_bounded(text: str, limit: int) -> Any:
    """``json.loads`` without NaN/Infinity and without nesting past ``limit`` (a line of 5,000
    ``[`` would exhaust the parser's recursion): ValueError either way."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"nested more than {limit} levels deep") from None
    if _depth(data, limit):
        raise ValueError(f"nested more than {limit} levels deep")
    return data


def parse_json_line(
    number: int, line: bytes | str | None, lang: str = "zh", limits: Limits = DEFAULT_LIMITS
) -> ParsedRow:
    if line is None:
        limit = limits.max_line_bytes
        reason = (f"这一行超过 {limit:,} 字节，未读取", f"the line is longer than {limit:,} bytes; not read")
        return ParsedRow(number, None, [_error(number, None, None, "(line)", None, *reason, lang)], {})
    try:
        text = line.decode("utf-8-sig") if isinstance(line, bytes) else line
    except UnicodeDecodeError as e:
        reason = (f"这一行不是 UTF-8 编码（第 {e.start} 字节）", f"the line is not UTF-8 (byte {e.start})")
        return ParsedRow(number, None, [_error(number, None, None, "(line)", None, *reason, lang)], {})
    text = text.strip()
    raw: dict[str, Any] = {"line": text if len(text) <= 100_000 else text[:100_000] + "…"}
    try:
        data = _loads_bounded(text, limits.max_json_depth)
    except ValueError as e:
        return ParsedRow(
            number,
            None,
            [
                _error(
                    number, None, None, "(line)", None, f"不是有效的 JSON：{e}", f"not valid JSON: {e}", lang
                )
            ],
            raw,
        )
    as_of = None
    if isinstance(data, dict) and "profile" in data:
        as_of = data.get("as_of")
        if as_of is not None:
            try:
                as_of = dt.date.fromisoformat(str(as_of)).isoformat()
            except ValueError:
                return ParsedRow(
                    number,
                    None,
                    [
                        _error(
                            number,
                            None,
                            None,
                            "as_of",
                            as_of,
                            "as_of 应为 YYYY-MM-DD",
                            "as_of must be YYYY-MM-DD",
                            lang,
                        )
                    ],
                    raw,
                )
        data = data["profile"]
    if not isinstance(data, dict):
        return ParsedRow(
            number,
            None,
            [
                _error(
                    number,
                    None,
                    None,
                    "(line)",
                    None,
                    "每行应为一个 JSON 对象",
                    "each line must be a JSON object",
                    lang,
                )
            ],
            raw,
        )
    row = ParsedRow(number, None, [], raw, as_of)
    cc = data.get("credit_code")
    row.credit_code = cc if isinstance(cc, str) else None
    row.name = data.get("name") if isinstance(data.get("name"), str) else None
    try:
        profile = Profile.model_validate(data)
    except ValidationError as e:
        from .errors import errors_of

        for err in errors_of(e, lang):
            row.errors.append(
                _error(
                    number, None, None, err["field"], err.get("value"), err["message"], err["message"], lang
                )
            )
        return row
    row.profile = profile.model_dump(mode="json")
    row.credit_code = profile.credit_code
    row.name = profile.name
    row.region_code = profile.region_code
    return row


def open_table(
    fh: IO[bytes],
    filename: str | None = None,
    fmt: str | None = None,
    lang: str = "zh",
    limits: Limits = DEFAULT_LIMITS,
) -> Table:
    fh.seek(0)
    head = fh.read(8)
    fh.seek(0)
    return Table(fh, fmt or detect_format(filename, head), lang, limits)


# ---------------------------------------------------------------- templates


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
        for p, _k, _e in _ENTERPRISE:
            _set(skeleton, p, None)
        skeleton["certifications"] = {"hte": None, "tsme": None}
        skeleton["fiscal_years"] = [{"year": y, **dict.fromkeys(FISCAL_FIELDS)} for y in years]
        skeleton["projects"] = [{n: None for n, _k, _e in _PROJECT_FIELDS}]
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
    numbered = {int(m.group(1)) for c in cols if (m := _PJ_PATH.match(c.path))}
    out: list[Any] = []
    for c in cols:
        v: Any
        m = _FY_PATH.match(c.path)
        p = _PJ_PATH.match(c.path)
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
