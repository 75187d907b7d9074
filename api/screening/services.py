"""Screening runs: create (upload, impact, proactive), read, filter, review, report, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine as DbEngine
from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from engine import Engine
from engine.schema import Group
from engine.vocabulary import OUTCOMES, pick
from intake import TableError, check_xlsx_archive, detect_format

from .. import audit
from ..db import take_write_gate, utcnow
from ..models import ProfileVersion
from ..principal import Principal
from ..problems import ApiProblem
from .importer import store_batch
from .models import ReviewDecision, ScreeningChunk, ScreeningResult, ScreeningRow, ScreeningRun
from .regions import region_name
from .settings import ScreeningSettings
from .work import Evaluators, fails, finish_if_complete, progress

DECISIONS = {
    "approve": ("同意", "approve"),
    "reject": ("不同意", "reject"),
    "request_info": ("要求补充材料", "request information"),
}
# an automatic outcome a reviewer may approve only with an override reason
NOT_ELIGIBLE = ("ineligible", "undetermined", "not_applicable")
_CRITERION_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")


def _problem(kind: str, zh: str, en: str, **kw: Any) -> ApiProblem:
    return ApiProblem(kind, (zh, en), **kw)


def new_id() -> str:
    return uuid.uuid4().hex


# ------------------------------------------------------------------ access


def ensure_bureau(principal: Principal) -> None:
    if principal.role not in ("reviewer", "admin"):
        raise _problem(
            "forbidden",
            "批量筛查只对科技局审核人员和管理员开放",
            "bulk screening is for the bureau's reviewers and administrators",
        )


def get_run(db: Session, run_id: str) -> ScreeningRun:
    run = db.get(ScreeningRun, run_id) if re.fullmatch(r"[0-9a-f]{32}", run_id) else None
    if run is None:
        raise _problem("not-found", f"没有编号为 {run_id} 的筛查", f"no screening with id {run_id}")
    return run


def check_measures(engine: Engine, measures: list[str] | None, field: str = "measures") -> None:
    unknown = [m for m in measures or [] if m not in engine.pack.measures]
    if unknown:
        ids = ", ".join(unknown)
        raise ApiProblem(
            "unknown-measure",
            (f"规则包中没有这些措施：{ids}（GET /v1/measures 列出全部）", f"no such measures: {ids}"),
            errors=[
                {
                    "field": field,
                    "location": "body",
                    "message": f"未知措施 / unknown measure: {m}",
                    "value": m,
                }
                for m in unknown
            ],
        )


# ------------------------------------------------------------------ upload


def save_upload(src: IO[bytes], dest: Path, limit: int) -> int:
    dest.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with dest.open("wb") as out:
        for block in iter(lambda: src.read(1 << 20), b""):
            size += len(block)
            if size > limit:
                out.close()
                dest.unlink(missing_ok=True)
                raise too_large(limit)
            out.write(block)
    return size


def too_large(limit: int) -> ApiProblem:
    mb = limit / (1024 * 1024)
    return _problem(
        "payload-too-large",
        f"文件超过大小上限 {mb:.0f} MB（{limit} 字节），请拆分后分批上传",
        f"the file exceeds the limit of {mb:.0f} MB ({limit} bytes); split it into several uploads",
    )


def create_upload_run(
    db: Session,
    engine: Engine,
    settings: ScreeningSettings,
    principal: Principal,
    src: IO[bytes],
    filename: str | None,
    as_of: dt.date,
    measures: list[str] | None,
    lang: str,
    title: str | None,
) -> ScreeningRun:
    """Store the upload and create its run. Nothing is parsed here beyond telling the format (and,
    for an XLSX, reading the ZIP's directory): headers, rows and every limit are checked by the
    import, in the background, whose errors the run reports."""
    check_measures(engine, measures)
    measures = list(dict.fromkeys(measures)) if measures else measures
    run_id = new_id()
    src.seek(0)
    head = src.read(8)
    src.seek(0)
    try:
        fmt = detect_format(filename, head)
    except TableError as e:
        raise _problem("validation-error", e.zh, e.en, errors=[_file_error(e, lang)]) from None
    path = settings.upload_dir / f"{run_id}.{fmt}"
    size = save_upload(src, path, settings.max_upload_bytes)
    if fmt == "xlsx":
        try:
            with path.open("rb") as fh:
                check_xlsx_archive(fh, settings.limits())
        except TableError as e:
            path.unlink(missing_ok=True)
            raise _problem("validation-error", e.zh, e.en, errors=[_file_error(e, lang)]) from None
    run = ScreeningRun(
        id=run_id,
        kind="applications",
        status="importing",
        title=title,
        filename=(filename or "")[:255] or None,
        format=fmt,
        lang=lang,
        as_of=as_of,
        measures=measures,
        rule_pack_version=engine.version,
        chunk_size=settings.chunk_rows,
        upload_path=str(path),
        import_lease_until=utcnow() + settings.import_lease,
        created_by=principal.user_id,
        created_by_name=principal.username,
        created_at=utcnow(),
    )
    db.add(run)
    audit.record(
        db,
        principal,
        "screening.import",
        "screening",
        run_id,
        after={
            "filename": run.filename,
            "format": fmt,
            "bytes": size,
            "as_of": as_of.isoformat(),
            "measures": measures,
            "rule_pack_version": engine.version,
        },
    )
    audit.record(
        db,
        principal,
        "screening.run.start",
        "screening",
        run_id,
        after={"kind": "applications", "rule_pack_version": engine.version},
    )
    db.commit()
    return run


def _file_error(e: TableError, lang: str) -> dict[str, Any]:
    return {"field": "file", "location": "body", "message": pick((e.zh, e.en), lang), "value": None}


# ------------------------------------------------------------------ impact and proactive runs


def create_impact_run(
    db: Session,
    evaluators: Evaluators,
    principal: Principal,
    baseline: ScreeningRun,
    overrides: dict[str, Any] | None,
    rule_pack_version: str | None,
    measures: list[str] | None,
) -> ScreeningRun:
    if baseline.status != "done":
        raise _problem(
            "conflict",
            "只能对已完成的筛查做规则变更影响分析",
            "the impact of a rule change can be computed only for a finished screening",
        )
    version = rule_pack_version or next(iter(evaluators.engines))
    engine = evaluators.get(version)
    if engine is None:
        raise ApiProblem(
            "validation-error",
            (f"没有版本为 {version} 的规则包", f"no rule pack of version {version}"),
            errors=[
                {
                    "field": "rule_pack_version",
                    "location": "body",
                    "message": "可用版本见 GET /v1/screenings/rule-packs / see GET /v1/screenings/rule-packs",
                    "value": version,
                }
            ],
        )
    check_measures(engine, measures)
    chosen = measures if measures is not None else baseline.measures
    if overrides:
        check_overrides(engine, baseline.as_of, overrides)
    source = baseline.source_run_id or baseline.id
    src = db.get(ScreeningRun, source)
    assert src is not None
    run = ScreeningRun(
        id=new_id(),
        kind="impact",
        status="queued",
        title=f"影响分析：{baseline.title or baseline.filename or baseline.id}"[:200],
        lang=baseline.lang,
        as_of=baseline.as_of,
        measures=chosen,
        overrides=overrides or None,
        rule_pack_version=version,
        source_run_id=source,
        baseline_run_id=baseline.id,
        chunk_size=src.chunk_size,
        total_rows=src.total_rows,
        valid_rows=src.valid_rows,
        invalid_rows=src.invalid_rows,
        created_by=principal.user_id,
        created_by_name=principal.username,
        created_at=utcnow(),
    )
    db.add(run)
    db.flush()
    for ch in db.scalars(
        select(ScreeningChunk).where(ScreeningChunk.run_id == source, ScreeningChunk.rows > 0)
    ):
        db.add(
            ScreeningChunk(
                run_id=run.id,
                chunk_no=ch.chunk_no,
                first_row=ch.first_row,
                last_row=ch.last_row,
                rows=ch.rows,
                status="pending",
                attempts=0,
            )
        )
    audit.record(
        db,
        principal,
        "screening.impact",
        "screening",
        run.id,
        before={
            "run": baseline.id,
            "rule_pack_version": baseline.rule_pack_version,
            "overrides": baseline.overrides,
        },
        after={"run": run.id, "rule_pack_version": version, "overrides": overrides, "measures": chosen},
    )
    db.commit()
    return run


def _override_reason(e: Exception) -> tuple[str, str]:
    """Why an override was refused, in words for people: the engine's own message when it is one
    (an unknown parameter, a value the parameter cannot take), never a library's internals."""
    from pydantic import ValidationError

    from engine import HuiqiError, errors_of

    if isinstance(e, HuiqiError):
        return str(e)[:300], str(e)[:300]
    if isinstance(e, ValidationError):
        zh = "；".join(f"{x['field']}：{x['message']}" for x in errors_of(e, "zh"))
        en = "; ".join(f"{x['field']}: {x['message']}" for x in errors_of(e, "en"))
        return f"取值不符合参数的格式（{zh}）"[:300], f"the value does not fit the parameter ({en})"[:300]
    if isinstance(e, ArithmeticError | ValueError | TypeError):
        return "不是有效的数值，或超出可比较的范围", "not a valid number, or out of the range that can be compared"
    return "无法应用", "cannot be applied"


def check_overrides(engine: Engine, as_of: dt.date, overrides: dict[str, Any]) -> None:
    """422 naming each override that does not compile, and why (a key at a time, so that the field
    is named)."""
    try:
        engine.compiled(as_of, overrides)
        return
    except Exception:  # noqa: BLE001 - found key by key below
        pass
    errors = []
    for key, value in overrides.items():
        try:
            engine.compiled(as_of, {key: value})
        except Exception as e:  # noqa: BLE001 - the compiler names the bad key or value
            zh, en = _override_reason(e)
            errors.append(
                {
                    "field": f"overrides.{key}"[:200],
                    "location": "body",
                    "message": f"{zh} / {en}",
                    "value": value if isinstance(value, str | int | float) else None,
                }
            )
    if not errors:  # each alone compiles, together they do not
        errors.append({"field": "overrides", "location": "body", "message": "组合无法应用 / cannot be combined"})
    first = errors[0]["message"].split(" / ")
    raise ApiProblem(
        "validation-error",
        (f"参数覆盖无效：{errors[0]['field']}：{first[0]}", f"invalid parameter override: {errors[0]['field']}: {first[-1]}"),
        errors=errors,
    )


def create_proactive_run(
    db: Session,
    engine: Engine,
    settings: ScreeningSettings,
    principal: Principal,
    measures: list[str],
    as_of: dt.date,
) -> ScreeningRun:
    check_measures(engine, measures)
    run = ScreeningRun(
        id=new_id(),
        kind="proactive",
        status="importing",
        title="免申即享：" + "、".join(measures),
        lang="zh",
        as_of=as_of,
        measures=measures,
        rule_pack_version=engine.version,
        chunk_size=settings.chunk_rows,
        import_lease_until=utcnow() + settings.import_lease,
        created_by=principal.user_id,
        created_by_name=principal.username,
        created_at=utcnow(),
    )
    db.add(run)
    audit.record(
        db,
        principal,
        "screening.proactive",
        "screening",
        run.id,
        after={"measures": measures, "as_of": as_of.isoformat(), "rule_pack_version": engine.version},
    )
    db.commit()
    return run


def import_profiles(db_engine: DbEngine, run_id: str) -> None:
    """The latest profile version of every stored enterprise becomes a row of a proactive run
    (read a page at a time, each in its own short transaction)."""
    from .importer import end_import

    with Session(db_engine) as s:
        run = s.get(ScreeningRun, run_id)
        assert run is not None
        size = run.chunk_size
    latest = (
        select(ProfileVersion.credit_code, func.max(ProfileVersion.version).label("v"))
        .group_by(ProfileVersion.credit_code)
        .subquery()
    )
    after = ""
    chunk_no = 0
    number = 0
    try:
        while True:
            with Session(db_engine) as s:
                page = s.execute(
                    select(ProfileVersion.credit_code, ProfileVersion.name, ProfileVersion.profile)
                    .join(
                        latest,
                        and_(
                            ProfileVersion.credit_code == latest.c.credit_code,
                            ProfileVersion.version == latest.c.v,
                        ),
                    )
                    .where(ProfileVersion.credit_code > after)
                    .order_by(ProfileVersion.credit_code)
                    .limit(size)
                ).all()
            if not page:
                break
            batch = []
            for code, name, profile in page:
                number += 1
                region = profile.get("region_code") if isinstance(profile, dict) else None
                batch.append(
                    {
                        "run_id": run_id,
                        "row_no": number,
                        "valid": True,
                        "credit_code": code,
                        "name": name,
                        "region_code": region if isinstance(region, str) else None,
                        "as_of": None,
                        "profile": profile,
                        "raw": None,
                        "errors": None,
                    }
                )
            store_batch(db_engine, run_id, chunk_no, batch)
            chunk_no += 1
            after = page[-1][0]
    except Exception as e:
        end_import(
            db_engine,
            run_id,
            {"zh": f"读取企业画像失败：{type(e).__name__}", "en": f"reading profiles failed: {e}"},
        )
        raise
    end_import(db_engine, run_id)


# ------------------------------------------------------------------ reading


def run_public(db: Session, run: ScreeningRun, lang: str) -> dict[str, Any]:
    err = run.error
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "status_label": pick(STATUS_LABELS[run.status], lang),
        "title": run.title,
        "filename": run.filename,
        "format": run.format,
        "as_of": run.as_of,
        "measures": run.measures,
        "overrides": run.overrides,
        "lang": run.lang,
        "rule_pack_version": run.rule_pack_version,
        "source_run_id": run.source_run_id,
        "baseline_run_id": run.baseline_run_id,
        "progress": progress(db, run),
        "ignored_columns": run.ignored_columns or [],
        "ignored_columns_total": run.ignored_total or len(run.ignored_columns or []),
        "error": pick((err["zh"], err["en"]), lang) if err else None,
        "created_by": run.created_by_name,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "links": {
            "self": f"/v1/screenings/{run.id}",
            "results": f"/v1/screenings/{run.id}/results",
            "errors": f"/v1/screenings/{run.id}/errors",
            "report": f"/v1/screenings/{run.id}/report",
            "export_xlsx": f"/v1/screenings/{run.id}/export?format=xlsx",
            "export_csv": f"/v1/screenings/{run.id}/export?format=csv",
        },
    }


STATUS_LABELS = {
    "importing": ("导入中", "importing"),
    "queued": ("排队中", "queued"),
    "running": ("筛查中", "running"),
    "done": ("已完成", "done"),
    "failed": ("失败", "failed"),
}


def delete_run(db: Session, principal: Principal, run: ScreeningRun, upload_dir: Path) -> None:
    """Delete a run with everything stored for it, and the impact runs built on it (audited).

    First the runs stop (status ``failed``, committed): an importer's next chunk and a worker's next
    claim see it and stop, and on PostgreSQL the status update's row lock orders an importer's chunk
    in flight before the deletion. Then everything goes in one transaction."""
    ids = [run.id]
    frontier = [run.id]
    while frontier:  # impact runs built on it, and on those
        found = db.scalars(
            select(ScreeningRun.id).where(
                (ScreeningRun.source_run_id.in_(frontier)) | (ScreeningRun.baseline_run_id.in_(frontier)),
                ScreeningRun.id.not_in(ids),
            )
        ).all()
        ids.extend(found)
        frontier = list(found)
    before = {
        "kind": run.kind,
        "title": run.title,
        "filename": run.filename,
        "status": run.status,
        "rows": run.total_rows,
        "rule_pack_version": run.rule_pack_version,
        "created_by": run.created_by_name,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "decisions": db.scalar(
            select(func.count()).select_from(ReviewDecision).where(ReviewDecision.run_id.in_(ids))
        )
        or 0,
        "results": db.scalar(
            select(func.count()).select_from(ScreeningResult).where(ScreeningResult.run_id.in_(ids))
        )
        or 0,
        "dependent_runs": ids[1:],
    }
    db.execute(
        update(ScreeningRun)
        .where(ScreeningRun.id.in_(ids))
        .values(status="failed", error={"zh": "已删除", "en": "deleted"})
    )
    db.commit()
    uploads = [p for p in db.scalars(select(ScreeningRun.upload_path).where(ScreeningRun.id.in_(ids))) if p]
    for model in (ReviewDecision, ScreeningResult, ScreeningChunk, ScreeningRow):
        db.execute(delete(model).where(model.run_id.in_(ids)))
    for rid in reversed(ids):  # runs built on others first (their foreign keys)
        db.execute(delete(ScreeningRun).where(ScreeningRun.id == rid))
    audit.record(db, principal, "screening.delete", "screening", run.id, before=before)
    db.commit()
    for p in uploads:
        path = Path(p)
        if path.parent.resolve() == upload_dir.resolve():
            path.unlink(missing_ok=True)


def list_runs(db: Session, kind: str | None, limit: int, offset: int) -> tuple[list[ScreeningRun], int]:
    q = select(ScreeningRun)
    c = select(func.count()).select_from(ScreeningRun)
    if kind:
        q = q.where(ScreeningRun.kind == kind)
        c = c.where(ScreeningRun.kind == kind)
    rows = db.scalars(
        q.order_by(ScreeningRun.created_at.desc(), ScreeningRun.id).limit(limit).offset(offset)
    ).all()
    return list(rows), db.scalar(c) or 0


def _like_id(criterion: str) -> str:
    return "%," + criterion.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ",%"


def check_criterion(criterion: str) -> None:
    if not _CRITERION_ID.fullmatch(criterion):
        raise ApiProblem(
            "validation-error",
            ("条件编号格式不对", "malformed criterion id"),
            errors=[
                {
                    "field": "criterion",
                    "location": "query",
                    "message": "字母、数字、_ . -",
                    "value": criterion,
                }
            ],
        )


def _label(outcome: str, lang: str) -> str:
    return pick(OUTCOMES[outcome], lang) if outcome in OUTCOMES else outcome


def result_public(r: ScreeningResult, row: Any, lang: str) -> dict[str, Any]:
    return {
        "row": r.row_no,
        "credit_code": row.credit_code if row is not None else r.credit_code,
        "name": row.name if row is not None else None,
        "region_code": r.region_code,
        "district": region_name(r.region_code, lang),
        "measure_id": r.measure_id,
        "subject": {"kind": r.subject_kind, "id": r.subject_id or None},
        "outcome": r.outcome,
        "outcome_label": _label(r.outcome, lang),
        "failed_criteria": [x for x in r.failed.split(",") if x],
        "benefit_amount": r.benefit_amount,
        "benefit_tier": r.benefit_tier,
        "rule_pack_version": r.rule_pack_version,
        "reasons": reasons(r.outcome, r.detail),
        "detail": r.detail,
    }


def query_results(
    db: Session,
    run: ScreeningRun,
    lang: str,
    measure: str | None,
    outcome: str | None,
    criterion: str | None,
    region_code: str | None,
    credit_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    conds = [ScreeningResult.run_id == run.id]
    if measure:
        conds.append(ScreeningResult.measure_id == measure)
    if outcome:
        conds.append(ScreeningResult.outcome == outcome)
    if criterion:
        check_criterion(criterion)
        conds.append(ScreeningResult.failed.like(_like_id(criterion), escape="\\"))
    if region_code:
        conds.append(ScreeningResult.region_code == region_code)
    if credit_code:
        conds.append(ScreeningResult.credit_code == credit_code)
    total = db.scalar(select(func.count()).select_from(ScreeningResult).where(*conds)) or 0
    src = run.source_run_id or run.id
    q = (
        select(ScreeningResult, ScreeningRow.credit_code, ScreeningRow.name)
        .outerjoin(
            ScreeningRow,
            and_(ScreeningRow.run_id == src, ScreeningRow.row_no == ScreeningResult.row_no),
        )
        .where(*conds)
        .order_by(ScreeningResult.row_no, ScreeningResult.measure_id, ScreeningResult.subject_id)
        .limit(limit)
        .offset(offset)
    )
    items = [result_public(r, _Row(cc, name), lang) for r, cc, name in db.execute(q)]
    return items, total


class _Row:
    __slots__ = ("credit_code", "name")

    def __init__(self, credit_code: str | None, name: str | None) -> None:
        self.credit_code = credit_code
        self.name = name


def list_errors(db: Session, run: ScreeningRun, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    src = run.source_run_id or run.id
    conds = [ScreeningRow.run_id == src, ScreeningRow.valid.is_(False)]
    total = db.scalar(select(func.count()).select_from(ScreeningRow).where(*conds)) or 0
    rows = db.scalars(
        select(ScreeningRow).where(*conds).order_by(ScreeningRow.row_no).limit(limit).offset(offset)
    )
    return [
        {
            "row": r.row_no,
            "credit_code": r.credit_code,
            "name": r.name,
            "errors": r.errors or [],
            "cells": r.raw or {},
        }
        for r in rows
    ], total


def row_detail(db: Session, run: ScreeningRun, row_no: int, lang: str) -> dict[str, Any]:
    src = run.source_run_id or run.id
    row = db.get(ScreeningRow, (src, row_no))
    if row is None:
        raise _problem(
            "not-found", f"筛查 {run.id} 没有第 {row_no} 行", f"screening {run.id} has no row {row_no}"
        )
    results = db.scalars(
        select(ScreeningResult)
        .where(ScreeningResult.run_id == run.id, ScreeningResult.row_no == row_no)
        .order_by(ScreeningResult.measure_id, ScreeningResult.subject_id)
    ).all()
    decisions = db.scalars(
        select(ReviewDecision)
        .where(ReviewDecision.run_id == run.id, ReviewDecision.row_no == row_no)
        .order_by(ReviewDecision.id)
    ).all()
    return {
        "row": row.row_no,
        "valid": row.valid,
        "credit_code": row.credit_code,
        "name": row.name,
        "region_code": row.region_code,
        "district": region_name(row.region_code, lang),
        "cells": row.raw or {},
        "errors": row.errors or [],
        "evaluation_error": row.eval_error,
        "profile": row.profile,
        "results": [result_public(r, row, lang) for r in results],
        "decisions": [decision_public(d, lang) for d in decisions],
    }


# ------------------------------------------------------------------ reasons in words


def reasons(outcome: str, detail: dict[str, Any] | None) -> str:
    """Why, in the run's language: the criteria not met, the facts missing, what a person must judge."""
    detail = detail or {}
    crit = detail.get("criteria") or []
    if outcome == "ineligible":
        return "；".join(c.get("explanation", c.get("id", "")) for c in crit if fails(c))
    if outcome == "undetermined":
        labels = detail.get("missing_labels") or detail.get("missing") or []
        return "缺少：" + "、".join(labels) if labels else ""
    if outcome == "needs_review":  # the criteria a person must judge (a ``not`` around one repeats it)
        return "；".join(
            c.get("explanation", "")
            for c in crit
            if c.get("status") == "manual_review" and c.get("kind") != "not"
        )
    if outcome == "eligible":
        b = detail.get("benefit") or {}
        bits = [x for x in (b.get("tier_label"), b.get("amount_display")) if x]
        return "预计：" + " ".join(bits) if bits else ""
    return ""


def cell_text(
    items: list[ScreeningResult], decisions: dict[tuple[str, str], ReviewDecision], lang: str
) -> str:
    parts = []
    for r in items:
        text = _label(r.outcome, lang)
        why = reasons(r.outcome, r.detail)
        if why:
            text += ("：" if lang != "en" else ": ") + why
        if r.subject_kind == "project" and r.subject_id:
            text = (f"项目 {r.subject_id}：" if lang != "en" else f"project {r.subject_id}: ") + text
        d = decisions.get((r.measure_id, r.subject_id))
        if d is not None:
            word = pick(DECISIONS[d.decision], lang)
            text += f"【审核：{word}（{d.reason}）】" if lang != "en" else f" [review: {word} ({d.reason})]"
        parts.append(text)
    return "\n".join(parts)


# ------------------------------------------------------------------ export


def measure_columns(run: ScreeningRun, engine: Engine, lang: str, db: Session) -> list[tuple[str, str]]:
    ids = run.measures or sorted(
        db.scalars(
            select(ScreeningResult.measure_id).where(ScreeningResult.run_id == run.id).distinct()
        ).all()
    )
    if not run.measures:
        order = {m: i for i, m in enumerate(_pack_order(engine))}
        ids = sorted(ids, key=lambda m: (order.get(m, 10_000), m))
    out = []
    for mid in ids:
        m = engine.pack.measures.get(mid)
        out.append((mid, m.title.get(lang) if m is not None else mid))
    return out


def _pack_order(engine: Engine) -> list[str]:
    ms = engine.pack.measures
    return sorted(ms, key=lambda m: (ms[m].issuer != "national", m))


def export_rows(db: Session, run: ScreeningRun, engine: Engine, lang: str) -> Iterator[list[Any]]:
    """The header, then one row per application with one column per measure, streamed in batches."""
    columns = measure_columns(run, engine, lang, db)
    en = lang == "en"
    head = (
        ["row", "credit_code", "name", "region_code", "district", "data errors"]
        if en
        else ["行号", "统一社会信用代码", "企业名称", "注册地行政区划代码", "区县", "数据错误"]
    )
    yield head + [title for _, title in columns]
    src = run.source_run_id or run.id
    after = 0
    while True:
        rows = db.scalars(
            select(ScreeningRow)
            .where(ScreeningRow.run_id == src, ScreeningRow.row_no > after)
            .order_by(ScreeningRow.row_no)
            .limit(500)
        ).all()
        if not rows:
            return
        first, last = rows[0].row_no, rows[-1].row_no
        by_row: dict[int, dict[str, list[ScreeningResult]]] = defaultdict(lambda: defaultdict(list))
        for r in db.scalars(
            select(ScreeningResult)
            .where(ScreeningResult.run_id == run.id, ScreeningResult.row_no.between(first, last))
            .order_by(ScreeningResult.row_no, ScreeningResult.measure_id, ScreeningResult.subject_id)
        ):
            by_row[r.row_no][r.measure_id].append(r)
        decided: dict[int, dict[tuple[str, str], ReviewDecision]] = defaultdict(dict)
        for d in db.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.run_id == run.id, ReviewDecision.row_no.between(first, last))
            .order_by(ReviewDecision.id)
        ):
            decided[d.row_no][(d.measure_id, d.subject_id)] = d  # the latest wins
        for row in rows:
            errors = "；".join(
                f"{e.get('column') or ''}{' ' if e.get('column') else ''}{e.get('header') or e.get('field')}：{e.get('reason')}"
                for e in row.errors or []
            )
            if row.eval_error:
                errors = (errors + "；" if errors else "") + str(row.eval_error.get("detail", ""))
            line: list[Any] = [
                row.row_no,
                row.credit_code,
                row.name,
                row.region_code,
                region_name(row.region_code, lang),
                errors,
            ]
            for mid, _ in columns:
                line.append(cell_text(by_row[row.row_no].get(mid, []), decided[row.row_no], lang))
            yield line
        after = last


def write_export(db: Session, run: ScreeningRun, engine: Engine, fmt: str, lang: str, out: Path) -> None:
    rows = export_rows(db, run, engine, lang)
    if fmt == "csv":
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            for line in rows:
                w.writerow(["" if v is None else _safe_cell(v) for v in line])
        return
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("筛查结果" if lang != "en" else "results")
    header = next(rows)
    for i in range(len(header)):
        from intake import column_letter

        ws.column_dimensions[column_letter(i)].width = 14 if i < 6 else 40
    ws.freeze_panes = "D2"
    bold = Font(bold=True)
    cells = []
    for h in header:
        c = WriteOnlyCell(ws, value=_safe_cell(h))
        c.font = bold
        cells.append(c)
    ws.append(cells)
    wrap = Alignment(wrap_text=True, vertical="top")
    for line in rows:
        out_cells = []
        for i, v in enumerate(line):
            c = WriteOnlyCell(ws, value=_safe_cell(v))
            if i >= 5:
                c.alignment = wrap
            out_cells.append(c)
        ws.append(out_cells)
    wb.save(out)


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# what makes a spreadsheet read a cell as a formula (OWASP's CSV injection list), also after spaces
_FORMULA_START = re.compile(r"^[\s\u3000]*[=+\-@\t\r]|^[\t\r]")


def _safe_cell(v: Any) -> Any:
    """Text as a spreadsheet keeps it, in every export format: no control characters, and never a
    formula (=, +, -, @, tab or carriage return first, spaces before them included): such a cell
    gets a leading apostrophe, which Excel, WPS and LibreOffice read as "this is text". An
    enterprise naming itself =HYPERLINK(…) must not put a live link into a reviewer's export."""
    if isinstance(v, str):
        if _FORMULA_START.match(v):
            v = "'" + v
        v = _ILLEGAL.sub("", v)
    return v


def record_export(db: Session, principal: Principal, run: ScreeningRun, fmt: str, lang: str) -> None:
    audit.record(db, principal, "screening.export", "screening", run.id, after={"format": fmt, "lang": lang})
    db.commit()


# ------------------------------------------------------------------ review


def decision_public(d: ReviewDecision, lang: str) -> dict[str, Any]:
    return {
        "id": d.id,
        "run_id": d.run_id,
        "row": d.row_no,
        "measure_id": d.measure_id,
        "subject_id": d.subject_id or None,
        "decision": d.decision,
        "decision_label": pick(DECISIONS[d.decision], lang),
        "reason": d.reason,
        "override_reason": d.override_reason,
        "automatic_outcome": d.automatic_outcome,
        "automatic_outcome_label": _label(d.automatic_outcome, lang),
        "is_override": _is_override(d.decision, d.automatic_outcome),
        "rule_pack_version": d.rule_pack_version,
        "benefit_amount": d.benefit_amount,
        "decided_by": d.decided_by_name,
        "decided_at": d.decided_at,
    }


def _is_override(decision: str, outcome: str) -> bool:
    return (decision == "approve" and outcome in NOT_ELIGIBLE) or (
        decision == "reject" and outcome == "eligible"
    )


def decide(
    db: Session,
    principal: Principal,
    run: ScreeningRun,
    row_no: int,
    measure_id: str,
    subject_id: str,
    decision: str,
    reason: str,
    override_reason: str | None,
) -> ReviewDecision:
    if run.kind != "applications":
        raise _problem(
            "conflict", "只能对申报筛查做审核决定", "decisions are made on application screenings only"
        )
    # the decision this one supersedes (the audit entry's "before") is read under a lock on the
    # result: FOR UPDATE on PostgreSQL, the write gate on SQLite; concurrent decisions on the same
    # application then follow one another, each seeing the one before
    take_write_gate(db)
    result = db.scalar(
        select(ScreeningResult)
        .where(
            ScreeningResult.run_id == run.id,
            ScreeningResult.row_no == row_no,
            ScreeningResult.measure_id == measure_id,
            ScreeningResult.subject_id == subject_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if result is None:
        raise _problem(
            "not-found",
            f"第 {row_no} 行没有措施 {measure_id}{'（项目 ' + subject_id + '）' if subject_id else ''} 的筛查结果",
            f"row {row_no} has no result for {measure_id}{' (project ' + subject_id + ')' if subject_id else ''}",
        )
    override_reason = (override_reason or "").strip() or None
    if decision == "approve" and result.outcome in NOT_ELIGIBLE and not override_reason:
        word = pick(OUTCOMES[result.outcome], "zh")
        raise ApiProblem(
            "validation-error",
            (
                f"自动结论为“{word}”，同意须填写改判理由（override_reason）",
                f"the automatic outcome is {result.outcome}: approving it needs an override_reason",
            ),
            errors=[
                {
                    "field": "override_reason",
                    "location": "body",
                    "message": "推翻自动结论须说明理由 / overriding the automatic outcome needs a reason",
                    "value": None,
                }
            ],
        )
    previous = db.scalar(
        select(ReviewDecision)
        .where(
            ReviewDecision.run_id == run.id,
            ReviewDecision.row_no == row_no,
            ReviewDecision.measure_id == measure_id,
            ReviewDecision.subject_id == subject_id,
        )
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    )
    d = ReviewDecision(
        run_id=run.id,
        row_no=row_no,
        measure_id=measure_id,
        subject_id=subject_id,
        decision=decision,
        reason=reason,
        override_reason=override_reason,
        automatic_outcome=result.outcome,
        rule_pack_version=result.rule_pack_version,
        benefit_amount=result.benefit_amount,
        decided_by=principal.user_id,
        decided_by_name=principal.username,
        decided_at=utcnow(),
    )
    db.add(d)
    db.flush()
    target = f"{run.id}/{row_no}/{measure_id}" + (f"/{subject_id}" if subject_id else "")
    before = {
        "automatic_outcome": result.outcome,
        "decision": previous.decision if previous else None,
        "reason": previous.reason if previous else None,
    }
    after = {"decision": decision, "reason": reason, "override_reason": override_reason, "decision_id": d.id}
    audit.record(db, principal, "review.decision", "review", target, before=before, after=after)
    if _is_override(decision, result.outcome):
        audit.record(db, principal, "review.override", "review", target, before=before, after=after)
    db.commit()
    return d


def list_decisions(
    db: Session, run: ScreeningRun, limit: int, offset: int
) -> tuple[list[ReviewDecision], int]:
    conds = [ReviewDecision.run_id == run.id]
    total = db.scalar(select(func.count()).select_from(ReviewDecision).where(*conds)) or 0
    rows = db.scalars(
        select(ReviewDecision).where(*conds).order_by(ReviewDecision.id).limit(limit).offset(offset)
    )
    return list(rows), total


# ------------------------------------------------------------------ reports


def criterion_labels(engine: Engine, measure_id: str, lang: str) -> dict[str, str]:
    m = engine.pack.measures.get(measure_id)
    out: dict[str, str] = {}
    if m is None:
        return out

    def visit(node: Any) -> None:
        out[node.id] = node.label.get(lang)
        if isinstance(node, Group):
            for child in node.children:
                visit(child)

    visit(m.criteria)
    return out


def _sum(values: list[str | None]) -> Decimal:
    return sum((Decimal(v) for v in values if v is not None), Decimal(0))


def benefit_sums(db: Session, run_id: str, measure: str | None = None) -> dict[str, dict[str, Decimal]]:
    """Per measure: the benefit amounts of eligible and of needs-review results (exact, in 万元)."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"eligible": Decimal(0), "needs_review": Decimal(0)}
    )
    q = select(ScreeningResult.measure_id, ScreeningResult.outcome, ScreeningResult.benefit_amount).where(
        ScreeningResult.run_id == run_id,
        ScreeningResult.outcome.in_(("eligible", "needs_review")),
        ScreeningResult.benefit_amount.is_not(None),
    )
    if measure:
        q = q.where(ScreeningResult.measure_id == measure)
    for mid, outcome, amount in db.execute(q.execution_options(yield_per=5000)):
        sums[mid][outcome] += Decimal(amount)
    return sums


def funnel(combos: Counter[frozenset[str]], total: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Greedy attrition funnel: the criterion that excludes most of those still in, then the next."""
    fails: Counter[str] = Counter()
    for combo, n in combos.items():
        for c in combo:
            fails[c] += n
    remaining = dict(combos)
    left = total
    steps = []
    while remaining:
        counts: Counter[str] = Counter()
        for combo, n in remaining.items():
            for c in combo:
                counts[c] += n
        crit, excluded = max(counts.items(), key=lambda kv: (kv[1], -ord(kv[0][0]) if kv[0] else 0, kv[0]))
        remaining = {k: v for k, v in remaining.items() if crit not in k}
        left -= excluded
        steps.append({"criterion": crit, "excluded": excluded, "remaining": left})
    return steps, dict(fails)


def report(db: Session, run: ScreeningRun, engine: Engine, lang: str, measure: str | None) -> dict[str, Any]:
    conds = [ScreeningResult.run_id == run.id]
    if measure:
        conds.append(ScreeningResult.measure_id == measure)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for mid, outcome, n in db.execute(
        select(ScreeningResult.measure_id, ScreeningResult.outcome, func.count())
        .where(*conds)
        .group_by(ScreeningResult.measure_id, ScreeningResult.outcome)
    ):
        counts[mid][outcome] = n
    applicants: dict[str, int] = dict(
        db.execute(
            select(ScreeningResult.measure_id, func.count(func.distinct(ScreeningResult.row_no)))
            .where(*conds)
            .group_by(ScreeningResult.measure_id)
        ).all()
    )
    combos: dict[str, Counter[frozenset[str]]] = defaultdict(Counter)
    for mid, failed, n in db.execute(
        select(ScreeningResult.measure_id, ScreeningResult.failed, func.count())
        .where(*conds, ScreeningResult.failed != "")
        .group_by(ScreeningResult.measure_id, ScreeningResult.failed)
    ):
        combos[mid][frozenset(x for x in failed.split(",") if x)] += n
    districts: dict[str, dict[str | None, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for mid, region, outcome, n in db.execute(
        select(ScreeningResult.measure_id, ScreeningResult.region_code, ScreeningResult.outcome, func.count())
        .where(*conds)
        .group_by(ScreeningResult.measure_id, ScreeningResult.region_code, ScreeningResult.outcome)
    ):
        districts[mid][region][outcome] = n
    sums = benefit_sums(db, run.id, measure)
    approved = approved_sums(db, run.id, measure)
    order = {m: i for i, m in enumerate(_pack_order(engine))}
    measures_out = []
    for mid in sorted(counts, key=lambda m: (order.get(m, 10_000), m)):
        m = engine.pack.measures.get(mid)
        labels = criterion_labels(engine, mid, lang)
        total = sum(counts[mid].values())
        steps, fails = funnel(combos[mid], total)
        for s in steps:
            s["label"] = labels.get(s["criterion"], s["criterion"])
        top = max(fails.items(), key=lambda kv: (kv[1], kv[0])) if fails else None
        measures_out.append(
            {
                "measure_id": mid,
                "title": m.title.get(lang) if m else mid,
                "subjects": total,
                "applicants": applicants.get(mid, 0),
                "by_outcome": {
                    o: {"count": counts[mid].get(o, 0), "label": pick(OUTCOMES[o], lang)} for o in OUTCOMES
                },
                "benefit_forecast": {
                    "eligible": format(sums[mid]["eligible"], "f"),
                    "needs_review": format(sums[mid]["needs_review"], "f"),
                    "approved": format(approved.get(mid, Decimal(0)), "f"),
                    "unit": "万元",
                },
                "top_excluding_criterion": (
                    {"criterion": top[0], "label": labels.get(top[0], top[0]), "excluded": top[1]}
                    if top
                    else None
                ),
                "funnel": steps,
                "criteria_failed": [
                    {"criterion": c, "label": labels.get(c, c), "count": n}
                    for c, n in sorted(fails.items(), key=lambda kv: (-kv[1], kv[0]))
                ],
                "by_district": [
                    {
                        "region_code": region,
                        "district": region_name(region, lang),
                        "by_outcome": dict(cnt),
                        "total": sum(cnt.values()),
                    }
                    for region, cnt in sorted(
                        districts[mid].items(), key=lambda kv: (kv[0] is None, kv[0] or "")
                    )
                ],
            }
        )
    total_budget = sum((sums[m]["eligible"] for m in sums), Decimal(0))
    return {
        "run_id": run.id,
        "status": run.status,
        "rule_pack_version": run.rule_pack_version,
        "as_of": run.as_of,
        "rows": run.total_rows,
        "evaluated": run.valid_rows,
        "invalid": run.invalid_rows,
        "benefit_forecast_total": format(total_budget, "f"),
        "measures": measures_out,
    }


def approved_sums(db: Session, run_id: str, measure: str | None) -> dict[str, Decimal]:
    """Benefit of the applications whose latest review decision is approve."""
    latest = (
        select(func.max(ReviewDecision.id))
        .where(ReviewDecision.run_id == run_id)
        .group_by(ReviewDecision.row_no, ReviewDecision.measure_id, ReviewDecision.subject_id)
    )
    q = select(ReviewDecision.measure_id, ReviewDecision.benefit_amount).where(
        ReviewDecision.id.in_(latest), ReviewDecision.decision == "approve"
    )
    if measure:
        q = q.where(ReviewDecision.measure_id == measure)
    out: dict[str, Decimal] = defaultdict(Decimal)
    for mid, amount in db.execute(q):
        if amount is not None:
            out[mid] += Decimal(amount)
    return out


# ------------------------------------------------------------------ impact


def impact(
    db: Session, run: ScreeningRun, lang: str, measure: str | None, limit: int, offset: int
) -> dict[str, Any]:
    if run.kind != "impact" or not run.baseline_run_id:
        raise _problem("not-found", "这不是影响分析", "this screening is not an impact run")
    base = aliased(ScreeningResult)
    new = aliased(ScreeningResult)
    join = and_(
        new.run_id == run.id,
        new.row_no == base.row_no,
        new.measure_id == base.measure_id,
        new.subject_id == base.subject_id,
    )
    conds = [base.run_id == run.baseline_run_id, base.outcome != new.outcome]
    if measure:
        conds.append(base.measure_id == measure)
    total = db.scalar(select(func.count()).select_from(base).join(new, join).where(*conds)) or 0
    src = run.source_run_id
    q = (
        select(base, new.outcome, new.benefit_amount, new.detail, ScreeningRow.credit_code, ScreeningRow.name)
        .join(new, join)
        .outerjoin(ScreeningRow, and_(ScreeningRow.run_id == src, ScreeningRow.row_no == base.row_no))
        .where(*conds)
        .order_by(base.row_no, base.measure_id, base.subject_id)
        .limit(limit)
        .offset(offset)
    )
    items = []
    for b, after, after_amount, after_detail, cc, name in db.execute(q):
        items.append(
            {
                "row": b.row_no,
                "credit_code": cc,
                "name": name,
                "region_code": b.region_code,
                "measure_id": b.measure_id,
                "subject": {"kind": b.subject_kind, "id": b.subject_id or None},
                "before": b.outcome,
                "before_label": _label(b.outcome, lang),
                "after": after,
                "after_label": _label(after, lang),
                "benefit_before": b.benefit_amount if b.outcome == "eligible" else None,
                "benefit_after": after_amount if after == "eligible" else None,
                "reasons_after": reasons(after, after_detail),
            }
        )
    before_sums = benefit_sums(db, run.baseline_run_id, measure)
    after_sums = benefit_sums(db, run.id, measure)
    budget = []
    for mid in sorted(set(before_sums) | set(after_sums) | ({measure} if measure else set())):
        b = before_sums[mid]["eligible"] if mid in before_sums else Decimal(0)
        a = after_sums[mid]["eligible"] if mid in after_sums else Decimal(0)
        budget.append(
            {
                "measure_id": mid,
                "before": format(b, "f"),
                "after": format(a, "f"),
                "difference": format(a - b, "f"),
            }
        )
    flips = Counter()
    for mid, before, after, n in db.execute(
        select(base.measure_id, base.outcome, new.outcome, func.count())
        .join(new, join)
        .where(*conds)
        .group_by(base.measure_id, base.outcome, new.outcome)
    ):
        flips[(mid, before, after)] = n
    diff_total = sum((Decimal(x["difference"]) for x in budget), Decimal(0))
    return {
        "run_id": run.id,
        "baseline_run_id": run.baseline_run_id,
        "status": run.status,
        "overrides": run.overrides,
        "rule_pack_version": run.rule_pack_version,
        "changed": total,
        "transitions": [
            {"measure_id": m, "before": b, "after": a, "count": n} for (m, b, a), n in sorted(flips.items())
        ],
        "budget": budget,
        "budget_difference_total": format(diff_total, "f"),
        "unit": "万元",
        "items": items,
        "limit": limit,
        "offset": offset,
    }


# ------------------------------------------------------------------ proactive


def proactive_candidates(
    db: Session, run: ScreeningRun, lang: str, measure: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    if run.kind != "proactive":
        raise _problem("not-found", "这不是免申即享匹配", "this screening is not a proactive matching run")
    applied = aliased(ScreeningResult)
    app_run = aliased(ScreeningRun)
    r = ScreeningResult
    not_applied = ~exists(
        select(applied.run_id)
        .join(app_run, app_run.id == applied.run_id)
        .where(
            app_run.kind == "applications",
            applied.credit_code == r.credit_code,
            applied.measure_id == r.measure_id,
        )
    )
    conds = [r.run_id == run.id, r.outcome == "eligible", not_applied]
    if measure:
        conds.append(r.measure_id == measure)
    total = db.scalar(select(func.count()).select_from(r).where(*conds)) or 0
    q = (
        select(r, ScreeningRow.name)
        .outerjoin(ScreeningRow, and_(ScreeningRow.run_id == run.id, ScreeningRow.row_no == r.row_no))
        .where(*conds)
        .order_by(r.measure_id, r.credit_code, r.subject_id)
        .limit(limit)
        .offset(offset)
    )
    items = [
        {
            "credit_code": res.credit_code,
            "name": name,
            "region_code": res.region_code,
            "district": region_name(res.region_code, lang),
            "measure_id": res.measure_id,
            "subject": {"kind": res.subject_kind, "id": res.subject_id or None},
            "benefit_amount": res.benefit_amount,
            "reasons": reasons(res.outcome, res.detail),
        }
        for res, name in db.execute(q)
    ]
    return items, total


def upload_cleanup(path: str | os.PathLike[str]) -> None:
    Path(path).unlink(missing_ok=True)


def finish(db_engine: DbEngine, run_id: str) -> None:
    finish_if_complete(db_engine, run_id)


def template_bytes(fmt: str, lang: str, years: list[int]) -> bytes:
    from intake import write_template

    buf = io.BytesIO()
    write_template(fmt, buf, lang, years)
    return buf.getvalue()
