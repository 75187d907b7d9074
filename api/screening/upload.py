"""The request body limit, with uploads to POST /v1/screenings allowed up to the screening limit."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from ..middleware import BodySizeLimit

UPLOAD_PATH = "/v1/screenings"


class BodySizeLimitWithUploads(BodySizeLimit):
    """JSON bodies keep ``Settings.max_body_bytes``; a screening upload may be as large as
    ``ScreeningSettings.max_upload_bytes`` (read from the app at request time)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST" and scope.get("path") == UPLOAD_PATH:
            settings = getattr(scope["app"].state, "screening_settings", None)
            if settings is not None:
                limited = BodySizeLimit(self.app, settings.max_upload_bytes)
                await limited(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
