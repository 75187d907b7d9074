"""The durable-rules backend and the plain-Python backend give the same verdicts: every node's
status, outcome, decisive and moot flags, machine values, missing facts, benefit and scores.

durable-rules compares scaled integers (engine/durable.py); Python compares the exact Decimal,
date and enum values. Profiles cluster on the thresholds and drop fields at random, so that
boundary values and missing facts are exercised on every run (≥ 2,000 profiles).
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine, Profile, Verdict
from tests.population import AS_OF, profile

DURABLE = Engine(backend="durable")
PYTHON = Engine(backend="python")


def verdicts(engine: Engine, p: Profile, as_of) -> tuple[Verdict, ...]:
    return engine.evaluate(p, as_of).verdicts


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False)
@given(
    seed=st.integers(min_value=0, max_value=2**48),
    p_missing=st.sampled_from([0.0, 0.05, 0.3]),
    shift=st.integers(-400, 400),
)
def test_both_backends_give_the_same_verdict_on_every_criterion(seed, p_missing, shift):
    p = Profile.model_validate(profile(random.Random(seed), p_missing))
    from datetime import timedelta

    as_of = AS_OF + timedelta(days=shift)
    assert verdicts(DURABLE, p, as_of) == verdicts(PYTHON, p, as_of)


def test_the_property_test_sees_every_outcome():
    """A guard on the generator: agreement is only worth something if verdicts vary."""
    seen = set()
    for seed in range(300):
        p = Profile.model_validate(profile(random.Random(seed), 0.05))
        for v in verdicts(DURABLE, p, AS_OF):
            seen.add(v.outcome)
    assert {"eligible", "ineligible", "undetermined"} <= seen
