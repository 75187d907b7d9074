"""What-if: apply changes such as ``fiscal_years[2024].rd_expense`` +100 万元 to a profile and
report the outcomes that flip.

Paths follow the engine's fact paths: the bracket after ``fiscal_years`` is the year, after
``projects`` the project id. Setting a field of a year that is not there adds the year.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from engine import VERDICT, Engine, Options, Profile, errors_of

from ..problems import ApiProblem
from ..schemas.evaluations import Change
from .compare import compare
from .evaluations import evaluate, labels

_SEGMENT = re.compile(r"^([a-z_]+)(?:\[([^\[\]]+)\])?$")


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model inside an annotation (unwrapping Optional / list), and whether it is a list."""
    is_list = False
    ann = annotation
    for _ in range(4):
        origin = get_origin(ann)
        if origin is list:
            is_list = True
            ann = get_args(ann)[0]
            continue
        args = [a for a in get_args(ann) if a is not type(None)]
        if origin is not None and args and origin not in (list,):
            # Union / Annotated: look for a model among the arguments
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if models:
                return models[0], is_list
            lists = [a for a in args if get_origin(a) is list]
            if lists:
                ann = lists[0]
                continue
            break
        break
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann, is_list
    return None, is_list


def _bad(i: int, zh: str, en: str, value: Any = None) -> ApiProblem:
    return ApiProblem(
        "invalid-change",
        (f"changes[{i}]：{zh}", f"changes[{i}]: {en}"),
        errors=[
            {"field": f"changes[{i}].path", "location": "body", "message": f"{zh} / {en}", "value": value}
        ],
    )


def _resolve(doc: dict[str, Any], path: str, i: int, create: bool) -> tuple[dict[str, Any], str]:
    """The container holding the last field of ``path`` and that field's name."""
    model: type[BaseModel] = Profile
    node: Any = doc
    parts = path.split(".")
    for n, part in enumerate(parts):
        m = _SEGMENT.match(part)
        if m is None:
            raise _bad(i, f"无法解析的路径片段 {part!r}", f"cannot parse the path segment {part!r}", path)
        name, key = m.groups()
        if name not in model.model_fields:
            raise _bad(i, f"画像中没有字段 {name!r}", f"the profile has no field {name!r}", path)
        sub, is_list = _model_of(model.model_fields[name].annotation)
        last = n == len(parts) - 1
        if key is not None:
            if not is_list or sub is None:
                raise _bad(i, f"{name} 不是列表，不能用方括号", f"{name} is not a list; no brackets", path)
            items = node.setdefault(name, []) if isinstance(node, dict) else None
            if items is None:
                items = node[name] = []
            if name == "fiscal_years":
                if not key.isdigit():
                    raise _bad(
                        i,
                        f"fiscal_years 方括号内应为年度，收到 {key!r}",
                        f"fiscal_years takes a year, got {key!r}",
                        path,
                    )
                match = [fy for fy in items if fy.get("year") == int(key)]
                if not match:
                    if not create:
                        raise _bad(
                            i, f"画像中没有 {key} 年度的数据", f"the profile has no fiscal year {key}", path
                        )
                    items.append({"year": int(key)})
                    match = [items[-1]]
            else:
                id_field = "id" if "id" in sub.model_fields else None
                match = [x for x in items if id_field and str(x.get(id_field)) == key]
                if not match:
                    raise _bad(
                        i, f"{name} 中没有编号为 {key!r} 的条目", f"no {name} entry with id {key!r}", path
                    )
            if last:
                raise _bad(
                    i,
                    "路径应指向一个字段，而不是整条记录",
                    "the path must name a field, not a whole entry",
                    path,
                )
            node, model = match[0], sub
            continue
        if last:
            if sub is not None and not is_list:
                raise _bad(
                    i,
                    f"{name} 是一组字段，请指向其中一项",
                    f"{name} is an object; name one of its fields",
                    path,
                )
            return node, name
        if sub is None or is_list:
            raise _bad(i, f"{name} 之后不能再有下级字段", f"{name} has no fields below it", path)
        child = node.get(name)
        if child is None:
            child = node[name] = {}
        node, model = child, sub
    raise _bad(i, "路径为空", "empty path", path)


def apply_changes(profile: Profile, changes: list[Change]) -> tuple[Profile, list[dict[str, Any]]]:
    doc = profile.model_dump(mode="json")
    applied = []
    for i, ch in enumerate(changes):
        container, field = _resolve(doc, ch.path, i, create="value" in ch.model_fields_set)
        before = copy.deepcopy(container.get(field))
        if ch.delta is not None and "delta" in ch.model_fields_set:
            if before is None:
                raise _bad(
                    i,
                    "该字段当前未知，不能按增量修改，请用 value 给出新值",
                    "the field is unknown, so a delta cannot apply; give a value",
                    ch.path,
                )
            if isinstance(before, bool) or not isinstance(before, int | float | str):
                raise _bad(
                    i,
                    "该字段不是数值，不能按增量修改",
                    "the field is not a number; a delta cannot apply",
                    ch.path,
                )
            try:
                total = Decimal(str(before)) + ch.delta
            except ArithmeticError:
                raise _bad(
                    i, "该字段不是数值，不能按增量修改", "the field is not a number", ch.path
                ) from None
            if isinstance(before, int):
                if total != total.to_integral_value():
                    raise _bad(
                        i,
                        "该字段为整数，增量须为整数",
                        "the field is a whole number; so must the delta be",
                        ch.path,
                    )
                after: Any = int(total)
            else:
                after = format(total.normalize() if total == total.to_integral_value() else total, "f")
        else:
            after = ch.value
        container[field] = after
        applied.append({"path": ch.path, "before": before, "after": after})
    try:
        return Profile.model_validate(doc), applied
    except ValidationError as e:
        errors = errors_of(e, "zh", ("profile",))
        raise ApiProblem(
            "invalid-change",
            (
                "修改后的画像不符合契约：" + "; ".join(f"{x['field']}: {x['message']}" for x in errors),
                "the changed profile breaks the contract: "
                + "; ".join(f"{x['field']}: {x['message']}" for x in errors_of(e, "en", ("profile",))),
            ),
            errors=errors,
        ) from None


def what_if(
    engine: Engine,
    profile: Profile,
    changes: list[Change],
    as_of: Any,
    measures: list[str] | None,
    lang: str,
) -> dict[str, Any]:
    changed, applied = apply_changes(profile, changes)
    first = evaluate(engine, profile, as_of, measures)
    second = evaluate(engine, changed, first.as_of, measures)
    options = Options(VERDICT.detail, lang)  # type: ignore[arg-type]
    outcomes = compare(engine.render(first, options), engine.render(second, options), labels(engine, lang), True)
    return {
        "credit_code": profile.credit_code,
        "as_of": first.as_of,
        "rule_pack_version": second.rule_pack_version,
        "lang": lang,
        "changes": applied,
        "flips": [o for o in outcomes if o["outcome_changed"]],
        "outcomes": outcomes,
    }
