"""The engine's commands: check a profile, list and lint the rule pack (``huiqi screen`` and
``huiqi template`` are the intake's, ``intake/cli.py``).

``app`` knows nothing of the service; the ``huiqi`` command adds the service's commands to it
where both are visible (``api/cli.py``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from . import coverage as cov
from .backends import lint_hooks
from .catalogue import catalogue
from .errors import InvalidProfile, UnknownMeasure
from .evaluate import Engine
from .explain import Options
from .loader import DEFAULT_RULES_DIR, LintError, lint, load_pack
from .vocabulary import OUTCOMES, UNITS, pick, text

app = typer.Typer(
    help="惠企 huiqi — 科技惠企政策资格判定 / eligibility rules engine",
    no_args_is_help=True,
    add_completion=False,
)
rules_app = typer.Typer(help="规则包 / the rule pack", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

out = Console()
err = Console(stderr=True, soft_wrap=True)

OUTCOME_STYLE = {
    "eligible": "green",
    "ineligible": "red",
    "needs_review": "yellow",
    "undetermined": "magenta",
    "not_applicable": "dim",
}
STATUS_MARK = {
    "met": "[green]✔[/]",
    "unmet": "[red]✘[/]",
    "unknown": "[magenta]?[/]",
    "manual_review": "[yellow]![/]",
}


_ENGINES: dict[tuple, Engine] = {}


def _engine() -> Engine:
    """The engine over the rule pack (``HUIQI_RULES_DIR``, default rules/), kept for the process:
    loading a pack is most of what a single check costs."""
    key = (os.environ.get("HUIQI_RULES_DIR"), os.environ.get("HUIQI_BACKEND"))
    hit = _ENGINES.get(key)
    if hit is not None:
        return hit
    try:
        _ENGINES[key] = hit = Engine()
        return hit
    except LintError as e:
        err.print("[red]规则包未通过检查，拒绝加载 / the rule pack fails lint and was not loaded:[/]")
        for p in e.problems:
            err.print(f"  {p}")
        raise typer.Exit(3) from None


def _date(value: str | None, name: str = "--as-of") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{name} 应为 YYYY-MM-DD 格式的日期，收到 {value!r} / expected a date YYYY-MM-DD[/]")
        raise typer.Exit(2) from None


def _fail(msg: str, code: int = 2):
    err.print(f"[red]{msg}[/]")
    raise typer.Exit(code)


@app.command()
def check(
    profile: Annotated[
        Path, typer.Argument(help="企业画像 JSON 文件（或含 profile 与 as_of 的请求体）/ profile JSON")
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="评估日期 YYYY-MM-DD（默认取文件中的 as_of 或今天）")
    ] = None,
    measure: Annotated[
        list[str] | None, typer.Option("--measure", "-m", help="只评估这些措施 / only these measure ids")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="输出裁决的 JSON（契约格式）/ print the verdicts as JSON (the contract's)")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="与 --json 同用：输出完整说明 / with --json: the full explanation")
    ] = False,
    lang: Annotated[str, typer.Option("--lang", help="zh 或 en")] = "zh",
) -> None:
    """评估一家企业 / evaluate one enterprise profile."""
    if lang not in ("zh", "en"):
        _fail("--lang 只能是 zh 或 en / --lang must be zh or en")
    try:
        data = json.loads(profile.read_text(encoding="utf-8-sig"), parse_constant=_reject_constant)
    except FileNotFoundError:
        _fail(f"找不到文件 {profile} / file not found")
    except (json.JSONDecodeError, ValueError) as e:
        _fail(f"{profile} 不是有效的 JSON：{e} / not valid JSON")
    if isinstance(data, dict) and "profile" in data:
        as_of = as_of or data.get("as_of")
        data = data["profile"]
    day = _date(as_of)
    engine = _engine()
    # the table shows the full explanation; --json the verdicts (the default answer), or with
    # --full the full explanation
    detail = "full" if full or not as_json else "verdict"
    try:
        result = engine.answer(data, day, measure or None, Options(detail, lang))  # type: ignore[arg-type]
    except InvalidProfile as e:
        problem = e.problem(lang)
        if as_json:
            out.print_json(data=problem)
        else:
            err.print(f"[red]{problem['title']}[/]")
            for item in problem["errors"]:
                err.print(f"  [bold]{item['field']}[/]: {item['message']}")
        raise typer.Exit(1) from None
    except UnknownMeasure as e:
        _fail(f"未知措施 / unknown measure: {', '.join(e.ids)}（huiqi measures 列出全部 / lists them all）")
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    render(result, lang)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed (NaN/Infinity)")


def render(result: dict, lang: str = "zh") -> None:
    """A full explanation as a table readable in an 80-column terminal, every word in ``lang``."""
    title = f"{result.get('name') or ''} {result['credit_code']}".strip()
    out.print(f"[bold]{title}[/]  " + text("cli.heading", lang, as_of=result["as_of"], version=result["rule_pack_version"]))
    table = Table(show_lines=True)
    table.add_column(text("cli.col.measure", lang), overflow="fold", max_width=24)
    table.add_column(text("cli.col.subject", lang), overflow="fold", max_width=10)
    table.add_column(text("cli.col.outcome", lang), overflow="fold", max_width=10)
    table.add_column(text("cli.col.why", lang), overflow="fold")  # wrapped, never cut short
    for r in result["results"]:
        subject = r["subject"]
        subj = (
            text("cli.enterprise", lang)
            if subject["kind"] == "enterprise"
            else text("cli.project", lang, id=subject.get("id") or "—")
        )
        lines = []
        for c in r["criteria"]:
            if c["kind"] != "criterion" or c["status"] == "met" or r["outcome"] == "eligible":
                continue
            if c.get("moot"):
                # it cannot change the outcome: an alternative of an any-of group already met (TSME:
                # a high-tech certificate, where the score qualifies it) is not shown
                continue
            line = f"{STATUS_MARK[c['status']]} {c['explanation']}"
            if c.get("remedy"):
                line += f"\n   → {c['remedy']}"
            lines.append(line)
        if r.get("benefit"):
            b = r["benefit"]
            bits = [b["description"]]
            if b.get("tier_label"):
                bits.append(b["tier_label"])
            if b.get("amount_display"):
                bits.append(b["amount_display"])
            if b.get("provisional"):
                bits.append(text("cli.provisional", lang))
            lines.append("🎁 " + " ".join(bits))
        if r.get("not_stackable_with"):
            lines.append(text("cli.not_stackable", lang, measures=", ".join(r["not_stackable_with"])))
        if not lines:
            lines.append(r.get("explanation", ""))
        style = OUTCOME_STYLE[r["outcome"]]
        table.add_row(
            f"{r['title']}\n[dim]{r['measure_id']}[/]",
            subj,
            f"[{style}]{r['outcome_label']}[/]",
            "\n".join(lines),
        )
    out.print(table)
    if result["missing_facts"]:
        out.print("[bold]" + text("cli.missing", lang) + "[/]")
        for m in result["missing_facts"]:
            out.print(
                f"  • {m['label']} [dim]({m['path']})[/] — "
                + text("cli.decides", lang, n=m["decides"], measures=", ".join(m["measures"]))
            )


@app.command()
def measures(
    lang: Annotated[str, typer.Option("--lang")] = "zh",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出政策措施目录 / list the catalogue of measures."""
    engine = _engine()
    items = catalogue(engine.pack, lang)
    if as_json:
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return
    en = lang == "en"
    # four columns that stay readable in an 80-column terminal: the title over its id, as in check
    table = Table(title=f"{'rule pack' if en else '规则包'} {engine.version}", show_lines=True)
    longest_id = max((len(m["id"]) for m in items), default=10)
    table.add_column("measure" if en else "措施", overflow="fold", min_width=longest_id)
    table.add_column("clause" if en else "条款", overflow="fold", max_width=12)
    table.add_column("subject · status" if en else "对象 · 状态")
    table.add_column("in force" if en else "有效期", no_wrap=True)
    for m in items:
        window = f"{m['effective']['from']}\n– {m['effective'].get('to') or '…'}"
        table.add_row(
            f"{m['title']}\n[dim]{m['id']}[/]",
            m["source"]["clause"],
            f"{m['subject']}\n{m['status']}",
            window,
        )
    out.print(table)


@rules_app.command("lint")
def rules_lint(
    rules_dir: Annotated[Path | None, typer.Argument(help="规则目录（默认 rules/）")] = None,
) -> None:
    """检查规则包 / check the rule pack; exits 1 with file:line: reason on any problem."""
    pack, problems = lint(rules_dir or DEFAULT_RULES_DIR, lint_hooks())
    if problems:
        for p in problems:
            err.print(f"[red]{p.file}:{p.line}[/]: {p.reason}")
        err.print(f"[red]{len(problems)} 个问题 / problems[/]")
        raise typer.Exit(1)
    assert pack is not None
    out.print(
        f"[green]规则包通过检查 / rule pack OK[/]: {len(pack.measures)} 项措施 / measures, 版本 / version {pack.version}"
    )


def _shown_value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@rules_app.command("provisional")
def rules_provisional(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出全部暂定参数及其条款 / list every provisional parameter with its clause."""
    rows = load_pack().provisional()
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    # four columns that stay readable in an 80-column terminal
    table = Table(title="暂定参数（待科技局确认）/ provisional parameters", show_lines=True)
    longest = max((len(r["measure_id"] or "(pack)") for r in rows), default=10)
    table.add_column("措施 · 参数", overflow="fold", min_width=longest)
    table.add_column("值", overflow="fold", max_width=10)
    table.add_column("条款 · 起始", max_width=12)
    table.add_column("说明", overflow="fold", max_width=20)
    for r in rows:
        table.add_row(
            f"{r['measure_id'] or '(pack)'}\n[dim]{r['parameter']}[/]",
            f"{_shown_value(r['value'])}{UNITS.get(r['unit'], (' ' + r['unit'],))[0]}",
            f"{r['clause']}\n{r['since']}",
            r["description_zh"],
        )
    out.print(table)
    out.print(f"共 {len(rows)} 项 / {len(rows)} in all")


@rules_app.command("coverage")
def rules_coverage(
    run: Annotated[
        bool | None,
        typer.Option(
            "--run/--no-run",
            help="先运行全部场景（默认：记录缺失或过期时运行）/ run the features first (default: when the record is missing or stale)",
        ),
    ] = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="场景记录文件（默认 var/feature-coverage.json）")
    ] = None,
    measure: Annotated[
        list[str] | None, typer.Option("--measure", "-m", help="只看这些措施 / only these")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="列出全部场景 / every scenario")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """每个条件由哪些场景覆盖（满足 / 不满足两侧）/ which scenarios exercise each criterion, on each side.

    Exits 1 when a published criterion lacks a side or a scenario fails (each is named).
    """
    code = cov.command(
        run=run, record=record, measures=measure or [], verbose=verbose, as_json=as_json, out=out, err=err
    )
    raise typer.Exit(code)


def outcome_word(outcome: str, lang: str) -> str:
    return pick(OUTCOMES[outcome], lang)


if __name__ == "__main__":
    app()
