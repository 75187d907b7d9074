"""Which criteria decide an outcome (``decisive``) and which cannot change it (``moot``): the
summary names the decisive failures, the table hides the moot, and screening counts only decisive
failures of an ineligible result.

The established enterprise is a TSME by its score (第六条（五）): the direct routes of 第八条 — a
high-tech certificate, a national award, a standard it led — are alternatives of an any-of group that
is met. With a serious environmental violation (第六条（四）) it is ineligible, and the one reason is
that violation."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from engine import Engine, Options, Profile
from engine.judge import combine
from engine.population import Population
from engine.table import table_of
from tests.conftest import criterion
from tests.population import AS_OF, population

RULES = Path(__file__).resolve().parents[2] / "rules"


def failed_by(
    engine: Engine, profiles: list, as_of, measures: list[str] | None = None
) -> dict[tuple, list[str]]:
    """The criteria that failed each verdict as a stored screening result names them
    (``Population.failed``): by (profile index, measure, subject)."""
    pop = Population(engine, measures)
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    v = pop.verdicts(table_of([Profile.model_validate(p) for p in profiles]), day)
    v = v.with_columns(pop.failed(v, day))
    return {(r["row"], r["measure_id"], r["subject_id"]): r["failed"] for r in v.iter_rows(named=True)}


def failed_criteria(engine: Engine, profile: dict, as_of, measure: str) -> list[str]:
    return failed_by(engine, [profile], as_of, [measure])[(0, measure, None)]


def _tsme(result: dict) -> dict:
    return next(r for r in result["results"] if r["measure_id"] == "tsme-evaluation")


def _violating(established: dict) -> dict:
    established["profile"]["compliance"]["serious_environmental_violation_within_1y"] = True
    return established


def test_an_ineligible_summary_names_only_the_criterion_that_failed_it(engine, established):
    p = _violating(established)
    result = engine.explain(p["profile"], p["as_of"], measures=["tsme-evaluation"])
    r = _tsme(result)
    assert r["outcome"] == "ineligible"
    assert r["explanation"] == "未满足：未发生严重环境违法行为"
    en = _tsme(engine.explain(p["profile"], p["as_of"], measures=["tsme-evaluation"], lang="en"))
    assert en["explanation"] == "not met: No serious environmental violation"
    assert failed_criteria(engine, p["profile"], p["as_of"], "tsme-evaluation") == [
        "art6_4_no_environmental_violation"
    ]


def test_alternatives_of_a_met_any_of_group_neither_decide_nor_matter(engine, established):
    p = _violating(established)
    result = engine.explain(p["profile"], p["as_of"], measures=["tsme-evaluation"])
    certificate = criterion(result, "tsme-evaluation", "art8_1_valid_hte_certificate")
    assert certificate["status"] == "unmet"
    assert (certificate["decisive"], certificate["moot"]) == (False, True)
    violation = criterion(result, "tsme-evaluation", "art6_4_no_environmental_violation")
    assert (violation["status"], violation["decisive"], violation["moot"]) == ("unmet", True, False)
    # the chain above the reason decides too; the met any-of group does not (the outcome is a failure)
    assert criterion(result, "tsme-evaluation", "art6_4_integrity")["decisive"] is True
    assert criterion(result, "tsme-evaluation", "all_conditions")["decisive"] is True
    assert criterion(result, "tsme-evaluation", "qualification")["decisive"] is False
    assert criterion(result, "tsme-evaluation", "art6_1_resident_enterprise")["decisive"] is False


def test_in_an_eligible_result_the_met_route_decides_and_the_others_are_moot(engine, established):
    result = engine.explain(established["profile"], established["as_of"], measures=["tsme-evaluation"])
    r = _tsme(result)
    assert r["outcome"] == "eligible"
    assert failed_criteria(engine, established["profile"], established["as_of"], "tsme-evaluation") == []
    assert criterion(result, "tsme-evaluation", "art6_5_score_route")["decisive"] is True
    assert criterion(result, "tsme-evaluation", "art6_5_score_at_least_60")["decisive"] is True
    assert criterion(result, "tsme-evaluation", "art8_direct")["moot"] is True
    assert criterion(result, "tsme-evaluation", "art8_1_valid_hte_certificate")["moot"] is True


def test_an_alternative_of_an_undecided_any_of_group_is_not_moot(engine):
    """An unmet alternative of an any-of group that is still unknown decides nothing yet, but meeting
    it would decide the measure: it is not moot, and its remedy stands."""
    p = population(300, seed=41)[43]
    result = engine.explain(p, AS_OF, measures=["angel-venture-support"])
    r = result["results"][0]
    assert r["outcome"] == "undetermined"
    c = criterion(result, "angel-venture-support", "tsme_registered")
    assert (c["status"], c["decisive"], c["moot"]) == ("unmet", False, False)
    assert c["remedy"]
    fixed = dict(
        p,
        certifications={
            **(p.get("certifications") or {}),
            "tsme": {"registration_no": "202437010100001234", "year": 2025},
        },
    )
    after = engine.explain(fixed, AS_OF, measures=["angel-venture-support"])["results"][0]
    assert after["outcome"] == "eligible"


def test_compact_results_carry_the_same_flags(engine, established):
    p = _violating(established)
    full = _tsme(engine.explain(p["profile"], p["as_of"], measures=["tsme-evaluation"]))
    compact = _tsme(
        engine.answer(p["profile"], p["as_of"], measures=["tsme-evaluation"], options=Options("compact"))
    )
    flags = {
        c["id"]: (c["decisive"], c["moot"])
        for c in full["criteria"]
        if c["kind"] == "criterion" and c["status"] != "met"
    }
    assert {c["id"]: (c["decisive"], c["moot"]) for c in compact["criteria"]} == flags
    assert compact["explanation"] == full["explanation"]


def _recombine(criteria: list[dict], statuses: dict[str, str]) -> str:
    """The top's status from the leaves' statuses, by the contract's combination over the tree."""
    children: dict[str | None, list[dict]] = {}
    for c in criteria:
        children.setdefault(c["parent"], []).append(c)

    def status(c: dict) -> str:
        if c["kind"] == "criterion":
            return statuses[c["id"]]
        return combine(c["kind"], [status(k) for k in children[c["id"]]])

    return status(children[None][0])


def test_the_flags_mean_what_they_say_on_random_profiles(engine):
    """On every result of a seeded population, by recombining the tree:
    - the decisive criteria alone carry the outcome: with every other criterion turned against it
      (met for an ineligible result, unmet for an eligible one), the outcome stands;
    - a moot criterion changes nothing: set to met, unmet or unknown, the top keeps its status;
    - an ineligible result names at least one decisive failure, and only decisive unmet criteria."""
    checked = {"ineligible": 0, "eligible": 0, "moot": 0}
    people = population(300, seed=41)
    stored = failed_by(engine, people, AS_OF)
    for i, p in enumerate(people):
        for r in engine.explain(p, AS_OF)["results"]:
            crit = r["criteria"]
            if not crit:
                continue
            leaves = {c["id"]: c["status"] for c in crit if c["kind"] == "criterion"}
            top = _recombine(crit, leaves)
            flags = {c["id"]: c for c in crit}
            if r["outcome"] in ("ineligible", "eligible"):
                against = "met" if r["outcome"] == "ineligible" else "unmet"
                turned = {k: s if flags[k]["decisive"] else against for k, s in leaves.items()}
                assert _recombine(crit, turned) == top, (r["measure_id"], "decisive")
                checked[r["outcome"]] += 1
            for k in leaves:
                if flags[k]["moot"]:
                    for s in ("met", "unmet", "unknown"):
                        assert _recombine(crit, {**leaves, k: s}) == top, (r["measure_id"], k)
                    checked["moot"] += 1
            if r["outcome"] == "ineligible":
                failed = stored[(i, r["measure_id"], r["subject"].get("id"))]
                assert failed and all(flags[f]["status"] == "unmet" for f in failed)
                assert r["explanation"].startswith("未满足：") and r["explanation"] != "未满足："
    assert min(checked.values()) > 20, checked  # the population exercises every case


# ------------------------------------------------------------------ a criterion inside ``not``


@pytest.fixture(scope="module")
def not_pack(tmp_path_factory) -> Path:
    """HTE recognition with "resident enterprise" written as not(resident = false): the same rule."""
    root = tmp_path_factory.mktemp("not-pack")
    (root / "national").mkdir()
    if (RULES / "pack.yaml").exists():
        shutil.copy(RULES / "pack.yaml", root / "pack.yaml")
    text = (RULES / "national" / "hte-recognition.yaml").read_text(encoding="utf-8")
    old = """    - id: resident_enterprise
      label: {zh: 居民企业, en: Resident enterprise}
      fact: resident_enterprise
      op: eq
      value: true
"""
    new = """    - id: not_non_resident
      label: {zh: 不是非居民企业, en: Not a non-resident enterprise}
      not:
        id: resident_enterprise
        label: {zh: 非居民企业, en: Non-resident enterprise}
        fact: resident_enterprise
        op: eq
        value: false
"""
    assert old in text
    text = text.replace(old, new, 1)
    # the leaf moved two columns right: its remaining keys follow it
    text = text.replace(
        "      unit: bool\n      clause: 第二条\n      quote: 本办法所称",
        "        unit: bool\n        clause: 第二条\n        quote: 本办法所称",
        1,
    )
    (root / "national" / "hte-recognition.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("backend", ["durable", "python"])
def test_a_failure_through_not_is_named_by_the_not_in_full_and_compact(not_pack, established, backend):
    engine = Engine(rules_dir=not_pack, backend=backend)
    established["profile"]["resident_enterprise"] = False
    results = {
        d: engine.answer(established["profile"], established["as_of"], options=Options(d))["results"][0]
        for d in ("full", "compact")
    }
    for r in results.values():
        assert r["outcome"] == "ineligible"
        assert r["explanation"] == "未满足：不是非居民企业"
    assert failed_criteria(engine, established["profile"], established["as_of"], "hte-recognition") == [
        "not_non_resident"
    ]
    leaf = next(c for c in results["full"]["criteria"] if c["id"] == "resident_enterprise")
    assert (leaf["status"], leaf["decisive"]) == ("met", True)  # the reason the not failed


@pytest.mark.parametrize("backend", ["durable", "python"])
def test_an_unmet_criterion_inside_a_not_that_is_met_is_no_failure(not_pack, established, backend):
    engine = Engine(rules_dir=not_pack, backend=backend)
    r = engine.answer(established["profile"], established["as_of"], options=Options("compact"))["results"][0]
    assert r["outcome"] == "eligible"
    inner = next(c for c in r["criteria"] if c["id"] == "resident_enterprise")
    assert (inner["status"], inner["decisive"]) == ("unmet", True)  # unmet is what the not needs
    assert failed_criteria(engine, established["profile"], established["as_of"], "hte-recognition") == []


def _group(id_: str, kind: str, children: list):
    from engine.schema import Group

    key = "not_" if kind == "not" else kind
    return Group.model_construct(id=id_, **{key: children[0] if kind == "not" else children})


def _leaf(id_: str):
    from engine.schema import Leaf

    return Leaf.model_construct(id=id_)


def test_moot_under_not_follows_the_polarity_the_not_gives():
    """not(all(A, B)) needs the all-of group to fail: with A unmet it does, so B — unknown, or even
    met — cannot help, and is moot; A is the reason. Under a plain any-of group met by A, B is moot;
    under one still unknown, an unmet B is not."""
    from types import SimpleNamespace

    from engine.compile import group_plan
    from engine.judge import decisive_nodes
    from engine.schema import walk

    def flags(tree, statuses):
        ids = [n.id for n, _ in walk(tree)]  # the statuses of a verdict follow the reading order
        index = {node_id: i for i, node_id in enumerate(ids)}
        cm = SimpleNamespace(measure=SimpleNamespace(criteria=tree), plan=group_plan(tree), node_index=index)
        return decisive_nodes(cm, tuple(statuses[i] for i in ids))

    tree = _group("top", "not", [_group("g", "all", [_leaf("a"), _leaf("b")])])
    for b in ("unknown", "met", "manual_review"):
        decisive, moot = flags(tree, {"a": "unmet", "b": b, "g": "unmet", "top": "met"})
        assert moot == {"b"} and {"top", "g", "a"} <= decisive and "b" not in decisive
    tree = _group("top", "any", [_leaf("a"), _leaf("b")])
    assert flags(tree, {"a": "met", "b": "unmet", "top": "met"})[1] == {"b"}
    assert flags(tree, {"a": "unknown", "b": "unmet", "top": "unknown"})[1] == set()
