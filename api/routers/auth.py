from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from ..deps import PrincipalDep, SessionDep, SettingsDep, client_address
from ..routing import CheckedJSONRoute
from ..schemas.users import TokenPublic, UserPublic
from ..services import accounts

router = APIRouter(route_class=CheckedJSONRoute, prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenPublic,
    summary="用户名密码登录，取得令牌 / password login → bearer token",
    responses={
        401: {"description": "用户名或密码错误 / wrong username or password"},
        429: {
            "description": "登录失败次数过多，Retry-After 秒后再试 / too many failed logins; retry after Retry-After seconds"
        },
    },
    operation_id="createToken",
)
def login(
    username: Annotated[str, Form(min_length=1, max_length=64, description="用户名 / username")],
    password: Annotated[str, Form(min_length=1, max_length=256, description="密码 / password")],
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> dict[str, Any]:
    """OAuth2 密码模式（表单 application/x-www-form-urlencoded）。之后以 ``Authorization: Bearer <令牌>`` 调用。
    登录失败过多时须等待，答复 429 与 Retry-After（默认：同一账号在同一客户端 15 分钟内 5 次，同一客户端 20 次，
    同一账号 50 次；见 HUIQI_LOGIN_*）。

    OAuth2 password flow (form-encoded); then send ``Authorization: Bearer <token>``. Too many failed
    logins get 429 with Retry-After (by default 5 of one account from one client in 15 minutes, 20
    from one client, 50 of one account; see HUIQI_LOGIN_*)."""
    client = accounts.client_key(client_address(request))
    user = accounts.authenticate(db, username, password, client, accounts.LoginPolicy.from_settings(settings))
    token, expires = accounts.issue_token(db, user, settings.token_ttl_minutes)
    response.headers["Cache-Control"] = "no-store"
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": settings.token_ttl_minutes * 60,
        "expires_at": expires,
        "user": UserPublic.model_validate(user),
    }


@router.post(
    "/logout", status_code=204, summary="注销当前令牌 / revoke the current token", operation_id="revokeToken"
)
def logout(request: Request, db: SessionDep, principal: PrincipalDep) -> Response:
    if principal.via == "token":
        accounts.revoke_token(db, request.headers["authorization"].partition(" ")[2].strip(), principal)
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic, summary="当前账号 / who am I", operation_id="getCurrentUser")
def me(db: SessionDep, principal: PrincipalDep) -> Any:
    return accounts.get_user(db, principal.user_id)
