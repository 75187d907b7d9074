from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from ..deps import EngineDep, PageDep, QueryLang, SessionDep, use_lang
from ..routing import CheckedJSONRoute
from ..schemas.common import Page
from ..screening import services
from ..screening.schemas import Candidate, ImpactPublic, ReportPublic
from .screenings import BureauDep

router = APIRouter(route_class=CheckedJSONRoute, prefix="/screenings", tags=["reports 统计报表"])

RunId = Annotated[str, Path(min_length=1, max_length=64, description="筛查编号 / screening id")]
Measure = Annotated[str | None, Query(max_length=80, description="只看这项措施 / only this measure")]


@router.get("/{run_id}/report", response_model=ReportPublic, summary="筛查报表 / report of a screening")
def get_report(
    run_id: RunId,
    request: Request,
    db: SessionDep,
    engine: EngineDep,
    _who: BureauDep,
    measure: Measure = None,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """每项措施：各结论的数量、预计待遇合计（符合者；需人工审核者另列；已审核同意者）、
    淘汰申请最多的条件与逐级淘汰漏斗、各区县分布。

    Per measure: counts by outcome, the benefit forecast (the budget the run implies), the criterion
    that excludes most applicants with the attrition funnel, and counts by district."""
    run = services.get_run(db, run_id)
    return services.report(db, run, engine, use_lang(request, lang), measure)


@router.get(
    "/{run_id}/impact",
    response_model=ImpactPublic,
    summary="规则变更后结论改变的企业 / applicants whose outcome changes",
)
def get_impact(
    run_id: RunId,
    request: Request,
    db: SessionDep,
    _who: BureauDep,
    page: PageDep,
    measure: Measure = None,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """影响分析（POST /v1/screenings/{id}/impact 建立）与原筛查的对比：结论改变的企业（分页）、
    各措施的预算差额（万元）。/ The changes against the baseline and the budget difference."""
    run = services.get_run(db, run_id)
    return services.impact(db, run, use_lang(request, lang), measure, page.limit, page.offset)


@router.get(
    "/{run_id}/proactive",
    response_model=Page[Candidate],
    summary="免申即享：符合条件而未申报的企业 / eligible enterprises that have not applied",
)
def get_proactive(
    run_id: RunId,
    request: Request,
    db: SessionDep,
    _who: BureauDep,
    page: PageDep,
    measure: Measure = None,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """“未申报”：没有出现在任何一批申报筛查（kind=applications）的该措施结果中。

    "Not applied": absent from every application screening's results for that measure."""
    run = services.get_run(db, run_id)
    items, total = services.proactive_candidates(
        db, run, use_lang(request, lang), measure, page.limit, page.offset
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}
