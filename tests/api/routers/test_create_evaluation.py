"""POST /v1/evaluations: anonymous self-checks are answered and not stored; authenticated ones are stored."""

from __future__ import annotations

import datetime as dt

from tests.api.conftest import ESTABLISHED_CODE, assert_problem


def test_create_evaluation_anonymous_is_answered_and_not_stored(client, world, established_body):
    r = client.post("/v1/evaluations", json=established_body)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] is None and body["stored"] is False
    assert body["credit_code"] == ESTABLISHED_CODE
    assert body["as_of"] == "2025-06-30"
    assert body["rule_pack_version"] == world.app.state.engine.version
    hte = next(x for x in body["results"] if x["measure_id"] == "hte-recognition")
    assert hte["outcome"] == "eligible"
    assert hte["subject"] == {"kind": "enterprise"}
    assert "Location" not in r.headers
    listed = client.get("/v1/evaluations", headers=world.reviewer.headers).json()
    assert listed["total"] == 0


def test_create_evaluation_authenticated_is_stored_with_its_input(client, world, established_body):
    r = client.post("/v1/evaluations", json=established_body, headers=world.ent_a.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["stored"] is True and len(created["id"]) == 32
    assert r.headers["Location"] == f"/v1/evaluations/{created['id']}"
    stored = client.get(r.headers["Location"], headers=world.ent_a.headers).json()
    assert stored["results"] == created["results"]
    assert stored["rule_pack_version"] == created["rule_pack_version"]
    assert stored["input"]["as_of"] == "2025-06-30"
    assert stored["created_by"] == "ent-a"
    # money is kept exactly, as decimal strings in 万元
    fy2023 = next(fy for fy in stored["input"]["profile"]["fiscal_years"] if fy["year"] == 2023)
    assert fy2023["rd_expense"] == "581.69"
    assert fy2023["sales_revenue"] == "8309.85"


def test_create_evaluation_by_an_enterprise_for_another_enterprise_is_forbidden(client, world, young_body):
    r = client.post("/v1/evaluations", json=young_body, headers=world.ent_a.headers)
    body = assert_problem(r, 403, "forbidden")
    assert body["errors"][0]["field"] == "profile.credit_code"


def test_create_evaluation_by_a_reviewer_is_stored_for_any_enterprise(client, world, young_body):
    r = client.post("/v1/evaluations", json=young_body, headers=world.reviewer.headers)
    assert r.status_code == 201
    # the enterprise it concerns sees it; the other does not
    eid = r.json()["id"]
    assert client.get(f"/v1/evaluations/{eid}", headers=world.ent_b.headers).status_code == 200
    assert client.get(f"/v1/evaluations/{eid}", headers=world.ent_a.headers).status_code == 404


def test_create_evaluation_with_a_bearer_token(client, world, established_body):
    token = client.post(
        "/v1/auth/token", data={"username": "ent-a", "password": "correct-horse-battery"}
    ).json()
    r = client.post(
        "/v1/evaluations", json=established_body, headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert r.status_code == 201


def test_create_evaluation_answers_in_english_by_query_body_or_accept_language(client, established_body):
    zh = client.post("/v1/evaluations", json=established_body).json()
    assert zh["lang"] == "zh" and zh["results"][0]["summary"] == "满足本措施的条件"
    full = {**established_body, "detail": "full"}
    by_query = client.post("/v1/evaluations?lang=en", json=full).json()
    by_body = client.post("/v1/evaluations", json={**full, "lang": "en"}).json()
    by_header = client.post(
        "/v1/evaluations", json=full, headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"}
    ).json()
    for body in (by_query, by_body, by_header):
        assert body["lang"] == "en"
        assert body["results"][0]["outcome_label"] == "eligible"


def test_create_evaluation_of_some_measures_only(client, established_body):
    r = client.post("/v1/evaluations", json={**established_body, "measures": ["hte-recognition"]})
    assert r.status_code == 200
    assert {x["measure_id"] for x in r.json()["results"]} == {"hte-recognition"}


def test_create_evaluation_of_an_unknown_measure_is_404(client, established_body):
    r = client.post(
        "/v1/evaluations", json={**established_body, "measures": ["hte-recognition", "no-such-measure"]}
    )
    body = assert_problem(r, 404, "unknown-measure")
    assert body["errors"] == [
        {
            "field": "measures",
            "location": "body",
            "message": "未知措施 / unknown measure: no-such-measure",
            "value": "no-such-measure",
        }
    ]


def test_create_evaluation_names_the_field_of_a_bad_profile(client, established_body):
    established_body["profile"]["fiscal_years"][0]["sales_revenue"] = "很多"
    r = client.post("/v1/evaluations", json=established_body)
    body = assert_problem(r, 422, "invalid-profile")
    assert body["errors"][0]["field"] == "profile.fiscal_years[0].sales_revenue"
    assert body["errors"][0]["location"] == "body"
    assert "应为数值" in body["errors"][0]["message"]


def test_create_evaluation_in_english_names_the_field_too(client, established_body):
    established_body["profile"]["credit_code"] = "91370100CA85GF0T95"
    r = client.post("/v1/evaluations?lang=en", json=established_body)
    body = assert_problem(r, 422)
    assert body["title"] == "The profile breaks the contract"
    assert body["errors"][0]["field"] == "profile.credit_code"
    assert "checksum" in body["errors"][0]["message"]


def test_create_evaluation_without_as_of_uses_today(client, established_body):
    established_body.pop("as_of")
    r = client.post("/v1/evaluations", json=established_body)
    assert r.json()["as_of"] == dt.date.today().isoformat()


def test_create_evaluation_rejects_an_as_of_out_of_range(client, established_body):
    r = client.post("/v1/evaluations", json={**established_body, "as_of": "0001-01-01"})
    body = assert_problem(r, 422)
    assert body["errors"][0]["field"] == "as_of"


def test_create_evaluation_answers_with_verdicts_by_default(client, young_body):
    """Per result its verdict: every node's id and status, decisive and moot flags, machine values
    (numbers as decimal strings, unknown as null) and a one-line summary; no other display text."""
    body = client.post("/v1/evaluations", json=young_body).json()
    hte = next(x for x in body["results"] if x["measure_id"] == "hte-recognition")
    assert hte["outcome"] == "undetermined"
    assert hte["summary"] == "缺少：创新能力评价得分"
    assert hte["missing_facts"] == ["innovation_score"]
    nodes = {c["id"]: c for c in hte["criteria"]}
    assert nodes["all_conditions"] == {"id": "all_conditions", "status": "unknown", "decisive": True}
    score = nodes["art11_7_innovation_score"]
    assert score["status"] == "unknown" and score["actual"] is None and score["expected"] == "70"
    assert score["decisive"] is True
    ratio = nodes["art11_4_tech_staff_ratio"]
    assert ratio["status"] == "met" and ratio["expected"] == "0.10" and isinstance(ratio["actual"], str)
    for c in hte["criteria"]:
        assert set(c) <= {"id", "status", "decisive", "moot", "actual", "expected", "gap"}
    assert "title" not in hte and "explanation" not in hte
    assert hte["as_of"] == body["as_of"] and hte["rule_pack_version"] == body["rule_pack_version"]


def test_create_evaluation_full_explains_every_criterion(client, young_body):
    body = client.post("/v1/evaluations", json={**young_body, "detail": "full"}).json()
    hte = next(x for x in body["results"] if x["measure_id"] == "hte-recognition")
    assert hte["title"] == "高新技术企业认定条件" and hte["explanation"] == "缺少：创新能力评价得分"
    score = next(c for c in hte["criteria"] if c["id"] == "art11_7_innovation_score")
    assert score["explanation"] == "创新能力评价得分：缺少创新能力评价得分，无法判定"
    assert score["quote"] and score["clause"].startswith("第十一条（七）")


def test_create_evaluation_the_verdict_is_a_fraction_of_the_full_explanation(client, established_body):
    verdict = client.post("/v1/evaluations", json=established_body)
    full = client.post("/v1/evaluations", json={**established_body, "detail": "full"})
    assert len(verdict.content) * 4 < len(full.content), (len(verdict.content), len(full.content))


def test_create_evaluation_with_a_bad_api_key_is_401_not_anonymous(client, established_body):
    r = client.post("/v1/evaluations", json=established_body, headers={"X-API-Key": "hqk_nope"})
    assert_problem(r, 401, "unauthorized")
    r = client.post("/v1/evaluations", json=established_body, headers={"Authorization": "Basic eDp5"})
    assert_problem(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_anonymous_and_a_stored_evaluation_say_the_same(client, world, established_body):
    """Anonymous (200) and stored (201) self-checks give the same results; query and body errors,
    unknown measures and bad keys are answered as problems whichever way the request came."""
    fast = client.post("/v1/evaluations?lang=en", json=established_body)
    stored = client.post("/v1/evaluations?lang=en", json=established_body, headers=world.reviewer.headers)
    assert fast.status_code == 200 and stored.status_code == 201
    assert fast.headers["content-type"] == stored.headers["content-type"] == "application/json"
    same = ("results", "missing_facts", "lang", "as_of", "credit_code", "rule_pack_version")
    assert {k: fast.json()[k] for k in same} == {k: stored.json()[k] for k in same}
    assert fast.json()["lang"] == "en"
    # the last of repeated query values counts, as FastAPI reads it
    assert client.post("/v1/evaluations?lang=fr&lang=en", json=established_body).json()["lang"] == "en"
    problem = assert_problem(client.post("/v1/evaluations?lang=en&lang=fr", json=established_body), 422)
    assert problem["errors"][0]["field"] == "lang" and problem["errors"][0]["location"] == "query"
    problem = assert_problem(client.post("/v1/evaluations", json={**established_body, "detail": "all"}), 422)
    assert problem["errors"][0]["field"] == "detail"
    assert_problem(client.post("/v1/evaluations", json={**established_body, "measures": ["nope"]}), 404)
    assert_problem(client.post("/v1/evaluations", json=established_body, headers={"X-API-Key": "x"}), 401)
    r = client.post(
        "/v1/evaluations",
        content=b"",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(r, 422)
