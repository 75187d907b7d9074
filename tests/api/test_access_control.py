"""An enterprise reading another enterprise's data gets 404, exactly as if it did not exist —
tried on every route that takes an id (an evaluation id or a credit code)."""

from __future__ import annotations

import pytest

from tests.api.conftest import ESTABLISHED_CODE, assert_problem

NOT_THERE_CODE = "91350100M000100Y43"  # valid checksum, never stored


@pytest.fixture
def a_data(client, world, established_body):
    """Enterprise A's profile and a stored evaluation."""
    client.put(
        f"/v1/enterprises/{ESTABLISHED_CODE}/profile",
        json=established_body["profile"],
        headers=world.ent_a.headers,
    )
    eid = client.post("/v1/evaluations", json=established_body, headers=world.ent_a.headers).json()["id"]
    return {"evaluation_id": eid, "profile": established_body["profile"]}


def _routes(eid: str, code: str, profile: dict):
    return [
        ("GET", f"/v1/evaluations/{eid}", None),
        ("POST", f"/v1/evaluations/{eid}/replay", None),
        ("GET", f"/v1/enterprises/{code}/profile", None),
        ("GET", f"/v1/enterprises/{code}/profile?version=1", None),
        ("GET", f"/v1/enterprises/{code}/profile/versions", None),
        ("PUT", f"/v1/enterprises/{code}/profile", profile),
        ("POST", f"/v1/enterprises/{code}/evaluations", {}),
    ]


def test_another_enterprise_gets_404_on_every_route_that_takes_an_id(client, world, a_data):
    for method, path, body in _routes(a_data["evaluation_id"], ESTABLISHED_CODE, a_data["profile"]):
        r = client.request(method, path, json=body, headers=world.ent_b.headers)
        problem = assert_problem(r, 404, "not-found")
        assert ESTABLISHED_CODE not in r.text.replace(problem["instance"], "") or "没有" in problem["detail"]
        # the owner, for contrast, is answered
        owner = client.request(method, path, json=body, headers=world.ent_a.headers)
        assert owner.status_code in (200, 201), (method, path, owner.text)


def test_the_404_looks_the_same_as_for_data_that_does_not_exist(client, world, a_data):
    real = client.get(f"/v1/evaluations/{a_data['evaluation_id']}", headers=world.ent_b.headers).json()
    missing = client.get("/v1/evaluations/" + "f" * 32, headers=world.ent_b.headers).json()
    assert (real["type"], real["title"], real["status"]) == (
        missing["type"],
        missing["title"],
        missing["status"],
    )
    real = client.get(f"/v1/enterprises/{ESTABLISHED_CODE}/profile", headers=world.ent_b.headers).json()
    missing = client.get(f"/v1/enterprises/{NOT_THERE_CODE}/profile", headers=world.reviewer.headers).json()
    assert (real["type"], real["title"]) == (missing["type"], missing["title"])


def test_reviewers_read_everything_but_change_nothing(client, world, a_data):
    for method, path, body in _routes(a_data["evaluation_id"], ESTABLISHED_CODE, a_data["profile"]):
        r = client.request(method, path, json=body, headers=world.reviewer.headers)
        if method == "PUT":
            assert_problem(r, 403, "forbidden")
        else:
            assert r.status_code in (200, 201), (method, path, r.text)


def test_anonymous_callers_get_401_on_every_route_that_takes_an_id(client, a_data):
    for method, path, body in _routes(a_data["evaluation_id"], ESTABLISHED_CODE, a_data["profile"]):
        assert_problem(client.request(method, path, json=body), 401, "unauthorized")
