from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from engine import Day, Profile

from .common import CriterionStatus, Lang, Open, Outcome

EARLIEST_AS_OF = dt.date(1950, 1, 1)
LATEST_AS_OF = dt.date(2100, 12, 31)


def _as_of_range(v: dt.date | None) -> dt.date | None:
    if v is not None and not (EARLIEST_AS_OF <= v <= LATEST_AS_OF):
        raise ValueError(
            f"评估日期应在 {EARLIEST_AS_OF} 至 {LATEST_AS_OF} 之间 / as_of must be within {EARLIEST_AS_OF}..{LATEST_AS_OF}"
        )
    return v


AsOf = Annotated[Day, AfterValidator(_as_of_range)]
MeasureId = Annotated[str, Field(min_length=1, max_length=100)]


class EvaluationOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: AsOf | None = Field(
        default=None, description="评估日期 YYYY-MM-DD，默认今天 / assessment date, default today"
    )
    measures: list[MeasureId] | None = Field(
        default=None,
        max_length=100,
        description="只评估这些措施（默认全部）/ only these measure ids (default: all)",
    )
    lang: Lang | None = Field(
        default=None, description="说明文字的语言，zh（默认）或 en / language of the explanations"
    )
    detail: Literal["verdict", "full"] = Field(
        default="verdict",
        description="verdict（默认）：每项结果的裁决（各条件状态、是否决定结论、实际值与要求值）和一句话摘要；"
        "full：完整说明（标签、原文、差距、补足所需、计算过程、改进建议）"
        " / verdict (default): each result's verdict and a one-line summary; full: the full explanation",
    )


class EvaluationCreate(EvaluationOptions):
    """一次自查：企业画像与评估选项 / a self-check: the profile and options."""

    profile: Profile


class EnterpriseEvaluationCreate(EvaluationOptions):
    """按已保存的企业画像评估（默认最新版本）/ evaluate a stored profile (latest version by default)."""

    version: int | None = Field(
        default=None, ge=1, le=2_000_000_000, description="画像版本号 / profile version"
    )


# ------------------------------------------------------------------ results (the contract)


def _absent(v: Any) -> bool:
    return v is None


class Subject(Open):
    """``{"kind": "enterprise"}`` or ``{"kind": "project", "id": …, "name": …}`` (the contract)."""

    kind: Literal["enterprise", "project"]
    id: str | None = Field(default=None, exclude_if=_absent)
    name: str | None = Field(default=None, exclude_if=_absent)


class CriterionResult(Open):
    id: str | None = None
    kind: str | None = Field(default=None, description="all / any / not / criterion")
    status: CriterionStatus
    label: str | None = None
    explanation: str | None = None
    actual: Any = None
    expected: Any = None
    gap: Any = None
    clause: str | None = None
    quote: str | None = None
    missing_facts: list[str] | None = None
    decisive: bool | None = Field(
        default=None,
        description="这一条的状态是否决定了结论（例如已满足的“之一”组中未满足的备选条件为 false）"
        " / whether this node's status is a reason for the outcome (an unmet alternative of an any-of"
        " group that is met is false)",
    )
    moot: bool | None = Field(
        default=None,
        description="无助于满足本措施：所在的组已由另一个条件满足所需（如已满足的“之一”组中的其他备选条件）"
        " / it cannot help the measure be met: another alternative already gives its group the status"
        " needed (e.g. the other alternatives of an any-of group already met)",
    )


class Benefit(Open):
    kind: str
    description: str | None = None
    unit: str | None = None
    amount: Any = None
    provisional: bool = False


class MissingFactRef(Open):
    path: str
    label: str


class RankedMissingFact(MissingFactRef):
    decides: int = Field(description="这项信息影响的结论数 / how many outcomes it decides")
    measures: list[str]


class NodeVerdict(Open):
    """一个条件或条件组的裁决 / the verdict on one criterion or group (by its id in the catalogue)."""

    id: str
    status: CriterionStatus
    decisive: bool | None = Field(
        default=None, description="为 true 时：其状态是结论的理由；缺省即 false / true: a reason for the outcome"
    )
    moot: bool | None = Field(
        default=None, description="为 true 时：不影响结论；缺省即 false / true: it cannot change the outcome"
    )
    actual: Any = Field(
        default=None,
        description="条件的实际值（数值为十进制字符串，日期 ISO，未知为 null；条件组没有）/ the fact's value",
    )
    expected: Any = Field(default=None, description="适用的要求值 / the threshold that applies")
    gap: str | None = Field(default=None, description="未满足的数值条件差多少 / how far, when unmet")


class BenefitFigures(Open):
    kind: str
    unit: str | None = None
    amount: str | None = None
    rate: str | None = None
    tier: str | None = None
    provisional: bool = False


class VerdictResult(Open):
    """一项措施对一个对象的裁决（默认回答）/ one measure's verdict on one subject (the default answer).
    条件的名称、原文与建议见 GET /v1/measures/{id} / labels, quotes and remedies: the catalogue."""

    measure_id: str
    subject: Subject
    outcome: Outcome
    summary: str = Field(description="一句话摘要 / one-line summary in the requested language")
    reason: str | None = Field(default=None, description="不适用的原因 / why not applicable")
    criteria: list[NodeVerdict]
    missing_facts: list[str] = Field(description="缺少的画像字段路径 / the profile paths missing")
    benefit: BenefitFigures | None = None
    not_stackable_with: list[str] = []
    as_of: str
    rule_pack_version: str


class MeasureResult(Open):
    measure_id: str
    title: str | None = None
    subject: Subject
    outcome: Outcome
    outcome_label: str
    explanation: str | None = None
    criteria: list[CriterionResult]
    missing_facts: list[MissingFactRef]
    benefit: Benefit | None = None
    as_of: str
    rule_pack_version: str
    not_stackable_with: list[str] = []


class EvaluationResult(Open):
    credit_code: str
    name: str | None = None
    as_of: str = Field(description="评估日期 / assessment date")
    rule_pack_version: str
    backend: str
    lang: Lang
    results: list[VerdictResult | MeasureResult] = Field(
        description="detail=verdict：裁决；detail=full：完整说明 / verdicts, or full explanations"
    )
    missing_facts: list[RankedMissingFact] = Field(
        description="待补充的信息，影响结论最多的在前 / missing facts, most decisive first"
    )


class EvaluationPublic(EvaluationResult):
    id: str | None = Field(description="已保存评估的编号；匿名自查不保存，为 null / id when stored")
    stored: bool
    created_at: dt.datetime | None = None


class EvaluationInput(BaseModel):
    profile: dict[str, Any] = Field(description="评估时的企业画像快照 / the profile as evaluated")
    as_of: dt.date
    measures: list[str] | None = None
    lang: Lang
    detail: str
    profile_version: int | None = None


class EvaluationRecord(EvaluationPublic):
    input: EvaluationInput
    created_by: str | None = None


class EvaluationSummary(BaseModel):
    id: str
    credit_code: str
    name: str | None = None
    as_of: dt.date
    rule_pack_version: str
    lang: Lang
    created_at: dt.datetime
    created_by: str | None = None
    outcomes: dict[str, int] = Field(description="各结论的数量 / count of results per outcome")


# ------------------------------------------------------------------ replay and what-if


class CriterionChange(BaseModel):
    id: str
    label: str | None = None
    before: CriterionStatus | None = None
    after: CriterionStatus | None = None
    expected_before: Any = None
    expected_after: Any = None
    actual_before: Any = None
    actual_after: Any = None


class OutcomeChange(BaseModel):
    measure_id: str
    title: str | None = None
    subject: Subject
    change: Literal["added", "removed", "changed", "unchanged"]
    before: Outcome | None = None
    after: Outcome | None = None
    before_label: str | None = None
    after_label: str | None = None
    outcome_changed: bool
    criteria: list[CriterionChange] = Field(
        default=[], description="状态或要求变化的条件 / criteria that changed"
    )
    benefit_before: Benefit | None = None
    benefit_after: Benefit | None = None


class ReplayPublic(BaseModel):
    evaluation_id: str
    as_of: dt.date
    stored_rule_pack_version: str
    current_rule_pack_version: str
    pack_changed: bool = Field(description="规则包是否已更新 / whether the rule pack changed since")
    changed: bool = Field(description="结论或条件是否有变化 / whether any result changed")
    summary: str
    changes: list[OutcomeChange] = Field(
        description="有变化的措施/对象 / the measures and subjects that changed"
    )
    result: EvaluationResult = Field(
        description="按当前规则包重新评估的结果 / the result with the current pack"
    )


def _delta(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("增量应为数值 / delta must be a number")
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise ValueError("增量不能是 NaN 或无穷大 / delta cannot be NaN or Infinity")
        v = repr(v)
    if isinstance(v, int):
        v = str(v)
    if isinstance(v, str):
        try:
            d = Decimal(v.strip())
        except InvalidOperation:
            raise ValueError(f"增量应为数值，收到 {v!r} / delta must be a number") from None
        if not d.is_finite() or abs(d) > Decimal("1e9"):
            raise ValueError("增量应为有限数值且不超过 10^9 / delta must be finite and at most 10^9")
        return d
    raise ValueError("增量应为数值 / delta must be a number")


Delta = Annotated[Decimal, BeforeValidator(_delta)]
PATH_PATTERN = r"^[a-z_]+(\[[^\[\]]{1,64}\])?(\.[a-z_]+(\[[^\[\]]{1,64}\])?)*$"


class Change(BaseModel):
    """一项假设修改：``value`` 设为新值（null 表示未知），或 ``delta`` 在原值上增减（万元、人数等）。"""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        max_length=200,
        pattern=PATH_PATTERN,
        description="画像字段路径：fiscal_years[2024].rd_expense（方括号内为年度）、projects[P1].land_area_mu（方括号内为项目编号）、ip.class_i_count",
        examples=["fiscal_years[2024].rd_expense"],
    )
    value: Any = Field(default=None, description="新值 / the new value")
    delta: Delta | None = Field(default=None, description="增量（可为负）/ amount to add (may be negative)")

    @model_validator(mode="after")
    def _one_of(self) -> Change:
        given = {"value", "delta"} & self.model_fields_set
        if len(given) != 1 or (given == {"delta"} and self.delta is None):
            raise ValueError("value 与 delta 须且只能给出一个 / give exactly one of value and delta")
        return self


class WhatIfCreate(EvaluationOptions):
    """假设分析：同一画像改动若干事实后，哪些结论会改变 / which outcomes flip when facts change."""

    profile: Profile
    changes: list[Change] = Field(min_length=1, max_length=50)


class AppliedChange(BaseModel):
    path: str
    before: Any = None
    after: Any = None


class WhatIfPublic(BaseModel):
    credit_code: str
    as_of: dt.date
    rule_pack_version: str
    lang: Lang
    changes: list[AppliedChange]
    flips: list[OutcomeChange] = Field(description="结论改变的措施/对象 / the outcomes that flip")
    outcomes: list[OutcomeChange] = Field(
        description="全部措施/对象的前后结论 / every outcome before and after"
    )
