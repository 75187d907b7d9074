"""Bulk screening: imports, background runs on every core, review, reports, export.

``install(app)`` adds the routers (/v1/screenings, /v1/audit), the settings (``HUIQI_SCREENING_*``)
and the background workers, started and stopped with the service (its lifespan)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from .settings import ScreeningSettings

log = logging.getLogger("huiqi.screening")


def install(app: FastAPI, v1: APIRouter, settings: ScreeningSettings | None = None) -> None:
    from ..routers import audit as audit_router
    from . import routes
    from .work import Evaluators, worker_db_engine

    v1.include_router(routes.router)
    v1.include_router(routes.reports_router)
    v1.include_router(audit_router.router)
    settings = settings or ScreeningSettings()
    app.state.screening_settings = settings
    api_settings = app.state.settings
    app.state.screening_db = worker_db_engine(api_settings.database_url)
    app.state.screening_evaluators = Evaluators(
        api_settings.rules_dir, api_settings.backend, settings.rule_packs_dir, engine=app.state.engine
    )
    app.state.screening_runner = None
    app.state.screening_stopping = threading.Event()  # set at shutdown: imports stop being waited for

    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        async with inner(a) as state:
            await run_in_threadpool(_start, a)
            try:
                yield state
            finally:
                await run_in_threadpool(_stop, a)

    app.router.lifespan_context = lifespan


def _start(app: FastAPI) -> None:
    from sqlalchemy.orm import Session

    from .. import audit
    from .runner import Runner

    engine = app.state.engine
    try:
        with Session(app.state.db_engine) as db:
            audit.note_rule_pack(db, engine.version, str(engine.rules_dir))
    except Exception:  # noqa: BLE001 - the audit note must not keep the service from starting
        log.exception("could not record the rule pack version in the audit log")
    settings: ScreeningSettings = app.state.screening_settings
    if settings.autostart and settings.workers >= 0:
        api = app.state.settings
        runner = Runner(
            api.database_url, settings, api.rules_dir, api.backend, expected_version=engine.version
        )
        runner.start()
        app.state.screening_runner = runner


def _stop(app: FastAPI) -> None:
    app.state.screening_stopping.set()
    runner = app.state.screening_runner
    if runner is not None:
        runner.stop()
        app.state.screening_runner = None
    app.state.screening_db.dispose()
