"""Evaluation is safe from many threads at once: every result belongs to its own input.

The durable-rules notes measured, with a shared session, 16,836 of 20,000 results missing and 10
carrying another profile's verdicts under 8 threads; this test would catch either coming back.
"""

from __future__ import annotations

import random
import threading

from engine import Engine, Options
from engine.profile import Profile
from tests.population import AS_OF, profile


def _key(result: dict) -> list[tuple]:
    return [
        (
            r["measure_id"],
            str(r["subject"].get("id")),
            r["outcome"],
            tuple(c["status"] for c in r["criteria"]),
        )
        for r in result["results"]
    ]


def test_sixteen_threads_each_get_the_verdicts_of_their_own_profile():
    engine = Engine(backend="durable")
    reference = Engine(backend="python")
    profiles = [Profile.model_validate(profile(random.Random(seed))) for seed in range(160)]
    expected = {p.credit_code: _key(reference.explain(p, AS_OF)) for p in profiles}
    assert len(expected) == len(profiles)
    failures: list[str] = []
    counts = [0] * 16

    def worker(n: int) -> None:
        rng = random.Random(n)
        try:
            for _ in range(150):
                p = rng.choice(profiles)
                result = engine.explain(p, AS_OF)
                if result["credit_code"] != p.credit_code or _key(result) != expected[p.credit_code]:
                    failures.append(f"thread {n}: {p.credit_code}")
                counts[n] += 1
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(f"thread {n}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sum(counts) == 16 * 150


def test_more_evaluations_than_durable_rules_has_sessions_all_complete():
    """A new sid per evaluation would hit MemoryError at the 1,025th (rete.h:40)."""
    engine = Engine(backend="durable")
    p = Profile.model_validate(profile(random.Random(1)))
    first = _key(engine.explain(p, AS_OF))
    for _ in range(1500):
        assert _key(engine.explain(p, AS_OF)) == first


def test_reloading_the_rule_pack_while_threads_evaluate_loses_nothing():
    engine = Engine(backend="durable")
    profiles = [Profile.model_validate(profile(random.Random(seed))) for seed in range(40)]
    expected = {p.credit_code: _key(engine.explain(p, AS_OF)) for p in profiles}
    stop = threading.Event()
    failures: list[str] = []
    done = [0]

    def worker(n: int) -> None:
        rng = random.Random(n)
        while not stop.is_set():
            p = rng.choice(profiles)
            try:
                if _key(engine.explain(p, AS_OF)) != expected[p.credit_code]:
                    failures.append(p.credit_code)
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(f"{type(e).__name__}: {e}")
            done[0] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    versions = {engine.reload() for _ in range(20)}
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert done[0] > 0
    assert versions == {engine.version}


def test_an_evaluation_leaves_no_reference_cycles():
    """Facts, formulas and explanations are freed by reference counting as soon as a result is
    dropped: a cycle (a formula closing over its context, a recursive closure) would leave every
    evaluation's facts to the cyclic garbage collector, whose passes show as latency spikes."""
    import gc

    engine = Engine(backend="durable")
    profiles = [Profile.model_validate(profile(random.Random(seed))) for seed in range(60)]
    for p in profiles[:10]:
        engine.explain(p, AS_OF)  # compile, fill the caches
    gc.collect()
    gc.disable()
    try:
        for p in profiles[10:]:
            for detail in ("full", "compact"):
                engine.answer(p, AS_OF, options=Options(detail))
        assert gc.collect() == 0
    finally:
        gc.enable()
