"""The OpenAPI document and the documentation pages, served without the internet."""

from __future__ import annotations

import re

from api.problems import MEDIA_TYPE


def test_docs_page_and_its_assets_are_served_locally(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/docs-static/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    js = client.get("/docs-static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert client.get("/docs-static/swagger-ui.css").status_code == 200
    redoc = client.get("/redoc")
    assert "/docs-static/redoc.standalone.js" in redoc.text and "fonts.googleapis" not in redoc.text


def test_openapi_has_chinese_examples_and_problem_errors(client):
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/v1/evaluations"]["post"]
    examples = post["requestBody"]["content"]["application/json"]["examples"]
    assert any(e["summary"] == "济南示例智能科技有限公司" for e in examples.values())
    what_if = spec["paths"]["/v1/evaluations/what-if"]["post"]["requestBody"]["content"]["application/json"]
    assert "研发费用增加 100 万元" in next(iter(what_if["examples"].values()))["summary"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert "default" in op["responses"], (method, path)
            for code, resp in op["responses"].items():
                if code == "default" or code[0] in "45":
                    assert list(resp["content"]) == [MEDIA_TYPE], (method, path, code)
    assert "Problem" in spec["components"]["schemas"]
    assert {"bearerToken", "apiKey", "passwordLogin"} <= set(spec["components"]["securitySchemes"])
    assert spec["paths"]["/v1/evaluations"]["post"]["summary"].startswith("评估企业画像")


# Generated clients name their functions after the operation ids (``list_screening_results``):
# renaming one breaks every client built before. New operations need no entry here; the checks
# below hold them to the same style.
STABLE_OPERATION_IDS = {
    ("post", "/v1/evaluations"): "createEvaluation",
    ("get", "/v1/evaluations"): "listEvaluations",
    ("post", "/v1/evaluations/what-if"): "evaluateWhatIf",
    ("get", "/v1/evaluations/{evaluation_id}"): "getEvaluation",
    ("post", "/v1/evaluations/{evaluation_id}/replay"): "replayEvaluation",
    ("get", "/v1/enterprises"): "listEnterprises",
    ("put", "/v1/enterprises/{credit_code}/profile"): "putProfile",
    ("get", "/v1/enterprises/{credit_code}/profile"): "getProfile",
    ("get", "/v1/enterprises/{credit_code}/profile/versions"): "listProfileVersions",
    ("post", "/v1/enterprises/{credit_code}/evaluations"): "evaluateStoredProfile",
    ("get", "/v1/measures"): "listMeasures",
    ("get", "/v1/measures/{measure_id}"): "getMeasure",
    ("get", "/v1/rulepack"): "getRulePack",
    ("post", "/v1/auth/token"): "createToken",
    ("post", "/v1/auth/logout"): "revokeToken",
    ("get", "/v1/auth/me"): "getCurrentUser",
    ("get", "/v1/users"): "listUsers",
    ("post", "/v1/users"): "createUser",
    ("get", "/v1/users/{user_id}"): "getUser",
    ("patch", "/v1/users/{user_id}"): "updateUser",
    ("get", "/v1/api-keys"): "listApiKeys",
    ("post", "/v1/api-keys"): "createApiKey",
    ("get", "/v1/api-keys/{key_id}"): "getApiKey",
    ("delete", "/v1/api-keys/{key_id}"): "revokeApiKey",
    ("get", "/v1/screenings/templates/{fmt}"): "getScreeningTemplate",
    ("get", "/v1/screenings/rule-packs"): "listRulePacks",
    ("post", "/v1/screenings"): "createScreening",
    ("get", "/v1/screenings"): "listScreenings",
    ("post", "/v1/screenings/proactive"): "createProactiveScreening",
    ("get", "/v1/screenings/{run_id}"): "getScreening",
    ("delete", "/v1/screenings/{run_id}"): "deleteScreening",
    ("get", "/v1/screenings/{run_id}/results"): "listScreeningResults",
    ("get", "/v1/screenings/{run_id}/errors"): "listScreeningErrors",
    ("get", "/v1/screenings/{run_id}/rows/{row_no}"): "getScreeningRow",
    ("post", "/v1/screenings/{run_id}/rows/{row_no}/decisions"): "createDecision",
    ("get", "/v1/screenings/{run_id}/decisions"): "listDecisions",
    ("get", "/v1/screenings/{run_id}/export"): "exportScreening",
    ("post", "/v1/screenings/{run_id}/impact"): "createImpactAnalysis",
    ("get", "/v1/screenings/{run_id}/impact"): "getImpactAnalysis",
    ("get", "/v1/screenings/{run_id}/report"): "getScreeningReport",
    ("get", "/v1/screenings/{run_id}/proactive"): "listProactiveCandidates",
    ("get", "/v1/audit"): "listAuditEntries",
    ("get", "/healthz"): "getLiveness",
    ("get", "/readyz"): "getReadiness",
}
# the first word of an operation id; a new verb is added here when it really is one
VERBS = {"create", "list", "get", "put", "update", "delete", "revoke", "evaluate", "replay", "export"}
LOWER_CAMEL_VERB_NOUN = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)+")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def test_operation_ids_are_unique_ascii_lower_camel_case_and_stable(client):
    spec = client.get("/openapi.json").json()
    operations = _operations(spec)
    ids = [op.get("operationId") for _, _, op in operations]
    assert all(ids), [(m, p) for (m, p, op) in operations if not op.get("operationId")]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for method, path, op in operations:
        oid = op["operationId"]
        # FastAPI's default (create_evaluation_v1_evaluations_post) fails here
        assert oid.isascii() and LOWER_CAMEL_VERB_NOUN.fullmatch(oid), (method, path, oid)
        assert re.match(r"[a-z]+", oid)[0] in VERBS, (method, path, oid)
    found = {(m, p): op["operationId"] for m, p, op in operations}
    assert {k: found.get(k) for k in STABLE_OPERATION_IDS} == STABLE_OPERATION_IDS


def test_tags_are_ascii_declared_and_shown_in_chinese_first(client):
    spec = client.get("/openapi.json").json()
    declared = {t["name"]: t for t in spec["tags"]}
    used = set()
    for method, path, op in _operations(spec):
        assert len(op.get("tags", [])) == 1, (method, path, op.get("tags"))
        used.add(op["tags"][0])
    assert used == set(declared), used ^ set(declared)
    for name, tag in declared.items():
        # tag names become package and module names in generated clients
        assert re.fullmatch(r"[a-z]+(?:-[a-z]+)*", name), name
        title = tag["x-displayName"].removesuffix(" " + name)
        assert re.search(r"[\u4e00-\u9fff]", title), tag  # ReDoc shows the Chinese title
        # Swagger UI shows the name and the description: Chinese first, then an English sentence
        zh, _, en = tag["description"].partition("\n\n")
        assert zh.startswith(f"**{title}**："), tag
        assert en.isascii() and en.endswith("."), tag
    assert declared["evaluations"]["x-displayName"] == "资格评估 evaluations"


def test_schema_names_are_unique(client):
    """Two models of one name appear as api__schemas__evaluations__Subject and
    api__screening__schemas__Subject; generators then drop every schema that uses them."""
    names = list(client.get("/openapi.json").json()["components"]["schemas"])
    for name in names:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) and "__" not in name, name
    # distinct also as generators name classes: without underscores, case-insensitively
    assert len({n.replace("_", "").lower() for n in names}) == len(names)
