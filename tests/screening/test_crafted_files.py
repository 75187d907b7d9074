"""Files crafted to exhaust the service: XLSX that expand without bound, malformed or hostile XML,
JSONL nested too deeply. Each is refused (or its bad row reported) after reading at most about a
limit's worth, with a clear reason; none reaches a 500, none leaves its file behind."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from collections.abc import Iterable

import pytest

import intake
from tests.api.conftest import assert_problem
from tests.screening.conftest import csv_bytes, profiles, run_done, upload

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="企业画像" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)


def xlsx(sheet: Iterable[str], strings: Iterable[str] = (), workbook: str = WORKBOOK) -> bytes:
    """A minimal XLSX whose worksheet and shared strings are streamed from pieces of XML (so that a
    file expanding to hundreds of MB is built without holding it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        for name, pieces in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", strings)):
            with z.open(name, "w", force_zip64=True) as fh:
                for piece in pieces:
                    fh.write(piece.encode())
    return buf.getvalue()


def sheet(rows: Iterable[str]) -> Iterable[str]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
    yield from rows
    yield "</sheetData></worksheet>"


def sst(texts: Iterable[str]) -> Iterable[str]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'
    for t in texts:
        yield f"<si><t>{t}</t></si>"
    yield "</sst>"


def header_row(cells: int) -> Iterable[str]:
    yield '<row r="1"><c r="A1" t="s"><v>0</v></c>'
    for _ in range(cells - 1):
        yield "<c/>"
    yield "</row>"


def _read(data: bytes, limits: intake.Limits = intake.DEFAULT_LIMITS) -> list[intake.ParsedRow]:
    table = intake.open_table(io.BytesIO(data), "a.xlsx", limits=limits)
    try:
        return list(table.rows())
    finally:
        table.close()


def _peak_mb(fn) -> tuple[float, BaseException | None]:
    tracemalloc.start()
    caught = None
    try:
        fn()
    except BaseException as e:  # noqa: BLE001 - the test looks at it
        caught = e
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6, caught


def test_a_crafted_xlsx_is_read_like_excel_writes_it():
    p = profiles(1)[0]
    data = xlsx(
        sheet(
            ['<row r="1"><c r="A1" t="s"><v>0</v></c></row>', '<row r="3"><c r="A3" t="s"><v>1</v></c></row>']
        ),
        sst(["统一社会信用代码", p["credit_code"]]),
    )
    (row,) = _read(data)
    assert row.number == 3 and row.errors == [] and row.credit_code == p["credit_code"]


def test_a_row_of_five_million_cells_is_refused_at_the_first_cell_past_the_limit():
    # before: a 147 KB file with a 5,000,000-cell row took 940 MB in the request, 1.45 GB in the import
    data = xlsx(sheet(header_row(5_000_000)), sst(["统一社会信用代码"]))
    assert len(data) < 200_000
    peak, err = _peak_mb(lambda: _read(data))
    assert isinstance(err, intake.TableError) and err.code == "limit" and "1,024" in err.zh, err
    assert peak < 60, f"{peak:.0f} MB"


def test_cells_past_the_limit_are_refused_however_they_are_spread():
    limits = intake.Limits(max_cells=5_000)
    rows = (
        f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c><c r="B{n}"><v>1</v></c></row>' for n in range(1, 4000)
    )
    with pytest.raises(intake.TableError, match="单元格总数"):
        _read(xlsx(sheet(rows), sst(["统一社会信用代码"])), limits)
    # a single cell far to the right makes a row as wide as its column
    wide = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="XFD1"><v>1</v></c></row>'
    with pytest.raises(intake.TableError, match="列数"):
        _read(xlsx(sheet([wide]), sst(["统一社会信用代码"])))
    # a row number past Excel's last row
    far = '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="99999999"><c r="A99999999"><v>1</v></c></row>'
    with pytest.raises(intake.TableError, match="行号"):
        _read(xlsx(sheet([far]), sst(["统一社会信用代码"])))


def test_millions_of_shared_strings_are_counted_while_they_stream():
    # before: 5,000,000 shared strings took 44 s of CPU before a single row was read
    limits = intake.Limits(max_shared_strings=10_000)
    data = xlsx(sheet(header_row(1)), sst(f"s{i}" for i in range(200_000)))
    peak, err = _peak_mb(lambda: _read(data, limits))
    assert isinstance(err, intake.TableError) and "共享字符串" in err.zh, err
    assert peak < 20, f"{peak:.0f} MB"


def test_one_huge_shared_string_is_refused_by_its_expanded_size_before_it_is_read():
    # before: a 410 KB XLSX whose header was one 400 MB shared string made every list call 419 MB
    limits = intake.Limits(max_shared_strings_bytes=8 * 1024 * 1024)
    data = xlsx(sheet(header_row(1)), sst(["统一社会信用代码", *("x" * 1_000_000 for _ in range(1))]))
    big = xlsx(sheet(header_row(1)), (piece for piece in ["<sst>", *(["x" * 1_000_000] * 20), "</sst>"]))
    assert len(big) < 100_000
    peak, err = _peak_mb(lambda: intake.check_xlsx_archive(io.BytesIO(big), limits))
    assert isinstance(err, intake.TableError) and "sharedStrings.xml" in err.zh and peak < 5, (err, peak)
    # a string longer than Excel allows in a cell (32,767 characters) is a crafted file
    with pytest.raises(intake.TableError, match="单元格的字符数"):
        _read(data)


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    "workbook",
    [
        BILLION_LAUGHS + f'<workbook xmlns="{MAIN}"><sheets>&lol3;</sheets></workbook>',
        EXTERNAL + f'<workbook xmlns="{MAIN}"><sheets>&xxe;</sheets></workbook>',
        f'<workbook xmlns="{MAIN}"><sheets>',  # cut short
    ],
    ids=["billion-laughs", "external-entity", "malformed"],
)
def test_hostile_or_malformed_workbook_xml_is_422_and_the_file_is_removed(bureau, workbook):
    # before: the parse error was not caught: 500, and the file stayed in var/uploads/
    data = xlsx(sheet(header_row(1)), sst(["统一社会信用代码"]), workbook=workbook)
    upload_dir = bureau.app.state.screening_settings.upload_dir
    before = set(upload_dir.glob("*")) if upload_dir.exists() else set()
    r = bureau.client.post(
        "/v1/screenings",
        files={"file": ("a.xlsx", data, "application/octet-stream")},
        headers=bureau.reviewer.headers,
    )
    body = assert_problem(r, 422, "validation-error")
    assert "Excel" in body["detail"]
    assert set(upload_dir.glob("*")) == before


@pytest.mark.parametrize("where", ["strings", "sheet"])
def test_hostile_xml_inside_the_big_parts_fails_the_run_cleanly_and_removes_the_file(bureau, where):
    strings = (
        [BILLION_LAUGHS + f'<sst xmlns="{MAIN}"><si><t>&lol3;</t></si></sst>']
        if where == "strings"
        else sst(["统一社会信用代码"])
    )
    rows = (
        [
            BILLION_LAUGHS
            + f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
        ]
        if where == "sheet"
        else sheet(header_row(1))
    )
    run = upload(bureau, xlsx(rows, strings), "a.xlsx")
    got = bureau.client.get(f"/v1/screenings/{run['id']}", headers=bureau.reviewer.headers).json()
    assert got["status"] == "failed" and "Excel" in got["error"], got
    upload_dir = bureau.app.state.screening_settings.upload_dir
    assert not list(upload_dir.glob(f"{run['id']}.*"))


def test_a_jsonl_line_nested_five_thousand_deep_is_a_bad_row_and_the_rest_are_screened(bureau):
    # before: the line raised RecursionError and the whole run ended failed with 0 rows
    people = profiles(5, seed=71)
    lines = [json.dumps(p) for p in people[:2]] + ["[" * 5000] + [json.dumps(p) for p in people[2:]]
    lines.insert(
        4,
        json.dumps({"credit_code": people[0]["credit_code"], "projects": [[[[[[[[[[1]]]]]]]]]] * 1}).replace(
            "[1]", "[" * 70 + "1" + "]" * 70
        ),
    )
    run = run_done(bureau, ("\n".join(lines) + "\n").encode(), "a.jsonl")
    assert run["progress"]["rows_done"] == 5 and run["progress"]["rows_invalid"] == 2
    errors = bureau.client.get(f"/v1/screenings/{run['id']}/errors", headers=bureau.reviewer.headers).json()
    assert [e["row"] for e in errors["items"]] == [3, 5]
    assert all("nested" in e["errors"][0]["reason"] for e in errors["items"])


def test_a_projects_json_cell_nested_too_deeply_is_a_bad_cell():
    p = profiles(1)[0]
    cols = intake.template_columns()
    cells = intake.cells_of(p, cols)
    cells[-1] = "[" * 5000
    data = csv_bytes([], extra=[[str(x) if x is not None else "" for x in cells]])
    (row,) = list(intake.open_table(io.BytesIO(data), "a.csv").rows())
    assert row.profile is None and "nested" in row.errors[0]["reason"]


def test_a_jsonl_line_past_the_size_limit_is_skipped_not_held():
    limits = intake.Limits(max_line_bytes=10_000)
    p = profiles(2, seed=72)
    data = (json.dumps(p[0]) + "\n" + "x" * 2_000_000 + "\n" + json.dumps(p[1]) + "\n").encode()
    rows = list(intake.open_table(io.BytesIO(data), "a.jsonl", limits=limits).rows())
    assert [r.number for r in rows] == [1, 2, 3]
    assert rows[0].profile and rows[2].profile and "10,000" in rows[1].errors[0]["reason"]


def test_a_csv_record_past_the_size_limit_is_refused():
    limits = intake.Limits(max_line_bytes=100_000)
    data = ("统一社会信用代码\n" + "," * 500_000 + "\n").encode()
    with pytest.raises(intake.TableError, match="一行的字符数"):
        list(intake.open_table(io.BytesIO(data), "a.csv", limits=limits).rows())
