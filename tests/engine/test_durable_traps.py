"""The durable-rules traps (docs/engine.md §6.2) that the other tests do not reach:
an action loop interrupted by an error, and an assert that completes no action."""

from __future__ import annotations

import random

import pytest

import engine.durable as durable
from engine import Engine, EngineError, Profile
from tests.population import AS_OF, profile


def _statuses(result: dict) -> list[tuple]:
    return [
        (r["measure_id"], r["outcome"], tuple(c["status"] for c in r["criteria"])) for r in result["results"]
    ]


@pytest.fixture
def applicant() -> Profile:
    return Profile.model_validate(profile(random.Random(11)))


def test_an_error_inside_the_action_loop_leaves_the_session_usable(applicant):
    """Interrupted, a session stays leased for 60 s and the next evaluation on it silently gets no
    actions: the loop must be drained even when it is left by an exception."""
    engine = Engine(backend="durable")
    expected = _statuses(Engine(backend="python").explain(applicant, AS_OF))
    engine.explain(applicant, AS_OF)  # rulesets created

    class FailingOnce(dict):
        """A ruleset's rule table that fails when the first fired rule is looked up."""

        calls = 0

        def get(self, key, default=None):
            FailingOnce.calls += 1
            if FailingOnce.calls == 1:
                raise RuntimeError("interrupted")
            return super().get(key, default)

    for handle in engine.backend._handles.values():
        for rs in handle.rulesets:
            rs.unmet_of = FailingOnce(rs.unmet_of)
    with pytest.raises(RuntimeError, match="interrupted"):
        engine.explain(applicant, AS_OF)
    assert FailingOnce.calls >= 1
    # the same session id is taken again (the pool reuses the last one given back)
    for _ in range(3):
        assert _statuses(engine.explain(applicant, AS_OF)) == expected


def test_an_assert_that_completes_no_action_is_an_error_never_a_verdict(applicant, monkeypatch):
    engine = Engine(backend="durable")
    engine.explain(applicant, AS_OF)  # rulesets created
    monkeypatch.setattr(durable.dre, "start_action_for_state", lambda handle, state: None)
    with pytest.raises(EngineError, match="completed no action"):
        engine.explain(applicant, AS_OF)
