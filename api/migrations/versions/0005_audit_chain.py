"""the audit log as a hash chain: each entry's SHA-256 covers the entry before it; one head row with
the number of entries and the last hash (entries from before this migration stay unchained)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from api.audit import DROP_TRIGGERS, SQLITE_TRIGGERS

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN in place: the table is not copied, so its triggers (no UPDATE, no DELETE) stay
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(length=64), nullable=True))
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "entries": 0, "last_hash": None}])


def downgrade() -> None:
    op.drop_table("audit_head")
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    if dialect == "sqlite":  # the batch copied the table: its triggers go back on
        for sql in DROP_TRIGGERS["sqlite"] + SQLITE_TRIGGERS:
            op.execute(sql)
