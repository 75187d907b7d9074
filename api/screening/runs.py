"""Screening runs: who may screen, create one (upload, rule-change impact, proactive matching), read,
list and delete them."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engine import Engine
from engine.vocabulary import pick
from intake import TableError, check_xlsx_archive, detect_format

from .. import audit
from ..db import utcnow
from ..errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, UnknownMeasures
from ..principal import Principal
from .models import ReviewDecision, ScreeningChunk, ScreeningRow, ScreeningRun
from .settings import ScreeningSettings
from .store import FRAMES
from .work import Evaluators, progress

STATUS_LABELS = {
    "importing": ("导入中", "importing"),
    "queued": ("排队中", "queued"),
    "running": ("筛查中", "running"),
    "done": ("已完成", "done"),
    "failed": ("失败", "failed"),
}


def new_id() -> str:
    return uuid.uuid4().hex


# ------------------------------------------------------------------ access


def ensure_bureau(principal: Principal) -> None:
    if principal.role not in ("reviewer", "admin"):
        raise Forbidden(
            "批量筛查只对科技局审核人员和管理员开放",
            "bulk screening is for the bureau's reviewers and administrators",
        )


def get_run(db: Session, run_id: str) -> ScreeningRun:
    run = db.get(ScreeningRun, run_id) if re.fullmatch(r"[0-9a-f]{32}", run_id) else None
    if run is None:
        raise NotFound(f"没有编号为 {run_id} 的筛查", f"no screening with id {run_id}")
    return run


def check_measures(engine: Engine, measures: list[str] | None, field: str = "measures") -> None:
    unknown = [m for m in measures or [] if m not in engine.pack.measures]
    if unknown:
        ids = ", ".join(unknown)
        raise UnknownMeasures(
            f"规则包中没有这些措施：{ids}（GET /v1/measures 列出全部）",
            f"no such measures: {ids}",
            [
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


def too_large(limit: int) -> TooLarge:
    mb = limit / (1024 * 1024)
    return TooLarge(
        f"文件超过大小上限 {mb:.0f} MB（{limit} 字节），请拆分后分批上传",
        f"the file exceeds the limit of {mb:.0f} MB ({limit} bytes); split it into several uploads",
    )


def _file_error(e: TableError, lang: str) -> Invalid:
    return Invalid(
        e.zh,
        e.en,
        [{"field": "file", "location": "body", "message": pick((e.zh, e.en), lang), "value": None}],
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
        raise _file_error(e, lang) from None
    path = settings.upload_dir / f"{run_id}.{fmt}"
    size = save_upload(src, path, settings.max_upload_bytes)
    if fmt == "xlsx":
        try:
            with path.open("rb") as fh:
                check_xlsx_archive(fh, settings.limits())
        except TableError as e:
            path.unlink(missing_ok=True)
            raise _file_error(e, lang) from None
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
    """A run that evaluates the baseline's rows again, under other rules: each of its chunks is
    one of the baseline's chunks of profiles, so nothing is copied."""
    if baseline.status != "done":
        raise Conflict(
            "只能对已完成的筛查做规则变更影响分析",
            "the impact of a rule change can be computed only for a finished screening",
        )
    version = rule_pack_version or next(iter(evaluators.engines))
    engine = evaluators.get(version)
    if engine is None:
        raise Invalid(
            f"没有版本为 {version} 的规则包",
            f"no rule pack of version {version}",
            [
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
    for chunk_no, first, last, rows in db.execute(
        select(
            ScreeningChunk.chunk_no, ScreeningChunk.first_row, ScreeningChunk.last_row, ScreeningChunk.rows
        ).where(ScreeningChunk.run_id == source, ScreeningChunk.rows > 0)
    ):
        db.add(
            ScreeningChunk(
                run_id=run.id,
                chunk_no=chunk_no,
                first_row=first,
                last_row=last,
                rows=rows,
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
        return (
            "不是有效的数值，或超出可比较的范围",
            "not a valid number, or out of the range that can be compared",
        )
    return "无法应用", "cannot be applied"


def check_overrides(engine: Engine, as_of: dt.date, overrides: dict[str, Any]) -> None:
    """Refuse the overrides that do not compile, naming each and why (a key at a time, so that the
    field is named)."""
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
        errors.append(
            {"field": "overrides", "location": "body", "message": "组合无法应用 / cannot be combined"}
        )
    first = errors[0]["message"].split(" / ")
    raise Invalid(
        f"参数覆盖无效：{errors[0]['field']}：{first[0]}",
        f"invalid parameter override: {errors[0]['field']}: {first[-1]}",
        errors,
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
        "evaluated_rows": db.scalar(
            select(func.coalesce(func.sum(ScreeningChunk.rows), 0)).where(
                ScreeningChunk.run_id.in_(ids), ScreeningChunk.status == "done"
            )
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
    for model in (ReviewDecision, ScreeningChunk, ScreeningRow):
        db.execute(delete(model).where(model.run_id.in_(ids)))
    for rid in reversed(ids):  # runs built on others first (their foreign keys)
        db.execute(delete(ScreeningRun).where(ScreeningRun.id == rid))
    audit.record(db, principal, "screening.delete", "screening", run.id, before=before)
    db.commit()
    FRAMES.clear()
    for p in uploads:
        path = Path(p)
        if path.parent.resolve() == upload_dir.resolve():
            path.unlink(missing_ok=True)
