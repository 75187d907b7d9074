"""Profiles bent every way the contract forbids or barely allows, for the fast path's properties.

A mutation sets a value anywhere in a profile (a leaf, an object, a list, an item), removes a key,
adds one the contract does not know, repeats a fiscal year or a project; values come from the edges
of every field kind (bounds, one past them, a seventh decimal place, exponent notation, white space,
wrong types, Unicode digits, dates in other spellings …)."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from engine.profile import credit_code_check_char
from tests.population import population

BASE = population(300, seed=4242, p_missing=0.15)


def _code(body: str) -> str:
    return body + credit_code_check_char(body)


VALID_CODE = _code("91370100MA3C5X8Q1")
EDGE_VALUES: list[Any] = [
    # nothing, wrong types
    None, True, False, [], {}, [None], {"zzz": 1}, "",
    # numbers: bounds, places, exponents, signs, floats that do not round-trip
    0, -1, 1, 2, 1.5, -0.0, 0.1, 0.30000000000000004, 1e3, 1e-7, 1.5e-5, 2**63, 2**53 + 1,
    "0", "-0", "1.5", " 1.5", "1.5 ", "1,000", "1e3", "1E-7", "+5", ".5", "5.", "00.5", "NaN", "Infinity",
    "0.000001", "0.0000001", "1.0000000", "999999999.999999", "1000000000", "1000000000.000001",
    1000000000, 1000000001, 999999999.999999, "-0.000001", "-1000000000", "-1000000000.5", "１２", "١",
    100, 100.000001, "100", "100.0000001", 99.9999995, 70, "70.01",
    # whole numbers and years
    1948, 1949, 2016, 2017, 2024, 2100, 2101, "2024", 2024.0, 2024.5, 10_000_000, 10_000_001,
    1_000_000, 1_000_001, "12", 12.0, 12.5, "1_000",
    # texts and codes
    "a", " a", "a ", "\u3000a", "a\u200b", "x" * 64, "x" * 65, "名" * 200, "名" * 201, "P1", "P2",
    VALID_CODE, VALID_CODE.lower(), " " + VALID_CODE, VALID_CODE[:-1] + ("0" if VALID_CODE[-1] != "0" else "1"),
    VALID_CODE[:17], "91370100MA3C5X8QIO", "370102", "370102 ", "37010", "970102", "３７０１０２",
    "C3911", "C39", "C", "Z12", "c3911", "C39111",
    # enumerations, their labels and other spellings
    "private", "PRIVATE", " private", "民营", "national", "municipal", "none", "other", "platform",
    "electronic_information", "advanced_manufacturing",
    # dates
    "2024-06-30", "2024-02-29", "2023-02-29", "0001-01-01", "0000-01-01", "9999-12-31", "2024-1-5",
    "2024/06/30", "20240630", "2024-W01-1", "2024-06-30T00:00", " 2024-06-30", "2024-06-30 ",
    # booleans in other clothes
    "true", "false", 0.0, 1.0,
]
MONEY = ["0", "0.000001", "999999999.999999", "1000000000", "1000000000.000001", "12.5", 12.5, 0, 1e3, "1e3",
         "0.1234567", "5000.00", 5000, "-0", -0.0, "1,000", 0.1, 1000000000, 3.3333333]
KIND_VALUES: dict[str, list[Any]] = {
    **dict.fromkeys(
        ["sales_revenue", "total_revenue", "high_tech_revenue", "rd_expense", "rd_expense_domestic",
         "cost_and_expense", "total_assets", "land_area_mu"], MONEY),
    "net_assets": [*MONEY, "-1000000000", "-1000000000.000001", "-5.5", -5.5],
    "innovation_score": ["0", "100", "100.000001", "70.000001", "70.0000001", 69.99, "-0.000001", 100],
    **dict.fromkeys(["employees", "tech_staff"], [0, 1, 10_000_000, 10_000_001, -1, "12", 12.0]),
    **dict.fromkeys(["class_i_count", "class_ii_count"], [0, 1_000_000, 1_000_001, -1, 3.0]),
    "year": [1949, 1948, 2100, 2101, 2023, 2024, 2025, "2024", 2024.0],
    **dict.fromkeys(
        ["registered_on", "issued_on", "national_sci_award_top3_on", "led_standard_on"],
        ["2024-02-29", "2023-02-29", "0001-01-01", "9999-12-31", "2024-1-5", "2024-W01-1", None, "2015-03-01"],
    ),
    **dict.fromkeys(["certificate_no", "registration_no", "id"], ["x" * 64, "x" * 65, "", " P", "P　", "证1"]),
    "name": ["名" * 200, "名" * 201, "", "a b", " a", None, "=HYPERLINK(1)"],
    "credit_code": [VALID_CODE, VALID_CODE.lower(), " " + VALID_CODE, VALID_CODE[:17] + "Z"],
    "region_code": ["370102", "810000", "910000", "012345", "３７０１０２", "37010A"],
    "industry_code": ["A", "T9999", "U", "C3", "C39111", "c39", "I65"],
    "ownership": ["private", "other", "民营", "Private", ""],
    "tech_field": ["none", "aerospace", "new_energy", "NONE"],
    "rd_institution_level": ["national", "none", "county"],
    "category": ["talent", "other", "basic"],
    "level": ["district", "none", "county"],
    **dict.fromkeys(
        ["resident_enterprise", "prohibited_category", "core_ip_owned", "first_time", "municipal_key",
         "new_land_required", "provincial_major_implementation", "serious_research_misconduct"],
        [True, False, None, 1, "true"],
    ),
    "tsme": [{"registration_no": "R1", "year": 2017}, {"registration_no": "R1", "year": 2016}, {"registration_no": "R1"}],
    "hte": [{"certificate_no": "GR1", "issued_on": "2024-01-01"}, {"certificate_no": "GR1"}, {"issued_on": "2024-01-01"}],
}
KEYS_UNKNOWN = ["zzz", "as_of", "profile", "Name", "credit_code "]


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON document: keys of objects and indices of lists, containers included."""
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.append((*prefix, k))
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.append((*prefix, i))
            out += paths(v, (*prefix, i))
    return out


def _parent(doc: Any, path: tuple) -> Any:
    for p in path[:-1]:
        doc = doc[p]
    return doc


def mutate(doc: dict, op: str, where: int, value: Any) -> None:
    places = paths(doc)
    if not places:
        return
    path = places[where % len(places)]
    parent = _parent(doc, path)
    key = path[-1]
    if op == "set":
        parent[key] = copy.deepcopy(value)
    elif op == "kind":  # a value of the field's own kind: its edges, valid and one past them
        named = [p for p in places if p[-1] in KIND_VALUES]
        if named:
            path = named[where % len(named)]
            pool = KIND_VALUES[path[-1]]
            _parent(doc, path)[path[-1]] = copy.deepcopy(pool[(where // 7) % len(pool)])
    elif op == "delete":
        del parent[key]
    elif op == "extra":
        target = parent[key] if isinstance(parent[key], dict) else parent
        if isinstance(target, dict):
            target[KEYS_UNKNOWN[where % len(KEYS_UNKNOWN)]] = copy.deepcopy(value)
    elif op == "repeat":  # a list item twice: a repeated fiscal year or project id
        target = parent[key] if isinstance(parent[key], list) else parent
        if isinstance(target, list) and target:
            target.append(copy.deepcopy(target[where % len(target)]))
    elif op == "cross":  # the rules across a year's fields, on their edge and one past it
        years = doc.get("fiscal_years")
        for fy in years if isinstance(years, list) else []:
            if not isinstance(fy, dict):
                continue
            if type(fy.get("employees")) is int:
                fy["tech_staff"] = fy["employees"] + (where % 3) - 1
            if isinstance(fy.get("rd_expense"), str):
                fy["rd_expense_domestic"] = fy["rd_expense"] + ("1" if where % 2 else "")
            if isinstance(fy.get("total_revenue"), str):
                fy["high_tech_revenue"] = fy["total_revenue"] + ("1" if where % 5 == 0 else "")

OPS = ["kind", "kind", "kind", "kind", "set", "set", "delete", "extra", "repeat", "cross"]
mutation = st.tuples(st.sampled_from(OPS), st.integers(0, 10_000), st.sampled_from(EDGE_VALUES))


@st.composite
def profile_docs(draw: Any) -> dict:
    doc = copy.deepcopy(BASE[draw(st.integers(0, len(BASE) - 1))])
    for op, where, value in draw(st.lists(mutation, max_size=3)):
        mutate(doc, op, where, value)
    return doc


AS_OFS = ["2025-06-30", "2024-01-01", "2024-6-30", "", None, 20240101, "2024-W01-1", "2024-02-30"]


@st.composite
def json_lines(draw: Any) -> bytes:
    """One JSONL line: a profile, or ``{as_of, profile}``, written as a client might."""
    doc: Any = draw(profile_docs())
    shape = draw(st.sampled_from(["plain", "plain", "wrapped", "wrapped-extra", "null-container", "escaped-key", "junk"]))
    if shape == "wrapped":
        doc = {"as_of": draw(st.sampled_from(AS_OFS)), "profile": doc}
    elif shape == "wrapped-extra":
        doc = {"as_of": draw(st.sampled_from(AS_OFS)), "profile": doc, "name": "x"}
    elif shape == "null-container":
        doc[draw(st.sampled_from(["ip", "compliance", "certifications", "honors", "fiscal_years", "projects"]))] = None
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    if shape == "escaped-key":
        text = text.replace('"ip"', '"i\\u0070"', 1)
    elif shape == "junk":
        text = draw(st.sampled_from(["{not json", "[1, 2]", "1", text + " " + text, text[:-1], "null", '{"credit_code": NaN}']))
    return text.encode()


# ---- spreadsheet cells in every spelling a clerk or a spreadsheet program writes

CELL_SPELLINGS: dict[str, list[Any]] = {
    "money": ["1,000", "12万元", "12 万元", "１２", " 12", "12 ", "1e3", "-0", "12.", ".5", "0.0000001",
              "999999999.999999", "1000000000", "1000000001", "-5", "0", "12.500000", "007", "1,2,3", "万元", "+5"],
    "decimal": ["70", "70.000001", "70.0000001", "100", "100.5", "-1", "1e2", "85.5"],
    "int": ["2017", "2016", "2024.0", "2,024", "2024万元", " 2024", "20 24"],
    "people": ["0", "12", "12.0", "-1", "10000000", "10000001", "1,000", "１２", "12.5"],
    "count": ["0", "3", "1000000", "1000001", "3.0"],
    "bool": ["是", "否", "TRUE", "Yes", "y", "√", "×", "0", "1", "有", "无", "对", "不是", "maybe", " 是", "T", "✓"],
    "date": ["2024/1/5", "2024年1月5日", "2024-01-05 00:00:00", "2024-01-05T10:00", "2024.1.5", "2023-02-29",
             "0000-01-01", " 2024-01-05", "20240105", "2024-1-5", "2024-01-05x", "2024-13-01", "2024年1月5", "2024-01-05 \u3000"],
    "enum": ["民营", "国有", "private", "PRIVATE", "Private", "先进制造与自动化", "省级", "national", "县级", " 民营", "other"],
    "text": [" x", "x ", "\u3000x", "9.13701E+17", "123456789E12345678", "名" * 201, "x" * 65, "a\nb", 'a"b', "a,b"],
    "json": ["[]", "[{\"id\": \"P9\"}]", "[1]", "{}", "not json", "[" * 70],
}
UNKNOWN_CELLS = ["未知", "N/A", "na", "Unknown", " ", "\t", "\x1c", "\u3000"]


@st.composite
def sheet_rows(draw: Any, cols: list, lang: str = "zh") -> list[Any]:
    """One row of template cells (as text), some in unusual spellings."""
    from intake import cells_of

    doc = draw(profile_docs()) if draw(st.booleans()) else copy.deepcopy(BASE[draw(st.integers(0, len(BASE) - 1))])
    try:
        cells = cells_of(doc, cols, lang)
    except (AttributeError, TypeError, ValueError):
        cells = [""] * len(cols)
    cells = ["" if c is None else c if isinstance(c, str) else json.dumps(c) if isinstance(c, list | dict) else str(c) for c in cells]
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(cols) - 1))
        pool = CELL_SPELLINGS.get(cols[i].kind, []) + UNKNOWN_CELLS
        cells[i] = draw(st.sampled_from(pool))
    shape = draw(st.sampled_from(["row"] * 8 + ["blank", "short", "long", "only-ignored"]))
    if shape == "blank":
        cells = [draw(st.sampled_from(["", " ", "\t"]))] * len(cols)
    elif shape == "short":
        cells = cells[: draw(st.integers(1, len(cols)))]
    elif shape == "long":
        cells = cells + ["extra"]
    elif shape == "only-ignored":
        cells = [""] * len(cols)
    return cells
