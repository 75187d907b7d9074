"""Enterprise profiles, kept as versions: a PUT appends, nothing is overwritten."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import Profile

from .. import audit
from ..models import ProfileVersion, User
from ..principal import Principal
from ..problems import ApiProblem
from .access import can_read, not_found, shown_creator


def _missing(credit_code: str) -> ApiProblem:
    return not_found((f"没有企业 {credit_code} 的画像", f"no profile for enterprise {credit_code}"))


def ensure_readable(principal: Principal, credit_code: str) -> None:
    if not can_read(principal, credit_code):
        raise _missing(credit_code)


def append_version(
    db: Session, profile: Profile, user_id: int | None, actor: Principal | None = None
) -> ProfileVersion:
    # two writers at once may pick the same number; the unique constraint decides and we retry
    for _ in range(5):
        latest = db.scalar(
            select(func.max(ProfileVersion.version)).where(ProfileVersion.credit_code == profile.credit_code)
        )
        row = ProfileVersion(
            credit_code=profile.credit_code,
            version=(latest or 0) + 1,
            name=profile.name,
            profile=profile.model_dump(mode="json"),
            created_by=user_id,
        )
        db.add(row)
        try:
            if actor is not None:
                db.flush()
                audit.record(
                    db,
                    actor,
                    "profile.put",
                    "profile",
                    f"{row.credit_code}/{row.version}",
                    after={"credit_code": row.credit_code, "version": row.version, "name": row.name},
                )
            db.commit()
            return row
        except IntegrityError:
            db.rollback()
    raise ApiProblem("conflict", ("同时提交的修改过多，请重试", "too many simultaneous changes; try again"))


def put_profile(db: Session, principal: Principal, credit_code: str, profile: Profile) -> ProfileVersion:
    if profile.credit_code != credit_code:
        raise ApiProblem(
            "validation-error",
            (
                f"画像中的统一社会信用代码 {profile.credit_code} 与地址中的 {credit_code} 不一致",
                f"the profile's credit_code {profile.credit_code} differs from the path's {credit_code}",
            ),
            errors=[
                {
                    "field": "credit_code",
                    "location": "body",
                    "message": "须与地址中的统一社会信用代码一致 / must match the credit code in the path",
                    "value": profile.credit_code,
                }
            ],
        )
    return append_version(db, profile, principal.user_id, principal)


def get_version(db: Session, principal: Principal, credit_code: str, version: int | None) -> ProfileVersion:
    ensure_readable(principal, credit_code)
    q = select(ProfileVersion).where(ProfileVersion.credit_code == credit_code)
    if version is not None:
        q = q.where(ProfileVersion.version == version)
    row = db.scalar(q.order_by(ProfileVersion.version.desc()).limit(1))
    if row is None:
        if version is not None:
            raise not_found(
                (
                    f"企业 {credit_code} 没有第 {version} 版画像",
                    f"enterprise {credit_code} has no profile version {version}",
                )
            )
        raise _missing(credit_code)
    return row


def _creator(db: Session, user_id: int | None, viewer: Principal | None) -> str | None:
    if user_id is None:
        return None
    user = db.get(User, user_id)
    return shown_creator(viewer, user.username, user.role) if user else None


def version_public(
    db: Session, row: ProfileVersion, with_profile: bool = True, viewer: Principal | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": row.version,
        "name": row.name,
        "created_at": row.created_at,
        "created_by": _creator(db, row.created_by, viewer),
    }
    if with_profile:
        out["credit_code"] = row.credit_code
        out["profile"] = row.profile
    return out


def list_versions(
    db: Session, principal: Principal, credit_code: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    ensure_readable(principal, credit_code)
    total = (
        db.scalar(
            select(func.count()).select_from(ProfileVersion).where(ProfileVersion.credit_code == credit_code)
        )
        or 0
    )
    if total == 0:
        raise _missing(credit_code)
    rows = db.scalars(
        select(ProfileVersion)
        .where(ProfileVersion.credit_code == credit_code)
        .order_by(ProfileVersion.version.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [version_public(db, r, with_profile=False, viewer=principal) for r in rows], total


def list_enterprises(
    db: Session, principal: Principal, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    latest = (
        select(ProfileVersion.credit_code, func.max(ProfileVersion.version).label("v"))
        .group_by(ProfileVersion.credit_code)
        .subquery()
    )
    q = select(ProfileVersion).join(
        latest, (ProfileVersion.credit_code == latest.c.credit_code) & (ProfileVersion.version == latest.c.v)
    )
    count = select(func.count()).select_from(latest)
    if not principal.reads_all:
        q = q.where(ProfileVersion.credit_code == principal.credit_code)
        count = count.where(latest.c.credit_code == principal.credit_code)
    rows = db.scalars(q.order_by(ProfileVersion.credit_code).limit(limit).offset(offset)).all()
    items = [
        {
            "credit_code": r.credit_code,
            "name": r.name,
            "latest_version": r.version,
            "updated_at": r.created_at,
        }
        for r in rows
    ]
    return items, db.scalar(count) or 0
