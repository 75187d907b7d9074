"""``make bench``: engine throughput and latency on each backend, and ``huiqi screen`` on all cores.

Prints, for each backend, full-pack evaluations per second with explanations (one core, one
thread), single-evaluation latency p50/p99 and the ratio between the backends; then screens a
generated JSONL file of 100,000 profiles with every core. Targets (README): durable-rules ≥
10,000 evaluations/s, p99 < 1 ms, within 2.5× of plain Python; screen 100,000 in < 15 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Engine  # noqa: E402
from engine.profile import Profile  # noqa: E402
from tests.population import AS_OF, population  # noqa: E402


def bench_backend(name: str, profiles: list[Profile], seconds: float, detail: str = "full") -> dict:
    """Each profile is evaluated at most once after the warm-up, so that reused explanations count
    only as often as real applicants repeat a value (the population has 20,000 distinct ones)."""
    engine = Engine(backend=name)
    warm, timed = profiles[:200], profiles[200:]
    for p in warm:  # compile, create rulesets
        engine.evaluate(p, AS_OF, detail=detail)
    latencies = []
    n = 0
    start = time.perf_counter()
    cpu = time.process_time()
    deadline = start + seconds
    for p in timed:
        t0 = time.perf_counter_ns()
        engine.evaluate(p, AS_OF, detail=detail)
        latencies.append(time.perf_counter_ns() - t0)
        n += 1
        if time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    latencies.sort()
    return {
        "backend": name,
        "detail": detail,
        "evaluations": n,
        "per_second": n / elapsed,
        "per_cpu_second": n / cpu,
        "p50_us": latencies[len(latencies) // 2] / 1000,
        "p99_us": latencies[int(len(latencies) * 0.99)] / 1000,
        "mean_us": statistics.fmean(latencies) / 1000,
        "measures": len(engine.pack.measures),
    }


def bench_floors(raw: list[dict], profiles: list[Profile]) -> dict:
    """What no tuning of huiqi's own Python can go below, on the same profiles: durable-rules alone
    (the facts each evaluation sent, replayed through the same C calls: assert, the action loop,
    retract), building a result's objects at C speed (``orjson.loads`` of its JSON) and writing
    them (``orjson.dumps``), and reading a profile (pydantic)."""
    import durable_rules_engine as dre
    import orjson

    engine = Engine(backend="durable")
    backend = engine.backend
    calls: list[tuple[Any, str]] = []
    encode = backend.encode

    def spy(h: Any, sid: str, subjects: list) -> str:
        text = encode(h, sid, subjects)
        calls.append((h.handle, text))
        return text

    backend.encode = spy  # an instance attribute over the static method, removed below
    try:
        full = [orjson.dumps(engine.evaluate(p, AS_OF)) for p in profiles]
    finally:
        del backend.encode
    compact = [orjson.dumps(engine.evaluate(p, AS_OF, detail="compact")) for p in profiles]
    n = len(profiles)

    def per_profile(fn: Any, items: list) -> float:
        cpu = time.process_time()
        for item in items:
            fn(item)
        return (time.process_time() - cpu) / n * 1e6

    actions = 0

    def replay(call: tuple[Any, str]) -> None:
        nonlocal actions
        handle, text = call
        _, state = dre.assert_facts(handle, text)
        result = dre.start_action_for_state(handle, state)
        message = result[1] if result else None
        while message:
            actions += 1
            message = dre.complete_and_start_action(handle, state)
        dre.retract_facts(handle, text)

    durable = min(per_profile(replay, calls) for _ in range(3))
    full_objects = [orjson.loads(b) for b in full]
    compact_objects = [orjson.loads(b) for b in compact]
    return {
        "profiles": n,
        "rulesets": len(calls) / n,
        "actions": actions / 3 / n,
        "durable_us": durable,
        "full_kb": sum(map(len, full)) / n / 1000,
        "full_build_us": per_profile(orjson.loads, full),
        "full_write_us": per_profile(orjson.dumps, full_objects),
        "compact_kb": sum(map(len, compact)) / n / 1000,
        "compact_build_us": per_profile(orjson.loads, compact),
        "compact_write_us": per_profile(orjson.dumps, compact_objects),
        "validate_us": per_profile(Profile.model_validate, raw),
    }


def print_floors(f: dict) -> None:
    print(
        f"floors (CPU time per profile, {f['profiles']} of the same profiles; no tuning of huiqi's own Python"
    )
    print("goes below them):")
    print(
        f"  durable-rules alone: {f['durable_us']:.0f} µs ({f['rulesets']:.1f} rulesets, {f['actions']:.1f} fired rules"
        f" read back) = at most {1e6 / f['durable_us']:,.0f} evaluations/s with no other work"
    )
    print(
        f"  a full result: {f['full_kb']:.1f} KB of JSON; building its objects in C (orjson.loads) {f['full_build_us']:.0f} µs,"
        f" writing it (orjson.dumps) {f['full_write_us']:.0f} µs"
    )
    print(
        f"  a compact result: {f['compact_kb']:.1f} KB; building {f['compact_build_us']:.0f} µs, writing {f['compact_write_us']:.0f} µs"
    )
    print(f"  reading a profile (pydantic): {f['validate_us']:.0f} µs")
    full = f["durable_us"] + f["full_build_us"]
    print(
        f"  → durable-rules, full pack with full explanations: about {1e6 / full:,.0f}/s on one core if deriving"
        " facts, judging and explaining took no time and a result cost what parsing its JSON costs"
    )


def bench_screen(n: int) -> dict:
    from engine.screen import screen_file

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        dst = Path(tmp) / "out.jsonl"
        pop = population(2000, seed=7)
        with src.open("w", encoding="utf-8") as fh:
            for i in range(n):
                fh.write(json.dumps(pop[i % len(pop)], ensure_ascii=False) + "\n")
        summary = screen_file(src, dst, AS_OF, workers=os.cpu_count())
        summary["out_mb"] = dst.stat().st_size / 1e6
        return summary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0, help="per backend")
    ap.add_argument("--screen", type=int, default=100_000, help="profiles for the screen run (0 skips)")
    ap.add_argument("--profiles", type=int, default=20_000, help="distinct profiles, each evaluated once")
    ap.add_argument("--floor-profiles", type=int, default=3_000, help="profiles for the floors")
    args = ap.parse_args()
    raw = population(args.profiles)
    profiles = [Profile.model_validate(p) for p in raw]
    rows = [
        bench_backend(b, profiles, args.seconds, d)
        for d in ("full", "compact")
        for b in ("durable", "python")
    ]
    print(
        f"rule pack: {rows[0]['measures']} measures; {len(profiles)} seeded profiles; as_of {AS_OF}; one core"
    )
    print("evals/s: wall clock; evals/CPU-s: per second of this process's CPU time (the engine's own")
    print("cost, steadier than the wall clock on a shared machine)")
    print(
        f"{'backend':<9}{'explanations':<14}{'evals/s':>10}{'evals/CPU-s':>13}{'p50 µs':>10}{'p99 µs':>10}{'mean µs':>10}"
    )
    for r in rows:
        print(
            f"{r['backend']:<9}{r['detail']:<14}{r['per_second']:>10.0f}{r['per_cpu_second']:>13.0f}"
            f"{r['p50_us']:>10.0f}{r['p99_us']:>10.0f}{r['mean_us']:>10.0f}"
        )
    for d in ("full", "compact"):
        durable, python = (r for r in rows if r["detail"] == d)
        ratio = python["per_cpu_second"] / durable["per_cpu_second"]
        print(f"durable-rules CPU time / python CPU time ({d}): {ratio:.2f}× (target ≤ 2.5×)")
    print_floors(bench_floors(raw[: args.floor_profiles], profiles[: args.floor_profiles]))
    if args.screen:
        s = bench_screen(args.screen)
        print(
            f"huiqi screen: {s['lines']} profiles in {s['seconds']:.1f} s = {s['rate']:.0f}/s on {os.cpu_count()} cores ({s['errors']} bad lines, {s['out_mb']:.0f} MB out)"
        )


if __name__ == "__main__":
    main()
