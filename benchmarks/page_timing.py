"""Time each dashboard page in a real browser, as a province admin sees it.

    python -m benchmarks.page_timing --db DB [--rounds 2] [--warm 3] [--json]

Serves the dashboard (`soat serve` on a free port, SOAT_DB = DB, SOAT_APP_DB = a temporary
SQLite in which a province_admin is created with soat.accounts.create_user), logs in with
Playwright in Debian's Chromium, and for each page times from the click on its link in
the sidebar navigation until the page has rendered: its title is on screen, Streamlit's
running indicator is gone, no element is stale (left over from the previous page), every
chart on screen has drawn its SVG and every table on screen its canvas, and the page has
not changed for QUIET_MS (the figure ends at its last change, read by a MutationObserver).
Before each click the browser is let settle the same way: work left over from the page
before (a chart still drawing) is not charged to the next one.

cold: the page's first visit on a freshly started server (Streamlit's result caches
empty; the DuckDB file in the OS cache). Each round restarts the server and logs in, which
lands on Tổng quan: its cold figure runs from the click on "Đăng nhập" (so it also holds
the login, opening the database and the sidebar's first queries); the other pages are then
visited once each, cold. With two snapshots or more, each round then logs in again in a
new tab at `/?snapshot=<the one before the latest>` ("Tổng quan, other snapshot"): Tổng
quan uncached on a server already running. warm: later visits on the same server (results
cached). The figure is the median over rounds / visits (min and max shown).

The server (and its Streamlit child, the whole process group) is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from soat.commands import serve

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USER, PASSWORD = "bench_admin", "mat-khau-do-thoi-gian"
# navigation title -> (url path, the page's st.title)
PAGES = {
    "Tổng quan": ("tong-quan", "Tổng quan"),
    "Tiến độ nộp": ("tien-do-nop", "Tiến độ nộp dữ liệu"),
    "Sai lệch": ("sai-lech", "Sai lệch"),
    "Trường": ("truong", "Trường"),
    "Xu hướng": ("xu-huong", "Xu hướng"),
    "Dữ liệu": ("du-lieu", "Dữ liệu"),
}
# rendered: the run is over and what it drew is on screen
_RENDERED_JS = """
() => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  const main = document.querySelector('[data-testid="stMain"]') || document;
  // not in a closed expander or an inactive tab
  const shown = (e) => e.checkVisibility({checkVisibilityCSS: true, opacityProperty: true});
  // a chart: Soát's (dashboard.charts, div.soat-plot) or Streamlit's Plotly element;
  // drawn, or saying why not (an error of the run: _check_page, _visit)
  for (const c of main.querySelectorAll('div.soat-plot, [data-testid="stPlotlyChart"]'))
    if (shown(c) && !c.querySelector('svg.main-svg, .soat-plot-problem')) return false;
  for (const d of main.querySelectorAll('[data-testid="stDataFrame"]'))
    if (shown(d) && !d.querySelector('canvas')) return false;
  return true;
}
"""


def _stop(proc: subprocess.Popen) -> None:
    """Stop `soat serve` and its Streamlit child: the process group we created, by its id."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def served(db: str, env: dict, log: Path):
    """`soat serve` of `db` on a free port, its output appended to `log`: (its url, the
    pid of `soat serve`, the leader of its process group, stopped at the end)."""
    port = serve.free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "soat", "serve", "--port", str(port), "--address", "127.0.0.1"],
            env={**env, "SOAT_DB": str(Path(db).resolve())},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: streamlit goes with it
        )
        try:
            if not serve.wait_healthy(port, proc, timeout=120):
                raise RuntimeError(log.read_text(errors="replace")[-3000:])
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            _stop(proc)


# The time of the page's last DOM change, kept by a MutationObserver installed on each
# new document (Playwright's add_init_script). A page is done when the run is over, what
# it drew is on screen and nothing has changed for QUIET_MS; its time ends at its last
# change (the quiet wait is not counted). Before each click the browser is let settle the
# same way, so the work left over from one page is not charged to the next.
_OBSERVER_JS = """
window.__soatLast = performance.now();
new MutationObserver(() => { window.__soatLast = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""
QUIET_MS = 300
_QUIET_JS = f"() => performance.now() - window.__soatLast > {QUIET_MS}"


def _settle(pg) -> float:
    """Wait until the DOM has been quiet for QUIET_MS; the browser's clock (ms) then."""
    pg.wait_for_function(_QUIET_JS, polling=50)
    return pg.evaluate("performance.now()")


def _wait_rendered(pg, heading: str, start_ms: float) -> float:
    """Seconds from start_ms (the browser's clock) to the page's last DOM change."""
    pg.get_by_role("heading", name=heading).first.wait_for()
    pg.wait_for_function(_RENDERED_JS, polling=50)
    pg.wait_for_function(_QUIET_JS, polling=50)
    return (pg.evaluate("window.__soatLast") - start_ms) / 1000


def _visit(pg, title: str) -> float:
    """Seconds from the click on the page's navigation link to the rendered page."""
    heading = PAGES[title][1]
    link = pg.get_by_test_id("stSidebarNav").get_by_text(title, exact=True)
    link.wait_for()
    start = _settle(pg)
    link.click()
    sec = _wait_rendered(pg, heading, start)
    if pg.locator('[data-testid="stException"]').count():
        raise RuntimeError(f"{title}: the page raised an exception")
    if pg.locator(".soat-plot-problem").count():
        raise RuntimeError(f"{title}: a chart was not drawn")
    return sec


OTHER = "Tổng quan, other snapshot"


def _older_snapshot(db: str) -> int | None:
    from soat import store

    con = store.connect(db, read_only=True)
    try:
        rows = con.execute(
            "SELECT snapshot_id FROM snapshots WHERE checked_at IS NOT NULL "
            "ORDER BY snapshot_id DESC LIMIT 2"
        ).fetchall()
    finally:
        con.close()
    return rows[1][0] if len(rows) > 1 else None


def _login(pg, url: str) -> float:
    """Log in (the app's first page, Tổng quan, follows): seconds from the click to it."""
    pg.goto(url)
    pg.get_by_label("Tên đăng nhập").fill(USER)
    pg.get_by_label("Mật khẩu").fill(PASSWORD)
    button = pg.get_by_role("button", name="Đăng nhập")
    start = _settle(pg)
    button.click()
    return _wait_rendered(pg, PAGES["Tổng quan"][1], start)


def time_pages(db: str, rounds: int = 2, warm: int = 3, progress=None) -> dict:
    """{"cold": {page: [s, …]}, "warm": {page: [s, …]}} for a province admin."""
    from playwright.sync_api import sync_playwright

    from soat.accounts import create_user

    say = progress or (lambda _m: None)
    titles = list(PAGES)
    cold: dict[str, list[float]] = {t: [] for t in titles}
    hot: dict[str, list[float]] = {t: [] for t in titles}
    older = _older_snapshot(db)
    if older is not None:
        cold[OTHER] = []
    with tempfile.TemporaryDirectory(prefix="soat-pages-") as tmp:
        app_db = f"sqlite:///{Path(tmp) / 'app.sqlite'}"
        env = {
            **os.environ,
            "SOAT_APP_DB": app_db,
            "SOAT_BCRYPT_ROUNDS": "4",
            "PYTHONPATH": str(ROOT),
        }
        os.environ.setdefault("SOAT_BCRYPT_ROUNDS", "4")
        create_user(USER, PASSWORD, "province_admin", app_db=app_db, by="bench")
        log = Path(tmp) / "server.log"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                for r in range(rounds):
                    with served(db, env, log) as (url, _pid):
                        ctx = browser.new_context(
                            viewport={"width": 1440, "height": 1600}, locale="vi-VN"
                        )
                        ctx.add_init_script(_OBSERVER_JS)
                        pg = ctx.new_page()
                        pg.set_default_timeout(120_000)
                        cold[titles[0]].append(_login(pg, url))
                        for t in titles[1:]:
                            cold[t].append(_visit(pg, t))
                        say(
                            f"round {r + 1} cold: "
                            + ", ".join(f"{cold[t][-1]:.2f}" for t in titles)
                        )
                        for _ in range(warm):
                            for t in titles:
                                hot[t].append(_visit(pg, t))
                        if older is not None:
                            pg2 = ctx.new_page()
                            cold[OTHER].append(_login(pg2, f"{url}/?snapshot={older}"))
                            say(f"round {r + 1} {OTHER}: {cold[OTHER][-1]:.2f}")
                        ctx.close()
            finally:
                browser.close()
    return {"cold": cold, "warm": hot}


def summary(res: dict) -> dict:
    out = {}
    for kind in ("cold", "warm"):
        for page, xs in res[kind].items():
            if xs:
                out.setdefault(page, {})[kind] = {
                    "median": round(statistics.median(xs), 3),
                    "min": round(min(xs), 3),
                    "max": round(max(xs), 3),
                    "n": len(xs),
                }
    return out


def table(summ: dict) -> str:
    lines = [
        "| page (province admin) | cold s (median, min–max, n) | warm s (median, min–max, n) |",
        "| --- | ---: | ---: |",
    ]

    def cell(d: dict | None) -> str:
        if not d:
            return "–"
        return f"{d['median']:.2f} ({d['min']:.2f}–{d['max']:.2f}, {d['n']})"

    for page in [*PAGES, *(k for k in summ if k not in PAGES)]:
        s = summ.get(page, {})
        lines.append(f"| {page} | {cell(s.get('cold'))} | {cell(s.get('warm'))} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True, help="a loaded and checked Soát DuckDB file")
    p.add_argument("--rounds", type=int, default=2, help="server restarts (cold visits)")
    p.add_argument("--warm", type=int, default=3, help="warm visits of every page per round")
    p.add_argument("--json", action="store_true", help="print one JSON line instead")
    a = p.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is not installed (apt-get install chromium)")
    res = time_pages(
        a.db, a.rounds, a.warm, progress=lambda m: print(m, file=sys.stderr, flush=True)
    )
    summ = summary(res)
    if a.json:
        print(json.dumps({"pages": summ, "raw": res}))
    else:
        print(table(summ))


if __name__ == "__main__":
    main()
