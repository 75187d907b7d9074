"""API fixtures: the app on SQLite and on PostgreSQL, accounts of every role, helpers.

PostgreSQL tests run against ``HUIQI_TEST_POSTGRES_URL`` (``.ci/run`` starts a server and sets it);
each session gets a fresh database. Locally without the variable they are skipped; in CI
(``CI=true``) a missing URL fails the run instead.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from api.config import Settings
from api.db import migrate
from api.main import create_app
from api.models import AccessToken, ApiKey, Evaluation, EvaluationQuota, LoginFailure, ProfileVersion, User
from api.schemas.users import ApiKeyCreate, UserCreate
from api.services import accounts
from tests.conftest import load_example

ESTABLISHED_CODE = "91370100CA85GF0T94"
YOUNG_CODE = "913701005A35N7UN79"
PASSWORD = "correct-horse-battery"


def _postgres_database() -> Iterator[str]:
    url = os.environ.get("HUIQI_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but HUIQI_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL")
        pytest.skip("HUIQI_TEST_POSTGRES_URL not set (CI sets it; locally PostgreSQL tests are optional)")
    import psycopg

    base = url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"huiqi_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(base, name)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _with_db(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url).set(drivername="postgresql+psycopg", database=name)
    return u.render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'huiqi.db'}"
    else:
        yield from _postgres_database()


@dataclasses.dataclass
class Actor:
    user_id: int
    username: str
    role: str
    credit_code: str | None
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


@dataclasses.dataclass
class World:
    app: FastAPI
    admin: Actor
    reviewer: Actor
    ent_a: Actor  # the established example enterprise
    ent_b: Actor  # the young example enterprise

    @property
    def standing_ids(self) -> list[int]:
        return [self.admin.user_id, self.reviewer.user_id, self.ent_a.user_id, self.ent_b.user_id]


def _actor(db, username: str, role: str, credit_code: str | None) -> Actor:
    user = accounts.create_user(
        db, UserCreate(username=username, password=PASSWORD, role=role, credit_code=credit_code)
    )
    key = accounts.create_api_key(db, ApiKeyCreate(user_id=user.id, name="tests")).key
    return Actor(user.id, username, role, credit_code, key)


def make_settings(database_url: str, **kw) -> Settings:
    return Settings(database_url=database_url, **kw)


@pytest.fixture(scope="session")
def world(database_url) -> Iterator[World]:
    app = create_app(make_settings(database_url, backend="python"))
    migrate(app.state.db_engine)
    with app.state.sessionmaker() as db:
        w = World(
            app=app,
            admin=_actor(db, "admin", "admin", None),
            reviewer=_actor(db, "reviewer", "reviewer", None),
            ent_a=_actor(db, "ent-a", "enterprise", ESTABLISHED_CODE),
            ent_b=_actor(db, "ent-b", "enterprise", YOUNG_CODE),
        )
    yield w
    app.state.db_engine.dispose()


def restore_standing_accounts(world: World) -> None:
    """The four standing accounts and their keys as the world made them (a test or the fuzzer
    may have disabled, re-roled or revoked them)."""
    with world.app.state.sessionmaker() as db:
        for actor in (world.admin, world.reviewer, world.ent_a, world.ent_b):
            user = db.get(User, actor.user_id)
            user.role, user.credit_code, user.is_active = actor.role, actor.credit_code, True
        db.execute(
            update(ApiKey)
            .where(ApiKey.user_id.in_(world.standing_ids))
            .values(revoked_at=None, expires_at=None)
        )
        db.commit()


@pytest.fixture
def client(world) -> Iterator[TestClient]:
    """A client on a clean slate: the standing accounts stay, everything else is removed."""
    factory = world.app.state.sessionmaker
    with factory() as db:
        standing = world.standing_ids
        db.execute(delete(Evaluation))
        db.execute(delete(ProfileVersion))
        db.execute(delete(AccessToken))
        db.execute(delete(LoginFailure))
        db.execute(delete(EvaluationQuota))
        db.execute(delete(ApiKey).where(ApiKey.user_id.not_in(standing)))
        db.execute(delete(User).where(User.id.not_in(standing)))
        db.commit()
    restore_standing_accounts(world)
    # no lifespan: the world fixture migrated already, and shutdown would dispose the shared pool
    yield TestClient(world.app, raise_server_exceptions=False)


@pytest.fixture
def established_body() -> dict:
    return copy.deepcopy(load_example("enterprise-established"))


@pytest.fixture
def young_body() -> dict:
    return copy.deepcopy(load_example("enterprise-young-incomplete"))


def assert_problem(response, status: int, kind: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://huiqi.example/problems/")
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text
    if kind is not None:
        assert body["type"].endswith("/" + kind), body
    return body


RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


@contextlib.contextmanager
def app_settings(app: FastAPI, **changes) -> Iterator[None]:
    """The app's settings with ``changes`` for the block (pytest's monkeypatch cannot restore an
    attribute of Starlette's ``State``: it deletes it)."""
    saved = app.state.settings
    app.state.settings = saved.model_copy(update=changes)
    try:
        yield
    finally:
        app.state.settings = saved
