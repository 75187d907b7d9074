"""The intake's commands: ``huiqi screen`` (a file of profiles → verdicts) and ``huiqi template``.

They join the engine's commands in the ``huiqi`` command where it is assembled (``api/cli.py``):
the engine knows nothing of the intake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .columns import template_years
from .errors import TableError
from .screen import screen_file
from .table import FORMATS
from .templates import write_template_file

err = Console(stderr=True, soft_wrap=True)


def _fail(msg: str, code: int = 2):
    err.print(f"[red]{msg}[/]")
    raise typer.Exit(code)


def _date(value: str | None, name: str = "--as-of") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{name} 应为 YYYY-MM-DD 格式的日期，收到 {value!r} / expected a date YYYY-MM-DD")


def screen(
    input: Annotated[
        Path,
        typer.Argument(
            help="JSONL（每行一个企业画像或 {profile, as_of}）、CSV 或 XLSX（按模板填写，见 huiqi template）"
        ),
    ],
    as_of: Annotated[str, typer.Option("--as-of", help="评估日期 YYYY-MM-DD")],
    out_path: Annotated[Path, typer.Option("--out", help="输出 JSONL")],
    measure: Annotated[list[str] | None, typer.Option("--measure", "-m")] = None,
    workers: Annotated[int, typer.Option("--workers", help="进程数（默认全部核）")] = 0,
    lang: Annotated[str, typer.Option("--lang")] = "zh",
) -> None:
    """批量筛查 / screen many profiles (JSONL, CSV, XLSX): one output line per input line or row."""
    day = _date(as_of)
    if not input.exists():
        _fail(f"找不到文件 {input} / file not found")
    try:
        summary = screen_file(input, out_path, day, measure or None, workers or None, lang, progress=err)
    except TableError as e:
        _fail(f"{input}: {e.zh} / {e.en}")
    err.print(
        f"完成 / done: {summary['lines']} 行，{summary['ok']} 成功，{summary['errors']} 错误，"
        f"{summary['seconds']:.1f} 秒（{summary['rate']:.0f} 行/秒）→ {out_path}"
    )


def template(
    fmt: Annotated[str, typer.Argument(help="csv、xlsx 或 jsonl", metavar="FORMAT")],
    output: Annotated[Path, typer.Option("--output", "-o", help="写入的文件 / file to write")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="财务年度取评估日前三年（默认今天）/ fiscal years before this date"),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="表头语言 zh（默认）或 en（契约字段路径）")] = "zh",
) -> None:
    """下载批量筛查模板 / write the bulk screening template (CSV, XLSX or JSONL)."""
    if fmt not in FORMATS:
        _fail(
            f"格式应为 {', '.join(FORMATS)} 之一，收到 {fmt!r} / FORMAT must be one of {', '.join(FORMATS)}"
        )
    if lang not in ("zh", "en"):
        _fail("--lang 只能是 zh 或 en / --lang must be zh or en")
    write_template_file(fmt, output, lang, template_years(_date(as_of)))
    err.print(f"已写入模板 / template written: {output}")


def register(app: typer.Typer) -> None:
    """Add the intake's commands to the ``huiqi`` command."""
    app.command()(screen)
    app.command()(template)
