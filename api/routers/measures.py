from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from engine.catalogue import catalogue, measure_detail

from ..deps import EngineDep, LangDep
from ..problems import ApiProblem
from ..routing import CheckedJSONRoute
from ..schemas.measures import MeasurePublic

router = APIRouter(route_class=CheckedJSONRoute, prefix="/measures", tags=["measures 政策措施"])


@router.get("", response_model=list[MeasurePublic], summary="政策措施目录 / the catalogue of measures")
def list_measures(engine: EngineDep, lang: LangDep) -> list[dict[str, Any]]:
    """全部措施：条件（含条款与原文）、参数（含日期、出处和是否暂定）、有效期。"""
    return catalogue(engine.pack, lang)


@router.get("/{measure_id}", response_model=MeasurePublic, summary="一项措施 / one measure")
def get_measure(
    measure_id: Annotated[str, Path(max_length=100, examples=["hte-recognition"])],
    engine: EngineDep,
    lang: LangDep,
) -> dict[str, Any]:
    pack = engine.pack
    measure = pack.measures.get(measure_id)
    if measure is None:
        raise ApiProblem(
            "unknown-measure",
            (
                f"规则包中没有措施 {measure_id}（GET /v1/measures 列出全部）",
                f"no measure {measure_id} in the rule pack",
            ),
        )
    return measure_detail(pack, measure, lang)
