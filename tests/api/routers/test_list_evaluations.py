"""GET /v1/evaluations and GET /v1/evaluations/{id}."""

from __future__ import annotations

from tests.api.conftest import ESTABLISHED_CODE, YOUNG_CODE, assert_problem


def _store(client, headers, body) -> str:
    r = client.post("/v1/evaluations", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_list_evaluations_an_enterprise_sees_only_its_own(client, world, established_body, young_body):
    a = _store(client, world.ent_a.headers, established_body)
    b = _store(client, world.ent_b.headers, young_body)
    mine = client.get("/v1/evaluations", headers=world.ent_a.headers).json()
    assert [x["id"] for x in mine["items"]] == [a] and mine["total"] == 1
    assert mine["items"][0]["outcomes"]["eligible"] >= 1
    other = client.get(f"/v1/evaluations?credit_code={YOUNG_CODE}", headers=world.ent_a.headers).json()
    assert other == {"items": [], "total": 0, "limit": 50, "offset": 0}
    everything = client.get("/v1/evaluations", headers=world.reviewer.headers).json()
    assert {x["id"] for x in everything["items"]} == {a, b}
    only_a = client.get(
        f"/v1/evaluations?credit_code={ESTABLISHED_CODE}", headers=world.reviewer.headers
    ).json()
    assert [x["id"] for x in only_a["items"]] == [a]


def test_list_evaluations_pages(client, world, established_body):
    ids = [_store(client, world.ent_a.headers, established_body) for _ in range(3)]
    page = client.get("/v1/evaluations?limit=2&offset=1", headers=world.ent_a.headers).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert {x["id"] for x in page["items"]} <= set(ids)
    assert_problem(client.get("/v1/evaluations?limit=0", headers=world.ent_a.headers), 422)


def test_list_evaluations_needs_authentication(client):
    assert_problem(client.get("/v1/evaluations"), 401, "unauthorized")


def test_get_evaluation_unknown_id_is_404(client, world):
    body = assert_problem(
        client.get("/v1/evaluations/" + "0" * 32, headers=world.reviewer.headers), 404, "not-found"
    )
    assert body["instance"] == "/v1/evaluations/" + "0" * 32


def test_get_evaluation_anonymous_is_401(client, world, established_body):
    eid = _store(client, world.ent_a.headers, established_body)
    assert_problem(client.get(f"/v1/evaluations/{eid}"), 401)


def test_get_evaluation_by_reviewer_and_admin(client, world, established_body):
    eid = _store(client, world.ent_a.headers, established_body)
    for actor in (world.reviewer, world.admin):
        r = client.get(f"/v1/evaluations/{eid}", headers=actor.headers)
        assert r.status_code == 200 and r.json()["id"] == eid
