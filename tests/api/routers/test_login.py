"""POST /v1/auth/token, /v1/auth/me, /v1/auth/logout."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from api.models import AccessToken, LoginFailure
from api.problems import ApiProblem
from tests.api.conftest import PASSWORD, app_settings, assert_problem


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


# ------------------------------------------------------------------ password guessing is slowed down


def _age_failures(client, minutes: int) -> None:
    """Move every recorded failure ``minutes`` into the past (the window is 15 minutes)."""
    with client.app.state.sessionmaker() as db:
        for row in db.scalars(select(LoginFailure)):
            row.at -= dt.timedelta(minutes=minutes)
        db.commit()


def test_after_five_failures_an_account_must_wait_even_with_the_right_password(client):
    for _ in range(5):
        assert_problem(_login(client, "reviewer", "wrong-password!"), 401, "invalid-credentials")
    # the five failures 10, 8, 6, 4 and 2 minutes ago: the wait ends when the oldest is 15 minutes old
    with client.app.state.sessionmaker() as db:
        rows = db.scalars(select(LoginFailure).order_by(LoginFailure.id)).all()
        for row, minutes in zip(rows, (10, 8, 6, 4, 2), strict=True):
            row.at -= dt.timedelta(minutes=minutes)
        db.commit()
    r = _login(client)  # the right password, too late
    problem = assert_problem(r, 429, "too-many-attempts")
    assert "登录失败次数过多" in problem["detail"] and "5 分钟" in problem["detail"]
    wait = int(r.headers["Retry-After"])
    assert 5 * 60 - 5 <= wait <= 5 * 60 and problem["retry_after"] == wait
    en = client.post("/v1/auth/token?lang=en", data={"username": "reviewer", "password": PASSWORD})
    assert "too many failed logins" in assert_problem(en, 429)["detail"]
    # other accounts are not locked out by someone guessing this one
    assert _login(client, "admin").status_code == 200
    # when the failures leave the window, the account logs in again, and its count starts afresh
    _age_failures(client, 16)
    assert _login(client).status_code == 200
    assert_problem(_login(client, "reviewer", "wrong-password!"), 401)
    assert _login(client).status_code == 200


def test_a_success_clears_the_failures_of_its_account(client):
    for _ in range(4):
        assert_problem(_login(client, "reviewer", "wrong-password!"), 401)
    assert _login(client).status_code == 200
    for _ in range(4):
        assert_problem(_login(client, "reviewer", "wrong-password!"), 401)
    assert _login(client).status_code == 200


def test_one_client_trying_many_accounts_must_wait_after_twenty_failures(client):
    for i in range(20):
        assert_problem(_login(client, f"guess-{i}", "wrong-password!"), 401)
    assert_problem(_login(client, "admin"), 429, "too-many-attempts")
    _age_failures(client, 16)
    assert _login(client, "admin").status_code == 200


def test_the_count_is_shared_by_every_worker_on_the_database(client, world):
    """Two app instances on one database (two uvicorn workers, or two machines): failures on one count
    on the other, so adding workers does not add guesses."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    other = create_app(world.app.state.settings)
    try:
        second = TestClient(other, raise_server_exceptions=False)
        for c in (client, second, client, second, client):
            assert_problem(_login(c, "reviewer", "wrong-password!"), 401)
        assert_problem(_login(second), 429, "too-many-attempts")
    finally:
        other.state.db_engine.dispose()


def test_the_limits_are_settings(client, world):
    from fastapi.testclient import TestClient

    from api.main import create_app

    settings = world.app.state.settings.model_copy(update={"login_max_failures": 2})
    app = create_app(settings)
    try:
        c = TestClient(app, raise_server_exceptions=False)
        for _ in range(2):
            assert_problem(_login(c, "reviewer", "wrong-password!"), 401)
        assert_problem(_login(c), 429, "too-many-attempts")
    finally:
        app.state.db_engine.dispose()


def test_parallel_guesses_get_no_more_password_checks_than_the_limit(client):
    """Thirty wrong passwords sent at once for one account: each attempt is counted before its password
    is checked, so at most five are checked (401) and the rest are refused (429)."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    def attempt(_: int) -> int:
        with TestClient(client.app, raise_server_exceptions=False) as c:
            return _login(c, "reviewer", "wrong-password!").status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(attempt, range(30)))
    assert set(codes) <= {401, 429} and codes.count(401) <= 5 and codes.count(429) >= 25


def test_guessing_one_account_from_many_clients_is_capped_without_locking_its_owner_out(client, world):
    """Past the cap per account, a client that has failed on the account must wait, and a fresh
    address gets one guess; the owner logging in from a client that has not failed is let in."""
    from api.services.accounts import LoginPolicy, authenticate

    policy = LoginPolicy(max_failures=5, max_failures_per_client=20, max_failures_per_account=8)

    def kind(password: str, host: str) -> str:
        with world.app.state.sessionmaker() as db:
            try:
                authenticate(db, "reviewer", password, host, policy)
            except ApiProblem as e:
                return e.kind
            return "ok"

    for i in range(8):
        assert kind("wrong-password!", f"10.0.0.{i}") == "invalid-credentials"
    assert kind(PASSWORD, "10.0.0.3") == "too-many-attempts"  # failed here before: waits
    assert kind("wrong-password!", "10.0.2.1") == "invalid-credentials"  # a fresh address: one guess
    assert kind("wrong-password!", "10.0.2.1") == "too-many-attempts"
    assert kind(PASSWORD, "10.0.1.1") == "ok"  # the owner, from a client that has not failed
    with world.app.state.sessionmaker() as db:
        # what is kept names no account in clear (people type passwords into the user-name field)
        assert "reviewer" not in {r.username for r in db.scalars(select(LoginFailure))}


def test_an_ipv6_client_is_counted_by_its_64_block():
    from api.services.accounts import client_key

    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_key(None) == "unknown" and client_key("testclient") == "testclient"


# ------------------------------------------------------------------ the client behind a proxy


def _as(world, peer: str):
    from fastapi.testclient import TestClient

    return TestClient(world.app, raise_server_exceptions=False, client=(peer, 50000))


def _guess(c, forwarded: str):
    return c.post(
        "/v1/auth/token",
        data={"username": "reviewer", "password": "wrong-password!"},
        headers={"X-Forwarded-For": forwarded},
    )


def test_a_forged_x_forwarded_for_does_not_reset_the_count(client, world):
    # before: after a 429, the same login with another X-Forwarded-For from 127.0.0.1 got 200
    c = _as(world, "127.0.0.1")
    for i in range(5):
        assert _guess(c, f"198.51.100.{i}").status_code == 401
    r = c.post(
        "/v1/auth/token",
        data={"username": "reviewer", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.77"},
    )
    assert_problem(r, 429, "too-many-attempts")


def test_an_address_uvicorn_took_from_x_forwarded_for_is_not_believed(client, world):
    # uvicorn --proxy-headers (its default) rewrites the peer from the header before the app sees
    # it: every such request is one client, however the attacker varies the header
    for i in range(5):
        forged = f"203.0.113.{i}"
        assert _guess(_as(world, forged), forged).status_code == 401
    forged = "203.0.113.99"
    r = _as(world, forged).post(
        "/v1/auth/token",
        data={"username": "reviewer", "password": PASSWORD},
        headers={"X-Forwarded-For": forged},
    )
    assert_problem(r, 429, "too-many-attempts")


def test_behind_a_trusted_proxy_each_forwarded_client_counts_on_its_own(client, world):
    with app_settings(world.app, trusted_proxies="127.0.0.1"):
        _behind_a_proxy(world)


def _behind_a_proxy(world):
    c = _as(world, "127.0.0.1")
    for _ in range(5):
        assert _guess(c, "spoofed, 198.51.100.1").status_code == 401  # the proxy appends the real one
    assert_problem(_guess(c, "198.51.100.1"), 429, "too-many-attempts")
    ok = c.post(
        "/v1/auth/token",
        data={"username": "reviewer", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.2"},
    )
    assert ok.status_code == 200, ok.text
