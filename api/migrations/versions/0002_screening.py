"""bulk screening: runs, rows, chunks, results, review decisions; the append-only audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from api.audit import DROP_TRIGGERS, POSTGRES_TRIGGERS, SQLITE_TRIGGERS

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=True),
        sa.Column("target_id", sa.String(length=120), nullable=True),
        sa.Column("before", JSONDoc, nullable=True),
        sa.Column("after", JSONDoc, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_target_id"), "audit_log", ["target_id"], unique=False)
    op.create_table(
        "screening_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("format", sa.String(length=8), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("measures", JSONDoc, nullable=True),
        sa.Column("overrides", JSONDoc, nullable=True),
        sa.Column("rule_pack_version", sa.String(length=80), nullable=False),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.Column("baseline_run_id", sa.String(length=32), nullable=True),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("valid_rows", sa.Integer(), nullable=False),
        sa.Column("invalid_rows", sa.Integer(), nullable=False),
        sa.Column("ignored_columns", JSONDoc, nullable=True),
        sa.Column("error", JSONDoc, nullable=True),
        sa.Column("upload_path", sa.String(length=500), nullable=True),
        sa.Column("import_lease_until", Timestamp, nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=64), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp, nullable=True),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["baseline_run_id"],
            ["screening_runs.id"],
            name=op.f("fk_screening_runs_baseline_run_id_screening_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["source_run_id"],
            ["screening_runs.id"],
            name=op.f("fk_screening_runs_source_run_id_screening_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_runs")),
    )
    op.create_index(op.f("ix_screening_runs_created_at"), "screening_runs", ["created_at"], unique=False)
    op.create_index(
        op.f("ix_screening_runs_source_run_id"), "screening_runs", ["source_run_id"], unique=False
    )
    op.create_index(op.f("ix_screening_runs_status"), "screening_runs", ["status"], unique=False)
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.String(length=80), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("automatic_outcome", sa.String(length=16), nullable=False),
        sa.Column("rule_pack_version", sa.String(length=80), nullable=False),
        sa.Column("benefit_amount", sa.String(length=40), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=64), nullable=False),
        sa.Column("decided_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["screening_runs.id"], name=op.f("fk_review_decisions_run_id_screening_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
    )
    op.create_index("ix_review_decisions_run_row", "review_decisions", ["run_id", "row_no"], unique=False)
    op.create_table(
        "screening_chunks",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.Column("last_row", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("lease_until", Timestamp, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["screening_runs.id"], name=op.f("fk_screening_chunks_run_id_screening_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "chunk_no", name=op.f("pk_screening_chunks")),
    )
    op.create_index("ix_screening_chunks_status", "screening_chunks", ["status", "run_id"], unique=False)
    op.create_table(
        "screening_results",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.String(length=80), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("failed", sa.Text(), nullable=False),
        sa.Column("benefit_amount", sa.String(length=40), nullable=True),
        sa.Column("benefit_tier", sa.String(length=40), nullable=True),
        sa.Column("credit_code", sa.String(length=64), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("rule_pack_version", sa.String(length=80), nullable=False),
        sa.Column("detail", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["screening_runs.id"], name=op.f("fk_screening_results_run_id_screening_runs")
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "row_no", "measure_id", "subject_id", name=op.f("pk_screening_results")
        ),
    )
    op.create_index(
        "ix_screening_results_credit_code_measure",
        "screening_results",
        ["credit_code", "measure_id"],
        unique=False,
    )
    op.create_index(
        "ix_screening_results_run_measure_outcome",
        "screening_results",
        ["run_id", "measure_id", "outcome"],
        unique=False,
    )
    op.create_table(
        "screening_rows",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("credit_code", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("profile", JSONDoc, nullable=True),
        sa.Column("raw", JSONDoc, nullable=True),
        sa.Column("errors", JSONDoc, nullable=True),
        sa.Column("eval_error", JSONDoc, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["screening_runs.id"], name=op.f("fk_screening_rows_run_id_screening_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "row_no", name=op.f("pk_screening_rows")),
    )
    op.create_index("ix_screening_rows_credit_code", "screening_rows", ["credit_code"], unique=False)

    # the audit log refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL), whoever asks
    dialect = op.get_bind().dialect.name
    for statement in (
        POSTGRES_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS if dialect == "sqlite" else []
    ):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    op.drop_table("screening_rows")
    op.drop_table("screening_results")
    op.drop_table("screening_chunks")
    op.drop_table("review_decisions")
    op.drop_table("screening_runs")
    op.drop_table("audit_log")
