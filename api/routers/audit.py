from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select

from .. import audit
from ..deps import AdminDep, PageDep, QueryLang, SessionDep, use_lang
from ..routing import CheckedJSONRoute
from ..schemas.common import Page
from ..screening.schemas import AuditEntryPublic

router = APIRouter(route_class=CheckedJSONRoute, prefix="/audit", tags=["audit"])


@router.get(
    "",
    response_model=Page[AuditEntryPublic],
    summary="审计日志 / the audit log",
    operation_id="listAuditEntries",
)
def list_audit(
    request: Request,
    db: SessionDep,
    _admin: AdminDep,
    page: PageDep,
    action: Annotated[str | None, Query(max_length=40, description="如 review.override")] = None,
    target_id: Annotated[
        str | None, Query(max_length=120, description="对象编号（前缀）/ target id prefix")
    ] = None,
    actor: Annotated[str | None, Query(max_length=64, description="操作人 / who")] = None,
    since: Annotated[dt.datetime | None, Query(description="起始时间 / from")] = None,
    until: Annotated[dt.datetime | None, Query(description="截止时间 / until")] = None,
    lang: QueryLang = None,
) -> dict[str, Any]:
    """只增不改：导入、筛查、审核决定、改判、导出、规则包变更，谁、何时、做了什么、前后如何。
    接口只提供查询；数据库触发器拒绝修改和删除。最新的在前。

    Append-only: who, when, what, before and after. Read-only here; the database refuses UPDATE and
    DELETE. Newest first."""
    lang = use_lang(request, lang)
    conds = []
    if action:
        conds.append(audit.AuditEntry.action == action)
    if target_id:
        conds.append(audit.AuditEntry.target_id.startswith(target_id, autoescape=True))
    if actor:
        conds.append(audit.AuditEntry.actor == actor)
    if since:
        conds.append(audit.AuditEntry.at >= _aware(since))
    if until:
        conds.append(audit.AuditEntry.at <= _aware(until))
    total = db.scalar(select(func.count()).select_from(audit.AuditEntry).where(*conds)) or 0
    rows = db.scalars(
        select(audit.AuditEntry)
        .where(*conds)
        .order_by(audit.AuditEntry.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    ).all()
    return {
        "items": [audit.public(e, lang) for e in rows],
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
    }


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
