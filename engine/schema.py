"""The rule pack as data: pydantic models of one measure file (``rules/<issuer>/<id>.yaml``).

Every model forbids unknown keys, so that a misspelt key in a rule file is an error, never a
silently ignored citation. The engine knows no measure by name: everything a measure needs is
stated here, in its file.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A user-facing text, Chinese first, English available."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Op(StrEnum):
    eq = "eq"
    ne = "ne"
    gt = "gt"
    gte = "gte"
    lt = "lt"
    lte = "lte"
    in_ = "in"
    not_in = "not_in"
    manual = "manual"  # a person must judge; the fact (if any) is shown to them


COMPARISON_OPS = {Op.gt, Op.gte, Op.lt, Op.lte}

OP_WORDS = {
    # how each operator reads in Chinese legal usage (以上/以下 include the number; 超过/不足 exclude it)
    Op.eq: ("为", "equals"),
    Op.ne: ("不为", "is not"),
    Op.gt: ("超过（不含）", "more than"),
    Op.gte: ("不低于（含）", "at least"),
    Op.lt: ("不足（不含）", "less than"),
    Op.lte: ("不超过（含）", "at most"),
    Op.in_: ("属于", "is one of"),
    Op.not_in: ("不属于", "is none of"),
    Op.manual: ("需人工判断", "judged by a person"),
}


class Unit(StrEnum):
    wan_yuan = "wan_yuan"  # 万元
    ratio = "ratio"  # a fraction: 0.05 is 5%
    people = "people"  # 人
    days = "days"
    years = "years"
    count = "count"
    points = "points"
    mu = "mu"  # 亩
    bool = "bool"
    enum = "enum"
    text = "text"
    date = "date"


class Status(StrEnum):
    verified = "verified"
    provisional = "provisional"


class Tier(Strict):
    """One band of a tiered value: applies while the ``by`` fact is at most ``upto`` (inclusive)."""

    upto: Decimal | None = None  # None: no upper bound (the last band)
    value: Decimal


class Tiered(Strict):
    by: str  # fact path that picks the band
    tiers: list[Tier] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Tiered:
        bounds = [t.upto for t in self.tiers]
        if bounds[-1] is not None:
            raise ValueError("the last tier must have no upper bound (upto omitted)")
        if any(b is None for b in bounds[:-1]):
            raise ValueError("only the last tier may omit upto")
        finite = [b for b in bounds if b is not None]
        if finite != sorted(finite) or len(set(finite)) != len(finite):
            raise ValueError("tiers must be in increasing order of upto")
        return self


class PointsRow(Strict):
    """``at_least`` or more (inclusive) scores ``points``; rows are tried from the top."""

    at_least: Decimal
    points: Decimal


class SizeBand(Strict):
    """Lower bounds of one size class (国统字〔2017〕213号): all listed bounds must be met."""

    employees: int | None = None
    revenue: Decimal | None = None
    assets: Decimal | None = None


class SizeRow(Strict):
    industry: Text
    prefixes: list[str]  # GB/T 4754 code prefixes; [] means every other industry
    large: SizeBand
    medium: SizeBand
    small: SizeBand


ParamValue = Decimal | bool | int | str | list[str] | Tiered | list[PointsRow] | list[SizeRow] | None


class DatedValue(Strict):
    value: Any
    reference: str = Field(min_length=1)
    status: Status
    note: str | None = None


class Parameter(Strict):
    description: Text
    unit: Unit
    clause: str = Field(min_length=1)
    values: dict[dt.date, DatedValue] = Field(min_length=1)

    def value_on(self, day: dt.date) -> DatedValue | None:
        current = None
        for since in sorted(self.values):
            if since <= day:
                current = self.values[since]
        return current


class Source(Strict):
    document: str = Field(min_length=1)
    clause: str = Field(min_length=1)
    quote: str = Field(min_length=1)
    url: str | None = None


class Window(Strict):
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")  # inclusive; None: open-ended

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Leaf(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text
    fact: str | None = None  # None only for op: manual without a fact
    op: Op
    value: Any = None  # a literal ...
    param: str | None = None  # ... or a parameter of this measure
    unit: Unit
    clause: str = Field(min_length=1)
    quote: str = Field(min_length=1)
    remedy: Text | None = None  # shown when the enterprise can change this fact
    interpretation: str | None = None

    @model_validator(mode="after")
    def _operand(self) -> Leaf:
        if self.op is Op.manual:
            if self.value is not None or self.param is not None:
                raise ValueError("op manual takes no value or param")
            return self
        if self.fact is None:
            raise ValueError("a criterion needs a fact (only op manual may omit it)")
        if (self.value is None) == (self.param is None):
            raise ValueError("give exactly one of value or param")
        return self


class Group(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text
    all: list[Node] | None = None
    any: list[Node] | None = None
    not_: Node | None = Field(default=None, alias="not")
    clause: str | None = None
    quote: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_kind(self) -> Group:
        kinds = [k for k in ("all", "any", "not_") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a group has exactly one of all, any, not")
        children = self.children
        if self.kind != "not" and not children:
            raise ValueError("a group needs at least one criterion")
        return self

    @property
    def kind(self) -> str:
        if self.all is not None:
            return "all"
        if self.any is not None:
            return "any"
        return "not"

    @property
    def children(self) -> list[Node]:
        if self.all is not None:
            return self.all
        if self.any is not None:
            return self.any
        return [self.not_] if self.not_ is not None else []


def _node_kind(v: Any) -> str:
    if isinstance(v, dict):
        return "group" if any(k in v for k in ("all", "any", "not")) else "leaf"
    return "group" if isinstance(v, Group) else "leaf"


# a node with all/any/not is a group, anything else a criterion: errors then name one branch only
Node = Annotated[Annotated[Leaf, Tag("leaf")] | Annotated[Group, Tag("group")], Discriminator(_node_kind)]
Group.model_rebuild()


class ScorePart(Strict):
    """Points from a table on one fact; with ``max_of`` the best of several alternatives."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text
    fact: str | None = None
    table: str | None = None  # a parameter holding a list of PointsRow
    max_of: list[ScorePart] | None = None

    @model_validator(mode="after")
    def _shape(self) -> ScorePart:
        if (self.max_of is None) == (self.fact is None or self.table is None):
            raise ValueError("a score part has either fact and table, or max_of")
        return self


class Score(Strict):
    """A derived fact ``score.<id>``: the sum of its parts' points."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text
    clause: str
    parts: list[ScorePart] = Field(min_length=1)


class BenefitTier(Strict):
    """The first tier whose fact equals ``equals`` applies."""

    tier: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text
    fact: str
    equals: Any
    param: str | None = None  # the amount of this tier


class Benefit(Strict):
    kind: Literal["amount", "tier", "status", "deduction", "access", "interest_subsidy", "in_kind"]
    description: Text
    unit: Unit | None = None
    param: str | None = None  # the amount, or the rate applied to base_fact
    base_fact: str | None = None  # amount = base_fact × param
    cap_param: str | None = None  # at most this much
    tiers: list[BenefitTier] | None = None


class Measure(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: Text
    issuer: Literal["national", "shandong", "jinan"]
    status: Literal["published", "provisional"]  # published: criteria from a public text
    source: Source
    effective: Window
    subject: Literal["enterprise", "project"]
    summary: Text
    criteria: Group
    benefit: Benefit
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    scores: list[Score] = Field(default_factory=list)
    excludes: list[str] = Field(default_factory=list)  # measures that cannot be stacked with this one

    @field_validator("parameters")
    @classmethod
    def _param_names(cls, v: dict[str, Parameter]) -> dict[str, Parameter]:
        for name in v:
            if not name.replace("_", "").isalnum() or not name[0].isalpha():
                raise ValueError(f"parameter name {name!r} must be snake_case")
        return v


def walk(node: Node, parents: tuple[Group, ...] = ()):
    """Yield (node, parents) depth first, the node before its children."""
    yield node, parents
    if isinstance(node, Group):
        for child in node.children:
            yield from walk(child, (*parents, node))


def leaves(node: Node):
    for n, _ in walk(node):
        if isinstance(n, Leaf):
            yield n
