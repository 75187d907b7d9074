"""Full explanations hold to the record made before the verdict-first engine (golden/record.py).

3,000 generated profiles on shifted assessment dates: every Chinese explanation identical, result
by result; every English one identical once the strings that were Chinese in the record are set
aside (those were not English, and are now)."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))

from record import RECORD, digest, mask_at, strip  # noqa: E402


@pytest.fixture(scope="module")
def record() -> dict:
    return orjson.loads(gzip.decompress(RECORD.read_bytes()))


def _explain(engine, case: dict, lang: str) -> dict:
    return engine.explain(case["profile"], case["as_of"], lang=lang)


def test_chinese_explanations_identical_to_the_record(durable_engine, record):
    mismatches = []
    for n, (case, row) in enumerate(zip(record["cases"], record["rows"], strict=True)):
        out = _explain(durable_engine, case, "zh")
        got = [digest(strip(r)) for r in out["results"]] + [digest(out["missing_facts"])]
        if got != row["zh"]:
            bad = [i for i, (a, b) in enumerate(zip(got, row["zh"], strict=False)) if a != b]
            mismatches.append((n, len(got), len(row["zh"]), bad[:5]))
    assert not mismatches, f"{len(mismatches)} profiles explained differently, e.g. {mismatches[:5]}"


def test_english_explanations_changed_only_where_they_were_chinese(durable_engine, record):
    path_sets = [set(p) for p in record["path_sets"]]
    mismatches = []
    for n, (case, row) in enumerate(zip(record["cases"], record["rows"], strict=True)):
        out = _explain(durable_engine, case, "en")
        results = [*out["results"], {"missing_facts": out["missing_facts"]}]
        got = [
            digest(strip(mask_at(r, path_sets[index])))
            for r, (_, index) in zip(results, row["en"], strict=False)
        ]
        want = [d for d, _ in row["en"]]
        if len(results) != len(want) or got != want:
            mismatches.append((n, [i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b][:5]))
    assert not mismatches, f"{len(mismatches)} profiles explained differently, e.g. {mismatches[:5]}"
