"""screening: a chunk's profiles and verdicts as Parquet documents on the chunk; screening_results,
one row of JSON per result, goes (its results move onto their chunks)

Runs stored before keep their rows' profile JSON (``screening_rows.profile``: evaluated and
explained from it as before) and their results' words as they were stored (the ``words`` column of
a stored verdict). Going down restores ``screening_results`` from the verdicts (outcome, failed
criteria, missing facts, benefit; the criteria's statuses are not restored) and the profiles held
in Parquet back onto their rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CHAR = {"met": "m", "unmet": "u", "unknown": "?", "manual_review": "!"}
# the stored verdict's columns as of this revision (api/screening/store.py RESULTS)
RESULTS: dict[str, Any] = {
    "row": pl.Int64,
    "measure_id": pl.Utf8,
    "subject_id": pl.Utf8,
    "subject_name": pl.Utf8,
    "outcome": pl.Utf8,
    "statuses": pl.Utf8,
    "missing_facts": pl.List(pl.Utf8),
    "reason": pl.Utf8,
    "benefit_tier": pl.Utf8,
    "benefit_amount": pl.Utf8,
    "failed": pl.List(pl.Utf8),
    "as_of": pl.Date,
    "words": pl.Utf8,
}

chunks = sa.table(
    "screening_chunks",
    sa.column("run_id", sa.String),
    sa.column("chunk_no", sa.Integer),
    sa.column("first_row", sa.Integer),
    sa.column("last_row", sa.Integer),
    sa.column("status", sa.String),
    sa.column("profiles", sa.LargeBinary),
    sa.column("results", sa.LargeBinary),
)
results = sa.table(
    "screening_results",
    sa.column("run_id", sa.String),
    sa.column("row_no", sa.Integer),
    sa.column("measure_id", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("subject_kind", sa.String),
    sa.column("outcome", sa.String),
    sa.column("failed", sa.Text),
    sa.column("benefit_amount", sa.String),
    sa.column("benefit_tier", sa.String),
    sa.column("credit_code", sa.String),
    sa.column("region_code", sa.String),
    sa.column("rule_pack_version", sa.String),
    sa.column("detail", JSONDoc),
)
rows = sa.table(
    "screening_rows",
    sa.column("run_id", sa.String),
    sa.column("row_no", sa.Integer),
    sa.column("credit_code", sa.String),
    sa.column("region_code", sa.String),
    sa.column("profile", JSONDoc),
)
runs = sa.table("screening_runs", sa.column("id", sa.String), sa.column("rule_pack_version", sa.String))


def _parquet(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf, compression="zstd", statistics=False)
    return buf.getvalue()


def _failed(c: dict[str, Any]) -> bool:
    return (
        c.get("status") == "unmet" and c.get("decisive", True) and c.get("kind", "criterion") in ("criterion", "not")
    )


def _words(outcome: str, detail: dict[str, Any]) -> str:
    """The reasons as the export showed them from a stored result (the code of revision 0006)."""
    crit = detail.get("criteria") or []
    if outcome == "ineligible":
        return "；".join(c.get("explanation", c.get("id", "")) for c in crit if _failed(c))
    if outcome == "undetermined":
        labels = detail.get("missing_labels") or detail.get("missing") or []
        return "缺少：" + "、".join(labels) if labels else ""
    if outcome == "needs_review":
        return "；".join(
            c.get("explanation", "") for c in crit if c.get("status") == "manual_review" and c.get("kind") != "not"
        )
    if outcome == "eligible":
        b = detail.get("benefit") or {}
        bits = [x for x in (b.get("tier_label"), b.get("amount_display")) if x]
        return "预计：" + " ".join(bits) if bits else ""
    return ""


def _verdict(r: Any) -> dict[str, Any]:
    detail = r.detail or {}
    return {
        "row": r.row_no,
        "measure_id": r.measure_id,
        "subject_id": r.subject_id or None,
        "subject_name": detail.get("subject_name"),
        "outcome": r.outcome,
        "statuses": "".join(CHAR.get(c.get("status"), "?") for c in detail.get("criteria") or []) or None,
        "missing_facts": [m["path"] if isinstance(m, dict) else str(m) for m in detail.get("missing") or []],
        "reason": None,
        "benefit_tier": r.benefit_tier,
        "benefit_amount": r.benefit_amount,
        "failed": [x for x in (r.failed or "").split(",") if x],
        "as_of": None,
        "words": _words(r.outcome, detail),
    }


def upgrade() -> None:
    op.add_column("screening_chunks", sa.Column("profiles", sa.LargeBinary(), nullable=True))
    op.add_column("screening_chunks", sa.Column("results", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    done = conn.execute(
        sa.select(chunks.c.run_id, chunks.c.chunk_no, chunks.c.first_row, chunks.c.last_row).where(
            chunks.c.status == "done"
        )
    ).all()
    for run_id, chunk_no, first, last in done:
        found = conn.execute(
            sa.select(results)
            .where(results.c.run_id == run_id, results.c.row_no.between(first, last))
            .order_by(results.c.row_no, results.c.measure_id, results.c.subject_id)
        ).all()
        blob = _parquet(pl.DataFrame([_verdict(r) for r in found], schema=RESULTS))
        conn.execute(
            sa.update(chunks)
            .where(chunks.c.run_id == run_id, chunks.c.chunk_no == chunk_no)
            .values(results=blob)
        )
    op.drop_index("ix_screening_results_credit_code_measure", table_name="screening_results")
    op.drop_index("ix_screening_results_run_measure_outcome", table_name="screening_results")
    op.drop_table("screening_results")


def downgrade() -> None:
    from engine.table import profile_of

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
        sa.PrimaryKeyConstraint("run_id", "row_no", "measure_id", "subject_id", name=op.f("pk_screening_results")),
    )
    op.create_index(
        "ix_screening_results_credit_code_measure", "screening_results", ["credit_code", "measure_id"], unique=False
    )
    op.create_index(
        "ix_screening_results_run_measure_outcome",
        "screening_results",
        ["run_id", "measure_id", "outcome"],
        unique=False,
    )
    conn = op.get_bind()
    versions = dict(conn.execute(sa.select(runs.c.id, runs.c.rule_pack_version)).all())
    stored = conn.execute(
        sa.select(chunks.c.run_id, chunks.c.chunk_no, chunks.c.profiles, chunks.c.results).where(
            (chunks.c.profiles.is_not(None)) | (chunks.c.results.is_not(None))
        )
    ).all()
    for run_id, _chunk_no, profiles, verdicts in stored:
        if profiles:
            for r in pl.read_parquet(io.BytesIO(profiles)).iter_rows(named=True):
                conn.execute(
                    sa.update(rows)
                    .where(rows.c.run_id == run_id, rows.c.row_no == r["row"])
                    .values(profile=profile_of(r))
                )
        if not verdicts:
            continue
        info = {
            n: (code, region)
            for n, code, region in conn.execute(
                sa.select(rows.c.row_no, rows.c.credit_code, rows.c.region_code).where(rows.c.run_id == run_id)
            )
        }
        out = []
        for v in pl.read_parquet(io.BytesIO(verdicts)).iter_rows(named=True):
            code, region = info.get(v["row"], (None, None))
            out.append(
                {
                    "run_id": run_id,
                    "row_no": v["row"],
                    "measure_id": v["measure_id"],
                    "subject_id": v["subject_id"] or "",
                    "subject_kind": "project" if v["subject_id"] else "enterprise",
                    "outcome": v["outcome"],
                    "failed": "," + ",".join(v["failed"]) + "," if v["failed"] else "",
                    "benefit_amount": v["benefit_amount"],
                    "benefit_tier": v["benefit_tier"],
                    "credit_code": code,
                    "region_code": region,
                    "rule_pack_version": versions.get(run_id, ""),
                    "detail": {
                        "criteria": [],
                        "missing": list(v["missing_facts"] or []),
                        "missing_labels": list(v["missing_facts"] or []),
                        "benefit": {"amount": v["benefit_amount"], "tier": v["benefit_tier"]}
                        if v["benefit_amount"] or v["benefit_tier"]
                        else None,
                        "subject_name": v["subject_name"],
                    },
                }
            )
        if out:
            conn.execute(sa.insert(results), out)
    op.drop_column("screening_chunks", "results")
    op.drop_column("screening_chunks", "profiles")
