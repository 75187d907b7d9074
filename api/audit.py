"""The audit log: every import, run, decision, override, export and rule pack change, append-only.

``record(db, actor, action, …)`` adds an entry in the caller's transaction (so the entry and the
change it records are committed together, or neither is). Nothing in the API updates or deletes an
entry, and the database refuses to: triggers on SQLite and PostgreSQL abort any UPDATE or DELETE
(and TRUNCATE on PostgreSQL) of ``audit_log`` (migration 0002).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, JSONDoc, UTCDateTime, utcnow

# action → (中文, English): what people read in GET /v1/audit
ACTIONS: dict[str, tuple[str, str]] = {
    "screening.import": ("导入申报数据", "import applications"),
    "screening.run.start": ("开始筛查", "start a screening run"),
    "screening.run.finish": ("筛查完成", "screening run finished"),
    "screening.impact": ("规则变更影响分析", "impact of a rule change"),
    "screening.proactive": ("免申即享主动匹配", "proactive matching"),
    "screening.export": ("导出筛查结果", "export results"),
    "screening.delete": ("删除筛查", "delete a screening"),
    "review.decision": ("审核决定", "review decision"),
    "review.override": ("审核改判（推翻自动结论）", "review override of the automatic outcome"),
    "rulepack.change": ("规则包变更", "rule pack change"),
}

TRIGGER_MESSAGE = "audit_log is append-only"


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # who: kept as text as well as the id, so that the entry still reads right if the account goes
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(120), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)


SYSTEM = ("system", None, "system")  # the service itself: a run that finishes, a rule pack at start


def record(
    db: Session,
    actor: Any,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry (not committed: it goes with the caller's transaction).

    ``actor`` is an ``api.deps.Principal`` or None for the service itself."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None:
        name, actor_id, role = SYSTEM
    else:
        name, actor_id, role = actor.username, actor.user_id, actor.role
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        actor=name,
        actor_role=role,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
    )
    db.add(entry)
    return entry


def latest(db: Session, action: str) -> AuditEntry | None:
    return db.scalar(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc()).limit(1)
    )


def note_rule_pack(db: Session, version: str, rules_dir: str) -> bool:
    """At start: a rule pack other than the last one recorded is a rule pack change. True if recorded."""
    last = latest(db, "rulepack.change")
    previous = (last.after or {}).get("version") if last else None
    if previous == version:
        return False
    record(
        db,
        None,
        "rulepack.change",
        "rulepack",
        version,
        before={"version": previous} if previous else None,
        after={"version": version, "rules_dir": rules_dir},
    )
    db.commit()
    return True


def public(entry: AuditEntry, lang: str) -> dict[str, Any]:
    words = ACTIONS.get(entry.action, (entry.action, entry.action))
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "action_label": words[1] if lang == "en" else words[0],
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
    }


# -------------------------------------------------------------- the database refuses changes

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, '{TRIGGER_MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, '{TRIGGER_MESSAGE}'); END""",
]
POSTGRES_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION audit_log_refuse() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '{TRIGGER_MESSAGE}'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_refuse()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()""",
]
DROP_TRIGGERS = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
        "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
        "DROP FUNCTION IF EXISTS audit_log_refuse()",
    ],
}
