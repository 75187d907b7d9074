"""The applicant profile of the contract (docs/contract.md §1–3), validated.

Absent or ``null`` means unknown, never zero. Money is ``Decimal`` in 万元. A profile that breaks the
contract raises ``pydantic.ValidationError``; ``engine.errors`` turns it into field paths and reasons.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

# Money above this is taken for a typing error (the largest Chinese enterprise's yearly revenue is
# about 3×10^8 万元); it also keeps scaled integers far inside durable-rules' 64-bit range.
MAX_MONEY = Decimal("1000000000")  # 10^9 万元
MONEY_PLACES = 6  # 0.000001 万元 = 0.01 元
_MONEY_STEP = Decimal(1).scaleb(-MONEY_PLACES)
MAX_PEOPLE = 10_000_000
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """GB 32100-2015 check character of the first 17 characters."""
    total = sum(CREDIT_CODE_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def _credit_code(v: str) -> str:
    v = v.strip().upper()
    if len(v) != 18:
        raise ValueError(f"统一社会信用代码须为18位，收到{len(v)}位 / must be 18 characters, got {len(v)}")
    bad = [c for c in v if c not in CREDIT_CODE_CHARSET]
    if bad:
        raise ValueError(
            f"统一社会信用代码含非法字符 {''.join(bad)!r}（不得含 I、O、S、V、Z）/ invalid characters {''.join(bad)!r}"
        )
    expected = credit_code_check_char(v[:17])
    if v[17] != expected:
        raise ValueError(
            f"统一社会信用代码校验位应为 {expected}，实为 {v[17]}（GB 32100-2015）/ "
            f"checksum character should be {expected}, got {v[17]}"
        )
    return v


def _decimal(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError("应为数值（万元），不能是布尔值 / expected a number, not a boolean")
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise ValueError("不能是 NaN 或无穷大 / NaN and Infinity are not allowed")
        v = repr(v)  # the shortest text that round-trips: 0.1 stays 0.1
    if isinstance(v, int):
        v = str(v)
    if isinstance(v, str):
        text = v.strip().replace(",", "")
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"应为数值，收到 {v!r} / expected a decimal number, got {v!r}") from None
        if not d.is_finite():
            raise ValueError("不能是 NaN 或无穷大 / NaN and Infinity are not allowed")
        return d
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise ValueError("不能是 NaN 或无穷大 / NaN and Infinity are not allowed")
        return v
    raise ValueError(f"应为数值，收到 {type(v).__name__} / expected a number")


def _money(v: Decimal) -> Decimal:
    if v < 0:
        raise ValueError(f"金额不能为负数，收到 {v} 万元 / money cannot be negative, got {v}")
    if v > MAX_MONEY:
        raise ValueError(
            f"金额过大（上限 {MAX_MONEY} 万元），收到 {v} / amount too large (max {MAX_MONEY} 万元)"
        )
    if v != v.quantize(_MONEY_STEP, rounding="ROUND_DOWN"):
        raise ValueError(
            f"金额最多保留{MONEY_PLACES}位小数（单位万元）/ at most {MONEY_PLACES} decimal places in 万元"
        )
    return v


def _strict_int(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError("应为整数，不能是布尔值 / expected a whole number, not a boolean")
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise ValueError("不能是 NaN 或无穷大 / NaN and Infinity are not allowed")
        if v != int(v):
            raise ValueError(f"应为整数，收到 {v} / expected a whole number, got {v}")
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            raise ValueError(f"应为整数，收到 {v!r} / expected a whole number, got {v!r}") from None
    return v


def _people(v: int) -> int:
    if v < 0:
        raise ValueError(f"人数不能为负数，收到 {v} / a head count cannot be negative")
    if v > MAX_PEOPLE:
        raise ValueError(f"人数过大（上限 {MAX_PEOPLE}），收到 {v} / head count too large")
    return v


def _count(v: int) -> int:
    if v < 0:
        raise ValueError(f"数量不能为负数，收到 {v} / a count cannot be negative")
    if v > 1_000_000:
        raise ValueError(f"数量过大（上限 1000000），收到 {v} / count too large")
    return v


def _strict_bool(v: Any) -> Any:
    if v is None or isinstance(v, bool):
        return v
    raise ValueError(f"应为 true 或 false，收到 {v!r} / expected true or false, got {v!r}")


def _date(v: Any) -> Any:
    if v is None or isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            if len(v) != 10:
                raise ValueError
            return dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(
                f"日期格式应为 YYYY-MM-DD，收到 {v!r} / expected a date YYYY-MM-DD, got {v!r}"
            ) from None
    raise ValueError(f"日期格式应为 YYYY-MM-DD，收到 {v!r} / expected a date YYYY-MM-DD")


def _plain(d: Decimal) -> str:
    return format(d, "f")


Money = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    AfterValidator(_money),
    PlainSerializer(_plain, return_type=str, when_used="json"),
]
People = Annotated[int, BeforeValidator(_strict_int), AfterValidator(_people)]
Count = Annotated[int, BeforeValidator(_strict_int), AfterValidator(_count)]
StrictBool = Annotated[bool, BeforeValidator(_strict_bool)]
Day = Annotated[dt.date, BeforeValidator(_date)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def enum_values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(e.value for e in enum)


class Ownership(StrEnum):
    private = "private"
    state_owned = "state_owned"
    collective = "collective"
    foreign_invested = "foreign_invested"
    other = "other"


class TechField(StrEnum):
    electronic_information = "electronic_information"
    biomedicine = "biomedicine"
    aerospace = "aerospace"
    new_materials = "new_materials"
    high_tech_services = "high_tech_services"
    new_energy = "new_energy"
    resources_environment = "resources_environment"
    advanced_manufacturing = "advanced_manufacturing"
    none = "none"


class RdInstitutionLevel(StrEnum):
    none = "none"
    municipal = "municipal"
    provincial = "provincial"
    national = "national"


class ProjectCategory(StrEnum):
    basic_research = "basic_research"
    talent = "talent"
    applied_research = "applied_research"
    industrialization = "industrialization"
    platform = "platform"
    other = "other"


class ProjectLevel(StrEnum):
    national = "national"
    provincial = "provincial"
    municipal = "municipal"
    district = "district"
    none = "none"


class FiscalYear(Model):
    year: int = Field(ge=1949, le=2100)
    sales_revenue: Money | None = None
    total_revenue: Money | None = None
    high_tech_revenue: Money | None = None
    rd_expense: Money | None = None
    rd_expense_domestic: Money | None = None
    cost_and_expense: Money | None = None
    total_assets: Money | None = None
    # 净资产 may be negative (an insolvent balance sheet); only its size is bounded.
    net_assets: (
        Annotated[
            Decimal, BeforeValidator(_decimal), PlainSerializer(_plain, return_type=str, when_used="json")
        ]
        | None
    ) = None
    employees: People | None = None
    tech_staff: People | None = None

    @field_validator("net_assets")
    @classmethod
    def _net_assets(cls, v: Decimal | None) -> Decimal | None:
        if v is not None and abs(v) > MAX_MONEY:
            raise ValueError(f"金额过大（上限 {MAX_MONEY} 万元）/ amount too large")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> FiscalYear:
        if self.employees is not None and self.tech_staff is not None and self.tech_staff > self.employees:
            raise ValueError(
                f"科技人员数（{self.tech_staff}）不能超过职工总数（{self.employees}）/ "
                f"tech_staff ({self.tech_staff}) cannot exceed employees ({self.employees})"
            )
        if (
            self.rd_expense is not None
            and self.rd_expense_domestic is not None
            and self.rd_expense_domestic > self.rd_expense
        ):
            raise ValueError(
                f"境内研发费用（{self.rd_expense_domestic}）不能超过研发费用总额（{self.rd_expense}）/ "
                "rd_expense_domestic cannot exceed rd_expense"
            )
        if (
            self.high_tech_revenue is not None
            and self.total_revenue is not None
            and self.high_tech_revenue > self.total_revenue
        ):
            raise ValueError(
                f"高新技术产品（服务）收入（{self.high_tech_revenue}）不能超过总收入（{self.total_revenue}）/ "
                "high_tech_revenue cannot exceed total_revenue"
            )
        return self


class IntellectualProperty(Model):
    core_ip_owned: StrictBool | None = None
    class_i_count: Count | None = None
    class_ii_count: Count | None = None


class Compliance(Model):
    major_safety_quality_incident_within_1y: StrictBool | None = None
    serious_environmental_violation_within_1y: StrictBool | None = None
    serious_research_misconduct: StrictBool | None = None
    abnormal_operation_list: StrictBool | None = None
    serious_dishonesty_list: StrictBool | None = None


class HteCertificate(Model):
    certificate_no: str = Field(min_length=1, max_length=64)
    issued_on: Day
    first_time: StrictBool | None = None


class TsmeRegistration(Model):
    registration_no: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=2017, le=2100)


class Certifications(Model):
    hte: HteCertificate | None = None
    tsme: TsmeRegistration | None = None


class Honors(Model):
    national_sci_award_top3_on: Day | None = None
    rd_institution_level: RdInstitutionLevel | None = None
    led_standard_on: Day | None = None


class Project(Model):
    id: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    category: ProjectCategory | None = None
    level: ProjectLevel | None = None
    provincial_major_implementation: StrictBool | None = None
    municipal_key: StrictBool | None = None
    new_land_required: StrictBool | None = None
    land_area_mu: Money | None = None


class Profile(Model):
    credit_code: Annotated[str, AfterValidator(_credit_code)]
    name: str | None = Field(default=None, max_length=200)
    registered_on: Day | None = None
    region_code: str | None = Field(default=None, pattern=r"^[1-8]\d{5}$")
    resident_enterprise: StrictBool | None = None
    industry_code: str | None = Field(default=None, pattern=r"^[A-T](\d{2,4})?$")
    ownership: Ownership | None = None
    tech_field: TechField | None = None
    prohibited_category: StrictBool | None = None
    fiscal_years: list[FiscalYear] = Field(default_factory=list, max_length=50)
    ip: IntellectualProperty = Field(default_factory=IntellectualProperty)
    innovation_score: (
        Annotated[
            Decimal, BeforeValidator(_decimal), PlainSerializer(_plain, return_type=str, when_used="json")
        ]
        | None
    ) = None
    compliance: Compliance = Field(default_factory=Compliance)
    certifications: Certifications = Field(default_factory=Certifications)
    honors: Honors = Field(default_factory=Honors)
    projects: list[Project] = Field(default_factory=list, max_length=500)

    @field_validator("innovation_score")
    @classmethod
    def _score(cls, v: Decimal | None) -> Decimal | None:
        if v is not None and not (0 <= v <= 100):
            raise ValueError(
                f"创新能力评价得分应在 0–100 之间，收到 {v} / innovation_score must be within 0–100"
            )
        return v

    @field_validator("fiscal_years")
    @classmethod
    def _unique_years(cls, v: list[FiscalYear]) -> list[FiscalYear]:
        seen: set[int] = set()
        for fy in v:
            if fy.year in seen:
                raise ValueError(f"财务年度 {fy.year} 重复 / fiscal year {fy.year} appears twice")
            seen.add(fy.year)
        return v

    @field_validator("projects")
    @classmethod
    def _unique_projects(cls, v: list[Project]) -> list[Project]:
        seen: set[str] = set()
        for p in v:
            if p.id in seen:
                raise ValueError(f"项目编号 {p.id!r} 重复 / duplicate project id {p.id!r}")
            seen.add(p.id)
        return v

    def fiscal_year(self, year: int) -> FiscalYear | None:
        for fy in self.fiscal_years:
            if fy.year == year:
                return fy
        return None
