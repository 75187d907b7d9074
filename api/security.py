"""Passwords (Argon2 via pwdlib), bearer tokens and API keys.

Tokens and API keys are random, opaque and high-entropy; only their SHA-256 is stored, so a stolen
database does not yield working credentials, and any worker can check them without a shared secret.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

TOKEN_PREFIX = "hqt_"
API_KEY_PREFIX = "hqk_"
MIN_PASSWORD_LENGTH = 10


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# a real hash to check against when the user does not exist, so that timing does not tell
_DUMMY_HASH: str | None = None


def verify_password(password: str, password_hash: str | None) -> bool:
    global _DUMMY_HASH
    if password_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_hex(8))
        _hasher().verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher().verify(password, password_hash)
    except Exception:  # a corrupt stored hash is a failed login, not a 500
        return False


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def password_problem(password: str) -> tuple[str, str] | None:
    """Why a password is too weak, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"密码至少 {MIN_PASSWORD_LENGTH} 个字符",
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
        )
    if len(set(password)) < 4:
        return ("密码过于简单", "the password is too simple")
    return None
