"""What ``huiqi screen`` writes, by the output's suffix.

- ``.parquet``: the verdict table (``engine.population``: one row per input row, measure and
  subject; ``statuses`` a character a node of the measure's tree) with the row's ``credit_code``
  and ``as_of``; a refused input row is one row with its ``error`` (JSON) and no measure.
- ``.csv`` / ``.xlsx``: one row per input row: its number, credit code, name and assessment date,
  then for each measure its outcome and its reasons in words (``Population.reasons``: the decisive
  failures with what each requires, the missing facts, what a person must judge, the benefit
  expected; a project measure's per project), and the errors of a refused row. CSV is UTF-8
  with a BOM (Excel opens it as such); a cell that a spreadsheet would take for a formula gets a
  leading apostrophe.
- ``.jsonl`` (``.ndjson``, ``.json``): one line per input line, in order: ``{"line", "credit_code",
  "as_of", "results": [{measure_id, subject, outcome, summary, statuses, missing_facts, reason,
  benefit}]}`` (``reason`` for a measure not applicable, ``benefit`` for one granted), or ``{"line", "credit_code", "error": {"title", "errors"}}``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import IO, Any

import orjson
import polars as pl

from engine.population import VERDICT_SCHEMA, Population

from . import words
from .errors import TableError

SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
XLSX_ROWS = 1_048_575  # Excel's rows, less the header
# what makes a spreadsheet read a cell as a formula (OWASP's CSV injection list), also after spaces
FORMULA_START = r"^[\s\u3000]*[=+\-@\t\r]|^[\t\r]"
ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def output_format(path: Path) -> str:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise TableError(
            "unsupported-format",
            f"输出文件的后缀应为 {'、'.join(SUFFIXES)} 之一，收到“{path.suffix}”",
            f"the output's suffix must be one of {', '.join(SUFFIXES)}, got {path.suffix!r}",
        )
    return fmt


def writer_for(output: Path, tmp: Path, population: Population, lang: str) -> Any:
    fmt = output_format(output)
    cls = {"parquet": ParquetOut, "csv": SheetOut, "xlsx": SheetOut, "jsonl": JsonlOut}[fmt]
    return cls(tmp, population, lang, fmt)


def safe_text(c: pl.Expr) -> pl.Expr:
    """Text as a spreadsheet keeps it: no control characters, and never a formula."""
    c = c.str.replace_all(ILLEGAL, "")
    return pl.when(c.str.contains(FORMULA_START)).then(pl.lit("'") + c).otherwise(c)


def error_words(error: dict[str, Any], lang: str) -> str:
    """A refused row's errors in one cell: each with its column (or field) and reason."""
    parts = []
    for e in error.get("errors") or []:
        where = e.get("header") or e.get("field") or ""
        if e.get("column"):
            where = f"{e['column']} {where}".strip()
        parts.append(f"{where}：{e.get('reason')}" if lang != "en" else f"{where}: {e.get('reason')}")
    return ("；" if lang != "en" else "; ").join(parts) or str(error.get("title") or "")


class _Out:
    def __init__(self, path: Path, population: Population, lang: str, fmt: str) -> None:
        self.path = path
        self.population = population
        self.lang = lang
        self.fmt = fmt
        self.fh: IO[bytes] | None = None
        self.words = words.Worded(population, lang)

    def __enter__(self) -> Any:
        self.fh = self.path.open("wb")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
        if self.fh is not None:
            self.fh.close()

    def close(self) -> None:
        pass


class ParquetOut(_Out):
    SCHEMA = {
        "row": pl.Int64,
        "credit_code": pl.Utf8,
        "as_of": pl.Date,
        **{c: t for c, t in VERDICT_SCHEMA.items() if c != "row"},
        "error": pl.Utf8,
    }

    def __enter__(self) -> Any:
        self.writer = None
        return self

    def write(self, judged: Any) -> None:
        import pyarrow.parquet as pq

        codes = judged.meta.select("row", "credit_code")
        verdicts = judged.verdicts.join(codes, on="row", how="left", maintain_order="left")
        errors = pl.DataFrame(
            [(e["row"], e.get("credit_code"), json.dumps({"title": e["title"], "errors": e["errors"]}, ensure_ascii=False))
             for e in judged.errors],
            schema={"row": pl.Int64, "credit_code": pl.Utf8, "error": pl.Utf8},
            orient="row",
        )
        out = pl.concat([verdicts.with_columns(pl.lit(None, dtype=pl.Utf8).alias("error")), errors], how="diagonal")
        out = out.select(pl.col(c).cast(t) if c in out.columns else pl.lit(None, dtype=t).alias(c) for c, t in self.SCHEMA.items())
        if judged.errors:
            out = out.sort("row", maintain_order=True)
        table = out.to_arrow()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table)

    def __exit__(self, *exc: Any) -> None:
        if self.writer is None:  # no rows at all: an empty verdict table
            pl.DataFrame(schema=self.SCHEMA).write_parquet(self.path)
        else:
            self.writer.close()


class JsonlOut(_Out):
    """A line per input line."""

    def write(self, judged: Any) -> None:
        assert self.fh is not None
        v = self.words(judged.verdicts)
        results = v.group_by("row", maintain_order=True).agg(pl.col("verdict_json").str.join(","))
        head = pl.struct(pl.col("row").alias("line"), "credit_code", pl.col("as_of").cast(pl.Utf8)).struct.json_encode()
        lines = judged.meta.join(results, on="row", how="inner", maintain_order="left").select(
            "row",
            pl.concat_str(head.str.strip_suffix("}"), pl.lit(',"results":['), pl.col("verdict_json"), pl.lit("]}")).alias(
                "text"
            ),
        )
        if judged.errors:
            bad = pl.DataFrame(
                [
                    (
                        e["row"],
                        orjson.dumps(
                            {
                                "line": e["row"],
                                "credit_code": e.get("credit_code"),
                                "error": {"title": e["title"], "errors": e["errors"]},
                            }
                        ).decode(),
                    )
                    for e in judged.errors
                ],
                schema={"row": pl.Int64, "text": pl.Utf8},
                orient="row",
            )
            lines = pl.concat([lines, bad]).sort("row")
        lines.select("text").write_csv(self.fh, include_header=False, quote_style="never")


class SheetOut(_Out):
    """CSV or XLSX: a row per input row, a column pair per measure."""

    def __enter__(self) -> Any:
        super().__enter__()
        self.columns: list[str] | None = None
        self.measures: list[str] | None = None
        self.rows = 0
        if self.fmt == "xlsx":
            from openpyxl import Workbook

            self.wb = Workbook(write_only=True)
            self.ws = self.wb.create_sheet("筛查结果" if self.lang != "en" else "results")
        return self

    def _heads(self, measures: list[str]) -> list[str]:
        en = self.lang == "en"
        titles = words.measure_titles(self.population.engine, self.lang)
        heads = ["row", "credit_code", "name", "as_of"] if en else ["行号", "统一社会信用代码", "企业名称", "评估日期"]
        for mid in measures:
            heads += [titles[mid], f"{titles[mid]} — reasons" if en else f"{titles[mid]}·理由"]
        return [*heads, "errors" if en else "错误"]

    def write(self, judged: Any) -> None:
        en = self.lang == "en"
        v = judged.verdicts
        if self.measures is None:
            self.measures = v["measure_id"].unique(maintain_order=True).to_list()
            self.columns = self._heads(self.measures)
        sep = "; " if en else "；"
        colon = ": " if en else "："
        # the reasons in the engine's words for a verdict (the service's export says the same)
        v = v.with_columns(
            pl.col("outcome").replace_strict(self.words.labels, return_dtype=pl.Utf8).alias("outcome_label"),
            self.population.reasons(v, dt.date.today(), self.lang).alias("why"),
        )
        # an enterprise measure: one verdict a row; a project measure: one a project, joined
        single = v.filter(pl.col("subject_id").is_null()).select(
            "row", "measure_id", pl.col("outcome_label").alias("o"), pl.col("why").alias("r")
        )
        who = pl.coalesce(pl.col("subject_name"), pl.col("subject_id")) + pl.lit(colon)
        several = (
            v.filter(pl.col("subject_id").is_not_null())
            .group_by("row", "measure_id", maintain_order=True)
            .agg((who + pl.col("outcome_label")).str.join(sep).alias("o"), (who + pl.col("why")).str.join(sep).alias("r"))
        )
        cells = pl.concat([single, several], how="vertical")
        wide = judged.meta.select("row", "credit_code", "name", pl.col("as_of").cast(pl.Utf8))
        if cells.height:
            pivot = cells.pivot(on="measure_id", index="row", values=["o", "r"], aggregate_function="first")
            wide = wide.join(pivot, on="row", how="left", maintain_order="left")
        for mid in self.measures:
            for part in ("o", "r"):
                if f"{part}_{mid}" not in wide.columns:
                    wide = wide.with_columns(pl.lit(None, dtype=pl.Utf8).alias(f"{part}_{mid}"))
        wide = wide.select(
            "row", "credit_code", "name", "as_of", *(f"{part}_{mid}" for mid in self.measures for part in ("o", "r"))
        )
        errors = pl.DataFrame(
            [(e["row"], error_words(e, self.lang)) for e in judged.errors],
            schema={"row": pl.Int64, "errors": pl.Utf8},
            orient="row",
        )
        wide = wide.join(errors, on="row", how="left", maintain_order="left")
        # what the enterprise wrote (its name, its projects' names) never reaches a spreadsheet as a
        # formula; the engine's words never start like one
        projects = [mid for mid in self.measures if words.measure_subjects(self.population.engine)[mid] == "project"]
        given = ["name", "errors", *(f"{part}_{mid}" for mid in projects for part in ("o", "r"))]
        wide = wide.with_columns(safe_text(pl.col(c)).alias(c) for c in given)
        assert self.columns is not None
        wide.columns = self.columns
        self.rows += wide.height
        if self.fmt == "csv":
            assert self.fh is not None
            wide.write_csv(self.fh, include_header=self.rows == wide.height, include_bom=self.rows == wide.height)
            return
        if self.rows > XLSX_ROWS:
            raise TableError(
                "limit",
                f"XLSX 最多 {XLSX_ROWS:,} 行，请输出为 CSV 或 Parquet",
                f"an XLSX holds at most {XLSX_ROWS:,} rows; write CSV or Parquet",
            )
        self._xlsx_rows(wide)

    def _xlsx_rows(self, wide: pl.DataFrame) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        if self.rows == wide.height:
            bold = Font(bold=True)
            header = []
            for h in wide.columns:
                c = WriteOnlyCell(self.ws, value=h)
                c.font = bold
                header.append(c)
            self.ws.freeze_panes = "C2"
            self.ws.append(header)
        for row in wide.iter_rows():
            self.ws.append(row)

    def close(self) -> None:
        if self.fmt == "xlsx":
            if self.columns is None:
                self.ws.append(self._heads([]))
            assert self.fh is not None
            self.wb.save(self.fh)
        elif self.columns is None and self.fh is not None:
            self.fh.write(("\ufeff" + ",".join(self._heads([])) + "\n").encode())
