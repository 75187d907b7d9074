"""huiqi intake: profiles in bulk from CSV, XLSX, JSONL and Parquet, and the templates for them.

One row per enterprise. The columns are the contract's fields (docs/contract.md §2) under
their Chinese labels (engine/vocabulary.py), money in 万元; fiscal years are column groups
("2024年度销售收入（万元）"), projects are numbered column groups ("项目1编号", "项目1类别", …) and, for
more of them, an optional JSON column ("项目（JSON）"). English headers are the contract's paths
(``credit_code``, ``fiscal_years[2024].sales_revenue``, ``projects[1].id``); either may be used.

A blank cell is unknown, never zero. Every bad cell is reported with its row, column, header, value
and reason; a row with a bad cell is not evaluated, the others are. Files are streamed within the
limits of ``Limits``; nothing is held whole.

Two ways in: ``open_table(…).rows()`` reads one row at a time (each a validated profile or its
errors); ``read_batches`` reads batches of rows into a profile table (``engine/table.py``) by
columnar readers and checks (``intake.fast``), with pydantic as the slow path for the rows those
checks refuse. The engine knows nothing of this package.
"""

from __future__ import annotations

from .batch import Batch, profiles_table
from .batches import INPUT_FORMATS, count_rows, lines_batch, read_batches
from .columns import (
    PROJECTS_JSON,
    SHEET_NAME,
    TEMPLATE_PROJECTS,
    Column,
    column_for_header,
    column_letter,
    template_columns,
    template_years,
)
from .errors import CellError, TableError
from .layout import Layout, layout_of
from .limits import DEFAULT_LIMITS, HEADER_CHARS_KEPT, IGNORED_KEPT, PROBLEMS_SHOWN, Limits
from .rows import ParsedRow, build_row, parse_json_line
from .table import FORMATS, MEDIA_TYPES, Table, detect_format, open_table
from .templates import cells_of, template_filename, write_template, write_template_file
from .xlsx import check_xlsx_archive

__all__ = [
    "DEFAULT_LIMITS",
    "INPUT_FORMATS",
    "Batch",
    "FORMATS",
    "HEADER_CHARS_KEPT",
    "IGNORED_KEPT",
    "MEDIA_TYPES",
    "PROBLEMS_SHOWN",
    "PROJECTS_JSON",
    "SHEET_NAME",
    "TEMPLATE_PROJECTS",
    "CellError",
    "Column",
    "Layout",
    "Limits",
    "ParsedRow",
    "Table",
    "TableError",
    "build_row",
    "cells_of",
    "check_xlsx_archive",
    "column_for_header",
    "column_letter",
    "count_rows",
    "detect_format",
    "layout_of",
    "lines_batch",
    "open_table",
    "parse_json_line",
    "profiles_table",
    "read_batches",
    "template_columns",
    "template_filename",
    "template_years",
    "write_template",
    "write_template_file",
]
