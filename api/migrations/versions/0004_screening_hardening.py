"""screening runs: who is importing (host:pid, so that a restart resumes a dead importer's import at
once) and how many unknown columns a file had (only the first few are kept)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening_runs") as batch:
        batch.add_column(sa.Column("import_owner", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("ignored_total", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening_runs") as batch:
        batch.drop_column("ignored_total")
        batch.drop_column("import_owner")
