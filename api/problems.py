"""Every error is ``application/problem+json`` (RFC 9457) in the requested language.

``ApiProblem`` is raised by services and routers; the handlers here also turn FastAPI's validation
errors, Starlette's HTTP errors and anything unexpected into problems. No traceback reaches a user.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from engine import (
    HuiqiError,
    InvalidOverride,
    InvalidProfile,
    UnknownMeasure,
    errors_of,
    field_path,
    message,
)

from .errors import DomainError
from .i18n import negotiate, pick
from .routing import DISALLOWED_TEXT

log = logging.getLogger("huiqi.api")

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://huiqi.example/problems/"

# kind → (status, title zh, title en)
KINDS: dict[str, tuple[int, str, str]] = {
    "malformed-json": (400, "请求体不是有效的 JSON", "The request body is not valid JSON"),
    "bad-request": (400, "请求无法解析", "The request cannot be parsed"),
    "unauthorized": (401, "需要登录或有效的 API 密钥", "Authentication required"),
    "invalid-credentials": (401, "用户名或密码错误", "Wrong username or password"),
    "forbidden": (403, "没有权限", "Not allowed"),
    "not-found": (404, "未找到", "Not found"),
    "unknown-measure": (404, "未知的政策措施", "Unknown measure"),
    "method-not-allowed": (405, "不支持该请求方法", "Method not allowed"),
    "not-acceptable": (406, "无法提供所请求的格式", "Not acceptable"),
    "conflict": (409, "与现有数据冲突", "Conflict with existing data"),
    "payload-too-large": (413, "请求体过大", "Request body too large"),
    "too-many-attempts": (429, "尝试次数过多", "Too many attempts"),
    "quota-exceeded": (429, "超出每日配额", "Daily quota exceeded"),
    "unsupported-media-type": (415, "请求体应为 JSON", "The request body must be JSON"),
    "validation-error": (422, "请求参数不符合要求", "The request is invalid"),
    "invalid-profile": (422, "企业画像不符合契约", "The profile breaks the contract"),
    "invalid-change": (422, "假设修改无法应用", "A what-if change cannot be applied"),
    "invalid-override": (422, "试算的参数值无效", "A parameter value tried is invalid"),
    "rule-pack-unavailable": (409, "所需规则包版本未加载", "That rule pack version is not loaded"),
    "not-reproducible": (500, "无法重现保存的裁决", "The stored verdict cannot be reproduced"),
    "not-ready": (503, "服务尚未就绪", "Service not ready"),
    "internal-error": (500, "服务内部错误", "Internal error"),
}
STATUS_KIND = {status: kind for kind, (status, _, _) in reversed(KINDS.items())}


class ApiProblem(Exception):
    """A problem to answer with. ``detail`` is a (zh, en) pair; ``errors`` are field errors."""

    def __init__(
        self,
        kind: str,
        detail: tuple[str, str] | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(kind)
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.status = status or KINDS[kind][0]
        self.extra = extra or {}


def problem_body(
    kind: str,
    lang: str,
    *,
    detail: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    status: int | None = None,
    title: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    default_status, zh, en = KINDS.get(kind, KINDS["bad-request"])
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind,
        "title": title or pick(zh, en, lang),
        "status": status or default_status,
        "detail": detail if detail is not None else pick(zh, en, lang),
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def problem_response(
    request: Request, kind: str, *, headers: dict[str, str] | None = None, **kw: Any
) -> JSONResponse:
    lang = negotiate(request)
    body = problem_body(kind, lang, instance=request.url.path, **kw)
    return JSONResponse(body, status_code=body["status"], media_type=MEDIA_TYPE, headers=headers)


def field_message(err: dict[str, Any], lang: str) -> str:
    """The engine's wording, with the length limits spelt out (its "不能为空" suits only empty text)."""
    ctx = err.get("ctx") or {}
    kind = err.get("type")
    if kind in ("string_too_short", "too_short") and ctx.get("min_length", 1) > 1:
        n = ctx["min_length"]
        return pick(
            f"至少 {n} 个字符" if kind == "string_too_short" else f"至少 {n} 项",
            f"at least {n} {'characters' if kind == 'string_too_short' else 'items'}",
            lang,
        )
    if kind in ("string_too_long", "too_long") and "max_length" in ctx:
        n = ctx["max_length"]
        return pick(
            f"最多 {n} 个字符" if kind == "string_too_long" else f"最多 {n} 项",
            f"at most {n} {'characters' if kind == 'string_too_long' else 'items'}",
            lang,
        )
    if kind in ("greater_than", "less_than", "greater_than_equal", "less_than_equal"):
        bound = next((ctx[k] for k in ("gt", "lt", "ge", "le") if k in ctx), None)
        words = {
            "greater_than": ("应大于", "must be greater than"),
            "less_than": ("应小于", "must be less than"),
            "greater_than_equal": ("应不小于", "must be at least"),
            "less_than_equal": ("应不大于", "must be at most"),
        }[kind]
        return pick(f"{words[0]} {bound}", f"{words[1]} {bound}", lang)
    return message(err, lang)


def _location_and_field(loc: tuple[Any, ...]) -> tuple[str, str]:
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        return str(loc[0]), field_path(tuple(loc[1:]))
    return "body", field_path(tuple(loc))


def request_errors(errs: list[Any], lang: str) -> list[dict[str, Any]]:
    out = []
    for err in errs:
        location, field = _location_and_field(tuple(err.get("loc", ())))
        value = _plain_value(err.get("input"))
        out.append(
            {
                "field": field,
                "location": location,
                "message": field_message(err, lang),
                "type": err.get("type"),
                "value": value,
            }
        )
    return out


def _plain_value(value: Any) -> Any:
    """The offending value when it is small and JSON-safe (NaN and Infinity become text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)[:40] + "…"
    if isinstance(value, str):
        return value[:200] + "…" if len(value) > 200 else value
    return value if isinstance(value, int | float | bool) else None


def _body_lang(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("lang") in ("zh", "en"):
        return body["lang"]
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        lang = negotiate(request)
        detail = pick(*exc.detail, lang) if exc.detail else None
        return problem_response(
            request,
            exc.kind,
            detail=detail,
            errors=exc.errors,
            headers=exc.headers,
            status=exc.status,
            extra=exc.extra,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(
            request, exc.kind, detail=pick(exc.zh, exc.en, negotiate(request)), errors=exc.errors
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = list(exc.errors())
        if (bl := _body_lang(exc.body)) and "lang" not in request.query_params:
            request.state.lang = bl
        lang = negotiate(request)
        bad_json = [e for e in errs if e.get("type") == "json_invalid"]
        if bad_json:
            e = bad_json[0]
            pos = e["loc"][1] if len(e.get("loc", ())) > 1 else None
            reason = (e.get("ctx") or {}).get("error", "")
            if reason.startswith(DISALLOWED_TEXT):
                where = reason[len(DISALLOWED_TEXT) :]
                detail = pick(
                    f"文本含有不允许的字符（NUL 或不成对的代理项）：{where}",
                    f"text with a disallowed character (NUL or an unpaired surrogate): {where}",
                    lang,
                )
                return problem_response(request, "malformed-json", detail=detail)
            detail = pick(
                f"第 {pos} 个字符处无法解析（{reason}）", f"cannot parse at character {pos} ({reason})", lang
            )
            return problem_response(request, "malformed-json", detail=detail)
        if isinstance(exc.body, bytes | bytearray) and exc.body:
            ctype = request.headers.get("content-type") or pick("（未提供）", "(none)", lang)
            return problem_response(
                request,
                "unsupported-media-type",
                detail=pick(
                    f"请以 Content-Type: application/json 发送 JSON 对象，收到 {ctype}",
                    f"send a JSON object with Content-Type: application/json; got {ctype}",
                    lang,
                ),
            )
        errors = request_errors(errs, lang)
        detail = "; ".join(f"{x['field']}: {x['message']}" for x in errors)
        profile_body = request.url.path.endswith("/profile")  # PUT …/profile takes the profile itself
        kind = (
            "invalid-profile"
            if profile_body or any(x["field"].startswith("profile") for x in errors)
            else "validation-error"
        )
        return problem_response(request, kind, detail=detail, errors=errors)

    @app.exception_handler(ValidationError)
    async def _pydantic(request: Request, exc: ValidationError) -> JSONResponse:
        # a profile validated inside a service (stored snapshots, what-if results)
        lang = negotiate(request)
        errors = errors_of(exc, lang, ("profile",))
        for e in errors:
            e["value"] = _plain_value(e.get("value"))
        detail = "; ".join(f"{x['field']}: {x['message']}" for x in errors)
        return problem_response(request, "invalid-profile", detail=detail, errors=errors)

    @app.exception_handler(HuiqiError)
    async def _engine_error(request: Request, exc: HuiqiError) -> JSONResponse:
        # the engine's errors, mapped in one place; a misbehaving rules engine is an internal error
        lang = negotiate(request)
        if isinstance(exc, InvalidProfile):
            errors = exc.errors(lang)
            for e in errors:
                e["field"] = "profile." + e["field"] if not e["field"].startswith("profile") else e["field"]
                e["value"] = _plain_value(e.get("value"))
            detail = "; ".join(f"{x['field']}: {x['message']}" for x in errors)
            return problem_response(request, "invalid-profile", detail=detail, errors=errors)
        if isinstance(exc, UnknownMeasure):
            ids = ", ".join(exc.ids)
            return problem_response(
                request,
                "unknown-measure",
                detail=pick(f"规则包中没有这些措施：{ids}", f"no such measures in the rule pack: {ids}", lang),
            )
        if isinstance(exc, InvalidOverride):
            return problem_response(
                request,
                "invalid-override",
                detail=str(exc),
                errors=[{"field": exc.location or "overrides", "message": str(exc)}],
            )
        return _internal(request, exc)  # EngineError, CompileError, LintError: logged, never shown

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = STATUS_KIND.get(exc.status_code, "bad-request")
        lang = negotiate(request)
        detail = None
        if exc.status_code == 404:
            detail = pick(f"没有这个地址：{request.url.path}", f"no such path: {request.url.path}", lang)
        elif exc.status_code == 405:
            detail = pick(
                f"{request.method} 不适用于 {request.url.path}",
                f"{request.method} is not supported on {request.url.path}",
                lang,
            )
        elif exc.status_code == 400:
            detail = pick("无法读取请求体", "the request body cannot be read", lang)
        elif exc.status_code == 413:
            detail = None
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(
            request,
            kind,
            detail=detail,
            status=exc.status_code if kind == "bad-request" else None,
            headers=headers,
        )

    @app.exception_handler(ResponseValidationError)
    async def _response_validation(request: Request, exc: ResponseValidationError) -> JSONResponse:
        return _internal(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal(request, exc)


def _internal(request: Request, exc: Exception) -> JSONResponse:
    error_id = uuid.uuid4().hex[:12]
    log.error("unhandled error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
    lang = negotiate(request)
    return problem_response(
        request,
        "internal-error",
        detail=pick(
            f"处理请求时出错，已记录（编号 {error_id}），请稍后重试或联系管理员",
            f"the request failed and was logged (id {error_id}); try again later or contact the administrator",
            lang,
        ),
        extra={"error_id": error_id},
    )


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
