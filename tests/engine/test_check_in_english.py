"""An answer in English is English throughout, except legal wording and the applicant's own data
(tests/english.py says which): every string of the full explanation, on 2,000 generated profiles on
shifted dates, through ``huiqi check --lang en``; and the table ``huiqi check`` prints."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from typer.testing import CliRunner

from api.cli import huiqi
from tests.english import CJK, chinese_in, leftover
from tests.population import AS_OF, population

runner = CliRunner()


def _cases(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {"as_of": (AS_OF + dt.timedelta(days=rng.choice([0, -1, 184, -365, 366]))).isoformat(), "profile": p}
        for p in population(n, seed=seed, p_missing=0.1)
    ]


@pytest.fixture(scope="module")
def cases_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("english")
    cases = _cases(2000, 20261204)
    for i, case in enumerate(cases):
        (root / f"{i}.json").write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return root, cases


def test_every_string_of_a_full_english_answer_is_english(cases_dir):
    root, cases = cases_dir
    bad: list[tuple[int, str, str]] = []
    for i, case in enumerate(cases):
        result = runner.invoke(huiqi, ["check", str(root / f"{i}.json"), "--json", "--full", "--lang", "en"])
        assert result.exit_code == 0, result.output
        answer = json.loads(result.output)
        assert answer["lang"] == "en" and answer["results"]
        bad += [(i, where, text) for where, text in chinese_in(answer, case["profile"])]
    assert not bad, f"{len(bad)} Chinese strings in English answers, e.g. {bad[:5]}"


def test_the_check_table_in_english_is_english(cases_dir):
    root, cases = cases_dir
    for i, case in enumerate(cases[:200]):
        result = runner.invoke(huiqi, ["check", str(root / f"{i}.json"), "--lang", "en"])
        assert result.exit_code == 0, result.output
        names = [t for t in [case["profile"].get("name")] if t]
        assert not leftover(result.output, names), (i, [ln for ln in result.output.splitlines() if CJK.search(ln)][:5])


def test_the_checker_finds_chinese_where_there_should_be_none(cases_dir):
    """A guard on the test: a Chinese answer is caught, legal wording and the name are let through."""
    root, cases = cases_dir
    answer = json.loads(runner.invoke(huiqi, ["check", str(root / "0.json"), "--json", "--full"]).output)
    found = chinese_in(answer, cases[0]["profile"])
    assert found and not any(where.endswith((".quote", ".clause", ".name")) for where, _ in found)
