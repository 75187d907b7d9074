from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from ..deps import AdminDep, PageDep, SessionDep
from ..routing import CheckedJSONRoute
from ..schemas.common import Page
from ..schemas.users import UserCreate, UserPublic, UserUpdate
from ..services import accounts

router = APIRouter(route_class=CheckedJSONRoute, prefix="/users", tags=["users"])

UserId = Annotated[int, Path(ge=1, le=2_000_000_000)]


@router.get("", response_model=Page[UserPublic], summary="账号列表 / accounts")
def list_users(db: SessionDep, _admin: AdminDep, page: PageDep) -> dict[str, Any]:
    users, total = accounts.list_users(db, page.limit, page.offset)
    return {"items": users, "total": total, "limit": page.limit, "offset": page.offset}


@router.post("", response_model=UserPublic, status_code=201, summary="新建账号 / create an account")
def create_user(body: UserCreate, db: SessionDep, admin: AdminDep) -> Any:
    """企业账号须绑定统一社会信用代码；密码至少 10 个字符，以 Argon2 散列保存。用户名不区分大小写。记入审计日志。"""
    return accounts.create_user(db, body, admin)


@router.get("/{user_id}", response_model=UserPublic, summary="一个账号 / one account")
def get_user(user_id: UserId, db: SessionDep, _admin: AdminDep) -> Any:
    return accounts.get_user(db, user_id)


@router.patch(
    "/{user_id}", response_model=UserPublic, summary="修改账号（停用、改密码、改角色）/ change an account"
)
def update_user(user_id: UserId, body: UserUpdate, db: SessionDep, admin: AdminDep) -> Any:
    """账号不删除（评估记录引用它），停用即可；改密码、停用或改角色会注销它的全部令牌。"""
    return accounts.update_user(db, user_id, body, admin)
