"""POST /v1/auth/token, /v1/auth/me, /v1/auth/logout."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from api.models import AccessToken
from tests.api.conftest import PASSWORD, assert_problem


def _login(client, username="reviewer", password=PASSWORD):
    return client.post("/v1/auth/token", data={"username": username, "password": password})


def test_login_returns_a_bearer_token_that_works(client):
    r = _login(client)
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["token_type"] == "bearer" and token["access_token"].startswith("hqt_")
    assert token["user"]["role"] == "reviewer"
    assert r.headers["Cache-Control"] == "no-store"
    me = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["username"] == "reviewer"


def test_login_with_a_wrong_password_or_unknown_user_is_401(client):
    for user, pw in (("reviewer", "wrong-password!"), ("nobody", PASSWORD)):
        problem = assert_problem(_login(client, user, pw), 401, "invalid-credentials")
        assert "用户名或密码错误" in problem["detail"]


def test_login_needs_both_fields(client):
    problem = assert_problem(client.post("/v1/auth/token", data={"username": "x"}), 422)
    assert problem["errors"][0]["field"] == "password"


def test_logout_revokes_the_token(client):
    token = _login(client).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/v1/auth/logout", headers=auth).status_code == 204
    assert_problem(client.get("/v1/auth/me", headers=auth), 401)


def test_an_expired_token_is_401(client, world):
    token = _login(client).json()["access_token"]
    with world.app.state.sessionmaker() as db:
        db.execute(update(AccessToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        db.commit()
    assert_problem(client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)


def test_me_with_an_api_key(client, world):
    assert (
        client.get("/v1/auth/me", headers=world.ent_a.headers).json()["credit_code"]
        == world.ent_a.credit_code
    )
