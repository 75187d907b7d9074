"""The bureau's screening desk: login, an upload that runs to completion with the progress bar
moving, browsing and filtering, one application's explanation, a review decision that appears in
the audit log, charts, the impact of a rule change and the export downloading."""

from __future__ import annotations

import csv
import io
import random
import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from intake import cells_of, template_columns
from tests.population import AS_OF, profile

from .conftest import PASSWORD, accessible, login, shot

# enough rows that one worker taking 20-row chunks is still busy over several progress polls (400 ms)
ROWS = 1200
BAD_ROWS = {7: ("credit_code", "91370100ABCDEFGHIJ"), 12: ("fiscal_years[2024].sales_revenue", "一千万")}
RUN: dict[str, str] = {}


def applications_csv() -> bytes:
    """A file as the bureau receives it: the template's Chinese headers, one enterprise a row, and two
    bad cells that must be reported while the other rows are screened."""
    rng = random.Random(6)
    cols = template_columns([AS_OF.year - 3, AS_OF.year - 2, AS_OF.year - 1])
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([c.header("zh") for c in cols])
    for n in range(1, ROWS + 1):
        p = profile(rng)
        p["name"] = f"济南测试企业{n:04d}有限公司"
        cells = cells_of(p, cols, "zh")
        if n in BAD_ROWS:
            path, value = BAD_ROWS[n]
            cells[[c.path for c in cols].index(path)] = value
        w.writerow(cells)
    return out.getvalue().encode("utf-8-sig")


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("upload") / "申报企业名单.csv"
    path.write_bytes(applications_csv())
    return path


@pytest.fixture
def finished_run(server, csv_file) -> str:
    """The run the upload test made, or one made through the API when that test did not run first."""
    if "id" not in RUN:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            token = c.post("/v1/auth/token", data={"username": "reviewer", "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            r = c.post(
                "/v1/screenings",
                headers=headers,
                files={"file": (csv_file.name, csv_file.read_bytes(), "text/csv")},
                data={"as_of": AS_OF.isoformat()},
            )
            assert r.status_code == 202, r.text
            RUN["id"] = r.json()["id"]
            deadline = time.monotonic() + 90
            while c.get(f"/v1/screenings/{RUN['id']}", headers=headers).json()["status"] != "done":
                assert time.monotonic() < deadline, "the screening did not finish"
                time.sleep(0.3)
    return RUN["id"]


def test_desk_requires_login(page, console):
    console.allow(r"status of 401")  # the API answers the wrong password with 401
    page.goto("/desk")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdesk"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    shot(page, "09-login")
    accessible(page)
    # by keyboard alone: the skip link, then the form
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到主要内容")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("用户名")).to_be_focused()
    page.keyboard.type("reviewer")
    page.keyboard.press("Tab")
    page.keyboard.type("wrong-password-123")
    page.keyboard.press("Enter")
    expect(page.locator("#login-error")).to_contain_text("用户名或密码错误")
    expect(page.get_by_label("密码")).to_be_focused()


def test_upload_runs_to_completion_with_progress(page, csv_file):
    login(page, "reviewer", next_path="/desk")
    expect(page).to_have_url(re.compile(r"/desk$"))
    expect(page.locator("[data-user]")).to_contain_text("王审核")
    page.get_by_label("申报文件").set_input_files(str(csv_file))
    page.get_by_label("评估日期").fill(AS_OF.isoformat())
    page.get_by_role("button", name="开始筛查").click()
    bar = page.locator("#desk-progressbar")
    expect(bar).to_be_visible()
    page.wait_for_function(
        "() => { const b = document.getElementById('desk-progressbar');"
        " return b.dataset.seen && b.dataset.seen.split(',').some(v => +v > 0 && +v < 100); }",
        timeout=60_000,
    )
    shot(page, "10-desk-progress")
    expect(bar).to_have_attribute("data-status", "done", timeout=90_000)
    expect(bar).to_have_attribute("aria-valuenow", "100")
    seen = [int(v) for v in bar.get_attribute("data-seen").split(",")]
    assert seen == sorted(seen) and len(seen) >= 3, seen  # it moved: 0 … some … 100
    open_run = page.get_by_role("link", name=re.compile("筛查结果"))
    expect(open_run).to_be_visible()
    RUN["id"] = open_run.get_attribute("href").rsplit("/", 1)[1]
    expect(page.locator(f'#desk-runs-table tr[data-run="{RUN["id"]}"]')).to_be_visible()
    shot(page, "11-desk")
    accessible(page)


def test_browse_filter_explain_and_review(page, console, finished_run):
    console.allow(r"status of 422")  # the API answers the missing override reason with 422
    login(page, "reviewer", next_path=f"/desk/runs/{finished_run}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=30_000)
    expect(page.locator("#kpi-rows .num")).to_have_text(str(ROWS))
    expect(page.locator("#kpi-invalid .num")).to_have_text(str(len(BAD_ROWS)))
    # the bad cells are reported with row, column, value and reason
    page.get_by_text("以下单元格有问题").click()
    expect(page.locator("#run-errors-body")).to_contain_text("一千万")
    shot(page, "12-desk-run")
    accessible(page)

    page.get_by_label("政策", exact=True).select_option("hte-recognition")
    page.get_by_label("结论", exact=True).select_option("ineligible")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#results-box")).to_have_attribute(
        "data-query", re.compile(r"measure=hte-recognition&outcome=ineligible")
    )
    rows = page.locator("#results-table tbody tr")
    expect(rows.first).to_be_visible()
    for outcome in rows.evaluate_all("rs => rs.map(r => r.dataset.outcome + '|' + r.dataset.measure)"):
        assert outcome == "ineligible|hte-recognition"
    row_no = rows.first.get_attribute("data-row")

    rows.first.get_by_role("button", name="查看说明").click()
    modal = page.locator("#row-modal")
    expect(modal).to_be_visible()
    section = modal.locator('section[data-measure="hte-recognition"]')
    expect(section.locator(".badge-outcome")).to_have_text("不符合")
    form = section.locator("form.decision-form")
    # approving an ineligible application needs an override reason
    form.get_by_label("决定", exact=True).select_option("approve")
    form.get_by_label("理由", exact=True).fill("材料齐全，经现场核查符合条件")
    form.get_by_role("button", name="提交复核").click()
    expect(form.locator("[role=alert]")).to_contain_text("理由")
    form.get_by_label("决定", exact=True).select_option("reject")
    form.get_by_label("理由", exact=True).fill("研发费用占比未达到要求")
    form.get_by_role("button", name="提交复核").click()
    expect(section.locator(".decisions-list")).to_contain_text("研发费用占比未达到要求")
    shot(page, "13-desk-explanation", full_page=False)
    accessible(page, "#row-modal")
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    page.get_by_role("tab", name="复核记录").click()
    expect(page.locator("#decisions-table")).to_contain_text("研发费用占比未达到要求")
    RUN["row"] = row_no


def _decision_through_the_api(server, run_id: str) -> None:
    """The decision the review test records in the browser, for when that test did not run first."""
    with httpx.Client(base_url=server.url, timeout=30) as c:
        token = c.post("/v1/auth/token", data={"username": "reviewer", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        found = c.get(
            f"/v1/screenings/{run_id}/results",
            params={"measure": "hte-recognition", "outcome": "ineligible", "limit": 1},
            headers=headers,
        ).json()["items"][0]
        r = c.post(
            f"/v1/screenings/{run_id}/rows/{found['row']}/decisions",
            json={"measure_id": "hte-recognition", "decision": "reject", "reason": "研发费用占比未达到要求"},
            headers=headers,
        )
        assert r.status_code == 201, r.text


def test_review_decision_appears_in_audit_log(page, server, finished_run):
    if "row" not in RUN:
        _decision_through_the_api(server, finished_run)
    login(page, "admin", next_path="/desk/audit")
    table = page.locator("#audit-table")
    expect(table).to_be_visible()
    decision = table.locator('tr[data-action="review.decision"]').first
    expect(decision).to_contain_text("审核决定")
    expect(decision).to_contain_text("reviewer")
    expect(decision).to_contain_text("研发费用占比未达到要求")
    expect(table.locator('tr[data-action="screening.import"]').first).to_be_visible()
    shot(page, "14-audit-log")
    accessible(page)


def test_charts_and_rule_change_impact(page, finished_run):
    login(page, "reviewer", next_path=f"/desk/runs/{finished_run}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=30_000)
    page.get_by_role("tab", name="统计图表").click()
    for chart in ("#chart-outcomes", "#chart-funnel", "#chart-districts"):
        expect(page.locator(f"{chart} canvas")).to_be_visible()
    page.wait_for_timeout(600)  # the charts' entry animation
    shot(page, "15-desk-charts")
    accessible(page)
    page.get_by_role("tab", name="规则调整的影响").click()
    page.get_by_label("参数").select_option("hte-recognition.min_tech_staff_ratio")
    page.get_by_label("新取值").fill("12%")
    page.get_by_role("button", name="模拟调整").click()
    expect(page.locator("#impact-summary")).to_contain_text("家企业的结论改变", timeout=60_000)
    expect(page.locator("#impact-table tbody tr").first).to_be_visible()
    expect(page.locator("#chart-impact canvas")).to_be_visible()
    page.wait_for_timeout(600)
    shot(page, "16-desk-impact")
    accessible(page)


def test_export_downloads(page, finished_run):
    login(page, "reviewer", next_path=f"/desk/runs/{finished_run}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=30_000)
    with page.expect_download() as info:
        page.get_by_role("button", name="导出 Excel").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = download.path()
    assert path.read_bytes()[:2] == b"PK"  # a zip: XLSX
    with page.expect_download() as info:
        page.get_by_role("button", name="导出 CSV").click()
    text = info.value.path().read_bytes().decode("utf-8-sig")
    assert "济南测试企业0001有限公司" in text
    assert "高新技术企业认定条件" in text


@pytest.mark.parametrize(
    "next_param",
    [
        "%2F%5Cevil.example%2Fx",
        "/%09/evil.example/x",
        "//evil.example/x",
        "https://evil.example/x",
        "/%5C%5Cevil.example",
    ],
)
def test_login_never_redirects_to_another_site(page, server, next_param):
    # before: /login?next=%2F%5Cevil.example%2Fx and next=/%09/evil.example/x landed on http://evil.example/x
    page.route(re.compile(r"^https?://evil\.example/"), lambda route: route.fulfill(body="stolen"))
    page.goto("/login?next=" + next_param)
    page.get_by_label("用户名").fill("reviewer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/desk$"))
    assert page.url == server.url + "/desk"


def test_login_goes_back_to_a_page_of_this_site(page):
    page.goto("/login?next=" + "%2Fdesk%2Faudit%3Faction%3Dx")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/desk/audit\?action=x$"))


def test_an_administrator_deletes_a_run_from_its_page(page, server):
    small = "\n".join(applications_csv().decode("utf-8-sig").splitlines()[:4]).encode()
    with httpx.Client(base_url=server.url, timeout=60) as c:
        token = c.post("/v1/auth/token", data={"username": "admin", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        r = c.post(
            "/v1/screenings",
            headers=headers,
            files={"file": ("小批.csv", small, "text/csv")},
            data={"as_of": AS_OF.isoformat()},
        )
        run_id = r.json()["id"]
    login(page, "admin", next_path=f"/desk/runs/{run_id}")
    page.wait_for_url(re.compile(f"/desk/runs/{run_id}$"))
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="删除筛查").click()
    page.wait_for_url(re.compile(r"/desk$"))
    with httpx.Client(base_url=server.url, timeout=60) as c:
        assert c.get(f"/v1/screenings/{run_id}", headers=headers).status_code == 404


def test_reviewers_are_not_offered_deletion(page, finished_run):
    login(page, "reviewer", next_path=f"/desk/runs/{finished_run}")
    page.wait_for_url(re.compile(f"/desk/runs/{finished_run}$"))
    expect(page.locator("#run-title")).not_to_have_text("")
    expect(page.get_by_role("button", name="删除筛查")).to_be_hidden()
