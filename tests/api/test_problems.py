"""Every error is application/problem+json in the requested language; no input gets a 500."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import assert_problem, make_settings


def test_malformed_json_is_400(client):
    r = client.post("/v1/evaluations", content=b'{"profile": {', headers={"Content-Type": "application/json"})
    problem = assert_problem(r, 400, "malformed-json")
    assert "无法解析" in problem["detail"]
    r = client.post("/v1/evaluations?lang=en", content=b"[1,]", headers={"Content-Type": "application/json"})
    assert assert_problem(r, 400)["title"] == "The request body is not valid JSON"


def test_body_over_the_limit_is_413_declared_or_streamed(client, world):
    limit = world.app.state.settings.max_body_bytes
    big = b'{"profile": "' + b"x" * (limit + 10) + b'"}'
    problem = assert_problem(
        client.post("/v1/evaluations", content=big, headers={"Content-Type": "application/json"}),
        413,
        "payload-too-large",
    )
    assert str(limit) in problem["detail"]

    def chunks():  # no Content-Length: the limit is counted as the body streams in
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    r = client.post("/v1/evaluations", content=chunks(), headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "payload-too-large")


def test_body_limit_is_configurable(database_url):
    app = create_app(make_settings(database_url, max_body_bytes=2048, migrate_on_start=False))
    body = {"profile": {"credit_code": "91370100CA85GF0T94", "name": "长" * 1000}}
    r = TestClient(app).post("/v1/evaluations", json=body)
    assert_problem(r, 413)


def test_a_body_that_is_not_json_is_415(client):
    r = client.post(
        "/v1/evaluations", content=b"profile=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_problem(r, 415, "unsupported-media-type")


def test_text_that_cannot_be_stored_is_400_naming_where(client):
    raw = b'{"profile": {"credit_code": "91370100CA85GF0T94", "name": "a\\u0000b"}}'
    r = client.post("/v1/evaluations", content=raw, headers={"Content-Type": "application/json"})
    problem = assert_problem(r, 400, "malformed-json")
    assert "profile.name" in problem["detail"]


def test_a_nul_in_the_url_is_400(client, world):
    for url in ("/v1/evaluations?credit_code=%00", "/v1/measures/a%00b", "/v1/evaluations/abc%00"):
        problem = assert_problem(client.get(url, headers=world.reviewer.headers), 400, "bad-request")
        assert "NUL" in problem["detail"]


def test_unknown_path_and_wrong_method(client):
    assert_problem(client.get("/v1/nothing-here"), 404, "not-found")
    problem = assert_problem(client.delete("/v1/measures"), 405, "method-not-allowed")
    assert "DELETE" in problem["detail"]


def test_validation_errors_name_every_field_with_its_path(client, established_body):
    p = established_body["profile"]
    p["fiscal_years"][0]["sales_revenue"] = -1
    p["fiscal_years"][2]["tech_staff"] = "七十"
    p["ownership"] = "martian"
    p["unknown_field"] = 1
    problem = assert_problem(client.post("/v1/evaluations", json=established_body), 422, "invalid-profile")
    fields = {e["field"] for e in problem["errors"]}
    assert {
        "profile.fiscal_years[0].sales_revenue",
        "profile.fiscal_years[2].tech_staff",
        "profile.ownership",
        "profile.unknown_field",
    } <= fields
    assert all(e["message"] for e in problem["errors"])
    assert problem["title"] == "企业画像不符合契约"


def test_validation_errors_in_english_by_accept_language(client, established_body):
    established_body["profile"]["ownership"] = "martian"
    r = client.post("/v1/evaluations", json=established_body, headers={"Accept-Language": "en-US,en;q=0.8"})
    problem = assert_problem(r, 422)
    assert problem["title"] == "The profile breaks the contract"
    assert "应" not in problem["errors"][0]["message"]


def test_odd_inputs_never_get_a_500(client, world, established_body):
    odd_bodies = [
        b"null",
        b"[]",
        b'"text"',
        b"{}",
        b'{"profile": null}',
        b'{"profile": {"credit_code": 5}}',
        b'{"profile": {"credit_code": "91370100CA85GF0T94", "fiscal_years": [{"year": 2024, "sales_revenue": NaN}]}}',
        b'{"profile": {"credit_code": "91370100CA85GF0T94", "fiscal_years": [{"year": 2024, "sales_revenue": 1e999}]}}',
        b'{"profile": {"credit_code": "91370100CA85GF0T94", "innovation_score": ' + b"9" * 5000 + b"}}",
        b'{"profile": ' * 3000 + b"}" * 3000,
        b'{"profile": {"credit_code": "91370100CA85GF0T94", "registered_on": "0001-01-01"}, "as_of": "2025-01-01"}',
        b'{"profile": {"credit_code": "91370100CA85GF0T94"}, "measures": [""]}',
        b"\xff\xfe\x00",
        b'{"profile": {"credit_code": "91370100CA85GF0T94", "name": "a\\u0000b"}}',
        b'{"profile": {"credit_code": "91370100CA85GF0T94", "name": "\\ud800"}}',
        b'{"profile": {"credit_code": "91370100CA85GF0T94", "projects": [{"id": "\\u0000"}]}}',
    ]
    for raw in odd_bodies:
        # anonymous (answered only) and authenticated (stored): neither may fail
        for headers in ({}, world.admin.headers):
            r = client.post(
                "/v1/evaluations", content=raw, headers={"Content-Type": "application/json", **headers}
            )
            assert r.status_code < 500, (raw[:80], r.status_code, r.text[:300])
            if r.status_code >= 400:
                assert_problem(r, r.status_code)
    for path in (
        "/v1/evaluations/%00",
        "/v1/enterprises/%F0%9F%98%80/profile",
        "/v1/users/-1",
        "/v1/api-keys/abc",
    ):
        r = client.get(path, headers=world.admin.headers)
        assert 400 <= r.status_code < 500
        assert_problem(r, r.status_code)
    assert client.get("/v1/measures?lang=" + "x" * 5000).status_code == 422
    odd = json.loads(json.dumps(established_body))
    odd["profile"]["fiscal_years"] = [{"year": y} for y in range(1990, 2040)]
    assert client.post("/v1/evaluations", json=odd).status_code == 200


def test_an_unexpected_error_is_a_500_problem_without_traceback(database_url, caplog):
    app = create_app(make_settings(database_url, migrate_on_start=False))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    r = TestClient(app, raise_server_exceptions=False).get("/boom?lang=en")
    problem = assert_problem(r, 500, "internal-error")
    assert "secret internals" not in r.text and problem["error_id"] in problem["detail"]
    assert "secret internals" in caplog.text


def test_disallowed_text_is_found_however_the_body_is_written(client):
    """Bodies with no escape or byte that could hold a NUL or a lone surrogate skip the walk over
    every string (``api.routing.loads_checked``); the others are walked and reported."""
    for raw in (
        b'{"profile": {"credit_code": "91370100CA85GF0T94", "name": "a\\uD800b"}}',
        b'{"profile": {"credit_code": "91370100CA85GF0T94", "name": "a\\ud83d"}}',
        b'{"profile": {"credit_code": "91370100CA85GF0T94", "name": "a\xed\xa0\x80b"}}',
        '{"profile": {"credit_code": "91370100CA85GF0T94", "name": "a\\u0000b"}}'.encode("utf-16"),
    ):
        r = client.post("/v1/evaluations", content=raw, headers={"Content-Type": "application/json"})
        problem = assert_problem(r, 400, "malformed-json")
        assert "profile.name" in problem["detail"], raw
    # an escaped backslash before "u0000", and an emoji's surrogate pair, are ordinary text
    for name in ("a\\u0000b", "a😀b"):
        body = {"profile": {"credit_code": "91370100CA85GF0T94", "name": name}}
        r = client.post("/v1/evaluations", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["name"] == name
