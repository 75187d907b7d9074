from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import Open


class Source(Open):
    document: str
    clause: str | None = None
    quote: str | None = None


class Effective(Open):
    from_: str = Field(alias="from", description="起始日期 / in force from")
    to: str | None = Field(default=None, description="截止日期（无则长期有效）/ in force until")


class ParameterValue(Open):
    since: str
    value: Any = None
    reference: str | None = None
    status: str = Field(description="verified 或 provisional（暂定，待确认）")
    note: str | None = None


class Parameter(Open):
    description: str | None = None
    unit: str | None = None
    clause: str | None = None
    values: list[ParameterValue]
    provisional: bool


class CatalogueCriterion(Open):
    """一个条件或条件组的固定文字，按编号 / the static texts of one criterion or group, by id."""

    id: str
    kind: str = Field(description="all / any / not / criterion")
    parent: str | None = None
    depth: int
    label: str | None = None
    clause: str | None = None
    quote: str | None = None
    op: str | None = None
    op_label: str | None = Field(default=None, description="运算符的说法（如“不低于（含）”）/ the operator in words")
    unit: str | None = None
    unit_label: str | None = None
    remedy: str | None = None
    interpretation: str | None = None


class Words(Open):
    outcomes: dict[str, str] = Field(description="结论代码的说法 / outcome codes in words")
    statuses: dict[str, str] = Field(description="状态代码的说法 / status codes in words")


class MeasurePublic(Open):
    """一项政策措施：条件（含条款与原文）、参数（含日期与是否暂定）、有效期 / one measure of the catalogue."""

    id: str
    title: str
    issuer: str
    status: str
    subject: str
    summary: str | None = None
    source: Source
    effective: Effective
    criteria: list[CatalogueCriterion]
    benefit: dict[str, Any] | None = None
    parameters: dict[str, Parameter]
    words: Words | None = None
    excludes: list[str] = []


class ProvisionalParameter(Open):
    measure_id: str | None
    parameter: str
    since: str
    value: Any = None
    unit: str | None = None
    clause: str | None = None
    description_zh: str | None = None
    description_en: str | None = None


class MeasureBrief(Open):
    id: str
    title: str
    status: str


class RulePackPublic(Open):
    version: str = Field(description="规则包版本（内容摘要）/ content hash of the rule pack")
    measure_count: int
    measures: list[MeasureBrief]
    provisional_count: int
    provisional: list[ProvisionalParameter]
    backend: str
