"""The message catalogue: every word the engine, the service and the pages show, Chinese first.

One source per word. A field's label, an outcome, a status, a unit, an operator and every sentence
of an explanation live here once, as a (中文, English) pair; the language is chosen when a text is
rendered (``text(key, lang, …)``, ``pick``), never when a fact is derived. Derived facts declare
their own labels where they are defined (``engine/facts.py``); everything else is in this module.

Legal wording (quotes, clauses, document titles) stays in the rule files, in Chinese.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from decimal import Context as DecimalContext
from typing import Any

LANGS = ("zh", "en")

Pair = tuple[str, str]


def pick(pair: Pair, lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


# ------------------------------------------------------------------ outcomes, statuses, operators

OUTCOMES: dict[str, Pair] = {
    "eligible": ("符合", "eligible"),
    "ineligible": ("不符合", "ineligible"),
    "needs_review": ("需人工审核", "needs review"),
    "undetermined": ("无法判定", "undetermined"),
    "not_applicable": ("不适用", "not applicable"),
}
OUTCOME_BY_ZH = {zh: key for key, (zh, _) in OUTCOMES.items()}

STATUSES: dict[str, Pair] = {
    "met": ("满足", "met"),
    "unmet": ("不满足", "not met"),
    "unknown": ("无法判定", "unknown"),
    "manual_review": ("需人工判断", "needs a person"),
}

# how each operator reads in Chinese legal usage (以上/以下 include the number; 超过/不足 exclude it)
OP_WORDS: dict[str, Pair] = {
    "eq": ("为", "equals"),
    "ne": ("不为", "is not"),
    "gt": ("超过（不含）", "more than"),
    "gte": ("不低于（含）", "at least"),
    "lt": ("不足（不含）", "less than"),
    "lte": ("不超过（含）", "at most"),
    "in": ("属于", "is one of"),
    "not_in": ("不属于", "is none of"),
    "manual": ("需人工判断", "judged by a person"),
}

NOT_APPLICABLE_REASONS: dict[str, Pair] = {
    "window": ("评估日不在该措施的有效期内", "the measure is not in force on the assessment date"),
    "no_parameter": (
        "评估日尚无该措施参数的有效取值",
        "no value of the measure's parameters is in force on that date",
    ),
    "no_subject": ("没有可适用的项目", "no project to apply it to"),
}

# ------------------------------------------------------------------ values of the contract's enums

ENUM_LABELS: dict[str, Pair] = {
    "electronic_information": ("电子信息", "electronic information"),
    "biomedicine": ("生物与新医药", "biomedicine"),
    "aerospace": ("航空航天", "aerospace"),
    "new_materials": ("新材料", "new materials"),
    "high_tech_services": ("高技术服务", "high-tech services"),
    "new_energy": ("新能源与节能", "new energy"),
    "resources_environment": ("资源与环境", "resources and environment"),
    "advanced_manufacturing": ("先进制造与自动化", "advanced manufacturing"),
    "none": ("无", "none"),
    "private": ("民营", "private"),
    "state_owned": ("国有", "state-owned"),
    "collective": ("集体", "collective"),
    "foreign_invested": ("外商投资", "foreign-invested"),
    "other": ("其他", "other"),
    "municipal": ("市级", "municipal"),
    "provincial": ("省级", "provincial"),
    "national": ("国家级", "national"),
    "district": ("区县级", "district"),
    "basic_research": ("基础研究类", "basic research"),
    "talent": ("人才类", "talent"),
    "applied_research": ("应用研究类", "applied research"),
    "industrialization": ("产业化类", "industrialisation"),
    "platform": ("平台类", "platform"),
    "large": ("大型", "large"),
    "medium": ("中型", "medium"),
    "small": ("小型", "small"),
    "micro": ("微型", "micro"),
    **OUTCOMES,
}

UNITS: dict[str, Pair] = {
    "wan_yuan": ("万元", "×10k CNY"),
    "people": ("人", "people"),
    "days": ("天", "days"),
    "years": ("年", "years"),
    "count": ("项", ""),
    "points": ("分", "points"),
    "mu": ("亩", "mu"),
}

# ------------------------------------------------------------------ the contract's fields

# every field of the enterprise profile a person may be asked for, by contract path
FIELD_LABELS: dict[str, Pair] = {
    "credit_code": ("统一社会信用代码", "unified social credit code"),
    "name": ("企业名称", "enterprise name"),
    "registered_on": ("成立日期", "registration date"),
    "region_code": ("注册地行政区划代码", "region code"),
    "resident_enterprise": ("居民企业", "resident enterprise"),
    "industry_code": ("国民经济行业分类代码", "industry code"),
    "ownership": ("企业性质", "ownership"),
    "tech_field": ("核心技术所属领域", "technology field"),
    "prohibited_category": ("产品属于禁止、限制和淘汰类", "prohibited category"),
    "innovation_score": ("创新能力评价得分", "innovation score"),
    "ip.core_ip_owned": ("拥有核心自主知识产权", "owns core IP"),
    "ip.class_i_count": ("Ⅰ类知识产权数量", "class I IP count"),
    "ip.class_ii_count": ("Ⅱ类知识产权数量", "class II IP count"),
    "compliance.major_safety_quality_incident_within_1y": (
        "近一年重大安全、质量事故",
        "major incident within a year",
    ),
    "compliance.serious_environmental_violation_within_1y": (
        "近一年严重环境违法行为",
        "serious environmental violation within a year",
    ),
    "compliance.serious_research_misconduct": ("严重科研失信行为", "serious research misconduct"),
    "compliance.abnormal_operation_list": ("列入经营异常名录", "on the abnormal-operation list"),
    "compliance.serious_dishonesty_list": ("列入严重违法失信名单", "on the serious-dishonesty list"),
    "certifications.hte": ("高新技术企业证书", "high-tech certificate"),
    "certifications.hte.certificate_no": ("高新技术企业证书编号", "high-tech certificate number"),
    "certifications.hte.issued_on": ("高新技术企业证书颁发日期", "high-tech certificate issue date"),
    "certifications.hte.first_time": ("是否首次认定", "first-time recognition"),
    "certifications.tsme": ("科技型中小企业入库登记", "TSME registration"),
    "certifications.tsme.registration_no": ("科技型中小企业入库登记编号", "TSME registration number"),
    "certifications.tsme.year": ("科技型中小企业入库年度", "TSME registration year"),
    "honors.national_sci_award_top3_on": ("国家级科技奖励获奖日期", "national S&T award date"),
    "honors.rd_institution_level": ("研发机构级别", "R&D institution level"),
    "honors.led_standard_on": ("主导制定标准日期", "date of the last standard led"),
}

# the fields of one fiscal year: (kind, unit, 中文, English)
FISCAL_FIELDS: dict[str, tuple[str, str, str, str]] = {
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

# the fields of one project
PROJECT_LABELS: dict[str, Pair] = {
    "category": ("项目类别", "category"),
    "level": ("项目级别", "level"),
    "provincial_major_implementation": ("纳入省重大实施类项目", "provincial major implementation"),
    "municipal_key": ("纳入市级重点项目", "municipal key"),
    "new_land_required": ("涉及新增用地", "needs new land"),
    "land_area_mu": ("新增用地面积（亩）", "new land area (mu)"),
    "name": ("项目名称", "name"),
}

# ------------------------------------------------------------------ sentences

MESSAGES: dict[str, Pair] = {
    # one-line summaries of a result
    "summary.eligible": ("满足本措施的条件", "the measure's conditions are met"),
    "summary.ineligible": ("未满足：{names}", "not met: {names}"),
    "summary.undetermined": ("缺少：{names}", "missing: {names}"),
    "summary.needs_review": (
        "自动判定的条件均满足，部分条件需人工审核",
        "every automatic criterion is met; some need a reviewer",
    ),
    # a criterion or group, for people
    "node.group": ("{label}：{status}", "{label}: {status}"),
    "leaf.met": ("{label}：{actual}，{expected}，满足", "{label}: {actual}, {expected}: met"),
    "leaf.unmet": ("{label}：{actual}，要求{expected}", "{label}: {actual}, required {expected}"),
    "leaf.unknown": ("{label}：缺少{names}，无法判定", "{label}: {names} missing, cannot decide"),
    "leaf.manual": ("{label}：{reason}", "{label}: {reason}"),
    "leaf.manual_reason": ("需由审核人员判断", "to be judged by a reviewer"),
    "leaf.then_gap": ("，{gap}", "; {gap}"),
    "leaf.then_need": ("；{need}", "; {need}"),
    "expected": ("{op} {value}", "{op} {value}"),
    "band": ("{label} {value}", "{label} {value}"),
    # how far an unmet criterion is
    "gap.points": ("差 {points} 个百分点", "short by {points} percentage points"),
    "gap.amount": ("差 {amount}", "short by {amount}"),
    "gap.exactly_gt": ("恰好等于该值，须超过", "exactly at the threshold, which must be exceeded"),
    "gap.exactly_lt": ("恰好等于该值，须低于", "exactly at the threshold, which must not be reached"),
    "gap.must_exceed": ("（须超过该值）", " (must exceed it)"),
    "gap.must_be_below": ("（须低于该值）", " (must be below it)"),
    # what it would take, for a ratio the enterprise can act on
    "need.people": (
        "按{den_label} {den_shown}计，{num_label}需至少增加 {n} 人",
        "with {den_label} at {den}, {num_label} must rise by at least {n}",
    ),
    "need.amount": (
        "按{den_label} {den_shown}计，{num_label}约需再增加 {amount_shown}{more}",
        "at {den_label} of {den} (×10k CNY), {num_label} would need about {amount} more",
    ),
    "need.or_more": ("以上", ""),
    # a list of names, and the benefit
    "list.sep": ("、", ", "),
    "benefit.tier_missing": ("缺少{names}", "missing: {names}"),
    # why, in words, from a verdict alone (stored screening results: no figures of the enterprise)
    "reasons.unmet": ("{label}（要求{expected}）", "{label} (required: {expected})"),
    "reasons.benefit": ("预计：{figures}", "expected: {figures}"),
    # the arithmetic of derived facts (structured formulas, worded here)
    "formula.ratio": (
        "{num_label} {num} ÷ {den_label} {den} = {result}",
        "{num_label} {num} ÷ {den_label} {den} = {result}",
    ),
    "formula.sum": ("{terms} = {result}", "{terms} = {result}"),
    "formula.days_between": ("{as_of} − {since} = {days} 天", "{as_of} − {since} = {days} days"),
    "formula.full_years": ("{since} 至 {as_of} 满 {years} 年", "{since} to {as_of}: {years} full years"),
    "formula.valid_until": (
        "有效期 {since} 至 {until}（不含）",
        "valid from {since} until {until} (exclusive)",
    ),
    "formula.issued_within": (
        "颁发日 {day}，一年内指 {since} 至 {as_of}",
        "issued on {day}; within one year means {since} to {as_of}",
    ),
    "formula.within_5y": (
        "{day}，五年内指 {since} 至 {as_of}",
        "{day}; within five years means {since} to {as_of}",
    ),
    "formula.year_in": (
        "登记年度 {year}，应为 {first} 或 {second}",
        "registered for {year}; {first} or {second} needed",
    ),
    "formula.size_class": ("{industry}：{bounds} → {size}", "{industry}: {bounds} → {size}"),
    "formula.size_bound": ("{label} {value} ≥ {bound}", "{label} {value} ≥ {bound}"),
    "formula.size_and": (" 且 ", " and "),
    "formula.size_micro": (
        "{industry}：未达小型下限 → 微型",
        "{industry}: below the small-enterprise bounds → micro",
    ),
    "formula.size_next": ("（{size}须 {bounds}）", " ({size} needs {bounds})"),
    "formula.size_needs": ("{label} ≥ {bound}", "{label} ≥ {bound}"),
    "formula.points": ("{label} {value} → {points}分", "{label} {value} → {points} points"),
    "formula.points_undefined": ("{label}：{reason}，计0分", "{label}: {reason}, 0 points"),
    "formula.best_of": ("取高者：{parts}", "the higher of: {parts}"),
    "formula.parts_sep": ("；", "; "),
    "formula.score_total": ("{parts}；合计 {total}分", "{parts}; total {total} points"),
    "formula.score_partial": (
        "{parts}；部分指标未知（{missing}），已知部分 {total}分，最高可能 {high}分，不影响结论",
        "{parts}; some indicators unknown ({missing}): {total} points known, at most {high} points possible,"
        " which does not change the outcome",
    ),
    # why a fact cannot be computed although nothing is missing
    "reason.zero_denominator": ("{label}为0，比例无法计算", "{label} is 0: the ratio cannot be computed"),
    "reason.dependency_needs_review": (
        "所依据的“{title}”需人工审核",
        "“{title}”, which this depends on, needs review",
    ),
    "reason.industry_section_only": (
        "行业代码只到门类，无法确定大类",
        "the industry code gives only the section, not the division",
    ),
    "reason.industry_too_coarse": (
        "行业代码需细化到能确定划型行业的层级（如 F51）",
        "the industry code must be fine enough to tell the size table's industry (e.g. F51)",
    ),
    "reason.no_full_year": ("评估日前无完整经营年度", "no full fiscal year before the assessment date"),
    # values
    "value.unknown": ("未知", "unknown"),
    "value.yes": ("是", "yes"),
    "value.no": ("否", "no"),
    # the command line's table
    "cli.heading": ("评估日 {as_of}  规则包 {version}", "as of {as_of}  rule pack {version}"),
    "cli.col.measure": ("措施", "measure"),
    "cli.col.subject": ("对象", "subject"),
    "cli.col.outcome": ("结论", "outcome"),
    "cli.col.why": ("说明", "why"),
    "cli.enterprise": ("企业", "enterprise"),
    "cli.project": ("项目 {id}", "project {id}"),
    "cli.provisional": ("（暂定参数）", "(provisional)"),
    "cli.not_stackable": ("不可与以下措施叠加：{measures}", "not stackable with: {measures}"),
    "cli.missing": ("待补充的信息（按影响的结论数排序）", "Missing facts (most decisive first)"),
    "cli.decides": ("影响 {n}：{measures}", "decides {n}: {measures}"),
    # labels of paths
    "path.fiscal_year": ("{year}年度财务数据", "fiscal year {year}"),
    "path.fiscal_field": ("{year}年度{label}", "{label} ({year})"),
    "path.project_field": ("项目 {id} 的{label}", "{label} of project {id}"),
}


def text(key: str, lang: str, /, **kw: Any) -> str:
    """The message ``key`` in ``lang`` with its placeholders filled."""
    template = MESSAGES[key][1 if lang == "en" else 0]
    return template.format(**kw) if kw else template


def join(items: Any, lang: str) -> str:
    return text("list.sep", lang).join(items)


# ------------------------------------------------------------------ numbers and values for people

_PCT = DecimalContext(prec=40, rounding=ROUND_HALF_UP)
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


def pct(d: Decimal) -> str:
    """A ratio as a percentage for people: 0.0325 → '3.25%'."""
    p = _PCT.multiply(d, _HUNDRED).quantize(_CENT, context=_PCT)
    return f"{p.normalize(_PCT):f}%" if p == p.to_integral_value() else f"{p:f}%"


def number(d: Decimal, places: int = 2) -> str:
    if d == d.to_integral_value():
        return f"{d.quantize(Decimal(1)):f}"
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if q == d:
        return f"{q.normalize():f}"
    return f"{q:f}"


def money(d: Decimal) -> str:
    """An amount in 万元 exactly as held (the arithmetic of a sum)."""
    return f"{d:f}"


def show(value: Any, unit: str | None, lang: str = "zh") -> str:
    """A value for people, in its unit."""
    if value is None:
        return text("value.unknown", lang)
    if isinstance(value, bool):
        return text("value.yes" if value else "value.no", lang)
    if isinstance(value, list | tuple):
        return join((show(v, unit, lang) for v in value), lang)
    if isinstance(value, dt.date):
        return value.isoformat()
    if unit == "ratio" and isinstance(value, Decimal):
        return pct(value)
    if isinstance(value, str):
        if value in ENUM_LABELS:
            return pick(ENUM_LABELS[value], lang)
        return value
    shown = number(value) if isinstance(value, Decimal) else str(value)
    if unit in UNITS:
        u = pick(UNITS[unit], lang)
        return f"{shown} {u}".strip() if lang == "en" else f"{shown}{u}"
    return shown
