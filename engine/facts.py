"""Facts: what a criterion can test, read or derived from the profile in exact arithmetic.

Each fact has a path, a kind, a unit and labels (``FactSpec``), a **value** function and, where it
is derived, a **formula** function:

- the value is plain data — ``Decimal`` in 万元, ``int`` people and days, ``bool``, ``date``, ``str``
  — or an ``Unknown`` naming the input paths whose absence left it unknown (never zero). A ratio
  whose denominator is zero is ``Unknown`` with a ``Reason`` and nothing missing: it cannot be
  judged automatically and goes to a person. Values are what every evaluation computes: no
  strings, no traced objects;
- the formula is the arithmetic that produced the value, as a structured ``Formula`` (an operator,
  its operands with their paths, the result), built only when an explanation is asked for and
  worded in the reader's language by the renderer (``engine/explain.py``).

The catalogue knows no measure: it describes the contract's fields and domain quantities
(ratios, windows, size class) that several measures use.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from decimal import Context as DecimalContext
from typing import Any

from .profile import (
    Ownership,
    Profile,
    Project,
    ProjectCategory,
    ProjectLevel,
    RdInstitutionLevel,
    TechField,
    enum_values,
)
from .vocabulary import FIELD_LABELS, FISCAL_FIELDS, PROJECT_LABELS, pick, text

RATIO_PRECISION = 40  # digits; see ``divide`` for why comparisons stay exact


@dataclass(frozen=True, slots=True)
class FactSpec:
    path: str
    kind: str  # decimal | int | bool | date | enum | str
    unit: str
    zh: str
    en: str
    subject: str = "enterprise"  # enterprise | project
    enum: tuple[str, ...] = ()
    changeable: bool = False  # something the enterprise can act on (remedy hints apply)
    params: tuple[str, ...] = ()  # pack-level parameters the derivation needs

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a value cannot be computed although nothing is missing: a message code and its
    language-free arguments (paths, measure ids), worded when an explanation is rendered."""

    code: str
    args: tuple[tuple[str, Any], ...] = ()


class Unknown:
    """A fact whose value is not known: the input paths missing, or why it cannot be computed."""

    __slots__ = ("missing", "undefined")

    def __init__(self, missing: tuple[str, ...] = (), undefined: Reason | None = None) -> None:
        self.missing = missing
        self.undefined = undefined

    def __repr__(self) -> str:
        return f"Unknown(missing={self.missing!r}, undefined={self.undefined!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Unknown and (self.missing, self.undefined) == (other.missing, other.undefined)

    def __hash__(self) -> int:
        return hash((self.missing, self.undefined))


def known(v: Any) -> bool:
    return type(v) is not Unknown


@dataclass(frozen=True, slots=True)
class Operand:
    value: Any
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Formula:
    """The arithmetic behind a derived value: ``op`` names it (ratio, sum, full_years, …), ``args``
    holds its operands (``Operand`` with the path it was read from, or plain values)."""

    op: str
    args: dict[str, Any] = field(default_factory=dict)


SPECS: dict[str, FactSpec] = {}
DERIVE: dict[str, Callable[[Env], Any]] = {}
FORMULA: dict[str, Callable[[Env], Formula | None]] = {}


def fact(path: str, kind: str, unit: str, zh: str, en: str, formula: Callable | None = None, **kw: Any):
    def register(fn: Callable[[Env], Any]) -> Callable[[Env], Any]:
        SPECS[path] = FactSpec(path, kind, unit, zh, en, **kw)
        DERIVE[path] = fn
        if formula is not None:
            FORMULA[path] = formula
        return fn

    return register


_CTX = DecimalContext(prec=RATIO_PRECISION, rounding=ROUND_HALF_UP)


def divide(a: Decimal, b: Decimal) -> Decimal:
    """a ÷ b to 40 significant digits: far finer than any input (6 decimals of 万元 under 10^9),
    so that no quotient can round onto a threshold it does not reach."""
    return _CTX.divide(a, b)


_ABSENT = object()


class Env:
    """The facts of one subject on one assessment date, computed on demand and kept.

    ``values`` also holds facts supplied from outside (scores, other measures' outcomes). A
    project's environment asks its enterprise's for everything that is not ``project.*``."""

    __slots__ = ("profile", "as_of", "last_year", "years", "project", "pack_params", "values", "parent")

    def __init__(
        self,
        profile: Profile,
        as_of: dt.date,
        pack_params: dict[str, Any] | None = None,
        project: Project | None = None,
        parent: Env | None = None,
    ) -> None:
        self.profile = profile
        self.as_of = as_of
        self.last_year = as_of.year - 1  # "last fiscal year": the calendar year before as_of's year
        self.project = project
        self.pack_params = pack_params or {}
        self.values: dict[str, Any] = {}
        self.parent = parent
        self.years = parent.years if parent is not None else {fy.year: fy for fy in profile.fiscal_years}

    def get(self, path: str) -> Any:
        v = self.values.get(path, _ABSENT)
        if v is _ABSENT:
            if self.parent is not None and not path.startswith("project."):
                return self.parent.get(path)
            derive = DERIVE.get(path)
            if derive is None:
                if path.startswith(PACK_FACT_PREFIXES):
                    return NOT_SUPPLIED  # a score or outcome not computed for this evaluation
                raise KeyError(f"unknown fact path {path!r}")
            v = self.values[path] = derive(self)
        return v

    def formula(self, path: str) -> Formula | None:
        """How a derived fact's value came about (explanations only); None for a plain field,
        an unknown value or a fact supplied from outside without one."""
        if self.parent is not None and not path.startswith("project.") and path not in self.values:
            return self.parent.formula(path)
        write = FORMULA.get(path)
        if write is None or not known(self.get(path)):
            return None
        return write(self)

    def for_project(self, project: Project) -> Env:
        return Env(self.profile, self.as_of, self.pack_params, project, self)


# ---------------------------------------------------------------- plain fields of the profile


PLAIN: dict[str, str] = {}  # a contract field read as it is: path → kind


def _field(path: str, kind: str, unit: str, **kw: Any) -> None:
    """A fact that is a field of the profile, read at its path (``ip.core_ip_owned``)."""
    missing = Unknown((path,))
    getter = operator.attrgetter(path)
    if kind == "enum":

        def derive(env: Env) -> Any:
            v = getter(env.profile)
            return missing if v is None else v.value

    else:

        def derive(env: Env) -> Any:
            v = getter(env.profile)
            return missing if v is None else v

    zh, en = FIELD_LABELS[path]
    fact(path, kind, unit, zh, en, **kw)(derive)
    PLAIN[path] = kind


_field("resident_enterprise", "bool", "bool")
_field("registered_on", "date", "date")
_field("region_code", "str", "text")
_field("industry_code", "str", "text")
_field("ownership", "enum", "enum", enum=enum_values(Ownership))
_field("tech_field", "enum", "enum", enum=enum_values(TechField))
_field("prohibited_category", "bool", "bool")
_field("ip.core_ip_owned", "bool", "bool", changeable=True)
_field("ip.class_i_count", "int", "count", changeable=True)
_field("ip.class_ii_count", "int", "count", changeable=True)
_field("innovation_score", "decimal", "points", changeable=True)
_field("compliance.major_safety_quality_incident_within_1y", "bool", "bool")
_field("compliance.serious_environmental_violation_within_1y", "bool", "bool")
_field("compliance.serious_research_misconduct", "bool", "bool")
_field("compliance.abnormal_operation_list", "bool", "bool")
_field("compliance.serious_dishonesty_list", "bool", "bool")
_field("honors.rd_institution_level", "enum", "enum", enum=enum_values(RdInstitutionLevel))

_NO_REGISTRATION = Unknown(("registered_on",))
_NO_REGION = Unknown(("region_code",))
_NO_INDUSTRY = Unknown(("industry_code",))


def _full_years(since: dt.date, day: dt.date) -> int:
    return day.year - since.year - ((day.month, day.day) < (since.month, since.day))


@fact(
    "registration.days",
    "int",
    "days",
    "成立天数（至评估日）",
    "days since registration",
    formula=lambda env: Formula(
        "days_between",
        {"as_of": env.as_of, "since": env.profile.registered_on, "days": env.get("registration.days")},
    ),
)
def _registration_days(env: Env) -> Any:
    reg = env.profile.registered_on
    return _NO_REGISTRATION if reg is None else (env.as_of - reg).days


@fact(
    "registration.years",
    "int",
    "years",
    "成立年限（整年，至评估日）",
    "full years since registration",
    formula=lambda env: Formula(
        "full_years",
        {"since": env.profile.registered_on, "as_of": env.as_of, "years": env.get("registration.years")},
    ),
)
def _registration_years(env: Env) -> Any:
    reg = env.profile.registered_on
    return _NO_REGISTRATION if reg is None else _full_years(reg, env.as_of)


@fact("region.city_code", "str", "text", "注册地所属地市代码（前4位）", "city code (first 4 digits)")
def _city(env: Env) -> Any:
    rc = env.profile.region_code
    return _NO_REGION if rc is None else rc[:4]


@fact("industry.section", "str", "text", "行业门类（字母）", "industry section (letter)")
def _section(env: Env) -> Any:
    code = env.profile.industry_code
    return _NO_INDUSTRY if code is None else code[0]


_SECTION_ONLY = Unknown(("industry_code",), Reason("industry_section_only"))


@fact("industry.division", "str", "text", "行业大类（字母+2位）", "industry division (letter + 2 digits)")
def _division(env: Env) -> Any:
    code = env.profile.industry_code
    if code is None:
        return _NO_INDUSTRY
    return _SECTION_ONLY if len(code) < 3 else code[:3]


# ---------------------------------------------------------------- certificates and honours


def years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@fact("hte.held", "bool", "bool", "持有高新技术企业证书", "holds a high-tech enterprise certificate")
def _hte_held(env: Env) -> Any:
    return env.profile.certifications.hte is not None


@fact(
    "hte.valid_on_as_of",
    "bool",
    "bool",
    "高新技术企业证书在评估日有效",
    "high-tech certificate valid on the assessment date",
    changeable=True,
    formula=lambda env: (
        None
        if env.profile.certifications.hte is None
        else Formula(
            "valid_until",
            {
                "since": env.profile.certifications.hte.issued_on,
                "until": years_back(env.profile.certifications.hte.issued_on, -3),
            },
        )
    ),
)
def _hte_valid(env: Env) -> Any:
    cert = env.profile.certifications.hte
    if cert is None:
        return False
    # valid three years from the issue date: issued ≤ as_of < issued + 3 years
    return cert.issued_on <= env.as_of < years_back(cert.issued_on, -3)


@fact(
    "hte.issued_within_1y",
    "bool",
    "bool",
    "高新技术企业证书于评估日前一年内颁发",
    "high-tech certificate issued within the year before the assessment date",
    formula=lambda env: (
        None
        if env.profile.certifications.hte is None
        else Formula(
            "issued_within",
            {
                "day": env.profile.certifications.hte.issued_on,
                "since": years_back(env.as_of, 1),
                "as_of": env.as_of,
            },
        )
    ),
)
def _hte_recent(env: Env) -> Any:
    cert = env.profile.certifications.hte
    if cert is None:
        return False
    return years_back(env.as_of, 1) <= cert.issued_on <= env.as_of


_NO_HTE = Unknown(("certifications.hte",))
_NO_FIRST_TIME = Unknown(("certifications.hte.first_time",))


@fact("hte.first_time", "bool", "bool", "首次认定为高新技术企业", "first-time high-tech recognition")
def _hte_first(env: Env) -> Any:
    cert = env.profile.certifications.hte
    if cert is None:
        return _NO_HTE
    return _NO_FIRST_TIME if cert.first_time is None else cert.first_time


@fact(
    "tsme.registered_for_recent_year",
    "bool",
    "bool",
    "科技型中小企业入库登记属上一年度或本年度",
    "TSME registration for the last or current year",
    changeable=True,
    formula=lambda env: (
        None
        if env.profile.certifications.tsme is None
        else Formula(
            "year_in",
            {
                "year": env.profile.certifications.tsme.year,
                "first": env.last_year,
                "second": env.last_year + 1,
            },
        )
    ),
)
def _tsme_recent(env: Env) -> Any:
    reg = env.profile.certifications.tsme
    return False if reg is None else reg.year in (env.last_year, env.last_year + 1)


def _within_5y(path: str, getter: Callable[[Profile], dt.date | None]) -> None:
    def derive(env: Env) -> Any:
        day = getter(env.profile)
        if day is None:  # null records that the enterprise holds none
            return False
        return years_back(env.as_of, 5) <= day <= env.as_of

    def formula(env: Env) -> Formula | None:
        day = getter(env.profile)
        if day is None:
            return None
        return Formula("within_5y", {"day": day, "since": years_back(env.as_of, 5), "as_of": env.as_of})

    return derive, formula


_award, _award_formula = _within_5y(
    "honors.national_sci_award_top3_on", lambda p: p.honors.national_sci_award_top3_on
)
fact(
    "honors.national_sci_award_within_5y",
    "bool",
    "bool",
    "近五年获国家级科技奖励并在前三名",
    "national S&T award (first three units) within five years",
    formula=_award_formula,
)(_award)
_standard, _standard_formula = _within_5y("honors.led_standard_on", lambda p: p.honors.led_standard_on)
fact(
    "honors.led_standard_within_5y",
    "bool",
    "bool",
    "近五年主导制定国际、国家或行业标准",
    "led an international, national or industry standard within five years",
    formula=_standard_formula,
)(_standard)


# ---------------------------------------------------------------- fiscal years

CHANGEABLE_FISCAL = {"rd_expense", "rd_expense_domestic", "high_tech_revenue", "tech_staff"}


def fiscal_path(year: int, name: str | None = None) -> str:
    return f"fiscal_years[{year}]" + (f".{name}" if name else "")


_MISSING_CACHE: dict[str, Unknown] = {}


def _missing(path: str) -> Unknown:
    """An unknown value missing one input path (kept: the same paths recur in every evaluation)."""
    hit = _MISSING_CACHE.get(path)
    if hit is None:
        if len(_MISSING_CACHE) > 10_000:
            _MISSING_CACHE.clear()
        hit = _MISSING_CACHE[path] = Unknown((path,))
    return hit


def _last_year_value(name: str) -> Callable[[Env], Any]:
    def derive(env: Env) -> Any:
        year = env.last_year
        fy = env.years.get(year)
        if fy is None:
            return _missing(fiscal_path(year))
        v = getattr(fy, name)
        return _missing(fiscal_path(year, name)) if v is None else v

    return derive


for _name, (_kind, _unit, _zh, _en) in FISCAL_FIELDS.items():
    fact(
        f"last_year.{_name}",
        _kind,
        _unit,
        f"上一年度{_zh}",
        f"{_en}, last fiscal year",
        changeable=_name in CHANGEABLE_FISCAL,
    )(_last_year_value(_name))


def _ratio_fact(path: str, zh: str, en: str, num: str, den: str, changeable: bool = True) -> None:
    zero = Unknown(undefined=Reason("zero_denominator", (("path", den),)))

    def derive(env: Env) -> Any:
        n, d = env.get(num), env.get(den)
        if type(n) is Unknown or type(d) is Unknown:
            missing = (n.missing if type(n) is Unknown else ()) + (d.missing if type(d) is Unknown else ())
            return Unknown(missing)
        if d == 0:
            return zero
        return _CTX.divide(Decimal(n), Decimal(d))

    def formula(env: Env) -> Formula:
        return Formula(
            "ratio", {"num": Operand(env.get(num), num), "den": Operand(env.get(den), den), "result": env.get(path)}
        )

    fact(path, "decimal", "ratio", zh, en, changeable=changeable, formula=formula)(derive)


_ratio_fact(
    "last_year.tech_staff_ratio",
    "上一年度科技人员占职工总数比例",
    "technical staff share of employees, last year",
    "last_year.tech_staff",
    "last_year.employees",
)
_ratio_fact(
    "last_year.high_tech_revenue_ratio",
    "上一年度高新技术产品（服务）收入占总收入比例",
    "high-tech revenue share of total revenue, last year",
    "last_year.high_tech_revenue",
    "last_year.total_revenue",
)
_ratio_fact(
    "last_year.rd_to_sales_ratio",
    "上一年度研发费用占销售收入比例",
    "R&D expense over sales revenue, last year",
    "last_year.rd_expense",
    "last_year.sales_revenue",
)
_ratio_fact(
    "last_year.rd_to_cost_ratio",
    "上一年度研发费用占成本费用比例",
    "R&D expense over cost and expense, last year",
    "last_year.rd_expense",
    "last_year.cost_and_expense",
)


def recent_years(env: Env) -> tuple[list[int], tuple[str, ...]]:
    """The last three fiscal years, or fewer where the enterprise was registered later.

    HTE rules: 实际经营期不满三年的按实际经营时间计算. Without a registration date the three years
    stand if all three are in the profile; otherwise the date is needed to know which are due.
    """
    y = env.last_year
    years = [y - 2, y - 1, y]
    reg = env.profile.registered_on
    if reg is None:
        if all(x in env.years for x in years):
            return years, ()
        return [], ("registered_on",)
    return [x for x in years if x >= reg.year], ()


def _recent_values(env: Env, name: str) -> tuple[list[Any], Unknown | None]:
    """The field's values over the recent years, or why their sum is unknown."""
    years, missing = recent_years(env)
    if missing:
        return [], Unknown(missing)
    if not years:
        return [], Unknown((fiscal_path(env.last_year),), Reason("no_full_year"))
    values: list[Any] = []
    miss: list[str] = []
    for year in years:
        fy = env.years.get(year)
        if fy is None:
            miss.append(fiscal_path(year))
            continue
        v = getattr(fy, name)
        if v is None:
            miss.append(fiscal_path(year, name))
            continue
        values.append(v)
    return values, (Unknown(tuple(miss)) if miss else None)


def _sum_recent(name: str) -> tuple[Callable[[Env], Any], Callable[[Env], Formula]]:
    def derive(env: Env) -> Any:
        values, unknown = _recent_values(env, name)
        return unknown if unknown is not None else sum(values, Decimal(0))

    def formula(env: Env) -> Formula:
        values, _ = _recent_values(env, name)
        return Formula("sum", {"terms": values, "result": env.get(f"last3.{name}")})

    return derive, formula


for _name in ("sales_revenue", "rd_expense", "rd_expense_domestic"):
    _kind, _unit, _zh, _en = FISCAL_FIELDS[_name]
    _derive, _formula = _sum_recent(_name)
    fact(
        f"last3.{_name}",
        _kind,
        _unit,
        f"近三个会计年度{_zh}合计",
        f"{_en}, sum over the last three years",
        changeable=_name != "sales_revenue",
        formula=_formula,
    )(_derive)


@fact("last3.years", "int", "years", "计算研发费用比例的会计年度数", "number of fiscal years counted")
def _last3_years(env: Env) -> Any:
    years, missing = recent_years(env)
    return Unknown(missing) if missing else len(years)


_ratio_fact(
    "last3.rd_expense_ratio",
    "近三个会计年度研发费用总额占同期销售收入总额比例",
    "R&D expense over sales revenue, last three years",
    "last3.rd_expense",
    "last3.sales_revenue",
)
_ratio_fact(
    "last3.domestic_rd_ratio",
    "近三个会计年度境内研发费用占全部研发费用比例",
    "domestic share of R&D expense, last three years",
    "last3.rd_expense_domestic",
    "last3.rd_expense",
)


# ---------------------------------------------------------------- size class (国统字〔2017〕213号)

SIZE_CLASSES = ("large", "medium", "small", "micro")
# the indicators of the size table and the facts that give them
SIZE_INDICATORS = {
    "employees": "last_year.employees",
    "revenue": "last_year.sales_revenue",
    "assets": "last_year.total_assets",
}
_COARSE_INDUSTRY = Unknown(("industry_code",), Reason("industry_too_coarse"))


def _size(env: Env) -> tuple[Any, Any, dict[str, Any] | None, tuple[str, dict[str, Any]] | None]:
    """(the class or an Unknown, the table's row, the lower bounds the class met, the next class up
    and the lower bounds it needs)."""
    table = env.pack_params.get("sme_size_classes")
    code = env.profile.industry_code
    if code is None:
        return _NO_INDUSTRY, None, None, None
    row, bands = size_row(table, code)
    if row is None:
        # "F" alone could be 批发业 (F51) or 零售业 (F52): the class cannot be told
        return _COARSE_INDUSTRY, None, None, None
    values = {k: env.get(path) for k, path in SIZE_INDICATORS.items()}
    # 大型、中型和小型企业须同时满足所列指标的下限，否则下划一档；微型企业只须满足所列指标中的一项即可。
    for i, (cls, needed) in enumerate(bands):
        missing = tuple(m for k in needed if type(values[k]) is Unknown for m in values[k].missing)
        if missing:
            return Unknown(missing), row, None, None
        if all(values[k] >= lower for k, lower in needed.items()):
            return cls, row, needed, bands[i - 1] if i else None
    return "micro", row, None, bands[-1]


def _size_formula(env: Env) -> Formula:
    cls, row, needed, above = _size(env)
    bounds = [(SIZE_INDICATORS[k], env.get(SIZE_INDICATORS[k]), lower) for k, lower in (needed or {}).items()]
    up = (above[0], [(SIZE_INDICATORS[k], lower) for k, lower in above[1].items()]) if above else None
    return Formula("size_class", {"industry": row.industry, "bounds": bounds, "size": cls, "next": up})


@fact(
    "enterprise.size_class",
    "enum",
    "enum",
    "企业规模（国统字〔2017〕213号）",
    "enterprise size class",
    enum=SIZE_CLASSES,
    params=("sme_size_classes",),
    formula=_size_formula,
)
def _size_class(env: Env) -> Any:
    return _size(env)[0]


_SIZE_ROWS: dict[tuple[int, str], tuple[Any, Any, Any]] = {}


def size_row(table: Any, code: str) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
    """The row of the size table an industry code falls in (the longest matching prefix: I65
    before I) and its bands, or None when the code is too coarse to tell. Kept per table and code."""
    hit = _SIZE_ROWS.get((id(table), code))
    if hit is not None and hit[0] is table:
        return hit[1], hit[2]
    row, matched = None, -1
    for candidate in table or ():
        for prefix in candidate.prefixes:
            if code.startswith(prefix) and len(prefix) > matched:
                row, matched = candidate, len(prefix)
    finer = [p for r in table or () for p in r.prefixes if p.startswith(code) and len(p) > len(code)]
    if finer and (row is None or all(len(p) > matched for p in finer)):
        row = None
    elif row is None:
        row = next(r for r in table if not r.prefixes)
    bands = _size_bands(row) if row is not None else []
    if len(_SIZE_ROWS) > 10_000:
        _SIZE_ROWS.clear()
    _SIZE_ROWS[(id(table), code)] = (table, row, bands)
    return row, bands


def _size_bands(row: Any) -> list[tuple[str, dict[str, Any]]]:
    """(class, the lower bounds it needs) from large to small."""
    return [
        (
            cls,
            {
                k: getattr(getattr(row, cls), k)
                for k in ("employees", "revenue", "assets")
                if getattr(getattr(row, cls), k) is not None
            },
        )
        for cls in ("large", "medium", "small")
    ]


# ---------------------------------------------------------------- the facts of a rule group, generated


def facts_code(name: str, paths: list[str]) -> Callable[[Env], dict[str, Any]]:
    """``{path: value}`` of an enterprise's facts, as one generated function: the profile's fields
    and the last year's figures read in straight-line code (each kept in the environment for the
    derived facts that read them), the derived facts by their derive functions, in that order."""
    lines = [
        "def facts(env):",
        "    p = env.profile",
        "    values = env.values",
        "    get = env.get",
        "    out = {}",
    ]
    env_: dict[str, Any] = {"missing": _missing, "fiscal_path": fiscal_path}
    fiscal = [path for path in paths if path.startswith("last_year.") and path[10:] in FISCAL_FIELDS]
    if fiscal:
        lines += ["    ly = env.last_year", "    fy = env.years.get(ly)"]
    for i, path in enumerate(p for p in paths if p in PLAIN):
        env_[f"M{i}"] = Unknown((path,))
        value = "v.value" if PLAIN[path] == "enum" else "v"
        lines += [f"    v = p.{path}", f"    out[{path!r}] = values[{path!r}] = M{i} if v is None else {value}"]
    for path in fiscal:
        field = path[10:]
        lines += [
            "    if fy is None:",
            "        v = missing(fiscal_path(ly))",
            "    else:",
            f"        v = fy.{field}",
            "        if v is None:",
            f"            v = missing(fiscal_path(ly, {field!r}))",
            f"    out[{path!r}] = values[{path!r}] = v",
        ]
    for path in paths:
        if path not in PLAIN and path not in fiscal:
            lines.append(f"    out[{path!r}] = get({path!r})")
    lines.append("    return out")
    exec(compile("\n".join(lines), f"<facts {name}>", "exec"), env_)  # noqa: S102 - our own code
    return env_["facts"]


# ---------------------------------------------------------------- projects

# (kind, unit, enum, 中文, English): a project fact names the datum as the work plan does
# (纳入省重大实施类的重点科技创新项目); a missing field is named by its path's label (vocabulary)
_PROJECT_FIELDS = {
    "category": ("enum", "enum", enum_values(ProjectCategory), "项目类别", "project category"),
    "level": ("enum", "enum", enum_values(ProjectLevel), "项目级别", "project level"),
    "provincial_major_implementation": (
        "bool",
        "bool",
        (),
        "纳入省重大实施类的重点科技创新项目",
        "provincial major implementation project",
    ),
    "municipal_key": ("bool", "bool", (), "纳入市级重点（或以上）项目", "municipal key (or higher) project"),
    "new_land_required": ("bool", "bool", (), "涉及新增用地", "needs new land"),
    "land_area_mu": ("decimal", "mu", (), "新增用地面积", "new land area"),
}


def _project_field(name: str) -> Callable[[Env], Any]:
    def derive(env: Env) -> Any:
        project = env.project
        if project is None:
            raise KeyError(f"project.{name} asked outside a project")
        v = getattr(project, name)
        if v is None:
            return Unknown((f"projects[{project.id}].{name}",))
        return v.value if hasattr(v, "value") else v

    return derive


for _name, (_kind, _unit, _enum, _zh, _en) in _PROJECT_FIELDS.items():
    fact(f"project.{_name}", _kind, _unit, _zh, _en, subject="project", enum=_enum)(_project_field(_name))


# ---------------------------------------------------------------- facts that come from the rule pack

PACK_FACT_PREFIXES = ("measure.", "score.")
NOT_SUPPLIED = Unknown()
MEASURE_OUTCOMES = ("eligible", "ineligible", "needs_review", "undetermined", "not_applicable")


def measure_fact_path(measure_id: str) -> str:
    return f"measure.{measure_id}.outcome"


def score_fact_path(score_id: str) -> str:
    return f"score.{score_id}"


def spec_for(path: str, pack_facts: dict[str, FactSpec] | None = None) -> FactSpec | None:
    if path in SPECS:
        return SPECS[path]
    if pack_facts and path in pack_facts:
        return pack_facts[path]
    return None


# ---------------------------------------------------------------- labels of paths


_FISCAL_PATH = re.compile(r"^fiscal_years\[(\d{4})\](?:\.(\w+))?$")
_PROJECT_PATH = re.compile(r"^projects\[([^\]]+)\]\.(\w+)$")


def path_label(path: str, lang: str = "zh", pack_facts: dict[str, FactSpec] | None = None) -> str:
    """A person's name for a profile path or a fact: fiscal_years[2024].sales_revenue → 2024年度销售收入."""
    m = _FISCAL_PATH.match(path)
    if m:
        year, name = m.groups()
        if name is None:
            return text("path.fiscal_year", lang, year=year)
        row = FISCAL_FIELDS.get(name)
        label = (row[3] if lang == "en" else row[2]) if row else name
        return text("path.fiscal_field", lang, year=year, label=label)
    m = _PROJECT_PATH.match(path)
    if m:
        pid, name = m.groups()
        return text("path.project_field", lang, id=pid, label=pick(PROJECT_LABELS.get(name, (name, name)), lang))
    if path in FIELD_LABELS:
        return pick(FIELD_LABELS[path], lang)
    spec = spec_for(path, pack_facts)
    return spec.label(lang) if spec is not None else path
