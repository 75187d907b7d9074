"""Alembic migrations apply to an empty database, go down and up again; the models match them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from api.config import Settings
from api.db import Base, downgrade, migrate
from api.main import create_app

# building the app imports every model it uses (later packages' too), so all are on Base.metadata
create_app(Settings(database_url="sqlite://", migrate_on_start=False))


def _check(engine) -> None:
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "users",
        "api_keys",
        "access_tokens",
        "profile_versions",
        "evaluations",
        "alembic_version",
    } <= tables
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    migrate(engine)  # a second start is a no-op


def test_migrations_on_a_fresh_database(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        _check(engine)
        engine.dispose()
        return
    from tests.api.conftest import _postgres_database

    gen = _postgres_database()
    url = next(gen)
    engine = create_engine(url)
    try:
        _check(engine)
    finally:
        engine.dispose()
        gen.close()


def test_sqlite_writers_queue_on_the_write_gate(tmp_path):
    """Many threads storing at once all succeed, and a session that only reads takes no gate."""
    import threading

    from api.db import make_engine, make_sessionmaker
    from api.models import ProfileVersion

    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'gate.db'}"))
    migrate(engine)
    factory = make_sessionmaker(engine)
    errors = []

    def write(n: int) -> None:
        try:
            for i in range(5):
                with factory() as db:
                    db.add(ProfileVersion(credit_code=f"{n:018d}", version=i + 1, profile={"n": str(n)}))
                    db.commit()
        except Exception as e:  # pragma: no cover - the failure is reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with factory() as reader, factory() as writer:
        assert reader.query(ProfileVersion).count() == 40
        assert "write_gate" not in reader.info
        # a second writing session in the same thread does not wait on the first
        writer.add(ProfileVersion(credit_code="X" * 18, version=1, profile={}))
        writer.flush()
        reader.add(ProfileVersion(credit_code="Y" * 18, version=1, profile={}))
        reader.rollback()
        writer.commit()
    engine.dispose()
