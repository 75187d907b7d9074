"""The intake's commands: ``huiqi screen`` (a file of profiles → verdicts) and ``huiqi template``.

They join the engine's commands in the ``huiqi`` command where it is assembled (``api/cli.py``),
and share the engine commands' helpers (the engine loaded once, dates, errors on standard error);
the engine knows nothing of the intake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import UnknownMeasure
from engine.cli import _date, _engine, _fail, err

from .columns import template_years
from .errors import TableError
from .explain import explain_rows
from .screen import parse_rows, screen_file
from .table import FORMATS
from .templates import write_template_file
from .writers import output_format


def screen(
    input: Annotated[
        Path,
        typer.Argument(
            help="JSONL（每行一个企业画像或 {as_of, profile}）、CSV、XLSX（按模板填写，见 huiqi template）或 Parquet",
            show_default=False,
        ),
    ],
    out_path: Annotated[
        Path,
        typer.Option(
            "--out",
            help="输出文件，按后缀：.parquet 裁决表；.csv/.xlsx 每行一家企业、每项措施的结论与理由；.jsonl 每行一个输入行的裁决",
        ),
    ],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="评估日期 YYYY-MM-DD（行内自带 as_of 的以行内为准；默认今天）"),
    ] = None,
    measure: Annotated[list[str] | None, typer.Option("--measure", "-m", help="只评估这些措施 / only these")] = None,
    explain: Annotated[
        str | None,
        typer.Option(
            "--explain",
            help="为这些行写出完整说明，如 2,5,10-20（行号同输出）/ full explanations of these rows",
            metavar="ROWS",
        ),
    ] = None,
    explain_out: Annotated[
        Path | None,
        typer.Option("--explain-out", help="完整说明写入的 JSONL（默认 OUT.explain.jsonl）"),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh 或 en")] = "zh",
    batch_rows: Annotated[int, typer.Option("--batch-rows", help="每批行数 / rows per batch", min=1)] = 25_000,
    workers: Annotated[
        int, typer.Option("--workers", hidden=True, help="不再需要：Polars 用全部核 / no longer needed")
    ] = 0,
) -> None:
    """批量筛查 / screen a file of profiles (JSONL, CSV, XLSX, Parquet) into verdicts."""
    if lang not in ("zh", "en"):
        _fail("--lang 只能是 zh 或 en / --lang must be zh or en")
    day = _date(as_of)
    rows: set[int] = set()
    if explain:
        try:
            rows = parse_rows(explain)
        except ValueError:
            _fail(f"--explain 应为行号或范围，如 2,5,10-20，收到 {explain!r} / expected row numbers such as 2,5,10-20")
    if not input.exists():
        _fail(f"找不到文件 {input} / file not found")
    try:
        output_format(out_path)
        engine = _engine()
        summary = screen_file(
            input, out_path, day, measure or None, lang, progress=err, batch_rows=batch_rows, engine=engine
        )
        explained = None
        if rows:
            explained = explain_out or out_path.with_name(out_path.name + ".explain.jsonl")
            found = explain_rows(input, explained, rows, summary["as_of"], measure or None, lang, engine)
    except TableError as e:
        _fail(f"{input}: {e.zh} / {e.en}")
    except UnknownMeasure as e:
        _fail(f"未知措施 / unknown measure: {', '.join(e.ids)}（huiqi measures 列出全部 / lists them all）")
    err.print(
        f"完成 / done: {summary['rows']:,} 行（表格路径 {summary['fast']:,}，逐行路径 {summary['slow']:,}，"
        f"错误 {summary['errors']:,}），评估日期 {summary['as_of']}，{summary['seconds']:.1f} 秒"
        f"（{summary['rate']:,.0f} 行/秒）→ {out_path}"
    )
    if rows:
        missing = sorted(rows - found)
        err.print(f"完整说明 / full explanations: {len(found)} 行 → {explained}")
        if missing:
            shown = ", ".join(map(str, missing[:20])) + (" …" if len(missing) > 20 else "")
            err.print(f"[yellow]文件中没有这些行 / no such rows: {shown}[/]")


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
