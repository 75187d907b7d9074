"""The smaller findings of the security review: security headers on pages, credentials checked on
public routes, staff names not shown to enterprises, the daily quota of stored evaluations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from api.models import EvaluationQuota
from api.services import quota
from tests.api.conftest import ESTABLISHED_CODE, app_settings, assert_problem


def test_pages_and_answers_carry_the_security_headers(client):
    for path in ("/", "/login", "/desk", "/self-check", "/v1/measures", "/nope"):
        h = client.get(path).headers
        csp = h["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp, path
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff", path
        assert h["referrer-policy"] == "strict-origin-when-cross-origin", path
    docs = client.get("/docs").headers["content-security-policy"]
    assert "frame-ancestors 'none'" in docs  # Swagger UI needs its inline script, and gets it


def test_pages_hold_no_inline_script_style_or_handler(client):
    import re

    for path in (
        "/",
        "/catalogue",
        "/self-check",
        "/login",
        "/account",
        "/desk",
        "/desk/audit",
        "/desk/runs/x",
    ):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+=\"", html) and ' style="' not in html, path


def test_bad_credentials_on_a_public_route_are_401_not_anonymous(client):
    for headers in (
        {"X-API-Key": "hqk_nope"},
        {"Authorization": "Bearer hqt_nope"},
        {"Authorization": "Basic x"},
    ):
        assert_problem(client.get("/v1/measures", headers=headers), 401, "unauthorized")
    assert client.get("/v1/measures").status_code == 200


def test_an_enterprise_does_not_see_the_staff_who_stored_its_profile(client, world, established_body):
    profile = established_body["profile"]
    assert (
        client.put(
            f"/v1/enterprises/{ESTABLISHED_CODE}/profile", json=profile, headers=world.admin.headers
        ).status_code
        == 201
    )
    mine = client.get(f"/v1/enterprises/{ESTABLISHED_CODE}/profile", headers=world.ent_a.headers).json()
    assert mine["created_by"] != "admin" and mine["created_by"] == "科技局工作人员"
    versions = client.get(
        f"/v1/enterprises/{ESTABLISHED_CODE}/profile/versions", headers=world.ent_a.headers
    ).json()
    assert "admin" not in {v["created_by"] for v in versions["items"]}
    staff = client.get(f"/v1/enterprises/{ESTABLISHED_CODE}/profile", headers=world.reviewer.headers).json()
    assert staff["created_by"] == "admin"


def test_stored_evaluations_have_a_daily_quota_and_anonymous_ones_do_not(client, world, established_body):
    # before: one key wrote 82 MB of stored evaluations in 25 s
    with app_settings(world.app, stored_evaluations_per_day=3):
        _quota(client, world, established_body)


def _quota(client, world, established_body):
    h = world.ent_a.headers
    bad = {**established_body, "measures": ["no-such-measure"]}
    assert client.post("/v1/evaluations", json=bad, headers=h).status_code == 404  # not stored: not counted
    broken = {**established_body, "profile": {**established_body["profile"], "employees": "many"}}
    assert client.post("/v1/evaluations", json=broken, headers=h).status_code == 422
    for _ in range(2):
        assert client.post("/v1/evaluations", json=established_body, headers=h).status_code == 201
    put = client.put(
        f"/v1/enterprises/{ESTABLISHED_CODE}/profile", json=established_body["profile"], headers=h
    )
    assert put.status_code == 201
    r = client.post(
        f"/v1/enterprises/{ESTABLISHED_CODE}/evaluations", json={"as_of": "2025-06-30"}, headers=h
    )
    assert r.status_code == 201, r.text
    with world.app.state.sessionmaker() as db:
        assert db.scalar(select(EvaluationQuota.used)) == 3  # the two refused ones were recounted
    r = client.post("/v1/evaluations", json=established_body, headers=h)
    body = assert_problem(r, 429, "quota-exceeded")
    assert int(r.headers["Retry-After"]) == body["retry_after"] <= 86_400 and body["limit"] == 3
    assert_problem(
        client.post(
            f"/v1/enterprises/{ESTABLISHED_CODE}/evaluations", json={"as_of": "2025-06-30"}, headers=h
        ),
        429,
    )
    assert client.post("/v1/evaluations", json=established_body).status_code == 200  # anonymous: not stored
    assert (
        client.post("/v1/evaluations", json=established_body, headers=world.reviewer.headers).status_code
        == 201
    )
    # the next day (China Standard Time) starts afresh
    with world.app.state.sessionmaker() as db:
        db.execute(update(EvaluationQuota).values(day=quota.today() - dt.timedelta(days=1)))
        db.commit()
    assert client.post("/v1/evaluations", json=established_body, headers=h).status_code == 201


def test_the_quota_day_turns_at_midnight_in_china():
    just_before = dt.datetime(2026, 3, 1, 15, 59, 30, tzinfo=dt.UTC)  # 23:59:30 in Beijing
    assert quota.today(just_before) == dt.date(2026, 3, 1)
    assert quota.today(just_before + dt.timedelta(seconds=31)) == dt.date(2026, 3, 2)
    assert quota.seconds_to_next_day(just_before) == 31
