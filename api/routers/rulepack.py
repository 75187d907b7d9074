from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import EngineDep, LangDep
from ..routing import CheckedJSONRoute
from ..schemas.measures import RulePackPublic

router = APIRouter(route_class=CheckedJSONRoute, prefix="/rulepack", tags=["rulepack"])


@router.get(
    "",
    response_model=RulePackPublic,
    summary="规则包版本与暂定参数 / version and provisional parameters",
    operation_id="getRulePack",
)
def get_rulepack(engine: EngineDep, lang: LangDep) -> dict[str, Any]:
    pack = engine.pack
    provisional = pack.provisional()
    return {
        "version": pack.version,
        "measure_count": len(pack.measures),
        "measures": [
            {"id": m.id, "title": m.title.get(lang), "status": m.status}
            for _, m in sorted(pack.measures.items())
        ],
        "provisional_count": len(provisional),
        "provisional": provisional,
        "backend": engine.backend.name,
    }
