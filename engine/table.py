"""The profile table: profiles as columns, the shape the columnar evaluator reads.

One row per profile, and nothing of the profile lost: ``profile_of`` gives back its contract JSON
(stored screening rows are kept this way, and their explanations rendered from it). The enterprise's fields are columns named by their contract path
(``ip.core_ip_owned``); money is an exact whole number of 10⁻⁶ 万元 (``Int64``: the contract allows six
decimal places and at most 10⁹ 万元), as are the innovation score and a project's land area; people
and counts are whole numbers; dates are dates. The fiscal years and the projects are lists of
structs. ``row`` numbers the profiles; ``as_of``, where present, is each row's assessment date.

A value the contract does not allow here (more than six decimal places in a score, say) cannot be
in this table: the intake sends such a row to the per-profile path (pydantic, then ``Engine``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl

from .profile import Profile
from .vocabulary import FISCAL_FIELDS

MICRO = 10**6  # money, scores and areas are held in units of 10⁻⁶

# the enterprise's own fields: column → (polars type, how it is held)
ENTERPRISE_COLUMNS: dict[str, tuple[Any, str]] = {
    "credit_code": (pl.Utf8, "str"),
    "name": (pl.Utf8, "str"),
    "registered_on": (pl.Date, "date"),
    "region_code": (pl.Utf8, "str"),
    "resident_enterprise": (pl.Boolean, "bool"),
    "industry_code": (pl.Utf8, "str"),
    "ownership": (pl.Utf8, "str"),
    "tech_field": (pl.Utf8, "str"),
    "prohibited_category": (pl.Boolean, "bool"),
    "innovation_score": (pl.Int64, "micro"),
    "ip.core_ip_owned": (pl.Boolean, "bool"),
    "ip.class_i_count": (pl.Int64, "int"),
    "ip.class_ii_count": (pl.Int64, "int"),
    "compliance.major_safety_quality_incident_within_1y": (pl.Boolean, "bool"),
    "compliance.serious_environmental_violation_within_1y": (pl.Boolean, "bool"),
    "compliance.serious_research_misconduct": (pl.Boolean, "bool"),
    "compliance.abnormal_operation_list": (pl.Boolean, "bool"),
    "compliance.serious_dishonesty_list": (pl.Boolean, "bool"),
    "certifications.hte": (pl.Boolean, "bool"),  # holds a certificate
    "certifications.hte.certificate_no": (pl.Utf8, "str"),
    "certifications.hte.issued_on": (pl.Date, "date"),
    "certifications.hte.first_time": (pl.Boolean, "bool"),
    "certifications.tsme": (pl.Boolean, "bool"),  # registered
    "certifications.tsme.registration_no": (pl.Utf8, "str"),
    "certifications.tsme.year": (pl.Int64, "int"),
    "honors.national_sci_award_top3_on": (pl.Date, "date"),
    "honors.rd_institution_level": (pl.Utf8, "str"),
    "honors.led_standard_on": (pl.Date, "date"),
}
FISCAL_STRUCT = pl.Struct(
    [pl.Field("year", pl.Int64)]
    + [pl.Field(name, pl.Int64) for name in FISCAL_FIELDS]  # money in 10⁻⁶ 万元, people whole
)
PROJECT_FIELDS: dict[str, tuple[Any, str]] = {
    "id": (pl.Utf8, "str"),
    "name": (pl.Utf8, "str"),
    "category": (pl.Utf8, "str"),
    "level": (pl.Utf8, "str"),
    "provincial_major_implementation": (pl.Boolean, "bool"),
    "municipal_key": (pl.Boolean, "bool"),
    "new_land_required": (pl.Boolean, "bool"),
    "land_area_mu": (pl.Int64, "micro"),
}
PROJECT_STRUCT = pl.Struct([pl.Field(name, t) for name, (t, _) in PROJECT_FIELDS.items()])
SCHEMA: dict[str, Any] = {
    "row": pl.Int64,
    **{name: t for name, (t, _) in ENTERPRISE_COLUMNS.items()},
    "fiscal_years": pl.List(FISCAL_STRUCT),
    "projects": pl.List(PROJECT_STRUCT),
}


def micro(d: Decimal | None) -> int | None:
    """10⁻⁶ units of an amount with at most six decimal places, exactly (None stays None)."""
    if d is None:
        return None
    scaled = d.scaleb(6)
    whole = int(scaled)
    if scaled != whole:
        raise ValueError(f"{d} has more than six decimal places")
    return whole


def _held(value: Any, how: str) -> Any:
    if value is None:
        return None
    if how == "micro":
        return micro(value)
    if how == "str" and hasattr(value, "value"):
        return value.value  # an enum member
    return value


def _read(profile: Profile, path: str) -> Any:
    node: Any = profile
    for part in path.split("."):
        node = getattr(node, part, None)
        if node is None:
            return None
    return node


def row_of(profile: Profile, row: int) -> dict[str, Any]:
    """One validated profile as a row of the table."""
    out: dict[str, Any] = {"row": row}
    for path, (_, how) in ENTERPRISE_COLUMNS.items():
        if path in ("certifications.hte", "certifications.tsme"):
            out[path] = _read(profile, path) is not None
        else:
            out[path] = _held(_read(profile, path), how)
    out["fiscal_years"] = [
        {
            "year": fy.year,
            **{
                name: _held(getattr(fy, name), "micro" if kind == "decimal" else "int")
                for name, (kind, *_rest) in FISCAL_FIELDS.items()
            },
        }
        for fy in profile.fiscal_years
    ]
    out["projects"] = [
        {name: _held(getattr(p, name), how) for name, (_, how) in PROJECT_FIELDS.items()}
        for p in profile.projects
    ]
    return out


def table_of(profiles: list[Profile], first_row: int = 0) -> pl.DataFrame:
    """Validated profiles as a profile table (rows numbered from ``first_row``)."""
    return pl.DataFrame([row_of(p, first_row + i) for i, p in enumerate(profiles)], schema=SCHEMA)


# the sub-documents that are there or not as a whole: a presence column and their fields
_PRESENCE = {"certifications.hte", "certifications.tsme"}


def _shown(value: Any, how: str) -> Any:
    """A held value in the contract's JSON form (money as exact decimal text, dates ISO)."""
    if value is None:
        return None
    if how == "micro":
        return _decimal_text(value)
    if how == "date":
        return value.isoformat()
    return value


def _decimal_text(units: int) -> str:
    text = format(Decimal(units).scaleb(-6), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _put(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = doc
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def profile_of(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the table (``DataFrame.row(i, named=True)``) as the profile's contract JSON: the
    inverse of ``row_of``; ``Profile.model_validate`` of it equals the profile the row was made of."""
    doc: dict[str, Any] = {"ip": {}, "compliance": {}, "certifications": {}, "honors": {}}
    for path, (_, how) in ENTERPRISE_COLUMNS.items():
        if path in _PRESENCE:
            continue
        head = ".".join(path.split(".")[:2])
        if head in _PRESENCE:
            if row.get(head):
                _put(doc, path, _shown(row.get(path), how))
            continue
        _put(doc, path, _shown(row.get(path), how))
    for head in _PRESENCE:
        if not row.get(head):
            _put(doc, head, None)
    doc["fiscal_years"] = [
        {
            "year": fy["year"],
            **{
                name: _shown(fy.get(name), "micro" if kind == "decimal" else "int")
                for name, (kind, *_rest) in FISCAL_FIELDS.items()
            },
        }
        for fy in row.get("fiscal_years") or []
    ]
    doc["projects"] = [
        {name: _shown(p.get(name), how) for name, (_, how) in PROJECT_FIELDS.items()}
        for p in row.get("projects") or []
    ]
    return doc
