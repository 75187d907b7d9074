"""/v1/users: administrators manage accounts."""

from __future__ import annotations

from tests.api.conftest import PASSWORD, YOUNG_CODE, assert_problem


def test_create_user_by_admin_then_login(client, world):
    r = client.post(
        "/v1/users",
        json={
            "username": "bureau-1",
            "password": "a-long-passphrase",
            "role": "reviewer",
            "display_name": "科技局",
        },
        headers=world.admin.headers,
    )
    assert r.status_code == 201, r.text
    user = r.json()
    assert "password" not in user and "password_hash" not in user
    assert (
        client.post(
            "/v1/auth/token", data={"username": "bureau-1", "password": "a-long-passphrase"}
        ).status_code
        == 200
    )
    assert (
        client.get(f"/v1/users/{user['id']}", headers=world.admin.headers).json()["display_name"] == "科技局"
    )
    listed = client.get("/v1/users", headers=world.admin.headers).json()
    assert "bureau-1" in {u["username"] for u in listed["items"]}


def test_create_user_rules(client, world):
    base = {"username": "ent-new", "password": "a-long-passphrase", "role": "enterprise"}
    problem = assert_problem(client.post("/v1/users", json=base, headers=world.admin.headers), 422)
    assert "credit_code" in problem["detail"] or problem["errors"]
    bad_code = assert_problem(
        client.post("/v1/users", json={**base, "credit_code": "123"}, headers=world.admin.headers), 422
    )
    assert bad_code["errors"][0]["field"] == "credit_code"
    weak = assert_problem(
        client.post(
            "/v1/users",
            json={**base, "credit_code": YOUNG_CODE, "password": "aaaaaaaaaaaa"},
            headers=world.admin.headers,
        ),
        422,
    )
    assert weak["errors"][0]["field"] == "password"
    dup = client.post(
        "/v1/users", json={**base, "username": "admin", "role": "admin"}, headers=world.admin.headers
    )
    assert_problem(dup, 409, "conflict")


def test_users_are_for_admins_only(client, world):
    for actor in (world.reviewer, world.ent_a):
        assert_problem(client.get("/v1/users", headers=actor.headers), 403, "forbidden")
        assert_problem(client.get(f"/v1/users/{actor.user_id}", headers=actor.headers), 403)
    assert_problem(client.get("/v1/users"), 401)


def test_update_user_disables_and_logs_out(client, world):
    created = client.post(
        "/v1/users",
        json={"username": "temp-user", "password": "a-long-passphrase", "role": "reviewer"},
        headers=world.admin.headers,
    ).json()
    token = client.post(
        "/v1/auth/token", data={"username": "temp-user", "password": "a-long-passphrase"}
    ).json()
    r = client.patch(f"/v1/users/{created['id']}", json={"is_active": False}, headers=world.admin.headers)
    assert r.json()["is_active"] is False
    assert_problem(
        client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"}), 401
    )
    assert_problem(
        client.post("/v1/auth/token", data={"username": "temp-user", "password": "a-long-passphrase"}), 401
    )


def test_update_user_role_to_enterprise_needs_a_credit_code(client, world):
    created = client.post(
        "/v1/users",
        json={"username": "temp2", "password": PASSWORD, "role": "reviewer"},
        headers=world.admin.headers,
    ).json()
    assert_problem(
        client.patch(f"/v1/users/{created['id']}", json={"role": "enterprise"}, headers=world.admin.headers),
        422,
    )
    r = client.patch(
        f"/v1/users/{created['id']}",
        json={"role": "enterprise", "credit_code": YOUNG_CODE},
        headers=world.admin.headers,
    )
    assert r.json()["credit_code"] == YOUNG_CODE


def test_an_admin_cannot_disable_itself_and_unknown_user_is_404(client, world):
    assert_problem(
        client.patch(
            f"/v1/users/{world.admin.user_id}", json={"is_active": False}, headers=world.admin.headers
        ),
        409,
    )
    assert_problem(client.get("/v1/users/999999", headers=world.admin.headers), 404)
