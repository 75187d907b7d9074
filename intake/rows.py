"""One row (or JSONL line) → a validated profile, or every bad cell with its row, column, header,
field, value and reason: the per-row path, and the slow path of the batch readers (``intake.fast``
sends it the rows its columnar checks refuse)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from engine import Profile, errors_of
from engine import message as pydantic_message

from .cells import blank, loads_bounded, text_of
from .columns import column_letter
from .errors import CellError
from .layout import Layout
from .limits import DEFAULT_LIMITS, Limits


@dataclass
class ParsedRow:
    number: int  # the row as the spreadsheet shows it (the header is row 1), or the JSONL line
    profile: dict[str, Any] | None  # the validated profile (JSON form), None when any cell is bad
    errors: list[dict[str, Any]]
    raw: dict[str, Any]  # header → the cell as given (text), so that nothing is lost
    as_of: str | None = None  # JSONL lines may carry their own
    credit_code: str | None = None
    name: str | None = None
    region_code: str | None = None
    model: Profile | None = field(default=None, repr=False, compare=False)  # the profile, validated


def set_path(doc: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = doc
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def cell_error(
    number: int, letter: str | None, header: str | None, path: str, value: Any, zh: str, en: str, lang: str
) -> dict[str, Any]:
    if isinstance(value, dt.date | dt.datetime | Decimal):
        value = text_of(value)
    elif value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)
    if isinstance(value, str) and len(value) > 200:
        value = value[:200] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        value = str(value)
    zh, en = _bilingual(zh, en)
    return {
        "row": number,
        "column": letter,
        "header": header,
        "field": path,
        "value": value,
        "reason": en if lang == "en" else zh,
    }


_BILINGUAL = re.compile(r"\s*/\s+(?=[A-Za-z])")


def _bilingual(zh: str, en: str) -> tuple[str, str]:
    """The engine's messages are often "中文 / English" in one string: keep each language's half."""
    for text in (zh, en):
        parts = _BILINGUAL.split(text, maxsplit=1)
        if len(parts) == 2 and re.search(r"[\u4e00-\u9fff]", parts[0]):
            return parts[0], parts[1]
    return zh, en


def build_row(number: int, cells: list[Any], layout: Layout, lang: str = "zh") -> ParsedRow:
    """Cells of one row → a validated profile, or every bad cell with its reason."""
    raw: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    doc: dict[str, Any] = {}
    years: dict[int, dict[str, Any]] = {}
    projects: dict[int, dict[str, Any]] = {}
    where: dict[str, tuple[str, str, Any]] = {}  # contract path → (letter, header, value) for pydantic errors
    json_projects: list[Any] = []
    width = len(cells)
    for i, col, header, letter, place, n, name, conv in layout.plan:
        v = cells[i] if i < width else None
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        raw[header] = v if isinstance(v, str) else text_of(v)  # as given, even a word for unknown
        if blank(v):
            continue
        try:
            value = conv(v)
        except CellError as e:
            errors.append(cell_error(number, letter, header, col.path, v, e.zh, e.en, lang))
            continue
        if place == "year":
            years.setdefault(n, {"year": n})[name] = value
            where[col.path] = (letter, header, v)
            continue
        if place == "project":
            projects.setdefault(n, {})[name] = value
            where[col.path] = (letter, header, v)
            continue
        if col.kind == "json":
            json_projects = value
            where["projects"] = (letter, header, v)
            continue
        set_path(doc, col.path, value)
        where[col.path] = (letter, header, v)
    if "credit_code" not in doc and not any(e["field"] == "credit_code" for e in errors):
        i = layout.index_of("credit_code")
        errors.append(
            cell_error(
                number,
                column_letter(i),
                layout.headers[i],
                "credit_code",
                None,
                "必填：统一社会信用代码为空",
                "required: the credit code is empty",
                lang,
            )
        )
    year_order = sorted(years)
    if years:
        doc["fiscal_years"] = [years[y] for y in year_order]
    project_order = sorted(projects)
    if projects or json_projects:
        doc["projects"] = [projects[n] for n in project_order] + list(json_projects)
    result = ParsedRow(number, None, errors, raw)
    result.credit_code = doc.get("credit_code") if isinstance(doc.get("credit_code"), str) else None
    result.name = doc.get("name") if isinstance(doc.get("name"), str) else None
    rc = doc.get("region_code")
    result.region_code = rc if isinstance(rc, str) and re.fullmatch(r"\d{6}", rc) else None
    try:
        profile = Profile.model_validate(doc)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            loc = tuple(err["loc"])
            path, letter, header, value = _locate(loc, year_order, project_order, len(projects), where)
            zh = pydantic_message(err, "zh")
            en = pydantic_message(err, "en")
            if value is None and err.get("type") not in ("missing",):
                value = err.get("input") if isinstance(err.get("input"), str | int | float | bool) else None
            errors.append(cell_error(number, letter, header, path, value, zh, en, lang))
        profile = None
    if errors:
        errors.sort(
            key=lambda x: (x["column"] is None, len(x["column"] or ""), x["column"] or "", x["field"])
        )
        return result
    assert profile is not None
    result.profile = profile.model_dump(mode="json", exclude_none=False)
    result.model = profile
    result.credit_code = profile.credit_code
    result.name = profile.name
    result.region_code = profile.region_code
    return result


def _locate(
    loc: tuple[Any, ...],
    year_order: list[int],
    project_order: list[int],
    numbered: int,
    where: dict[str, tuple[str, str, Any]],
) -> tuple[str, str | None, str | None, Any]:
    """A pydantic location → (contract path with year / project number, column letter, header, value)."""
    parts = [p for p in loc if not (isinstance(p, str) and (p.startswith("function-") or p[:1].isupper()))]
    if parts and parts[0] == "fiscal_years" and len(parts) >= 2 and isinstance(parts[1], int):
        year = year_order[parts[1]] if parts[1] < len(year_order) else None
        if len(parts) >= 3:
            path = f"fiscal_years[{year}].{parts[2]}"
            hit = where.get(path)
            if hit:
                return path, hit[0], hit[1], hit[2]
            return path, None, None, None
        # a rule across the year's cells (e.g. 科技人员数 ≤ 职工总数): the year's group as a whole
        cells = sorted(
            (v for k, v in where.items() if k.startswith(f"fiscal_years[{year}].")),
            key=lambda x: (len(x[0]), x[0]),
        )
        return (
            f"fiscal_years[{year}]",
            cells[0][0] if cells else None,
            f"{year}年度（整组）" if cells else None,
            None,
        )
    if parts and parts[0] == "projects" and len(parts) >= 2 and isinstance(parts[1], int):
        idx = parts[1]
        if idx < numbered:
            n = project_order[idx]
            if len(parts) >= 3:
                path = f"projects[{n}].{parts[2]}"
                hit = where.get(path)
                if hit:
                    return path, hit[0], hit[1], hit[2]
                first = where.get(f"projects[{n}].id") or next(
                    (v for k, v in where.items() if k.startswith(f"projects[{n}].")), None
                )
                return path, first[0] if first else None, first[1] if first else None, None
            return f"projects[{n}]", None, None, None
        hit = where.get("projects")
        tail = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts[1:])
        tail = tail.replace(f"[{idx}]", f"[{idx - numbered}]", 1)
        return "projects" + tail, hit[0] if hit else None, hit[1] if hit else None, None
    if parts and parts[0] == "projects":
        hit = where.get("projects")
        return "projects", hit[0] if hit else None, hit[1] if hit else None, None
    path = ".".join(str(p) for p in parts) or "(row)"
    hit = where.get(path)
    if hit:
        return path, hit[0], hit[1], hit[2]
    # a rule on a group (e.g. certifications.hte needs both number and date): its first cell
    for k, v in sorted(where.items()):
        if k.startswith(path + "."):
            return path, v[0], v[1], None
    for k, v in where.items():
        if path.startswith(k):
            return path, v[0], v[1], v[2]
    return path, None, None, None


def _refused(number: int, raw: dict[str, Any], field: str, value: Any, zh: str, en: str, lang: str) -> ParsedRow:
    """A JSONL line refused as a whole: one error, at the line or at ``field``."""
    return ParsedRow(number, None, [cell_error(number, None, None, field, value, zh, en, lang)], raw)


def parse_json_line(
    number: int, line: bytes | str | None, lang: str = "zh", limits: Limits = DEFAULT_LIMITS
) -> ParsedRow:
    if line is None:
        limit = limits.max_line_bytes
        reason = (f"这一行超过 {limit:,} 字节，未读取", f"the line is longer than {limit:,} bytes; not read")
        return _refused(number, {}, "(line)", None, *reason, lang)
    try:
        text = line.decode("utf-8-sig") if isinstance(line, bytes) else line
    except UnicodeDecodeError as e:
        reason = (f"这一行不是 UTF-8 编码（第 {e.start} 字节）", f"the line is not UTF-8 (byte {e.start})")
        return _refused(number, {}, "(line)", None, *reason, lang)
    text = text.strip()
    raw: dict[str, Any] = {"line": text if len(text) <= 100_000 else text[:100_000] + "…"}
    try:
        data = loads_bounded(text, limits.max_json_depth)
    except ValueError as e:
        return _refused(number, raw, "(line)", None, f"不是有效的 JSON：{e}", f"not valid JSON: {e}", lang)
    as_of = None
    if isinstance(data, dict) and "profile" in data:
        as_of = data.get("as_of")
        if as_of is not None:
            try:
                as_of = dt.date.fromisoformat(str(as_of)).isoformat()
            except ValueError:
                return _refused(number, raw, "as_of", as_of, "as_of 应为 YYYY-MM-DD", "as_of must be YYYY-MM-DD", lang)
        data = data["profile"]
    if not isinstance(data, dict):
        return _refused(number, raw, "(line)", None, "每行应为一个 JSON 对象", "each line must be a JSON object", lang)
    row = ParsedRow(number, None, [], raw, as_of)
    cc = data.get("credit_code")
    row.credit_code = cc if isinstance(cc, str) else None
    row.name = data.get("name") if isinstance(data.get("name"), str) else None
    try:
        profile = Profile.model_validate(data)
    except ValidationError as e:
        for err in errors_of(e, lang):
            row.errors.append(
                cell_error(
                    number, None, None, err["field"], err.get("value"), err["message"], err["message"], lang
                )
            )
        return row
    row.profile = profile.model_dump(mode="json")
    row.model = profile
    row.credit_code = profile.credit_code
    row.name = profile.name
    row.region_code = profile.region_code
    return row


