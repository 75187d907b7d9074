"""The fast path never accepts what pydantic refuses, and every row it accepts is pydantic's profile
as the profile table holds it (``engine.table.table_of``); the rows it leaves to the slow path come
out exactly as the per-row path reads them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import intake
from engine.table import table_of
from tests.intake.mutations import json_lines, sheet_rows

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(data: bytes, name: str) -> dict[int, intake.ParsedRow]:
    """The per-row path: each row read and validated on its own."""
    table = intake.open_table(io.BytesIO(data), name)
    try:
        return {r.number: r for r in table.rows()}
    finally:
        table.close()


def assert_agrees(data: bytes, name: str, batch_rows: int = 7) -> tuple[int, int, int]:
    """Read ``data`` both ways and hold the batches to the per-row path; (fast, slow, refused)."""
    want = reference(data, name)
    seen: list[int] = []
    fast = slow = refused = 0
    sheet = not name.endswith(".jsonl")
    for batch in intake.read_batches(io.BytesIO(data), filename=name, batch_rows=batch_rows, keep_raw=sheet):
        if sheet:  # the cells as given, by header, as the per-row path keeps them
            assert batch.raw is not None and dict(batch.raw) == {n: want[n].raw for n, _ in batch.raw}
            assert len(batch.raw) == batch.rows
        for i, row in enumerate(batch.table["row"].to_list()):
            ref = want[row]
            # the fast path accepted it: pydantic accepts it, and it is pydantic's profile
            assert ref.model is not None, (row, ref.errors)
            got = batch.table.slice(i, 1)
            assert got.drop("as_of").equals(table_of([ref.model], row)), row
            assert got["as_of"][0] == (dt.date.fromisoformat(ref.as_of) if ref.as_of else None)
            seen.append(row)
            fast += 1
        for row, profile, as_of in batch.profiles:
            ref = want[row]
            assert ref.model == profile and as_of == (dt.date.fromisoformat(ref.as_of) if ref.as_of else None)
            seen.append(row)
            slow += 1
        for err in batch.errors:
            ref = want[err["row"]]
            assert ref.model is None and err["errors"] == ref.errors
            assert (err["credit_code"], err["name"]) == (ref.credit_code, ref.name)
            seen.append(err["row"])
            refused += 1
    assert sorted(seen) == sorted(want), "every row exactly once"
    return fast, slow, refused


@PROPERTY
@given(st.lists(json_lines(), min_size=1, max_size=40))
def test_jsonl_fast_path_never_accepts_what_pydantic_refuses(lines):
    assert_agrees(b"\n".join(lines) + b"\n", "a.jsonl")


def test_the_fast_path_takes_clean_lines_and_leaves_the_odd_ones():
    import json

    from tests.population import population

    people = population(50, seed=5)
    lines = [json.dumps(p, ensure_ascii=False).encode() for p in people]
    lines[3] = lines[3].replace(b'"ip": {', b'"ip": {"zzz": 1, ', 1)  # refused by pydantic
    lines[7] = json.dumps({**people[7], "innovation_score": 70.1234567}).encode()  # pydantic only
    fast, slow, refused = assert_agrees(b"\n".join(lines), "a.jsonl", batch_rows=20)
    assert (fast, slow, refused) == (48, 1, 1)


def test_an_empty_batch_table_has_the_profile_table_columns():
    (batch,) = intake.read_batches(io.BytesIO(b"{bad\n"), filename="a.jsonl")
    assert batch.table.height == 0 and batch.table.schema == pl.Schema(intake.batches.TABLE_SCHEMA)
    assert batch.errors[0]["row"] == 1


YEARS = [2022, 2023, 2024]


def _csv(rows: list[list[str]], header: list[str], delimiter: str, encoding: str, newline: str) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    return out.getvalue().encode(encoding)


@PROPERTY
@given(st.data())
def test_csv_fast_path_never_accepts_what_the_per_row_path_refuses(data):
    lang = data.draw(st.sampled_from(["zh", "en"]))
    cols = intake.template_columns(YEARS)
    header = [c.header(lang) for c in cols]
    if data.draw(st.booleans()):
        header = header + ["备注"]
    rows = data.draw(st.lists(sheet_rows(cols, lang), min_size=1, max_size=25))
    delimiter = data.draw(st.sampled_from([",", ",", "\t"]))
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    newline = data.draw(st.sampled_from(["\n", "\r\n"]))
    try:
        raw = _csv(rows, header, delimiter, encoding, newline)
    except UnicodeEncodeError:
        return
    assert_agrees(raw, "a.csv", batch_rows=data.draw(st.sampled_from([3, 1000])))


def test_a_clean_csv_goes_through_the_fast_path():
    from tests.screening.conftest import csv_bytes, profiles

    people = profiles(200)
    assert any(len(p["projects"]) > intake.TEMPLATE_PROJECTS for p in people)  # the JSON column too
    fast, slow, refused = assert_agrees(csv_bytes(people), "a.csv", batch_rows=64)
    assert (fast, slow, refused) == (len(people), 0, 0)


def _typed(value: str, kind: str, how: int) -> object:
    """A text cell as a spreadsheet program might store it: a number, a date, a boolean …"""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = ILLEGAL_CHARACTERS_RE.sub("?", value)  # XLSX holds no control characters
    if how == 0 or value == "":
        return value or None
    if how == 1:
        try:
            number = float(value) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            return value
        return number
    if how == 2 and kind == "date":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if how == 2 and kind == "bool":
        return {"是": True, "否": False, "true": True, "false": False}.get(value, value)
    if how == 3:  # a typed cell where the column wants another type
        return [True, 12, 12.5, dt.datetime(2024, 1, 5, 10, 30), dt.date(2024, 1, 5), 913701001234567890][len(value) % 6]
    return value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_xlsx_fast_path_never_accepts_what_the_per_row_path_refuses(data):
    from openpyxl import Workbook

    cols = intake.template_columns(YEARS)
    rows = data.draw(st.lists(sheet_rows(cols), min_size=1, max_size=15))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(intake.SHEET_NAME)
    ws.append([c.zh for c in cols])
    for r in rows:
        ws.append([_typed(v, cols[i].kind if i < len(cols) else "text", data.draw(st.integers(0, 3))) for i, v in enumerate(r)])
    buf = io.BytesIO()
    wb.save(buf)
    assert_agrees(buf.getvalue(), "a.xlsx", batch_rows=data.draw(st.sampled_from([4, 100])))


def test_a_parquet_profile_table_reads_back_as_itself_and_its_bad_rows_are_named():
    from engine import Profile
    from tests.population import population

    people = [Profile.model_validate(p) for p in population(40, seed=8)]
    table = table_of(people, 1).with_columns(pl.lit(dt.date(2025, 6, 30)).alias("as_of"))
    bad = table.with_columns(
        pl.when(pl.col("row") == 3).then(pl.lit(-5)).otherwise(pl.col("innovation_score")).alias("innovation_score"),
        pl.when(pl.col("row") == 5).then(pl.lit("91370100MA3C5X8Q1I")).otherwise(pl.col("credit_code")).alias("credit_code"),
    )
    buf = io.BytesIO()
    bad.write_parquet(buf)
    (batch,) = intake.read_batches(io.BytesIO(buf.getvalue()), filename="t.parquet")
    assert batch.table.equals(table.filter(~pl.col("row").is_in([3, 5])))
    assert [e["row"] for e in batch.errors] == [3, 5] and batch.profiles == []
    assert batch.errors[0]["errors"][0]["field"] == "innovation_score"
    assert batch.errors[1]["errors"][0]["field"] == "credit_code"


def test_parquet_with_the_template_columns_reads_as_the_spreadsheet_does():
    from intake.layout import layout_of
    from intake.rows import build_row
    from tests.screening.conftest import profiles

    cols = intake.template_columns(YEARS)
    people = profiles(30)
    rows = [intake.cells_of(p, cols) for p in people]
    rows[4][0] = "not a code"
    rows[6][3] = 370102  # a region code typed as a number
    frame = pl.DataFrame([[None if v == "" else str(v) for v in r] for r in rows], schema=[c.zh for c in cols], orient="row")
    frame = frame.with_columns(pl.col(cols[9].zh).cast(pl.Float64))  # the innovation score as numbers
    buf = io.BytesIO()
    frame.write_parquet(buf)
    layout = layout_of([c.zh for c in cols])
    want = {i + 1: build_row(i + 1, list(r), layout) for i, r in enumerate(frame.iter_rows())}
    got = {}
    for batch in intake.read_batches(io.BytesIO(buf.getvalue()), filename="t.parquet", batch_rows=8):
        for i, row in enumerate(batch.table["row"].to_list()):
            assert batch.table.slice(i, 1).drop("as_of").equals(table_of([want[row].model], row))
            got[row] = "fast"
        got.update({row: "slow" for row, _p, _a in batch.profiles})
        got.update({e["row"]: e["errors"] for e in batch.errors})
    assert sorted(got) == list(range(1, 31))
    assert got[5] == want[5].errors and want[5].errors[0]["field"] == "credit_code"
    assert sum(v == "fast" for v in got.values()) >= 20


@pytest.mark.parametrize("name", ["a.jsonl", "a.csv", "ragged.csv", "a.xlsx"])
def test_start_after_resumes_and_max_rows_counts_the_rows_skipped(name):
    from openpyxl import Workbook

    from tests.screening.conftest import csv_bytes, profiles

    people = profiles(30, seed=12)
    if name == "a.jsonl":
        data = ("\n".join(json.dumps(p) for p in people) + "\n").encode()
    elif name == "a.xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(intake.SHEET_NAME)
        cols = intake.template_columns(YEARS)
        ws.append([c.zh for c in cols])
        for p in people:
            ws.append([v if v != "" else None for v in intake.cells_of(p, cols)])
        buf = io.BytesIO()
        wb.save(buf)
        data = buf.getvalue()
    else:
        data = csv_bytes(people, extra=[["bad"]] if name == "ragged.csv" else None)
        if name == "ragged.csv":
            data = data.replace(b"\r\n", b"\n").rstrip(b",\n") + b"\n"  # a short last row: the csv module reads it
    first = 1 if name.endswith(".jsonl") else 2
    rows = [r for b in intake.read_batches(io.BytesIO(data), filename=name, batch_rows=4, start_after=first + 19) for r in
            [*b.table["row"].to_list(), *(x[0] for x in b.profiles), *(e["row"] for e in b.errors)]]
    assert sorted(rows) == list(range(first + 20, first + len(people) + (name == "ragged.csv")))
    limits = intake.Limits(max_rows=25)
    with pytest.raises(intake.TableError) as e:
        for _ in intake.read_batches(io.BytesIO(data), filename=name, batch_rows=4, start_after=first + 19, limits=limits):
            pass
    assert e.value.code == "too-many-rows"


def test_count_rows_counts_data_rows_of_every_format(tmp_path):
    from tests.screening.conftest import csv_bytes, profiles

    people = profiles(7, seed=13)
    assert intake.count_rows(io.BytesIO(csv_bytes(people)), "a.csv") == 7
    assert intake.count_rows(io.BytesIO(("\n\n".join(json.dumps(p) for p in people)).encode()), "a.jsonl") == 7
    buf = io.BytesIO()
    table_of([__import__("engine").Profile.model_validate(p) for p in people]).write_parquet(buf)
    assert intake.count_rows(io.BytesIO(buf.getvalue()), "a.parquet") == 7
