"""The columnar validation fast path: every rule of the contract (engine/profile.py) as column
expressions over a batch of rows, and the accepted rows assembled into a profile table
(engine/table.py).

The readers stage a batch as three tables (``Staged``): the enterprise's own fields, one row per
profile (``E``, columns named by their contract path; dates already dates, money, scores and areas
already whole numbers of 10⁻⁶); the fiscal years, one row per year (``FY``); the projects, one row
per project (``PJ``). ``_i`` ties them together, ``_k`` keeps the order of a profile's years and
projects, and ``_slow`` marks rows a reader could not stage exactly (a cell in an unusual spelling,
a JSON line the Arrow reader refused …).

``check`` refuses every row that pydantic might refuse, and more: a value with surrounding white
space, a lower-case credit code, a date in another spelling … are all left to the slow path
(pydantic, ``intake/rows.py``), which accepts them or reports their errors exactly as the per-row
path does. The fast path never accepts what pydantic refuses, and each row it accepts equals the
profile table of pydantic's profile (a hypothesis property, ``tests/intake``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from engine.profile import (
    CREDIT_CODE_CHARSET,
    CREDIT_CODE_WEIGHTS,
    MAX_MONEY,
    MAX_PEOPLE,
    Ownership,
    ProjectCategory,
    ProjectLevel,
    RdInstitutionLevel,
    TechField,
    enum_values,
)
from engine.table import ENTERPRISE_COLUMNS, FISCAL_STRUCT, MICRO, PROJECT_FIELDS, PROJECT_STRUCT, SCHEMA
from engine.vocabulary import FISCAL_FIELDS

# the bounds of engine/profile.py, in the table's units
MONEY_MAX = int(MAX_MONEY) * MICRO
SCORE_MAX = 100 * MICRO
COUNT_MAX = 1_000_000
FISCAL_YEARS_MAX = 50
PROJECTS_MAX = 500
MONEY_FIELDS = [name for name, (kind, *_rest) in FISCAL_FIELDS.items() if kind == "decimal"]
PEOPLE_FIELDS = [name for name, (kind, *_rest) in FISCAL_FIELDS.items() if kind == "int"]
HTE_NO = "certifications.hte.certificate_no"
TSME_NO = "certifications.tsme.registration_no"

# the enterprise's staged columns: the profile table's
E_SCHEMA: dict[str, Any] = {path: dtype for path, (dtype, _how) in ENTERPRISE_COLUMNS.items()}
FY_SCHEMA: dict[str, Any] = {"year": pl.Int64, **dict.fromkeys(FISCAL_FIELDS, pl.Int64)}
PJ_SCHEMA: dict[str, Any] = {name: dtype for name, (dtype, _how) in PROJECT_FIELDS.items()}

ENUMS = {
    "ownership": enum_values(Ownership),
    "tech_field": enum_values(TechField),
    "honors.rd_institution_level": enum_values(RdInstitutionLevel),
}
PROJECT_ENUMS = {"category": enum_values(ProjectCategory), "level": enum_values(ProjectLevel)}

# a character pydantic or Python's str.strip() might strip, or one that is odd at an edge: such a
# text goes to the slow path, which strips it as the contract says
EDGE = r"^[\s\p{Z}\p{Cc}\p{Cf}]|[\s\p{Z}\p{Cc}\p{Cf}]$"
CREDIT_CODE = "^[" + CREDIT_CODE_CHARSET + "]{18}$"
REGION_CODE = r"^[1-8][0-9]{5}$"  # the contract's \d is Unicode's: ASCII digits here, the rest slow
INDUSTRY_CODE = r"^[A-T]([0-9]{2,4})?$"
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@dataclass
class Staged:
    """A batch as the readers stage it (see the module's docstring). ``E`` has ``_i``, ``row``,
    ``as_of`` (a date or null) and ``_slow`` besides ``E_SCHEMA``; ``FY`` and ``PJ`` have ``_i``,
    ``_k`` and may have ``_slow``."""

    E: pl.DataFrame
    FY: pl.DataFrame
    PJ: pl.DataFrame


def iso_date(text: pl.Expr) -> pl.Expr:
    """A date written YYYY-MM-DD exactly (the contract's form), else null."""
    day = text.str.to_date("%Y-%m-%d", strict=False)
    return pl.when(text.str.contains(ISO_DATE) & (day.dt.year() >= 1)).then(day)


def _text_ok(c: pl.Expr, lo: int, hi: int) -> pl.Expr:
    n = c.str.len_chars()
    return c.is_null() | (~c.str.contains(EDGE) & (n >= lo) & (n <= hi))


def _within(c: pl.Expr, lo: int, hi: int) -> pl.Expr:
    return c.is_null() | ((c >= lo) & (c <= hi))


def _credit_code_ok(c: pl.Expr) -> pl.Expr:
    """18 characters of the GB 32100-2015 set with the right check character."""
    index = {ch: i for i, ch in enumerate(CREDIT_CODE_CHARSET)}
    total = pl.sum_horizontal(
        c.str.slice(i, 1).replace_strict(index, default=0, return_dtype=pl.Int64) * w
        for i, w in enumerate(CREDIT_CODE_WEIGHTS)
    )
    check = ((31 - total % 31) % 31).replace_strict(dict(enumerate(CREDIT_CODE_CHARSET)), return_dtype=pl.Utf8)
    return c.is_not_null() & c.str.contains(CREDIT_CODE) & (c.str.slice(17, 1) == check)


def enterprise_ok() -> pl.Expr:
    """One expression over ``E``: true where every rule of the enterprise's own fields holds."""
    col = pl.col
    hte, tsme = col("certifications.hte"), col("certifications.tsme")
    rules = [
        _credit_code_ok(col("credit_code")),
        _text_ok(col("name"), 0, 200),
        col("region_code").is_null() | col("region_code").str.contains(REGION_CODE),
        col("industry_code").is_null() | col("industry_code").str.contains(INDUSTRY_CODE),
        *(col(path).is_null() | col(path).is_in(values) for path, values in ENUMS.items()),
        _within(col("innovation_score"), 0, SCORE_MAX),
        _within(col("ip.class_i_count"), 0, COUNT_MAX),
        _within(col("ip.class_ii_count"), 0, COUNT_MAX),
        # a certificate: its number and date; no certificate: nothing of one
        hte.is_not_null(),
        pl.when(hte)
        .then(col(HTE_NO).is_not_null() & _text_ok(col(HTE_NO), 1, 64) & col("certifications.hte.issued_on").is_not_null())
        .otherwise(
            col(HTE_NO).is_null()
            & col("certifications.hte.issued_on").is_null()
            & col("certifications.hte.first_time").is_null()
        ),
        tsme.is_not_null(),
        pl.when(tsme)
        .then(col(TSME_NO).is_not_null() & _text_ok(col(TSME_NO), 1, 64) & col("certifications.tsme.year").is_between(2017, 2100))
        .otherwise(col(TSME_NO).is_null() & col("certifications.tsme.year").is_null()),
    ]
    return pl.all_horizontal(rules).fill_null(False)


def fiscal_ok() -> pl.Expr:
    """One expression over ``FY``: true where every rule of one fiscal year holds."""
    col = pl.col
    rules = [col("year").is_not_null() & col("year").is_between(1949, 2100)]
    for name in MONEY_FIELDS:
        lo = -MONEY_MAX if name == "net_assets" else 0  # 净资产 may be negative
        rules.append(_within(col(name), lo, MONEY_MAX))
    rules += [_within(col(name), 0, MAX_PEOPLE) for name in PEOPLE_FIELDS]
    for small, large in (
        ("tech_staff", "employees"),
        ("rd_expense_domestic", "rd_expense"),
        ("high_tech_revenue", "total_revenue"),
    ):
        rules.append(col(small).is_null() | col(large).is_null() | (col(small) <= col(large)))
    return pl.all_horizontal(rules).fill_null(False)


def project_ok() -> pl.Expr:
    """One expression over ``PJ``: true where every rule of one project holds."""
    col = pl.col
    rules = [
        col("id").is_not_null() & _text_ok(col("id"), 1, 64),
        _text_ok(col("name"), 0, 200),
        *(col(name).is_null() | col(name).is_in(values) for name, values in PROJECT_ENUMS.items()),
        _within(col("land_area_mu"), 0, MONEY_MAX),
    ]
    return pl.all_horizontal(rules).fill_null(False)


def _bad_keys(part: pl.DataFrame, ok: pl.Expr, key: str, most: int) -> pl.Series:
    """The ``_i`` of profiles with a bad item, a repeated key (year, project id) or too many items."""
    if part.height == 0:
        return pl.Series("_i", [], dtype=pl.Int64)
    slow = pl.col("_slow") if "_slow" in part.columns else pl.lit(False)
    bad = part.select(
        "_i",
        (~ok | slow.fill_null(True) | pl.struct("_i", key).is_duplicated()).alias("_bad"),
    )
    per = bad.group_by("_i").agg(pl.col("_bad").any(), pl.len().alias("_n"))
    return per.filter(pl.col("_bad") | (pl.col("_n") > most))["_i"].cast(pl.Int64)


def check(staged: Staged) -> pl.Series:
    """True for each row of ``staged.E`` the fast path accepts (in ``E``'s order)."""
    E = staged.E
    bad_years = _bad_keys(staged.FY, fiscal_ok(), "year", FISCAL_YEARS_MAX)
    bad_projects = _bad_keys(staged.PJ, project_ok(), "id", PROJECTS_MAX)
    return E.select(
        (
            enterprise_ok()
            & ~pl.col("_slow").fill_null(True)
            & ~pl.col("_i").cast(pl.Int64).is_in(bad_years.implode())
            & ~pl.col("_i").cast(pl.Int64).is_in(bad_projects.implode())
        ).alias("ok")
    )["ok"]


def assemble(staged: Staged, ok: pl.Series) -> pl.DataFrame:
    """The accepted rows as a profile table (``engine.table.SCHEMA``) with ``as_of``, in ``E``'s order."""
    E = staged.E.filter(ok)
    keys = E.select(pl.col("_i").cast(pl.Int64))
    fiscal = _lists(staged.FY, keys, "fiscal_years", FISCAL_STRUCT, list(FY_SCHEMA))
    projects = _lists(staged.PJ, keys, "projects", PROJECT_STRUCT, list(PJ_SCHEMA))
    out = (
        E.with_columns(pl.col("_i").cast(pl.Int64))
        .join(fiscal, on="_i", how="left", maintain_order="left")
        .join(projects, on="_i", how="left", maintain_order="left")
    )
    empty_fy = pl.lit([], dtype=pl.List(FISCAL_STRUCT))
    empty_pj = pl.lit([], dtype=pl.List(PROJECT_STRUCT))
    out = out.with_columns(
        pl.col("fiscal_years").fill_null(empty_fy),
        pl.col("projects").fill_null(empty_pj),
    )
    return out.select(
        *(pl.col(name).cast(dtype) for name, dtype in SCHEMA.items()),
        pl.col("as_of").cast(pl.Date),
    )


def _lists(part: pl.DataFrame, keys: pl.DataFrame, name: str, dtype: Any, fields: list[str]) -> pl.DataFrame:
    if part.height == 0 or keys.height == 0:
        return pl.DataFrame(schema={"_i": pl.Int64, name: pl.List(dtype)})
    part = part.with_columns(pl.col("_i").cast(pl.Int64)).join(keys, on="_i", how="semi")
    return (
        part.sort("_i", "_k")
        .group_by("_i", maintain_order=True)
        .agg(pl.struct(*(pl.col(f) for f in fields)).cast(dtype).alias(name))
    )


def empty_staged() -> Staged:
    """A batch of no rows, with every column in its type."""
    return Staged(
        pl.DataFrame(
            schema={"_i": pl.Int64, "row": pl.Int64, "as_of": pl.Date, "_slow": pl.Boolean, **E_SCHEMA}
        ),
        pl.DataFrame(schema={"_i": pl.Int64, "_k": pl.Int64, **FY_SCHEMA}),
        pl.DataFrame(schema={"_i": pl.Int64, "_k": pl.Int64, **PJ_SCHEMA}),
    )
