"""The audit log: every security-relevant action (accounts, keys, logins, profiles, imports, runs,
decisions, overrides, exports, deletions, rule pack changes), append-only and hash-chained.

``record(db, actor, action, …)`` adds an entry in the caller's transaction (so the entry and the
change it records are committed together, or neither is). Nothing in the API updates or deletes an
entry, and the database refuses to: triggers on SQLite and PostgreSQL abort any UPDATE or DELETE
(and TRUNCATE on PostgreSQL) of ``audit_log`` (migration 0002).

Someone with the database's owner rights can drop the triggers, so every entry also carries the
SHA-256 of its content and of the entry before it (``prev_hash`` → ``hash``), and the single row of
``audit_head`` the number of entries and the last hash. Appending takes the head row first (an
UPDATE: a row lock on PostgreSQL, the write lock on SQLite), so entries are chained one at a time in
the order of their ids. ``verify`` walks the chain and names the first entry that does not match:
an entry changed, removed, inserted or reordered, or the tail cut off. Rewriting the whole chain
consistently is still possible for whoever holds the database: an operator who notes the head hash
elsewhere (``huiqi audit verify`` prints it) can check later that it is still in the chain
(``--anchor``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, JSONDoc, UTCDateTime, json_dumps, take_write_gate, utcnow

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
    "account.create": ("新建账号", "create an account"),
    "account.update": ("修改账号（角色、状态、密码）", "change an account (role, state, password)"),
    "api_key.create": ("签发 API 密钥", "issue an API key"),
    "api_key.revoke": ("吊销 API 密钥", "revoke an API key"),
    "auth.login": ("登录", "log in"),
    "auth.login_failed": ("登录失败", "failed login"),
    "auth.logout": ("注销", "log out"),
    "profile.put": ("保存企业画像", "store an enterprise profile"),
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
    # the chain: SHA-256 of the entry before (None for the first) and of this entry with it
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """One row (id 1): how many entries the chain has and the hash of the last one. Appending takes
    this row first, which serialises appenders; verifying compares it with the chain's end."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str | None] = mapped_column(String(64))


SYSTEM = ("system", None, "system")  # the service itself: a run that finishes, a rule pack at start


@dataclasses.dataclass(frozen=True)
class CommandLine:
    """An operator at the command line (``huiqi users …``): the system account's user name."""

    username: str
    user_id: None = None
    role: str = "cli"


def _canonical(value: Any) -> Any:
    """A value as the database gives it back (JSON), so that the hash written is the hash read."""
    return None if value is None else json.loads(json_dumps(value))


def entry_hash(entry: AuditEntry, prev_hash: str | None) -> str:
    at = entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    content = {
        "prev": prev_hash,
        "at": at,
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def record(
    db: Session,
    actor: Any,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry (not committed: it goes with the caller's transaction), chained to the last.

    ``actor`` is an ``api.deps.Principal``, a ``CommandLine``, or None for the service itself."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None:
        name, actor_id, role = SYSTEM
    else:
        name, actor_id, role = actor.username, actor.user_id, actor.role
    take_write_gate(db)  # SQLite: one writer at a time across processes, before the head is read
    # the head row first: its row lock (PostgreSQL) or the write lock (SQLite) is held until the
    # caller commits, so the last hash read below cannot change under us
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(entries=AuditHead.entries + 1))
    prev = db.scalar(select(AuditHead.last_hash).where(AuditHead.id == 1))
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        actor=name[:64],
        actor_role=role,
        action=action,
        target_type=target_type,
        target_id=target_id[:120] if target_id else target_id,
        before=_canonical(before),
        after=_canonical(after),
        prev_hash=prev,
    )
    entry.hash = entry_hash(entry, prev)
    db.add(entry)
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=entry.hash))
    return entry


@dataclasses.dataclass
class Verdict:
    """What ``verify`` found: the entries checked, the first broken link (or None), the head."""

    entries: int
    legacy: int  # entries from before the chain began (migration 0005), not verifiable
    broken_id: int | None
    reason: str | None
    head_hash: str | None
    anchor_found: bool | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None and self.reason is None and self.anchor_found is not False


def _entries(db: Session, batch: int = 2000) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = db.scalars(
            select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id
        db.expunge_all()


def verify(db: Session, anchor: str | None = None) -> Verdict:
    """Walk the chain in id order. The first entry whose stored hash is not the hash of its content
    and of the entry before it is the first broken link (changed, removed, inserted or reordered
    entries all show there); the head must name the last entry and count the chained ones."""
    prev: str | None = None
    chained = legacy = 0
    found = None if anchor is None else False
    for e in _entries(db):
        if e.hash is None:
            if chained:
                return Verdict(chained + legacy, legacy, e.id, "entry without a hash inside the chain", prev)
            legacy += 1
            continue
        if e.prev_hash != prev:
            return Verdict(chained + legacy, legacy, e.id, "does not follow the entry before it", prev)
        if entry_hash(e, prev) != e.hash:
            return Verdict(chained + legacy, legacy, e.id, "its content does not match its hash", prev)
        chained += 1
        prev = e.hash
        if anchor is not None and e.hash == anchor:
            found = True
    head = db.get(AuditHead, 1)
    if head is None or head.last_hash != prev or head.entries != chained:
        return Verdict(
            chained + legacy,
            legacy,
            None,
            f"the head says {head.entries if head else 0} entries ending {head.last_hash if head else None}: "
            "entries were removed from the end, or added without the head",
            prev,
            found,
        )
    return Verdict(chained + legacy, legacy, None, None, prev, found)


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
