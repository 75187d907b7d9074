"""The OpenAPI document: problem+json for every error, the security schemes, Chinese descriptions."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from .problems import MEDIA_TYPE
from .schemas.common import Problem

DESCRIPTION = """
**惠企 huiqi** 科技惠企政策资格判定接口。企业画像的字段与结果格式见契约（profile.md）；
金额单位为万元，以十进制数（JSON 数字或字符串）表示；缺失或 null 表示“未知”，不是 0。

- 匿名调用 `POST /v1/evaluations` 即可自查，结果不保存；登录（`POST /v1/auth/token`）或使用
  `X-API-Key` 后，评估连同输入快照和规则包版本一起保存，可查询、可重放（replay）。
- 所有错误均为 `application/problem+json`（RFC 9457），校验错误在 `errors` 中给出字段路径，
  如 `profile.fiscal_years[0].sales_revenue`。语言：`lang=zh|en` 或 `Accept-Language`，默认中文。

The huiqi eligibility API. Money is in 万元 (10,000 CNY) as decimals; absent or null means unknown.
Anonymous self-checks are not stored; authenticated evaluations are stored and can be replayed.
Every error is RFC 9457 problem+json, in Chinese unless `lang=en` or Accept-Language asks otherwise.
"""

ERROR_DESCRIPTIONS = {
    "400": "请求无法解析（如 JSON 格式错误）/ malformed request",
    "401": "需要登录或 API 密钥 / authentication required",
    "403": "没有权限 / not allowed",
    "404": "未找到（或无权查看）/ not found (or not yours)",
    "409": "冲突 / conflict",
    "413": "请求体过大 / body too large",
    "415": "请求体应为 JSON / body must be JSON",
    "422": "校验失败，errors 给出字段路径 / validation failed; errors name the fields",
    "429": "尝试次数过多，Retry-After 给出等待秒数 / too many attempts; Retry-After says how long to wait",
    "default": "其他错误（problem+json）/ any other error",
}


# Tag names become package and module names in generated clients (``huiqi_client.api.evaluations``):
# ASCII, lower case, hyphenated. People read the Chinese title first: Swagger UI shows the name with
# its description, which opens with the title; ReDoc shows ``x-displayName``.
_TAGS = [  # name, Chinese title, what it holds in Chinese, in English
    (
        "evaluations",
        "资格评估",
        "评估、保存、查询、重放、假设分析",
        "Evaluate a profile; store, list, replay, what-if.",
    ),
    (
        "profiles",
        "企业画像",
        "企业画像的版本（只增不改），按已保存的画像评估",
        "Enterprise profiles as append-only versions; evaluate a stored profile.",
    ),
    (
        "measures",
        "政策措施",
        "政策措施目录：条件、原文、参数",
        "The catalogue of measures: criteria, quotes, parameters.",
    ),
    ("rulepack", "规则包", "规则包版本与暂定参数", "The rule pack's version and its provisional parameters."),
    (
        "screenings",
        "批量筛查",
        "上传申报数据、筛查进度、结果、审核、导出、影响分析、免申即享",
        "Bulk screening: uploads and runs, results, review, export, impact analysis, proactive matching.",
    ),
    (
        "reports",
        "统计报表",
        "筛查报表、规则变更的影响、符合条件而未申报的企业",
        "Reports of a screening, the impact of a rule change, eligible enterprises that have not applied.",
    ),
    (
        "auth",
        "登录",
        "密码登录取得令牌、注销、当前账号",
        "Password login for a bearer token, logout, the current account.",
    ),
    ("users", "账号管理（管理员）", "管理员管理账号", "Accounts, managed by administrators."),
    (
        "api-keys",
        "API 密钥（管理员）",
        "机器客户端的密钥",
        "API keys for machine clients, issued by administrators.",
    ),
    (
        "audit",
        "审计日志（管理员）",
        "谁在何时做了什么，哈希链可核验",
        "The audit log: who did what and when, hash-chained.",
    ),
    ("health", "运行状态", "存活与就绪检查", "Liveness and readiness."),
]

TAGS: list[dict[str, Any]] = [
    {"name": name, "description": f"**{title}**：{zh}。\n\n{en}", "x-displayName": f"{title} {name}"}
    for name, title, zh, en in _TAGS
]


def operation_id(route: APIRoute) -> str:
    """The operation id FastAPI gives a route without an explicit ``operation_id``: its function's
    name in lowerCamelCase (``create_evaluation`` → ``createEvaluation``), where FastAPI's default
    would add the path and method (``create_evaluation_v1_evaluations_post``). Generated clients
    name their functions after it, so it is part of the API: never change one."""
    head, *rest = route.name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in problem.pop("$defs", {}).items():
            schemas[name] = sub
        schemas["Problem"] = problem
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        security = components.setdefault("securitySchemes", {})
        security["passwordLogin"] = {
            "type": "oauth2",
            "description": "用户名密码登录（Swagger UI 的 Authorize）/ password login",
            "flows": {"password": {"tokenUrl": "/v1/auth/token", "scopes": {}}},
        }
        ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for path, path_item in schema.get("paths", {}).items():
            for op in path_item.values():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                responses = op["responses"]
                codes = ["default"]
                if "requestBody" in op:
                    codes += ["400", "413", "415", "422"]
                if op.get("parameters"):
                    codes.append("422")
                if "{" in path:
                    codes.append("404")
                if op.get("security"):
                    codes.append("401")
                    op["security"] = op["security"] + [{"passwordLogin": []}]
                for code in codes:
                    entry = responses.setdefault(code, {"description": ERROR_DESCRIPTIONS.get(code, "")})
                    entry["content"] = {MEDIA_TYPE: ref}
                    if code in ERROR_DESCRIPTIONS and entry.get("description") in ("", "Validation Error"):
                        entry["description"] = ERROR_DESCRIPTIONS[code]
                for code, entry in responses.items():
                    if code[0] in "45" and code not in codes:
                        entry["content"] = {MEDIA_TYPE: ref}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
