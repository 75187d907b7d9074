"""Evaluate, store, read back, list and replay evaluations."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import Engine, UnknownMeasure
from engine.profile import Profile

from ..deps import Principal
from ..models import Evaluation, User
from ..problems import ApiProblem
from .access import can_read, not_found
from .compare import compare

_ID = re.compile(r"[0-9a-f]{32}")


def run(
    engine: Engine,
    profile: Profile | dict[str, Any],
    as_of: dt.date | None,
    measures: list[str] | None,
    lang: str,
    detail: str = "full",
) -> dict[str, Any]:
    try:
        return engine.evaluate(profile, as_of, measures, lang, detail=detail)
    except UnknownMeasure as e:
        ids = ", ".join(e.ids)
        raise ApiProblem(
            "unknown-measure",
            (
                f"规则包中没有这些措施：{ids}（GET /v1/measures 列出全部）",
                f"no such measures in the rule pack: {ids} (GET /v1/measures lists them)",
            ),
            errors=[
                {
                    "field": "measures",
                    "location": "body",
                    "message": f"未知措施 / unknown measure: {i}",
                    "value": i,
                }
                for i in e.ids
            ],
        ) from None


def public(result: dict[str, Any], ev: Evaluation | None = None) -> dict[str, Any]:
    return {
        **result,
        "id": ev.id if ev else None,
        "stored": ev is not None,
        "created_at": ev.created_at if ev else None,
    }


def store(
    db: Session,
    principal: Principal,
    profile: Profile,
    result: dict[str, Any],
    measures: list[str] | None,
    detail: str,
    profile_version: int | None = None,
) -> Evaluation:
    ev = Evaluation(
        id=uuid.uuid4().hex,
        credit_code=profile.credit_code,
        name=profile.name,
        as_of=dt.date.fromisoformat(result["as_of"]),
        rule_pack_version=result["rule_pack_version"],
        lang=result["lang"],
        detail=detail,
        measures=measures,
        profile=profile.model_dump(mode="json"),
        profile_version=profile_version,
        result=result,
        created_by=principal.user_id,
    )
    db.add(ev)
    db.commit()
    return ev


def store_in_new_session(factory: sessionmaker[Session], *args: Any, **kw: Any) -> Evaluation:
    with factory() as db:
        return store(db, *args, **kw)


def get_visible(db: Session, principal: Principal, evaluation_id: str) -> Evaluation:
    # ids are 32 hex digits; anything else cannot exist and is not worth a query
    ev = db.get(Evaluation, evaluation_id) if _ID.fullmatch(evaluation_id) else None
    if ev is None or not can_read(principal, ev.credit_code):
        raise not_found((f"没有编号为 {evaluation_id} 的评估", f"no evaluation with id {evaluation_id}"))
    return ev


def _username(db: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = db.get(User, user_id)
    return user.username if user else None


def record(db: Session, ev: Evaluation) -> dict[str, Any]:
    return {
        **public(ev.result, ev),
        "created_by": _username(db, ev.created_by),
        "input": {
            "profile": ev.profile,
            "as_of": ev.as_of,
            "measures": ev.measures,
            "lang": ev.lang,
            "detail": ev.detail,
            "profile_version": ev.profile_version,
        },
    }


def list_visible(
    db: Session, principal: Principal, credit_code: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    q = select(Evaluation, User.username).outerjoin(User, User.id == Evaluation.created_by)
    count = select(func.count()).select_from(Evaluation)
    if principal.role == "enterprise":
        if credit_code is not None and credit_code != principal.credit_code:
            return [], 0
        credit_code = principal.credit_code
    if credit_code is not None:
        q = q.where(Evaluation.credit_code == credit_code)
        count = count.where(Evaluation.credit_code == credit_code)
    rows = db.execute(
        q.order_by(Evaluation.created_at.desc(), Evaluation.id).limit(limit).offset(offset)
    ).all()
    items = [
        {
            "id": ev.id,
            "credit_code": ev.credit_code,
            "name": ev.name,
            "as_of": ev.as_of,
            "rule_pack_version": ev.rule_pack_version,
            "lang": ev.lang,
            "created_at": ev.created_at,
            "created_by": username,
            "outcomes": dict(Counter(r["outcome"] for r in ev.result.get("results", []))),
        }
        for ev, username in rows
    ]
    return items, db.scalar(count) or 0


def replay(engine: Engine, ev: Evaluation, lang: str | None) -> dict[str, Any]:
    """The stored input, evaluated again with the current pack, and what changed."""
    lang = lang or ev.lang
    result = run(engine, ev.profile, ev.as_of, _still_known(engine, ev.measures), lang, ev.detail)
    changes = compare(ev.result, result)
    pack_changed = ev.rule_pack_version != result["rule_pack_version"]
    flips = sum(1 for c in changes if c["outcome_changed"])
    if not changes:
        summary = "结果与保存时一致" if lang != "en" else "the results are the same as when stored"
    else:
        summary = (
            f"{len(changes)} 项结果有变化，其中 {flips} 项结论改变"
            if lang != "en"
            else f"{len(changes)} results changed, {flips} of them in outcome"
        )
    return {
        "evaluation_id": ev.id,
        "as_of": ev.as_of,
        "stored_rule_pack_version": ev.rule_pack_version,
        "current_rule_pack_version": result["rule_pack_version"],
        "pack_changed": pack_changed,
        "changed": bool(changes),
        "summary": summary,
        "changes": changes,
        "result": result,
    }


def _still_known(engine: Engine, measures: list[str] | None) -> list[str] | None:
    """A measure dropped from the pack since is reported as removed, not as an error."""
    if not measures:
        return measures
    known = [m for m in measures if m in engine.pack.measures]
    return known or None
