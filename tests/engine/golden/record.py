"""Record the full explanations the engine gives today, to hold later changes to them.

Run once, before a change to how explanations are made (``python tests/engine/golden/record.py``);
``tests/engine/test_golden_explanations.py`` then compares the engine's output with the record:
the Chinese explanation of every result must be identical, and the English one may differ only in
the strings that were Chinese (which were not English). The record keeps the profiles themselves,
so that a change to the test population does not change what is compared.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import random
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from population import AS_OF, population  # noqa: E402

from engine import Engine  # noqa: E402

RECORD = Path(__file__).with_name("explanations.json.gz")
N = 3000
SEED = 31415
# assessment dates around the default one: windows (one year, three years, five years) and the
# start of a new fiscal year move with them
SHIFTS = [0, 0, 0, 1, -1, 184, -365, 366, -730, 200]
VOLATILE = ("rule_pack_version", "backend")
# the size class's working named its indicators in English inside Chinese text ("employees 120 ≥
# 100"), and a partly known score named its missing facts by path ("部分指标未知（fiscal_years[2024]
# .employees）"); both now speak the reader's words (the policy officers asked), so they are left
# out of the record
REWORDED_FORMULAS = {"enterprise.size_class"}
REWORDED_TEXT = "部分指标未知"
# Two interpretation notes (jiebang-guashuai/core_ip_owned, research-infrastructure-sharing/
# small_or_micro) named a file outside the repository; they were reworded (issue 14) and the Chinese
# digests of their measures' results carried over, after checking result by result that the old rule
# files still gave the record and the new ones differ from them in those two notes alone (5,420
# results). The English digests did not change: those notes were Chinese-bearing, so masked.


def _reworded(c: dict) -> bool:
    return "formula" in c and (c.get("fact") in REWORDED_FORMULAS or REWORDED_TEXT in (c["formula"] or ""))


def has_cjk(text: str) -> bool:
    return any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text)


def canonical(obj) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def digest(obj) -> str:
    return hashlib.blake2b(canonical(obj), digest_size=5).hexdigest()


def strip(result: dict) -> dict:
    out = {k: v for k, v in result.items() if k not in VOLATILE}
    if any(_reworded(c) for c in out.get("criteria", ())):
        out["criteria"] = [{**c, "formula": "<reworded>"} if _reworded(c) else c for c in out["criteria"]]
    if any(_reworded(s) for s in (out.get("scores") or {}).values()):
        out["scores"] = {k: {**s, "formula": "<reworded>"} if _reworded(s) else s for k, s in out["scores"].items()}
    return out


def masked(obj, path: str = "", found: list[str] | None = None):
    """The object with every string holding Chinese replaced by a marker, and those strings' paths."""
    if found is None:
        found = []
    if isinstance(obj, dict):
        return {k: masked(v, f"{path}.{k}", found)[0] for k, v in obj.items()}, found
    if isinstance(obj, list):
        return [masked(v, f"{path}[{i}]", found)[0] for i, v in enumerate(obj)], found
    if isinstance(obj, str) and has_cjk(obj):
        found.append(path)
        return "<zh>", found
    return obj, found


def mask_at(obj, paths: set[str], path: str = ""):
    """The object with the strings at ``paths`` replaced by the marker (what was Chinese before)."""
    if isinstance(obj, dict):
        return {k: mask_at(v, paths, f"{path}.{k}") for k, v in obj.items()}
    if isinstance(obj, list):
        return [mask_at(v, paths, f"{path}[{i}]") for i, v in enumerate(obj)]
    if path in paths:
        return "<zh>"
    return obj


def cases() -> list[dict]:
    rng = random.Random(SEED)
    out = []
    for p in population(N, seed=SEED, p_missing=0.08):
        day = AS_OF + dt.timedelta(days=rng.choice(SHIFTS))
        out.append({"as_of": day.isoformat(), "profile": p})
    return out


def main() -> None:
    engine = Engine(backend="durable")
    rows = []
    path_sets: dict[tuple[str, ...], int] = {}  # the same paths recur: kept once, named by index
    for case in cases():
        zh = engine.evaluate(case["profile"], case["as_of"], lang="zh")
        en = engine.evaluate(case["profile"], case["as_of"], lang="en")
        zh_digests = [digest(strip(r)) for r in zh["results"]] + [digest(zh["missing_facts"])]
        en_rows = []
        for r in [*en["results"], {"missing_facts": en["missing_facts"]}]:
            # what was Chinese is set aside first: it may be reworded in English
            m, paths = masked(r)
            m = strip(m)
            index = path_sets.setdefault(tuple(paths), len(path_sets))
            en_rows.append([digest(m), index])
        rows.append({"zh": zh_digests, "en": en_rows})
    record = {"seed": SEED, "cases": cases(), "rows": rows, "path_sets": [list(p) for p in path_sets]}
    RECORD.write_bytes(gzip.compress(orjson.dumps(record), 9))
    print(f"{RECORD}: {len(rows)} profiles, {RECORD.stat().st_size} bytes")


if __name__ == "__main__":
    main()
