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
    args = ap.parse_args()
    profiles = [Profile.model_validate(p) for p in population(args.profiles)]
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
    if args.screen:
        s = bench_screen(args.screen)
        print(
            f"huiqi screen: {s['lines']} profiles in {s['seconds']:.1f} s = {s['rate']:.0f}/s on {os.cpu_count()} cores ({s['errors']} bad lines, {s['out_mb']:.0f} MB out)"
        )


if __name__ == "__main__":
    main()
