"""The template's columns: the contract's fields under their Chinese labels (engine/vocabulary.py)
or their contract paths, money in 万元; fiscal years as column groups ("2024年度销售收入（万元）"),
projects as numbered column groups ("项目1编号", …) and a JSON column for more of them. A header names
a column (``column_for_header``) however it is spaced or whatever width its brackets are.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

from engine.profile import (
    Ownership,
    ProjectCategory,
    ProjectLevel,
    RdInstitutionLevel,
    TechField,
    enum_values,
)
from engine.vocabulary import FIELD_LABELS, FISCAL_FIELDS, PROJECT_LABELS

TEMPLATE_PROJECTS = 2  # numbered project groups in the templates; the reader takes any number
SHEET_NAME = "企业画像"
PROJECTS_JSON_ZH = "项目（JSON）"



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
ENTERPRISE_FIELDS: list[tuple[str, str, tuple[str, ...]]] = [
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
PROJECT_FIELDS: list[tuple[str, str, tuple[str, ...]]] = [
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
    return [Column(p, k, _zh_with_unit(_label(p), k), e) for p, k, e in ENTERPRISE_FIELDS]


def fiscal_columns(year: int) -> list[Column]:
    out = []
    for name, (kind, _unit, zh, _en) in FISCAL_FIELDS.items():
        k = _FISCAL_KIND[kind]
        out.append(Column(f"fiscal_years[{year}].{name}", k, _zh_with_unit(f"{year}年度{zh}", k)))
    return out


def project_columns(n: int) -> list[Column]:
    out = []
    for name, kind, enum in PROJECT_FIELDS:
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


def norm(text: str) -> str:
    """Headers compare without spaces, width or case: “（万元）” and “(万元)” are the same."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


_UNIT_AT_END = re.compile(r"^(.*?)\(([^()]*)\)$")
_FY_ZH = re.compile(r"^(\d{4})年度?(.+)$")
_FY_EN = re.compile(r"^(?:fiscal_years\[(\d{4})\]|fy(\d{4}))\.(\w+)$")
_PJ_ZH = re.compile(r"^项目(\d{1,3})(.+)$")
_PJ_EN = re.compile(r"^projects\[(\d{1,3})\]\.(\w+)$")

_ENTERPRISE_BY_NAME: dict[str, tuple[str, str, tuple[str, ...]]] = {}
for _p, _k, _e in ENTERPRISE_FIELDS:
    _ENTERPRISE_BY_NAME[norm(_p)] = (_p, _k, _e)
    _ENTERPRISE_BY_NAME[norm(_label(_p))] = (_p, _k, _e)
_FISCAL_BY_NAME = {}
for _n, (_kind, _u, _zh, _en) in FISCAL_FIELDS.items():
    _FISCAL_BY_NAME[norm(_zh)] = _n
    _FISCAL_BY_NAME[norm(_n)] = _n
_PROJECT_BY_NAME = {}
for _n, _k, _e in PROJECT_FIELDS:
    _PROJECT_BY_NAME[norm(_PROJECT_ZH[_n])] = (_n, _k, _e)
    _PROJECT_BY_NAME[norm(_n)] = (_n, _k, _e)
    _PROJECT_BY_NAME[norm(_PROJECT_ZH[_n].split("（")[0])] = (_n, _k, _e)
_EXPECTED_UNIT = {"money": "万元", "people": "人"}


def _split_unit(header: str) -> tuple[str, str | None]:
    m = _UNIT_AT_END.match(header)
    if m:
        return m.group(1), m.group(2)
    return header, None


def column_for_header(header: str) -> tuple[Column | None, str | None]:
    """The column a header names, or (None, reason) when it names none or names a wrong unit."""
    h = norm(header)
    if not h:
        return None, None
    if h in (norm(PROJECTS_JSON_ZH), "projects", norm("项目(json)")):
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


FY_PATH = re.compile(r"^fiscal_years\[(\d{4})\]\.(\w+)$")
PJ_PATH = re.compile(r"^projects\[(\d+)\]\.(\w+)$")


@functools.lru_cache(maxsize=4096)
def place(path: str) -> tuple[str, int, str]:
    """Where a column's value goes: ("year", 2024, field), ("project", n, field) or ("doc", 0, path)."""
    m = FY_PATH.match(path)
    if m:
        return "year", int(m.group(1)), m.group(2)
    m = PJ_PATH.match(path)
    if m:
        return "project", int(m.group(1)), m.group(2)
    return "doc", 0, path


