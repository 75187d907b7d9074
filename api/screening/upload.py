"""POST /v1/screenings, before its body is read: the caller is authenticated and must be of the
bureau (an anonymous 190 MB upload was read in full, 14.6 s, before its 401), and the body may be as
large as the screening limit rather than ``Settings.max_body_bytes``."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from ..deps import check_credentials
from ..errors import DomainError
from ..i18n import negotiate
from ..middleware import BodySizeLimit
from ..problems import MEDIA_TYPE, ApiProblem, problem_body
from .runs import ensure_bureau

UPLOAD_PATH = "/v1/screenings"


class BodySizeLimitWithUploads(BodySizeLimit):
    """JSON bodies keep ``Settings.max_body_bytes``; a screening upload may be as large as
    ``ScreeningSettings.max_upload_bytes`` (read from the app at request time), once its sender has
    been checked: no credentials, credentials that do not check out, or an account that may not
    screen are answered (401 / 403) before a byte of the body is read."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST" and scope.get("path") == UPLOAD_PATH:
            settings = getattr(scope["app"].state, "screening_settings", None)
            if settings is not None:
                refusal = await _refuse(scope)
                if refusal is not None:
                    await refusal(scope, receive, send)
                    return
                limited = BodySizeLimit(self.app, settings.max_upload_bytes)
                await limited(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def _refuse(scope: Scope) -> JSONResponse | None:
    conn = HTTPConnection(scope)
    try:
        principal = await run_in_threadpool(
            check_credentials, scope["app"].state.sessionmaker, conn.headers, required=True
        )
        assert principal is not None
        ensure_bureau(principal)
    except (ApiProblem, DomainError) as e:
        p = e if isinstance(e, ApiProblem) else ApiProblem(e.kind, (e.zh, e.en), errors=e.errors)
        lang = negotiate(conn)
        body = problem_body(
            p.kind,
            lang,
            detail=(p.detail[1] if lang == "en" else p.detail[0]) if p.detail else None,
            instance=conn.url.path,
            status=p.status,
        )
        # the body is not read: the connection cannot be reused for another request
        headers = {**(p.headers or {}), "Connection": "close"}
        return JSONResponse(body, status_code=p.status, media_type=MEDIA_TYPE, headers=headers)
    return None
