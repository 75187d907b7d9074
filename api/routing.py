"""Request bodies are checked for text that cannot be stored or sent back: NUL characters
(PostgreSQL refuses them) and unpaired UTF-16 surrogates (not Unicode; UTF-8 cannot encode them).
Such a body is answered 400 like any other malformed JSON, naming where the text is."""

from __future__ import annotations

import json
import re
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


# In JSON text decoded as UTF-8 (what ``json.loads`` does with bytes that start like UTF-8), a NUL
# can only come from a ``\u0000`` escape (a raw control character is a syntax error) and an
# unpaired surrogate only from a ``\uD800``–``\uDFFF`` escape or from the bytes ED A0–BF … (which
# ``json.loads`` decodes with ``surrogatepass``). A body with none of these cannot hold disallowed
# text, and the walk over every string is skipped. A hit (an escaped backslash, an emoji's
# surrogate pair …) only means the exact walk runs.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF])|\xed[\xa0-\xbf]")
_UTF8 = ("utf-8", "utf-8-sig")


def loads_checked(body: bytes) -> Any:
    data = json.loads(body)
    if json.detect_encoding(body) in _UTF8 and not _SUSPECT.search(body):
        return data
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
