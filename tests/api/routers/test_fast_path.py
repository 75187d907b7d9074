"""The anonymous self-check is answered without the framework (api/fastpath.py): its answers are
byte for byte those of the FastAPI route, and everything else still reaches the route."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.db import migrate
from api.fastpath import AnonymousEvaluations
from api.main import create_app
from tests.population import AS_OF, population


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    """The service as it is, and the same service with the fast path taken out."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fastpath') / 'huiqi.db'}"
    fast = create_app(Settings(database_url=url, migrate_on_start=False))
    migrate(fast.state.db_engine)
    slow = create_app(Settings(database_url=url, migrate_on_start=False))
    slow.user_middleware = [m for m in slow.user_middleware if m.cls is not AnonymousEvaluations]
    with TestClient(fast, raise_server_exceptions=False) as f, TestClient(slow, raise_server_exceptions=False) as s:
        yield f, s
    fast.state.db_engine.dispose()
    slow.state.db_engine.dispose()


def _same(clients, body: bytes | str, params: str = "", headers: dict | None = None) -> tuple[int, bool]:
    fast, slow = clients
    h = {"content-type": "application/json", **(headers or {})}
    before = AnonymousEvaluations.answered
    a = fast.post("/v1/evaluations" + params, content=body, headers=h)
    taken = AnonymousEvaluations.answered > before
    b = slow.post("/v1/evaluations" + params, content=body, headers=h)
    assert AnonymousEvaluations.answered == before + taken  # the slow app never takes it
    assert a.status_code == b.status_code, (a.text[:300], b.text[:300])
    assert dict(a.headers) == dict(b.headers)
    if a.status_code >= 400 and "instance" in a.text:  # a problem's own id differs from answer to answer
        x, y = a.json(), b.json()
        x.pop("request_id", None), y.pop("request_id", None)
        assert x == y
    else:
        assert a.content == b.content
    return a.status_code, taken


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"detail": "full"},
        {"lang": "en"},
        {"measures": ["hte-recognition", "land-use-priority"]},
        {"detail": "full", "lang": "en", "measures": ["tsme-evaluation"]},
    ],
)
def test_a_plain_success_is_answered_by_the_fast_path_exactly_as_by_the_route(clients, variant):
    for p in population(40, seed=hash(json.dumps(variant)) % 1000):
        status, taken = _same(clients, json.dumps({"profile": p, "as_of": AS_OF.isoformat(), **variant}))
        assert status == 200 and taken


@pytest.mark.parametrize(
    ("params", "headers"),
    [("?lang=en", {}), ("?lang=zh", {"accept-language": "en"}), ("", {"accept-language": "en-GB,en;q=0.9"})],
)
def test_the_language_is_chosen_as_the_route_chooses_it(clients, params, headers):
    p = population(3, seed=9)[1]
    status, taken = _same(clients, json.dumps({"profile": p, "as_of": AS_OF.isoformat()}), params, headers)
    assert status == 200 and taken


@pytest.mark.parametrize(
    ("body", "params", "headers"),
    [
        ("{not json", "", {}),
        ('{"profile": {"credit_code": "123"}}', "", {}),
        ('{"profile": {"credit_code": "91370100CA85GF0T94"}, "measures": ["no-such-measure"]}', "", {}),
        ('{"profile": {"credit_code": "91370100CA85GF0T94"}, "detail": "everything"}', "", {}),
        ('{"profile": {"credit_code": "91370100CA85GF0T94"}}', "?lang=fr", {}),
        ('{"profile": {"credit_code": "91370100CA85GF0T94", "name": "a\\u0000b"}}', "", {}),
        ('{"profile": {"credit_code": "91370100CA85GF0T94"}}', "", {"x-api-key": "not-a-key"}),
        ('{"profile": {"credit_code": "91370100CA85GF0T94"}}', "", {"authorization": "Bearer nope"}),
        ('{"profile": {"credit_code": "91370100CA85GF0T94"}}', "", {"content-type": "text/plain"}),
    ],
)
def test_everything_else_is_answered_by_the_route(clients, body, params, headers):
    status, taken = _same(clients, body, params, headers)
    assert status >= 400 and not taken


def test_other_query_parameters_go_to_the_route(clients):
    """A parameter the route ignores is still the route's to ignore."""
    p = population(2, seed=4)[0]
    status, taken = _same(clients, json.dumps({"profile": p, "as_of": AS_OF.isoformat()}), "?lang=en&x=1")
    assert status == 200 and not taken
