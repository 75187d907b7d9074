"""The engine's errors: one hierarchy, each with a code and a location, and contract violations as
problems people can act on (the field path and what was expected).

``HuiqiError`` is the root. The service maps it to problem+json in one place (``code`` becomes the
problem type); nothing below it is a bare ``ValueError`` or pydantic's ``ValidationError``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

# pydantic's own messages, in Chinese (ours are written "中文 / English" already)
_ZH = {
    "missing": "必填字段缺失",
    "extra_forbidden": "未知字段（契约中没有此字段）",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "格式不符合要求",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "too_long": "条目过多或文本过长",
    "too_short": "不能为空",
    "string_too_long": "文本过长",
    "string_too_short": "不能为空",
    "json_invalid": "不是有效的 JSON",
}


class HuiqiError(Exception):
    """An engine error: ``code`` names the kind (stable, for clients), ``location`` where it arose
    (a field path, a parameter, a rule file and line), or None."""

    code = "engine-error"

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location


class EngineError(HuiqiError, RuntimeError):
    """The rules engine misbehaved: never a verdict, always an error."""

    code = "engine-failure"


class CompileError(HuiqiError):
    """The rule pack cannot be compiled as asked (a threshold durable-rules cannot compare exactly,
    an unknown parameter override, a dependency cycle)."""

    code = "compile-error"


class InvalidOverride(HuiqiError):
    """A parameter value tried instead of the one in force is not a value of that parameter."""

    code = "invalid-override"


class UnknownMeasure(HuiqiError, KeyError):
    code = "unknown-measure"

    def __init__(self, ids: list[str]) -> None:
        super().__init__(", ".join(ids), location="measures")
        self.ids = ids

    def __str__(self) -> str:
        return ", ".join(self.ids)


class InvalidProfile(HuiqiError, ValueError):
    """A profile that breaks the contract: every field path and what was expected."""

    code = "invalid-profile"

    def __init__(self, error: ValidationError, prefix: tuple = ()) -> None:
        self.validation = error
        self.prefix = prefix
        first = errors_of(error, "en", prefix)
        super().__init__(
            "; ".join(f"{x['field']}: {x['message']}" for x in first), location=first[0]["field"] if first else None
        )

    def errors(self, lang: str = "zh") -> list[dict[str, Any]]:
        return errors_of(self.validation, lang, self.prefix)

    def problem(self, lang: str = "zh") -> dict[str, Any]:
        return problem_from_validation(self.validation, lang, self.prefix)


_BILINGUAL = re.compile(r"(?<=[^\x00-\x7f])\s*/\s+")


def field_path(loc: tuple[Any, ...]) -> str:
    """('fiscal_years', 0, 'sales_revenue') → 'fiscal_years[0].sales_revenue'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and (part.startswith("function-") or part[:1].isupper() or "[" in part):
            continue  # pydantic's names of validators and union branches
        else:
            out += ("." if out else "") + part
    return out or "(body)"


def message(err: dict, lang: str) -> str:
    msg = str(err.get("msg", ""))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err.get("type") == "value_error":
        parts = _BILINGUAL.split(msg, maxsplit=1)  # "中文 / English", also "…（注）/ English"
        if len(parts) == 2:
            return parts[1] if lang == "en" else parts[0]
    if lang == "en":
        return msg
    zh = _ZH.get(err.get("type", ""), msg)
    ctx = err.get("ctx") or {}
    if err.get("type") in ("enum", "literal_error") and "expected" in ctx:
        zh += f"，允许的值：{ctx['expected']}"
    if err.get("type") == "string_pattern_mismatch" and "pattern" in ctx:
        zh += f"（{ctx['pattern']}）"
    if err.get("type") in ("greater_than_equal", "less_than_equal"):
        zh += f"（界限 {ctx.get('ge', ctx.get('le'))}）"
    return zh


def errors_of(e: ValidationError, lang: str = "zh", prefix: tuple = ()) -> list[dict[str, Any]]:
    out = []
    for err in e.errors(include_url=False):
        value = err.get("input")
        if isinstance(value, dict | list):
            value = None  # a whole object is no help next to its field
        out.append(
            {
                "field": field_path(prefix + tuple(err["loc"])),
                "message": message(err, lang),
                "type": err.get("type"),
                "value": value
                if isinstance(value, str | int | float | bool) or value is None
                else str(value),
            }
        )
    return out


def problem_from_validation(e: ValidationError, lang: str = "zh", prefix: tuple = ()) -> dict[str, Any]:
    errors = errors_of(e, lang, prefix)
    return {
        "type": "https://huiqi.example/problems/invalid-profile",
        "title": "企业画像不符合契约" if lang != "en" else "The profile breaks the contract",
        "status": 422,
        "detail": "; ".join(f"{x['field']}: {x['message']}" for x in errors),
        "errors": errors,
    }
