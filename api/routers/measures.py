from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from engine import catalogue as C

from ..deps import EngineDep, LangDep
from ..problems import ApiProblem
from ..responses import engine_json
from ..routing import CheckedJSONRoute
from ..schemas.measures import MeasurePublic

router = APIRouter(route_class=CheckedJSONRoute, prefix="/measures", tags=["measures"])


@router.get("", response_model=list[MeasurePublic], summary="政策措施目录 / the catalogue of measures")
def list_measures(engine: EngineDep, lang: LangDep) -> list[dict[str, Any]]:
    """全部措施：条件（含条款与原文）、参数（含日期、出处和是否暂定）、有效期。"""
    return C.catalogue(engine.pack, lang)


@router.get(
    "/{measure_id}",
    response_model=MeasurePublic,
    summary="一项措施 / one measure",
    responses={304: {"description": "未改变（If-None-Match 与 ETag 相同）/ not modified"}},
)
def get_measure(
    measure_id: Annotated[str, Path(max_length=100, examples=["hte-recognition"])],
    request: Request,
    engine: EngineDep,
    lang: LangDep,
) -> Response:
    """一项措施的全部固定文字（按条件编号：名称、运算符与单位的说法、条款、原文、改进建议、解读说明），以及结论与状态的说法：
    客户端可据此自行说明一次裁决。带 ETag（规则包版本与语言决定），可用 If-None-Match 缓存。

    Every static text of a measure by criterion id (label, operator and unit in words, clause,
    quote, remedy, interpretation) and the words for outcomes and statuses, so that a client can
    word a verdict itself. With an ETag (rule pack version and language): cache with If-None-Match."""
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
    etag = '"' + hashlib.blake2b(f"{pack.version}/{measure_id}/{lang}".encode(), digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Language"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return engine_json(C.measure_detail(pack, measure, lang), headers=headers)
