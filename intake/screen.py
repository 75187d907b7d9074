"""``huiqi screen``: a file of profiles → verdicts, on the columnar path.

JSONL, CSV, XLSX or Parquet in (``read_batches``); the rows the fast path accepts are judged as a
table (``engine.population.Population``), the rows only pydantic accepts likewise (or, where a value
cannot be held in the table's exact columns, by the per-profile engine), the refused rows become
error rows. Batches stream through with flat memory: one batch is read while the one before is
judged and written. What comes out depends on the output's suffix (``writers``): Parquet, the
verdict table; CSV or XLSX, a row per input row with each measure's outcome and its reasons in
words; JSONL, a line per input line with its verdicts. The output is written to ``OUT.part`` and
renamed when complete.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from engine import Engine, UnknownMeasure
from engine.population import VERDICT_SCHEMA, Population, from_evaluation
from engine.table import table_of

from .batch import Batch
from .batches import read_batches
from .writers import writer_for

META_SCHEMA = {"row": pl.Int64, "credit_code": pl.Utf8, "name": pl.Utf8, "as_of": pl.Date}


@dataclass
class Judged:
    """One batch judged: a row per input row (``meta``), the verdicts of the rows judged, the
    refused rows' errors."""

    meta: pl.DataFrame
    verdicts: pl.DataFrame  # VERDICT_SCHEMA and as_of
    errors: list[dict[str, Any]] = field(default_factory=list)


def judge(population: Population, batch: Batch, as_of: dt.date) -> Judged:
    """A batch's verdicts: the table's as a table, pydantic's profiles as a table where their values
    fit its columns, else one by one through the engine."""
    table = batch.table.with_columns(pl.col("as_of").fill_null(as_of))
    one_by_one: list[dict[str, Any]] = []
    meta = [table.select("row", "credit_code", "name", "as_of")]
    if batch.profiles:
        days = [own or as_of for _row, _p, own in batch.profiles]
        meta.append(
            pl.DataFrame(
                [(row, p.credit_code, p.name, day) for (row, p, _own), day in zip(batch.profiles, days, strict=True)],
                schema=META_SCHEMA,
                orient="row",
            )
        )
        rows = [row for row, _p, _own in batch.profiles]
        profiles = [p for _row, p, _own in batch.profiles]
        try:
            extra = table_of(profiles)
        except ValueError:  # a value with more than six decimal places: those one by one
            fits = []
            for i, profile in enumerate(profiles):
                try:
                    table_of([profile])
                    fits.append(i)
                except ValueError:
                    ev = population.engine.evaluate(profile, days[i], population.measures)
                    one_by_one += [{**r, "as_of": days[i]} for r in from_evaluation(ev, rows[i])]
            rows, days = [rows[i] for i in fits], [days[i] for i in fits]
            extra = table_of([profiles[i] for i in fits])
        if rows:
            extra = extra.with_columns(pl.Series("row", rows, dtype=pl.Int64), pl.Series("as_of", days, dtype=pl.Date))
            table = pl.concat([table, extra], how="vertical_relaxed")
    days = table["as_of"].unique()
    if table.height == 0:
        verdicts = pl.DataFrame(schema=VERDICT_SCHEMA)
    elif len(days) == 1:  # one date: no need to group the rows by it (a copy of the batch)
        verdicts = population.verdicts(table.drop("as_of"), days[0])
    else:
        verdicts = population.verdicts(table, as_of)
    verdicts = verdicts.join(table.select("row", "as_of"), on="row", how="left", maintain_order="left")
    if one_by_one:
        verdicts = pl.concat(
            [verdicts, pl.DataFrame(one_by_one, schema={**VERDICT_SCHEMA, "as_of": pl.Date})], how="vertical"
        )
    if batch.profiles:
        verdicts = verdicts.sort("row", maintain_order=True)
    for e in batch.errors:
        meta.append(pl.DataFrame([(e["row"], e.get("credit_code"), e.get("name"), None)], schema=META_SCHEMA, orient="row"))
    return Judged(pl.concat(meta, how="vertical").sort("row"), verdicts, batch.errors)


def ahead(batches: Iterator[Batch], depth: int = 1) -> Iterator[Batch]:
    """The batches, each read while the one before it is judged (a thread; at most ``depth`` read
    ahead, so memory stays that of a couple of batches)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def read() -> None:
        try:
            for b in batches:
                while not stop.is_set():
                    try:
                        q.put(b, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            q.put(e)

    t = threading.Thread(target=read, daemon=True, name="screen-read")
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def parse_rows(text: str) -> set[int]:
    """``2,5,10-20`` → {2, 5, 10, …, 20}."""
    out: set[int] = set()
    for part in text.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        a, b = int(lo), int(hi) if sep else int(lo)
        if a < 1 or b < a or b - a > 100_000:
            raise ValueError(part)
        out.update(range(a, b + 1))
    return out


def screen_file(
    input: Path,
    output: Path,
    as_of: dt.date | None = None,
    measures: list[str] | None = None,
    lang: str = "zh",
    progress: Any = None,
    rules_dir: str | None = None,
    backend: str | None = None,
    batch_rows: int = 25_000,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Screen ``input`` into ``output`` (its suffix says how); a summary of the run."""
    engine = engine or Engine(rules_dir, backend)
    if measures:
        unknown = sorted(set(measures) - set(engine.pack.measures))
        if unknown:
            raise UnknownMeasure(unknown)
    day = as_of or dt.date.today()
    population = Population(engine, measures)
    started = time.perf_counter()
    size = input.stat().st_size
    bar = _Bar(progress, size)
    counts = {"rows": 0, "fast": 0, "slow": 0, "errors": 0}
    tmp = output.with_name(output.name + ".part")
    try:
        with input.open("rb") as fh, writer_for(output, tmp, population, lang) as writer:
            for batch in ahead(read_batches(fh, filename=input.name, lang=lang, batch_rows=batch_rows)):
                judged = judge(population, batch, day)
                writer.write(judged)
                counts["rows"] += batch.rows
                counts["fast"] += batch.table.height
                counts["slow"] += len(batch.profiles)
                counts["errors"] += len(batch.errors)
                bar.update(fh.tell() if not fh.closed else size, counts["rows"])
        tmp.replace(output)
    finally:
        bar.stop()
        tmp.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    return {
        **counts,
        "lines": counts["rows"],
        "ok": counts["rows"] - counts["errors"],
        "as_of": day,
        "seconds": seconds,
        "rate": counts["rows"] / seconds if seconds else 0.0,
    }


class _Bar:
    """A progress bar on standard error, by the bytes of the input read."""

    def __init__(self, console: Any, total: int) -> None:
        self.bar = None
        if console is None:
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            TextColumn("{task.fields[rows]:,} 行 / rows"),
            TimeRemainingColumn(),
            console=console,
        )
        self.task = self.bar.add_task("筛查 / screening", total=max(total, 1), rows=0)
        self.bar.start()

    def update(self, position: int, rows: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=position, rows=rows)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
