"""Schemathesis against the OpenAPI document, on the ASGI app (SQLite and PostgreSQL): no 5xx for
any generated request, and every response matches the schema (status, media type, body, headers).

Bounded: a few dozen examples per operation, so the whole run takes about a minute."""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.config import Settings
from api.main import create_app
from api.screening.settings import ScreeningSettings
from tests.api.conftest import restore_standing_accounts

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


# The document is the same for every database; each request goes to the world's app (SQLite or
# PostgreSQL). A throwaway app without a database renders the document at collection time.
_config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
# Fetching the document runs the app's lifespan: without this, the screening scheduler thread and its
# worker processes would start during collection, against a database with no tables, next to
# pytest parsing the test modules (CPython 3.11's AST construction is not safe against that: a run
# failed with "AST constructor recursion depth mismatch").
_document_app = create_app(Settings(database_url="sqlite://", migrate_on_start=False))
_document_app.state.screening_settings = ScreeningSettings(autostart=False, workers=-1)
schema = schemathesis.openapi.from_asgi("/openapi.json", _document_app, config=_config)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_openapi_fuzz(case, world):
    # as an administrator, so that every operation is reached past authentication
    restore_standing_accounts(world)
    kwargs = case.as_transport_kwargs(headers=world.admin.headers)
    # generated bearer tokens are never valid; the key is (the 401 paths have tests of their own)
    kwargs["headers"] = {k: v for k, v in kwargs.get("headers", {}).items() if k.lower() != "authorization"}
    kwargs["headers"].update(world.admin.headers)
    response = TestClient(world.app, raise_server_exceptions=False).request(**kwargs)
    try:  # a multipart upload is streamed; the checks read what was sent
        response.request.read()
    except (AttributeError, TypeError):  # a generated "file" that is no file (a number, say)
        response.request._content = b""
    case.validate_response(response, checks=CHECKS, headers=world.admin.headers, transport_kwargs=kwargs)
