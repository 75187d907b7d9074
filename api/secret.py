"""The server's own secret, generated on first use and kept with the database (``server_secrets``),
so that every worker and every instance sharing the database uses the same one. It keys the HMAC
under which account names are kept in the login-failure table: a stolen table does not reveal the
names tried (people type passwords into the user-name field), and a dictionary of SHA-256 hashes of
likely names does not apply. It is never logged or returned by the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading

from sqlalchemy import String, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime, utcnow

ACCOUNT_HMAC = "account-hmac"


class ServerSecret(Base):
    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()


def server_secret(db: Session, name: str = ACCOUNT_HMAC) -> bytes:
    """The secret ``name``, made on first use (on its own connection, so the caller's transaction
    is not committed; two processes making it at once agree on the one stored first)."""
    bind = db.get_bind()
    key = (bind.url.render_as_string(hide_password=True), name)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    with _lock:
        with bind.connect() as conn:
            value = conn.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
            if value is None:
                try:
                    conn.execute(
                        insert(ServerSecret).values(name=name, value=secrets.token_hex(32), created_at=utcnow())
                    )
                    conn.commit()
                except IntegrityError:
                    conn.rollback()
                value = conn.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
        _cache[key] = bytes.fromhex(value)
        return _cache[key]


def account_key(db: Session, username: str) -> str:
    """How an account name is kept where only counting needs it: HMAC-SHA-256 under the server's
    secret, of the name as logins compare it (case-insensitive)."""
    return hmac.new(server_secret(db), username.lower().encode(), hashlib.sha256).hexdigest()
