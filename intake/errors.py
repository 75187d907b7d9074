"""The two kinds of bad input: a file that cannot be read as a whole (``TableError``) and one bad
cell (``CellError``, reported with its row and column while the other rows are read)."""

from __future__ import annotations

from typing import Any

from engine.vocabulary import pick


class TableError(Exception):
    """The file as a whole cannot be read (not one bad cell): format, encoding, headers, limits."""

    def __init__(self, code: str, zh: str, en: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{zh} / {en}")
        self.code = code
        self.zh = zh
        self.en = en
        self.errors = errors or []

    def text(self, lang: str) -> str:
        return pick((self.zh, self.en), lang)


def limit_error(what_zh: str, what_en: str, limit: int) -> TableError:
    return TableError(
        "limit",
        f"文件超出上限：{what_zh}最多 {limit:,}，请检查文件或拆分后分批上传",
        f"the file exceeds a limit: at most {limit:,} {what_en}; check the file or split it",
    )



class CellError(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh)
        self.zh = zh
        self.en = en


def bad_xlsx(e: BaseException | None = None, zh: str = "", en: str = "") -> TableError:
    why = type(e).__name__ if e is not None else ""
    return TableError(
        "bad-xlsx",
        zh or f"无法读取 Excel 文件（{why}），请确认是 .xlsx 格式且未损坏",
        en or f"cannot read the Excel file ({why}); is it an undamaged .xlsx?",
    )

