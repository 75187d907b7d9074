"""The Jinan rule files as data: provisional, quoted verbatim from the work plan, every reading marked.

The work plan (rules/sources/jinan-2023-st-work-plan.zh.txt, the seed text kept in the repository) is cited by section and item: "五、9" is
section 五, item 9; "序言" is its opening paragraph. A quote cited to the plan must appear in that item
word for word, punctuation included (the plan mixes half-width "," ";" "()" with full-width marks).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.loader import DEFAULT_RULES_DIR, load_pack
from engine.schema import Group, Leaf, Status, walk

# the work plan's text kept beside the rules, so that the check never depends on what lies outside the repo
SEED = Path(__file__).resolve().parents[2] / "rules" / "sources" / "jinan-2023-st-work-plan.zh.txt"
FIXED_IDS = {"hte-cultivation-subsidy", "st-finance-whitelist", "lump-sum-funding-pilot", "land-use-priority"}
PLAN_CLAUSE = re.compile(r"^(序言|[一二三四五六七八九十]+、(\d+))$")


@pytest.fixture(scope="module")
def pack():
    return load_pack(DEFAULT_RULES_DIR)


@pytest.fixture(scope="module")
def jinan(pack):
    return {mid: m for mid, m in pack.measures.items() if m.issuer == "jinan"}


@pytest.fixture(scope="module")
def plan_items() -> dict[str, str]:
    """Item number ("9") → its text; "序言" → the paragraph before section 一."""
    text = SEED.read_text(encoding="utf-8")
    items = {m.group(1): m.group(2) for m in re.finditer(r"\n(\d+)\.(.*)", text)}
    items["序言"] = next(line for line in text.splitlines() if line.startswith("为深入贯彻落实"))
    return items


def _texts_for(clause: str, items: dict[str, str]) -> list[str] | None:
    """The plan items a clause cites, or None when it cites another document."""
    parts = [p.strip() for p in re.split(r"[；;]", clause)]
    found = []
    for part in parts:
        m = PLAN_CLAUSE.match(part)
        if m:
            found.append(items["序言" if part == "序言" else m.group(2)])
    return found or None


def _quoted(m):
    yield "source", m.source.clause, m.source.quote
    for node, _ in walk(m.criteria):
        if node.quote is not None and node.clause is not None:
            yield node.id, node.clause, node.quote


def test_the_fixed_jinan_ids_and_at_least_five_further_measures_exist(jinan):
    assert FIXED_IDS <= set(jinan)
    assert len(set(jinan) - FIXED_IDS) >= 5


def test_every_jinan_measure_is_provisional_and_filed_under_its_id(pack, jinan):
    for mid, m in jinan.items():
        assert m.status == "provisional", mid
        assert pack.files[mid] == f"rules/jinan/{mid}.yaml"
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", mid), mid


def test_every_jinan_parameter_value_is_provisional_and_listed(pack, jinan):
    listed = {(r["measure_id"], r["parameter"]) for r in pack.provisional()}
    for mid, m in jinan.items():
        for name, p in m.parameters.items():
            for since, v in p.values.items():
                assert v.status is Status.provisional, (mid, name, since)
                assert v.reference.strip(), (mid, name)
            assert (mid, name) in listed


def test_jinan_measures_start_on_the_plan_date(jinan):
    for mid, m in jinan.items():
        assert m.effective.start.isoformat() == "2023-07-17", mid


def test_every_quote_cited_to_the_plan_is_verbatim(jinan, plan_items):
    checked = 0
    for mid, m in jinan.items():
        for where, clause, quote in _quoted(m):
            texts = _texts_for(clause, plan_items)
            if texts is None:
                continue
            assert any(quote in t for t in texts), f"{mid}/{where}: {quote!r} is not in the plan at {clause}"
            checked += 1
    assert checked > 50


def test_source_clauses_cite_the_plan(jinan, plan_items):
    for mid, m in jinan.items():
        assert _texts_for(m.source.clause, plan_items), mid


def test_interpretations_are_marked(jinan):
    for mid, m in jinan.items():
        for node, _ in walk(m.criteria):
            if isinstance(node, Leaf) and node.interpretation is not None:
                assert node.interpretation.startswith("INTERPRETATION:"), (mid, node.id)


def test_every_criterion_has_both_labels_and_a_reason_to_be_manual(jinan):
    for mid, m in jinan.items():
        for node, _ in walk(m.criteria):
            assert node.label.zh and node.label.en, (mid, node.id)
            if isinstance(node, Leaf) and node.op.value == "manual":
                # a person must know what to judge and why the engine cannot
                assert node.interpretation, (mid, node.id)


def test_the_pack_uses_a_measure_dependency_and_a_stacking_exclusion(jinan):
    deps = {
        (mid, node.fact)
        for mid, m in jinan.items()
        for node, _ in walk(m.criteria)
        if isinstance(node, Leaf) and node.fact and node.fact.startswith("measure.")
    }
    assert ("tech-insurance", "measure.st-finance-whitelist.outcome") in deps
    assert ("angel-venture-support", "measure.tsme-evaluation.outcome") in deps
    assert any(m.excludes for m in jinan.values())


def test_project_measures_use_only_project_facts(jinan):
    for mid, m in jinan.items():
        if m.subject != "project":
            continue
        for node, _ in walk(m.criteria):
            if isinstance(node, Leaf):
                assert node.fact.startswith("project."), (mid, node.id)


def test_groups_quote_their_clause(jinan):
    for mid, m in jinan.items():
        for node, parents in walk(m.criteria):
            if isinstance(node, Group) and parents:
                assert node.clause and node.quote, (mid, node.id)
