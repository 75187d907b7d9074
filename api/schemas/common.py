from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Lang = Literal["zh", "en"]
Outcome = Literal["eligible", "ineligible", "needs_review", "undetermined", "not_applicable"]
CriterionStatus = Literal["met", "unmet", "unknown", "manual_review"]

T = TypeVar("T")


class Open(BaseModel):
    """A documented object that may carry more keys than listed (the engine's explanations grow)."""

    model_config = ConfigDict(extra="allow")


class FieldError(Open):
    field: str = Field(
        description="出错字段的路径，如 profile.fiscal_years[0].sales_revenue / the field path"
    )
    message: str = Field(description="出了什么问题、应当是什么 / what is wrong and what was expected")
    location: str | None = Field(default=None, description="body, query, path or header")
    type: str | None = None
    value: Any = None


class Problem(Open):
    """RFC 9457 problem details (application/problem+json)."""

    type: str = Field(description="问题类型 URI / problem type URI")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="字段错误（校验失败时）/ field errors")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="符合条件的总数 / how many match in all")
    limit: int
    offset: int
