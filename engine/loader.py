"""Load the rule pack from ``rules/`` and lint it.

``load_pack`` refuses whatever ``lint`` refuses: a rule file that does not validate, names an
unknown fact or operator, mixes units, cites nothing, leaves a value undated or unreferenced,
depends on itself, or would break one of durable-rules' limits. Each problem carries the file and
the line of the offending key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from . import facts as F
from .errors import HuiqiError
from .schema import (
    COMPARISON_OPS,
    Group,
    Leaf,
    Measure,
    Op,
    Parameter,
    PointsRow,
    ScorePart,
    SizeRow,
    Status,
    Tiered,
    Unit,
    walk,
)

DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

class LintError(HuiqiError):
    """The rule pack is refused: every problem with its file and line."""

    code = "invalid-rule-pack"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems), location=str(problems[0]) if problems else None)


# a backend's check of a pack: (fact specs, measures) → (measure id or None, location, reason)
Check = Callable[[dict[str, F.FactSpec], dict[str, Measure]], list[tuple[str | None, tuple, str]]]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


# ------------------------------------------------------------------ YAML with line numbers


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = {}
    lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    mapping["__lines__"] = lines
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v) for k, v in data.items() if k not in ("__lines__", "__line__")}
    if isinstance(data, list):
        return [_strip(v) for v in data]
    return data


def _line_of(data: Any, loc: tuple) -> int:
    """The line of the deepest key of ``loc`` found in the raw mapping."""
    line = data.get("__line__", 1) if isinstance(data, dict) else 1
    node = data
    for part in loc:
        if isinstance(node, dict):
            if part not in node.get("__lines__", {}):
                # pydantic writes a non-string key (a YAML date) as its repr
                part = next((k for k in node.get("__lines__", {}) if part in (repr(k), str(k))), part)
            if part in node.get("__lines__", {}):
                line = node["__lines__"][part]
                node = node[part]
                continue
            continue  # pydantic names a union branch or validator: skip it
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if isinstance(node, dict):
                line = node.get("__line__", line)
            continue
    return line


# ------------------------------------------------------------------ the pack


@dataclass
class Pack:
    measures: dict[str, Measure]
    pack_params: dict[str, Parameter]
    files: dict[str, str]  # measure id -> file
    version: str
    lines: dict[str, dict] = field(default_factory=dict)  # raw data with lines, per file

    def params_on(self, day: dt.date) -> dict[str, Any]:
        return {name: typed_value(p, p.value_on(day)) for name, p in self.pack_params.items()}

    def provisional(self) -> list[dict[str, Any]]:
        """Every provisional dated value, measure by measure, then the pack's own parameters."""
        rows = []
        owners = [(mid, m.parameters) for mid, m in sorted(self.measures.items())] + [
            (None, self.pack_params)
        ]
        for mid, parameters in owners:
            for name, p in sorted(parameters.items()) if mid is None else parameters.items():
                for since, v in sorted(p.values.items()):
                    if v.status is Status.provisional:
                        rows.append(
                            {
                                "measure_id": mid,
                                "parameter": name,
                                "since": since.isoformat(),
                                "value": jsonable(typed_value(p, v)),
                                "unit": p.unit.value,
                                "clause": p.clause,
                                "description_zh": p.description.zh,
                                "description_en": p.description.en,
                                "reference": v.reference,
                            }
                        )
        return rows


def jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.date):
        return v.isoformat()
    if hasattr(v, "model_dump"):
        return v.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    return v


_TIERED = TypeAdapter(Tiered)
_POINTS = TypeAdapter(list[PointsRow])
_SIZES = TypeAdapter(list[SizeRow])


def typed_value(param: Parameter, dated: Any) -> Any:
    """A parameter's value in the type its use needs (Decimal, tiers, points or size tables)."""
    if dated is None:
        return None
    v = dated.value
    if v is None:
        return None  # a repealed value
    if isinstance(v, dict) and "tiers" in v:
        return _TIERED.validate_python(v)
    if isinstance(v, list) and v and isinstance(v[0], dict) and "points" in v[0]:
        return _POINTS.validate_python(v)
    if isinstance(v, list) and v and isinstance(v[0], dict) and "large" in v[0]:
        return _SIZES.validate_python(v)
    if param.unit in (Unit.bool,):
        return v
    if param.unit in (Unit.enum, Unit.text):
        return v
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float | str):
        return Decimal(str(v))
    return v


UNIT_OF_KIND = {"bool": {Unit.bool}, "date": {Unit.date}, "enum": {Unit.enum}, "str": {Unit.text}}


def pack_fact_specs(measures: dict[str, Measure]) -> dict[str, F.FactSpec]:
    """Facts the pack itself defines: scores and the outcomes of measures."""
    specs: dict[str, F.FactSpec] = {}
    for m in measures.values():
        for s in m.scores:
            path = F.score_fact_path(s.id)
            specs[path] = F.FactSpec(path, "decimal", "points", s.label.zh, s.label.en, subject=m.subject)
            for part in s.parts:
                ppath = f"{path}.{part.id}"
                specs[ppath] = F.FactSpec(
                    ppath,
                    "decimal",
                    "points",
                    f"{s.label.zh}：{part.label.zh}",
                    f"{s.label.en}: {part.label.en}",
                    subject=m.subject,
                )
        path = F.measure_fact_path(m.id)
        specs[path] = F.FactSpec(
            path,
            "enum",
            "enum",
            f"“{m.title.zh}”的结论",
            f"outcome of {m.title.en}",
            subject=m.subject,
            enum=F.MEASURE_OUTCOMES,
        )
    return specs


def _lint_measure(
    m: Measure, file: str, raw: dict, specs: dict[str, F.FactSpec], pack_params: dict[str, Parameter]
) -> list[Problem]:
    problems: list[Problem] = []

    def at(loc: tuple, reason: str) -> None:
        problems.append(Problem(file, _line_of(raw, loc), reason))

    seen_ids: set[str] = set()

    def loc_of(parents: tuple[Group, ...], node: Any) -> tuple:
        loc: tuple = ("criteria",)
        chain = (*parents, node)
        for parent, child in zip(chain, chain[1:], strict=False):
            kids = parent.children
            idx = next(i for i, k in enumerate(kids) if k is child)
            loc += (parent.kind if parent.kind != "not" else "not", idx) if parent.kind != "not" else ("not",)
        return loc

    for node, parents in walk(m.criteria):
        loc = loc_of(parents, node)
        if node.id in seen_ids:
            at(loc + ("id",), f"criterion id {node.id!r} appears twice in the measure")
        seen_ids.add(node.id)
        if isinstance(node, Group):
            continue
        leaf: Leaf = node
        if leaf.op is Op.manual and leaf.fact is None:
            continue
        spec = specs.get(leaf.fact or "")
        if spec is None:
            at(loc + ("fact",), f"unknown fact path {leaf.fact!r}")
            continue
        if spec.subject == "project" and m.subject != "project":
            at(
                loc + ("fact",),
                f"fact {leaf.fact!r} belongs to a project, but the measure's subject is {m.subject}",
            )
        if spec.unit != leaf.unit.value:
            at(
                loc + ("unit",),
                f"unit mismatch: criterion says {leaf.unit.value}, fact {leaf.fact!r} is in {spec.unit}",
            )
        if leaf.op in COMPARISON_OPS and spec.kind not in ("decimal", "int", "date"):
            at(
                loc + ("op",),
                f"operator {leaf.op.value} needs a number or date; fact {leaf.fact!r} is {spec.kind}",
            )
        if leaf.op in (Op.in_, Op.not_in) and leaf.param is None:
            if not isinstance(leaf.value, list) or not leaf.value:
                at(loc + ("value",), f"operator {leaf.op.value} needs a non-empty list")
        if spec.enum and leaf.value is not None:
            values = leaf.value if isinstance(leaf.value, list) else [leaf.value]
            for v in values:
                if v not in spec.enum:
                    at(loc + ("value",), f"{v!r} is not a value of {leaf.fact!r} ({', '.join(spec.enum)})")
        if spec.kind == "bool" and leaf.value is not None and not isinstance(leaf.value, bool):
            at(loc + ("value",), f"fact {leaf.fact!r} is true/false; got {leaf.value!r}")
        if leaf.param is not None:
            p = m.parameters.get(leaf.param)
            if p is None:
                at(loc + ("param",), f"unknown parameter {leaf.param!r}")
            elif p.unit != leaf.unit:
                at(
                    loc + ("param",),
                    f"unit mismatch: criterion is in {leaf.unit.value}, parameter {leaf.param!r} in {p.unit.value}",
                )
            else:
                for since, dv in p.values.items():
                    v = dv.value
                    if isinstance(v, dict) and "tiers" in v:
                        try:
                            tiered = _TIERED.validate_python(v)
                        except ValidationError as e:
                            at(
                                ("parameters", leaf.param, "values", since),
                                f"bad tiers: {e.errors()[0]['msg']}",
                            )
                            continue
                        by = specs.get(tiered.by)
                        if by is None:
                            at(
                                ("parameters", leaf.param, "values", since),
                                f"unknown fact path {tiered.by!r} in tiers",
                            )
                        elif by.kind not in ("decimal", "int"):
                            at(
                                ("parameters", leaf.param, "values", since),
                                f"tiers need a numeric fact; {tiered.by!r} is {by.kind}",
                            )
    for name, p in m.parameters.items():
        for since, dv in p.values.items():
            if (
                dv.value is not None
                and p.unit not in (Unit.bool, Unit.enum, Unit.text)
                and not isinstance(dv.value, dict | list)
            ):
                try:
                    Decimal(str(dv.value))
                except Exception:
                    at(
                        ("parameters", name, "values", since),
                        f"value {dv.value!r} is not a number in {p.unit.value}",
                    )
                if isinstance(dv.value, float):
                    at(
                        ("parameters", name, "values", since),
                        f"write {dv.value!r} as a quoted decimal string: floats are not exact",
                    )

    def check_part(part: ScorePart, loc: tuple) -> None:
        if part.max_of:
            for i, sub in enumerate(part.max_of):
                check_part(sub, loc + ("max_of", i))
            return
        if part.fact not in specs:
            at(loc + ("fact",), f"unknown fact path {part.fact!r}")
        if part.table not in m.parameters:
            at(loc + ("table",), f"unknown parameter {part.table!r}")

    for i, s in enumerate(m.scores):
        for j, part in enumerate(s.parts):
            check_part(part, ("scores", i, "parts", j))

    b = m.benefit
    for key in ("param", "cap_param"):
        name = getattr(b, key)
        if name is not None and name not in m.parameters:
            at(("benefit", key), f"unknown parameter {name!r}")
    if b.base_fact is not None and b.base_fact not in specs:
        at(("benefit", "base_fact"), f"unknown fact path {b.base_fact!r}")
    for i, t in enumerate(b.tiers or []):
        if t.fact not in specs:
            at(("benefit", "tiers", i, "fact"), f"unknown fact path {t.fact!r}")
        if t.param is not None and t.param not in m.parameters:
            at(("benefit", "tiers", i, "param"), f"unknown parameter {t.param!r}")
    if m.effective.end is not None and m.effective.end < m.effective.start:
        at(("effective",), "the window ends before it starts")
    return problems


def _dependencies(m: Measure) -> set[str]:
    deps = set()
    for node, _ in walk(m.criteria):
        if isinstance(node, Leaf) and node.fact and node.fact.startswith("measure."):
            deps.add(node.fact.split(".")[1])
    return deps


def dependency_order(measures: dict[str, Measure]) -> tuple[list[list[str]], list[str]]:
    """Measures in stages (each depends only on earlier stages), and any cycle found."""
    deps = {mid: _dependencies(m) & set(measures) for mid, m in measures.items()}
    stages: list[list[str]] = []
    done: set[str] = set()
    while len(done) < len(measures):
        ready = sorted(mid for mid in measures if mid not in done and deps[mid] <= done)
        if not ready:
            return stages, sorted(set(measures) - done)
        stages.append(ready)
        done.update(ready)
    return stages, []


def _read(path: Path) -> tuple[dict | None, list[Problem]]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        return None, [
            Problem(str(path), (mark.line + 1) if mark else 1, f"not valid YAML: {getattr(e, 'problem', e)}")
        ]
    if not isinstance(data, dict):
        return None, [Problem(str(path), 1, "a rule file must be a mapping")]
    return data, []


def _validation_problems(e: ValidationError, file: str, raw: dict) -> list[Problem]:
    out = []
    for err in e.errors():
        loc = tuple(err["loc"])
        where = ".".join(
            str(p).replace("datetime.date", "").strip("()").replace(", ", "-")
            if "datetime.date" in str(p)
            else str(p)
            for p in loc
            if not (isinstance(p, str) and (p[:1].isupper() or "function-" in p or p in ("leaf", "group")))
        )
        out.append(Problem(file, _line_of(raw, loc), f"{where}: {err['msg']}"))
    return out


def lint(rules_dir: Path | str = DEFAULT_RULES_DIR, checks: Sequence[Check] = ()) -> tuple[Pack | None, list[Problem]]:
    """The pack and no problems, or None and every problem. ``checks`` are the backends' own
    (``engine.backends.lint_hooks``): limits of a rules engine belong with it."""
    rules_dir = Path(rules_dir)
    problems: list[Problem] = []
    measures: dict[str, Measure] = {}
    files: dict[str, str] = {}
    raws: dict[str, dict] = {}
    pack_params: dict[str, Parameter] = {}
    digest = hashlib.sha256()

    pack_file = rules_dir / "pack.yaml"
    if pack_file.exists():
        digest.update(pack_file.read_bytes())
        raw, probs = _read(pack_file)
        problems += probs
        if raw is not None:
            for name, p in _strip(raw).get("parameters", {}).items():
                where = raw.get("parameters", {}).get(name, raw)
                try:
                    pack_params[name] = Parameter.model_validate(p)
                    for dated in pack_params[name].values.values():
                        typed_value(
                            pack_params[name], dated
                        )  # a malformed table fails here, not at evaluation
                except ValidationError as e:
                    problems += _validation_problems(e, str(pack_file), where)

    paths = sorted(p for p in rules_dir.glob("*/*.yaml"))
    if not paths:
        problems.append(
            Problem(str(rules_dir), 0, "no rule files found (expected rules/<issuer>/<measure-id>.yaml)")
        )
    for path in paths:
        rel = str(path.relative_to(rules_dir.parent)) if rules_dir.parent in path.parents else str(path)
        digest.update(rel.encode())
        digest.update(path.read_bytes())
        raw, probs = _read(path)
        problems += probs
        if raw is None:
            continue
        try:
            m = Measure.model_validate(_strip(raw))
        except ValidationError as e:
            problems += _validation_problems(e, rel, raw)
            continue
        if path.stem != m.id:
            problems.append(
                Problem(
                    rel,
                    _line_of(raw, ("id",)),
                    f"file name {path.name!r} must be the measure id {m.id!r}.yaml",
                )
            )
        if path.parent.name != m.issuer:
            problems.append(
                Problem(
                    rel,
                    _line_of(raw, ("issuer",)),
                    f"issuer {m.issuer!r} but the file is under rules/{path.parent.name}/",
                )
            )
        if m.id in measures:
            problems.append(
                Problem(rel, _line_of(raw, ("id",)), f"measure id {m.id!r} is also defined in {files[m.id]}")
            )
            continue
        measures[m.id] = m
        files[m.id] = rel
        raws[m.id] = raw

    specs = {**F.SPECS, **pack_fact_specs(measures)}
    for mid, m in measures.items():
        problems += _lint_measure(m, files[mid], raws[mid], specs, pack_params)
        for name in m.excludes:
            if name not in measures:
                problems.append(
                    Problem(
                        files[mid], _line_of(raws[mid], ("excludes",)), f"excludes unknown measure {name!r}"
                    )
                )
        for node, _ in walk(m.criteria):
            if isinstance(node, Leaf) and node.fact:
                spec = specs.get(node.fact)
                for need in spec.params if spec else ():
                    if need not in pack_params:
                        problems.append(
                            Problem(
                                files[mid],
                                _line_of(raws[mid], ("criteria",)),
                                f"fact {node.fact!r} needs pack parameter {need!r} in rules/pack.yaml",
                            )
                        )
    _, cycle = dependency_order(measures)
    if cycle:
        for mid in cycle:
            problems.append(
                Problem(
                    files[mid],
                    _line_of(raws[mid], ("criteria",)),
                    f"dependency cycle among measures: {' → '.join(cycle)}",
                )
            )

    for mid, loc, reason in (p for check in checks for p in check(specs, measures)):
        where = files.get(mid, str(rules_dir)) if mid else str(rules_dir)
        problems.append(Problem(where, _line_of(raws[mid], loc) if mid else 0, reason))

    if problems:
        return None, problems
    version = "sha256:" + digest.hexdigest()[:16]
    return Pack(measures, pack_params, files, version, raws), []


def load_pack(rules_dir: Path | str = DEFAULT_RULES_DIR, checks: Sequence[Check] = ()) -> Pack:
    pack, problems = lint(rules_dir, checks)
    if problems:
        raise LintError(problems)
    assert pack is not None
    return pack


def pack_as_json(pack: Pack) -> str:
    return json.dumps(
        {mid: m.model_dump(mode="json", by_alias=True) for mid, m in pack.measures.items()},
        ensure_ascii=False,
    )
