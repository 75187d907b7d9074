"""Request bodies are checked for text that cannot be stored or sent back: NUL characters
(PostgreSQL refuses them) and unpaired UTF-16 surrogates (not Unicode; UTF-8 cannot encode them).
Such a body is answered 400 like any other malformed JSON, naming where the text is."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

DISALLOWED_TEXT = "disallowed text at "


def _bad_text(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired UTF-16 surrogate"
    return None


def _find(node: Any, path: str) -> tuple[str, str] | None:
    if isinstance(node, str):
        why = _bad_text(node)
        return (path, why) if why else None
    if isinstance(node, dict):
        for k, v in node.items():
            hit = _find(k, path) or _find(v, f"{path}.{k}" if path else str(k))
            if hit:
                return hit
    elif isinstance(node, list):
        for i, v in enumerate(node):
            hit = _find(v, f"{path}[{i}]")
            if hit:
                return hit
    return None


def loads_checked(body: bytes) -> Any:
    data = json.loads(body)
    hit = _find(data, "")
    if hit:
        path, why = hit
        text = body.decode("utf-8", errors="replace")
        raise json.JSONDecodeError(f"{DISALLOWED_TEXT}{path or '(body)'}: {why}", text, 0)
    return data


class CheckedJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_checked(await self.body())
        return self._json


class CheckedJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            return await handler(CheckedJSONRequest(request.scope, request.receive))

        return checked
