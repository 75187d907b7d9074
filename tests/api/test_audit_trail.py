"""Every security-relevant action is in the audit log; the log is a hash chain that ``huiqi audit
verify`` checks, naming the first broken link."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from api import audit
from api.cli import huiqi as cli
from api.config import Settings, get_settings
from api.db import migrate
from api.main import create_app
from tests.api.conftest import ESTABLISHED_CODE, PASSWORD, _postgres_database


def _entries(world, action: str) -> list[audit.AuditEntry]:
    with world.app.state.sessionmaker() as db:
        return list(db.scalars(select(audit.AuditEntry).where(audit.AuditEntry.action == action)))


def test_accounts_keys_logins_and_profiles_are_audited(client, world, established_body):
    admin = world.admin.headers
    r = client.post(
        "/v1/users",
        json={"username": "new-admin", "password": "a-long-passphrase", "role": "admin"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    created = [e for e in _entries(world, "account.create") if e.target_id == str(uid)]
    assert created and created[-1].actor == "admin" and created[-1].after["role"] == "admin"
    key = client.post("/v1/api-keys", json={"user_id": uid, "name": "脚本"}, headers=admin).json()
    assert any(
        e.target_id == str(key["id"]) and e.actor == "admin" for e in _entries(world, "api_key.create")
    )
    r = client.patch(
        f"/v1/users/{uid}", json={"role": "reviewer", "password": "another-passphrase"}, headers=admin
    )
    assert r.status_code == 200
    change = [e for e in _entries(world, "account.update") if e.target_id == str(uid)][-1]
    assert (change.before["role"], change.after["role"]) == ("admin", "reviewer")
    assert change.after["password_changed"] is True and "password" not in change.after
    assert change.after["revoked_api_keys"] == [key["id"]]
    second = client.post("/v1/api-keys", json={"user_id": uid, "name": "二"}, headers=admin).json()
    client.delete(f"/v1/api-keys/{second['id']}", headers=admin)
    assert any(e.target_id == str(second["id"]) for e in _entries(world, "api_key.revoke"))
    # logins, good and bad, and logouts
    bad = client.post("/v1/auth/token", data={"username": "new-admin", "password": "wrong-password!"})
    assert bad.status_code == 401
    failed = _entries(world, "auth.login_failed")[-1]
    assert "new-admin" not in str(failed.target_id) + str(failed.after), "the name typed is not kept"
    token = client.post("/v1/auth/token", data={"username": "new-admin", "password": "another-passphrase"})
    assert token.status_code == 200
    assert _entries(world, "auth.login")[-1].actor == "new-admin"
    client.post("/v1/auth/logout", headers={"Authorization": "Bearer " + token.json()["access_token"]})
    assert _entries(world, "auth.logout")[-1].target_id == str(uid)
    # an enterprise storing its profile
    r = client.put(
        f"/v1/enterprises/{ESTABLISHED_CODE}/profile",
        json=established_body["profile"],
        headers=world.ent_a.headers,
    )
    assert r.status_code == 201
    put = _entries(world, "profile.put")[-1]
    assert put.actor == "ent-a" and put.target_id == f"{ESTABLISHED_CODE}/{r.json()['version']}"
    with world.app.state.sessionmaker() as db:
        assert audit.verify(db).ok


def test_the_command_line_is_audited_as_the_operator(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HUIQI_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(
            cli,
            ["users", "add", "-u", "first-admin", "--role", "admin", "--password-stdin"],
            input=PASSWORD + "\n",
        )
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(cli, ["users", "key", "-u", "First-Admin"])  # names are case-insensitive
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(cli, ["audit", "verify"])
        assert r.exit_code == 0 and "完整 / intact" in r.output, r.output
    finally:
        get_settings.cache_clear()
    app = create_app(Settings(database_url=url, migrate_on_start=False))
    with app.state.sessionmaker() as db:
        entries = list(db.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.id)))
    assert [e.action for e in entries] == ["account.create", "api_key.create"]
    assert all(e.actor.startswith("cli:") and e.actor_role == "cli" for e in entries)
    app.state.db_engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_db(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chain.db'}"
    else:
        yield from _postgres_database()


def _disable_triggers(conn, dialect: str) -> None:
    for sql in audit.DROP_TRIGGERS[dialect]:
        conn.execute(text(sql))


def test_tampering_with_the_log_in_the_database_is_found_at_the_first_broken_link(fresh_db, monkeypatch):
    app = create_app(Settings(database_url=fresh_db, migrate_on_start=False))
    engine = app.state.db_engine
    migrate(engine)
    factory = app.state.sessionmaker
    ids = []
    for i in range(6):
        with factory() as db:
            ids.append(
                audit.record(db, None, "screening.export", "screening", f"run{i}", after={"n": i}).id or 0
            )
            db.commit()
    with factory() as db:
        ids = list(db.scalars(select(audit.AuditEntry.id).order_by(audit.AuditEntry.id)))
        good = audit.verify(db)
    assert good.ok and good.entries == 6
    anchor = good.head_hash
    monkeypatch.setenv("HUIQI_DATABASE_URL", fresh_db)
    get_settings.cache_clear()
    try:
        ok = CliRunner().invoke(cli, ["audit", "verify", "--anchor", anchor])
        assert ok.exit_code == 0 and anchor in ok.output, ok.output
        # someone with the database's rights drops the triggers and rewrites an entry
        with engine.begin() as conn:
            _disable_triggers(conn, engine.dialect.name)
            conn.execute(text("UPDATE audit_log SET target_id = 'other' WHERE id = :id"), {"id": ids[2]})
        broken = CliRunner().invoke(cli, ["audit", "verify"])
        assert broken.exit_code == 1 and f"id={ids[2]}" in broken.output, broken.output
        # … or removes one (and rewrites the rest so that the changed one is gone)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[2]})
        broken = CliRunner().invoke(cli, ["audit", "verify"])
        assert broken.exit_code == 1 and f"id={ids[3]}" in broken.output, broken.output
        # … or cuts off the tail
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE id >= :id"), {"id": ids[2]})
        broken = CliRunner().invoke(cli, ["audit", "verify"])
        assert broken.exit_code == 1 and "end of the chain" in broken.output, broken.output
        # … or rewrites everything consistently: the anchor noted earlier is no longer there
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
            conn.execute(text("UPDATE audit_head SET entries = 0, last_hash = NULL"))
        with factory() as db:
            audit.record(db, None, "screening.export", "screening", "forged")
            db.commit()
        assert CliRunner().invoke(cli, ["audit", "verify"]).exit_code == 0
        forged = CliRunner().invoke(cli, ["audit", "verify", "--anchor", anchor])
        assert forged.exit_code == 1 and "anchor" in forged.output
    finally:
        get_settings.cache_clear()
        engine.dispose()
