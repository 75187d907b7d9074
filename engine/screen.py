"""Screen a JSONL file of profiles on every core: one output line per input line, in order.

A bad line becomes ``{"line": N, "error": {...}}`` and the run goes on. Input is streamed in
chunks, never held whole; output is written as chunks come back, in input order.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import problem_from_validation

CHUNK = 400
_engine = None


def _init(rules_dir: str | None, backend: str | None) -> None:
    global _engine
    from .evaluate import Engine

    _engine = Engine(rules_dir, backend)


def _reject(name: str):
    raise ValueError(f"{name} is not allowed")


def evaluate_line(
    engine: Any, number: int, text: str, as_of: dt.date, measures: list[str] | None, lang: str, detail: str
) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_constant=_reject)
    except (json.JSONDecodeError, ValueError) as e:
        return {"line": number, "error": {"title": "不是有效的 JSON / not valid JSON", "detail": str(e)}}
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
        result = engine.evaluate(data, day, measures, lang, detail=detail)
    except ValidationError as e:
        problem = problem_from_validation(e, lang)
        return {"line": number, "credit_code": data.get("credit_code"), "error": problem}
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


def _work(args: tuple) -> list[str]:
    start, lines, as_of, measures, lang, detail = args
    return [
        json.dumps(
            evaluate_line(_engine, start + i, text, as_of, measures, lang, detail),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for i, text in enumerate(lines)
    ]


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
    progress: bool = False,
    detail: str = "compact",
    rules_dir: str | None = None,
    backend: str | None = None,
) -> dict[str, Any]:
    workers = workers or os.cpu_count() or 1
    total = count_lines(input)
    started = time.perf_counter()
    ok = errors = lines = 0
    bar = None
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from .cli import err

        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
        )
        task = bar.add_task("筛查 / screening", total=total)
        bar.start()
    tmp = output.with_name(output.name + ".part")
    try:
        with (
            ProcessPoolExecutor(workers, initargs=(rules_dir, backend), initializer=_init) as pool,
            tmp.open("w", encoding="utf-8") as out,
        ):
            for chunk in pool.map(_work, _chunks(input, as_of, measures, lang, detail), chunksize=1):
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
