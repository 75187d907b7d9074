"""Storage of screening runs (SQLAlchemy, on the API's shared ``Base``).

A run's rows are stored at import in chunks of a few thousand. Every row has a ``screening_rows``
entry (its number, credit code, name, district, own assessment date; a row with bad cells keeps the
cells as given and every error, so nothing is lost). The validated profiles of a chunk are one
Parquet document on the chunk (``profiles``: rows of the profile table, ``engine/table.py``, which
gives each profile back whole); a profile the table cannot hold exactly keeps its JSON on its row.

Workers claim chunks through the database, evaluate a chunk's profiles as a table (the columnar
evaluator of the rule pack) and store its verdicts (``results``: a Parquet document of the verdict
table, ``store.py``) with the chunk's "done" mark in one transaction, so that a worker that dies
leaves either all of a chunk's verdicts or none. Verdicts carry no words: they are rendered when a
page or an export asks. Review decisions are appended, never changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JSONDoc, UTCDateTime, utcnow

RUN_KINDS = ("applications", "impact", "proactive")
RUN_STATUSES = ("importing", "queued", "running", "done", "failed")


class ScreeningRun(Base):
    __tablename__ = "screening_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="applications")
    status: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(255))
    format: Mapped[str | None] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(2), default="zh")
    as_of: Mapped[dt.date] = mapped_column(Date)
    measures: Mapped[list[str] | None] = mapped_column(JSONDoc)
    overrides: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    rule_pack_version: Mapped[str] = mapped_column(String(80))
    # impact runs evaluate the rows of the run they compare with; the rows are not copied
    source_run_id: Mapped[str | None] = mapped_column(ForeignKey("screening_runs.id"), index=True)
    # impact runs: the run whose results they are compared with
    baseline_run_id: Mapped[str | None] = mapped_column(ForeignKey("screening_runs.id"))
    chunk_size: Mapped[int] = mapped_column(Integer)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    valid_rows: Mapped[int] = mapped_column(Integer, default=0)
    invalid_rows: Mapped[int] = mapped_column(Integer, default=0)
    # the first headers nobody knows (engine.tabular.IGNORED_KEPT of them, each cut short), and how many
    ignored_columns: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDoc)
    ignored_total: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    # the uploaded file, kept until its import is complete (a restart resumes the import from it)
    upload_path: Mapped[str | None] = mapped_column(String(500))
    import_lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    import_owner: Mapped[str | None] = mapped_column(String(120))  # host:pid of the importer
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_by_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ScreeningRow(Base):
    __tablename__ = "screening_rows"
    __table_args__ = (Index("ix_screening_rows_credit_code", "credit_code"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("screening_runs.id"), primary_key=True)
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    valid: Mapped[bool] = mapped_column(Boolean)
    credit_code: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(6))
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    # the profile's JSON only where the chunk's profile table cannot hold it exactly (runs stored
    # before the tables existed keep theirs here too)
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)  # rows with bad cells: the cells
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDoc)
    eval_error: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)


class ScreeningChunk(Base):
    __tablename__ = "screening_chunks"
    __table_args__ = (Index("ix_screening_chunks_status", "status", "run_id"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("screening_runs.id"), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_row: Mapped[int] = mapped_column(Integer)
    last_row: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)  # valid rows, the ones evaluated
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | claimed | done
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Parquet documents (``store.py``), loaded only when asked for
    profiles: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    results: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class ReviewDecision(Base):
    """A reviewer's decision on one application (row) and measure; a later one supersedes, none is changed."""

    __tablename__ = "review_decisions"
    __table_args__ = (Index("ix_review_decisions_run_row", "run_id", "row_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("screening_runs.id"))
    row_no: Mapped[int] = mapped_column(Integer)
    measure_id: Mapped[str] = mapped_column(String(80))
    subject_id: Mapped[str] = mapped_column(String(64), default="")
    decision: Mapped[str] = mapped_column(String(16))  # approve | reject | request_info
    reason: Mapped[str] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)
    automatic_outcome: Mapped[str] = mapped_column(String(16))
    rule_pack_version: Mapped[str] = mapped_column(String(80))
    benefit_amount: Mapped[str | None] = mapped_column(String(40))
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_by_name: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
