"""accounts: user names unique case-insensitively; the server's secret (HMAC of account names in
login_failures, whose old unkeyed hashes are dropped); the daily quota of stored evaluations

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    # failures counted under unkeyed SHA-256 names would never match the new keyed ones; they are
    # at most one login window old
    op.execute("DELETE FROM login_failures")
    op.create_table(
        "evaluation_quota",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_evaluation_quota_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_evaluation_quota")),
    )
    op.create_index(
        "ix_evaluations_created_by_created_at", "evaluations", ["created_by", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_evaluations_created_by_created_at", table_name="evaluations")
    op.drop_table("evaluation_quota")
    op.drop_table("server_secrets")
    op.drop_index("uq_users_username_lower", table_name="users")
