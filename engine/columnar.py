"""The columnar backend: the compiled rule pack over a table of profiles at once (Polars).

The per-profile engine (``engine/evaluate.py``) judges one profile through durable-rules; this
evaluates a whole population in column expressions and gives the same verdicts — every node's
status, the outcome, the decisive and moot flags, the missing facts in order and the benefit's tier
and amount (a hypothesis property holds them equal on thousands of profiles per run). It is the path
of every population: ``huiqi screen``, screening through the API, rule-change impact and proactive
matching.

Exact arithmetic throughout: money, scores and areas are whole numbers of 10⁻⁶ (``engine/table.py``),
a ratio is compared by cross-multiplying (``num · q  op  p · den`` for a threshold ``p/q``), so no
float reaches a comparison. Unknown is null; a value that cannot be computed although nothing is
missing (a ratio over zero) carries an ``undefined`` flag and goes to a person, as in the engine.

Each fact of the catalogue has a columnar twin here (``_Facts``): the same derivation, the same
missing paths in the same order. The engine knows no measure: everything about a measure comes from
the compiled pack.

Statuses are coded ``0`` met, ``1`` manual review, ``2`` unknown, ``3`` unmet, so that an all-of group is
the largest code of its children. A verdict's statuses are written one character a node, in the
tree's reading order: ``m`` met, ``u`` unmet, ``?`` unknown, ``!`` manual review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from . import facts as F
from .compile import CompiledLeaf, CompiledMeasure, CompiledPack
from .errors import CompileError
from .judge import decisive_nodes
from .schema import Op
from .table import MICRO
from .vocabulary import FISCAL_FIELDS

MET, MANUAL, UNKNOWN, UNMET = 0, 1, 2, 3
STATUS_OF_CODE = {MET: "met", MANUAL: "manual_review", UNKNOWN: "unknown", UNMET: "unmet"}
CHAR_OF_CODE = {MET: "m", MANUAL: "!", UNKNOWN: "?", UNMET: "u"}
STATUS_OF_CHAR = {"m": "met", "u": "unmet", "?": "unknown", "!": "manual_review"}
OUTCOME_OF_CODE = {MET: "eligible", MANUAL: "needs_review", UNKNOWN: "undetermined", UNMET: "ineligible"}
INT64_MAX = 2**63 - 1


@dataclass
class Col:
    """A fact as columns: ``value`` (null where unknown), ``undefined`` (true where it cannot be
    computed although nothing is missing), the missing paths as (condition, path) atoms in the
    engine's order, and how the value is held."""

    value: pl.Expr
    held: str  # micro | int | bool | str | date | ratio
    atoms: list[tuple[pl.Expr, Any]] = field(default_factory=list)  # (condition, path or list expr)
    undefined: pl.Expr | None = None
    ratio: tuple[Col, Col] | None = None  # (numerator, denominator) of a ratio
    bound: int = 0  # the largest magnitude the value can take (for overflow checks)
    depth: int = 0  # how many derivations lie between it and the profile's columns
    project: bool = False  # it reads a project's fields

    def missing_any(self) -> pl.Expr:
        return self.value.is_null()

    def manual(self) -> pl.Expr:
        """Unknown, nothing missing, but undefined: a person must judge it."""
        if self.undefined is None:
            return pl.lit(False)
        if not self.atoms:
            return self.value.is_null() & self.undefined
        return self.value.is_null() & self.undefined & ~pl.any_horizontal([c for c, _ in self.atoms])


_MONEY_BOUND = 10**9 * MICRO
_PEOPLE_BOUND = 10_000_000


def _lit(v: Any) -> pl.Expr:
    return pl.lit(v)


class _Facts:
    """The columnar twins of the fact catalogue (``engine/facts.py``), for one assessment date."""

    def __init__(self, as_of: dt.date, pack_params: dict[str, Any]) -> None:
        self.as_of = as_of
        self.last_year = as_of.year - 1
        self.pack_params = pack_params
        self.cache: dict[str, Col] = {}
        self.supplied: dict[str, Col] = {}  # scores and outcomes of measures
        # every fact is kept as columns of its own (``_f.`` value, ``_u.`` undefined, ``_a.`` a missing
        # path's condition), so that what reads it reads a column, not its whole derivation again:
        # name → (depth, expression, reads a project's fields); a column reads only columns of
        # smaller depth
        self.columns: dict[str, tuple[int, pl.Expr, bool]] = {}
        self._depths: list[tuple[int, bool]] = []

    def get(self, path: str) -> Col:
        hit = self.cache.get(path) or self.supplied.get(path)
        if hit is not None:
            self._note(hit)
            return hit
        self._depths.append((0, path.startswith("project.")))
        try:
            if path in F.PLAIN:
                raw = self._plain(path)
            elif path.startswith("last_year.") and path[len("last_year.") :] in FISCAL_FIELDS:
                raw = self._last_year(path[len("last_year.") :])
            elif path.startswith("project."):
                raw = self._project(path[len("project.") :])
            else:
                method = getattr(self, "_" + path.replace(".", "__"), None)
                if method is None:
                    if path.startswith(F.PACK_FACT_PREFIXES):
                        return Col(pl.lit(None), "str")  # not supplied: unknown, nothing named
                    raise CompileError(f"the columnar backend has no twin of the fact {path!r}")
                raw = method()
        finally:
            depth, project = self._depths.pop()
        col = self.keep(path, raw, depth + 1, project)
        self.cache[path] = col
        self._note(col)
        return col

    def _note(self, col: Col) -> None:
        """A fact read while another is derived: that one lies deeper, and reads a project if this does."""
        if self._depths:
            depth, project = self._depths[-1]
            self._depths[-1] = (max(depth, col.depth), project or col.project)

    def keep(self, path: str, raw: Col, depth: int, project: bool = False) -> Col:
        """``raw``'s expressions as columns of the table (materialised by ``materialise``)."""

        def column(name: str, expr: pl.Expr) -> pl.Expr:
            self.columns[name] = (depth, expr, project)
            return pl.col(name)

        return Col(
            column(f"_f.{path}", raw.value),
            raw.held,
            [
                (
                    column(f"_a.{path}.{i}", cond),
                    p if not isinstance(p, pl.Expr) else column(f"_p.{path}.{i}", p),
                )
                for i, (cond, p) in enumerate(raw.atoms)
            ],
            None if raw.undefined is None else column(f"_u.{path}", raw.undefined),
            raw.ratio,
            raw.bound,
            depth,
            project,
        )

    def materialise(self, df: pl.DataFrame, projects: bool) -> pl.DataFrame:
        """Add the fact columns ``df`` lacks, shallowest first (a project's only to a table of projects)."""
        missing = {
            name: (d, expr)
            for name, (d, expr, project) in self.columns.items()
            if name not in df.columns and (projects or not project)
        }
        for depth in sorted({d for d, _ in missing.values()}):
            df = df.with_columns([expr.alias(name) for name, (d, expr) in missing.items() if d == depth])
        return df

    # ---- plain fields

    def _plain(self, path: str) -> Col:
        kind = F.PLAIN[path]
        c = pl.col(path)
        held = {
            "bool": "bool",
            "date": "date",
            "str": "str",
            "enum": "str",
            "int": "int",
            "decimal": "micro",
        }[kind]
        bound = _MONEY_BOUND if held == "micro" else 1_000_000 if held == "int" else 0
        return Col(c, held, [(c.is_null(), path)], bound=bound)

    # ---- registration and codes

    def _registration__days(self) -> Col:
        reg = pl.col("registered_on")
        return Col(
            (pl.lit(self.as_of) - reg).dt.total_days(), "int", [(reg.is_null(), "registered_on")], bound=10**6
        )

    def _registration__years(self) -> Col:
        reg = pl.col("registered_on")
        a = self.as_of
        before = (pl.lit(a.month) < reg.dt.month()) | (
            (pl.lit(a.month) == reg.dt.month()) & (pl.lit(a.day) < reg.dt.day())
        )
        years = pl.lit(a.year) - reg.dt.year().cast(pl.Int64) - before.cast(pl.Int64)
        return Col(years, "int", [(reg.is_null(), "registered_on")], bound=10**4)

    def _region__city_code(self) -> Col:
        rc = pl.col("region_code")
        return Col(rc.str.slice(0, 4), "str", [(rc.is_null(), "region_code")])

    def _industry__section(self) -> Col:
        code = pl.col("industry_code")
        return Col(code.str.slice(0, 1), "str", [(code.is_null(), "industry_code")])

    def _industry__division(self) -> Col:
        code = pl.col("industry_code")
        short = code.str.len_chars() < 3
        value = pl.when(short).then(None).otherwise(code.str.slice(0, 3))
        # a code of the section alone: industry_code is named missing (and the value undefined)
        return Col(
            value, "str", [(code.is_null() | short, "industry_code")], undefined=short.fill_null(False)
        )

    # ---- certificates and honours

    def _hte__held(self) -> Col:
        return Col(pl.col("certifications.hte"), "bool")

    def _hte__valid_on_as_of(self) -> Col:
        held = pl.col("certifications.hte")
        issued = pl.col("certifications.hte.issued_on")
        until = _years_later(issued, 3)
        valid = (issued <= pl.lit(self.as_of)) & (pl.lit(self.as_of) < until)
        return Col(pl.when(held).then(valid).otherwise(False), "bool")

    def _hte__issued_within_1y(self) -> Col:
        held = pl.col("certifications.hte")
        issued = pl.col("certifications.hte.issued_on")
        since = F.years_back(self.as_of, 1)
        recent = (issued >= pl.lit(since)) & (issued <= pl.lit(self.as_of))
        return Col(pl.when(held).then(recent).otherwise(False), "bool")

    def _hte__first_time(self) -> Col:
        held = pl.col("certifications.hte")
        first = pl.col("certifications.hte.first_time")
        value = pl.when(held).then(first)
        return Col(
            value,
            "bool",
            [(~held, "certifications.hte"), (held & first.is_null(), "certifications.hte.first_time")],
        )

    def _tsme__registered_for_recent_year(self) -> Col:
        reg = pl.col("certifications.tsme")
        year = pl.col("certifications.tsme.year")
        recent = year.is_in([self.last_year, self.last_year + 1])
        return Col(pl.when(reg).then(recent).otherwise(False), "bool")

    def _within_5y(self, path: str) -> Col:
        day = pl.col(path)
        since = F.years_back(self.as_of, 5)
        inside = (day >= pl.lit(since)) & (day <= pl.lit(self.as_of))
        return Col(pl.when(day.is_null()).then(False).otherwise(inside), "bool")

    def _honors__national_sci_award_within_5y(self) -> Col:
        return self._within_5y("honors.national_sci_award_top3_on")

    def _honors__led_standard_within_5y(self) -> Col:
        return self._within_5y("honors.led_standard_on")

    # ---- fiscal years

    def year_col(self, year: int, name: str) -> pl.Expr:
        return pl.col(f"fy{year}.{name}")

    def year_present(self, year: int) -> pl.Expr:
        return pl.col(f"fy{year}")

    def _last_year(self, name: str) -> Col:
        y = self.last_year
        present = self.year_present(y)
        value = self.year_col(y, name)
        kind = FISCAL_FIELDS[name][0]
        return Col(
            value,
            "micro" if kind == "decimal" else "int",
            [(~present, F.fiscal_path(y)), (present & value.is_null(), F.fiscal_path(y, name))],
            bound=_MONEY_BOUND if kind == "decimal" else _PEOPLE_BOUND,
        )

    def _ratio(self, num: str, den: str) -> Col:
        n, d = self.get(num), self.get(den)
        known = n.value.is_not_null() & d.value.is_not_null()
        zero = known & (d.value == 0)
        value = pl.when(known & ~zero).then(
            pl.lit(True)
        )  # a marker: the ratio itself is compared by cross-multiplying
        return Col(value, "ratio", n.atoms + d.atoms, undefined=zero, ratio=(n, d))

    def _last_year__tech_staff_ratio(self) -> Col:
        return self._ratio("last_year.tech_staff", "last_year.employees")

    def _last_year__high_tech_revenue_ratio(self) -> Col:
        return self._ratio("last_year.high_tech_revenue", "last_year.total_revenue")

    def _last_year__rd_to_sales_ratio(self) -> Col:
        return self._ratio("last_year.rd_expense", "last_year.sales_revenue")

    def _last_year__rd_to_cost_ratio(self) -> Col:
        return self._ratio("last_year.rd_expense", "last_year.cost_and_expense")

    def _recent(self, name: str) -> Col:
        """The sum over the last three fiscal years, or fewer where the enterprise was registered
        later (engine/facts.py ``recent_years``)."""
        y = self.last_year
        years = [y - 2, y - 1, y]
        reg = pl.col("registered_on")
        reg_year = reg.dt.year().cast(pl.Int64)
        all_present = pl.all_horizontal([self.year_present(x) for x in years])
        no_reg_unknown = reg.is_null() & ~all_present  # which years are due cannot be told
        counted = {x: (reg.is_null() & all_present) | (reg.is_not_null() & (reg_year <= x)) for x in years}
        none_counted = reg.is_not_null() & (reg_year > y)
        atoms: list[tuple[pl.Expr, Any]] = [
            (no_reg_unknown, "registered_on"),
            (none_counted, F.fiscal_path(y)),
        ]
        counted_ok = ~(no_reg_unknown | none_counted)  # the years are known: each missing one is named
        problems = no_reg_unknown | none_counted
        total = pl.lit(0, dtype=pl.Int64)
        for x in years:
            present = self.year_present(x)
            v = self.year_col(x, name)
            gone = counted[x] & ~present
            null = counted[x] & present & v.is_null()
            atoms += [(counted_ok & gone, F.fiscal_path(x)), (counted_ok & null, F.fiscal_path(x, name))]
            problems = problems | gone | null
            total = total + pl.when(counted[x]).then(v).otherwise(0)
        kind = FISCAL_FIELDS[name][0]
        return Col(
            pl.when(problems).then(None).otherwise(total),
            "micro" if kind == "decimal" else "int",
            atoms,
            undefined=none_counted,
            bound=3 * _MONEY_BOUND,
        )

    def _last3__sales_revenue(self) -> Col:
        return self._recent("sales_revenue")

    def _last3__rd_expense(self) -> Col:
        return self._recent("rd_expense")

    def _last3__rd_expense_domestic(self) -> Col:
        return self._recent("rd_expense_domestic")

    def _last3__years(self) -> Col:
        y = self.last_year
        years = [y - 2, y - 1, y]
        reg = pl.col("registered_on")
        all_present = pl.all_horizontal([self.year_present(x) for x in years])
        reg_year = reg.dt.year().cast(pl.Int64)
        count = pl.sum_horizontal([(reg_year <= x).cast(pl.Int64) for x in years])
        value = pl.when(reg.is_null()).then(pl.when(all_present).then(3)).otherwise(count)
        return Col(value, "int", [(reg.is_null() & ~all_present, "registered_on")], bound=3)

    def _last3__rd_expense_ratio(self) -> Col:
        return self._ratio("last3.rd_expense", "last3.sales_revenue")

    def _last3__domestic_rd_ratio(self) -> Col:
        return self._ratio("last3.rd_expense_domestic", "last3.rd_expense")

    # ---- size class (国统字〔2017〕213号)

    def _enterprise__size_class(self) -> Col:
        table = self.pack_params.get("sme_size_classes")
        code = pl.col("industry_code")
        # the table's bands by industry code, worked out once per distinct code (engine/facts.py size_row)
        bounds = pl.col("_size_bounds")
        self.size_table = table
        values = {k: self.get(path) for k, path in F.SIZE_INDICATORS.items()}
        coarse = bounds.struct.field("coarse")
        atoms: list[tuple[pl.Expr, Any]] = [(code.is_null() | coarse.fill_null(False), "industry_code")]
        result = pl.lit(None, dtype=pl.Utf8)
        decided = code.is_null() | coarse.fill_null(False)
        for cls in ("large", "medium", "small"):
            needed = {k: bounds.struct.field(f"{cls}_{k}") for k in ("employees", "revenue", "assets")}
            missing_here = pl.any_horizontal(
                [needed[k].is_not_null() & values[k].value.is_null() for k in needed]
            )
            # the missing indicators of the first band that needs one, in the band's order
            for k in ("employees", "revenue", "assets"):
                for c, p in values[k].atoms:
                    atoms.append((~decided & missing_here & needed[k].is_not_null() & c, p))
            met = pl.all_horizontal(
                [
                    needed[k].is_null() | (values[k].value >= needed[k])
                    for k in ("employees", "revenue", "assets")
                ]
            )
            result = (
                pl.when(decided)
                .then(result)
                .when(missing_here)
                .then(None)
                .when(met)
                .then(pl.lit(cls))
                .otherwise(result)
            )
            decided = decided | missing_here | met
        result = pl.when(decided).then(result).otherwise(pl.lit("micro"))
        return Col(result, "str", atoms, undefined=coarse.fill_null(False))

    # ---- projects

    def _project(self, name: str) -> Col:
        c = pl.col(f"project.{name}")
        held = PROJECT_HELD[name]
        path = pl.format("projects[{}].{}", pl.col("project.id"), pl.lit(name))
        return Col(c, held, [(c.is_null(), path)], bound=_MONEY_BOUND if held == "micro" else 0)


PROJECT_HELD = {
    "category": "str",
    "level": "str",
    "provincial_major_implementation": "bool",
    "municipal_key": "bool",
    "new_land_required": "bool",
    "land_area_mu": "micro",
}


def _years_later(day: pl.Expr, years: int) -> pl.Expr:
    """``day`` plus whole years, 29 February becoming 28 February (engine/facts.py ``years_back``)."""
    y = day.dt.year() + years
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    d = pl.when((day.dt.month() == 2) & (day.dt.day() == 29) & ~leap).then(28).otherwise(day.dt.day())
    return pl.date(y, day.dt.month(), d)


# ------------------------------------------------------------------ thresholds, exactly


def _scaled(value: Any, held: str, where: str) -> int:
    """A threshold in the units the fact is held in, exactly."""
    d = Decimal(str(value))
    if held == "micro":
        scaled = d.scaleb(6)
    elif held == "int":
        scaled = d
    else:
        raise CompileError(f"{where}: {held} values have no scale")
    if scaled != scaled.to_integral_value():
        raise CompileError(f"{where}: threshold {value} cannot be compared exactly in whole units")
    return int(scaled)


def _compare(op: Op, left: pl.Expr, right: pl.Expr) -> pl.Expr:
    return {
        Op.eq: lambda: left == right,
        Op.ne: lambda: left != right,
        Op.gt: lambda: left > right,
        Op.gte: lambda: left >= right,
        Op.lt: lambda: left < right,
        Op.lte: lambda: left <= right,
    }[op]()


def _holds(col: Col, op: Op, expected: Any, where: str) -> pl.Expr:
    """Whether a known value meets ``op expected`` (null where the value is unknown)."""
    if op in (Op.in_, Op.not_in):
        values = [_typed(col, v, where) for v in expected]
        inside = col.value.is_in(values)
        return inside if op is Op.in_ else ~inside
    if col.held == "ratio":
        n, d = col.ratio  # type: ignore[misc]
        frac = Fraction(Decimal(str(expected)))
        if n.bound * frac.denominator > INT64_MAX or d.bound * frac.numerator > INT64_MAX:
            raise CompileError(f"{where}: a ratio against {expected} could overflow 64 bits")
        # num/den  op  p/q  ⇔  num·q  op  p·den   (den > 0: money and head counts are not negative)
        return _compare(op, n.value * frac.denominator, d.value * frac.numerator)
    return _compare(op, col.value, pl.lit(_typed(col, expected, where)))


def _typed(col: Col, value: Any, where: str) -> Any:
    if col.held in ("micro", "int"):
        return _scaled(value, col.held, where)
    if col.held == "date" and not isinstance(value, dt.date):
        return dt.date.fromisoformat(str(value))
    return value


# ------------------------------------------------------------------ the evaluator


class ColumnarEvaluator:
    """The compiled pack, as in force on one day, over tables of profiles."""

    def __init__(self, cp: CompiledPack, as_of: dt.date, measures: Iterable[str] | None = None) -> None:
        self.cp = cp
        self.as_of = as_of
        wanted = set(measures) if measures else set(cp.measures)
        self.reported = wanted
        # the measures asked for and those they depend on
        frontier = list(wanted)
        while frontier:
            for dep in cp.measures[frontier.pop()].depends_on:
                if dep not in wanted:
                    wanted.add(dep)
                    frontier.append(dep)
        self.wanted = wanted
        self._flags: dict[tuple, tuple[frozenset[str], frozenset[str]]] = {}

    # ---- preparing the table

    def prepare(self, table: pl.DataFrame) -> pl.DataFrame:
        """The columns the facts read: the last three fiscal years as columns of their own
        (``fy<year>`` says the year is there, ``fy<year>.<field>`` its figures), and the size table's
        bands for each row's industry code."""
        y = self.as_of.year - 1
        years = table.select("row", "fiscal_years").explode("fiscal_years").unnest("fiscal_years")
        years = years.filter(pl.col("year").is_in([y - 2, y - 1, y]))
        out = table
        for year in (y - 2, y - 1, y):
            one = years.filter(pl.col("year") == year).select(
                "row",
                pl.lit(True).alias(f"fy{year}"),
                *[pl.col(name).alias(f"fy{year}.{name}") for name in FISCAL_FIELDS],
            )
            out = out.join(one, on="row", how="left", maintain_order="left")
        out = out.with_columns([pl.col(f"fy{year}").fill_null(False) for year in (y - 2, y - 1, y)])
        return out.with_columns(self._size_bounds(out["industry_code"]).alias("_size_bounds"))

    def _size_bounds(self, codes: pl.Series) -> pl.Series:
        table = self.cp.pack_params.get("sme_size_classes")
        by_code: dict[str | None, dict[str, Any]] = {}
        for code in codes.unique().to_list():
            if code is None:
                by_code[code] = {"coarse": None}
                continue
            row, bands = F.size_row(table, code)
            entry: dict[str, Any] = {"coarse": row is None}
            for cls, needed in bands:
                for k in ("employees", "revenue", "assets"):
                    v = needed.get(k)
                    entry[f"{cls}_{k}"] = (
                        None
                        if v is None
                        else (_scaled(v, "micro", "size table") if k != "employees" else int(v))
                    )
            by_code[code] = entry
        fields = ["coarse"] + [
            f"{c}_{k}" for c in ("large", "medium", "small") for k in ("employees", "revenue", "assets")
        ]
        dtype = pl.Struct([pl.Field("coarse", pl.Boolean)] + [pl.Field(f, pl.Int64) for f in fields[1:]])
        return pl.Series([{f: by_code[c].get(f) for f in fields} for c in codes.to_list()], dtype=dtype)

    # ---- evaluating

    def evaluate(self, table: pl.DataFrame) -> pl.DataFrame:
        """The verdict table: one row per profile row, measure and subject (in the engine's order),
        with ``outcome``, ``statuses`` (a character a node), ``missing_facts`` (undetermined only),
        ``reason`` (not applicable), ``benefit_tier``, ``benefit_amount`` (a decimal string),
        ``subject_id`` and ``subject_name``."""
        df = self.prepare(table)
        facts = _Facts(self.as_of, self.cp.pack_params)
        frames: list[pl.DataFrame] = []
        for stage in self.cp.stages:
            for subject in ("enterprise", "project"):
                ids = [
                    m for m in stage if m in self.wanted and self.cp.measures[m].measure.subject == subject
                ]
                if ids:
                    df = self._stage(df, facts, ids, subject, frames)
        frames = [f for f in frames if f.height and f["measure_id"][0] in self.reported]
        out = pl.concat(frames, how="vertical") if frames else _empty()
        # the engine's order: by profile, then the measures' rank, then the projects' order
        order = pl.col("row") * (1 << 24) + pl.col("_rank") * (1 << 12) + pl.col("subject_index") + 1
        return out.sort(order).drop(["_rank", "subject_index"])

    def _stage(
        self, df: pl.DataFrame, facts: _Facts, ids: list[str], subject: str, frames: list[pl.DataFrame]
    ) -> pl.DataFrame:
        """The measures of one stage and subject kind; returns the enterprise table with their
        statuses (the next stage's measures read their outcomes)."""
        in_force = []
        for mid in ids:
            cm = self.cp.measures[mid]
            if cm.in_force(self.as_of):
                in_force.append(cm)
                continue
            reason = "no_parameter" if cm.measure.effective.contains(self.as_of) else "window"
            frames.append(self._not_applicable(df, cm, reason))
            if subject == "enterprise":
                facts.supplied[cm.outcome_path] = Col(pl.lit("not_applicable"), "str")
        if not in_force:
            return df
        if subject == "project":
            # a project measure is judged once per project; an enterprise with none gets not applicable
            none = df.filter(pl.col("projects").list.len().fill_null(0) == 0)
            for cm in in_force:
                frames.append(self._not_applicable(none, cm, "no_subject"))
            rows = self._project_rows(df)
            if rows.height:
                rows = self._judge(rows, facts, in_force, projects=True)
                frames += [self._verdicts(rows, cm, facts, project=True) for cm in in_force]
            return df
        df = self._judge(df, facts, in_force, projects=False)
        for cm in in_force:
            verdicts = self._verdicts(df, cm, facts, project=False)
            frames.append(verdicts)
            df = df.with_columns(verdicts["missing_facts"].alias(f"_missing.{cm.id}"))
        for cm in in_force:
            facts.supplied[cm.outcome_path] = self._outcome_col(cm)
        return df

    def _judge(
        self, df: pl.DataFrame, facts: _Facts, measures: list[CompiledMeasure], projects: bool
    ) -> pl.DataFrame:
        """Scores, then every criterion's status, then every group's."""
        for cm in measures:
            for plan in cm.score_plans:
                self._score(facts, cm, plan)
        statuses = [e for cm in measures for e in self._status_exprs(cm, facts)]
        for cm in measures:  # the benefit's facts too
            self._benefit(cm, facts)
        df = facts.materialise(df, projects).with_columns(statuses)
        return df.with_columns([e for cm in measures for e in self._group_exprs(cm)])

    def _project_rows(self, df: pl.DataFrame) -> pl.DataFrame:
        """One row per project, beside its enterprise's columns (the facts a project measure reads
        of its enterprise come from them)."""
        rows = df.select(["row", "projects"]).with_columns(
            pl.col("projects").list.len().fill_null(0).alias("_n")
        )
        exploded = (
            rows.filter(pl.col("_n") > 0)
            .with_columns(pl.int_ranges(0, pl.col("_n")).alias("subject_index"))
            .explode(["projects", "subject_index"])
            .unnest("projects")
            .drop("_n")
        )
        renamed = exploded.rename({name: f"project.{name}" for name in ("id", "name", *PROJECT_HELD)})
        return renamed.join(df.drop("projects"), on="row", how="left", maintain_order="left")

    # ---- criteria

    def _leaf_code(self, cl: CompiledLeaf, facts: _Facts) -> pl.Expr:
        if cl.manual:
            return pl.lit(MANUAL, dtype=pl.UInt8)
        where = f"{cl.measure_id}/{cl.node.id}"
        col = facts.get(cl.spec.path)
        unknown = col.missing_any()
        manual = col.manual()
        if cl.tiers is not None:
            by = facts.get(cl.by.path)
            unknown = unknown | by.missing_any()
            manual = manual | by.manual()
            fails = pl.lit(False)
            for lower, upper, value in cl.tiers:
                band = pl.lit(True)
                if lower is not None:
                    band = band & (by.value > _typed(by, lower, where))
                if upper is not None:
                    band = band & (by.value <= _typed(by, upper, where))
                fails = pl.when(band).then(~_holds(col, cl.node.op, value, where)).otherwise(fails)
        else:
            fails = ~_holds(col, cl.node.op, cl.expected, where)
        return (
            pl.when(unknown)
            .then(pl.when(manual).then(MANUAL).otherwise(UNKNOWN))
            .when(fails)
            .then(UNMET)
            .otherwise(MET)
            .cast(pl.UInt8)
        )

    def _status_exprs(self, cm: CompiledMeasure, facts: _Facts) -> list[pl.Expr]:
        return [self._leaf_code(cl, facts).alias(f"_s.{cm.id}.{cl.node.id}") for cl in cm.leaves]

    def _group_exprs(self, cm: CompiledMeasure) -> list[pl.Expr]:
        out = []
        done: dict[str, pl.Expr] = {}

        def col(node_id: str) -> pl.Expr:
            return done.get(node_id, pl.col(f"_s.{cm.id}.{node_id}"))

        for node_id, kind, children in cm.plan:
            codes = [col(c) for c in children]
            if kind == "all":
                e = pl.max_horizontal(codes)
            elif kind == "any":
                e = (
                    pl.when(pl.any_horizontal([c == MET for c in codes]))
                    .then(MET)
                    .when(pl.any_horizontal([c == UNKNOWN for c in codes]))
                    .then(UNKNOWN)
                    .when(pl.any_horizontal([c == MANUAL for c in codes]))
                    .then(MANUAL)
                    .otherwise(UNMET)
                )
            else:  # not: met and unmet swap; unknown and manual review stay
                c = codes[0]
                e = pl.when(c == MET).then(UNMET).when(c == UNMET).then(MET).otherwise(c)
            done[node_id] = e.cast(pl.UInt8)
            out.append(done[node_id].alias(f"_s.{cm.id}.{node_id}"))
        return out

    # ---- scores

    def _score(self, facts: _Facts, cm: CompiledMeasure, plan: Any) -> None:
        """``score.<id>`` and its parts as facts (engine/scores.py ``compute``)."""
        parts: list[tuple[Col, int]] = []
        for ppath, alternatives, top in plan.parts:
            best: pl.Expr = pl.lit(None, dtype=pl.Int64)
            miss_any = pl.lit(False)
            atoms: list[tuple[pl.Expr, Any]] = []
            depth = 0
            for fact, rows in alternatives:
                col = facts.get(fact)
                depth = max(depth, col.depth)
                where = f"{cm.id}/{ppath}"
                points = pl.lit(0, dtype=pl.Int64)
                for at_least, pts in reversed(rows):  # the first row met from the top wins
                    points = (
                        pl.when(_holds(col, Op.gte, at_least, where))
                        .then(_scaled(pts, "micro", where))
                        .otherwise(points)
                    )
                undefined = col.manual()  # cannot be computed although nothing is missing: 0 points
                unknown = col.missing_any() & ~undefined
                pts_here = pl.when(undefined).then(0).when(unknown).then(None).otherwise(points)
                best = pl.when(best.is_null()).then(pts_here).otherwise(pl.max_horizontal(best, pts_here))
                miss_any = miss_any | unknown
                atoms += [(unknown & c, p) for c, p in col.atoms]
            top_micro = _scaled(top, "micro", ppath)
            # an unknown alternative could score more, unless the best known one has the most points
            part_unknown = miss_any & (best.is_null() | (best < top_micro))
            raw = Col(
                pl.when(part_unknown).then(None).otherwise(best),
                "micro",
                [(part_unknown & c, p) for c, p in atoms],
            )
            part = facts.keep(ppath, raw, depth + 1, any(facts.get(f).project for f, _ in alternatives))
            part.bound = 10**12
            facts.supplied[ppath] = part
            parts.append((part, top_micro))
        total = pl.sum_horizontal([p.value.fill_null(0) for p, _ in parts])
        headroom = pl.sum_horizontal([pl.when(p.value.is_null()).then(top).otherwise(0) for p, top in parts])
        any_unknown = pl.any_horizontal([p.value.is_null() for p, _ in parts])
        # known all the same where every criterion on the score decides alike at both ends
        alike = self._decided_alike(cm, plan.path, total, total + headroom)
        unknown = any_unknown & ~alike
        raw = Col(
            pl.when(unknown).then(None).otherwise(total),
            "micro",
            [(unknown & c, p) for part, _ in parts for c, p in part.atoms],
        )
        score = facts.keep(
            plan.path, raw, max(p.depth for p, _ in parts) + 1, any(p.project for p, _ in parts)
        )
        score.bound = 10**12
        facts.supplied[plan.path] = score

    def _decided_alike(self, cm: CompiledMeasure, path: str, low: pl.Expr, high: pl.Expr) -> pl.Expr:
        users = [cl for cl in cm.leaves if cl.spec is not None and cl.spec.path == path and cl.tiers is None]
        if not users:
            return pl.lit(False)
        alike = pl.lit(True)
        for cl in users:
            lo = Col(low, "micro", bound=10**12)
            hi = Col(high, "micro", bound=10**12)
            where = f"{cm.id}/{cl.node.id}"
            alike = alike & (
                _holds(lo, cl.node.op, cl.expected, where) == _holds(hi, cl.node.op, cl.expected, where)
            )
        return alike

    # ---- outcomes as facts of the next stage

    def _outcome_col(self, cm: CompiledMeasure) -> Col:
        """A measure's outcome for the measures that depend on it (engine/judge.py ``outcome_fact``):
        undetermined passes its missing facts on, needs review passes the judgment on."""
        mid = cm.id
        top = pl.col(f"_s.{mid}.{cm.measure.criteria.id}")
        outcome = (
            pl.when(top == MET)
            .then(pl.lit("eligible"))
            .when(top == UNMET)
            .then(pl.lit("ineligible"))
            .otherwise(None)
        )
        # an undetermined dependency's missing facts, or the outcome's own path when it names none
        missing = pl.col(f"_missing.{mid}")
        atoms: list[tuple[pl.Expr, Any]] = [
            (
                top == UNKNOWN,
                ("list", pl.when(missing.list.len() > 0).then(missing).otherwise(pl.lit([cm.outcome_path]))),
            )
        ]
        return Col(outcome, "str", atoms, undefined=top == MANUAL)

    # ---- verdicts

    def _statuses(self, cm: CompiledMeasure) -> pl.Expr:
        chars = [
            pl.col(f"_s.{cm.id}.{row.node.id}").replace_strict(CHAR_OF_CODE, return_dtype=pl.Utf8)
            for row in cm.tree
        ]
        return pl.concat_str(chars)

    def _missing(self, cm: CompiledMeasure, facts: _Facts) -> pl.Expr:
        """The missing facts of an undetermined result: under unknown nodes all the way from the
        top, in reading order, each named once (engine/judge.py ``decisive_missing``)."""
        parts: list[pl.Expr] = []
        ancestors: dict[str, list[str]] = {}
        for row in cm.tree:
            chain = ancestors.get(row.parent, []) + ([row.parent] if row.parent else [])
            ancestors[row.node.id] = chain
            if row.leaf is None:
                continue
            on_path = pl.all_horizontal([pl.col(f"_s.{cm.id}.{n}") == UNKNOWN for n in [*chain, row.node.id]])
            for spec in (row.leaf.spec, row.leaf.by):
                if spec is None:
                    continue
                for cond, path in facts.get(spec.path).atoms:
                    if isinstance(path, tuple):  # a list of paths (an undetermined dependency)
                        parts.append(
                            pl.when(on_path & cond)
                            .then(path[1])
                            .otherwise(pl.lit([], dtype=pl.List(pl.Utf8)))
                        )
                    else:  # one path: null where it is not missing, dropped below
                        parts.append(
                            pl.when(on_path & cond).then(path if isinstance(path, pl.Expr) else pl.lit(path))
                        )
        if not parts:
            return pl.lit([], dtype=pl.List(pl.Utf8))
        return pl.concat_list(parts).list.drop_nulls().list.unique(maintain_order=True)

    def _verdicts(self, df: pl.DataFrame, cm: CompiledMeasure, facts: _Facts, project: bool) -> pl.DataFrame:
        top = pl.col(f"_s.{cm.id}.{cm.measure.criteria.id}")
        tier, amount = self._benefit(cm, facts)
        granted = (top == MET) | (top == MANUAL)
        out = df.select(
            pl.col("row"),
            pl.lit(cm.id).alias("measure_id"),
            pl.lit(cm.rank).alias("_rank"),
            (pl.col("subject_index") if project else pl.lit(-1)).cast(pl.Int64).alias("subject_index"),
            (pl.col("project.id") if project else pl.lit(None, dtype=pl.Utf8)).alias("subject_id"),
            (pl.col("project.name") if project else pl.lit(None, dtype=pl.Utf8)).alias("subject_name"),
            top.replace_strict(OUTCOME_OF_CODE, return_dtype=pl.Utf8).alias("outcome"),
            self._statuses(cm).alias("statuses"),
            pl.lit(None, dtype=pl.Utf8).alias("reason"),
            pl.when(granted).then(tier).alias("benefit_tier"),
            pl.when(granted).then(amount).alias("benefit_amount"),
        )
        # missing facts are worked out for the undetermined results only, on the columns they read
        expr = self._missing(cm, facts)
        keys = ["row", "subject_index"] if project else ["row"]
        top_name = f"_s.{cm.id}.{cm.measure.criteria.id}"
        narrow = df.select(
            *keys, top_name, *{c for c in expr.meta.root_names() if c not in keys and c != top_name}
        )
        missing = narrow.filter(top == UNKNOWN).select(
            pl.col("row"),
            (pl.col("subject_index") if project else pl.lit(-1)).cast(pl.Int64).alias("subject_index"),
            expr.alias("missing_facts"),
        )
        return (
            out.join(missing, on=["row", "subject_index"], how="left", maintain_order="left")
            .with_columns(pl.col("missing_facts").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))))
            .select(_COLUMNS)
        )

    def _not_applicable(self, df: pl.DataFrame, cm: CompiledMeasure, reason: str) -> pl.DataFrame:
        """One not-applicable result per profile (a project measure: one, whatever its projects)."""
        return df.select("row").with_columns(
            pl.lit(cm.id).alias("measure_id"),
            pl.lit(cm.rank).alias("_rank"),
            pl.lit(-1, dtype=pl.Int64).alias("subject_index"),
            pl.lit(None, dtype=pl.Utf8).alias("subject_id"),
            pl.lit(None, dtype=pl.Utf8).alias("subject_name"),
            pl.lit("not_applicable").alias("outcome"),
            pl.lit("").alias("statuses"),
            pl.lit([], dtype=pl.List(pl.Utf8)).alias("missing_facts"),
            pl.lit(reason).alias("reason"),
            pl.lit(None, dtype=pl.Utf8).alias("benefit_tier"),
            pl.lit(None, dtype=pl.Utf8).alias("benefit_amount"),
        )

    # ---- benefit

    def _benefit(self, cm: CompiledMeasure, facts: _Facts) -> tuple[pl.Expr, pl.Expr]:
        """The tier and the amount of a granted result (engine/explain.py ``benefit_figures``)."""
        b = cm.measure.benefit
        tier: pl.Expr = pl.lit(None, dtype=pl.Utf8)
        amount: pl.Expr = pl.lit(None, dtype=pl.Utf8)
        if b.tiers:
            for t in reversed(b.tiers):
                col = facts.get(t.fact)
                hit = col.value == pl.lit(t.equals)
                value = cm.params.get(t.param) if t.param else None
                tier = pl.when(col.value.is_null()).then(None).when(hit).then(pl.lit(t.tier)).otherwise(tier)
                amount = (
                    pl.when(col.value.is_null())
                    .then(None)
                    .when(hit)
                    .then(pl.lit(None if value is None else format(value, "f")))
                    .otherwise(amount)
                )
            return tier, amount
        if b.param:
            value = cm.params.get(b.param)
            cap = cm.params.get(b.cap_param) if b.cap_param else None
            if b.base_fact:
                base = facts.get(b.base_fact)
                if value is None or base.held != "micro":
                    return tier, amount
                # base × rate, exactly (decimal arithmetic), at most the cap
                product = (
                    base.value.cast(pl.Decimal(38, 6))
                    / MICRO
                    * pl.lit(Decimal(value), dtype=pl.Decimal(38, 12))
                )
                if cap is not None:
                    product = pl.min_horizontal(product, pl.lit(Decimal(cap), dtype=pl.Decimal(38, 12)))
                # written as a person writes it: 400.56, not the product's twelve places
                # (the product always has a point: zeros after it go, and the point if nothing is left)
                return tier, product.cast(pl.Utf8).str.replace(r"\.?0+$", "")
            if b.kind not in ("interest_subsidy", "status") and value is not None:
                amount = pl.lit(format(min(Decimal(value), Decimal(cap)) if cap is not None else value, "f"))
        return tier, amount


# ------------------------------------------------------------------ flags


def flags_of(cm: CompiledMeasure, statuses: str, memo: dict) -> tuple[frozenset[str], frozenset[str]]:
    """The decisive and moot nodes of a verdict's statuses (the engine's walk, kept per combination)."""
    key = (cm, statuses)
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = decisive_nodes(cm, tuple(STATUS_OF_CHAR[c] for c in statuses))
    return hit


_SCHEMA = {
    "row": pl.Int64,
    "measure_id": pl.Utf8,
    "_rank": pl.Int64,
    "subject_index": pl.Int64,
    "subject_id": pl.Utf8,
    "subject_name": pl.Utf8,
    "outcome": pl.Utf8,
    "statuses": pl.Utf8,
    "missing_facts": pl.List(pl.Utf8),
    "reason": pl.Utf8,
    "benefit_tier": pl.Utf8,
    "benefit_amount": pl.Utf8,
}
_COLUMNS = list(_SCHEMA)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)
