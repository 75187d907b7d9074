"""/healthz and /readyz."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from tests.api.conftest import assert_problem


def test_healthz_and_readyz(client, world):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["database"] == "ok"
    assert ready["rule_pack_version"] == world.app.state.engine.version


def test_readyz_is_503_when_the_database_cannot_be_reached():
    # nothing listens on port 1 of the loopback
    app = create_app(Settings(database_url="postgresql://nobody:x@127.0.0.1:1/none", migrate_on_start=False))
    r = TestClient(app).get("/readyz")
    assert_problem(r, 503, "not-ready")
