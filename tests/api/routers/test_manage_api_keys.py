"""/v1/api-keys: keys for machine clients, issued and revoked by administrators."""

from __future__ import annotations

from tests.api.conftest import assert_problem


def test_create_api_key_shows_it_once_and_it_acts_as_its_user(client, world):
    r = client.post(
        "/v1/api-keys",
        json={"user_id": world.reviewer.user_id, "name": "科技局筛查"},
        headers=world.admin.headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["key"].startswith("hqk_") and created["prefix"] == created["key"][:12]
    me = client.get("/v1/auth/me", headers={"X-API-Key": created["key"]}).json()
    assert me["username"] == "reviewer"
    shown = client.get(f"/v1/api-keys/{created['id']}", headers=world.admin.headers).json()
    assert "key" not in shown and shown["active"] is True
    listed = client.get(f"/v1/api-keys?user_id={world.reviewer.user_id}", headers=world.admin.headers).json()
    assert created["id"] in {k["id"] for k in listed["items"]}


def test_revoke_api_key(client, world):
    created = client.post(
        "/v1/api-keys", json={"user_id": world.ent_a.user_id, "name": "erp"}, headers=world.admin.headers
    ).json()
    r = client.delete(f"/v1/api-keys/{created['id']}", headers=world.admin.headers)
    assert r.json()["active"] is False and r.json()["revoked_at"]
    assert_problem(client.get("/v1/auth/me", headers={"X-API-Key": created["key"]}), 401)


def test_api_keys_are_for_admins_only_and_need_a_real_user(client, world):
    assert_problem(
        client.post(
            "/v1/api-keys", json={"user_id": world.ent_a.user_id, "name": "x"}, headers=world.ent_a.headers
        ),
        403,
    )
    problem = assert_problem(
        client.post("/v1/api-keys", json={"user_id": 999999, "name": "x"}, headers=world.admin.headers), 422
    )
    assert problem["errors"][0]["field"] == "user_id"
    assert_problem(client.delete("/v1/api-keys/999999", headers=world.admin.headers), 404)
