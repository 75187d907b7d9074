"""The anonymous self-check, ``POST /v1/evaluations`` without credentials, answered without the
framework's routing and dependency solving.

Measured in process on this machine, that request cost ~0.71 ms of CPU: ~0.34 ms was the work (the
body's validation, the evaluation, the answer and its JSON) and ~0.37 ms FastAPI's routing through
nested routers, dependency solving and request wrapping. This ASGI layer, the innermost of the
service's middleware (security headers, the NUL check and the body limit still wrap it), does the
work directly for the one request that is most of the traffic, the way the route would: the same
functions (``api.routing.loads_checked``, ``EvaluationCreate``, ``services.evaluations``,
``engine.render``, ``engine_json``) in the same order.

Only a plain success is answered here. Anything else — credentials (stored, counted against the
quota), a query parameter other than ``lang=zh|en``, a body that is not JSON or not a valid request,
an unknown measure, an engine error, no Content-Length — goes on to the FastAPI route with the body
replayed, so every refusal is the route's own answer. A test holds the two paths byte-identical.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import Options

from .i18n import negotiate
from .responses import engine_json
from .routing import loads_checked
from .schemas.evaluations import EvaluationCreate
from .services import evaluations as service

PATH = "/v1/evaluations"
_QUERIES = {b"": None, b"lang=zh": "zh", b"lang=en": "en"}
_DELEGATE = (b"authorization", b"x-api-key", b"transfer-encoding")


class AnonymousEvaluations:
    answered = 0  # requests this layer answered itself (all instances; the tests read it)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if query not in _QUERIES or not _plain_json(scope["headers"]):
            await self.app(scope, receive, send)
            return
        first = await receive()
        whole = first["type"] == "http.request" and not first.get("more_body")
        answer = _answer(scope, first.get("body", b""), _QUERIES[query]) if whole else None
        if answer is None:
            await self.app(scope, _replay(first, receive), send)
            return
        AnonymousEvaluations.answered += 1
        await answer(scope, receive, send)


def _plain_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """A JSON body of a declared length, and no credentials."""
    json_body = sized = False
    for name, value in headers:
        if name in _DELEGATE:
            return False
        if name == b"content-type":
            json_body = value.split(b";", 1)[0].strip().lower() == b"application/json"
        elif name == b"content-length":
            sized = True
    return json_body and sized


def _replay(first: Message, receive: Receive) -> Receive:
    """``receive`` with the message already read given again first."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return first
        return await receive()

    return replayed


def _answer(scope: Scope, body: bytes, query_lang: str | None) -> Any:
    try:
        request = EvaluationCreate.model_validate(loads_checked(body))
    except Exception:  # noqa: BLE001 - the route answers every refusal
        return None
    state = scope["app"].state
    lang = request.lang or query_lang or negotiate(HTTPConnection(scope), state.settings.default_lang)
    engine = state.engine
    try:
        evaluation = service.evaluate(engine, request.profile, request.as_of, request.measures)
        answer = engine.render(evaluation, Options(request.detail, lang))
    except Exception:  # noqa: BLE001 - the route raises it again and answers it
        return None
    return engine_json(service.public(answer))
