"""``huiqi users add``: the first administrator; no default password."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api import security
from api.cli import huiqi as app
from api.config import get_settings
from api.models import User


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HUIQI_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _users(url):
    engine = create_engine(url)
    with Session(engine) as db:
        return {u.username: u for u in db.scalars(select(User))}


def test_users_add_admin_with_password_from_stdin(cli_db):
    r = CliRunner().invoke(
        app,
        ["users", "add", "--username", "root-admin", "--role", "admin", "--password-stdin"],
        input="a-long-passphrase\n",
    )
    assert r.exit_code == 0, r.output
    user = _users(cli_db)["root-admin"]
    assert user.role == "admin" and user.password_hash.startswith("$argon2")
    assert security.verify_password("a-long-passphrase", user.password_hash)


def test_users_add_prompts_for_the_password_twice(cli_db):
    r = CliRunner().invoke(
        app,
        ["users", "add", "-u", "ent-x", "--role", "enterprise", "--credit-code", "91370100CA85GF0T94"],
        input="a-long-passphrase\na-long-passphrase\n",
    )
    assert r.exit_code == 0, r.output
    assert _users(cli_db)["ent-x"].credit_code == "91370100CA85GF0T94"


def test_users_add_refuses_weak_passwords_and_enterprise_without_code(cli_db):
    r = CliRunner().invoke(
        app, ["users", "add", "-u", "weak", "--role", "admin", "--password-stdin"], input="short\n"
    )
    assert r.exit_code == 2 and "至少 10 个字符" in r.output
    r = CliRunner().invoke(
        app,
        ["users", "add", "-u", "ent-y", "--role", "enterprise", "--password-stdin"],
        input="a-long-passphrase\n",
    )
    assert r.exit_code == 2 and "credit_code" in r.output
    # nothing was written: not even the database was created
    assert not Path(cli_db.removeprefix("sqlite:///")).exists()


def test_users_key_prints_a_working_key(cli_db):
    CliRunner().invoke(
        app,
        ["users", "add", "-u", "svc", "--role", "reviewer", "--password-stdin"],
        input="a-long-passphrase\n",
    )
    r = CliRunner().invoke(app, ["users", "key", "-u", "svc", "--name", "bench"])
    assert r.exit_code == 0 and r.output.strip().startswith("hqk_")
