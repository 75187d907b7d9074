"""Typed dependencies shared by the routers."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from engine import Engine

from .config import Settings
from .i18n import negotiate
from .principal import Principal
from .problems import ApiProblem
from .schemas.common import Lang
from .services import accounts, quota

log = logging.getLogger("huiqi.api")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_engine_for(request: Request) -> Callable[[str], Engine | None]:
    """An engine for a rule pack version: the service's, or one of the older packs the screening
    desk keeps (``HUIQI_SCREENING_RULE_PACKS_DIR``); None when that pack is not loaded."""
    state = request.app.state
    engine: Engine = state.engine
    others = getattr(state, "screening_evaluators", None)

    def engine_for(version: str) -> Engine | None:
        if version == engine.version:
            return engine
        return others.get(version) if others is not None and version in others.versions() else None

    return engine_for


# Trivial dependencies are ``async def``: FastAPI runs a plain ``def`` one in the thread pool, a
# thread hop per request for nothing.


async def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessionmaker


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessionmaker() as session:
        yield session


async def get_lang(
    request: Request,
    lang: Annotated[
        Lang | None,
        Query(description="回答的语言：zh（默认）或 en；也可用 Accept-Language / answer language"),
    ] = None,
) -> str:
    return lang or negotiate(request, request.app.state.settings.default_lang)


def client_address(request: Request) -> str | None:
    """The client's address as login throttling counts it. The peer of the connection, unless it is
    one of ``HUIQI_TRUSTED_PROXIES``: then the right-most address of X-Forwarded-For that is not a
    trusted proxy. X-Forwarded-For from anyone else is ignored (it is whatever the client wrote).

    uvicorn rewrites the peer from X-Forwarded-For itself when run with ``--proxy-headers`` (its
    default, believing 127.0.0.1): the peer is then one of the forwarded addresses, which proves
    nothing, and all such requests are counted as one client (and a warning logged once)."""
    settings = request.app.state.settings
    peer = request.client.host if request.client else None
    forwarded = [
        h.strip() for value in request.headers.getlist("x-forwarded-for") for h in value.split(",") if h.strip()
    ]
    if not forwarded:
        return peer
    proxies = settings.proxy_networks
    if peer is not None and _within(peer, proxies):
        for hop in reversed(forwarded):
            if not _within(hop, proxies):
                return hop
        return forwarded[0]
    if peer in forwarded:
        global _REWRITE_WARNED
        if not _REWRITE_WARNED:
            _REWRITE_WARNED = True
            log.warning(
                "the client address was taken from X-Forwarded-For before the service saw it (uvicorn "
                "--proxy-headers): run uvicorn with --no-proxy-headers and name the proxies in "
                "HUIQI_TRUSTED_PROXIES; until then such requests count as one client"
            )
        return UNVERIFIED_CLIENT
    return peer


UNVERIFIED_CLIENT = "forwarded-unverified"
_REWRITE_WARNED = False


def _within(host: str, networks: list[Any]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in n for n in networks)


def use_lang(request: Request, *choices: str | None) -> str:
    """The first language given (query, then body), else Accept-Language; errors follow it too."""
    for c in choices:
        if c in ("zh", "en"):
            request.state.lang = c
            return c
    return negotiate(request, request.app.state.settings.default_lang)


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
EngineForDep = Annotated[Callable[[str], Engine | None], Depends(get_engine_for)]
SessionDep = Annotated[Session, Depends(get_db)]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_sessionmaker)]
LangDep = Annotated[str, Depends(get_lang)]


# ------------------------------------------------------------------ who is asking


bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="POST /v1/auth/token 登录获得的令牌 / the token from POST /v1/auth/token",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKey",
    description="管理员为机器客户端签发的 API 密钥 / an API key issued by an administrator",
)


def _unauthorized(detail: tuple[str, str]) -> ApiProblem:
    return ApiProblem("unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="huiqi"'})


def check_credentials(
    factory: sessionmaker[Session], headers: Any, required: bool = False
) -> Principal | None:
    """The caller of these request headers, or None when they carry no credentials (``required``:
    401 then). Credentials that do not check out are 401, never a silent fall-back to anonymous."""
    authorization = headers.get("authorization")
    api_key = headers.get("x-api-key")
    if authorization is None and api_key is None:
        if required:
            raise _unauthorized(
                ("请先登录（Bearer 令牌）或提供 X-API-Key", "log in (Bearer token) or send an X-API-Key")
            )
        return None
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized(
                ("Authorization 头应为 “Bearer <令牌>”", "the Authorization header must be 'Bearer <token>'")
            )
        found = accounts.principal_from_token(factory, token.strip())
        if found is None:
            raise _unauthorized(
                ("令牌无效或已过期，请重新登录", "the token is invalid or expired; log in again")
            )
        return found
    found = accounts.principal_from_api_key(factory, api_key.strip())
    if found is None:
        raise _unauthorized(("API 密钥无效、已吊销或已过期", "the API key is invalid, revoked or expired"))
    return found


async def get_principal(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    _key: Annotated[str | None, Security(api_key_scheme)],
) -> Principal | None:
    """The caller, or None when no credentials were sent. Credentials that do not check out are 401,
    never a silent fall-back to anonymous."""
    if request.headers.get("authorization") is None and request.headers.get("x-api-key") is None:
        return None
    known = getattr(request.state, "principal", _UNCHECKED)
    if known is not _UNCHECKED:
        return known
    found = await run_in_threadpool(check_credentials, request.app.state.sessionmaker, request.headers)
    request.state.principal = found
    return found


_UNCHECKED = object()


async def reject_bad_credentials(request: Request) -> None:
    """On every /v1 route, public ones included: credentials that are sent are checked, and 401 if
    they do not check out (a caller must not believe it acted as someone it was not)."""
    if request.headers.get("authorization") is None and request.headers.get("x-api-key") is None:
        return
    await get_principal(request, None, None)


async def require_principal(principal: Annotated[Principal | None, Depends(get_principal)]) -> Principal:
    if principal is None:
        raise _unauthorized(
            ("请先登录（Bearer 令牌）或提供 X-API-Key", "log in (Bearer token) or send an X-API-Key")
        )
    return principal


async def require_admin(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    if principal.role != "admin":
        raise ApiProblem(
            "forbidden", ("只有管理员可以管理账号和密钥", "only administrators manage accounts and keys")
        )
    return principal


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_principal)]
PrincipalDep = Annotated[Principal, Depends(require_principal)]
AdminDep = Annotated[Principal, Depends(require_admin)]


# ------------------------------------------------------------------ the daily quota of stored evaluations


async def _daily_quota(request: Request, principal: Principal | None) -> None:
    limit = request.app.state.settings.stored_evaluations_per_day
    if principal is None or limit == 0:
        return
    await run_in_threadpool(quota.take, request.app.state.sessionmaker, principal.user_id, limit)


async def stored_evaluation_quota(
    request: Request, principal: Annotated[Principal | None, Depends(get_principal)]
) -> None:
    """Declared on a route that stores an evaluation for an authenticated caller: one counted
    against the account's daily quota (``HUIQI_STORED_EVALUATIONS_PER_DAY``), 429 past it."""
    await _daily_quota(request, principal)


def stored_evaluation_quota_on(*endpoints: Any) -> Any:
    """The quota as a dependency of a whole router, counting only on ``endpoints`` (the ones that
    store): for a router whose routes are declared elsewhere, e.g. ``/v1/evaluations``."""

    async def dependency(
        request: Request, principal: Annotated[Principal | None, Depends(get_principal)]
    ) -> None:
        if getattr(request.scope.get("route"), "endpoint", None) in endpoints:
            await _daily_quota(request, principal)

    return dependency


# ------------------------------------------------------------------ paging and language in queries

QueryLang = Annotated[
    Lang | None,
    Query(description="回答的语言：zh（默认）或 en；也可用 Accept-Language / answer language"),
]


@dataclasses.dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


async def get_page(
    limit: Annotated[int, Query(ge=1, le=500, description="每页条数 / page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="跳过的条数 / items to skip")] = 0,
) -> PageParams:
    return PageParams(limit, offset)


PageDep = Annotated[PageParams, Depends(get_page)]
