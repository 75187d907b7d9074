"""Command line for the service: ``huiqi users …`` (accounts) and ``python -m api …`` (database, examples).

Nothing ships with a default password: the first administrator is made with ``huiqi users add``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from engine.cli import app as huiqi
from intake.cli import register as register_intake

users_app = typer.Typer(help="账号 / accounts of the HTTP API", no_args_is_help=True)
service_app = typer.Typer(
    help="惠企 API 服务 / the huiqi HTTP service", no_args_is_help=True, add_completion=False
)


def _session():
    from .config import get_settings
    from .db import make_engine, make_sessionmaker, migrate

    engine = make_engine(get_settings())
    migrate(engine)
    return make_sessionmaker(engine)()


def _operator():
    """Who acts at the command line, for the audit log: the operating-system user."""
    import getpass

    from .audit import CommandLine

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = str(os.getuid())
    return CommandLine(f"cli:{who}")


def _fail(msg: str, code: int = 2) -> None:
    typer.echo(msg, err=True)
    raise typer.Exit(code)


@users_app.command("add")
def add_user(
    username: Annotated[str, typer.Option("--username", "-u", help="用户名 / username")],
    role: Annotated[str, typer.Option("--role", help="admin | reviewer | enterprise")],
    credit_code: Annotated[
        str | None, typer.Option("--credit-code", help="企业账号绑定的统一社会信用代码 / for role enterprise")
    ] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="显示名称")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="从标准输入读取密码（一行）/ read the password from stdin"),
    ] = False,
) -> None:
    """新建账号（密码在提示时输入，或 --password-stdin）/ create an account; the password is prompted for."""
    from .problems import ApiProblem
    from .schemas.users import UserCreate
    from .services.accounts import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    try:
        data = UserCreate(
            username=username,
            password=password,
            role=role,
            credit_code=credit_code,
            display_name=display_name,
        )
    except ValidationError as e:
        from engine import field_path

        from .problems import field_message

        _fail("\n".join(f"{field_path(x['loc'])}: {field_message(x, 'zh')}" for x in e.errors()))
    with _session() as db:
        try:
            user = create_user(db, data, _operator())
        except ApiProblem as p:
            _fail(p.detail[0] + " / " + p.detail[1] if p.detail else p.kind)
        typer.echo(f"已创建账号 / created: id={user.id} username={user.username} role={user.role}")


@users_app.command("list")
def list_users() -> None:
    """列出账号 / list accounts."""
    from .services.accounts import list_users as _list

    with _session() as db:
        users, _ = _list(db, 10_000, 0)
        for u in users:
            state = "active" if u.is_active else "disabled"
            typer.echo(f"{u.id}\t{u.username}\t{u.role}\t{u.credit_code or '-'}\t{state}")


@users_app.command("key")
def create_key(
    username: Annotated[str, typer.Option("--username", "-u", help="密钥所属账号 / the account")],
    name: Annotated[str, typer.Option("--name", help="用途 / what the key is for")] = "cli",
    expires_in_days: Annotated[int | None, typer.Option("--expires-in-days")] = None,
) -> None:
    """为账号签发 API 密钥并打印（仅此一次）/ issue an API key for an account and print it once."""

    from .schemas.users import ApiKeyCreate
    from .services.accounts import create_api_key, find_user

    with _session() as db:
        user = find_user(db, username)
        if user is None:
            _fail(f"没有账号 {username} / no such account")
        created = create_api_key(
            db, ApiKeyCreate(user_id=user.id, name=name, expires_in_days=expires_in_days), _operator()
        )
        typer.echo(created.key)


@service_app.command("migrate")
def migrate_cmd() -> None:
    """建库并执行迁移 / create the database and apply the migrations."""
    from .config import get_settings
    from .db import make_engine, migrate

    migrate(make_engine(get_settings()))
    typer.echo("数据库已是最新 / database up to date")


@service_app.command("prepare")
def prepare(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """建库、迁移、载入示例企业画像，并打印地址（make run 用）/ migrate, load example enterprises, print the address."""
    from .config import get_settings
    from .seed import seed_examples

    settings = get_settings()
    loaded = seed_examples(settings)
    for code, name, version in loaded:
        typer.echo(f"  示例企业 / example enterprise: {name} {code}（画像第 {version} 版）")
    typer.echo(
        f"\n惠企 API: http://{host}:{port}    文档 / docs: http://{host}:{port}/docs\n"
        f"数据库 / database: {settings.database_url}\n"
        "新建管理员 / first admin:  .venv/bin/huiqi users add --username admin --role admin\n"
    )


@service_app.command("openapi")
def openapi_cmd() -> None:
    """打印 OpenAPI 文档 / print the OpenAPI document."""
    from .config import get_settings
    from .main import create_app

    settings = get_settings().model_copy(update={"migrate_on_start": False})
    sys.stdout.write(json.dumps(create_app(settings).openapi(), ensure_ascii=False, indent=2) + "\n")


audit_app = typer.Typer(help="审计日志 / the audit log", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            help="之前记下的链头哈希，须仍在链中 / a head hash noted earlier, which must still be in the chain",
        ),
    ] = None,
) -> None:
    """逐条核对审计日志的哈希链，报告第一处断开 / check the audit log's hash chain; report the first broken link.

    Exit status 0 when the chain is whole, 1 when it is broken (the entry is named)."""
    from .audit import verify

    with _session() as db:
        v = verify(db, anchor)
    typer.echo(f"审计日志 / audit log: {v.entries} 条 / entries ({v.legacy} 条早于哈希链 / before the chain)")
    if v.broken_id is not None:
        typer.echo(f"断开 / BROKEN at entry id={v.broken_id}: {v.reason}", err=True)
        raise typer.Exit(1)
    if v.reason is not None:
        typer.echo(f"断开 / BROKEN at the end of the chain: {v.reason}", err=True)
        raise typer.Exit(1)
    if v.anchor_found is False:
        typer.echo(f"断开 / BROKEN: the anchor {anchor} is not in the chain (it was rewritten)", err=True)
        raise typer.Exit(1)
    typer.echo(f"完整 / intact. 链头 / head: {v.head_hash}")


# the `huiqi` command: the engine's commands (check, measures, rules …), the intake's (screen,
# template) and the service's accounts, assembled here where all are visible (the engine knows
# nothing of the intake or the service)
register_intake(huiqi)
huiqi.add_typer(users_app, name="users")
huiqi.add_typer(audit_app, name="audit")
