"""Screening runs store verdicts (api/screening/store.py): what is stored is the per-profile engine's
verdict for every row, whichever path evaluated it (the columnar evaluator over the chunk's profile
table, or the engine for a profile the table cannot hold), and a row's explanation is rendered when
it is opened."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.screening.models import ScreeningRow
from engine import Engine, Profile
from tests.population import AS_OF
from tests.screening.conftest import profiles, run_done

RULES = Engine(backend="python")


def _jsonl(docs: list[dict]) -> bytes:
    return "\n".join(json.dumps(d, ensure_ascii=False) for d in docs).encode()


def test_stored_verdicts_are_the_engines_whichever_path_evaluated_them(bureau):
    docs = profiles(60, seed=91)
    docs[7] = {**docs[7], "innovation_score": "71.1234567"}  # seven places: not held by the table
    docs[8] = {"as_of": "2024-03-31", "profile": docs[8]}  # a line judged on its own date
    run = run_done(bureau, _jsonl(docs), filename="申报.jsonl")
    h = bureau.reviewer.headers
    items: list[dict] = []
    while len(items) < 1 or len(items) % 500 == 0:
        page = bureau.client.get(
            f"/v1/screenings/{run['id']}/results", params={"limit": 500, "offset": len(items)}, headers=h
        ).json()["items"]
        if not page:
            break
        items += page
    got: dict[tuple, dict] = {(i["row"], i["measure_id"], i["subject"]["id"]): i for i in items}
    expected = 0
    for n, doc in enumerate(docs, start=1):
        day = doc.get("as_of", AS_OF.isoformat())
        profile = Profile.model_validate(doc.get("profile", doc))
        ev = RULES.evaluate(profile, day)
        for v in ev.verdicts:
            expected += 1
            item = got[(n, v.measure_id, v.subject.id)]
            assert item["outcome"] == v.outcome, (n, v.measure_id)
            nodes = [(x.id, x.status, x.decisive, x.moot) for x in ev.nodes(v)]
            assert [
                (c["id"], c["status"], c["decisive"], c["moot"]) for c in item["detail"]["criteria"]
            ] == nodes
            assert item["detail"]["missing"] == list(v.missing_facts)
            assert item["benefit_tier"] == (v.benefit.tier if v.benefit else None)
            assert item["reasons"] == RULES.reasons(v)
            failed = [
                x.id
                for x in ev.nodes(v)
                if x.status == "unmet" and x.decisive and x.kind in ("criterion", "not")
            ]
            assert item["failed_criteria"] == (failed if v.outcome == "ineligible" else [])
    assert len(items) == expected
    with Session(bureau.app.state.db_engine) as s:  # the seven-place score took the engine's path
        q = select(ScreeningRow.row_no, ScreeningRow.profile).where(ScreeningRow.run_id == run["id"])
        kept = dict(s.execute(q).tuples().all())
    assert kept[8] is not None and kept[8]["innovation_score"] == "71.1234567"
    assert all(p is None for n, p in kept.items() if n != 8)


def test_a_row_opened_is_explained_in_full_from_its_stored_profile(bureau):
    docs = profiles(10, seed=92)
    docs[2] = {**docs[2], "innovation_score": "65.0000001"}
    run = run_done(
        bureau, _jsonl(docs), filename="申报.jsonl", measures=["hte-recognition", "tsme-evaluation"]
    )
    h = bureau.reviewer.headers
    for n in (1, 3):
        row = bureau.client.get(f"/v1/screenings/{run['id']}/rows/{n}", headers=h).json()
        profile = Profile.model_validate(row["profile"])
        assert profile == Profile.model_validate(docs[n - 1])  # the stored profile, whole
        want = RULES.explain(profile, AS_OF, ["hte-recognition", "tsme-evaluation"])["results"]
        for r, w in zip(row["results"], sorted(want, key=lambda x: x["measure_id"]), strict=True):
            assert r["measure_id"] == w["measure_id"] and r["outcome"] == w["outcome"]
            assert r["detail"]["criteria"] == w["criteria"]
            assert r["detail"]["explanation"] == w["explanation"]
        row_en = bureau.client.get(f"/v1/screenings/{run['id']}/rows/{n}?lang=en", headers=h).json()
        assert row_en["results"][0]["detail"]["explanation"] != row["results"][0]["detail"]["explanation"]


def test_proactive_matching_screens_every_latest_stored_profile_in_chunks(bureau):
    """Stored profiles are read a page of several chunks at a time (api/screening/proactive.py):
    every enterprise's latest version becomes one row, each chunk keeps its own rows, and the
    verdicts are the engine's, a profile the table cannot hold included."""
    from sqlalchemy import func

    from api.models import ProfileVersion
    from api.screening.models import ScreeningChunk

    docs = profiles(130, seed=93)  # 25 rows a chunk, 100 a page: two pages, six chunks
    docs[7] = {**docs[7], "innovation_score": "71.1234567"}  # seven places: kept as JSON on its row
    c, admin = bureau.client, bureau.admin.headers
    for d in docs:
        assert c.put(f"/v1/enterprises/{d['credit_code']}/profile", json=d, headers=admin).status_code == 201
    docs[3] = {**docs[3], "name": "更名后的企业"}  # a second version: the latest is screened
    assert c.put(f"/v1/enterprises/{docs[3]['credit_code']}/profile", json=docs[3], headers=admin).status_code == 201
    measures = ["rd-super-deduction", "tsme-evaluation"]
    h = bureau.reviewer.headers
    r = c.post("/v1/screenings/proactive", json={"measures": measures, "as_of": AS_OF.isoformat()}, headers=h)
    assert r.status_code == 202, r.text
    bureau.drain()
    run_id = r.json()["id"]
    with Session(bureau.app.state.db_engine) as s:
        chunks = s.execute(
            select(ScreeningChunk.first_row, ScreeningChunk.last_row, ScreeningChunk.rows, ScreeningChunk.status)
            .where(ScreeningChunk.run_id == run_id)
            .order_by(ScreeningChunk.chunk_no)
        ).all()
        rows = dict(
            s.execute(
                select(ScreeningRow.row_no, ScreeningRow.credit_code).where(ScreeningRow.run_id == run_id)
            ).all()
        )
        stored = s.scalar(select(func.count(func.distinct(ProfileVersion.credit_code))))
    # every stored enterprise (other tests' too): chunks of 25 rows in order, the last one shorter
    assert [tuple(x) for x in chunks] == [
        (first, min(first + 24, stored), min(25, stored - first + 1), "done") for first in range(1, stored + 1, 25)
    ]
    assert len(chunks) >= 6  # this test's 130 alone: two pages, six chunks
    by_code = {d["credit_code"]: d for d in docs}
    assert set(by_code) <= set(rows.values()) and sorted(rows) == list(range(1, stored + 1))
    items: list[dict] = []
    while True:
        page = c.get(
            f"/v1/screenings/{run_id}/results", params={"limit": 500, "offset": len(items)}, headers=h
        ).json()["items"]
        items += page
        if len(page) < 500:
            break
    got = {(i["row"], i["measure_id"], i["subject"]["id"]): i for i in items}
    for n, code in rows.items():
        if code not in by_code:
            continue
        ev = RULES.evaluate(Profile.model_validate(by_code[code]), AS_OF, measures)
        for v in ev.verdicts:
            item = got[(n, v.measure_id, v.subject.id)]
            assert item["outcome"] == v.outcome and item["reasons"] == RULES.reasons(v), (code, v.measure_id)
    assert len(items) == len(set(got))  # one result per row, measure and subject
    renamed = next(n for n, code in rows.items() if code == docs[3]["credit_code"])
    row = c.get(f"/v1/screenings/{run_id}/rows/{renamed}", headers=h).json()
    assert row["name"] == "更名后的企业"
