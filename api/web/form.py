"""The self-check form: the contract's fields grouped as a finance officer fills them in, and which of
them the chosen measures need.

Which fields a measure needs is read from the engine, not written down per measure: the measure is
evaluated on probe profiles in which every fact is unknown, and every criterion names the profile
paths it is missing. Facts the contract records as "held or not" (certificates, awards, standards;
``null`` means none) are never missing, so they are found from the criteria's fact paths instead.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

from engine import Engine
from engine.profile import (
    Ownership,
    ProjectCategory,
    ProjectLevel,
    RdInstitutionLevel,
    TechField,
    enum_values,
)
from engine.vocabulary import ENUM_LABELS, FIELD_LABELS, FISCAL_FIELDS, PROJECT_LABELS, UNITS

# group id → (zh, en); the order is the order of the form
GROUPS: dict[str, tuple[str, str]] = {
    "basic": ("基本信息", "Basic information"),
    "fiscal": ("财务年度数据", "Fiscal years"),
    "ip": ("知识产权、资质与荣誉", "IP, certificates and honours"),
    "compliance": ("合规情况", "Compliance"),
    "projects": ("科研项目", "Projects"),
}

# the engine's unit words; a count's English stands alone on the form ("items"), not after a number
UNIT_WORDS = {**UNITS, "count": ("项", "items")}

_ENUMS = {  # the contract's values (engine/profile.py)
    "ownership": enum_values(Ownership),
    "tech_field": enum_values(TechField),
    "honors.rd_institution_level": enum_values(RdInstitutionLevel),
    "projects.category": enum_values(ProjectCategory),
    "projects.level": enum_values(ProjectLevel),
}

# the form says more than a field's label where a person filling it in needs it
_FORM_LABELS = {
    "innovation_score": ("创新能力评价得分（自评，0–100）", "innovation score (self-assessed, 0–100)"),
    "projects.id": ("项目编号", "project id"),
}

_HINTS = {
    "credit_code": ("18 位，按 GB 32100-2015 校验", "18 characters, checked per GB 32100-2015"),
    "region_code": ("6 位行政区划代码，如 370102 历下区", "6-digit GB/T 2260 code, e.g. 370102"),
    "industry_code": ("如 I6513（GB/T 4754-2017）", "e.g. I6513 (GB/T 4754-2017)"),
    "certifications.hte.issued_on": ("未取得证书的留空", "leave empty if the enterprise holds none"),
    "certifications.tsme.year": ("未入库的留空", "leave empty if not registered"),
    "honors.national_sci_award_top3_on": ("未获得的留空", "leave empty if none"),
    "honors.led_standard_on": ("未主导制定的留空", "leave empty if none"),
}


def _label(path: str) -> tuple[str, str]:
    if path in _FORM_LABELS:
        return _FORM_LABELS[path]
    if path.startswith("fiscal_years."):
        _, _, zh, en = FISCAL_FIELDS[path.split(".", 1)[1]]
        return zh, en
    if path.startswith("projects."):
        return PROJECT_LABELS.get(path.split(".", 1)[1], (path, path))
    return FIELD_LABELS.get(path, (path, path))


def _field(
    path: str, group: str, kind: str, unit: str | None = None, required: bool = False
) -> dict[str, Any]:
    zh, en = _label(path)
    f: dict[str, Any] = {"path": path, "group": group, "kind": kind, "zh": zh, "en": en, "required": required}
    if unit:
        f["unit"] = unit
        f["unit_zh"], f["unit_en"] = UNIT_WORDS[unit]
    if path in _ENUMS:
        f["options"] = [{"value": v, "zh": ENUM_LABELS[v][0], "en": ENUM_LABELS[v][1]} for v in _ENUMS[path]]
    if path in _HINTS:
        f["hint_zh"], f["hint_en"] = _HINTS[path]
    return f


def _fiscal(name: str) -> dict[str, Any]:
    kind, unit, _, _ = FISCAL_FIELDS[name]
    # 净资产 may be negative; the rest are amounts or head counts
    return _field(f"fiscal_years.{name}", "fiscal", "people" if kind == "int" else "money", unit)


FIELDS: list[dict[str, Any]] = [
    _field("credit_code", "basic", "text", required=True),
    _field("name", "basic", "text"),
    _field("registered_on", "basic", "date"),
    _field("region_code", "basic", "text"),
    _field("industry_code", "basic", "text"),
    _field("ownership", "basic", "enum"),
    _field("resident_enterprise", "basic", "bool"),
    _field("tech_field", "basic", "enum"),
    _field("prohibited_category", "basic", "bool"),
    _field("innovation_score", "basic", "score", "points"),
    *[_fiscal(name) for name in FISCAL_FIELDS],
    _field("ip.core_ip_owned", "ip", "bool"),
    _field("ip.class_i_count", "ip", "count", "count"),
    _field("ip.class_ii_count", "ip", "count", "count"),
    _field("certifications.hte.certificate_no", "ip", "text"),
    _field("certifications.hte.issued_on", "ip", "date"),
    _field("certifications.hte.first_time", "ip", "bool"),
    _field("certifications.tsme.registration_no", "ip", "text"),
    _field("certifications.tsme.year", "ip", "year"),
    _field("honors.national_sci_award_top3_on", "ip", "date"),
    _field("honors.rd_institution_level", "ip", "enum"),
    _field("honors.led_standard_on", "ip", "date"),
    *[
        _field(f"compliance.{name}", "compliance", "bool")
        for name in (
            "major_safety_quality_incident_within_1y",
            "serious_environmental_violation_within_1y",
            "serious_research_misconduct",
            "abnormal_operation_list",
            "serious_dishonesty_list",
        )
    ],
    _field("projects.id", "projects", "text", required=True),
    _field("projects.name", "projects", "text"),
    _field("projects.category", "projects", "enum"),
    _field("projects.level", "projects", "enum"),
    _field("projects.provincial_major_implementation", "projects", "bool"),
    _field("projects.municipal_key", "projects", "bool"),
    _field("projects.new_land_required", "projects", "bool"),
    _field("projects.land_area_mu", "projects", "money", "mu"),
]
FIELD_PATHS = {f["path"] for f in FIELDS}

# always asked: who the enterprise is, and the date that "last fiscal year" is counted from
ALWAYS = ("credit_code", "name", "registered_on")

# facts the contract records as held or not (null = none held): the criteria's fact paths lead to them
HELD = (
    (
        "hte.",
        (
            "certifications.hte.certificate_no",
            "certifications.hte.issued_on",
            "certifications.hte.first_time",
        ),
    ),
    ("tsme.", ("certifications.tsme.registration_no", "certifications.tsme.year")),
    ("honors.national_sci_award", ("honors.national_sci_award_top3_on",)),
    ("honors.led_standard", ("honors.led_standard_on",)),
    ("registration.", ("registered_on",)),
    # the SME size class (工信部联企业〔2011〕300号) is read from head count, revenue and assets by industry
    (
        "enterprise.size_class",
        (
            "industry_code",
            "fiscal_years.employees",
            "fiscal_years.sales_revenue",
            "fiscal_years.total_assets",
        ),
    ),
)

_INDEX = re.compile(r"\[[^\]]*\]")
_PROBE_CODE = "91370100CA85GF0T94"
_cache: dict[tuple[str, int], dict[str, list[str]]] = {}
_lock = threading.Lock()


def _normalise(path: str) -> str | None:
    plain = _INDEX.sub("", path)
    return plain if plain in FIELD_PATHS else None


def needed_fields(engine: Engine, as_of: dt.date | None = None) -> dict[str, list[str]]:
    """measure id → the form fields it needs (its dependencies' included), for this rule pack."""
    as_of = as_of or dt.date.today()
    key = (engine.version, as_of.year)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    years = [as_of.year - n for n in (3, 2, 1)]
    probes = [
        {"credit_code": _PROBE_CODE, "projects": [{"id": "P1"}]},
        {
            "credit_code": _PROBE_CODE,
            "registered_on": f"{as_of.year - 20}-01-01",
            "fiscal_years": [{"year": y} for y in years],
            "projects": [{"id": "P1"}],
        },
    ]
    needs: dict[str, set[str]] = {mid: set(ALWAYS) for mid in engine.pack.measures}
    depends: dict[str, set[str]] = {mid: set() for mid in engine.pack.measures}
    for probe in probes:
        for r in engine.explain(probe, as_of=as_of)["results"]:
            mid = r["measure_id"]
            if r["subject"]["kind"] == "project":
                needs[mid].add("projects.id")
                needs[mid].add("projects.name")
            for c in r["criteria"]:
                for m in c.get("missing_facts") or ():
                    if (p := _normalise(m)) is not None:
                        needs[mid].add(p)
                fact = c.get("fact") or ""
                if fact.startswith("measure."):
                    depends[mid].add(fact.split(".")[1])
                for prefix, paths in HELD:
                    if fact.startswith(prefix):
                        needs[mid].update(paths)
    # a measure that rests on another's outcome needs what that one needs
    changed = True
    while changed:
        changed = False
        for mid, deps in depends.items():
            for dep in deps:
                extra = needs.get(dep, set()) - needs[mid]
                if extra:
                    needs[mid] |= extra
                    changed = True
    out = {mid: sorted(paths) for mid, paths in needs.items()}
    with _lock:
        _cache[key] = out
    return out
