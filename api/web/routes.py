"""The pages. Each renders a template; the data a page shows beyond the catalogue comes from ``/v1``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from engine.catalogue import catalogue
from engine.vocabulary import ENUM_LABELS, OP_WORDS, UNITS
from engine.vocabulary import show as show_value

from ..i18n import parse_accept_language
from . import form
from .i18n import MESSAGES, translate

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
LANG_COOKIE = "huiqi_lang"

router = APIRouter(include_in_schema=False)


def page_lang(request: Request) -> str:
    """?lang= (remembered in a cookie), then the cookie, then Accept-Language; Chinese by default."""
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        return q
    c = request.cookies.get(LANG_COOKIE)
    if c in ("zh", "en"):
        return c
    return parse_accept_language(request.headers.get("accept-language")) or "zh"


def render(request: Request, template: str, page: str, title_key: str, **context: Any) -> Response:
    lang = page_lang(request)

    def t(key: str, **kw: Any) -> str:
        return translate(key, lang, **kw)

    engine = request.app.state.engine
    client = {
        "lang": lang,
        "page": page,
        "messages": {k: v[1] if lang == "en" else v[0] for k, v in MESSAGES.items()},
        "rule_pack_version": engine.version,
        **context.pop("client", {}),
    }
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "html_lang": "en" if lang == "en" else "zh-CN",
            "t": t,
            "page": page,
            "title": t(title_key),
            "rule_pack_version": engine.version,
            "client": client,
            **context,
        },
    )
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    engine = request.app.state.engine
    measures = catalogue(engine.pack, page_lang(request))
    return render(
        request,
        "home.html",
        "home",
        "nav.home",
        measure_count=len(measures),
        provisional_count=len(engine.pack.provisional()),
    )


def _parameter_now(param: dict[str, Any], today: dt.date) -> dict[str, Any] | None:
    current = None
    for v in param["values"]:
        if dt.date.fromisoformat(v["since"]) <= today:
            current = v
    return current


def _requirement(row: dict[str, Any], params: dict[str, Any], lang: str, today: dt.date) -> str:
    """How a criterion reads: 不低于（含） 10% — the operator's legal wording and the value in force."""
    op_words = OP_WORDS.get(row["op"], (row["op"], row["op"]))
    words = op_words[1] if lang == "en" else op_words[0]
    if row["op"] == "manual":
        return words
    value = row.get("value")
    if row.get("param"):
        current = _parameter_now(params.get(row["param"], {"values": []}), today)
        value = current["value"] if current else None
        if isinstance(value, dict) and "tiers" in value:
            return f"{words} {translate('cat.banded', lang)}"
    return f"{words} {_display(value, row.get('unit'), lang)}".strip()


def _display(value: Any, unit: str | None, lang: str) -> str:
    if isinstance(value, str) and unit in (
        "ratio",
        "wan_yuan",
        "points",
        "days",
        "years",
        "people",
        "mu",
        "count",
    ):
        try:
            value = Decimal(value)
        except InvalidOperation:
            pass
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    return show_value(value, unit, lang)


def _value_text(value: Any, unit: str | None, lang: str) -> str:
    if isinstance(value, dict) and "tiers" in value:
        parts = []
        for tier in value["tiers"]:
            v = _display(tier["value"], unit, lang)
            if "upto" in tier:
                bound = show_value(Decimal(tier["upto"]), "wan_yuan", lang)
                parts.append(f"≤{bound}: {v}")
            else:
                parts.append(f"{translate('cat.otherwise', lang)}: {v}")
        return "；".join(parts) if lang != "en" else "; ".join(parts)
    return _display(value, unit, lang)


@router.get("/catalogue", response_class=HTMLResponse)
def catalogue_page(request: Request) -> Response:
    lang = page_lang(request)
    engine = request.app.state.engine
    today = dt.date.today()
    measures = catalogue(engine.pack, lang)
    for m in measures:
        for row in m["criteria"]:
            if row["kind"] == "criterion":
                row["requirement"] = _requirement(row, m["parameters"], lang, today)
        for p in m["parameters"].values():
            for v in p["values"]:
                v["text"] = _value_text(v["value"], p["unit"], lang)
            current = _parameter_now(p, today)
            p["current_text"] = current["text"] if current else "—"
        effective = m["effective"]
        m["in_force"] = dt.date.fromisoformat(effective["from"]) <= today and (
            effective["to"] is None or today <= dt.date.fromisoformat(effective["to"])
        )
        m["provisional_count"] = sum(1 for p in m["parameters"].values() if p["provisional"])
    return render(
        request,
        "catalogue.html",
        "catalogue",
        "nav.catalogue",
        measures=measures,
        unit_words={k: v[1] if lang == "en" else v[0] for k, v in UNITS.items()},
        enum_labels={k: v[1] if lang == "en" else v[0] for k, v in ENUM_LABELS.items()},
    )


@router.get("/self-check", response_class=HTMLResponse)
def self_check_page(request: Request) -> Response:
    lang = page_lang(request)
    engine = request.app.state.engine
    measures = [
        {
            "id": m["id"],
            "title": m["title"],
            "issuer": m["issuer"],
            "subject": m["subject"],
            "status": m["status"],
        }
        for m in catalogue(engine.pack, lang)
    ]
    return render(
        request,
        "self_check.html",
        "self-check",
        "nav.self_check",
        measures=measures,
        groups=[{"id": g, "label": pair[1] if lang == "en" else pair[0]} for g, pair in form.GROUPS.items()],
        client={
            "fields": form.FIELDS,
            "needs": form.needed_fields(engine),
            "measures": measures,
            "today": dt.date.today().isoformat(),
        },
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return render(request, "login.html", "login", "nav.login")


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> Response:
    return render(request, "account.html", "account", "nav.account")


@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request) -> Response:
    engine = request.app.state.engine
    lang = page_lang(request)
    measures = [{"id": m["id"], "title": m["title"]} for m in catalogue(engine.pack, lang)]
    return render(request, "desk.html", "desk", "nav.desk", measures=measures, client={"measures": measures})


@router.get("/desk/runs/{run_id}", response_class=HTMLResponse)
def desk_run_page(request: Request, run_id: str) -> Response:
    engine = request.app.state.engine
    lang = page_lang(request)
    measures = [{"id": m["id"], "title": m["title"]} for m in catalogue(engine.pack, lang)]
    return render(
        request,
        "desk_run.html",
        "desk",
        "desk.run_title",
        run_id=run_id,
        measures=measures,
        client={"run_id": run_id, "measures": measures},
    )


@router.get("/desk/audit", response_class=HTMLResponse)
def desk_audit_page(request: Request) -> Response:
    return render(request, "desk_audit.html", "desk", "audit.title")


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/static/img/favicon.svg", status_code=308)
