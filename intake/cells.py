"""One cell → the contract's value, or ``CellError`` with the reason in both languages.

A blank cell is unknown, never zero ("未知", "N/A" too). Numbers may carry thousands separators,
full-width digits or a trailing 万元; yes/no may be 是/否, true/false, 1/0, √/×; enumerations their
Chinese or English label or their code; dates YYYY-MM-DD, YYYY/M/D or YYYY年M月D日.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.vocabulary import ENUM_LABELS, pick

from .columns import Column, norm
from .errors import CellError
from .limits import DEFAULT_LIMITS

UNKNOWN_WORDS = {"未知", "unknown", "n/a", "na"}  # read as unknown, like a blank cell
_TRUE = {"是", "true", "t", "yes", "y", "1", "√", "✓", "有", "对"}
_FALSE = {"否", "false", "f", "no", "n", "0", "×", "✗", "无", "不是"}
_SCI = re.compile(r"^[+-]?\d+(\.\d+)?e[+-]?\d+$", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_ENUM_BY_LABEL: dict[str, str] = {}
for _code, (_zh_label, _en_label) in ENUM_LABELS.items():
    _ENUM_BY_LABEL.setdefault(norm(_zh_label), _code)
    _ENUM_BY_LABEL.setdefault(norm(_en_label), _code)


def blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        s = v.strip()
        return not s or s.lower() in UNKNOWN_WORDS
    return False


def text_of(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _decimal(v: Any) -> Decimal:
    if isinstance(v, bool):
        raise CellError("应为数值，不能是是/否", "expected a number, not yes/no")
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise CellError("应为数值", "expected a number")
        return Decimal(repr(v))
    if isinstance(v, Decimal):
        return v
    if isinstance(v, dt.date):
        raise CellError("应为数值，单元格是日期格式", "expected a number, the cell is a date")
    s = str(v)
    if not s.isascii():  # full-width digits, ideographic spaces … (NFKC leaves ASCII as it is)
        s = unicodedata.normalize("NFKC", s)
    s = s.strip().replace(",", "")
    if s.endswith("万元"):
        s = s[:-2].strip()
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise CellError(f"应为数值，收到“{v}”", f"expected a number, got {v!r}") from None
    if not d.is_finite():
        raise CellError("应为有限的数值", "expected a finite number")
    return d


def _int(v: Any) -> int:
    d = _decimal(v)
    if d != d.to_integral_value():
        raise CellError(f"应为整数，收到“{text_of(v)}”", f"expected a whole number, got {v!r}")
    return int(d)


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    text = str(v)
    s = text.strip().lower()  # the common spellings need no normalising
    if s not in _TRUE and s not in _FALSE:
        s = norm(text)
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise CellError(f"应为“是”或“否”，收到“{text_of(v)}”", f"expected yes or no (是/否), got {v!r}")


def _date(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int | float):
        raise CellError(
            f"应为日期 YYYY-MM-DD，收到数字 {text_of(v)}",
            f"expected a date YYYY-MM-DD, got the number {v!r}",
        )
    s = unicodedata.normalize("NFKC", str(v)).strip()
    m = _DATE.match(s.split(" ")[0].split("T")[0])
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            pass
    raise CellError(f"应为日期 YYYY-MM-DD，收到“{s}”", f"expected a date YYYY-MM-DD, got {s!r}")


def _enum(v: Any, allowed: tuple[str, ...]) -> str:
    s = norm(str(v))
    code = s if s in allowed else _ENUM_BY_LABEL.get(s)
    if code in allowed:
        return code
    choices = "、".join(f"{pick(ENUM_LABELS[a], 'zh')}（{a}）" for a in allowed)
    raise CellError(
        f"取值应为以下之一：{choices}；收到“{text_of(v)}”",
        f"expected one of {', '.join(allowed)}; got {v!r}",
    )


def _text(v: Any, path: str) -> str:
    if isinstance(v, bool):
        raise CellError("应为文本", "expected text")
    if isinstance(v, float) or (isinstance(v, int) and abs(v) >= 10**15):
        if abs(v) >= 10**15 or (isinstance(v, float) and not v.is_integer()):
            raise CellError(
                "这是一个数字单元格：超过 15 位的数字在 Excel 中会丢失精度，请把该列设为“文本”格式后重新填写",
                "a number cell: Excel keeps only 15 digits; format the column as text and enter it again",
            )
    s = text_of(v).strip()
    if _SCI.match(s) and path in ("credit_code", "region_code"):
        raise CellError(
            f"“{s}”是科学计数法：代码已被电子表格当作数字而丢失位数，请把该列设为“文本”格式后重新填写",
            f"{s!r} is scientific notation: the spreadsheet took the code for a number; format the column as text",
        )
    return s


def _number_text(v: Any) -> str:
    return format(_decimal(v), "f")


def _json_array(v: Any) -> list[Any]:
    try:
        data = loads_bounded(str(v), DEFAULT_LIMITS.max_json_depth)
    except json.JSONDecodeError as e:
        raise CellError(f"不是有效的 JSON：{e.msg}（第 {e.pos} 个字符）", f"not valid JSON: {e}") from None
    except ValueError as e:
        raise CellError(f"不是有效的 JSON：{e}", f"not valid JSON: {e}") from None
    if not isinstance(data, list):
        raise CellError("应为 JSON 数组 [...]", "expected a JSON array [...]")
    return data


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "money": _number_text,
    "decimal": _number_text,
    "int": _int,
    "people": _int,
    "count": _int,
    "year": _int,
    "bool": _bool,
    "date": _date,
    "json": _json_array,
}


def converter(col: Column) -> Callable[[Any], Any]:
    """The function turning a cell of this column into the contract's value, or CellError."""
    if col.kind == "text":
        return functools.partial(_text, path=col.path)
    if col.kind == "enum":
        return functools.partial(_enum, allowed=col.enum)
    try:
        return _CONVERTERS[col.kind]
    except KeyError:  # pragma: no cover
        raise AssertionError(col.kind) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _depth(data: Any, limit: int) -> bool:
    """True when ``data`` nests deeper than ``limit`` (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            if d > limit:
                return True
            stack.extend((x, d + 1) for x in node if isinstance(x, dict | list))
    return False


def loads_bounded(text: str, limit: int) -> Any:
    """``json.loads`` without NaN/Infinity and without nesting past ``limit`` (a line of 5,000
    ``[`` would exhaust the parser's recursion): ValueError either way."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"nested more than {limit} levels deep") from None
    if _depth(data, limit):
        raise ValueError(f"nested more than {limit} levels deep")
    return data


