"""Accounts: keys end with the password they were issued under, names are unique whatever their
case, and the login-failure table keeps account names only under the server's secret."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from api.models import LoginFailure
from api.secret import ServerSecret, account_key
from tests.api.conftest import PASSWORD, assert_problem


def test_api_keys_do_not_survive_a_password_change(client, world):
    admin = world.admin.headers
    uid = client.post(
        "/v1/users", json={"username": "machine", "password": PASSWORD, "role": "reviewer"}, headers=admin
    ).json()["id"]
    key = client.post("/v1/api-keys", json={"user_id": uid, "name": "脚本"}, headers=admin).json()["key"]
    assert client.get("/v1/auth/me", headers={"X-API-Key": key}).status_code == 200
    r = client.patch(f"/v1/users/{uid}", json={"password": "a-new-passphrase"}, headers=admin)
    assert r.status_code == 200
    assert_problem(client.get("/v1/auth/me", headers={"X-API-Key": key}), 401)


def test_user_names_are_unique_whatever_their_case_and_log_in_either_way(client, world):
    admin = world.admin.headers
    r = client.post(
        "/v1/users", json={"username": "Admin", "password": PASSWORD, "role": "reviewer"}, headers=admin
    )
    body = assert_problem(r, 409, "conflict")
    assert body["errors"][0]["field"] == "username"
    assert (
        client.post("/v1/auth/token", data={"username": "REVIEWER", "password": PASSWORD}).status_code == 200
    )


def test_failed_logins_keep_the_name_only_under_the_servers_secret(client, world):
    client.post("/v1/auth/token", data={"username": "reviewer", "password": "wrong-password!"})
    with world.app.state.sessionmaker() as db:
        kept = db.scalars(select(LoginFailure.username)).all()
        secret = db.scalar(select(ServerSecret.value))
        assert kept == [account_key(db, "reviewer")]
    assert kept[0] != hashlib.sha256(b"reviewer").hexdigest(), "not an unkeyed hash"
    assert secret and len(bytes.fromhex(secret)) == 32
