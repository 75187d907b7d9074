"""``make bench``: the engine on one core, the full explanation on request, and ``huiqi screen``.

Prints, per backend, the CPU time of a verdict of the whole pack per profile (with and without
reading the profile, i.e. pydantic's validation), single-evaluation latency p50/p99, the full
explanation of one enterprise rendered on request, the size of the answers, and the floors (what
no tuning of huiqi's own Python goes below: durable-rules' C calls replayed, reading a profile,
writing the answer's JSON); then ``huiqi screen`` of 100,000 profiles end to end (JSONL in; Parquet,
JSONL and CSV out; and CSV in), each in a process of its own, with its peak memory;
``--screen-million`` adds 1,000,000 profiles (JSONL in, Parquet out).

Targets (issue: verdict first, words on request): verdict with validation ≤ 200 µs CPU per profile
on one core with durable-rules (≥ 5,000/s); full explanation ≤ 1 ms; the verdict answer of the
whole pack ≤ 8 KB. ``huiqi screen`` (issue 13): 100,000 profiles end to end ≤ 5 s on 2 cores;
1,000,000 ≤ 40 s with peak memory < 1 GB. Printed, never asserted. Each profile is evaluated once
after a warm-up: the figures are those of distinct applicants, not of one profile repeated.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import FULL, VERDICT, Engine, Profile  # noqa: E402
from tests.population import AS_OF, population  # noqa: E402


def per_profile(fn: Any, items: list) -> float:
    """CPU µs per item (process time: steadier than the wall clock on a shared machine)."""
    cpu = time.process_time()
    for item in items:
        fn(item)
    return (time.process_time() - cpu) / len(items) * 1e6


def bench_backend(name: str, raw: list[dict], profiles: list[Profile]) -> dict:
    engine = Engine(backend=name)
    for p in profiles[:300]:  # compile, create rulesets
        engine.evaluate(p, AS_OF)
    timed_raw, timed = raw[300:], profiles[300:]
    half = len(timed) // 2
    latencies = []
    for p in timed[:half]:
        t0 = time.perf_counter_ns()
        engine.evaluate(p, AS_OF)
        latencies.append(time.perf_counter_ns() - t0)
    latencies.sort()
    verdict = per_profile(lambda p: engine.evaluate(p, AS_OF), timed[half:])
    with_validation = per_profile(lambda p: engine.evaluate(p, AS_OF), timed_raw[:half])
    evaluations = [engine.evaluate(p, AS_OF) for p in timed[:2000]]
    full = per_profile(lambda ev: engine.render(ev, FULL), evaluations)
    answer = per_profile(lambda ev: engine.render(ev, VERDICT), evaluations)
    verdict_sizes = [len(orjson.dumps(engine.render(ev, VERDICT))) for ev in evaluations]
    full_sizes = [len(orjson.dumps(engine.render(ev, FULL))) for ev in evaluations[:500]]
    return {
        "backend": name,
        "verdict_us": verdict,
        "validated_us": with_validation,
        "p50_us": latencies[len(latencies) // 2] / 1000,
        "p99_us": latencies[int(len(latencies) * 0.99)] / 1000,
        "summary_us": answer,
        "full_us": full,
        "verdict_kb": statistics.fmean(verdict_sizes) / 1000,
        "verdict_kb_max": max(verdict_sizes) / 1000,
        "full_kb": statistics.fmean(full_sizes) / 1000,
        "measures": len(engine.pack.measures),
    }


def bench_floors(raw: list[dict], profiles: list[Profile]) -> dict:
    """What no tuning of huiqi's own Python goes below, on the same profiles: durable-rules alone
    (the texts each evaluation sent, replayed through the same C calls: assert, the action loop,
    retract), reading a profile (pydantic), writing the verdict answer's JSON (orjson)."""
    import durable_rules_engine as dre

    from engine import durable

    engine = Engine(backend="durable")
    calls: list[tuple[Any, str]] = []
    real = durable.encoder_code

    def spying(name: str, fields: list) -> Any:
        encode = real(name, fields)

        def spy(subjects: list, sid: str) -> str:
            text = encode(subjects, sid)
            calls.append((name, text))
            return text

        return spy

    durable.encoder_code = spying  # for the rulesets this engine creates, removed below
    try:
        answers = [engine.render(engine.evaluate(p, AS_OF), VERDICT) for p in profiles]
    finally:
        durable.encoder_code = real
    handles = {rs.name: rs.handle for h in engine.backend._handles.values() for rs in h.rulesets}
    actions = 0

    def replay(call: tuple[str, str]) -> None:
        nonlocal actions
        handle, text = handles[call[0]], call[1]
        _, state = dre.assert_facts(handle, text)
        result = dre.start_action_for_state(handle, state)
        message = result[1] if result else None
        while message:
            actions += 1
            message = dre.complete_and_start_action(handle, state)
        dre.retract_facts(handle, text)

    n = len(profiles)
    durable_us = min(per_profile(replay, calls) for _ in range(3)) * len(calls) / n
    return {
        "profiles": n,
        "rulesets": len(calls) / n,
        "actions": actions / 3 / n,
        "durable_us": durable_us,
        "validate_us": per_profile(Profile.model_validate, raw),
        "write_us": per_profile(orjson.dumps, answers),
    }


def _screen_run(src: Path, dst: Path) -> dict:
    """``huiqi screen`` end to end in a process of its own: wall time and peak memory (its own)."""
    cmd = [str(Path(sys.executable).with_name("huiqi")), "screen", str(src), "--out", str(dst), "--as-of", AS_OF.isoformat()]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"huiqi screen failed: {err}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "out_mb": dst.stat().st_size / 1e6}


def bench_screen(n: int, outputs: tuple[str, ...] = ("parquet", "jsonl", "csv")) -> dict:
    """``huiqi screen`` of ``n`` profiles (20,000 distinct ones, repeated) from JSONL, and from CSV."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        pop = population(20_000, seed=7)
        lines = [json.dumps(p, ensure_ascii=False) + "\n" for p in pop]
        with src.open("w", encoding="utf-8") as fh:
            for i in range(n):
                fh.write(lines[i % len(lines)])
        runs = {f"jsonl→{fmt}": _screen_run(src, Path(tmp) / f"out.{fmt}") for fmt in outputs}
        if "csv" in outputs:
            from intake import cells_of, template_columns

            cols = template_columns([AS_OF.year - 3, AS_OF.year - 2, AS_OF.year - 1])
            csv_src = Path(tmp) / "in.csv"
            with csv_src.open("w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow([c.zh for c in cols])
                rows = [cells_of(p, cols) for p in pop]
                for i in range(n):
                    w.writerow(rows[i % len(rows)])
            runs["csv→parquet"] = _screen_run(csv_src, Path(tmp) / "out2.parquet")
        return {"profiles": n, "runs": runs}


def _print_screen(s: dict, limit: float) -> None:
    n = s["profiles"]
    for name, r in s["runs"].items():
        print(
            f"huiqi screen {n:,} profiles {name}: {r['seconds']:.1f} s = {n / r['seconds']:,.0f}/s on {os.cpu_count()} cores,"
            f" peak {r['peak_mb']:,.0f} MB, {r['out_mb']:,.0f} MB out"
        )
    main = s["runs"]["jsonl→parquet"]
    print(
        f"target: {n:,} profiles end to end ≤ {limit:.0f} s on 2 cores"
        + (" and peak memory < 1 GB" if n >= 1_000_000 else "")
        + f": {main['seconds']:.1f} s, {main['peak_mb']:,.0f} MB (JSONL in, Parquet out)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--screen", type=int, default=100_000, help="profiles for the screen run (0 skips)")
    ap.add_argument(
        "--screen-million",
        action="store_true",
        help="also screen 1,000,000 profiles (about a minute, and 1.6 GB of temporary files)",
    )
    ap.add_argument("--profiles", type=int, default=12_000, help="distinct profiles, each evaluated once")
    ap.add_argument("--floor-profiles", type=int, default=3_000, help="profiles for the floors")
    args = ap.parse_args()
    raw = population(args.profiles)
    profiles = [Profile.model_validate(p) for p in raw]
    rows = [bench_backend(b, raw, profiles) for b in ("durable", "python")]
    print(f"rule pack: {rows[0]['measures']} measures; {len(profiles)} seeded profiles; as_of {AS_OF}; one core")
    print("CPU time per profile (µs), each profile evaluated once")
    print(
        f"{'backend':<9}{'verdict':>9}{'+validation':>13}{'p50':>7}{'p99':>7}{'+summaries':>12}"
        f"{'full expl.':>12}{'verdict KB':>12}{'full KB':>9}"
    )
    for r in rows:
        print(
            f"{r['backend']:<9}{r['verdict_us']:>9.0f}{r['validated_us']:>13.0f}{r['p50_us']:>7.0f}{r['p99_us']:>7.0f}"
            f"{r['summary_us']:>12.0f}{r['full_us']:>12.0f}{r['verdict_kb']:>8.1f} ({r['verdict_kb_max']:.0f})"
            f"{r['full_kb']:>9.1f}"
        )
    durable, python = rows
    print(
        f"targets: durable verdict with validation ≤ 200 µs (≥ 5,000/s): {durable['validated_us']:.0f} µs"
        f" = {1e6 / durable['validated_us']:,.0f}/s; full explanation ≤ 1,000 µs: {durable['full_us']:.0f} µs;"
        f" verdict answer ≤ 8 KB: {durable['verdict_kb']:.1f} KB (max {durable['verdict_kb_max']:.1f})"
    )
    print(f"durable-rules CPU time / python CPU time: {durable['verdict_us'] / python['verdict_us']:.2f}×")
    f = bench_floors(raw[: args.floor_profiles], profiles[: args.floor_profiles])
    print(f"floors (CPU µs per profile, {f['profiles']} profiles; no tuning of huiqi's own Python goes below them):")
    print(
        f"  durable-rules alone: {f['durable_us']:.0f} µs ({f['rulesets']:.1f} rulesets, {f['actions']:.1f} fired"
        " rules read back)"
    )
    print(f"  reading a profile (pydantic): {f['validate_us']:.0f} µs")
    print(f"  writing the verdict answer (orjson): {f['write_us']:.0f} µs")
    if args.screen:
        _print_screen(bench_screen(args.screen), 5)
    if args.screen_million:
        _print_screen(bench_screen(1_000_000, ("parquet",)), 40)


if __name__ == "__main__":
    main()
