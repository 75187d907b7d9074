"""``huiqi screen`` as a user runs it: every input format in, every output format out, the engine's
verdicts and words, explanations on request, each row's own assessment date."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

import intake
from api.cli import huiqi
from engine import FULL, VERDICT, Engine, Options, Profile
from engine.table import table_of
from tests.population import population

runner = CliRunner()
ENGINE = Engine(backend="python")
AS_OF = dt.date(2025, 6, 30)
YEARS = [2022, 2023, 2024]
PEOPLE = population(12, seed=31)
PEOPLE[2]["name"] = "=HYPERLINK(\"http://x\")"  # a spreadsheet formula in a name
PEOPLE[3]["innovation_score"] = "70.1234567"  # pydantic accepts it; the table cannot hold it
PEOPLE[5]["projects"] = [{"id": "P1", "name": "中试", "category": "platform", "new_land_required": True}]


def screen(src: Path, out: Path, *args: str) -> list[str]:
    result = runner.invoke(huiqi, ["screen", str(src), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def verdict_answer(p: dict, as_of: dt.date = AS_OF, lang: str = "zh") -> dict:
    return ENGINE.answer(p, as_of, None, Options("verdict", lang))


def jsonl(path: Path, people: list, bad: int | None = None) -> None:
    lines = [json.dumps(p, ensure_ascii=False) for p in people]
    if bad is not None:
        lines.insert(bad, "{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def sheet_cells(people: list, lang: str = "zh") -> tuple[list[str], list[list]]:
    cols = intake.template_columns(YEARS)
    return [c.header(lang) for c in cols], [intake.cells_of(p, cols, lang) for p in people]


def write_input(kind: str, path: Path, people: list) -> Path:
    if kind == "jsonl":
        jsonl(path.with_suffix(".jsonl"), people)
        return path.with_suffix(".jsonl")
    header, rows = sheet_cells(people)
    if kind == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(header)
        w.writerows(rows)
        path.with_suffix(".csv").write_bytes(out.getvalue().encode("gb18030"))
        return path.with_suffix(".csv")
    if kind == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(intake.SHEET_NAME)
        ws.append(header)
        for r in rows:
            ws.append([v if v != "" else None for v in r])
        wb.save(path.with_suffix(".xlsx"))
        return path.with_suffix(".xlsx")
    if kind == "parquet-table":
        table_of([Profile.model_validate(p) for p in people], 1).write_parquet(path.with_suffix(".parquet"))
        return path.with_suffix(".parquet")
    frame = pl.DataFrame([[None if v == "" else str(v) for v in r] for r in rows], schema=header, orient="row")
    frame.write_parquet(path.with_suffix(".parquet"))
    return path.with_suffix(".parquet")


@pytest.mark.parametrize("kind", ["jsonl", "csv", "xlsx", "parquet-table", "parquet-template"])
def test_every_input_format_gives_the_engines_verdicts(tmp_path, kind):
    people = [p for p in PEOPLE if len(p["projects"]) <= 2]  # the template's numbered groups
    if kind == "parquet-table":
        people = [p for p in people if p is not PEOPLE[3]]  # a profile table holds six places
    src = write_input(kind, tmp_path / "in", people)
    out = tmp_path / "out.parquet"
    screen(src, out, "--as-of", AS_OF.isoformat())
    got = pl.read_parquet(out)
    first = 2 if kind in ("csv", "xlsx") else 1  # a spreadsheet's first data row is row 2
    assert got["row"].unique(maintain_order=True).to_list() == list(range(first, first + len(people)))
    for i, p in enumerate(people):
        want = [(r["measure_id"], r["subject"].get("id"), r["outcome"]) for r in verdict_answer(p)["results"]]
        rows = got.filter(pl.col("row") == first + i)
        assert list(zip(rows["measure_id"], rows["subject_id"], rows["outcome"], strict=True)) == want
        assert set(rows["credit_code"]) == {p["credit_code"]} and set(rows["as_of"]) == {AS_OF}


def test_jsonl_out_is_a_line_per_input_line_with_the_engines_verdicts_in_words(tmp_path):
    src = tmp_path / "in.jsonl"
    jsonl(src, PEOPLE, bad=4)
    out = tmp_path / "out.jsonl"
    screen(src, out, "--as-of", AS_OF.isoformat())
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["line"] for x in lines] == list(range(1, len(PEOPLE) + 2))
    assert "error" in lines[4] and lines[4]["error"]["errors"][0]["field"] == "(line)"
    for line, p in zip(lines[:4] + lines[5:], PEOPLE, strict=True):
        want = verdict_answer(p)
        assert line["credit_code"] == p["credit_code"] and line["as_of"] == AS_OF.isoformat()
        got = [(r["measure_id"], r["subject"], r["outcome"], r["summary"], r["missing_facts"]) for r in line["results"]]
        assert got == [
            (r["measure_id"], r["subject"], r["outcome"], r["summary"], r["missing_facts"]) for r in want["results"]
        ]
        for r in line["results"]:
            assert len(r["statuses"]) == len(next(x for x in want["results"] if x["measure_id"] == r["measure_id"])["criteria"])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_csv_and_xlsx_out_are_a_row_per_enterprise_with_outcomes_and_reasons(tmp_path, fmt):
    src = tmp_path / "in.jsonl"
    jsonl(src, PEOPLE, bad=1)
    out = tmp_path / f"out.{fmt}"
    screen(src, out, "--as-of", AS_OF.isoformat())
    if fmt == "csv":
        raw = out.read_bytes()
        assert raw.startswith("\ufeff".encode())  # Excel reads it as UTF-8
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    else:
        rows = [["" if v is None else str(v) for v in r] for r in load_workbook(out, read_only=True).active.iter_rows(values_only=True)]
    header, body = rows[0], rows[1:]
    assert header[:4] == ["行号", "统一社会信用代码", "企业名称", "评估日期"] and header[-1] == "错误"
    assert [r[0] for r in body] == [str(n) for n in range(1, len(PEOPLE) + 2)]
    assert body[1][-1] and "JSON" in body[1][-1]  # the bad line: its reason, nothing else
    title = {mid: m.title.zh for mid, m in ENGINE.pack.measures.items()}
    for r, p in zip(body[:1] + body[2:], PEOPLE, strict=True):
        for v in ENGINE.evaluate(p, AS_OF).verdicts:
            if v.subject.kind == "project" and v.subject.id:
                continue
            i = header.index(title[v.measure_id])
            assert r[i] == {"eligible": "符合", "ineligible": "不符合", "needs_review": "需人工审核",
                            "undetermined": "无法判定", "not_applicable": "不适用"}[v.outcome]
            # the engine's words for the verdict, as the service's export has them
            assert r[i + 1] == ENGINE.reasons(v) and header[i + 1] == f"{title[v.measure_id]}·理由"
    named = body[3]  # PEOPLE[2]: its name would be a formula
    assert named[2].startswith("'=HYPERLINK")


def test_a_project_measure_lists_each_project(tmp_path):
    src = tmp_path / "in.jsonl"
    p = dict(PEOPLE[0], projects=[{"id": "P1", "name": "甲"}, {"id": "P2", "name": "乙", "new_land_required": True}])
    jsonl(src, [p])
    out = tmp_path / "out.csv"
    screen(src, out, "--as-of", AS_OF.isoformat(), "-m", "land-use-priority")
    header, row = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    want = verdict_answer(p)
    cell = row[header.index(ENGINE.pack.measures["land-use-priority"].title.zh)]
    assert cell.startswith("甲：") and "；乙：" in cell
    assert len([r for r in want["results"] if r["measure_id"] == "land-use-priority"]) == 2


def test_each_line_is_judged_on_its_own_date_and_the_others_on_as_of(tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"as_of": "2024-01-01", "profile": PEOPLE[0]}, ensure_ascii=False),
        json.dumps(PEOPLE[1], ensure_ascii=False),
        json.dumps({"as_of": "2026-03-01", "profile": PEOPLE[2]}, ensure_ascii=False),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    screen(src, out, "--as-of", "2025-06-30")
    got = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    days = [dt.date(2024, 1, 1), dt.date(2025, 6, 30), dt.date(2026, 3, 1)]
    assert [x["as_of"] for x in got] == [d.isoformat() for d in days]
    for line, p, day in zip(got, PEOPLE[:3], days, strict=True):
        want = verdict_answer(p, day)
        assert [(r["measure_id"], r["outcome"], r["summary"]) for r in line["results"]] == [
            (r["measure_id"], r["outcome"], r["summary"]) for r in want["results"]
        ]


def test_without_as_of_lines_without_their_own_are_judged_today(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(PEOPLE[0]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    screen(src, out)
    (line,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert line["as_of"] == dt.date.today().isoformat()


def test_explain_writes_the_full_explanation_of_chosen_rows(tmp_path):
    src = tmp_path / "in.jsonl"
    jsonl(src, PEOPLE[:4], bad=2)
    out = tmp_path / "out.parquet"
    said = screen(src, out, "--as-of", AS_OF.isoformat(), "--explain", "1,3-4,99")
    explained = [json.loads(x) for x in (tmp_path / "out.parquet.explain.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["line"] for x in explained] == [1, 3, 4]
    assert explained[1]["error"]["errors"][0]["field"] == "(line)"
    want = ENGINE.render(ENGINE.evaluate(PEOPLE[0], AS_OF), FULL)
    assert explained[0]["results"] == want["results"] and explained[0]["missing_facts"] == want["missing_facts"]
    assert explained[0]["results"][0]["criteria"][0]["explanation"]
    assert any("99" in line for line in said)  # a row the file does not have is named


def test_explain_in_english_to_a_file_of_ones_choice(tmp_path):
    src = write_input("csv", tmp_path / "in", PEOPLE[:2])
    out = tmp_path / "out.jsonl"
    where = tmp_path / "why.jsonl"
    screen(src, out, "--as-of", AS_OF.isoformat(), "--explain", "3", "--explain-out", str(where), "--lang", "en")
    (x,) = [json.loads(line) for line in where.read_text(encoding="utf-8").splitlines()]
    want = ENGINE.render(ENGINE.evaluate(PEOPLE[1], AS_OF), Options("full", "en"))
    assert x["line"] == 3 and x["results"] == want["results"]
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["results"][0]["summary"] == verdict_answer(PEOPLE[0], lang="en")["results"][0]["summary"]


def test_a_profile_only_pydantic_accepts_is_judged_by_the_engine(tmp_path):
    src = tmp_path / "in.jsonl"
    jsonl(src, [PEOPLE[3]])
    out = tmp_path / "out.jsonl"
    said = screen(src, out, "--as-of", AS_OF.isoformat())
    (line,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    want = verdict_answer(PEOPLE[3])
    assert [(r["measure_id"], r["outcome"]) for r in line["results"]] == [(r["measure_id"], r["outcome"]) for r in want["results"]]
    assert any("逐行路径 1" in s for s in said)


def test_a_file_that_cannot_be_read_leaves_no_output_behind(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("名称,备注\n甲,乙\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(huiqi, ["screen", str(src), "--out", str(out), "--as-of", "2025-06-30"])
    assert result.exit_code == 2 and "统一社会信用代码" in result.output
    assert not out.exists() and not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--out", "x.txt"], "后缀"),
        (["--out", "x.jsonl", "-m", "no-such-measure"], "no-such-measure"),
        (["--out", "x.jsonl", "--explain", "5-2"], "--explain"),
        (["--out", "x.jsonl", "--as-of", "30/06/2025"], "YYYY-MM-DD"),
    ],
)
def test_wrong_options_are_refused_with_the_reason(tmp_path, args, says):
    src = tmp_path / "in.jsonl"
    jsonl(src, PEOPLE[:1])
    args = [a if a not in ("x.txt", "x.jsonl") else str(tmp_path / a) for a in args]
    result = runner.invoke(huiqi, ["screen", str(src), *args])
    assert result.exit_code == 2 and says in result.output, result.output
    assert not (tmp_path / "x.jsonl").exists()


def test_measures_chosen_are_the_only_ones_reported(tmp_path):
    src = tmp_path / "in.jsonl"
    jsonl(src, PEOPLE[:3])
    out = tmp_path / "out.parquet"
    screen(src, out, "--as-of", AS_OF.isoformat(), "-m", "tsme-evaluation")
    assert set(pl.read_parquet(out)["measure_id"]) == {"tsme-evaluation"}


def test_batches_stream_and_the_output_is_in_input_order(tmp_path):
    src = tmp_path / "in.jsonl"
    people = population(60, seed=33)
    jsonl(src, people, bad=30)
    out = tmp_path / "out.jsonl"
    screen(src, out, "--as-of", AS_OF.isoformat(), "--batch-rows", "7")
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["line"] for x in lines] == list(range(1, 62))
    assert [x.get("credit_code") for x in lines if "results" in x] == [p["credit_code"] for p in people]


def test_verdict_answer_summary_is_what_the_default_answer_says():
    """The words of a verdict row are the engine's own (Engine.render with the default options)."""
    p = PEOPLE[0]
    assert verdict_answer(p)["results"] == ENGINE.render(ENGINE.evaluate(p, AS_OF), VERDICT)["results"]
