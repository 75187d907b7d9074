"""XLSX read within ``Limits``: the ZIP's directory checked before anything is expanded, XML without
DTD or entities (defusedxml), shared strings counted as they stream, the worksheet's elements
counted as they start (openpyxl's own parsers convert the cells)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from .columns import SHEET_NAME
from .errors import TableError, bad_xlsx, limit_error
from .limits import DEFAULT_LIMITS, Limits

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW_TAG = _MAIN_NS + "row"
_CELL_TAG = _MAIN_NS + "c"
_SHEET_DATA_TAG = _MAIN_NS + "sheetData"
_SI_TAG = _MAIN_NS + "si"


def check_xlsx_archive(fh: IO[bytes], limits: Limits = DEFAULT_LIMITS) -> None:
    """The ZIP's directory only, nothing expanded: a ZIP at all, not too many parts, and no part
    that would expand past its limit. Cheap enough to answer an upload with."""
    import zipfile

    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise bad_xlsx(e) from None
    if len(infos) > limits.max_parts:
        raise limit_error("ZIP 中的部件数", "parts in the ZIP", limits.max_parts)
    for info in infos:
        name = info.filename.lower()
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            cap = limits.max_sheet_bytes
        elif name == "xl/sharedstrings.xml":
            cap = limits.max_shared_strings_bytes
        else:
            cap = limits.max_part_bytes
        if info.file_size > cap:
            raise TableError(
                "limit",
                f"文件超出上限：Excel 文件中的 {info.filename} 展开后为 {info.file_size:,} 字节，最多 {cap:,} 字节",
                f"the file exceeds a limit: {info.filename} expands to {info.file_size:,} bytes, at most {cap:,}",
            )
    # the small parts that say what the workbook is: well-formed XML without DTD or entities
    names = {i.filename.lower(): i.filename for i in infos}
    fh.seek(0)
    with zipfile.ZipFile(fh) as archive:
        for part in ("[content_types].xml", "xl/workbook.xml"):
            if part not in names:
                raise bad_xlsx(
                    zh=f"Excel 文件缺少 {part}，请确认是 .xlsx 格式", en=f"the Excel file has no {part}"
                )
            try:
                for _ in _iterparse(archive.open(names[part]), ("end",)):
                    pass
            except Exception as e:  # noqa: BLE001 - malformed XML, a DTD, an entity: the file's problem
                raise bad_xlsx(e) from None
    fh.seek(0)


def _iterparse(source: Any, events: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    # no DTD, no entities: an XLSX needs neither, and refusing them refuses billion laughs and
    # external entities outright
    from defusedxml.ElementTree import iterparse

    return iterparse(source, events=events, forbid_dtd=True)


def _shared_strings(src: IO[bytes], limits: Limits) -> list[str]:
    """The shared string table, counted and measured while it streams (openpyxl's reader, bounded)."""
    from openpyxl.cell.text import Text

    strings: list[str] = []
    root = None
    for event, node in _iterparse(src, ("start", "end")):
        if event == "start":
            if root is None:
                root = node
            continue
        if node.tag != _SI_TAG:
            continue
        text = Text.from_tree(node).content.replace("x005F_", "")
        if len(text) > limits.max_cell_chars:
            raise limit_error("单元格的字符数", "characters in a cell", limits.max_cell_chars)
        strings.append(text)
        if len(strings) > limits.max_shared_strings:
            raise limit_error(
                "不同文本的个数（共享字符串）", "distinct texts (shared strings)", limits.max_shared_strings
            )
        root.clear()  # the strings read so far are kept as text, not as elements
    return strings


class Xlsx:
    """An XLSX read within ``Limits``: openpyxl reads the workbook's parts (styles, sheets' names,
    date formats), the shared strings are read by ``_shared_strings``, and the worksheet's rows are
    streamed here, counting every element as it starts, so that a row of five million cells is
    refused at the first cell past the limit rather than built. Cells are converted by openpyxl's
    own worksheet parser (numbers, dates by the cell's number format, booleans, inline text)."""

    def __init__(self, fh: IO[bytes], limits: Limits) -> None:
        from openpyxl.reader.excel import ExcelReader
        from openpyxl.styles.stylesheet import apply_stylesheet
        from openpyxl.xml.constants import SHARED_STRINGS

        check_xlsx_archive(fh, limits)
        self.limits = limits

        class BoundedReader(ExcelReader):
            """openpyxl's reader doing only what is needed here: the manifest, the shared strings
            (bounded), the workbook (sheet names, the 1904 calendar) and the styles (which number
            formats are dates). Its worksheet objects are not made: making one parses the sheet
            up to its dimension, or whole when it has none, before a single row is read."""

            def read_strings(self) -> None:
                ct = self.package.find(SHARED_STRINGS)
                if ct is not None:
                    with self.archive.open(ct.PartName[1:]) as src:
                        self.shared_strings = _shared_strings(src, limits)

            def read(self) -> None:
                self.read_manifest()
                self.read_strings()
                self.read_workbook()
                apply_stylesheet(self.archive, self.wb)
                self.sheets = [
                    (sheet.name, rel.target)
                    for sheet, rel in self.parser.find_sheets()
                    if rel.target in self.valid_files and "chartsheet" not in rel.Type
                ]

        fh.seek(0)
        try:
            reader = BoundedReader(fh, read_only=True, data_only=True)
            reader.read()
        except TableError:
            raise
        except Exception as e:  # noqa: BLE001 - malformed XML, a missing part …: the file's problem
            raise bad_xlsx(e) from None
        self.reader = reader
        self.wb = reader.wb
        self.strings = reader.shared_strings

    def close(self) -> None:
        self.reader.archive.close()

    def _sheet_part(self) -> str:
        sheets = dict(self.reader.sheets)
        if not sheets:
            raise bad_xlsx(zh="Excel 文件中没有工作表", en="the Excel file has no worksheet")
        return sheets.get(SHEET_NAME) or self.reader.sheets[0][1]

    def records(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number, values) for every row from 1, blank rows included (as empty tuples)."""
        try:
            yield from self._records()
        except TableError:
            raise
        except Exception as e:  # noqa: BLE001 - a damaged sheet is the file's problem, not ours
            raise TableError(
                "bad-xlsx",
                f"Excel 工作表读取中断（{type(e).__name__}），文件可能已损坏",
                f"the worksheet cannot be read ({type(e).__name__}); the file may be damaged",
            ) from None

    def _records(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        from openpyxl.worksheet._reader import WorkSheetParser

        limits = self.limits
        wb = self.wb
        # the workbook's date formats as openpyxl's ReadOnlyWorksheet passes them to this parser
        # (wb._date_formats): cells read here are read exactly as there
        cells_of = WorkSheetParser(
            None,
            self.strings,
            data_only=True,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        in_row = 0  # elements inside the current row
        row_cells = 0
        cells = 0
        outside = 0  # elements outside rows (columns, merged cells, formatting …)
        depth = 0
        sheet_data = None
        last = 0
        per_row = limits.max_columns * 16 + 16
        with self.reader.archive.open(self._sheet_part()) as src:
            for event, el in _iterparse(src, ("start", "end")):
                if event == "start":
                    depth += 1
                    tag = el.tag
                    if tag == _ROW_TAG:
                        in_row, row_cells = 1, 0
                    elif in_row:
                        in_row += 1
                        if tag == _CELL_TAG:
                            row_cells += 1
                            cells += 1
                            if row_cells > limits.max_columns:
                                raise limit_error("每行的单元格数", "cells in a row", limits.max_columns)
                            if cells > limits.max_cells:
                                raise limit_error("单元格总数", "cells", limits.max_cells)
                        if in_row > per_row:
                            raise bad_xlsx(
                                zh="Excel 工作表的一行中元素过多", en="too many elements in one row"
                            )
                    else:
                        if tag == _SHEET_DATA_TAG:
                            sheet_data = el
                        outside += 1
                        if outside > 1_000_000:
                            raise bad_xlsx(
                                zh="Excel 工作表中元素过多", en="too many elements in the worksheet"
                            )
                    continue
                depth -= 1
                if el.tag == _ROW_TAG:
                    number, row = cells_of.parse_row(el)
                    in_row = 0
                    if sheet_data is not None:
                        sheet_data.clear()  # rows already read are not kept
                    if number <= last:
                        raise bad_xlsx(
                            zh="Excel 工作表的行号顺序错乱", en="the worksheet's rows are out of order"
                        )
                    if number > limits.max_row_number:
                        raise limit_error("行号", "as a row number", limits.max_row_number)
                    for blank in range(last + 1, number):
                        yield blank, ()
                    last = number
                    yield number, _values(row, limits.max_columns, number)
                elif depth == 1 and not in_row:
                    el.clear()  # a part of the sheet other than its rows: not needed


def _values(row: list[dict[str, Any]], limit: int, number: int) -> tuple[Any, ...]:
    """A row's cells (openpyxl's dicts with a column number) as values by position."""
    if not row:
        return ()
    width = max(c["column"] for c in row)
    if width > limit:
        raise limit_error(
            f"列数（第 {number} 行有第 {width} 列）", f"columns (row {number} has column {width})", limit
        )
    values: list[Any] = [None] * width
    for c in row:
        values[c["column"] - 1] = c["value"]
    return tuple(values)


