"""Evaluate, store, read back, list and replay evaluations.

An evaluation is stored as its input (the profile snapshot, ``as_of``, the measures asked for),
its verdicts and the rule pack version. Its full explanation is rendered when it is read: the
stored input is evaluated again with the same pack, the verdicts are checked against the stored
ones (a decision must be reproducible), and the words are written in the reader's language.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import Engine, Evaluation, Options, Profile, UnknownMeasure

from ..deps import Principal
from ..models import Evaluation as EvaluationRow
from ..models import User
from ..problems import ApiProblem
from .access import can_read, not_found, shown_creator
from .compare import compare

_ID = re.compile(r"[0-9a-f]{32}")

# an engine for a rule pack version, or None when that pack is no longer loaded
EngineFor = Callable[[str], Engine | None]


def evaluate(
    engine: Engine, profile: Profile | dict[str, Any], as_of: dt.date | None, measures: list[str] | None
) -> Evaluation:
    try:
        return engine.evaluate(profile, as_of, measures)
    except UnknownMeasure as e:
        ids = ", ".join(e.ids)
        raise ApiProblem(
            "unknown-measure",
            (
                f"规则包中没有这些措施：{ids}（GET /v1/measures 列出全部）",
                f"no such measures in the rule pack: {ids} (GET /v1/measures lists them)",
            ),
            errors=[
                {"field": "measures", "location": "body", "message": f"未知措施 / unknown measure: {i}", "value": i}
                for i in e.ids
            ],
        ) from None


def run(
    engine: Engine,
    profile: Profile | dict[str, Any],
    as_of: dt.date | None,
    measures: list[str] | None,
    lang: str,
    detail: str = "verdict",
) -> dict[str, Any]:
    """The answer: the verdicts with their one-line summaries (the default), or the full explanation."""
    return engine.render(evaluate(engine, profile, as_of, measures), Options(detail, lang))  # type: ignore[arg-type]


def public(result: dict[str, Any], ev: EvaluationRow | None = None) -> dict[str, Any]:
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
    evaluation: Evaluation,
    engine: Engine,
    lang: str,
    measures: list[str] | None,
    profile_version: int | None = None,
) -> EvaluationRow:
    """Keep the input, the verdicts (with their summaries in ``lang``) and the pack version."""
    ev = EvaluationRow(
        id=uuid.uuid4().hex,
        credit_code=profile.credit_code,
        name=profile.name,
        as_of=evaluation.as_of,
        rule_pack_version=evaluation.rule_pack_version,
        lang=lang,
        detail="verdict",
        measures=measures,
        profile=profile.model_dump(mode="json"),
        profile_version=profile_version,
        result=engine.render(evaluation, Options("verdict", lang)),  # type: ignore[arg-type]
        created_by=principal.user_id,
    )
    db.add(ev)
    db.commit()
    return ev


def store_in_new_session(factory: sessionmaker[Session], *args: Any, **kw: Any) -> EvaluationRow:
    with factory() as db:
        return store(db, *args, **kw)


def get_visible(db: Session, principal: Principal, evaluation_id: str) -> EvaluationRow:
    # ids are 32 hex digits; anything else cannot exist and is not worth a query
    ev = db.get(EvaluationRow, evaluation_id) if _ID.fullmatch(evaluation_id) else None
    if ev is None or not can_read(principal, ev.credit_code):
        raise not_found((f"没有编号为 {evaluation_id} 的评估", f"no evaluation with id {evaluation_id}"))
    return ev


def _creator(db: Session, viewer: Principal, user_id: int | None) -> str | None:
    """Who stored it, as ``viewer`` may see it (an enterprise sees no staff user names)."""
    if user_id is None:
        return None
    user = db.get(User, user_id)
    return shown_creator(viewer, user.username, user.role) if user else None


def _verdicts(result: dict[str, Any]) -> list[tuple]:
    """What a stored answer decided, whatever its shape (verdict, full or compact): per result the
    measure, subject, outcome and every node's status."""
    return [
        (
            r["measure_id"],
            (r.get("subject") or {}).get("id"),
            r["outcome"],
            tuple((c.get("id"), c.get("status")) for c in r.get("criteria", ())),
        )
        for r in result.get("results", ())
    ]


def rendered(engine_for: EngineFor, ev: EvaluationRow, detail: str, lang: str) -> dict[str, Any]:
    """A stored evaluation's answer in ``detail`` and ``lang``: evaluated again from its input with
    the pack it was made with, and checked against what was stored."""
    if detail == "verdict" and ev.detail == "verdict" and lang == ev.lang:
        return ev.result
    engine = engine_for(ev.rule_pack_version)
    if engine is None:
        raise ApiProblem(
            "rule-pack-unavailable",
            (
                f"该评估所用的规则包 {ev.rule_pack_version} 已不在本服务中，无法重新生成说明；"
                "可按当前规则包重放（POST /v1/evaluations/{id}/replay）",
                f"the rule pack {ev.rule_pack_version} of this evaluation is no longer loaded, so its"
                " explanation cannot be written again; replay it with the current pack instead",
            ),
            status=409,
        )
    evaluation = engine.evaluate(ev.profile, ev.as_of, ev.measures)
    again = engine.render(evaluation, Options("verdict", ev.lang))  # type: ignore[arg-type]
    if ev.detail == "verdict" and _verdicts(again) != _verdicts(ev.result):
        raise ApiProblem(
            "not-reproducible",
            (
                "按保存的输入与规则包重新评估，结论与保存时不一致",
                "evaluated again from its input with the same rule pack, the verdicts differ from the stored ones",
            ),
            status=500,
        )
    if detail == "verdict" and lang == ev.lang:
        return again
    return engine.render(evaluation, Options(detail, lang))  # type: ignore[arg-type]


def record(db: Session, viewer: Principal, ev: EvaluationRow, answer: dict[str, Any]) -> dict[str, Any]:
    return {
        **public(answer, ev),
        "created_by": _creator(db, viewer, ev.created_by),
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
    q = select(EvaluationRow, User.username, User.role).outerjoin(User, User.id == EvaluationRow.created_by)
    count = select(func.count()).select_from(EvaluationRow)
    if principal.role == "enterprise":
        if credit_code is not None and credit_code != principal.credit_code:
            return [], 0
        credit_code = principal.credit_code
    if credit_code is not None:
        q = q.where(EvaluationRow.credit_code == credit_code)
        count = count.where(EvaluationRow.credit_code == credit_code)
    rows = db.execute(
        q.order_by(EvaluationRow.created_at.desc(), EvaluationRow.id).limit(limit).offset(offset)
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
            "created_by": shown_creator(principal, username, role),
            "outcomes": dict(Counter(r["outcome"] for r in ev.result.get("results", []))),
        }
        for ev, username, role in rows
    ]
    return items, db.scalar(count) or 0


def replay(engine: Engine, ev: EvaluationRow, lang: str | None, detail: str = "verdict") -> dict[str, Any]:
    """The stored input, evaluated again with the current pack, and what changed."""
    lang = lang or ev.lang
    evaluation = evaluate(engine, ev.profile, ev.as_of, _still_known(engine, ev.measures))
    now = engine.render(evaluation, Options("verdict", lang))  # type: ignore[arg-type]
    changes = compare(ev.result, now, labels(engine, lang))
    pack_changed = ev.rule_pack_version != evaluation.rule_pack_version
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
        "current_rule_pack_version": evaluation.rule_pack_version,
        "pack_changed": pack_changed,
        "changed": bool(changes),
        "summary": summary,
        "changes": changes,
        "result": now if detail == "verdict" else engine.render(evaluation, Options(detail, lang)),  # type: ignore[arg-type]
    }


def labels(engine: Engine, lang: str) -> Callable[[str, str | None], str | None]:
    """The title of a measure (node None) or the label of one of its criteria, in ``lang``."""
    measures = engine.pack.measures

    def label(measure_id: str, node_id: str | None) -> str | None:
        m = measures.get(measure_id)
        if m is None:
            return None
        if node_id is None:
            return m.title.get(lang)
        return engine.node_label(measure_id, node_id, lang)

    return label


def _still_known(engine: Engine, measures: list[str] | None) -> list[str] | None:
    """A measure dropped from the pack since is reported as removed, not as an error."""
    if not measures:
        return measures
    known = [m for m in measures if m in engine.pack.measures]
    return known or None
