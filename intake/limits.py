"""What one file may hold (the hardening's limits), and what is kept of what a file holds beyond them."""

from __future__ import annotations

from dataclasses import dataclass

# what is kept of columns nobody knows (reported, never used): enough to show a clerk what was skipped
IGNORED_KEPT = 50
HEADER_CHARS_KEPT = 100
PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class Limits:
    """What one file may hold. Every limit is checked while the file streams, so that a crafted file
    is refused after reading at most about a limit's worth of it, never after expanding it whole.

    An XLSX is a ZIP of XML parts: a few KB can expand to gigabytes, so the parts' expanded sizes
    (which ``zipfile`` enforces while reading: a part longer than its directory entry says fails its
    CRC) are checked before any is read, the shared strings are counted as they are read, and the
    worksheet's elements as they stream. Excel's own limits: 16,384 columns, 1,048,576 rows, 32,767
    characters in a cell."""

    max_rows: int | None = None  # data rows (blank rows are not counted)
    max_columns: int = 1024  # columns in the header and in any row
    max_cells: int = 50_000_000  # cells in the worksheet (XLSX)
    max_cell_chars: int = 32_767  # characters in one cell (Excel's own limit)
    max_shared_strings: int = 2_000_000  # distinct texts of an XLSX
    max_shared_strings_bytes: int = 128 * 1024 * 1024  # their XML, expanded
    max_sheet_bytes: int = 4 * 1024 * 1024 * 1024  # the worksheet's XML, expanded
    max_part_bytes: int = 16 * 1024 * 1024  # any other part (styles, workbook, theme …), expanded
    max_parts: int = 1000  # entries in the ZIP
    max_row_number: int = 1_048_576  # a row number past Excel's last row is a crafted file
    max_line_bytes: int = 16 * 1024 * 1024  # one JSONL line
    max_json_depth: int = 64  # nesting of a JSONL line or a projects JSON cell


DEFAULT_LIMITS = Limits()
