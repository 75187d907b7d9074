"""Facts: what a criterion can test, read or derived from the profile in ``Decimal``.

Each fact has a path, a kind, a unit and labels. A derived fact records the inputs it was computed
from and its arithmetic, so that a verdict can show its working. A missing input makes the derived
fact unknown (``Fact.missing`` names the input paths), never zero. A ratio whose denominator is zero
is ``undefined``: it cannot be judged automatically and goes to a person.

The catalogue knows no measure: it describes the contract's fields and domain quantities
(ratios, windows, size class) that several measures use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
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

RATIO_PRECISION = 40  # digits; see engine/encode.py for why comparisons stay exact


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


@dataclass(slots=True)
class Fact:
    value: Any = None
    missing: tuple[str, ...] = ()  # input paths whose absence left the value unknown
    formula: Any = None  # the arithmetic ("(a + b) ÷ (c + d)"), or a function that writes it when asked
    inputs: dict[str, Any] = field(default_factory=dict)
    undefined: str | None = None  # reason the value cannot be computed although nothing is missing
    parts: tuple | None = None  # for a ratio: (numerator path, numerator, denominator path, denominator)

    @property
    def known(self) -> bool:
        return self.value is not None

    def formula_text(self) -> str | None:
        f = self.formula
        if callable(f):
            f = f()
            if f:
                self.formula = f  # written once, however many criteria show it
        return f


SPECS: dict[str, FactSpec] = {}
DERIVE: dict[str, Callable[[Context], Fact]] = {}


def fact(path: str, kind: str, unit: str, zh: str, en: str, **kw: Any):
    def register(fn: Callable[[Context], Fact]) -> Callable[[Context], Fact]:
        SPECS[path] = FactSpec(path, kind, unit, zh, en, **kw)
        DERIVE[path] = fn
        return fn

    return register


_CTX = DecimalContext(prec=RATIO_PRECISION, rounding=ROUND_HALF_UP)
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


def pct(d: Decimal) -> str:
    """A ratio as a percentage for people: 0.0325 → '3.25%'."""
    p = _CTX.multiply(d, _HUNDRED).quantize(_CENT, context=_CTX)
    return f"{p.normalize(_CTX):f}%" if p == p.to_integral_value() else f"{p:f}%"


def divide(a: Decimal, b: Decimal) -> Decimal:
    """a ÷ b to 40 significant digits: far finer than any input (6 decimals of 万元 under 10^9),
    so that no quotient can round onto a threshold it does not reach."""
    return _CTX.divide(a, b)


def money(d: Decimal) -> str:
    return f"{d:f}"


class Context:
    """Facts of one subject on one assessment date, computed on demand and kept.

    A fact's formula function must not refer to its context (capture the values it shows): the
    context holds the fact, and the cycle would leave every evaluation's facts to the cyclic garbage
    collector, whose passes show as latency spikes."""

    __slots__ = (
        "profile",
        "as_of",
        "last_year",
        "project",
        "pack_params",
        "extra",
        "_cache",
        "parent",
        "years",
    )

    def __init__(
        self,
        profile: Profile,
        as_of: dt.date,
        project: Project | None = None,
        pack_params: dict[str, Any] | None = None,
        extra: dict[str, Fact] | None = None,
    ) -> None:
        self.profile = profile
        self.as_of = as_of
        self.last_year = as_of.year - 1  # "last fiscal year": the calendar year before as_of's year
        self.project = project
        self.pack_params = pack_params or {}
        self.extra = extra or {}  # facts supplied from outside: scores, other measures' outcomes
        self._cache: dict[str, Fact] = {}
        self.parent: Context | None = None  # a project's context asks its enterprise's for the rest
        self.years = {fy.year: fy for fy in profile.fiscal_years}  # the fiscal years by year

    def get(self, path: str) -> Fact:
        hit = self._cache.get(path)
        if hit is None:
            hit = self.extra.get(path)
            if hit is not None:
                return hit
            if self.parent is not None and not path.startswith("project."):
                return self.parent.get(path)
            else:
                derive = DERIVE.get(path)
                if derive is None:
                    if path.startswith(PACK_FACT_PREFIXES):
                        return NOT_SUPPLIED  # a score or outcome not computed for this evaluation
                    raise KeyError(f"unknown fact path {path!r}")
                hit = derive(self)
            self._cache[path] = hit
        return hit

    def for_project(self, project: Project) -> Context:
        ctx = Context(self.profile, self.as_of, project, self.pack_params)
        ctx.parent = self  # enterprise facts and measure outcomes come from the enterprise's context
        return ctx


# ---------------------------------------------------------------- plain fields of the profile


def _field(
    path: str, getter: Callable[[Profile], Any], kind: str, unit: str, zh: str, en: str, **kw: Any
) -> None:
    def derive(ctx: Context) -> Fact:
        v = getter(ctx.profile)
        if v is None:
            return Fact(missing=(path,))
        v = v.value if hasattr(v, "value") and kind == "enum" else v
        return Fact(v, inputs={path: v})

    fact(path, kind, unit, zh, en, **kw)(derive)


_TECH_FIELDS = enum_values(TechField)

_field(
    "resident_enterprise",
    lambda p: p.resident_enterprise,
    "bool",
    "bool",
    "居民企业（境内注册）",
    "resident enterprise",
)
_field("registered_on", lambda p: p.registered_on, "date", "date", "成立日期", "registration date")
_field("region_code", lambda p: p.region_code, "str", "text", "注册地行政区划代码", "region code")
_field("industry_code", lambda p: p.industry_code, "str", "text", "国民经济行业分类代码", "industry code")
_field(
    "ownership",
    lambda p: p.ownership,
    "enum",
    "enum",
    "企业性质",
    "ownership",
    enum=enum_values(Ownership),
)
_field(
    "tech_field",
    lambda p: p.tech_field,
    "enum",
    "enum",
    "核心技术所属领域",
    "technology field",
    enum=_TECH_FIELDS,
)
_field(
    "prohibited_category",
    lambda p: p.prohibited_category,
    "bool",
    "bool",
    "产品属于禁止、限制和淘汰类",
    "prohibited or restricted products",
)
_field(
    "ip.core_ip_owned",
    lambda p: p.ip.core_ip_owned,
    "bool",
    "bool",
    "拥有核心自主知识产权",
    "owns core IP",
    changeable=True,
)
_field(
    "ip.class_i_count",
    lambda p: p.ip.class_i_count,
    "int",
    "count",
    "Ⅰ类知识产权数量",
    "class I IP count",
    changeable=True,
)
_field(
    "ip.class_ii_count",
    lambda p: p.ip.class_ii_count,
    "int",
    "count",
    "Ⅱ类知识产权数量",
    "class II IP count",
    changeable=True,
)
_field(
    "innovation_score",
    lambda p: p.innovation_score,
    "decimal",
    "points",
    "创新能力评价得分",
    "innovation capability score",
    changeable=True,
)
_field(
    "compliance.major_safety_quality_incident_within_1y",
    lambda p: p.compliance.major_safety_quality_incident_within_1y,
    "bool",
    "bool",
    "近一年发生重大安全、重大质量事故",
    "major safety or quality incident within a year",
)
_field(
    "compliance.serious_environmental_violation_within_1y",
    lambda p: p.compliance.serious_environmental_violation_within_1y,
    "bool",
    "bool",
    "近一年发生严重环境违法行为",
    "serious environmental violation within a year",
)
_field(
    "compliance.serious_research_misconduct",
    lambda p: p.compliance.serious_research_misconduct,
    "bool",
    "bool",
    "存在严重科研失信行为",
    "serious research misconduct",
)
_field(
    "compliance.abnormal_operation_list",
    lambda p: p.compliance.abnormal_operation_list,
    "bool",
    "bool",
    "列入经营异常名录",
    "on the abnormal-operation list",
)
_field(
    "compliance.serious_dishonesty_list",
    lambda p: p.compliance.serious_dishonesty_list,
    "bool",
    "bool",
    "列入严重违法失信名单",
    "on the serious-dishonesty list",
)
_field(
    "honors.rd_institution_level",
    lambda p: p.honors.rd_institution_level,
    "enum",
    "enum",
    "最高研发机构级别",
    "highest R&D institution level",
    enum=enum_values(RdInstitutionLevel),
)


@fact("registration.days", "int", "days", "成立天数（至评估日）", "days since registration")
def _registration_days(ctx: Context) -> Fact:
    reg = ctx.profile.registered_on
    if reg is None:
        return Fact(missing=("registered_on",))
    days = (ctx.as_of - reg).days
    return Fact(
        days,
        inputs={"registered_on": reg, "as_of": ctx.as_of},
        formula=lambda as_of=ctx.as_of: f"{as_of} − {reg} = {days} 天",
    )


@fact("registration.years", "int", "years", "成立年限（整年，至评估日）", "full years since registration")
def _registration_years(ctx: Context) -> Fact:
    reg = ctx.profile.registered_on
    if reg is None:
        return Fact(missing=("registered_on",))
    years = ctx.as_of.year - reg.year - ((ctx.as_of.month, ctx.as_of.day) < (reg.month, reg.day))
    return Fact(
        years,
        inputs={"registered_on": reg, "as_of": ctx.as_of},
        formula=lambda as_of=ctx.as_of: f"{reg} 至 {as_of} 满 {years} 年",
    )


@fact("region.city_code", "str", "text", "注册地所属地市代码（前4位）", "city code (first 4 digits)")
def _city(ctx: Context) -> Fact:
    rc = ctx.profile.region_code
    if rc is None:
        return Fact(missing=("region_code",))
    return Fact(rc[:4], inputs={"region_code": rc})


@fact("industry.section", "str", "text", "行业门类（字母）", "industry section (letter)")
def _section(ctx: Context) -> Fact:
    code = ctx.profile.industry_code
    if code is None:
        return Fact(missing=("industry_code",))
    return Fact(code[0], inputs={"industry_code": code})


@fact("industry.division", "str", "text", "行业大类（字母+2位）", "industry division (letter + 2 digits)")
def _division(ctx: Context) -> Fact:
    code = ctx.profile.industry_code
    if code is None:
        return Fact(missing=("industry_code",))
    if len(code) < 3:
        return Fact(missing=("industry_code",), undefined="行业代码只到门类，无法确定大类")
    return Fact(code[:3], inputs={"industry_code": code})


# ---------------------------------------------------------------- certificates and honours


def _years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@fact("hte.held", "bool", "bool", "持有高新技术企业证书", "holds a high-tech enterprise certificate")
def _hte_held(ctx: Context) -> Fact:
    cert = ctx.profile.certifications.hte
    return Fact(cert is not None, inputs={"certifications.hte": cert.certificate_no if cert else None})


@fact(
    "hte.valid_on_as_of",
    "bool",
    "bool",
    "高新技术企业证书在评估日有效",
    "high-tech certificate valid on the assessment date",
    changeable=True,
)
def _hte_valid(ctx: Context) -> Fact:
    cert = ctx.profile.certifications.hte
    if cert is None:
        return Fact(False, inputs={"certifications.hte": None})
    # valid three years from the issue date: issued ≤ as_of < issued + 3 years
    until = _years_back(cert.issued_on, -3)
    valid = cert.issued_on <= ctx.as_of < until
    return Fact(
        valid,
        inputs={"certifications.hte.issued_on": cert.issued_on},
        formula=lambda: f"有效期 {cert.issued_on} 至 {until}（不含）",
    )


@fact(
    "hte.issued_within_1y",
    "bool",
    "bool",
    "高新技术企业证书于评估日前一年内颁发",
    "high-tech certificate issued within the year before the assessment date",
)
def _hte_recent(ctx: Context) -> Fact:
    cert = ctx.profile.certifications.hte
    if cert is None:
        return Fact(False, inputs={"certifications.hte": None})
    since = _years_back(ctx.as_of, 1)
    recent = since <= cert.issued_on <= ctx.as_of
    return Fact(
        recent,
        inputs={"certifications.hte.issued_on": cert.issued_on},
        formula=lambda as_of=ctx.as_of: f"颁发日 {cert.issued_on}，一年内指 {since} 至 {as_of}",
    )


@fact("hte.first_time", "bool", "bool", "首次认定为高新技术企业", "first-time high-tech recognition")
def _hte_first(ctx: Context) -> Fact:
    cert = ctx.profile.certifications.hte
    if cert is None:
        return Fact(missing=("certifications.hte",))
    if cert.first_time is None:
        return Fact(missing=("certifications.hte.first_time",))
    return Fact(cert.first_time, inputs={"certifications.hte.first_time": cert.first_time})


@fact(
    "tsme.registered_for_recent_year",
    "bool",
    "bool",
    "科技型中小企业入库登记属上一年度或本年度",
    "TSME registration for the last or current year",
    changeable=True,
)
def _tsme_recent(ctx: Context) -> Fact:
    reg = ctx.profile.certifications.tsme
    if reg is None:
        return Fact(False, inputs={"certifications.tsme": None})
    ok = reg.year in (ctx.last_year, ctx.last_year + 1)
    return Fact(
        ok,
        inputs={"certifications.tsme.year": reg.year},
        formula=lambda last=ctx.last_year: f"登记年度 {reg.year}，应为 {last} 或 {last + 1}",
    )


def _within_5y(path: str, getter: Callable[[Profile], dt.date | None]) -> Callable[[Context], Fact]:
    def derive(ctx: Context) -> Fact:
        day = getter(ctx.profile)
        if day is None:  # null records that the enterprise holds none
            return Fact(False, inputs={path: None})
        since = _years_back(ctx.as_of, 5)
        return Fact(
            since <= day <= ctx.as_of,
            inputs={path: day},
            formula=lambda as_of=ctx.as_of: f"{day}，五年内指 {since} 至 {as_of}",
        )

    return derive


fact(
    "honors.national_sci_award_within_5y",
    "bool",
    "bool",
    "近五年获国家级科技奖励并在前三名",
    "national S&T award (first three units) within five years",
)(_within_5y("honors.national_sci_award_top3_on", lambda p: p.honors.national_sci_award_top3_on))
fact(
    "honors.led_standard_within_5y",
    "bool",
    "bool",
    "近五年主导制定国际、国家或行业标准",
    "led an international, national or industry standard within five years",
)(_within_5y("honors.led_standard_on", lambda p: p.honors.led_standard_on))


# ---------------------------------------------------------------- fiscal years

FISCAL_FIELDS = {
    "sales_revenue": ("decimal", "wan_yuan", "销售收入", "sales revenue"),
    "total_revenue": ("decimal", "wan_yuan", "总收入", "total revenue"),
    "high_tech_revenue": (
        "decimal",
        "wan_yuan",
        "高新技术产品（服务）收入",
        "high-tech product/service revenue",
    ),
    "rd_expense": ("decimal", "wan_yuan", "研究开发费用总额", "R&D expense"),
    "rd_expense_domestic": ("decimal", "wan_yuan", "境内研究开发费用", "domestic R&D expense"),
    "cost_and_expense": ("decimal", "wan_yuan", "成本费用总额", "total cost and expense"),
    "total_assets": ("decimal", "wan_yuan", "资产总额", "total assets"),
    "net_assets": ("decimal", "wan_yuan", "净资产", "net assets"),
    "employees": ("int", "people", "职工总数", "employees"),
    "tech_staff": ("int", "people", "科技人员数", "technical staff"),
}
CHANGEABLE_FISCAL = {"rd_expense", "rd_expense_domestic", "high_tech_revenue", "tech_staff"}


def fiscal_path(year: int, name: str | None = None) -> str:
    return f"fiscal_years[{year}]" + (f".{name}" if name else "")


def _last_year_value(ctx: Context, name: str) -> Fact:
    year = ctx.last_year
    fy = ctx.years.get(year)
    if fy is None:
        return Fact(missing=(fiscal_path(year),))
    v = getattr(fy, name)
    if v is None:
        return Fact(missing=(fiscal_path(year, name),))
    return Fact(v, inputs={fiscal_path(year, name): v})


for _name, (_kind, _unit, _zh, _en) in FISCAL_FIELDS.items():
    fact(
        f"last_year.{_name}",
        _kind,
        _unit,
        f"上一年度{_zh}",
        f"{_en}, last fiscal year",
        changeable=_name in CHANGEABLE_FISCAL,
    )(lambda ctx, _n=_name: _last_year_value(ctx, _n))


def _ratio(
    num: Fact, den: Fact, num_label: str, den_label: str, num_path: str = "", den_path: str = ""
) -> Fact:
    missing = num.missing + den.missing
    inputs = {**num.inputs, **den.inputs}
    if missing:
        return Fact(missing=missing, inputs=inputs)
    if den.value == 0:
        return Fact(inputs=inputs, undefined=f"{den_label}为0，比例无法计算")
    r = divide(Decimal(num.value), Decimal(den.value))
    return Fact(
        r,
        inputs=inputs,
        formula=lambda: f"{num_label} {num.value} ÷ {den_label} {den.value} = {pct(r)}",
        parts=(num_path, num.value, den_path, den.value),
    )


def _ratio_fact(path: str, zh: str, en: str, num: str, den: str, changeable: bool = True) -> None:
    def derive(ctx: Context) -> Fact:
        return _ratio(ctx.get(num), ctx.get(den), SPECS[num].zh, SPECS[den].zh, num, den)

    fact(path, "decimal", "ratio", zh, en, changeable=changeable)(derive)


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


def recent_years(ctx: Context) -> tuple[list[int], tuple[str, ...]]:
    """The last three fiscal years, or fewer where the enterprise was registered later.

    HTE rules: 实际经营期不满三年的按实际经营时间计算. Without a registration date the three years
    stand if all three are in the profile; otherwise the date is needed to know which are due.
    """
    y = ctx.last_year
    years = [y - 2, y - 1, y]
    reg = ctx.profile.registered_on
    if reg is None:
        if all(x in ctx.years for x in years):
            return years, ()
        return [], ("registered_on",)
    return [x for x in years if x >= reg.year], ()


def _sum_recent(ctx: Context, name: str) -> Fact:
    years, missing = recent_years(ctx)
    if missing:
        return Fact(missing=missing)
    if not years:
        return Fact(missing=(fiscal_path(ctx.last_year),), undefined="评估日前无完整经营年度")
    total = Decimal(0)
    parts: list[str] = []
    inputs: dict[str, Any] = {}
    miss: list[str] = []
    for year in years:
        fy = ctx.years.get(year)
        if fy is None:
            miss.append(fiscal_path(year))
            continue
        v = getattr(fy, name)
        if v is None:
            miss.append(fiscal_path(year, name))
            continue
        inputs[fiscal_path(year, name)] = v
        parts.append(v)
        total += v
    if miss:
        return Fact(missing=tuple(miss), inputs=inputs)
    return Fact(total, inputs=inputs, formula=lambda: " + ".join(map(money, parts)) + f" = {money(total)}")


for _name in ("sales_revenue", "rd_expense", "rd_expense_domestic"):
    _kind, _unit, _zh, _en = FISCAL_FIELDS[_name]
    fact(
        f"last3.{_name}",
        _kind,
        _unit,
        f"近三个会计年度{_zh}合计",
        f"{_en}, sum over the last three years",
        changeable=_name != "sales_revenue",
    )(lambda ctx, _n=_name: _sum_recent(ctx, _n))


@fact("last3.years", "int", "years", "计算研发费用比例的会计年度数", "number of fiscal years counted")
def _last3_years(ctx: Context) -> Fact:
    years, missing = recent_years(ctx)
    if missing:
        return Fact(missing=missing)
    return Fact(len(years), inputs={"years": years})


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
SIZE_LABELS = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}


@fact(
    "enterprise.size_class",
    "enum",
    "enum",
    "企业规模（国统字〔2017〕213号）",
    "enterprise size class",
    enum=SIZE_CLASSES,
    params=("sme_size_classes",),
)
def _size_class(ctx: Context) -> Fact:
    table = ctx.pack_params.get("sme_size_classes")
    code = ctx.profile.industry_code
    if code is None:
        return Fact(missing=("industry_code",))
    row, bands = _size_row(table, code)
    if row is None:
        # "F" alone could be 批发业 (F51) or 零售业 (F52): the class cannot be told
        return Fact(missing=("industry_code",), undefined="行业代码需细化到能确定划型行业的层级（如 F51）")
    indicators = {
        "employees": ctx.get("last_year.employees"),
        "revenue": ctx.get("last_year.sales_revenue"),
        "assets": ctx.get("last_year.total_assets"),
    }
    inputs = {"industry_code": code}
    # 大型、中型和小型企业须同时满足所列指标的下限，否则下划一档；微型企业只须满足所列指标中的一项即可。
    for cls, needed in bands:
        missing = tuple(m for k in needed for m in indicators[k].missing)
        if missing:
            return Fact(missing=missing, inputs=inputs)
        for k in needed:
            inputs.update(indicators[k].inputs)
        if all(indicators[k].value >= lower for k, lower in needed.items()):

            def formula(row=row, needed=needed, cls=cls) -> str:
                shown = "，".join(f"{k} {indicators[k].value} ≥ {v}" for k, v in needed.items())
                return f"{row.industry.zh}：{shown} → {SIZE_LABELS[cls]}"

            return Fact(cls, inputs=inputs, formula=formula)
    return Fact("micro", inputs=inputs, formula=lambda: f"{row.industry.zh}：未达小型下限 → 微型")


_SIZE_ROWS: dict[tuple[int, str], tuple[Any, Any, Any]] = {}


def _size_row(table: Any, code: str) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
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


# ---------------------------------------------------------------- projects

_PROJECT_FIELDS = {
    "category": (
        "enum",
        "enum",
        "项目类别",
        "project category",
        enum_values(ProjectCategory),
    ),
    "level": (
        "enum",
        "enum",
        "项目级别",
        "project level",
        enum_values(ProjectLevel),
    ),
    "provincial_major_implementation": (
        "bool",
        "bool",
        "纳入省重大实施类的重点科技创新项目",
        "provincial major implementation project",
        (),
    ),
    "municipal_key": ("bool", "bool", "纳入市级重点（或以上）项目", "municipal key (or higher) project", ()),
    "new_land_required": ("bool", "bool", "涉及新增用地", "needs new land", ()),
    "land_area_mu": ("decimal", "mu", "新增用地面积", "new land area", ()),
}


def _project_field(name: str) -> Callable[[Context], Fact]:
    def derive(ctx: Context) -> Fact:
        project = ctx.project
        if project is None:
            raise KeyError(f"project.{name} asked outside a project")
        path = f"projects[{project.id}].{name}"
        v = getattr(project, name)
        if v is None:
            return Fact(missing=(path,))
        v = v.value if hasattr(v, "value") else v
        return Fact(v, inputs={path: v})

    return derive


for _name, (_kind, _unit, _zh, _en, _enum) in _PROJECT_FIELDS.items():
    fact(f"project.{_name}", _kind, _unit, _zh, _en, subject="project", enum=_enum)(_project_field(_name))


# ---------------------------------------------------------------- facts that come from the rule pack

PACK_FACT_PREFIXES = ("measure.", "score.")
NOT_SUPPLIED = Fact()
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


def missing_of(facts: Iterable[Fact]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for f in facts:
        for m in f.missing:
            seen.setdefault(m)
    return tuple(seen)
