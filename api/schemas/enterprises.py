from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class ProfileVersionSummary(BaseModel):
    version: int
    name: str | None = None
    created_at: dt.datetime
    created_by: str | None = None


class ProfileVersionPublic(ProfileVersionSummary):
    credit_code: str
    profile: dict[str, Any] = Field(description="该版本的企业画像（金额为万元，十进制字符串）/ the profile")


class EnterpriseSummary(BaseModel):
    credit_code: str
    name: str | None = None
    latest_version: int
    updated_at: dt.datetime
