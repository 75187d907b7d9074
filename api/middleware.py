"""Request body limit: a body over ``Settings.max_body_bytes`` gets 413 as a problem, read or not."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .i18n import negotiate, pick
from .problems import MEDIA_TYPE, problem_body


class BodyTooLarge(HTTPException):
    """Raised while the body streams in (chunked uploads have no Content-Length to check first)."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _response(self, scope: Scope, status: int = 413) -> JSONResponse:
        conn = HTTPConnection(scope)
        lang = negotiate(conn)
        if status == 413:
            body = problem_body(
                "payload-too-large",
                lang,
                detail=pick(
                    f"请求体不能超过 {self.max_bytes} 字节",
                    f"a request body may not exceed {self.max_bytes} bytes",
                    lang,
                ),
                instance=conn.url.path,
            )
        else:
            body = problem_body(
                "bad-request",
                lang,
                detail=pick("Content-Length 不是有效的数字", "Content-Length is not a valid number", lang),
                instance=conn.url.path,
            )
        return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await self._response(scope, 400)(scope, receive, send)
                return
            if declared > self.max_bytes:
                await self._response(scope)(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return msg

        await self.app(scope, limited, send)


class RejectNulInUrl:
    """A NUL character in the path or query (``%00``) is answered 400 before any route sees it:
    no identifier or filter of this API can hold one, and PostgreSQL refuses it in text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"")
            if b"%00" in query or b"\x00" in query or "\x00" in scope.get("path", ""):
                conn = HTTPConnection(scope)
                lang = negotiate(conn)
                body = problem_body(
                    "bad-request",
                    lang,
                    detail=pick("地址中含有 NUL 字符（%00）", "the URL contains a NUL character (%00)", lang),
                    instance=conn.url.path.replace("\x00", "%00"),
                )
                await JSONResponse(body, status_code=400, media_type=MEDIA_TYPE)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# the pages load scripts, styles, images and data only from this site; nothing may frame them
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc start from inline scripts and styles (their HTML is the libraries')
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """Headers on every response: a Content-Security-Policy (scripts, styles and data from this site
    only; framing refused, also by X-Frame-Options for older browsers), ``nosniff`` (a JSON body or
    an export is never run as a script or page), and a Referrer-Policy that sends no path (a run's
    id, a credit code) to other sites."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else PAGE_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
            await send(message)

        await self.app(scope, receive, with_headers)
