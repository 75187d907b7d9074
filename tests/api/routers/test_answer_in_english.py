"""POST /v1/evaluations in English: every string of the full explanation and of the default verdict
answer is English, except legal wording and the applicant's own data (tests/english.py), on 2,000
generated profiles on shifted dates."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.english import chinese_in
from tests.population import AS_OF, population


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("anonymous answers touch no database: once is enough")


def test_every_string_of_an_english_answer_is_english(client, sqlite_only):
    rng = random.Random(1204)
    bad: list[tuple[int, str, str]] = []
    for i, profile in enumerate(population(2000, seed=2026, p_missing=0.1)):
        as_of = (AS_OF + dt.timedelta(days=rng.choice([0, -1, 184, -365, 366]))).isoformat()
        detail = "full" if i % 4 else "verdict"
        r = client.post("/v1/evaluations?lang=en", json={"profile": profile, "as_of": as_of, "detail": detail})
        assert r.status_code == 200, r.text
        bad += [(i, where, text) for where, text in chinese_in(r.json(), profile)]
    assert not bad, f"{len(bad)} Chinese strings in English answers, e.g. {bad[:5]}"
