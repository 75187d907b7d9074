from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from engine import Options, Profile

from ..config import get_settings
from ..deps import EngineDep, PageDep, PrincipalDep, QueryLang, SessionDep, stored_evaluation_quota, use_lang
from ..examples import enterprise_evaluation_examples, profile_examples
from ..responses import engine_json
from ..routing import CheckedJSONRoute
from ..schemas.common import Page
from ..schemas.enterprises import EnterpriseSummary, ProfileVersionPublic, ProfileVersionSummary
from ..schemas.evaluations import EnterpriseEvaluationCreate, EvaluationPublic
from ..services import access, profiles
from ..services import evaluations as evaluation_service

router = APIRouter(route_class=CheckedJSONRoute, prefix="/enterprises", tags=["profiles"])

CreditCode = Annotated[
    str,
    Path(
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
        description="统一社会信用代码 / unified social credit code",
        examples=["91370100CA85GF0T94"],
    ),
]


@router.get("", response_model=Page[EnterpriseSummary], summary="有画像的企业 / enterprises with a profile")
def list_enterprises(db: SessionDep, principal: PrincipalDep, page: PageDep) -> dict[str, Any]:
    items, total = profiles.list_enterprises(db, principal, page.limit, page.offset)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.put(
    "/{credit_code}/profile",
    response_model=ProfileVersionPublic,
    status_code=201,
    summary="保存新版本画像 / store a new profile version",
)
def put_profile(
    credit_code: CreditCode,
    body: Annotated[Profile, Body(openapi_examples=profile_examples(get_settings().examples_dir))],
    response: Response,
    db: SessionDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    """每次保存都新增一个版本，旧版本保留不变。企业账号只能保存本企业；审核人员只读。

    Every PUT appends a version; none is overwritten."""
    access.ensure_can_write_enterprise(principal, credit_code)
    row = profiles.put_profile(db, principal, credit_code, body)
    response.headers["Location"] = f"/v1/enterprises/{credit_code}/profile?version={row.version}"
    return profiles.version_public(db, row, viewer=principal)


@router.get("/{credit_code}/profile", response_model=ProfileVersionPublic, summary="企业画像 / a profile")
def get_profile(
    credit_code: CreditCode,
    db: SessionDep,
    principal: PrincipalDep,
    version: Annotated[
        int | None, Query(ge=1, le=2_000_000_000, description="版本号，默认最新 / default latest")
    ] = None,
) -> dict[str, Any]:
    row = profiles.get_version(db, principal, credit_code, version)
    return profiles.version_public(db, row, viewer=principal)


@router.get(
    "/{credit_code}/profile/versions",
    response_model=Page[ProfileVersionSummary],
    summary="画像的全部版本 / the profile's versions",
)
def list_profile_versions(
    credit_code: CreditCode, db: SessionDep, principal: PrincipalDep, page: PageDep
) -> dict[str, Any]:
    """最新的在前 / newest first."""
    items, total = profiles.list_versions(db, principal, credit_code, page.limit, page.offset)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.post(
    "/{credit_code}/evaluations",
    response_model=EvaluationPublic,
    status_code=201,
    summary="按已保存的画像评估并保存 / evaluate a stored profile and store the result",
    dependencies=[Depends(stored_evaluation_quota)],
    responses={429: {"description": "超出每日保存评估的配额 / the daily quota of stored evaluations is used up"}},
)
def evaluate_stored_profile(
    credit_code: CreditCode,
    request: Request,
    db: SessionDep,
    engine: EngineDep,
    principal: PrincipalDep,
    body: Annotated[
        EnterpriseEvaluationCreate, Body(openapi_examples=enterprise_evaluation_examples())
    ] = None,  # type: ignore[assignment]
    lang: QueryLang = None,
) -> Response:
    body = body or EnterpriseEvaluationCreate()
    lang = use_lang(request, body.lang, lang)
    row = profiles.get_version(db, principal, credit_code, body.version)
    profile = Profile.model_validate(row.profile)
    evaluation = evaluation_service.evaluate(engine, profile, body.as_of, body.measures)
    ev = evaluation_service.store(db, principal, profile, evaluation, engine, lang, body.measures, row.version)
    answer = engine.render(evaluation, Options(body.detail, lang))
    return engine_json(evaluation_service.public(answer, ev), 201, {"Location": f"/v1/evaluations/{ev.id}"})
