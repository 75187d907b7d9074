"""Screen a file of profiles on every core: one output line per input line (or row), in order.

JSONL, CSV or XLSX (``intake``: the template's Chinese headers, money in 万元). A bad line
becomes ``{"line": N, "error": {...}}`` and the run goes on; a spreadsheet row with bad cells gets
``{"line": N, "error": {"title": …, "errors": [{row, column, header, field, value, reason}]}}``.
Input is streamed in chunks, never held whole; output is written as chunks come back, in input order.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from engine import Engine, InvalidProfile, Options

from .table import detect_format, open_table

CHUNK = 400
_engine = None


def _init(rules_dir: str | None, backend: str | None) -> None:
    global _engine
    _engine = Engine(rules_dir, backend)


def _reject(name: str):
    raise ValueError(f"{name} is not allowed")


def evaluate_line(
    engine: Any, number: int, text: str, as_of: dt.date, measures: list[str] | None, lang: str, detail: str
) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_constant=_reject)
    except (json.JSONDecodeError, ValueError, RecursionError) as e:  # a line nested thousands deep too
        return {"line": number, "error": {"title": "不是有效的 JSON / not valid JSON", "detail": str(e)}}
    return evaluate_data(engine, number, data, as_of, measures, lang, detail)


def evaluate_data(
    engine: Any, number: int, data: Any, as_of: dt.date, measures: list[str] | None, lang: str, detail: str
) -> dict[str, Any]:
    """One parsed line or row: a profile, or ``{"profile": …, "as_of": …}``."""
    day = as_of
    if isinstance(data, dict) and "profile" in data:
        if data.get("as_of"):
            try:
                day = dt.date.fromisoformat(str(data["as_of"]))
            except ValueError:
                return {"line": number, "error": {"title": "as_of 应为 YYYY-MM-DD", "field": "as_of"}}
        data = data["profile"]
    if not isinstance(data, dict):
        return {
            "line": number,
            "error": {"title": "每行应为一个 JSON 对象 / each line must be a JSON object"},
        }
    try:
        result = engine.answer(data, day, measures, Options(detail, lang))
    except InvalidProfile as e:
        return {"line": number, "credit_code": data.get("credit_code"), "error": e.problem(lang)}
    except Exception as e:  # noqa: BLE001 - one bad line must not stop a run of thousands
        return {
            "line": number,
            "credit_code": data.get("credit_code"),
            "error": {"title": "评估失败 / evaluation failed", "detail": f"{type(e).__name__}: {e}"},
        }
    return {
        "line": number,
        "credit_code": result["credit_code"],
        "as_of": result["as_of"],
        "rule_pack_version": result["rule_pack_version"],
        "results": result["results"],
        "missing_facts": result["missing_facts"],
    }


def dumps(obj: Any) -> str:
    """One output line: compact JSON, UTF-8 as is (orjson: a result is ~13 KB, and the standard
    library's encoder took longer over it than the evaluation's judging)."""
    return orjson.dumps(obj).decode()


def _work(args: tuple) -> list[str]:
    start, lines, as_of, measures, lang, detail = args
    return [
        dumps(evaluate_line(_engine, start + i, text, as_of, measures, lang, detail))
        for i, text in enumerate(lines)
    ]


def evaluate_parsed(
    engine: Any,
    number: int,
    profile: dict | None,
    errors: list,
    as_of: dt.date,
    measures,
    lang: str,
    detail: str,
) -> dict[str, Any]:
    """A row already read by ``intake``: its cell errors, or its evaluation."""
    if profile is None:
        title = "数据有误，未评估 / bad cells, not evaluated"
        return {"line": number, "error": {"title": title, "errors": errors}}
    return evaluate_data(engine, number, profile, as_of, measures, lang, detail)


def _work_rows(args: tuple) -> list[str]:
    rows, as_of, measures, lang, detail = args
    return [
        dumps(evaluate_parsed(_engine, number, profile, errors, as_of, measures, lang, detail))
        for number, profile, errors in rows
    ]


def _table_chunks(
    path: Path, fmt: str, as_of: dt.date, measures: list[str] | None, lang: str, detail: str
) -> Iterator[tuple]:
    with path.open("rb") as fh:
        table = open_table(fh, path.name, fmt, lang)
        try:
            batch: list[tuple] = []
            for row in table.rows():
                batch.append((row.number, row.profile, row.errors))
                if len(batch) >= CHUNK:
                    yield (batch, as_of, measures, lang, detail)
                    batch = []
            if batch:
                yield (batch, as_of, measures, lang, detail)
        finally:
            table.close()


def input_format(path: Path) -> str:
    with path.open("rb") as fh:
        return detect_format(path.name, fh.read(8))


def count_rows(path: Path, fmt: str) -> int:
    if fmt == "jsonl":
        return count_lines(path)
    with path.open("rb") as fh:
        table = open_table(fh, path.name, fmt)
        try:
            return table.count_rows()
        finally:
            table.close()


def _chunks(
    path: Path, as_of: dt.date, measures: list[str] | None, lang: str, detail: str
) -> Iterator[tuple]:
    with path.open(encoding="utf-8-sig") as fh:
        number = 1
        while True:
            lines = list(islice(fh, CHUNK))
            if not lines:
                return
            yield (number, [ln.rstrip("\n") for ln in lines], as_of, measures, lang, detail)
            number += len(lines)


def _bounded_map(pool: ProcessPoolExecutor, fn: Any, items: Iterator[tuple], ahead: int) -> Iterator[Any]:
    """``pool.map`` in order, but with at most ``ahead`` chunks in flight: ``Executor.map`` submits the
    whole input at once, which would hold a large file in memory."""
    pending: deque = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 20), b""))


def screen_file(
    input: Path,
    output: Path,
    as_of: dt.date,
    measures: list[str] | None = None,
    workers: int | None = None,
    lang: str = "zh",
    progress: Any = None,
    detail: str = "compact",
    rules_dir: str | None = None,
    backend: str | None = None,
) -> dict[str, Any]:
    workers = workers or os.cpu_count() or 1
    fmt = input_format(input)
    total = count_rows(input, fmt)
    started = time.perf_counter()
    ok = errors = lines = 0
    bar = None
    if progress:
        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=progress,  # the console to show it on (standard error)
        )
        task = bar.add_task("筛查 / screening", total=total)
        bar.start()
    tmp = output.with_name(output.name + ".part")
    try:
        with (
            ProcessPoolExecutor(workers, initargs=(rules_dir, backend), initializer=_init) as pool,
            tmp.open("w", encoding="utf-8") as out,
        ):
            if fmt == "jsonl":
                chunks = _bounded_map(pool, _work, _chunks(input, as_of, measures, lang, detail), workers * 4)
            else:
                items = _table_chunks(input, fmt, as_of, measures, lang, detail)
                chunks = _bounded_map(pool, _work_rows, items, workers * 4)
            for chunk in chunks:
                for line in chunk:
                    out.write(line + "\n")
                    if line.startswith('{"line":') and '"error":' in line[:200] and '"results":' not in line:
                        errors += 1
                    else:
                        ok += 1
                lines += len(chunk)
                if bar:
                    bar.update(task, advance=len(chunk))
        tmp.replace(output)
    finally:
        if bar:
            bar.stop()
        if tmp.exists():
            tmp.unlink()
    seconds = time.perf_counter() - started
    return {
        "lines": lines,
        "ok": ok,
        "errors": errors,
        "seconds": seconds,
        "rate": lines / seconds if seconds else 0.0,
    }
