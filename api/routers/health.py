from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..db import ping
from ..deps import EngineDep
from ..problems import ApiProblem
from ..routing import CheckedJSONRoute

router = APIRouter(route_class=CheckedJSONRoute, tags=["health"])


@router.get("/healthz", summary="进程存活 / the process is up", operation_id="getLiveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="可以接收请求：数据库可达、规则包已加载 / ready: database reachable, rule pack loaded",
    responses={503: {"description": "未就绪 / not ready"}},
    operation_id="getReadiness",
)
async def readyz(request: Request, engine: EngineDep) -> dict[str, Any]:
    try:
        await run_in_threadpool(ping, request.app.state.db_engine)
    except Exception as e:
        raise ApiProblem(
            "not-ready", ("数据库不可达", "the database cannot be reached"), extra={"database": "unreachable"}
        ) from e
    if not engine.pack.measures:
        raise ApiProblem(
            "not-ready", ("规则包为空", "the rule pack holds no measure"), extra={"database": "ok"}
        )
    return {
        "status": "ready",
        "database": "ok",
        "rule_pack_version": engine.version,
        "measures": len(engine.pack.measures),
    }
