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


def test_schema_names_are_unique(client):
    """Two models of one name appear as api__schemas__evaluations__Subject and
    api__screening__schemas__Subject; generators then drop every schema that uses them."""
    names = list(client.get("/openapi.json").json()["components"]["schemas"])
    for name in names:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) and "__" not in name, name
    # distinct also as generators name classes: without underscores, case-insensitively
    assert len({n.replace("_", "").lower() for n in names}) == len(names)
