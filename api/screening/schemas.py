"""Request and response schemas of screening, review, reports and the audit log."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ..schemas.common import Lang, Open, Outcome

# whitespace and format characters (Unicode Z* and Cf: ZWSP, ZWJ, BOM, direction marks …) at the ends
_INVISIBLE_EDGES = re.compile(r"^[\s\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\u00ad\u180e]+|[\s\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\u00ad\u180e]+$")

MAX_OVERRIDES_CHARS = 8192

Decision = Literal["approve", "reject", "request_info"]
RunKind = Literal["applications", "impact", "proactive"]
RunStatus = Literal["importing", "queued", "running", "done", "failed"]


class Progress(Open):
    rows_done: int = Field(description="已评估的行 / rows evaluated")
    rows_total: int = Field(description="待评估的行（数据有效的行）/ rows to evaluate (valid rows)")
    rows_invalid: int = Field(description="数据有误、未评估的行 / rows with bad cells, not evaluated")
    rows_read: int = Field(description="已读入的数据行 / data rows read so far")
    percent: float
    rate_per_second: float | None = Field(description="近一分钟每秒评估行数 / rows per second, last minute")
    seconds_left: float | None = Field(description="预计剩余秒数 / estimated seconds left")
    importing: bool


class ScreeningPublic(Open):
    id: str
    kind: RunKind
    status: RunStatus
    status_label: str
    title: str | None
    filename: str | None
    format: str | None
    as_of: dt.date
    measures: list[str] | None
    overrides: dict[str, Any] | None
    lang: str
    rule_pack_version: str
    source_run_id: str | None
    baseline_run_id: str | None
    progress: Progress
    ignored_columns: list[dict[str, Any]] = Field(
        description="不认识的列（只列前 50 个，表头截至 100 字）/ unknown columns (the first 50, headers cut short)"
    )
    ignored_columns_total: int = Field(description="不认识的列数 / how many unknown columns")
    error: str | None
    created_by: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    links: dict[str, str]


class CellError(Open):
    row: int = Field(description="行号（表头为第 1 行）或 JSONL 的行 / spreadsheet row (header = 1) or line")
    column: str | None = Field(description="列，如 AU / the column letter")
    header: str | None = Field(description="表头 / the header")
    field: str = Field(description="契约字段 / the contract field, e.g. fiscal_years[2024].sales_revenue")
    value: Any = None
    reason: str


class RowErrors(Open):
    row: int
    credit_code: str | None
    name: str | None
    errors: list[CellError]
    cells: dict[str, Any]


class ScreeningSubject(Open):
    """A screening result's subject; unlike an evaluation's ``Subject`` it always carries ``id``
    (null for the enterprise). Named apart from it: the OpenAPI document needs unique names."""

    kind: Literal["enterprise", "project"]
    id: str | None = None


class ResultPublic(Open):
    row: int
    credit_code: str | None
    name: str | None
    region_code: str | None
    district: str | None
    measure_id: str
    subject: ScreeningSubject
    outcome: Outcome
    outcome_label: str
    failed_criteria: list[str]
    benefit_amount: str | None = Field(description="万元，十进制文本 / 万元 as decimal text")
    benefit_tier: str | None
    rule_pack_version: str
    reasons: str
    detail: dict[str, Any]


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    measure_id: str = Field(min_length=1, max_length=80)
    subject_id: str | None = Field(
        default=None, max_length=64, description="项目类措施的项目编号 / project id for project measures"
    )
    decision: Decision = Field(description="approve 同意 / reject 不同意 / request_info 要求补充材料")
    reason: str = Field(min_length=1, max_length=2000, description="理由（必填）/ the reason")
    override_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="同意一个自动结论为不符合（或无法判定）的申请时必填 / required to approve an ineligible outcome",
    )

    @field_validator("reason", "override_reason")
    @classmethod
    def _visible(cls, v: str | None, info: ValidationInfo) -> str | None:
        """A reason must say something: whitespace and invisible characters (zero-width spaces,
        joiners, direction marks …) around it are dropped, and what is left may not be empty."""
        if v is None:
            return v
        v = _INVISIBLE_EDGES.sub("", v)
        if not any(not unicodedata.category(c).startswith(("Z", "C")) for c in v):
            if info.field_name == "override_reason":
                return None
            raise ValueError("理由不能为空，也不能只有空白或不可见字符 / the reason must have visible text")
        return v


class DecisionPublic(Open):
    id: int
    run_id: str
    row: int
    measure_id: str
    subject_id: str | None
    decision: Decision
    decision_label: str
    reason: str
    override_reason: str | None
    automatic_outcome: str
    automatic_outcome_label: str
    is_override: bool
    rule_pack_version: str
    benefit_amount: str | None
    decided_by: str
    decided_at: dt.datetime


class RowPublic(Open):
    row: int
    valid: bool
    credit_code: str | None
    name: str | None
    region_code: str | None
    district: str | None
    cells: dict[str, Any]
    errors: list[CellError]
    evaluation_error: dict[str, Any] | None
    profile: dict[str, Any] | None
    results: list[ResultPublic]
    decisions: list[DecisionPublic]


class ImpactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overrides: dict[str, Any] | None = Field(
        default=None,
        description='参数覆盖，如 {"hte-recognition.min_tech_staff_ratio": "0.12"} / parameter overrides',
        examples=[{"hte-recognition.min_tech_staff_ratio": "0.12"}],
    )
    rule_pack_version: str | None = Field(
        default=None, max_length=80, description="另一个规则包版本（默认当前）/ another rule pack version"
    )
    measures: list[str] | None = Field(default=None, max_length=200)
    lang: Lang | None = None

    @field_validator("overrides")
    @classmethod
    def _bounded(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        """Stored with the run and shown in every list of runs: kept small (a rule pack has a few
        dozen parameters; a tiered one a handful of tiers)."""
        if v is not None and len(json.dumps(v, ensure_ascii=False)) > MAX_OVERRIDES_CHARS:
            raise ValueError(
                f"参数覆盖过长（最多 {MAX_OVERRIDES_CHARS} 个字符）/ overrides too long (at most {MAX_OVERRIDES_CHARS} characters)"
            )
        return v


class ProactiveCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measures: list[str] = Field(min_length=1, max_length=200, description="要匹配的措施 / measures to match")
    as_of: dt.date | None = Field(default=None, description="评估日期，默认今天 / assessment date")
    lang: Lang | None = None


class ImpactItem(Open):
    row: int
    credit_code: str | None
    name: str | None
    measure_id: str
    subject: ScreeningSubject
    before: Outcome
    before_label: str
    after: Outcome
    after_label: str
    benefit_before: str | None
    benefit_after: str | None
    reasons_after: str


class ImpactPublic(Open):
    run_id: str
    baseline_run_id: str
    status: RunStatus
    overrides: dict[str, Any] | None
    rule_pack_version: str
    changed: int = Field(description="结论改变的（申请，措施，对象）数 / outcomes that change")
    transitions: list[dict[str, Any]]
    budget: list[dict[str, Any]]
    budget_difference_total: str
    unit: str
    items: list[ImpactItem]
    limit: int
    offset: int


class Candidate(Open):
    credit_code: str | None
    name: str | None
    region_code: str | None
    district: str | None
    measure_id: str
    subject: ScreeningSubject
    benefit_amount: str | None
    reasons: str


class MeasureReport(Open):
    measure_id: str
    title: str
    subjects: int
    applicants: int
    by_outcome: dict[str, dict[str, Any]]
    benefit_forecast: dict[str, str]
    top_excluding_criterion: dict[str, Any] | None
    funnel: list[dict[str, Any]]
    criteria_failed: list[dict[str, Any]]
    by_district: list[dict[str, Any]]


class ReportPublic(Open):
    run_id: str
    status: RunStatus
    rule_pack_version: str
    as_of: dt.date
    rows: int
    evaluated: int
    invalid: int
    benefit_forecast_total: str = Field(description="符合条件者的待遇合计（万元）/ sum of eligible benefits")
    measures: list[MeasureReport]


class RulePackVersion(Open):
    version: str
    current: bool
    name: str = Field(description="规则包文件夹名（不含服务器路径）/ the pack's folder name, no server path")


class AuditEntryPublic(Open):
    id: int
    at: dt.datetime
    actor: str
    actor_id: int | None
    actor_role: str | None
    action: str
    action_label: str
    target_type: str | None
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
