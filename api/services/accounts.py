"""Accounts, password login tokens and API keys."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import math
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .. import audit, security
from ..db import utcnow
from ..models import AccessToken, ApiKey, LoginFailure, User
from ..principal import Principal
from ..problems import ApiProblem
from ..schemas.users import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, UserCreate, UserUpdate
from ..secret import account_key


def _principal(user: User, via: str) -> Principal:
    return Principal(user.id, user.username, user.role, user.credit_code, via)


def principal_from_token(factory: sessionmaker[Session], token: str) -> Principal | None:
    with factory() as db:
        row = db.get(AccessToken, security.digest(token))
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.user.is_active:
            return None
        return _principal(row.user, "token")


def principal_from_api_key(factory: sessionmaker[Session], key: str) -> Principal | None:
    with factory() as db:
        row = db.scalar(select(ApiKey).where(ApiKey.key_hash == security.digest(key)))
        if row is None or row.revoked_at is not None or not row.user.is_active:
            return None
        if row.expires_at is not None and row.expires_at <= utcnow():
            return None
        return _principal(row.user, "api_key")


def _weak(password: str) -> None:
    why = security.password_problem(password)
    if why:
        raise ApiProblem(
            "validation-error",
            why,
            errors=[{"field": "password", "location": "body", "message": why[0] + " / " + why[1]}],
        )


def _taken(username: str) -> ApiProblem:
    return ApiProblem(
        "conflict",
        (f"用户名 {username} 已被使用（不区分大小写）", f"the username {username} is taken (case-insensitively)"),
        errors=[{"field": "username", "location": "body", "message": "已被使用 / taken", "value": username}],
    )


def find_user(db: Session, username: str) -> User | None:
    """The account of this name, compared case-insensitively (``Admin`` is ``admin``)."""
    return db.scalar(select(User).where(func.lower(User.username) == username.lower()))


def _account_state(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "credit_code": user.credit_code,
        "display_name": user.display_name,
        "is_active": user.is_active,
    }


def create_user(db: Session, data: UserCreate, actor: Any = None) -> User:
    """A new account (audited as ``account.create``; ``actor``: who, None for the system)."""
    _weak(data.password)
    if find_user(db, data.username) is not None:
        raise _taken(data.username)
    user = User(
        username=data.username,
        password_hash=security.hash_password(data.password),
        role=data.role,
        credit_code=data.credit_code,
        display_name=data.display_name,
        is_active=True,
    )
    db.add(user)
    try:
        db.flush()
        audit.record(db, actor, "account.create", "user", str(user.id), after=_account_state(user))
        db.commit()
    except IntegrityError:
        db.rollback()
        raise _taken(data.username) from None
    return user


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise ApiProblem("not-found", (f"没有编号为 {user_id} 的账号", f"no account with id {user_id}"))
    return user


def list_users(db: Session, limit: int, offset: int) -> tuple[list[User], int]:
    total = db.scalar(select(func.count()).select_from(User)) or 0
    users = db.scalars(select(User).order_by(User.id).limit(limit).offset(offset)).all()
    return list(users), total


def update_user(db: Session, user_id: int, data: UserUpdate, actor: Principal) -> User:
    """Change an account (audited as ``account.update`` with the state before and after). A new
    password, role or enterprise ends every token and revokes every API key of the account: what
    the old credentials allowed has changed, and a key must not outlive the password it was issued
    under (someone who knew the password may have issued one)."""
    user = get_user(db, user_id)
    before = _account_state(user)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("role") is None:
        changes.pop("role", None)
    role = changes.get("role", user.role)
    if "credit_code" in changes:
        code = changes["credit_code"]
    else:  # a change of role away from enterprise drops the binding
        code = user.credit_code if role == "enterprise" else None
    if role == "enterprise" and not code:
        raise ApiProblem(
            "validation-error",
            ("企业账号须绑定统一社会信用代码", "an enterprise account needs a credit_code"),
            errors=[
                {
                    "field": "credit_code",
                    "location": "body",
                    "message": "企业账号必填 / required for enterprise",
                }
            ],
        )
    if role != "enterprise" and code:
        raise ApiProblem(
            "validation-error",
            ("只有企业账号绑定统一社会信用代码", "only enterprise accounts have a credit_code"),
            errors=[{"field": "credit_code", "location": "body", "message": "应为空 / must be empty"}],
        )
    if user.id == actor.user_id and (changes.get("is_active") is False or role != "admin"):
        raise ApiProblem(
            "conflict",
            (
                "管理员不能停用自己或取消自己的管理员身份",
                "administrators cannot disable or demote themselves",
            ),
        )
    if "password" in changes and changes["password"] is not None:
        _weak(changes["password"])
        user.password_hash = security.hash_password(changes["password"])
    user.role = role
    user.credit_code = code
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if changes.get("is_active") is not None:
        user.is_active = changes["is_active"]
    password_changed = changes.get("password") is not None
    credentials_changed = password_changed or before["role"] != role or before["credit_code"] != code
    revoked_keys: list[int] = []
    if credentials_changed or changes.get("is_active") is False:
        # what the old credentials allowed has changed: log out everywhere
        for t in db.scalars(
            select(AccessToken).where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
        ):
            t.revoked_at = utcnow()
    if credentials_changed:
        for k in db.scalars(select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))):
            k.revoked_at = utcnow()
            revoked_keys.append(k.id)
    after = _account_state(user) | {"password_changed": password_changed, "revoked_api_keys": revoked_keys}
    audit.record(db, actor, "account.update", "user", str(user.id), before=before, after=after)
    db.commit()
    return user


@dataclasses.dataclass(frozen=True)
class LoginPolicy:
    """How many failed logins are allowed in the window: of one account from one client, from one
    client whatever the account (one password tried on many accounts), and of one account from all
    clients (guessing spread over many addresses)."""

    max_failures: int = 5
    max_failures_per_client: int = 20
    max_failures_per_account: int = 50
    window: dt.timedelta = dt.timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Any) -> LoginPolicy:
        """The policy of ``HUIQI_LOGIN_*`` (``api.config.Settings``)."""
        return cls(
            settings.login_max_failures,
            settings.login_max_failures_per_client,
            settings.login_max_failures_per_account,
            dt.timedelta(minutes=settings.login_window_minutes),
        )


def client_key(host: str | None) -> str:
    """The client a failure is counted against: its IPv4 address, or its IPv6 /64 (one host
    commonly holds a whole /64 and could rotate through it)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def authenticate(db: Session, username: str, password: str, client: str, policy: LoginPolicy) -> User:
    """The account, or ``invalid-credentials``.

    Past a limit the answer is ``too-many-attempts`` with ``Retry-After``, without checking the
    password, so guessing goes no faster with the right password among the guesses. A refusal is
    decided by reading first (a flood of refused attempts writes nothing). An attempt let through is
    recorded as a failure *before* its password is checked, counted again, and the record removed
    if the password is right: so parallel guesses cannot all slip in before any failure is counted —
    the k-th attempt to be counted sees at least k. The account is recorded by a hash (people type
    passwords into the user-name field); records older than the window are removed on every
    attempt let through. A successful login clears its account's failures from that client only."""
    # a name no account can have (NUL, over-long) is looked up as nobody, never sent to the database
    valid = len(username) <= 64 and "\x00" not in username
    account = account_key(db, username if valid else "")
    _refuse_while_throttled(db, account, client, policy, pending=0)
    now = utcnow()
    attempt = LoginFailure(username=account, client=client, at=now)
    db.add(attempt)
    # the ORM's flush first: on SQLite it takes the write gate (api.db.SQLiteWriteGate) before any
    # write, so that a bulk delete cannot hold SQLite's lock while another writer holds the gate
    db.flush()
    db.execute(delete(LoginFailure).where(LoginFailure.at < now - policy.window))
    db.commit()
    try:
        _refuse_while_throttled(db, account, client, policy, pending=1)
    except ApiProblem:
        # a refused attempt checked no password: it does not count, and waiting is enough
        db.delete(attempt)
        db.commit()
        raise
    user = find_user(db, username) if valid else None
    ok = security.verify_password(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active:
        # the account as a keyed hash prefix (the name typed may be someone's password)
        audit.record(
            db, None, "auth.login_failed", "account", account[:16], after={"client": client, "known": user is not None}
        )
        db.commit()
        raise ApiProblem(
            "invalid-credentials",
            ("用户名或密码错误，或账号已停用", "wrong username or password, or the account is disabled"),
            headers={"WWW-Authenticate": 'Bearer realm="huiqi"'},
        )
    db.delete(attempt)
    db.flush()  # the write gate first, as above
    # the failures before this one; attempts from the client still being checked keep theirs
    db.execute(
        delete(LoginFailure).where(
            LoginFailure.username == account, LoginFailure.client == client, LoginFailure.id < attempt.id
        )
    )
    audit.record(db, _principal(user, "password"), "auth.login", "user", str(user.id), after={"client": client})
    db.commit()
    return user


def _refuse_while_throttled(
    db: Session, account: str, client: str, policy: LoginPolicy, pending: int
) -> None:
    """``too-many-attempts`` when ``limit`` failures precede this attempt in the window (``pending``:
    1 once this attempt is recorded among them, 0 before).

    The cap per account (all clients) applies only to a client that has failed on the account
    itself: someone guessing from many addresses must not lock the account's owner out of a client
    from which it has not failed."""
    recent = LoginFailure.at >= utcnow() - policy.window
    own = 0
    for where, limit, kind in (
        ((LoginFailure.username == account, LoginFailure.client == client), policy.max_failures, "own"),
        ((LoginFailure.client == client,), policy.max_failures_per_client, "client"),
        ((LoginFailure.username == account,), policy.max_failures_per_account, "account"),
    ):
        if kind == "account" and own == 0:
            continue
        times = db.scalars(
            select(LoginFailure.at)
            .where(*where, recent)
            .order_by(LoginFailure.at.desc())
            .limit(limit + pending)
        ).all()
        if kind == "own":
            own = len(times) - pending
        if len(times) < limit + pending:
            continue
        # the wait ends when the oldest of the ``limit`` failures before this attempt leaves the window
        wait = max(1, math.ceil((times[-1] + policy.window - utcnow()).total_seconds()))
        minutes = math.ceil(wait / 60)
        raise ApiProblem(
            "too-many-attempts",
            (
                f"登录失败次数过多，请 {minutes} 分钟后再试",
                f"too many failed logins; try again in {minutes} minute(s)",
            ),
            headers={"Retry-After": str(wait)},
            extra={"retry_after": wait},
        )


def issue_token(db: Session, user: User, ttl_minutes: int) -> tuple[str, dt.datetime]:
    token = security.new_token()
    expires = utcnow() + dt.timedelta(minutes=ttl_minutes)
    db.add(AccessToken(token_hash=security.digest(token), user_id=user.id, expires_at=expires))
    db.commit()
    return token, expires


def revoke_token(db: Session, token: str, actor: Principal | None = None) -> None:
    row = db.get(AccessToken, security.digest(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(db, actor, "auth.logout", "user", str(row.user_id))
        db.commit()


def api_key_public(row: ApiKey) -> dict[str, Any]:
    now = utcnow()
    return ApiKeyPublic(
        id=row.id,
        user_id=row.user_id,
        username=row.user.username,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        active=row.revoked_at is None
        and (row.expires_at is None or row.expires_at > now)
        and row.user.is_active,
    ).model_dump()


def create_api_key(db: Session, data: ApiKeyCreate, actor: Any = None) -> ApiKeyCreated:
    user = db.get(User, data.user_id)
    if user is None:
        raise ApiProblem(
            "validation-error",
            (f"没有编号为 {data.user_id} 的账号", f"no account with id {data.user_id}"),
            errors=[
                {
                    "field": "user_id",
                    "location": "body",
                    "message": "账号不存在 / no such account",
                    "value": data.user_id,
                }
            ],
        )
    key = security.new_api_key()
    row = ApiKey(
        user_id=user.id,
        name=data.name,
        prefix=key[:12],
        key_hash=security.digest(key),
        expires_at=utcnow() + dt.timedelta(days=data.expires_in_days) if data.expires_in_days else None,
    )
    db.add(row)
    db.flush()
    db.refresh(row)
    public = api_key_public(row)
    audit.record(
        db,
        actor,
        "api_key.create",
        "api_key",
        str(row.id),
        after={k: public[k] for k in ("user_id", "username", "name", "prefix")}
        | {"expires_at": row.expires_at.isoformat() if row.expires_at else None},
    )
    db.commit()
    return ApiKeyCreated(**public, key=key)


def list_api_keys(
    db: Session, user_id: int | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    q = select(ApiKey)
    count = select(func.count()).select_from(ApiKey)
    if user_id is not None:
        q = q.where(ApiKey.user_id == user_id)
        count = count.where(ApiKey.user_id == user_id)
    rows = db.scalars(q.order_by(ApiKey.id).limit(limit).offset(offset)).all()
    return [api_key_public(r) for r in rows], db.scalar(count) or 0


def get_api_key(db: Session, key_id: int) -> ApiKey:
    row = db.get(ApiKey, key_id)
    if row is None:
        raise ApiProblem("not-found", (f"没有编号为 {key_id} 的 API 密钥", f"no API key with id {key_id}"))
    return row


def revoke_api_key(db: Session, key_id: int, actor: Any = None) -> dict[str, Any]:
    row = get_api_key(db, key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            db,
            actor,
            "api_key.revoke",
            "api_key",
            str(row.id),
            before={"user_id": row.user_id, "name": row.name, "prefix": row.prefix},
        )
        db.commit()
    return api_key_public(row)
