from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ..deps import AdminDep, PageDep, SessionDep
from ..routing import CheckedJSONRoute
from ..schemas.common import Page
from ..schemas.users import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from ..services import accounts

router = APIRouter(route_class=CheckedJSONRoute, prefix="/api-keys", tags=["api-keys"])

KeyId = Annotated[int, Path(ge=1, le=2_000_000_000)]


@router.get("", response_model=Page[ApiKeyPublic], summary="API 密钥列表 / API keys")
def list_api_keys(
    db: SessionDep,
    _admin: AdminDep,
    page: PageDep,
    user_id: Annotated[int | None, Query(ge=1, le=2_000_000_000)] = None,
) -> dict[str, Any]:
    items, total = accounts.list_api_keys(db, user_id, page.limit, page.offset)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.post("", response_model=ApiKeyCreated, status_code=201, summary="签发 API 密钥 / issue an API key")
def create_api_key(body: ApiKeyCreate, db: SessionDep, admin: AdminDep) -> Any:
    """密钥以该账号的身份和权限调用，请求头 ``X-API-Key``；完整密钥只在此返回一次。"""
    return accounts.create_api_key(db, body, admin)


@router.get("/{key_id}", response_model=ApiKeyPublic, summary="一个 API 密钥 / one API key")
def get_api_key(key_id: KeyId, db: SessionDep, _admin: AdminDep) -> Any:
    return accounts.api_key_public(accounts.get_api_key(db, key_id))


@router.delete("/{key_id}", response_model=ApiKeyPublic, summary="吊销 API 密钥 / revoke an API key")
def revoke_api_key(key_id: KeyId, db: SessionDep, admin: AdminDep) -> Any:
    """吊销后保留记录 / the record stays, marked revoked."""
    return accounts.revoke_api_key(db, key_id, admin)
