"""Browser tests: the service on a free loopback port (uvicorn in a thread, a temporary SQLite
database) and Debian's Chromium driven by Playwright.

Chromium is ``/usr/bin/chromium`` (``.ci/run`` installs it; Playwright's own browser download is
never used). Without it the tests skip locally and fail in CI (``CI=true``). Every test fails on a
browser console error or an uncaught page error. Screenshots go to ``var/screenshots/``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.staticfiles import StaticFiles

from api.config import Settings
from api.db import migrate
from api.main import create_app
from api.schemas.users import UserCreate
from api.services import accounts

CHROMIUM = Path(os.environ.get("HUIQI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# axe-core (npm, a devDependency of api/web) checks each page against WCAG 2 A/AA
AXE = Path(__file__).resolve().parents[2] / "api" / "web" / "node_modules" / "axe-core" / "axe.min.js"
TEST_ASSETS = "/test-assets"
PASSWORD = "correct-horse-battery"
ENTERPRISE_CODE = "91370100CA85GF0T94"  # the established example enterprise


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {why}: .ci/run installs Chromium (apt-get install chromium)")
    pytest.skip(why)


@dataclasses.dataclass
class Server:
    url: str
    app: object


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    import uvicorn

    base = tmp_path_factory.mktemp("web-db")
    db = base / "huiqi.db"
    # one worker process taking small chunks: the progress bar has steps to show, and the browser
    # keeps a core to itself
    screening_env = {
        "HUIQI_SCREENING_UPLOAD_DIR": str(base / "uploads"),
        "HUIQI_SCREENING_WORKERS": "1",
        "HUIQI_SCREENING_CHUNK_ROWS": "20",
        "HUIQI_SCREENING_POLL_SECONDS": "0.1",
    }
    saved = {k: os.environ.get(k) for k in screening_env}
    os.environ.update(screening_env)
    settings = Settings(database_url=f"sqlite:///{db}", backend="python")
    app = create_app(settings)
    migrate(app.state.db_engine)
    with app.state.sessionmaker() as session:
        for username, role, code, display in (
            ("admin", "admin", None, "系统管理员"),
            ("reviewer", "reviewer", None, "王审核"),
            ("qiye", "enterprise", ENTERPRISE_CODE, "济南示例智能制造有限公司"),
        ):
            accounts.create_user(
                session,
                UserCreate(
                    username=username, password=PASSWORD, role=role, credit_code=code, display_name=display
                ),
            )
    # the test's own scripts and styles (axe-core, no animations), served from the site itself: the
    # pages' Content-Security-Policy refuses inline ones, and the tests keep it on
    assets = base / "test-assets"
    assets.mkdir()
    if AXE.exists():
        shutil.copy(AXE, assets / "axe.min.js")
    (assets / "still.css").write_text(
        "*, *::before, *::after { transition: none !important; animation: none !important; }"
    )
    app.mount(TEST_ASSETS, StaticFiles(directory=assets), name="test-assets")
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="huiqi-web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", app)
    uv.should_exit = True
    thread.join(timeout=20)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is absent")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class ConsoleWatch:
    """Console errors and uncaught exceptions of one page; a test may allow an expected one."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
def page(browser, server, console):
    context = browser.new_context(
        base_url=server.url,
        locale="zh-CN",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    pg = context.new_page()
    pg.on(
        "console",
        lambda m: console.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None,
    )
    pg.on("pageerror", lambda e: console.errors.append(f"pageerror: {e}"))
    yield pg
    context.close()
    bad = console.unexpected()
    assert not bad, "browser console errors:\n" + "\n".join(bad)


def shot(page, name: str, full_page: bool = True) -> Path:
    """A screenshot for people to look at: var/screenshots/<name>.png (the whole page by default;
    the viewport for a dialog, which stays where the window is)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def login(page, username: str, password: str = PASSWORD, next_path: str | None = None) -> None:
    page.goto("/login" + (f"?next={quote(next_path, safe='/')}" if next_path else ""))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_function("() => sessionStorage.getItem('huiqi.token') !== null")


def accessible(page, context: str | None = None) -> None:
    """No WCAG 2 A/AA violation that axe-core rates serious or critical (labels, contrast, names,
    ARIA use) on the page as it stands, or within ``context`` (a CSS selector)."""
    if not AXE.exists():
        _unavailable(f"{AXE} is absent: `make test` installs it (npm ci in api/web)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=TEST_ASSETS + "/axe.min.js")
    # judge the page at rest: a button the test just clicked is still hovered and half-way through
    # Bootstrap's colour transition, and axe would measure the contrast of that passing frame
    page.add_style_tag(url=TEST_ASSETS + "/still.css")
    page.mouse.move(0, 0)
    result = page.evaluate(
        """async (ctx) => {
            const r = await axe.run(ctx ? document.querySelector(ctx) : document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            });
            return r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
                v.id + " (" + v.impact + "): " + v.help + " — " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
        }""",
        context,
    )
    assert not result, "accessibility violations:\n" + "\n".join(result)
