"""huiqi (惠企) HTTP API: self-checks for enterprises, stored and replayable decisions for the bureau.

``api.main.create_app(settings)`` builds the FastAPI application; routers live in ``api.routers``
(one per resource), storage in ``api.models`` / ``api.db`` with Alembic migrations in
``api/migrations``. The API knows no measure by name: everything comes from the rule pack.
"""
