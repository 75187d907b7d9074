"""Which language to answer in: ``lang`` (query or body) first, then Accept-Language; Chinese by default."""

from __future__ import annotations

from starlette.requests import HTTPConnection

LANGS = ("zh", "en")


def parse_accept_language(header: str | None) -> str | None:
    """The first of zh / en in the client's order of preference (RFC 9110 q-values)."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower()
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if primary in LANGS and q > 0:
            choices.append((-q, i, primary))
    return min(choices)[2] if choices else None


def negotiate(conn: HTTPConnection, default: str = "zh") -> str:
    q = conn.query_params.get("lang")
    if q in LANGS:
        return q
    chosen = getattr(conn.state, "lang", None) if "state" in conn.scope else None
    if chosen in LANGS:
        return chosen
    return parse_accept_language(conn.headers.get("accept-language")) or default


def pick(zh: str, en: str, lang: str) -> str:
    return en if lang == "en" else zh
