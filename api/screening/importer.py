"""Import: the uploaded file's rows into ``screening_rows`` and chunks of profiles, a chunk at a time.

Each chunk of rows is stored with its ``screening_chunks`` entry (the chunk's profile table as one
Parquet document, ``store.py``) and the run's counters in one transaction, so rows and chunks always
agree; an import interrupted by a crash resumes after the
last stored chunk (``read_batches(start_after=…)``), and the primary key (run, row) refuses a row
stored twice. Workers may start on the first chunks while the rest is still being read.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine as DbEngine
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake import DEFAULT_LIMITS, Layout, Limits, TableError, read_batches

from ..db import utcnow
from .batches import read_batch
from .bulk import insert_many
from .models import ScreeningChunk, ScreeningRow, ScreeningRun
from .store import to_parquet
from .work import finish_if_complete

log = logging.getLogger("huiqi.screening")

IMPORT_LEASE = dt.timedelta(minutes=2)  # the default (HUIQI_SCREENING_IMPORT_LEASE_SECONDS)
HOST = socket.gethostname()


class ImportStopped(Exception):
    """The run is no longer importing (deleted, failed, or its import finished elsewhere)."""


def importer_id() -> str:
    """Who is importing: host and process, so that a restarted service on the same host can tell at
    once that the importer is gone (``dead_importer``) instead of waiting for its lease."""
    return f"{HOST}:{os.getpid()}"


def store_batch(
    db: DbEngine,
    run_id: str,
    chunk_no: int,
    batch: list[dict[str, Any]],
    profiles: pl.DataFrame | None,
    lease: dt.timedelta = IMPORT_LEASE,
) -> None:
    """One chunk: its rows, its entry for the workers and the run's counters, together. The run's
    row is updated first, and only while it is still importing: a run deleted (or failed) meanwhile
    takes no more rows, and the update's row lock orders this against a deletion."""
    valid = sum(1 for r in batch if r["valid"])
    with Session(db) as s, s.begin():
        counted = s.execute(
            update(ScreeningRun)
            .where(ScreeningRun.id == run_id, ScreeningRun.status == "importing")
            .values(
                total_rows=ScreeningRun.total_rows + len(batch),
                valid_rows=ScreeningRun.valid_rows + valid,
                invalid_rows=ScreeningRun.invalid_rows + (len(batch) - valid),
                import_lease_until=utcnow() + lease,
                import_owner=importer_id(),
            )
        ).rowcount
        if counted != 1:
            raise ImportStopped(run_id)
        insert_many(s, ScreeningRow.__table__, batch)  # one COPY or one executemany (``bulk``)
        s.add(
            ScreeningChunk(
                run_id=run_id,
                chunk_no=chunk_no,
                first_row=batch[0]["row_no"],
                last_row=batch[-1]["row_no"],
                rows=valid,
                status="pending" if valid else "done",
                attempts=0,
                done_at=None if valid else utcnow(),
                profiles=to_parquet(profiles) if profiles is not None and profiles.height else None,
            )
        )


def resume_point(db: DbEngine, run_id: str) -> tuple[int, int]:
    """(the last row stored, the next chunk number)."""
    with Session(db) as s:
        last, n = s.execute(
            select(func.max(ScreeningChunk.last_row), func.count()).where(ScreeningChunk.run_id == run_id)
        ).one()
    return int(last or 0), int(n or 0)


def end_import(db: DbEngine, run_id: str, error: dict[str, Any] | None = None) -> None:
    with Session(db) as s, s.begin():
        run = s.get(ScreeningRun, run_id)
        if run is None or run.status != "importing":
            return  # deleted meanwhile, or ended by another importer
        path = run.upload_path
        values: dict[str, Any] = {"upload_path": None, "import_lease_until": None, "import_owner": None}
        if error is not None:
            values.update(status="failed", error=error, finished_at=utcnow())
        else:
            values["status"] = "running" if run.started_at is not None else "queued"
        s.execute(update(ScreeningRun).where(ScreeningRun.id == run_id).values(**values))
    if path:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    if error is None:
        finish_if_complete(db, run_id)


def while_running(stopping: threading.Event, target: Callable[..., Any], *args: Any) -> None:
    """Run ``target`` (an import) in a daemon thread and wait for it while the service runs.

    An upload's import is a background task of its request, run on a thread of the server's pool,
    and those threads are not daemons: at shutdown the interpreter waits for them, so SIGTERM during
    a 200,000-row import waited for the import. Here the pool's thread stops waiting when the
    service stops (``stopping``, set by the screening lifespan), and the import's own thread, a
    daemon, ends with the process; the next start resumes the import (its importer is gone)."""
    t = threading.Thread(target=target, args=args, daemon=True, name="screening-import")
    t.start()
    while t.is_alive() and not stopping.is_set():
        t.join(0.2)


def claim_import(db: DbEngine, run_id: str, lease: dt.timedelta) -> bool:
    """Take the import of a run: it is importing and its lease ran out (or it is ours already)."""
    now = utcnow()
    with Session(db) as s, s.begin():
        return (
            s.execute(
                update(ScreeningRun)
                .where(
                    ScreeningRun.id == run_id,
                    ScreeningRun.status == "importing",
                    (ScreeningRun.import_lease_until.is_(None))
                    | (ScreeningRun.import_lease_until < now)
                    | (ScreeningRun.import_owner == importer_id())
                    | (ScreeningRun.import_owner.is_(None)),
                )
                .values(import_lease_until=now + lease, import_owner=importer_id())
            ).rowcount
            == 1
        )


def import_upload(
    db: DbEngine, run_id: str, limits: Limits = DEFAULT_LIMITS, lease: dt.timedelta = IMPORT_LEASE
) -> None:
    """Read the run's uploaded file into rows and chunks (resuming after what is stored already)."""
    if not claim_import(db, run_id, lease):
        return
    with Session(db) as s:
        run = s.get(ScreeningRun, run_id)
        if run is None or run.status != "importing":
            return
        path, fmt, lang, size = run.upload_path, run.format, run.lang, run.chunk_size
    if not path or not Path(path).exists():
        end_import(
            db,
            run_id,
            {
                "zh": "上传的文件在导入完成前丢失，请重新上传",
                "en": "the uploaded file was lost before its import finished; upload it again",
            },
        )
        return
    start_after, chunk_no = resume_point(db, run_id)

    def note_ignored(layout: Layout) -> None:
        if start_after == 0:
            _note_ignored(db, run_id, layout.ignored, layout.ignored_total)

    try:
        batches = read_batches(
            Path(path),
            fmt,
            lang=lang,
            batch_rows=size,
            limits=limits,
            start_after=start_after,
            on_layout=note_ignored,
        )
        for batch in batches:
            if batch.rows:
                store_batch(db, run_id, chunk_no, *read_batch(run_id, batch), lease)
                chunk_no += 1
    except TableError as e:
        end_import(db, run_id, {"zh": e.zh, "en": e.en, "errors": e.errors})
        return
    except ImportStopped:
        log.warning("import of run %s stopped: the run is no longer importing", run_id)
        return
    except IntegrityError:
        # another importer (a restarted service that took over an expired lease) stored these rows
        log.warning("import of run %s is being done elsewhere; this one stops", run_id)
        return
    except Exception as e:
        log.exception("import of run %s failed", run_id)
        end_import(
            db, run_id, {"zh": f"导入失败：{type(e).__name__}", "en": f"import failed: {type(e).__name__}"}
        )
        return
    end_import(db, run_id)


def _note_ignored(db: DbEngine, run_id: str, ignored: list[dict[str, Any]], total: int) -> None:
    with Session(db) as s, s.begin():
        s.execute(
            update(ScreeningRun)
            .where(ScreeningRun.id == run_id)
            .values(ignored_columns=ignored or None, ignored_total=total)
        )


def interrupted_imports(db: DbEngine) -> list[str]:
    """Imports whose importer stopped, and whose file is still here: the lease ran out, or the
    importer was a process of this host that is gone (a service killed and restarted at once)."""
    now = utcnow()
    with Session(db) as s:
        runs = s.execute(
            select(ScreeningRun.id, ScreeningRun.import_lease_until, ScreeningRun.import_owner).where(
                ScreeningRun.status == "importing"
            )
        ).all()
    out = []
    for run_id, until, owner in runs:
        if dead_importer(owner):
            release_import(db, run_id)
            out.append(run_id)
        elif until is None or until < now:
            out.append(run_id)
    return out


def dead_importer(owner: str | None) -> bool:
    """True when ``owner`` (``importer_id``) was a process of this host that no longer runs."""
    if not owner or not owner.startswith(HOST + ":"):
        return False
    try:
        pid = int(owner.rsplit(":", 1)[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def release_import(db: DbEngine, run_id: str) -> None:
    """Let a restarted service take the import of a dead importer at once (its lease is void)."""
    with Session(db) as s, s.begin():
        s.execute(
            update(ScreeningRun)
            .where(ScreeningRun.id == run_id, ScreeningRun.status == "importing")
            .values(import_lease_until=None, import_owner=None)
        )
