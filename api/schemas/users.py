from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from engine import CREDIT_CODE_CHARSET, credit_code_check_char

Role = Literal["admin", "reviewer", "enterprise"]


def check_credit_code(v: str) -> str:
    v = v.strip().upper()
    if (
        len(v) != 18
        or any(c not in CREDIT_CODE_CHARSET for c in v)
        or credit_code_check_char(v[:17]) != v[17]
    ):
        raise ValueError(
            "不是有效的统一社会信用代码（GB 32100-2015）/ not a valid unified social credit code"
        )
    return v


CreditCode = Annotated[str, AfterValidator(check_credit_code)]
Username = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Password = Annotated[str, Field(min_length=10, max_length=256)]


def _role_and_code(role: str | None, credit_code: str | None) -> None:
    if role == "enterprise" and not credit_code:
        raise ValueError("企业账号须绑定统一社会信用代码 / an enterprise account needs a credit_code")
    if role in ("admin", "reviewer") and credit_code:
        raise ValueError("只有企业账号绑定统一社会信用代码 / only enterprise accounts have a credit_code")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    role: Role
    credit_code: CreditCode | None = Field(
        default=None, validate_default=True, description="企业账号必填 / required for role enterprise"
    )
    display_name: str | None = Field(default=None, max_length=200)

    @field_validator("credit_code")
    @classmethod
    def _bound_to_role(cls, v: str | None, info: ValidationInfo) -> str | None:
        _role_and_code(info.data.get("role"), v)
        return v


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Password | None = None
    role: Role | None = None
    credit_code: CreditCode | None = None
    display_name: str | None = Field(default=None, max_length=200)
    is_active: bool | None = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    credit_code: str | None = None
    display_name: str | None = None
    is_active: bool
    created_at: dt.datetime


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1, le=2_000_000_000, description="密钥所属账号 / the account the key acts as")
    name: str = Field(min_length=1, max_length=100, description="用途说明 / what the key is for")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, description="有效天数（默认不过期）")


class ApiKeyPublic(BaseModel):
    id: int
    user_id: int
    username: str
    name: str
    prefix: str = Field(description="密钥开头几位，便于辨认 / the first characters, to recognise it")
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    active: bool


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="完整密钥，仅此一次显示 / the full key, shown only this once")


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="有效秒数 / seconds until it expires")
    expires_at: dt.datetime
    user: UserPublic
