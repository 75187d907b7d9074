"""Load the example enterprises' profiles (``Settings.examples_dir``) into an empty database."""

from __future__ import annotations

from sqlalchemy import select

from engine import Profile

from .config import Settings
from .db import make_engine, make_sessionmaker, migrate
from .examples import load
from .models import ProfileVersion
from .services.profiles import append_version


def seed_examples(settings: Settings) -> list[tuple[str, str | None, int]]:
    """Each example enterprise gets its profile as version 1 unless it already has one."""
    engine = make_engine(settings)
    migrate(engine)
    out = []
    with make_sessionmaker(engine)() as db:
        for body in load(settings.examples_dir).values():
            profile = Profile.model_validate(body["profile"])
            row = db.scalar(
                select(ProfileVersion)
                .where(ProfileVersion.credit_code == profile.credit_code)
                .order_by(ProfileVersion.version.desc())
                .limit(1)
            )
            if row is None:
                row = append_version(db, profile, None)
            out.append((row.credit_code, row.name, row.version))
    engine.dispose()
    return out
