"""Alembic environment: the engine comes from ``api.db.migrate`` (or ``HUIQI_DATABASE_URL``)."""

from __future__ import annotations

from alembic import context

from api import models  # noqa: F401  (registers the tables on Base.metadata)
from api.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from api.config import Settings
        from api.db import make_engine

        engine = make_engine(Settings())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
