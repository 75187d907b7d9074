"""Enterprise profiles: PUT appends a version, GET the latest or a given one, the versions list."""

from __future__ import annotations

from tests.api.conftest import ESTABLISHED_CODE, YOUNG_CODE, assert_problem

BASE = f"/v1/enterprises/{ESTABLISHED_CODE}"


def test_put_profile_appends_versions_and_never_overwrites(client, world, established_body):
    profile = established_body["profile"]
    r1 = client.put(f"{BASE}/profile", json=profile, headers=world.ent_a.headers)
    assert r1.status_code == 201, r1.text
    assert r1.json()["version"] == 1 and r1.json()["created_by"] == "ent-a"
    assert r1.headers["Location"] == f"{BASE}/profile?version=1"
    changed = {**profile, "innovation_score": 90, "name": "济南示例智能科技股份有限公司"}
    r2 = client.put(f"{BASE}/profile", json=changed, headers=world.ent_a.headers)
    assert r2.json()["version"] == 2
    latest = client.get(f"{BASE}/profile", headers=world.ent_a.headers).json()
    assert latest["version"] == 2 and latest["profile"]["innovation_score"] == "90"
    first = client.get(f"{BASE}/profile?version=1", headers=world.ent_a.headers).json()
    assert first["profile"]["innovation_score"] == "82" and first["name"] == "济南示例智能科技有限公司"
    versions = client.get(f"{BASE}/profile/versions", headers=world.reviewer.headers).json()
    assert [v["version"] for v in versions["items"]] == [2, 1] and versions["total"] == 2


def test_put_profile_keeps_money_exact(client, world, established_body):
    established_body["profile"]["fiscal_years"][0]["rd_expense"] = "520.123456"
    client.put(f"{BASE}/profile", json=established_body["profile"], headers=world.ent_a.headers)
    stored = client.get(f"{BASE}/profile", headers=world.ent_a.headers).json()
    assert stored["profile"]["fiscal_years"][0]["rd_expense"] == "520.123456"


def test_put_profile_credit_code_must_match_the_path(client, world, young_body):
    r = client.put(f"{BASE}/profile", json=young_body["profile"], headers=world.admin.headers)
    problem = assert_problem(r, 422, "validation-error")
    assert problem["errors"][0]["field"] == "credit_code"


def test_put_profile_by_a_reviewer_is_forbidden_and_by_an_admin_allowed(client, world, established_body):
    assert_problem(
        client.put(f"{BASE}/profile", json=established_body["profile"], headers=world.reviewer.headers), 403
    )
    assert (
        client.put(
            f"{BASE}/profile", json=established_body["profile"], headers=world.admin.headers
        ).status_code
        == 201
    )


def test_put_profile_invalid_profile_names_the_field(client, world, established_body):
    established_body["profile"]["fiscal_years"][1]["employees"] = -3
    r = client.put(f"{BASE}/profile", json=established_body["profile"], headers=world.ent_a.headers)
    problem = assert_problem(r, 422, "invalid-profile")
    assert problem["errors"][0]["field"] == "fiscal_years[1].employees"


def test_get_profile_missing_enterprise_or_version_is_404(client, world, established_body):
    assert_problem(client.get(f"{BASE}/profile", headers=world.reviewer.headers), 404)
    assert_problem(client.get(f"{BASE}/profile/versions", headers=world.reviewer.headers), 404)
    client.put(f"{BASE}/profile", json=established_body["profile"], headers=world.ent_a.headers)
    assert_problem(client.get(f"{BASE}/profile?version=7", headers=world.ent_a.headers), 404)
    assert_problem(client.get("/v1/enterprises/not-a-code/profile", headers=world.reviewer.headers), 422)


def test_list_enterprises_shows_the_latest_version_to_whom_may_see_it(
    client, world, established_body, young_body
):
    client.put(f"{BASE}/profile", json=established_body["profile"], headers=world.ent_a.headers)
    client.put(f"{BASE}/profile", json=established_body["profile"], headers=world.ent_a.headers)
    client.put(
        f"/v1/enterprises/{YOUNG_CODE}/profile", json=young_body["profile"], headers=world.ent_b.headers
    )
    everything = client.get("/v1/enterprises", headers=world.reviewer.headers).json()
    assert {(e["credit_code"], e["latest_version"]) for e in everything["items"]} == {
        (ESTABLISHED_CODE, 2),
        (YOUNG_CODE, 1),
    }
    mine = client.get("/v1/enterprises", headers=world.ent_b.headers).json()
    assert [e["credit_code"] for e in mine["items"]] == [YOUNG_CODE] and mine["total"] == 1


def test_evaluate_stored_profile_records_the_version(client, world, established_body):
    client.put(f"{BASE}/profile", json=established_body["profile"], headers=world.ent_a.headers)
    r = client.post(f"{BASE}/evaluations", json={"as_of": "2025-06-30"}, headers=world.ent_a.headers)
    assert r.status_code == 201, r.text
    stored = client.get(r.headers["Location"], headers=world.ent_a.headers).json()
    assert stored["input"]["profile_version"] == 1 and stored["as_of"] == "2025-06-30"
    # no body at all: the latest version, today
    assert client.post(f"{BASE}/evaluations", headers=world.reviewer.headers).status_code == 201
