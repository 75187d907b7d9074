"""The FastAPI application: ``create_app(settings)``; ``api.main:app`` for uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from engine import Engine

from . import docs, openapi, problems, web
from .config import Settings, get_settings
from .db import make_engine, make_sessionmaker, migrate
from .deps import reject_bad_credentials, stored_evaluation_quota_on
from .fastpath import AnonymousEvaluations
from .middleware import RejectNulInUrl, SecurityHeaders
from .routers import api_keys, auth, enterprises, evaluations, health, measures, rulepack, users
from .screening import install as install_screening
from .screening.upload import BodySizeLimitWithUploads

log = logging.getLogger("huiqi.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await run_in_threadpool(migrate, app.state.db_engine)
        yield
        app.state.db_engine.dispose()

    app = FastAPI(
        title="惠企 huiqi API",
        version="1.0.0",
        description=openapi.DESCRIPTION,
        openapi_tags=openapi.TAGS,
        generate_unique_id_function=openapi.operation_id,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = Engine(rules_dir=settings.rules_dir, backend=settings.backend)
    app.state.db_engine = make_engine(settings)
    app.state.sessionmaker = make_sessionmaker(app.state.db_engine)

    # credentials sent to a public route are checked too (401 when they do not check out)
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(reject_bad_credentials)])
    # POST /v1/evaluations stores an authenticated caller's evaluation: counted against the daily quota
    v1.include_router(
        evaluations.router, dependencies=[Depends(stored_evaluation_quota_on(evaluations.create_evaluation))]
    )
    for module in (enterprises, measures, rulepack, auth, users, api_keys):
        v1.include_router(module.router)
    install_screening(app, v1)  # /v1/screenings, /v1/audit; background workers in the lifespan
    app.include_router(v1)
    app.include_router(health.router)
    web.install(app)  # the pages (api/web): /, /catalogue, /self-check, /desk …

    problems.install(app)
    docs.install(app)
    openapi.install(app)
    # the anonymous self-check without the framework's routing and dependencies (innermost)
    app.add_middleware(AnonymousEvaluations)
    # screening uploads may exceed max_body_bytes, up to HUIQI_SCREENING_MAX_UPLOAD_BYTES
    app.add_middleware(BodySizeLimitWithUploads, max_bytes=settings.max_body_bytes)
    app.add_middleware(RejectNulInUrl)
    app.add_middleware(SecurityHeaders)  # outermost: every answer carries them, refusals included
    return app


def __getattr__(name: str) -> Any:
    # ``api.main:app`` is built on first use, so importing this module touches no database
    if name == "app":
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
