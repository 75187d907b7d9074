"""The screening API: /v1/screenings — uploads and runs, results, review, export, reports, impact
and proactive matching. Handlers only translate HTTP; the work is in the screening services."""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    File,
    Form,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from intake import FORMATS, MEDIA_TYPES, template_filename, template_years, write_template

from ..deps import AdminDep, EngineDep, PageDep, Principal, PrincipalDep, QueryLang, SessionDep, use_lang
from ..routing import CheckedJSONRoute
from ..schemas.common import Outcome, Page
from . import export, impact, proactive, reports, results, review, runs
from .importer import import_upload, while_running
from .schemas import (
    Candidate,
    DecisionCreate,
    DecisionPublic,
    ImpactCreate,
    ImpactPublic,
    ProactiveCreate,
    ReportPublic,
    ResultPublic,
    RowErrors,
    RowPublic,
    RulePackVersion,
    ScreeningPublic,
)
from .settings import ScreeningSettings
from .work import Evaluators

router = APIRouter(route_class=CheckedJSONRoute, prefix="/screenings", tags=["screenings"])
reports_router = APIRouter(route_class=CheckedJSONRoute, prefix="/screenings", tags=["reports"])

RunId = Annotated[str, Path(min_length=1, max_length=64, description="筛查编号 / screening id")]
RowNo = Annotated[int, Path(ge=1, le=100_000_000, description="行号（表头为第 1 行）/ row number")]
Format = Literal["csv", "xlsx", "jsonl"]
ExportFormat = Literal["xlsx", "csv"]


def screening_settings(request: Request) -> ScreeningSettings:
    return request.app.state.screening_settings


def evaluators(request: Request) -> Evaluators:
    return request.app.state.screening_evaluators


def bureau(principal: PrincipalDep) -> Principal:
    runs.ensure_bureau(principal)
    return principal


ScreeningSettingsDep = Annotated[ScreeningSettings, Depends(screening_settings)]
EvaluatorsDep = Annotated[Evaluators, Depends(evaluators)]
BureauDep = Annotated[Principal, Depends(bureau)]
Measure = Annotated[str | None, Query(max_length=80, description="只看这项措施 / only this measure")]

_FILE_RESPONSES = {
    "content": {
        MEDIA_TYPES["csv"].split(";")[0]: {"schema": {"type": "string", "format": "binary"}},
        MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
        MEDIA_TYPES["jsonl"]: {"schema": {"type": "string", "format": "binary"}},
    },
    "description": "文件 / the file",
}


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    stem, _, ext = filename.rpartition(".")
    ascii_stem = stem.encode("ascii", "ignore").decode().strip("-_ ")
    ascii_name = f"{ascii_stem or 'huiqi-screening'}.{ext}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@router.get(
    "/templates/{fmt}",
    response_class=Response,
    responses={200: _FILE_RESPONSES},
    summary="下载导入模板 / download the import template",
    operation_id="getScreeningTemplate",
)
def get_template(
    fmt: Annotated[Format, Path(description="csv、xlsx 或 jsonl")],
    request: Request,
    lang: QueryLang = None,
    as_of: Annotated[
        dt.date | None, Query(description="财务年度取此日期前三年（默认今天）/ fiscal years before this date")
    ] = None,
) -> Response:
    """每行一家企业；表头为契约字段的中文名（lang=en 时为字段路径），金额单位万元，财务数据按年度分组
    （如“2024年度销售收入（万元）”），项目按编号分组（项目1编号……），更多项目可用“项目（JSON）”列。

    One row per enterprise; Chinese headers (contract paths with lang=en), money in 万元, fiscal years
    as column groups, projects as numbered groups plus a JSON column."""
    lang = use_lang(request, lang)
    assert fmt in FORMATS
    buf = io.BytesIO()
    write_template(fmt, buf, lang, template_years(as_of))
    body = buf.getvalue()
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": _attachment(template_filename(fmt, lang))},
    )


@router.get(
    "/rule-packs", response_model=list[RulePackVersion], summary="可用的规则包版本 / rule pack versions"
)
def list_rule_packs(request: Request, packs: EvaluatorsDep, _who: BureauDep) -> list[dict[str, Any]]:
    """影响分析可选的规则包版本：当前版本，以及 HUIQI_SCREENING_RULE_PACKS_DIR 下的其他版本（只给出文件夹名，不给服务器路径）。"""
    current = request.app.state.engine.version
    return [{"version": v, "current": v == current, "name": packs.dirs[v].name} for v in packs.versions()]


@router.post(
    "",
    response_model=ScreeningPublic,
    status_code=202,
    summary="上传申报数据并开始筛查 / upload applications and start a screening",
    responses={413: {"description": "文件过大 / file too large"}},
)
def create_screening(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    db: SessionDep,
    engine: EngineDep,
    settings: ScreeningSettingsDep,
    principal: BureauDep,
    file: Annotated[UploadFile, File(description="CSV（UTF-8 或 GB18030）、XLSX 或 JSONL，按模板填写")],
    as_of: Annotated[dt.date | None, Form(description="评估日期，默认今天 / assessment date")] = None,
    measures: Annotated[
        list[str] | None, Form(description="只筛查这些措施（可重复或用逗号分隔）/ only these measures")
    ] = None,
    title: Annotated[str | None, Form(max_length=200, description="批次名称 / a name for the batch")] = None,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """立即返回筛查编号（202），导入与评估在后台进行，用全部 CPU 核；进度见 GET /v1/screenings/{id}。
    文件大小与行数有上限（HUIQI_SCREENING_MAX_UPLOAD_BYTES、HUIQI_SCREENING_MAX_ROWS）。

    Returns the run id at once (202); import and evaluation go on in the background on every core."""
    lang = use_lang(request, lang)
    chosen = [m.strip() for item in measures or [] for m in item.split(",") if m.strip()] or None
    run = runs.create_upload_run(
        db,
        engine,
        settings,
        principal,
        file.file,
        file.filename,
        as_of or dt.date.today(),
        chosen,
        lang,
        title,
    )
    background.add_task(
        while_running,
        request.app.state.screening_stopping,
        import_upload,
        request.app.state.screening_db,
        run.id,
        settings.limits(),
        settings.import_lease,
    )
    response.headers["Location"] = f"/v1/screenings/{run.id}"
    return runs.run_public(db, run, lang)


@router.get("", response_model=Page[ScreeningPublic], summary="筛查批次 / screenings")
def list_screenings(
    request: Request,
    db: SessionDep,
    _who: BureauDep,
    page: PageDep,
    kind: Annotated[Literal["applications", "impact", "proactive"] | None, Query()] = None,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """最新的在前 / newest first."""
    lang = use_lang(request, lang)
    found, total = runs.list_runs(db, kind, page.limit, page.offset)
    return {
        "items": [runs.run_public(db, r, lang) for r in found],
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.post(
    "/proactive",
    response_model=ScreeningPublic,
    status_code=202,
    summary="免申即享：主动匹配已登记的企业 / proactive matching of stored enterprises",
    operation_id="createProactiveScreening",
)
def create_proactive(
    body: ProactiveCreate,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    db: SessionDep,
    engine: EngineDep,
    settings: ScreeningSettingsDep,
    principal: BureauDep,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """用每家企业最新的画像评估所选措施；完成后 GET /v1/screenings/{id}/proactive 列出符合条件却未申报的企业。

    Evaluates every stored enterprise's latest profile; then GET …/proactive lists the eligible ones
    that have not applied."""
    lang = use_lang(request, body.lang, lang)
    run = runs.create_proactive_run(
        db, engine, settings, principal, body.measures, body.as_of or dt.date.today()
    )
    background.add_task(
        while_running,
        request.app.state.screening_stopping,
        proactive.import_profiles,
        request.app.state.screening_db,
        run.id,
    )
    response.headers["Location"] = f"/v1/screenings/{run.id}"
    return runs.run_public(db, run, lang)


@router.get("/{run_id}", response_model=ScreeningPublic, summary="筛查进度 / a screening and its progress")
def get_screening(
    run_id: RunId, request: Request, db: SessionDep, _who: BureauDep, lang: QueryLang = None
) -> dict[str, Any]:
    """进度：已评估行数 / 总行数、每秒行数、预计剩余时间 / progress: rows done of total, rate, time left."""
    return runs.run_public(db, runs.get_run(db, run_id), use_lang(request, lang))


@router.delete(
    "/{run_id}",
    status_code=204,
    summary="删除筛查（管理员，记入审计日志）/ delete a screening (admin, audited)",
    responses={204: {"description": "已删除 / deleted"}},
)
def delete_screening(
    run_id: RunId, db: SessionDep, settings: ScreeningSettingsDep, admin: AdminDep
) -> Response:
    """删除一次筛查及其全部数据（行、结果、审核记录），以及以它为基础的影响分析；正在进行的导入与评估随之停止。
    审计日志记下删除了什么（批次、文件、行数、状态、审核记录数）。

    Deletes a screening with its rows, results and review decisions, and the impact runs built on it;
    an import or evaluation in progress stops. The audit log records what was deleted."""
    runs.delete_run(db, admin, runs.get_run(db, run_id), settings.upload_dir)
    return Response(status_code=204)


@router.get(
    "/{run_id}/results",
    response_model=Page[ResultPublic],
    summary="筛查结果 / results",
    operation_id="listScreeningResults",
)
def list_results(
    run_id: RunId,
    request: Request,
    db: SessionDep,
    packs: EvaluatorsDep,
    _who: BureauDep,
    page: PageDep,
    measure: Annotated[str | None, Query(max_length=80, description="措施编号 / measure id")] = None,
    outcome: Annotated[Outcome | None, Query(description="结论 / outcome")] = None,
    criterion: Annotated[
        str | None, Query(max_length=80, description="未满足的条件编号 / a criterion not met")
    ] = None,
    region_code: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="区县（注册地行政区划代码）/ district")
    ] = None,
    credit_code: Annotated[str | None, Query(max_length=64)] = None,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """按措施、结论、未满足的条件、区县筛选，分页 / filter by measure, outcome, criterion failed, district."""
    lang = use_lang(request, lang)
    run = runs.get_run(db, run_id)
    items, total = results.query_results(
        db, run, packs, lang, measure, outcome, criterion, region_code, credit_code, page.limit, page.offset
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get(
    "/{run_id}/errors",
    response_model=Page[RowErrors],
    summary="数据有误的行 / rows with bad cells",
    operation_id="listScreeningErrors",
)
def list_errors(run_id: RunId, db: SessionDep, _who: BureauDep, page: PageDep) -> dict[str, Any]:
    """每个有误的单元格：行、列、表头、值、原因。这些行未评估，其余行照常筛查。

    Every bad cell with its row, column, header, value and reason; these rows were not evaluated."""
    run = runs.get_run(db, run_id)
    items, total = results.list_errors(db, run, page.limit, page.offset)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get(
    "/{run_id}/rows/{row_no}",
    response_model=RowPublic,
    summary="一行申报 / one application",
    operation_id="getScreeningRow",
)
def get_row(
    run_id: RunId,
    row_no: RowNo,
    request: Request,
    db: SessionDep,
    packs: EvaluatorsDep,
    _who: BureauDep,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """原始单元格、错误、画像、各措施结果（含完整说明，打开时按本次筛查的规则包生成）和审核记录。

    Cells, errors, profile, each measure's result with its full explanation (rendered now by the
    screening's rule pack, on its date) and the review decisions."""
    run = runs.get_run(db, run_id)
    return results.row_detail(db, run, packs, row_no, use_lang(request, lang))


@router.post(
    "/{run_id}/rows/{row_no}/decisions",
    response_model=DecisionPublic,
    status_code=201,
    summary="审核决定 / record a review decision",
)
def create_decision(
    run_id: RunId,
    row_no: RowNo,
    body: DecisionCreate,
    request: Request,
    db: SessionDep,
    principal: BureauDep,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """同意（approve）、不同意（reject）或要求补充材料（request_info），须写理由；自动结论保留在旁。
    自动结论为不符合或无法判定时，同意须另写改判理由（override_reason）。决定只增不改，最新的有效。

    Approve, reject or ask for information, with a reason; the automatic outcome is kept beside it.
    Approving an ineligible or undetermined outcome needs an override_reason. Decisions are appended."""
    lang = use_lang(request, lang)
    run = runs.get_run(db, run_id)
    d = review.decide(
        db,
        principal,
        run,
        row_no,
        body.measure_id,
        body.subject_id or "",
        body.decision,
        body.reason,
        body.override_reason,
    )
    return review.decision_public(d, lang)


@router.get("/{run_id}/decisions", response_model=Page[DecisionPublic], summary="审核记录 / decisions")
def list_decisions(
    run_id: RunId, request: Request, db: SessionDep, _who: BureauDep, page: PageDep, lang: QueryLang = None
) -> dict[str, Any]:
    lang = use_lang(request, lang)
    run = runs.get_run(db, run_id)
    rows, total = review.list_decisions(db, run, page.limit, page.offset)
    return {
        "items": [review.decision_public(d, lang) for d in rows],
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.get(
    "/{run_id}/export",
    response_class=Response,
    responses={200: _FILE_RESPONSES},
    summary="导出结果（XLSX / CSV）/ export the results",
)
def export_screening(
    run_id: RunId,
    request: Request,
    db: SessionDep,
    packs: EvaluatorsDep,
    settings: ScreeningSettingsDep,
    principal: BureauDep,
    format: Annotated[ExportFormat, Query(description="xlsx 或 csv")] = "xlsx",
    lang: QueryLang = None,
) -> Response:
    """每家企业一行，每项措施一列：结论与中文理由（未满足的条件、缺少的信息、预计待遇），附审核意见。

    One row per application, one column per measure: the outcome and the reasons, with the review."""
    lang = use_lang(request, lang)
    run = runs.get_run(db, run_id)
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="export-", suffix="." + format, dir=settings.upload_dir)
    os.close(fd)
    path = FsPath(name)
    try:
        export.write_export(db, run, packs, format, lang, path)
        export.record_export(db, principal, run, format, lang)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    filename = (f"筛查结果-{run.id[:8]}" if lang != "en" else f"screening-{run.id[:8]}") + "." + format
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": _attachment(filename)},
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.post(
    "/{run_id}/impact",
    response_model=ScreeningPublic,
    status_code=202,
    summary="规则变更影响分析 / impact of a rule change",
    operation_id="createImpactAnalysis",
)
def create_impact(
    run_id: RunId,
    body: ImpactCreate,
    request: Request,
    response: Response,
    db: SessionDep,
    packs: EvaluatorsDep,
    principal: BureauDep,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """在参数覆盖（如研发费用占比门槛改为 4.5%）或另一个规则包版本下重跑已完成的筛查；
    完成后 GET /v1/screenings/{新编号}/impact 列出结论改变的企业与预算差额。

    Re-runs a finished screening under parameter overrides or another rule pack version; then
    GET …/impact lists the applicants whose outcome changes, with the budget difference."""
    lang = use_lang(request, body.lang, lang)
    baseline = runs.get_run(db, run_id)
    run = runs.create_impact_run(
        db,
        packs,
        principal,
        baseline,
        body.overrides,
        body.rule_pack_version,
        body.measures,
    )
    response.headers["Location"] = f"/v1/screenings/{run.id}"
    return runs.run_public(db, run, lang)


@reports_router.get(
    "/{run_id}/report",
    response_model=ReportPublic,
    summary="筛查报表 / report of a screening",
    operation_id="getScreeningReport",
)
def get_report(
    run_id: RunId,
    request: Request,
    db: SessionDep,
    packs: EvaluatorsDep,
    _who: BureauDep,
    measure: Measure = None,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """每项措施：各结论的数量、预计待遇合计（符合者；需人工审核者另列；已审核同意者）、
    淘汰申请最多的条件与逐级淘汰漏斗、各区县分布。

    Per measure: counts by outcome, the benefit forecast (the budget the run implies), the criterion
    that excludes most applicants with the attrition funnel, and counts by district."""
    run = runs.get_run(db, run_id)
    return reports.report(db, run, packs, use_lang(request, lang), measure)


@reports_router.get(
    "/{run_id}/impact",
    response_model=ImpactPublic,
    summary="规则变更后结论改变的企业 / applicants whose outcome changes",
    operation_id="getImpactAnalysis",
)
def get_impact(
    run_id: RunId,
    request: Request,
    db: SessionDep,
    packs: EvaluatorsDep,
    _who: BureauDep,
    page: PageDep,
    measure: Measure = None,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """影响分析（POST /v1/screenings/{id}/impact 建立）与原筛查的对比：结论改变的企业（分页）、
    各措施的预算差额（万元）。/ The changes against the baseline and the budget difference."""
    run = runs.get_run(db, run_id)
    return impact.impact(db, run, packs, use_lang(request, lang), measure, page.limit, page.offset)


@reports_router.get(
    "/{run_id}/proactive",
    response_model=Page[Candidate],
    summary="免申即享：符合条件而未申报的企业 / eligible enterprises that have not applied",
    operation_id="listProactiveCandidates",
)
def get_proactive(
    run_id: RunId,
    request: Request,
    db: SessionDep,
    packs: EvaluatorsDep,
    _who: BureauDep,
    page: PageDep,
    measure: Measure = None,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """“未申报”：没有出现在任何一批筛查过该措施的申报筛查（kind=applications）的有效行中。

    "Not applied": in no valid row of an application screening that screened the measure."""
    run = runs.get_run(db, run_id)
    items, total = proactive.proactive_candidates(
        db, run, packs, use_lang(request, lang), measure, page.limit, page.offset
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}
