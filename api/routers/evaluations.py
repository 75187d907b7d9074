from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from engine import Options

from ..config import get_settings
from ..deps import (
    EngineDep,
    EngineForDep,
    OptionalPrincipalDep,
    PageDep,
    PrincipalDep,
    QueryLang,
    SessionDep,
    SessionFactoryDep,
    use_lang,
)
from ..examples import evaluation_examples, what_if_examples
from ..responses import engine_json
from ..routing import CheckedJSONRoute
from ..schemas.common import Page
from ..schemas.evaluations import (
    EvaluationCreate,
    EvaluationPublic,
    EvaluationRecord,
    EvaluationSummary,
    ReplayPublic,
    WhatIfCreate,
    WhatIfPublic,
)
from ..services import access, whatif
from ..services import evaluations as service

router = APIRouter(route_class=CheckedJSONRoute, prefix="/evaluations", tags=["evaluations"])

_EXAMPLES = get_settings().examples_dir
EvaluationId = Annotated[str, Path(min_length=1, max_length=64, description="评估编号 / evaluation id")]
DetailQuery = Annotated[
    Literal["verdict", "full"],
    Query(description="verdict：裁决（默认）；full：完整说明 / verdict (default) or the full explanation"),
]


@router.post(
    "",
    response_model=EvaluationPublic,
    summary="评估企业画像 / evaluate a profile",
    responses={
        201: {"model": EvaluationPublic, "description": "已登录：评估已保存 / stored (authenticated)"}
    },
)
async def create_evaluation(
    body: Annotated[EvaluationCreate, Body(openapi_examples=evaluation_examples(_EXAMPLES))],
    request: Request,
    engine: EngineDep,
    sessions: SessionFactoryDep,
    principal: OptionalPrincipalDep,
    lang: QueryLang = None,
) -> Response:
    """匿名自查：返回结果，不保存（200）。已登录（令牌或 API 密钥）：连同画像快照、评估日期、规则包版本一起保存，
    返回编号（201，Location 指向它）。企业账号只能评估本企业。

    Anonymous: answered, not stored (200). Authenticated: stored with its input snapshot, as_of and
    rule pack version, and given an id (201)."""
    lang = use_lang(request, body.lang, lang)
    if principal is not None:
        access.ensure_can_evaluate_for(principal, body.profile.credit_code)
    # The evaluation is CPU work of a fraction of a millisecond: it runs on the event loop itself.
    # Handing it to a thread would only add a hop and a GIL hand-over; storing it (I/O) does go to
    # a thread. The verdicts are computed; words beyond the summaries only for "detail": "full".
    evaluation = service.evaluate(engine, body.profile, body.as_of, body.measures)
    answer = engine.render(evaluation, Options(body.detail, lang))
    if principal is None:
        return engine_json(service.public(answer))
    ev = await run_in_threadpool(
        service.store_in_new_session, sessions, principal, body.profile, evaluation, engine, lang, body.measures
    )
    return engine_json(service.public(answer, ev), 201, {"Location": f"/v1/evaluations/{ev.id}"})


@router.get("", response_model=Page[EvaluationSummary], summary="已保存的评估 / stored evaluations")
def list_evaluations(
    db: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    credit_code: Annotated[
        str | None,
        Query(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$", description="只看这家企业 / only this enterprise"),
    ] = None,
) -> dict[str, Any]:
    """最新的在前。企业账号只看到本企业的评估。/ Newest first; an enterprise sees only its own."""
    items, total = service.list_visible(db, principal, credit_code, page.limit, page.offset)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.post(
    "/what-if",
    response_model=WhatIfPublic,
    response_model_exclude_unset=True,  # the engine's explanations as they are, no added nulls
    summary="假设分析 / what if some facts changed",
    operation_id="evaluateWhatIf",
)
def what_if(
    body: Annotated[WhatIfCreate, Body(openapi_examples=what_if_examples(_EXAMPLES))],
    request: Request,
    engine: EngineDep,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """同一画像改动若干事实（如 2024 年研发费用 +100 万元）后重新评估，返回结论改变的措施及前后对比。不保存。

    The same profile with some facts changed; returns the outcomes that flip, before and after. Not stored."""
    lang = use_lang(request, body.lang, lang)
    return whatif.what_if(engine, body.profile, body.changes, body.as_of, body.measures, lang)


@router.get(
    "/{evaluation_id}",
    response_model=EvaluationRecord,
    response_model_exclude_unset=True,
    summary="一次已保存的评估 / a stored evaluation",
)
def get_evaluation(
    evaluation_id: EvaluationId,
    request: Request,
    db: SessionDep,
    engine_for: EngineForDep,
    principal: PrincipalDep,
    detail: DetailQuery = "verdict",
    lang: QueryLang = None,
) -> Response:
    """默认返回保存的裁决（保存时的语言），附评估时的输入快照；``detail=full`` 时用保存的输入和同一规则包重新评估、
    核对裁决一致后，生成完整说明（可用 ``lang`` 指定语言）。

    The stored verdicts (in the language they were stored in) with the input snapshot; with
    ``detail=full`` the full explanation, written when read: the stored input evaluated again with
    the same rule pack, checked against the stored verdicts, worded in ``lang``."""
    ev = service.get_visible(db, principal, evaluation_id)
    chosen = use_lang(request, lang) if lang or "accept-language" in request.headers else ev.lang
    return engine_json(service.record(db, principal, ev, service.rendered(engine_for, ev, detail, chosen)))


@router.post(
    "/{evaluation_id}/replay",
    response_model=ReplayPublic,
    response_model_exclude_unset=True,
    summary="按当前规则包重放 / re-evaluate with the current rule pack",
)
def replay_evaluation(
    evaluation_id: EvaluationId,
    request: Request,
    db: SessionDep,
    engine: EngineDep,
    principal: PrincipalDep,
    detail: DetailQuery = "verdict",
    lang: QueryLang = None,
) -> dict[str, Any]:
    """用保存的输入与评估日期，按当前规则包重新评估，逐项列出变化（结论、条件、待遇）。不改动原记录。

    Re-evaluates the stored input on its as_of with the current pack and lists what changed per
    measure and subject. The stored evaluation is left as it was."""
    ev = service.get_visible(db, principal, evaluation_id)
    return service.replay(
        engine, ev, use_lang(request, lang) if lang or "accept-language" in request.headers else None, detail
    )
