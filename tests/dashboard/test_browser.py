"""The dashboard in a real browser: Debian's Chromium driven by Playwright against
`soat serve` on a database loaded from the committed sample province.

Logs in, opens every page, follows a drill-down from a unit to one record, downloads the
late list (compared with `soat export late`), and saves screenshots under tests/artifacts/.
Skips locally without /usr/bin/chromium; fails in CI (CI=true) instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.page_timing import _RENDERED_JS, ARGS, CHROMIUM
from dashboard import charts
from soat.commands import serve
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "province"
ARTIFACTS = ROOT / "tests" / "artifacts"
USER, PASSWORD = "browser_admin", "mat-khau-trinh-duyet"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)")
    require(SAMPLE.is_dir(), f"the committed sample province {SAMPLE} is missing")
    tmp = tmp_path_factory.mktemp("browser")
    db = tmp / "soat.duckdb"
    env = {
        **os.environ,
        "SOAT_DB": str(db),
        "SOAT_APP_DB": f"sqlite:///{tmp / 'app.sqlite'}",
        "SOAT_BCRYPT_ROUNDS": "4",
        "PYTHONPATH": str(ROOT),
    }
    soat = [sys.executable, "-m", "soat"]
    for extra in ([], ["--as-of", "2025-06-30"]):  # two snapshots: trends have two points
        subprocess.run(
            [*soat, "load", str(SAMPLE), "--name", "Cập nhật" if extra else "Tỉnh mẫu", *extra],
            env=env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
    subprocess.run(
        [*soat, "users", "add", USER, "--role", "province_admin", "--password-stdin"],
        input=(PASSWORD + "\n").encode(),
        env=env,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    port = serve.free_port()
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [*soat, "serve", "--port", str(port), "--address", "127.0.0.1"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: streamlit goes with it
    )
    try:
        assert serve.wait_healthy(port, proc, timeout=90), (tmp / "server.log").read_text(
            errors="replace"
        )[-3000:]
        yield {"url": f"http://127.0.0.1:{port}", "db": db, "env": env, "tmp": tmp}
    finally:
        # `soat serve` stops its streamlit child on SIGTERM; the group signal (the group we
        # created, by its id) makes sure nothing of this test outlives it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        ctx = browser.new_context(
            viewport={"width": 1440, "height": 1600}, accept_downloads=True, locale="vi-VN"
        )
        pg = ctx.new_page()
        pg.set_default_timeout(30_000)
        yield pg
        ctx.close()
        browser.close()


def _settle(pg) -> None:
    """Wait until Streamlit has finished the run (no 'running' indicator) and charts drew."""
    pg.wait_for_load_state("networkidle")
    with contextlib.suppress(Exception):
        pg.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=15_000)
    # what the page drew is on screen: every chart drawn or saying why not (the benchmarks'
    # own test of a rendered page)
    pg.wait_for_function(_RENDERED_JS, polling=100, timeout=30_000)
    pg.wait_for_timeout(600)
    problems = pg.locator(".soat-plot-problem")
    assert problems.count() == 0, problems.all_inner_texts()  # the login page's too


@contextlib.contextmanager
def _fresh_page(page, height: int = 1000):
    """A page in a new browser context (a new Streamlit session, logged out), closed after."""
    ctx = page.context.browser.new_context(viewport={"width": 1440, "height": height})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        ctx.close()


def _login_form_at(pg, url: str, paths) -> None:
    """Each path answers with the login form, without Streamlit's "Page not found"."""
    for path in paths:
        pg.goto(url + path)
        pg.get_by_label("Tên đăng nhập").wait_for()
        _settle(pg)
        assert "Page not found" not in pg.inner_text("body"), path


def _log_in_by_link(pg, link: str, heading: str) -> None:
    """Open `link` logged out, log in on its form, wait for the page's `heading`: no
    "Page not found" before nor after."""
    pg.goto(link)
    pg.get_by_label("Tên đăng nhập").fill(USER)
    _settle(pg)
    assert "Page not found" not in pg.inner_text("body")
    pg.get_by_label("Mật khẩu").fill(PASSWORD)
    pg.get_by_role("button", name="Đăng nhập").click()
    pg.get_by_role("heading", name=heading).first.wait_for()
    _settle(pg)
    assert "Page not found" not in pg.inner_text("body")


def _charts(pg) -> int:
    """The charts drawn on the page; none of them said it could not draw, and none is
    Streamlit's own Plotly element (its 4.7 MB of code is never loaded: dashboard.charts)."""
    assert pg.locator(".soat-plot-problem").count() == 0
    assert pg.locator('[data-testid="stPlotlyChart"]').count() == 0
    return pg.locator("div.soat-plot:has(svg.main-svg)").count()


def _shot(pg, name: str) -> None:
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _nav(pg, title: str) -> None:
    pg.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    pg.get_by_role("heading", name=title).first.wait_for()
    _settle(pg)


def _click_first_row(pg, grid_index: int = 0) -> None:
    """Select the first data row of a st.dataframe (its row-marker column)."""
    # A Streamlit rerun may replace the grid between locating and clicking it ("element is
    # not attached"): settle, re-locate and try again a few times.
    last: Exception | None = None
    for _ in range(5):
        _settle(pg)
        grid = pg.get_by_test_id("stDataFrame").nth(grid_index)
        try:
            grid.wait_for(state="visible", timeout=15_000)
            grid.scroll_into_view_if_needed(timeout=5_000)
            box = grid.bounding_box()
            if box is None:
                raise RuntimeError("grid has no box yet")
            pg.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
            _settle(pg)
            return
        except Exception as exc:  # noqa: BLE001 - playwright raises its own Error type
            last = exc
            pg.wait_for_timeout(500)
    raise AssertionError(f"could not select the first row of grid {grid_index}: {last}")


def test_login_form_alone_a_link_survives_it_and_logout_clears_the_sidebar(server, page):
    """Before a login the sidebar holds no navigation (Streamlit would otherwise list the
    files of dashboard/pages/ there), a link to a page opens it after the login, and a
    logout takes the user's navigation (admin pages included) off the sidebar. First in
    this file: the server's first session is the one Streamlit used to answer with a
    "Page not found" dialog (soat.commands.serve_app.no_pages_directory)."""
    from playwright.sync_api import expect

    with _fresh_page(page) as pg:
        pg.goto(server["url"] + "/sai-lech")
        pg.get_by_label("Tên đăng nhập").fill(USER)
        _settle(pg)
        expect(pg.get_by_test_id("stSidebarNav")).to_have_count(0)
        body = pg.inner_text("body")
        assert "du lieu" not in body and "admin users" not in body
        assert "Page not found" not in body
        assert "Press Enter" not in body  # Streamlit's English hint under a focused field
        pg.get_by_label("Mật khẩu").fill(PASSWORD)
        pg.get_by_role("button", name="Đăng nhập").click()
        pg.get_by_role("heading", name="Sai lệch").first.wait_for()
        _settle(pg)
        assert "/sai-lech" in pg.url
        expect(pg.get_by_test_id("stSidebarNav").get_by_text("Tài khoản")).to_have_count(1)
        pg.get_by_role("button", name="Đăng xuất").click()
        pg.get_by_label("Mật khẩu").wait_for()
        _settle(pg)
        expect(pg.get_by_test_id("stSidebarNav")).to_have_count(0)
        expect(pg.get_by_text("Tài khoản")).to_have_count(0)


def test_every_documented_page_path_opens_without_page_not_found(server, page):
    """docs/dashboard.md's page paths: none answers with Streamlit's "Page not found"
    dialog (a modal that also blocks the login form). /tong-quan is the overview's name
    though Streamlit serves the default page at / only: after the login it lands there
    with the link's filters."""
    with _fresh_page(page) as pg:
        pages = ("/tien-do-nop", "/sai-lech", "/truong", "/xu-huong", "/du-lieu")
        _login_form_at(pg, server["url"], pages)
        _log_in_by_link(pg, server["url"] + "/tong-quan?level=TH", "Tổng quan")
        assert "level=TH" in pg.url
        caption = pg.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").first
        assert "TH – Tiểu học" in caption.inner_text()  # the filter the link carried


def test_old_page_addresses_lead_to_the_pages(server, page):
    """The pages' file names, their addresses before each had its own url_path (/sai_lech,
    /truong_hoc, /admin_users …), answered with Streamlit's English "Page not found"
    dialog over the login form. They lead to the page now, with the link's parameters;
    Back onto the old address says where the page is instead of moving on again (which
    would keep the user from going further back). AppTest cannot show it: it runs every
    session in Streamlit's old pages/ mode, where such a path runs the file alone."""
    with _fresh_page(page) as pg:
        _login_form_at(pg, server["url"], ("/truong_hoc", "/admin_users"))
        _log_in_by_link(pg, server["url"] + "/sai_lech?level=TH", "Đơn vị xếp theo số lỗi")
        assert "/sai-lech?" in pg.url and "level=TH" in pg.url
        # the page's first run added the snapshot to the address: a second entry
        for _ in range(2):
            pg.go_back()
            _settle(pg)
            if "/sai_lech" in pg.url:
                break
        pg.get_by_text("Địa chỉ /sai_lech dẫn tới trang Sai lệch.").wait_for()
        pg.get_by_role("link", name="Mở trang Sai lệch").click()
        pg.get_by_role("heading", name="Đơn vị xếp theo số lỗi").first.wait_for()


def test_log_in_open_every_page_drill_down_and_download(server, page):
    from playwright.sync_api import expect

    pg = page
    t0 = time.perf_counter()
    scripts = []
    pg.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    pg.goto(server["url"])
    pg.get_by_label("Tên đăng nhập").fill(USER)
    pg.get_by_label("Mật khẩu").fill(PASSWORD)
    _shot(pg, "00_dang_nhap")
    pg.get_by_role("button", name="Đăng nhập").click()
    pg.get_by_role("heading", name="Tổng quan").first.wait_for()
    _settle(pg)
    expect(pg.get_by_text("Số trường").first).to_be_visible()
    _shot(pg, "01_tong_quan")
    assert _charts(pg) == 1  # the units' ranking, every level in one chart

    drawn = {}
    for i, title in enumerate(("Tiến độ nộp", "Trường", "Xu hướng", "Dữ liệu"), start=2):
        _nav(pg, title)
        expect(pg.locator('[data-testid="stException"]')).to_have_count(0)
        drawn[title] = _charts(pg)
        _shot(pg, f"{i:02d}_{title.replace(' ', '_')}")
    assert drawn["Xu hướng"] >= 3 and drawn["Tiến độ nộp"] >= 1, drawn
    # the charts' code: Plotly's basic bundle once, from the app's static files
    bundles = [u for u in scripts if "plotly" in u.lower()]
    assert [u.rsplit("/", 2)[-2:] for u in bundles] == [["static", charts.PLOTLY_JS]], bundles

    # Tiến độ nộp: download the late list
    _nav(pg, "Tiến độ nộp")
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="⬇ Tải CSV").click()
    got = Path(dl.value.path()).read_bytes()
    cli_file = ARTIFACTS / "cli_late.csv"
    subprocess.run(
        [sys.executable, "-m", "soat", "export", "late", "-o", str(cli_file)],
        env=server["env"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    assert got == cli_file.read_bytes()  # the same file `soat export late -o` writes
    assert got.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Vietnamese right
    with pg.expect_download() as dlx:
        pg.get_by_role("button", name="⬇ Tải Excel (.xlsx)").click()
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(Path(dlx.value.path()).read_bytes()), read_only=True)
    assert wb.worksheets[0].max_row >= 3

    # Sai lệch: unit → school → check → records
    _nav(pg, "Sai lệch")
    _shot(pg, "06_sai_lech_don_vi")
    _click_first_row(pg)
    pg.get_by_role("heading", name="Trường xếp theo số lỗi").wait_for()
    _shot(pg, "07_sai_lech_truong")
    _click_first_row(pg)
    pg.get_by_role("heading", name="Kiểm tra phát hiện sai lệch").wait_for()
    _shot(pg, "08_sai_lech_kiem_tra")
    _click_first_row(pg)
    pg.get_by_text("Trang 1 /").first.wait_for()
    _settle(pg)
    _shot(pg, "09_sai_lech_ho_so")
    assert "d_check=" in pg.url
    expect(pg.locator('[data-testid="stException"]')).to_have_count(0)
    assert time.perf_counter() - t0 < 240


def test_back_button_goes_up_the_drill_down(server, page):
    """Sai lệch: the browser's Back button goes up one level per press (each drill step is
    one history entry, and the address of the entry decides the level). It used to stay
    at the unit's schools however often it was pressed."""
    from urllib.parse import parse_qs, urlparse

    def params() -> dict:
        return {k: v[-1] for k, v in parse_qs(urlparse(pg.url).query).items()}

    def heading(name: str) -> None:
        pg.get_by_role("heading", name=name).first.wait_for()
        _settle(pg)

    with _fresh_page(page) as pg:
        pg.goto(server["url"] + "/sai-lech")
        pg.get_by_label("Tên đăng nhập").fill(USER)
        pg.get_by_label("Mật khẩu").fill(PASSWORD)
        pg.get_by_role("button", name="Đăng nhập").click()
        heading("Đơn vị xếp theo số lỗi")
        top = params()
        _click_first_row(pg)
        heading("Trường xếp theo số lỗi")
        unit = params()
        assert set(unit) - set(top) == {"d_unit"}
        _click_first_row(pg)
        heading("Kiểm tra phát hiện sai lệch")
        assert set(params()) - set(unit) == {"d_school"}
        pg.go_back()
        heading("Trường xếp theo số lỗi")
        assert params() == unit
        pg.go_back()
        heading("Đơn vị xếp theo số lỗi")
        assert params() == top
        pg.go_forward()
        heading("Trường xếp theo số lỗi")
        assert params() == unit


def test_downloads_end_with_the_session_and_leave_no_address(server, page):
    """Issue 19, finding 2, in the real server: a downloaded file's /media address does not
    answer afterwards (nor to a browser that never logged in); once the account is
    disabled a click on the page already open downloads nothing and the page goes back to
    the login form. Also: the data grids offer no CSV of their own."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    from soat import audit

    user, password = "browser_staff", "mat-khau-chuyen-vien-so"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "soat",
            "users",
            "add",
            user,
            "--role",
            "province_staff",
            "--password-stdin",
        ],  # fmt: skip
        input=(password + "\n").encode(),
        env=server["env"],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    with _fresh_page(page, 1600) as pg:
        pg.goto(server["url"] + "/tien-do-nop")
        pg.get_by_label("Tên đăng nhập").fill(user)
        pg.get_by_label("Mật khẩu").fill(password)
        pg.get_by_role("button", name="Đăng nhập").click()
        pg.get_by_role("heading", name="Tiến độ nộp dữ liệu").first.wait_for()
        _settle(pg)
        pg.get_by_test_id("stDataFrame").first.hover()
        expect(pg.get_by_role("button", name="Download as CSV")).to_have_count(0)

        with pg.expect_download() as dl:
            pg.get_by_role("button", name="⬇ Tải CSV").click()
        assert Path(dl.value.path()).read_bytes().startswith(b"\xef\xbb\xbf")
        url = dl.value.url
        assert "/media/" in url
        stranger = pg.context.browser.new_context()  # never logged in
        try:
            assert stranger.request.get(url).status == 404
        finally:
            stranger.close()
        _settle(pg)

        subprocess.run(
            [sys.executable, "-m", "soat", "users", "disable", user],
            env=server["env"],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        with pytest.raises(PlaywrightTimeout), pg.expect_download(timeout=6_000):
            pg.get_by_role("button", name="⬇ Tải CSV").click()
        pg.get_by_label("Mật khẩu").wait_for()
        expect(pg.get_by_text("Phiên làm việc đã kết thúc").first).to_be_visible()
        app_db = server["env"]["SOAT_APP_DB"]
        assert len(audit.read(user=user, action="export", app_db=app_db)) == 1
        # The click sends the file request and the rerun at once. When the request reaches
        # the server first, build() refuses and audits it; when the rerun wins, it draws the
        # login form instead of the button and Streamlit drops the button's callable, so
        # there is nothing left to run (seen both ways here). Either way: no file, no export
        # row; the refusal itself is held to its audit in tests/access/.
        for row in audit.read(user=user, action="export_refused", app_db=app_db):
            assert row["detail"]["reason"].startswith("session_ended"), row
