"""Storage models (SQLAlchemy 2). Separate from the API's schemas (``api.schemas``).

History is append-only: a profile change is a new ``ProfileVersion``, an evaluation is never
rewritten. Money lives inside JSON documents as decimal strings (exact); results are stored with
the rule pack version that produced them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, JSONDoc, UTCDateTime, utcnow

ROLES = ("admin", "reviewer", "enterprise")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # unique case-insensitively too
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # an enterprise account is bound to one 统一社会信用代码; others have none
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("uq_users_username_lower", func.lower(User.username), unique=True)


class ApiKey(Base):
    """A key for machine clients. Only its SHA-256 is kept; the key is shown once, at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class AccessToken(Base):
    """A bearer token from password login (opaque; only its SHA-256 is kept, so any worker can check it)."""

    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Base):
    """A failed password login, kept for the login window (``HUIQI_LOGIN_WINDOW_MINUTES``): counted in
    the database so that every worker and every instance sharing it sees the same count."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # HMAC-SHA-256 of the name tried under the server's secret (api.secret.account_key), hex
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)  # IPv4 address or IPv6 /64
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ProfileVersion(Base):
    """One version of an enterprise's profile; a PUT adds a version and never overwrites one."""

    __tablename__ = "profile_versions"
    __table_args__ = (UniqueConstraint("credit_code", "version", name="uq_profile_versions_code_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200))
    profile: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Evaluation(Base):
    """A stored decision: the input snapshot, the assessment date, the rule pack version, the results."""

    __tablename__ = "evaluations"
    # an account's evaluations of a day, counted by the daily quota (api.services.quota)
    __table_args__ = (Index("ix_evaluations_created_by_created_at", "created_by", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    as_of: Mapped[dt.date] = mapped_column(Date)
    rule_pack_version: Mapped[str] = mapped_column(String(80))
    lang: Mapped[str] = mapped_column(String(2))
    detail: Mapped[str] = mapped_column(String(8))
    measures: Mapped[list[str] | None] = mapped_column(JSONDoc)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    profile_version: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class EvaluationQuota(Base):
    """Stored evaluations per account and day (China Standard Time): the daily quota is counted
    here, one row per account and day, incremented only while under the limit."""

    __tablename__ = "evaluation_quota"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
