"""Build and change an applicant profile from what a scenario says.

A field is named by its path in the contract (``fiscal_years[2024].sales_revenue``,
``projects[P1].category``, ``certifications.hte.issued_on``) or by its Chinese label
(``2024年度销售收入``, ``上一年度科技人员数``, ``项目 P1 的项目类别``, ``创新能力评价得分``).
Values are written as people write them: ``是``/``否``, ``人才类`` or ``talent``, ``5,000``, ``2024-12-01``;
``未知`` (or an empty cell) removes the field, so that the engine treats it as unknown.

The profile stays a plain JSON-able dict, the body the HTTP service receives.
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
import json
import re
import types
import typing
import unicodedata
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from engine.facts import SPECS
from engine.profile import Profile, credit_code_check_char
from engine.vocabulary import ENUM_LABELS, FIELD_LABELS, FISCAL_FIELDS, PROJECT_LABELS

from .vocab import ScenarioError, nearest, norm

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIRS = (ROOT / "features" / "examples", ROOT / "tests" / "examples")

# A valid 统一社会信用代码 for profiles a scenario builds from nothing (the contract requires one).
_FIRST17 = "91370100MA3C0FEA1"
DEFAULT_CREDIT_CODE = _FIRST17 + credit_code_check_char(_FIRST17)

# Sub-objects whose identifying field the contract requires: a scenario that gives only the issue
# date of a certificate still describes a certificate.
REQUIRED_DEFAULTS = {
    ("certifications", "hte"): {"certificate_no": "GR-SCENARIO"},
    ("certifications", "tsme"): {"registration_no": "TSME-SCENARIO"},
}
LIST_KEYS = {"fiscal_years": ("year", int), "projects": ("id", str)}

UNKNOWN_WORDS = {norm(w) for w in ("未知", "空", "null", "none", "unknown", "（空）", "-", "—")}
NONE_HELD_WORDS = {norm(w) for w in ("无", "没有", "未持有", "不持有")}
TRUE_WORDS = {norm(w) for w in ("是", "有", "true", "yes", "y", "√", "✓", "对")}
FALSE_WORDS = {norm(w) for w in ("否", "无", "没有", "false", "no", "n", "×", "✗", "不是")}

# Other names officers use for the fiscal-year fields (the labels of engine/facts.py come first).
FISCAL_ALIASES = {
    "研发费用": "rd_expense",
    "研发费用总额": "rd_expense",
    "研究开发费用": "rd_expense",
    "境内研发费用": "rd_expense_domestic",
    "境内研究开发费用总额": "rd_expense_domestic",
    "高新技术产品收入": "high_tech_revenue",
    "高新技术产品(服务)收入": "high_tech_revenue",
    "高新收入": "high_tech_revenue",
    "主营业务收入": "sales_revenue",
    "营业收入": "sales_revenue",
    "职工人数": "employees",
    "职工总人数": "employees",
    "从业人员": "employees",
    "科技人员": "tech_staff",
    "科技人员数量": "tech_staff",
    "成本费用": "cost_and_expense",
    "总资产": "total_assets",
}
# Other names officers use for the enterprise's own fields (the engine's labels come first); some
# are the engine's former labels, kept so that scenarios written with them still read.
FIELD_ALIASES = {
    "居民企业（境内注册）": "resident_enterprise",
    "prohibited or restricted products": "prohibited_category",
    "innovation capability score": "innovation_score",
    "近一年发生重大安全、重大质量事故": "compliance.major_safety_quality_incident_within_1y",
    "major safety or quality incident within a year": "compliance.major_safety_quality_incident_within_1y",
    "近一年发生严重环境违法行为": "compliance.serious_environmental_violation_within_1y",
    "存在严重科研失信行为": "compliance.serious_research_misconduct",
    "最高研发机构级别": "honors.rd_institution_level",
    "highest R&D institution level": "honors.rd_institution_level",
}
LAST_YEAR_WORDS = ("上一年度", "上年度", "上一年", "上年", "最近一年", "近一年", "last_year.")

_SEGMENT = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)(?:\[(?P<key>[^\]]+)\])?$")


# ------------------------------------------------------------------ the contract's types


def _unwrap(annotation: Any) -> Any:
    """``Annotated[Decimal, …] | None`` → ``Decimal``; ``list[Project]`` stays a list."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
        else:
            return annotation


def _field_type(model: type[BaseModel], name: str) -> Any:
    if name not in model.model_fields:
        fields = ", ".join(model.model_fields)
        raise ScenarioError(f"{model.__name__} 没有字段 {name!r}。可用字段：{fields}")
    return _unwrap(model.model_fields[name].annotation)


def _list_item(tp: Any) -> Any:
    if typing.get_origin(tp) is list:
        return _unwrap(typing.get_args(tp)[0])
    return None


def parse_path(path: str) -> list[tuple[str, str | None]]:
    segments = []
    for part in path.strip().split("."):
        m = _SEGMENT.match(part.strip())
        if not m:
            raise ScenarioError(f"字段路径 {path!r} 写法不对：应如 fiscal_years[2024].sales_revenue")
        segments.append((m["name"], m["key"]))
    return segments


def leaf_type(path: str) -> Any:
    """The Python type of the value at a contract path (a model for a sub-object)."""
    model: Any = Profile
    tp: Any = Profile
    for name, key in parse_path(path):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise ScenarioError(f"字段路径 {path!r}：{name!r} 之前的部分不是对象")
        tp = _field_type(model, name)
        item = _list_item(tp)
        if key is not None:
            if item is None:
                raise ScenarioError(f"字段路径 {path!r}：{name} 不是列表，不能用 [{key}]")
            tp = item
        model = tp
    return tp


def is_contract_path(path: str) -> bool:
    try:
        leaf_type(path)
    except ScenarioError:
        return False
    return True


# ------------------------------------------------------------------ labels → paths


def _fiscal_labels() -> dict[str, str]:
    table = {}
    for name, (_, _, zh, en) in FISCAL_FIELDS.items():
        table[norm(zh)] = name
        table[norm(en)] = name
        table[norm(name)] = name
    for alias, name in FISCAL_ALIASES.items():
        table[norm(alias)] = name
    return table


@cache
def _fixed_labels() -> dict[str, str]:
    """Chinese and English names of the enterprise's own fields (not by year, not by project)."""
    table: dict[str, str] = {}
    for path, spec in SPECS.items():
        if is_contract_path(path):
            table.setdefault(norm(spec.zh), path)
            table.setdefault(norm(spec.en), path)
    for alias, path in FIELD_ALIASES.items():
        table[norm(alias)] = path
    for path, (zh, en) in FIELD_LABELS.items():
        table[norm(zh)] = path
        table[norm(en)] = path
    return table


@cache
def project_labels() -> dict[str, str]:
    table: dict[str, str] = {}
    for path, spec in SPECS.items():
        if spec.subject == "project" and path.startswith("project."):
            name = path.split(".", 1)[1]
            table[norm(spec.zh)] = name
            table[norm(spec.en)] = name
    for name, (zh, en) in PROJECT_LABELS.items():
        table[norm(zh)] = name
        table[norm(en)] = name
        table[norm(zh.removeprefix("项目"))] = name
        table[norm(name)] = name
    table[norm("编号")] = "id"
    return table


_YEAR_LABEL = re.compile(r"^(?P<year>\d{4})年(?:度)?(?P<rest>.+)$")
_PROJECT_LABEL = re.compile(r"^项目[\"“「]?(?P<id>[^\"”」的]+)[\"”」]?的(?P<rest>[^\"”」]+)$")
_FISCAL_PATH = re.compile(r"^fiscal_years\[(?P<year>[^\]]*)\]\.(?P<rest>.*)$")


def resolve_field(text: str, last_year: int | None) -> str:
    """A contract path from a path or a label. ``last_year`` resolves 上一年度… (the year before as_of)."""
    raw = unicodedata.normalize("NFKC", text).strip()
    if is_contract_path(raw):
        return raw
    key = norm(raw)
    fixed = _fixed_labels().get(key)
    if fixed:
        return fixed
    fiscal = _fiscal_labels()
    m = _YEAR_LABEL.match(key)
    if m and m["rest"] in fiscal:
        return f"fiscal_years[{m['year']}].{fiscal[m['rest']]}"
    if m and m["rest"] in (norm("财务数据"), norm("数据")):
        return f"fiscal_years[{m['year']}]"
    for word in LAST_YEAR_WORDS:
        if key.startswith(norm(word)) and key[len(norm(word)) :] in fiscal:
            if last_year is None:
                raise ScenarioError(f'{text!r} 指评估日期的上一年度：请先写 假如评估日期为 "YYYY-MM-DD"')
            return f"fiscal_years[{last_year}].{fiscal[key[len(norm(word)) :]]}"
    m = _PROJECT_LABEL.match(raw.replace(" ", ""))
    if m:
        name = project_labels().get(norm(m["rest"]))
        if name:
            return f"projects[{m['id']}].{name}" if name != "id" else f"projects[{m['id']}]"
    raise ScenarioError(unknown_field_message(text))


def unknown_field_message(text: str, project: str | None = None) -> str:
    """What an officer reads for a field name no table knows: the closest known names first."""
    close = closest_fields(text, project)
    if project is None and norm(text) in _fiscal_labels():
        lead = (
            f"「{text}」是年度数据，须写明年份：如 2024年度{text}，或 上一年度{text}"
            "（评估日期所在年份的前一年）。"
        )
    else:
        lead = f"不认识的字段「{text}」。" + (f"是不是：{'、'.join(close)}？" if close else "")
    return (
        lead
        + "字段可以写中文名称（如 2024年度销售收入、上一年度科技人员数、项目 P1 的项目类别、创新能力评价得分），"
        "也可以写契约中的字段路径（如 fiscal_years[2024].sales_revenue、projects[P1].category）；"
        "完整清单见 docs/writing-scenarios.md 第四节。"
    )


def closest_fields(text: str, project: str | None = None, n: int = 3) -> list[str]:
    """The known field names nearest to a misspelt one, written the way the officer wrote theirs."""
    raw = unicodedata.normalize("NFKC", text).strip()
    compact = raw.replace(" ", "")
    names: list[str] = []
    fiscal_names = [zh for _, _, zh, _ in FISCAL_FIELDS.values()] + list(FISCAL_ALIASES) + ["财务数据"]
    if project is not None:  # a project's own table: 项目类别, 涉及新增用地 …
        names += [zh for zh, _ in PROJECT_LABELS.values()]
    elif (m := _YEAR_LABEL.match(compact)) is not None:
        names += [f"{m['year']}年度{n}" for n in fiscal_names]
    elif (m := _FISCAL_PATH.match(compact)) is not None:
        names += [f"fiscal_years[{m['year']}].{n}" for n in FISCAL_FIELDS]
    elif (m := _PROJECT_LABEL.match(compact)) is not None:
        names += [f"项目 {m['id']} 的{zh}" for zh, _ in PROJECT_LABELS.values()]
    else:
        word = next((w for w in LAST_YEAR_WORDS if compact.startswith(w)), None)
        if word is not None:
            names += [f"{word}{n}" for n in fiscal_names]
        names += [zh for zh, _ in FIELD_LABELS.values()]
        names += [path for path in FIELD_LABELS if is_contract_path(path)]
        names += [spec.zh for path, spec in SPECS.items() if is_contract_path(path)]
    by_key = {norm(name): name for name in dict.fromkeys(names)}
    return [by_key[k] for k in nearest(norm(compact), list(by_key), n)]


def field_catalogue() -> list[tuple[str, str]]:
    """(path, Chinese label) of every field a scenario can set, for the guide and error messages."""
    rows = [(path, zh) for path, (zh, _) in FIELD_LABELS.items() if is_contract_path(path)]
    seen = {p for p, _ in rows}
    for path, spec in SPECS.items():
        if is_contract_path(path) and path not in seen and "." not in path:
            rows.append((path, spec.zh))
    for name, (_, _, zh, _) in FISCAL_FIELDS.items():
        rows.append((f"fiscal_years[<年>].{name}", f"<年>年度{zh}"))
    for name, (zh, _) in PROJECT_LABELS.items():
        rows.append((f"projects[<编号>].{name}", f"项目 <编号> 的{zh}"))
    return rows


# ------------------------------------------------------------------ values


def _enum_value(tp: type[enum.Enum], text: str) -> str:
    key = norm(text)
    for member in tp:
        names = {norm(member.value), norm(member.name)}
        if member.value in ENUM_LABELS:
            zh, en = ENUM_LABELS[member.value]
            names |= {norm(zh), norm(en)}
        if key in names:
            return member.value
    if key in NONE_HELD_WORDS and "none" in {m.value for m in tp}:
        return "none"
    choices = "、".join(
        f"{m.value}（{ENUM_LABELS[m.value][0]}）" if m.value in ENUM_LABELS else m.value for m in tp
    )
    raise ScenarioError(f"{text!r} 不是可选值之一：{choices}")


# Money is 万元 in the contract; an officer copies figures as the documents state them. Each unit
# is an exact power of ten, so that 0.45亿元 is 4500 and 45000000元 is 4500 with no float on the way.
MONEY_UNITS = {
    "元": Decimal("0.0001"),
    "千元": Decimal("0.1"),
    "万元": Decimal(1),
    "百万元": Decimal(100),
    "千万元": Decimal(1000),
    "亿元": Decimal(10000),
}
# the unit word each other kind of number may carry: 120人, 3项, 71分, 30亩, 2025年
UNIT_WORDS = {
    "people": ("人", "名"),
    "count": ("项", "件", "个"),
    "points": ("分",),
    "mu": ("亩",),
    "year": ("年", "年度"),
}
_NUMBER = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_MONEY = re.compile(
    r"^(?P<number>.*?)(?P<unit>" + "|".join(sorted(MONEY_UNITS, key=len, reverse=True)) + r")?$"
)
EXAMPLE_OF = {
    "wan_yuan": "以万元填写，如 4500（也可写 4,500、4500万元、0.45亿元、45000000元）",
    "people": "应为整数（人），如 120 或 120人",
    "count": "应为整数（项），如 3",
    "year": "应为年份，如 2025",
    "points": "应为数值（分），如 71",
    "mu": "以亩填写，如 30",
}


def field_unit(path: str) -> str | None:
    """The unit of a contract field (wan_yuan, people, count, points, mu …), from the engine's fact table."""
    segments = parse_path(path)
    name = segments[-1][0]
    if segments[0][0] == "fiscal_years" and name in FISCAL_FIELDS:
        return FISCAL_FIELDS[name][1]
    if segments[0][0] == "projects":
        spec = SPECS.get(f"project.{name}")
        return spec.unit if spec else None
    if name == "year":
        return "year"
    spec = SPECS.get(".".join(n for n, _ in segments))
    return spec.unit if spec else None


def parse_number(text: str) -> Decimal | None:
    """'4,500' → 4500; thousands separators must group by three (4,50 is refused, not read as 450)."""
    compact = text.replace(" ", "")
    if not _NUMBER.match(compact):
        return None
    return Decimal(compact.replace(",", ""))


def money_in_wan_yuan(text: str) -> Decimal | None:
    """'0.45亿元' → 4500, '45000000元' → 4500, '4,500' → 4500 (万元 when no unit); None if not money."""
    m = _MONEY.match(text.replace(" ", ""))
    number = parse_number(m["number"]) if m else None
    if number is None:
        return None
    return number * MONEY_UNITS[m["unit"] or "万元"]


def plain(number: Decimal) -> str:
    """A decimal as the contract takes it: no exponent, no trailing zeros (4.5E+3 → '4500')."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "+0") else text


def _quoted(typed: str) -> str:
    return f"「{typed}」"


def convert(path: str, text: str, typed: str | None = None) -> Any:
    """The JSON value for a field from what a scenario wrote. Raises ScenarioError if it cannot be one.

    ``typed`` is the field's name as the scenario wrote it (2024年度营业收入), for the message.
    """
    tp = leaf_type(path)
    name = _quoted(typed or path)
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    key = norm(raw)
    if key in UNKNOWN_WORDS or raw == "":
        return _UNKNOWN
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if key in NONE_HELD_WORDS:
            return None
        raise ScenarioError(
            f"{name}是一组信息，只能写 无（没有）或 未知；请分别填写它的各项，如 {path}.issued_on"
        )
    if tp is bool:
        if key in TRUE_WORDS:
            return True
        if key in FALSE_WORDS:
            return False
        raise ScenarioError(f"{name}应为 是 或 否，收到 {text!r}")
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return _enum_value(tp, raw)
        except ScenarioError as e:
            raise ScenarioError(f"{name}：{e}") from None
    if tp is dt.date:
        if key in NONE_HELD_WORDS:
            return None  # honours and certificates: null records that the enterprise holds none
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise ScenarioError(f"{name}应为日期，写成 YYYY-MM-DD，如 2024-12-01；收到 {text!r}") from None
    unit = field_unit(path)
    if tp is int:
        number = parse_number(_strip_unit(raw, unit))
        if number is None or number != number.to_integral_value():
            raise ScenarioError(f"{name}{EXAMPLE_OF.get(unit or '', '应为整数')}；收到 {text!r}")
        return int(number)
    if tp is Decimal:
        number = money_in_wan_yuan(raw) if unit == "wan_yuan" else parse_number(_strip_unit(raw, unit))
        if number is None:
            raise ScenarioError(f"{name}{EXAMPLE_OF.get(unit or '', '应为数值')}；收到 {text!r}")
        return plain(number)  # the contract takes decimals as strings: no float on the way
    return raw


def _strip_unit(raw: str, unit: str | None) -> str:
    for word in UNIT_WORDS.get(unit or "", ()):
        if raw.endswith(word):
            return raw[: -len(word)].strip()
    return raw


class _Unknown:
    def __repr__(self) -> str:
        return "未知"


_UNKNOWN = _Unknown()


# ------------------------------------------------------------------ editing


def _entry(items: list[dict], list_name: str, key: str, create: bool) -> dict | None:
    ident, cast = LIST_KEYS[list_name]
    try:
        wanted = cast(key)
    except ValueError:
        raise ScenarioError(f"{list_name}[{key}]：{ident} 应为{'年份' if cast is int else '编号'}") from None
    for item in items:
        if item.get(ident) == wanted:
            return item
    if not create:
        return None
    item = {ident: wanted}
    items.append(item)
    if list_name == "fiscal_years":
        items.sort(key=lambda x: x["year"])
    return item


def set_field(profile: dict, path: str, text: str, typed: str | None = None) -> None:
    """Set one field (creating the fiscal year, project or certificate it belongs to), or remove it.

    ``typed``: the field's name as the scenario wrote it, for the message of a value that cannot be one.
    """
    segments = parse_path(path)
    owner = tuple(n for n, _ in segments[:-1])
    if owner in REQUIRED_DEFAULTS and norm(text) in NONE_HELD_WORDS and leaf_type(path) is not bool:
        # 证书颁发日期 无 / 入库年度 无: the enterprise holds no such certificate at all
        set_field(profile, ".".join(owner), text)
        return
    value = convert(path, text, typed)
    node: dict = profile
    for i, (name, key) in enumerate(segments):
        last = i == len(segments) - 1
        if key is not None:
            items = node.get(name)
            if items is None:
                items = node[name] = []
            if last and (value is _UNKNOWN or value is None):
                found = _entry(items, name, key, create=False)
                if found is not None:
                    items.remove(found)
                return
            entry = _entry(items, name, key, create=True)
            assert entry is not None
            node = entry
            continue
        if last:
            if value is _UNKNOWN:
                node.pop(name, None)
            else:
                node[name] = value
            return
        child = node.get(name)
        if child is None:
            if value is _UNKNOWN:
                return  # nothing there to remove
            prefix = tuple(n for n, _ in segments[: i + 1])
            child = node[name] = copy.deepcopy(REQUIRED_DEFAULTS.get(prefix, {}))
        node = child


def remove_field(profile: dict, path: str) -> None:
    """Make a field unknown (absent): a fiscal year, a project or a certificate goes as a whole."""
    set_field(profile, path, "未知")


def new_profile() -> dict:
    return {"credit_code": DEFAULT_CREDIT_CODE}


def example_names() -> list[str]:
    return sorted({p.stem for d in EXAMPLE_DIRS if d.exists() for p in d.glob("*.json")})


def load_example(name: str) -> tuple[dict, str | None]:
    """A named example profile (features/examples/ first, then tests/examples/) and its as_of."""
    stem = name.strip().removesuffix(".json")
    for folder in EXAMPLE_DIRS:
        path = folder / f"{stem}.json"
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "profile" in data:
                return copy.deepcopy(data["profile"]), data.get("as_of")
            return copy.deepcopy(data), None
    raise ScenarioError(f"没有名为 {name!r} 的示例。可用示例：{', '.join(example_names())}")


def table_rows(datatable: list[list[str]] | None) -> list[tuple[str, str]]:
    """(field, value) rows of a two-column table; a header row such as | 字段 | 值 | is skipped."""
    if not datatable:
        raise ScenarioError("这一步需要一个两列的表格：| 字段 | 值 |")
    rows = [list(r) for r in datatable]
    headers = {norm(w) for w in ("字段", "信息", "项目", "路径", "名称", "field", "path", "name")}
    if (
        rows
        and len(rows[0]) >= 2
        and norm(rows[0][0]) in headers
        and norm(rows[0][1]) in {norm(w) for w in ("值", "取值", "数值", "value")}
    ):
        rows = rows[1:]
    out = []
    for r in rows:
        if len(r) != 2:
            raise ScenarioError(f"表格每行应有两列（字段 | 值），这一行有 {len(r)} 列：{r}")
        out.append((r[0], r[1]))
    return out


__all__ = [
    "DEFAULT_CREDIT_CODE",
    "ScenarioError",
    "convert",
    "example_names",
    "field_catalogue",
    "load_example",
    "new_profile",
    "remove_field",
    "resolve_field",
    "set_field",
    "table_rows",
]
