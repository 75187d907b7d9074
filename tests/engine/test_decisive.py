"""Which criteria decide an outcome (``decisive``): the summary names those, the table shows only
those that matter, and screening counts only those as the criterion that failed.

The established enterprise is a TSME by its score (第六条（五）): the direct routes of 第八条 — a
high-tech certificate, a national award, a standard it led — are unmet alternatives of an any-of group
that is met. With a serious environmental violation (第六条（四）) it is ineligible, and the one
reason is that violation."""

from __future__ import annotations

from engine.evaluate import combine
from tests.conftest import criterion


def _tsme(result: dict) -> dict:
    return next(r for r in result["results"] if r["measure_id"] == "tsme-evaluation")


def _violating(established: dict) -> dict:
    established["profile"]["compliance"]["serious_environmental_violation_within_1y"] = True
    return established


def test_an_ineligible_summary_names_only_the_criterion_that_failed_it(engine, established):
    p = _violating(established)
    result = engine.evaluate(p["profile"], p["as_of"], measures=["tsme-evaluation"])
    r = _tsme(result)
    assert r["outcome"] == "ineligible"
    assert r["explanation"] == "未满足：未发生严重环境违法行为"
    en = _tsme(engine.evaluate(p["profile"], p["as_of"], measures=["tsme-evaluation"], lang="en"))
    assert en["explanation"].count(",") == 0 and en["explanation"].startswith("not met: ")


def test_unmet_alternatives_of_a_met_any_of_group_do_not_decide(engine, established):
    p = _violating(established)
    result = engine.evaluate(p["profile"], p["as_of"], measures=["tsme-evaluation"])
    certificate = criterion(result, "tsme-evaluation", "art8_1_valid_hte_certificate")
    assert certificate["status"] == "unmet" and certificate["decisive"] is False
    violation = criterion(result, "tsme-evaluation", "art6_4_no_environmental_violation")
    assert violation["status"] == "unmet" and violation["decisive"] is True
    # the chain above the reason decides too; the met any-of group does not (the outcome is a failure)
    assert criterion(result, "tsme-evaluation", "art6_4_integrity")["decisive"] is True
    assert criterion(result, "tsme-evaluation", "all_conditions")["decisive"] is True
    assert criterion(result, "tsme-evaluation", "qualification")["decisive"] is False
    assert criterion(result, "tsme-evaluation", "art6_1_resident_enterprise")["decisive"] is False


def test_in_an_eligible_result_the_met_route_decides_and_the_others_do_not(engine, established):
    result = engine.evaluate(established["profile"], established["as_of"], measures=["tsme-evaluation"])
    assert _tsme(result)["outcome"] == "eligible"
    assert criterion(result, "tsme-evaluation", "art6_5_score_route")["decisive"] is True
    assert criterion(result, "tsme-evaluation", "art6_5_score_at_least_60")["decisive"] is True
    assert criterion(result, "tsme-evaluation", "art8_direct")["decisive"] is False
    assert criterion(result, "tsme-evaluation", "art8_1_valid_hte_certificate")["decisive"] is False


def test_compact_results_carry_the_same_flag(engine, established):
    p = _violating(established)
    full = _tsme(engine.evaluate(p["profile"], p["as_of"], measures=["tsme-evaluation"]))
    compact = _tsme(engine.evaluate(p["profile"], p["as_of"], measures=["tsme-evaluation"], detail="compact"))
    flags = {
        c["id"]: c["decisive"] for c in full["criteria"] if c["kind"] == "criterion" and c["status"] != "met"
    }
    assert {c["id"]: c["decisive"] for c in compact["criteria"]} == flags
    assert compact["explanation"] == full["explanation"]


def test_decisive_nodes_follow_the_combination_on_random_profiles(engine):
    """On every result of a seeded population: the top decides; a decisive group's children decide
    exactly when their status is the one the group's status comes from; and an ineligible outcome
    always has a decisive unmet criterion (the summary never comes out empty)."""
    from tests.population import AS_OF, population

    negate = {"met": "unmet", "unmet": "met"}
    for p in population(300, seed=41):
        for r in engine.evaluate(p, AS_OF)["results"]:
            rows = {c["id"]: c for c in r["criteria"]}
            for c in r["criteria"]:
                parent = rows.get(c["parent"])
                if parent is None:
                    assert c["decisive"] is True
                    continue
                want = (
                    negate.get(parent["status"], parent["status"])
                    if parent["kind"] == "not"
                    else parent["status"]
                )
                assert c["decisive"] is (parent["decisive"] and c["status"] == want), (
                    r["measure_id"],
                    c["id"],
                )
            groups = [c for c in r["criteria"] if c["kind"] in ("all", "any")]
            for g in groups:  # the flag is consistent with the three-valued combination itself
                kids = [c["status"] for c in r["criteria"] if c["parent"] == g["id"]]
                assert combine(g["kind"], kids) == g["status"]
            if r["outcome"] == "ineligible":
                assert any(
                    c["decisive"] and c["status"] == "unmet" and c["kind"] == "criterion"
                    for c in r["criteria"]
                )
                assert r["explanation"].startswith("未满足：") and r["explanation"] != "未满足："
