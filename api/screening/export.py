"""A run's results as a spreadsheet: one row per application, one column per measure with its
outcome, its reasons and the latest review decision; CSV or XLSX, every cell safe to open."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Engine

from .. import audit
from ..principal import Principal
from .models import ReviewDecision, ScreeningRow, ScreeningRun
from .regions import region_name
from .store import results_frame, source_of
from .wording import cell_text, engine_of, measure_title, pack_order, with_reasons
from .work import Evaluators

PAGE = 2_000  # rows of the file read and written at a time


def measure_columns(
    run: ScreeningRun, engine: Engine | None, frame: pl.DataFrame, lang: str
) -> list[tuple[str, str]]:
    ids = run.measures or frame["measure_id"].unique().to_list()
    if not run.measures:
        order = pack_order(engine)
        ids = sorted(ids, key=lambda m: (order.get(m, 10_000), m))
    return [(mid, measure_title(engine, mid, lang)) for mid in ids]


def export_rows(db: Session, run: ScreeningRun, evaluators: Evaluators, lang: str) -> Iterator[list[Any]]:
    """The header, then one row per application with one column per measure, a page at a time."""
    engine = engine_of(evaluators, run)
    frame = results_frame(db, run)
    columns = measure_columns(run, engine, frame, lang)
    en = lang == "en"
    head = (
        ["row", "credit_code", "name", "region_code", "district", "data errors"]
        if en
        else ["行号", "统一社会信用代码", "企业名称", "注册地行政区划代码", "区县", "数据错误"]
    )
    yield head + [title for _, title in columns]
    src = source_of(run)
    rows_of = frame["row"]
    after = 0
    while True:
        rows = db.scalars(
            select(ScreeningRow)
            .where(ScreeningRow.run_id == src, ScreeningRow.row_no > after)
            .order_by(ScreeningRow.row_no)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        first, last = rows[0].row_no, rows[-1].row_no
        lo, hi = rows_of.search_sorted(first, "left"), rows_of.search_sorted(last, "right")
        page = with_reasons(frame.slice(lo, hi - lo), run, engine, lang)
        by_row: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for r in page.select("row", "measure_id", "subject_id", "outcome", "reasons").iter_rows(named=True):
            by_row[r["row"]][r["measure_id"]].append(r)
        decided: dict[int, dict[tuple[str, str], ReviewDecision]] = defaultdict(dict)
        for d in db.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.run_id == run.id, ReviewDecision.row_no.between(first, last))
            .order_by(ReviewDecision.id)
        ):
            decided[d.row_no][(d.measure_id, d.subject_id)] = d  # the latest wins
        for row in rows:
            errors = "；".join(
                f"{e.get('column') or ''}{' ' if e.get('column') else ''}{e.get('header') or e.get('field')}：{e.get('reason')}"
                for e in row.errors or []
            )
            if row.eval_error:
                errors = (errors + "；" if errors else "") + str(row.eval_error.get("detail", ""))
            line: list[Any] = [
                row.row_no,
                row.credit_code,
                row.name,
                row.region_code,
                region_name(row.region_code, lang),
                errors,
            ]
            for mid, _ in columns:
                line.append(cell_text(by_row[row.row_no].get(mid, []), decided[row.row_no], lang))
            yield line
        after = last
        db.expunge_all()  # a page's rows are not kept by the session


def write_export(
    db: Session, run: ScreeningRun, evaluators: Evaluators, fmt: str, lang: str, out: Path
) -> None:
    rows = export_rows(db, run, evaluators, lang)
    if fmt == "csv":
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            for line in rows:
                w.writerow(["" if v is None else safe_cell(v) for v in line])
        return
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("筛查结果" if lang != "en" else "results")
    header = next(rows)
    for i in range(len(header)):
        ws.column_dimensions[get_column_letter(i + 1)].width = 14 if i < 6 else 40
    ws.freeze_panes = "D2"
    bold = Font(bold=True)
    cells = []
    for h in header:
        c = WriteOnlyCell(ws, value=safe_cell(h))
        c.font = bold
        cells.append(c)
    ws.append(cells)
    wrap = Alignment(wrap_text=True, vertical="top")
    for line in rows:
        out_cells = []
        for i, v in enumerate(line):
            c = WriteOnlyCell(ws, value=safe_cell(v))
            if i >= 5:
                c.alignment = wrap
            out_cells.append(c)
        ws.append(out_cells)
    wb.save(out)


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# what makes a spreadsheet read a cell as a formula (OWASP's CSV injection list), also after spaces
_FORMULA_START = re.compile(r"^[\s\u3000]*[=+\-@\t\r]|^[\t\r]")


def safe_cell(v: Any) -> Any:
    """Text as a spreadsheet keeps it, in every export format: no control characters, and never a
    formula (=, +, -, @, tab or carriage return first, spaces before them included): such a cell
    gets a leading apostrophe, which Excel, WPS and LibreOffice read as "this is text". An
    enterprise naming itself =HYPERLINK(…) must not put a live link into a reviewer's export."""
    if isinstance(v, str):
        if _FORMULA_START.match(v):
            v = "'" + v
        v = _ILLEGAL.sub("", v)
    return v


def record_export(db: Session, principal: Principal, run: ScreeningRun, fmt: str, lang: str) -> None:
    audit.record(db, principal, "screening.export", "screening", run.id, after={"format": fmt, "lang": lang})
    db.commit()
