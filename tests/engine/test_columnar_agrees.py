"""The columnar backend gives the per-profile engine's verdicts (engine/columnar.py): on ≥ 5,000
profiles per run, clustered on the thresholds, with missing fields, projects and shifted assessment
dates, every node's status, the outcome, the decisive and moot flags, the missing facts in order, the
reason a measure does not apply and the benefit's tier and amount are identical."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine, Profile
from engine.columnar import ColumnarEvaluator, flags_of
from engine.table import profile_of, table_of
from tests.population import AS_OF, profile

ENGINE = Engine(backend="python")
CHAR = {"met": "m", "unmet": "u", "unknown": "?", "manual_review": "!"}
BATCH = 500


def _expected(p: Profile, as_of: dt.date) -> list[tuple]:
    ev = ENGINE.evaluate(p, as_of)
    out = []
    for v in ev.verdicts:
        b = v.benefit
        out.append(
            (
                v.measure_id,
                v.subject.id,
                v.subject.name,
                v.outcome,
                "".join(CHAR[s] for s in v.statuses),
                list(v.missing_facts),
                v.reason,
                b.tier if b else None,
                b.amount if b else None,
                (v.decisive, v.moot) if v.statuses else None,
            )
        )
    return out


def _columnar(profiles: list[Profile], as_of: dt.date) -> dict[int, list[tuple]]:
    cp = ENGINE.compiled(as_of)
    table = ColumnarEvaluator(cp, as_of).evaluate(table_of(profiles))
    memo: dict = {}
    out: dict[int, list[tuple]] = {}
    for r in table.iter_rows(named=True):
        cm = cp.measures[r["measure_id"]]
        amount = Decimal(r["benefit_amount"]) if r["benefit_amount"] is not None else None
        # the amount is written without trailing zeros (400.56, not 400.560000000000)
        assert amount is None or r["benefit_amount"] == format(amount.normalize(), "f"), r["benefit_amount"]
        out.setdefault(r["row"], []).append(
            (
                r["measure_id"],
                r["subject_id"],
                r["subject_name"],
                r["outcome"],
                r["statuses"],
                r["missing_facts"],
                r["reason"],
                r["benefit_tier"],
                amount,
                flags_of(cm, r["statuses"], memo) if r["statuses"] else None,
            )
        )
    return out


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**48),
    p_missing=st.sampled_from([0.0, 0.05, 0.3]),
    shift=st.integers(-800, 800),
)
def test_the_columnar_backend_gives_the_engines_verdicts(seed, p_missing, shift):
    rng = random.Random(seed)
    profiles = [Profile.model_validate(profile(rng, p_missing)) for _ in range(BATCH)]
    as_of = AS_OF + dt.timedelta(days=shift)
    got = _columnar(profiles, as_of)
    for i, p in enumerate(profiles):
        want = _expected(p, as_of)
        have = got.get(i, [])
        for w, h in zip(want, have, strict=False):
            assert h == w, (p.credit_code, as_of, w[0], w[1])
        assert len(have) == len(want), (p.credit_code, as_of)


def test_the_property_sees_what_it_should():
    """A guard on the generator: every outcome, projects, missing facts and benefits occur."""
    rng = random.Random(7)
    profiles = [Profile.model_validate(profile(rng, 0.1)) for _ in range(BATCH)]
    rows = [r for rs in _columnar(profiles, AS_OF).values() for r in rs]
    assert {r[3] for r in rows} >= {
        "eligible",
        "ineligible",
        "undetermined",
        "needs_review",
        "not_applicable",
    }
    assert any(r[1] is not None for r in rows)  # project subjects
    assert any(r[5] for r in rows)  # missing facts named
    assert any(r[7] for r in rows) and any(r[8] for r in rows)  # a benefit tier, an amount


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**48), p_missing=st.sampled_from([0.0, 0.05, 0.3]))
def test_a_profile_comes_back_whole_from_its_table_row(seed, p_missing):
    """Stored screening rows are kept as table rows: ``profile_of`` gives back the profile, every
    field (certificate numbers and project names included) equal."""
    rng = random.Random(seed)
    profiles = [Profile.model_validate(profile(rng, p_missing)) for _ in range(BATCH)]
    table = table_of(profiles)
    for i, p in enumerate(profiles):
        assert Profile.model_validate(profile_of(table.row(i, named=True))) == p, p.credit_code


def test_failed_criteria_nodes_and_reasons_of_a_verdict_row_are_the_engines():
    """What a stored verdict row says without its facts (``Population.failed``, ``nodes`` and
    ``reasons``) is what the engine says of the same verdict: the decisive failures, every node's
    status and flags, and the words (``Engine.reasons``), in both languages."""
    from engine.population import Population

    rng = random.Random(11)
    profiles = [Profile.model_validate(profile(rng, 0.1)) for _ in range(BATCH)]
    pop = Population(ENGINE)
    verdicts = pop.verdicts(table_of(profiles), AS_OF)
    table = verdicts.with_columns(pop.failed(verdicts, AS_OF), pop.reasons(verdicts, AS_OF, "zh"))
    english = pop.reasons(verdicts, AS_OF, "en").to_list()
    rows = table.iter_rows(named=True)
    n = 0
    for p in profiles:
        ev = ENGINE.evaluate(p, AS_OF)
        for v in ev.verdicts:
            r = next(rows)
            nodes = ev.nodes(v)
            failed = [
                x.id for x in nodes if x.status == "unmet" and x.decisive and x.kind in ("criterion", "not")
            ]
            assert r["failed"] == (failed if v.outcome == "ineligible" else []), (p.credit_code, v.measure_id)
            assert pop.nodes(v.measure_id, r["statuses"], AS_OF) == [
                {"id": x.id, "kind": x.kind, "status": x.status, "decisive": x.decisive, "moot": x.moot}
                for x in nodes
            ]
            assert r["reasons"] == ENGINE.reasons(v, "zh") and english[n] == ENGINE.reasons(v, "en")
            n += 1
    assert (table["failed"].list.len() > 0).any() and table["reasons"].n_unique() > 50
