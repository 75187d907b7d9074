"""POST /v1/screenings and what it gives: a run id at once, progress, results with filters, errors,
limits, export, access."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from tests.api.conftest import assert_problem
from tests.screening.conftest import YEARS, csv_bytes, header_index, profiles, run_done, upload


def test_upload_returns_a_run_at_once_and_the_run_screens_every_good_row(bureau):
    people = profiles(60, seed=21)
    bad = [
        ["not-a-code"],
        [people[0]["credit_code"]] + [""] * (header_index("registered_on") - 1) + ["2020-13-45"],
    ]
    run = upload(bureau, csv_bytes(people, "gb18030", extra=bad), title="2025年第一批")
    assert run["status"] in ("importing", "queued")
    assert run["links"]["self"] == f"/v1/screenings/{run['id']}"
    bureau.drain()
    got = bureau.client.get(f"/v1/screenings/{run['id']}", headers=bureau.reviewer.headers).json()
    assert got["status"] == "done" and got["title"] == "2025年第一批"
    p = got["progress"]
    assert (p["rows_done"], p["rows_total"], p["rows_invalid"], p["rows_read"]) == (60, 60, 2, 62)
    assert p["percent"] == 100.0 and p["seconds_left"] == 0.0
    results = bureau.client.get(
        f"/v1/screenings/{run['id']}/results?measure=hte-recognition&limit=500",
        headers=bureau.reviewer.headers,
    ).json()
    assert results["total"] == 60 and sorted(r["row"] for r in results["items"]) == list(range(2, 62))
    assert all(r["rule_pack_version"] == got["rule_pack_version"] for r in results["items"])
    errors = bureau.client.get(f"/v1/screenings/{run['id']}/errors", headers=bureau.reviewer.headers).json()
    assert errors["total"] == 2
    date_error = errors["items"][1]["errors"][0]
    assert (
        date_error["row"] == 63 and date_error["header"] == "成立日期" and date_error["value"] == "2020-13-45"
    )


def test_results_filter_by_measure_outcome_criterion_and_district_and_page(bureau):
    run = run_done(bureau, csv_bytes(profiles(80, seed=22)))
    url = f"/v1/screenings/{run['id']}/results"
    h = bureau.reviewer.headers
    ineligible = bureau.client.get(
        url, params={"measure": "hte-recognition", "outcome": "ineligible", "limit": 500}, headers=h
    ).json()
    assert ineligible["total"] > 0
    assert {r["outcome"] for r in ineligible["items"]} == {"ineligible"}
    crit = ineligible["items"][0]["failed_criteria"][0]
    by_crit = bureau.client.get(
        url, params={"measure": "hte-recognition", "criterion": crit, "limit": 500}, headers=h
    ).json()
    assert by_crit["total"] > 0 and all(crit in r["failed_criteria"] for r in by_crit["items"])
    # an underscore in an id is not a wildcard
    assert (
        bureau.client.get(url, params={"criterion": crit.replace("_", "?", 1)}, headers=h).status_code == 422
    )
    region = ineligible["items"][0]["region_code"]
    by_region = bureau.client.get(url, params={"region_code": region, "limit": 500}, headers=h).json()
    assert by_region["total"] > 0 and {r["region_code"] for r in by_region["items"]} == {region}
    page1 = bureau.client.get(url, params={"limit": 7, "offset": 0}, headers=h).json()
    page2 = bureau.client.get(url, params={"limit": 7, "offset": 7}, headers=h).json()
    keys = {(r["row"], r["measure_id"], r["subject"]["id"]) for r in page1["items"] + page2["items"]}
    assert len(keys) == 14 and page1["total"] == page2["total"]


def test_file_and_row_limits_are_answered_clearly(bureau):
    settings = bureau.app.state.screening_settings
    old = settings.max_rows, settings.max_upload_bytes
    try:
        settings.max_rows = 5
        # rows are counted by the import, in the background: the upload is answered at once
        run = upload(bureau, csv_bytes(profiles(6)))
        got = bureau.client.get(f"/v1/screenings/{run['id']}", headers=bureau.reviewer.headers).json()
        assert got["status"] == "failed" and "最多 5 行" in got["error"]
        settings.max_upload_bytes = 2048
        r = bureau.client.post(
            "/v1/screenings",
            files={"file": ("a.csv", csv_bytes(profiles(40)), "text/csv")},
            headers=bureau.reviewer.headers,
        )
        assert_problem(r, 413, "payload-too-large")
    finally:
        settings.max_rows, settings.max_upload_bytes = old


def test_a_file_that_cannot_be_read_is_refused_with_the_reason(bureau):
    run = upload(bureau, "名称\n甲\n".encode(), "a.csv")
    got = bureau.client.get(f"/v1/screenings/{run['id']}", headers=bureau.reviewer.headers).json()
    assert got["status"] == "failed" and "统一社会信用代码" in got["error"]
    r = bureau.client.post(
        "/v1/screenings",
        files={"file": ("a.xlsx", b"PK\x03\x04broken", "application/octet-stream")},
        headers=bureau.reviewer.headers,
    )
    assert_problem(r, 422)
    r = bureau.client.post(
        "/v1/screenings",
        files={"file": ("a.csv", csv_bytes(profiles(2)), "text/csv")},
        data={"measures": "hte-recognition,no-such-measure"},
        headers=bureau.reviewer.headers,
    )
    assert_problem(r, 404, "unknown-measure")


def test_only_the_bureau_screens(bureau):
    c = bureau.client
    r = c.post(
        "/v1/screenings",
        files={"file": ("a.csv", csv_bytes(profiles(1)), "text/csv")},
        headers=bureau.enterprise.headers,
    )
    assert_problem(r, 403, "forbidden")
    assert_problem(c.get("/v1/screenings"), 401)
    assert c.get("/v1/screenings/templates/csv").status_code == 200  # templates are public


def test_export_has_one_column_per_measure_with_reasons_in_chinese(bureau):
    run = run_done(
        bureau,
        csv_bytes(profiles(12, seed=23), extra=[["bad"]]),
        measures=["hte-recognition", "tsme-evaluation"],
    )
    r = bureau.client.get(f"/v1/screenings/{run['id']}/export?format=csv", headers=bureau.reviewer.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "行号",
        "统一社会信用代码",
        "企业名称",
        "注册地行政区划代码",
        "区县",
        "数据错误",
        "高新技术企业认定条件",
        "科技型中小企业评价",
    ]
    assert len(rows) == 14
    assert any(row[6].startswith("不符合：") and "要求" in row[6] for row in rows[1:])
    assert "统一社会信用代码" in rows[-1][5]
    r = bureau.client.get(f"/v1/screenings/{run['id']}/export?format=xlsx", headers=bureau.reviewer.headers)
    ws = load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    table = list(ws.iter_rows(values_only=True))
    assert table[0][6] == "高新技术企业认定条件" and len(table) == 14
    r = bureau.client.get(
        f"/v1/screenings/{run['id']}/export?format=csv&lang=en", headers=bureau.reviewer.headers
    )
    assert r.content.decode("utf-8-sig").startswith("row,credit_code")


def test_templates_from_the_api(bureau):
    for fmt, ctype in (
        ("csv", "text/csv"),
        ("xlsx", "application/vnd.openxmlformats"),
        ("jsonl", "application/x-ndjson"),
    ):
        r = bureau.client.get(f"/v1/screenings/templates/{fmt}?as_of=2025-06-30")
        assert r.status_code == 200 and r.headers["content-type"].startswith(ctype)
        assert "filename*=UTF-8''" in r.headers["content-disposition"]
    header = bureau.client.get("/v1/screenings/templates/csv?as_of=2025-06-30").content.decode("utf-8-sig")
    assert f"{YEARS[-1]}年度销售收入（万元）" in header
    assert (
        bureau.client.get("/v1/screenings/templates/csv?lang=en")
        .content.decode("utf-8-sig")
        .startswith("credit_code,")
    )
