"""Words shown to people: outcomes, statuses, enum values, units, field paths. Chinese first."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .facts import FISCAL_FIELDS, SPECS, pct

OUTCOMES = {
    "eligible": ("符合", "eligible"),
    "ineligible": ("不符合", "ineligible"),
    "needs_review": ("需人工审核", "needs review"),
    "undetermined": ("无法判定", "undetermined"),
    "not_applicable": ("不适用", "not applicable"),
}
OUTCOME_BY_ZH = {zh: key for key, (zh, _) in OUTCOMES.items()}

STATUSES = {
    "met": ("满足", "met"),
    "unmet": ("不满足", "not met"),
    "unknown": ("无法判定", "unknown"),
    "manual_review": ("需人工判断", "needs a person"),
}

ENUM_LABELS = {
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

UNITS = {
    "wan_yuan": ("万元", "×10k CNY"),
    "people": ("人", "people"),
    "days": ("天", "days"),
    "years": ("年", "years"),
    "count": ("项", ""),
    "points": ("分", "points"),
    "mu": ("亩", "mu"),
}

PROFILE_LABELS = {
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
    "certifications.hte.issued_on": ("高新技术企业证书颁发日期", "high-tech certificate issue date"),
    "certifications.hte.first_time": ("是否首次认定", "first-time recognition"),
    "certifications.tsme": ("科技型中小企业入库登记", "TSME registration"),
    "certifications.tsme.year": ("科技型中小企业入库年度", "TSME registration year"),
    "honors.national_sci_award_top3_on": ("国家级科技奖励获奖日期", "national S&T award date"),
    "honors.rd_institution_level": ("研发机构级别", "R&D institution level"),
    "honors.led_standard_on": ("主导制定标准日期", "date of the last standard led"),
}
PROJECT_LABELS = {
    "category": ("项目类别", "category"),
    "level": ("项目级别", "level"),
    "provincial_major_implementation": ("纳入省重大实施类项目", "provincial major implementation"),
    "municipal_key": ("纳入市级重点项目", "municipal key"),
    "new_land_required": ("涉及新增用地", "needs new land"),
    "land_area_mu": ("新增用地面积（亩）", "new land area (mu)"),
    "name": ("项目名称", "name"),
}

_FY = re.compile(r"^fiscal_years\[(\d{4})\](?:\.(\w+))?$")
_PJ = re.compile(r"^projects\[([^\]]+)\]\.(\w+)$")


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def path_label(path: str, lang: str = "zh") -> str:
    """A person's name for a profile path: fiscal_years[2024].sales_revenue → 2024年度销售收入."""
    m = _FY.match(path)
    if m:
        year, name = m.groups()
        if name is None:
            return f"{year}年度财务数据" if lang != "en" else f"fiscal year {year}"
        _, _, zh, en = FISCAL_FIELDS.get(name, ("", "", name, name))
        return f"{year}年度{zh}" if lang != "en" else f"{en} ({year})"
    m = _PJ.match(path)
    if m:
        pid, name = m.groups()
        label = PROJECT_LABELS.get(name, (name, name))
        return f"项目 {pid} 的{label[0]}" if lang != "en" else f"{label[1]} of project {pid}"
    if path in PROFILE_LABELS:
        return pick(PROFILE_LABELS[path], lang)
    if path in SPECS:
        return SPECS[path].label(lang)
    return path


def show(value: Any, unit: str | None, lang: str = "zh") -> str:
    """A value for people, in its unit."""
    if value is None:
        return "未知" if lang != "en" else "unknown"
    if isinstance(value, bool):
        return ("是", "yes")[lang == "en"] if value else ("否", "no")[lang == "en"]
    if isinstance(value, list):
        sep = "、" if lang != "en" else ", "
        return sep.join(show(v, unit, lang) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if unit == "ratio" and isinstance(value, Decimal):
        return pct(value)
    if isinstance(value, str):
        if value in ENUM_LABELS:
            return pick(ENUM_LABELS[value], lang)
        return value
    if isinstance(value, Decimal):
        text = number(value)
    else:
        text = str(value)
    if unit in UNITS:
        u = pick(UNITS[unit], lang)
        return f"{text} {u}".strip() if lang == "en" else f"{text}{u}"
    return text


def number(d: Decimal, places: int = 2) -> str:
    if d == d.to_integral_value():
        return f"{d.quantize(Decimal(1)):f}"
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if q == d:
        return f"{q.normalize():f}"
    return f"{q:f}"


def _op_words() -> dict[str, tuple[str, str]]:
    from .schema import OP_WORDS

    return {op.value: pair for op, pair in OP_WORDS.items()}


OP_WORDS_ZH_EN = _op_words()
