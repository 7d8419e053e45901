"""Many officers at once: N browser sessions against one served dashboard.

    python -m benchmarks.load_test --db STORE [--sessions 1,10,30] [--ramp 2] [--think 10]
                                   [--cycles 1] [--load SOURCE] [--json]

The load model of issue 17: session i starts `ramp` seconds after session i-1 (each in its
own browser context of one Debian Chromium), logs in (a district officer, a province
staff member or a school account, in turn), then opens a page every `think` seconds (an
officer reading it), all six pages in turn, `cycles` times. The page time is from the click
on its navigation link until the page has rendered (Streamlit's running indicator gone, no
stale element, every chart and table drawn: benchmarks.page_timing's test); a page that
shows an exception, or does not render within PAGE_TIMEOUT, is an error.

Meanwhile a thread asks /_stcore/health every second (5 s timeout) and samples the
Streamlit process's RSS and CPU time and the Chromium processes' CPU time (/proc). Besides
the p95 of all views, the p95 of the views started once every session had logged in is
reported: a fresh browser session costs Chromium ≈ 4–5 CPU seconds (Streamlit's and
Plotly's JavaScript fetched and compiled, the login, the first page), so on two shared
cores the ramp-up's logins crowd out the pages of the sessions already in.

With `--load SOURCE`, `soat load SOURCE` runs on the same store once the last session has
started: the sessions must go on without an exception, and a session started after the
load must see the new snapshot.

Server and Chromium share the machine, as on the 2-core test machine, where thirty
browsers would otherwise take most of both cores from the server they measure: Chromium
runs in Linux's SCHED_IDLE class (CHROMIUM_IDLE below; SOAT_LOADTEST_IDLE=0 to compete on
equal terms). The server is the real `soat serve` (its process group is stopped at the
end).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import page_timing
from benchmarks.page_timing import _RENDERED_JS, ARGS, CHROMIUM, PAGES, ROOT

PASSWORD = "mat-khau-tai-thu-nghiem-2026"
PAGE_TIMEOUT = 120.0  # seconds: a page slower than this is an error, not a sample
HEALTH_TIMEOUT = 5.0


@dataclass
class Run:
    """What one load-test run measured."""

    sessions: int
    page_seconds: list[float] = field(default_factory=list)
    login_seconds: list[float] = field(default_factory=list)
    # (monotonic start, seconds) of each page view, and when each login had rendered
    page_views: list[tuple[float, float]] = field(default_factory=list)
    logged_in_at: list[float] = field(default_factory=list)
    browser_cpu_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    health: list[float] = field(default_factory=list)  # seconds per answer; inf = none
    rss_mb: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    load: dict = field(default_factory=dict)

    def summary(self) -> dict:
        pages = sorted(self.page_seconds)
        # the views that started once every session had logged in: the steady state, after
        # the login storm (each fresh browser session costs Chromium several CPU seconds)
        settled = (
            sorted(s for t, s in self.page_views if t >= max(self.logged_in_at))
            if len(self.logged_in_at) == self.sessions and self.logged_in_at
            else []
        )
        return {
            "sessions": self.sessions,
            "views": len(pages),
            "page_median": round(statistics.median(pages), 3) if pages else None,
            "page_p95": _p95(pages),
            "settled_views": len(settled),
            "settled_p95": _p95(settled),
            "page_max": round(pages[-1], 3) if pages else None,
            "login_median": (
                round(statistics.median(self.login_seconds), 3) if self.login_seconds else None
            ),
            "errors": self.errors,
            "health_max": round(max(self.health), 3) if self.health else None,
            "health_failures": sum(1 for h in self.health if h >= HEALTH_TIMEOUT),
            "rss_mb_max": round(max(self.rss_mb), 1) if self.rss_mb else None,
            "cpu_cores": (
                round(self.cpu_seconds / self.wall_seconds, 2) if self.wall_seconds else None
            ),
            "browser_cpu_cores": (
                round(self.browser_cpu_seconds / self.wall_seconds, 2)
                if self.wall_seconds
                else None
            ),
            "wall_seconds": round(self.wall_seconds, 1),
            "load": self.load,
        }


def _p95(ordered: list[float]) -> float | None:
    """The 95th percentile of sorted values (the nearest rank), or None for none."""
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))], 3)


# ---- the server --------------------------------------------------------------------------


def accounts(app_db: str, db: str, n: int) -> list[str]:
    """n usernames to log in with: district officers of the store's units, province staff
    and school accounts, in turn (each account may be used by several sessions)."""
    from soat.accounts import create_user
    from soat.snapshot_store import read_connection

    con = read_connection(db)
    try:
        units = [
            r[0]
            for r in con.execute(
                """SELECT unit_code FROM metrics_rollup WHERE grain = 'unit'
                     AND snapshot_id = (SELECT max(snapshot_id) FROM snapshots)
                   ORDER BY schools DESC LIMIT 8"""
            ).fetchall()
        ]
        schools = [
            r[0]
            for r in con.execute(
                """SELECT school_code FROM metrics_school_level
                   WHERE snapshot_id = (SELECT max(snapshot_id) FROM snapshots)
                   GROUP BY 1 ORDER BY sum(students) DESC LIMIT 4"""
            ).fetchall()
        ]
    finally:
        con.close()
    made = []
    for i, unit in enumerate(units):
        name = f"phong{i}"
        create_user(name, PASSWORD, "unit_officer", units=[unit], app_db=app_db, by="bench")
        made.append(name)
    create_user("so_kh", PASSWORD, "province_staff", app_db=app_db, by="bench")
    made.append("so_kh")
    for i, school in enumerate(schools):
        name = f"truong{i}"
        create_user(name, PASSWORD, "school", school=school, app_db=app_db, by="bench")
        made.append(name)
    return [made[i % len(made)] for i in range(n)]


@contextlib.contextmanager
def served(db: str, env: dict, log: Path):
    """`soat serve` on a free port (benchmarks.page_timing.served): (url, the Streamlit
    process's pid)."""
    with page_timing.served(db, env, log) as (url, serve_pid):
        yield url, _streamlit_pid(serve_pid)


def _streamlit_pid(serve_pid: int) -> int:
    """The Streamlit server: the child of `soat serve`."""
    try:
        kids = Path(f"/proc/{serve_pid}/task/{serve_pid}/children").read_text().split()
        return int(kids[0]) if kids else serve_pid
    except OSError:
        return serve_pid


def _proc_sample(pid: int) -> tuple[float, float]:
    """(RSS in MB, CPU seconds so far) of a process, from /proc."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return rss, _cpu_seconds(pid)


def _cpu_seconds(pid: int) -> float:
    """A process's user + system CPU seconds so far (/proc/PID/stat, after its name)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _chromium_cpu() -> dict[int, float]:
    """CPU seconds so far of every Chromium process (browser, renderers, utilities)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if "chrom" in Path(f"/proc/{pid}/comm").read_text():
                out[int(pid)] = _cpu_seconds(int(pid))
        except OSError:
            continue
    return out


class Monitor:
    """Health answers and the server's RSS/CPU, sampled every second in a thread; the
    browsers' CPU too (each Chromium process's last sample: a process that ends loses at
    most its last second)."""

    def __init__(self, url: str, pid: int, run: Run):
        self.url, self.pid, self.run = url, pid, run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._chromium0: dict[int, float] = {}
        self._chromium: dict[int, float] = {}

    def __enter__(self) -> Monitor:
        self.t0 = time.monotonic()
        with contextlib.suppress(OSError):
            self.cpu0 = _proc_sample(self.pid)[1]
        self._chromium0 = _chromium_cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.run.wall_seconds = time.monotonic() - self.t0
        with contextlib.suppress(OSError):
            self.run.cpu_seconds = _proc_sample(self.pid)[1] - self.cpu0
        self.run.browser_cpu_seconds = sum(
            v - self._chromium0.get(k, 0.0) for k, v in self._chromium.items()
        )

    def _loop(self) -> None:
        while not self._stop.is_set():
            t = time.monotonic()
            try:
                with urllib.request.urlopen(
                    self.url + "/_stcore/health", timeout=HEALTH_TIMEOUT
                ) as r:
                    r.read()
                self.run.health.append(time.monotonic() - t)
            except OSError:
                self.run.health.append(float("inf"))
            with contextlib.suppress(OSError):
                self.run.rss_mb.append(_proc_sample(self.pid)[0])
            self._chromium.update(_chromium_cpu())
            self._stop.wait(max(0.0, 1.0 - (time.monotonic() - t)))


# ---- the sessions ------------------------------------------------------------------------


async def _rendered(pg, heading: str, t0: float, timeout: float) -> float:
    await pg.get_by_role("heading", name=heading).first.wait_for(timeout=timeout * 1000)
    await pg.wait_for_function(_RENDERED_JS, polling=100, timeout=timeout * 1000)
    return time.monotonic() - t0


async def _check_page(pg, where: str, run: Run) -> None:
    if await pg.locator('[data-testid="stException"]').count():
        text = await pg.locator('[data-testid="stException"]').first.inner_text()
        run.errors.append(f"{where}: exception: {text[:200]}")
    if await pg.locator(".soat-plot-problem").count():
        text = await pg.locator(".soat-plot-problem").first.inner_text()
        run.errors.append(f"{where}: chart not drawn: {text[:200]}")


async def session(
    browser,
    url: str,
    user: str,
    i: int,
    run: Run,
    *,
    think: float,
    cycles: int,
    start: float,
    timeout: float,
) -> None:
    await asyncio.sleep(start)
    ctx = await browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    pg = await ctx.new_page()
    pg.set_default_timeout(timeout * 1000)
    titles = list(PAGES)
    try:
        t0 = time.monotonic()
        await pg.goto(url, timeout=timeout * 1000)
        await pg.get_by_label("Tên đăng nhập").fill(user, timeout=timeout * 1000)
        await pg.get_by_label("Mật khẩu").fill(PASSWORD)
        await pg.get_by_role("button", name="Đăng nhập").click()
        run.login_seconds.append(await _rendered(pg, PAGES["Tổng quan"][1], t0, timeout))
        run.logged_in_at.append(time.monotonic())
        await _check_page(pg, f"session {i} Tổng quan", run)
        for c in range(cycles):
            for k, title in enumerate(titles if c else titles[1:] + titles[:1]):
                await asyncio.sleep(max(0.0, think - (time.monotonic() - t0)))
                link = pg.get_by_test_id("stSidebarNav").get_by_text(title, exact=True)
                t0 = time.monotonic()
                await link.click(timeout=timeout * 1000)
                try:
                    seconds = await _rendered(pg, PAGES[title][1], t0, timeout)
                    run.page_seconds.append(seconds)
                    run.page_views.append((t0, seconds))
                except Exception as exc:  # noqa: BLE001 - playwright's timeout, recorded
                    run.errors.append(f"session {i} {title} (cycle {c}, {k}): {exc!s:.200}")
                    continue
                await _check_page(pg, f"session {i} {title}", run)
    except Exception as exc:  # noqa: BLE001 - any failure of a session is a finding
        run.errors.append(f"session {i}: {type(exc).__name__}: {exc!s:.300}")
    finally:
        await ctx.close()


# The browsers of the load test run on the server's machine here; in a province each
# officer's browser is on their own computer. Chromium is started in Linux's SCHED_IDLE
# class (`chrt --idle 0`, inherited by its renderers, which its own priority changes do
# not undo): it runs whenever the server does not need a core, so the server's figures are
# the server's and the pages still render with what is left. SOAT_LOADTEST_IDLE=0 makes
# them compete on equal terms (the browsers then take most of the two cores: Chromium also
# raises its main and GPU processes' priority).
CHROMIUM_IDLE = os.environ.get("SOAT_LOADTEST_IDLE", "1") != "0"


@contextlib.contextmanager
def _browser_executable():
    """/usr/bin/chromium, through `chrt --idle 0` (a wrapper script) when available."""
    chrt = shutil.which("chrt")
    if not CHROMIUM_IDLE or chrt is None:
        yield CHROMIUM
        return
    with tempfile.TemporaryDirectory(prefix="soat-chromium-") as tmp:
        wrapper = Path(tmp) / "chromium"
        wrapper.write_text(f'#!/bin/sh\nexec {chrt} --idle 0 {CHROMIUM} "$@"\n')
        wrapper.chmod(0o755)
        yield str(wrapper)


async def sessions(
    targets: list[tuple[str, str]],
    run: Run,
    *,
    ramp: float,
    think: float,
    cycles: int,
    timeout: float = PAGE_TIMEOUT,
    after=None,
) -> None:
    """One browser session per (url, username), started `ramp` seconds apart; `after`
    (a coroutine function of the browser) runs once the last one has started."""
    with _browser_executable() as chromium:
        await _sessions_in(chromium, targets, run, ramp, think, cycles, timeout, after)


async def _sessions_in(chromium, targets, run, ramp, think, cycles, timeout, after) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
        try:
            tasks = [
                asyncio.create_task(
                    session(
                        browser,
                        url,
                        user,
                        i,
                        run,
                        think=think,
                        cycles=cycles,
                        start=i * ramp,
                        timeout=timeout,
                    )
                )
                for i, (url, user) in enumerate(targets)
            ]
            if after is not None:
                await asyncio.sleep(len(targets) * ramp)
                await after(browser)
            await asyncio.gather(*tasks)
        finally:
            await browser.close()


def run_load_test(
    db: str,
    n: int,
    *,
    ramp: float = 2.0,
    think: float = 10.0,
    cycles: int = 1,
    load_source: str | None = None,
    load_nice: int = 0,
    timeout: float = PAGE_TIMEOUT,
    progress=None,
) -> Run:
    """One run of n sessions against a fresh `soat serve` of `db` (a snapshot store)."""
    say = progress or (lambda _m: None)
    run = Run(sessions=n)
    with tempfile.TemporaryDirectory(prefix="soat-load-") as tmp:
        app_db = f"sqlite:///{Path(tmp) / 'app.sqlite'}"
        env = {**os.environ, "SOAT_APP_DB": app_db, "PYTHONPATH": str(ROOT)}
        env.pop("SOAT_BCRYPT_ROUNDS", None)  # logins cost what they cost in production
        users = accounts(app_db, db, n)
        log = Path(tmp) / "server.log"
        after = None
        if load_source is not None:

            async def after(browser):
                run.load = await load_while_serving(
                    browser, [url], db, load_source, env, run, nice=load_nice
                )
                say(f"  load during the sessions: {run.load}")

        with served(db, env, log) as (url, pid), Monitor(url, pid, run):
            targets = [(url, u) for u in users]
            asyncio.run(
                sessions(
                    targets,
                    run,
                    ramp=ramp,
                    think=think,
                    cycles=cycles,
                    timeout=timeout,
                    after=after,
                )
            )
        if run.errors:
            say("  server log tail:\n" + log.read_text(errors="replace")[-2000:])
    return run


async def load_while_serving(
    browser, urls: list[str], db: str, source: str, env: dict, run, nice: int = 0
):
    """`soat load SOURCE` into the served store while the sessions browse; then a new
    session on each server must open the new snapshot (its sidebar's default). `nice`: the
    load's niceness (docs/deployment.md runs the weekly load with Nice=10)."""
    from soat.snapshot_store import SnapshotStore

    before = SnapshotStore(db).catalog().next_id
    t0 = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "soat", "load", source, "--db", db),
        *("--name", "Nạp trong lúc phục vụ"),
        env={**env},
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,
    )
    _, err = await proc.communicate()
    seconds = time.monotonic() - t0
    if proc.returncode != 0:
        run.errors.append(f"soat load failed ({proc.returncode}): {err.decode()[-500:]}")
        return {"seconds": round(seconds, 1), "ok": False, "nice": nice}
    seen = []
    for url in urls:
        ctx = await browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
        pg = await ctx.new_page()
        pg.set_default_timeout(PAGE_TIMEOUT * 1000)
        try:
            await pg.goto(url)
            await pg.get_by_label("Tên đăng nhập").fill("so_kh")
            await pg.get_by_label("Mật khẩu").fill(PASSWORD)
            await pg.get_by_role("button", name="Đăng nhập").click()
            await _rendered(pg, PAGES["Tổng quan"][1], time.monotonic(), PAGE_TIMEOUT)
            shown = await pg.get_by_role("combobox", name="Bản chụp dữ liệu").input_value()
            seen.append(shown.startswith(f"#{before} ·"))
            if not seen[-1]:
                run.errors.append(f"{url}: a session after the load does not open #{before}")
        finally:
            await ctx.close()
    return {
        "seconds": round(seconds, 1),
        "ok": True,
        "nice": nice,
        "new_snapshot": before,
        "seen": seen,
    }


# ---- the command -------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    lines = [
        "| sessions | page views | page median s | page p95 s | page max s "
        "| p95 once all logged in s (views) | login median s | errors | health max s "
        "| server RSS max MB | server CPU (cores) | browsers' CPU (cores) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['sessions']} | {r['views']} | {r['page_median']} | {r['page_p95']} | "
            f"{r['page_max']} | {r.get('settled_p95')} ({r.get('settled_views')}) | "
            f"{r['login_median']} | {len(r['errors'])} | {r['health_max']} | "
            f"{r['rss_mb_max']} | {r['cpu_cores']} | {r.get('browser_cpu_cores')} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True, help="a snapshot store (soat load --db …)")
    p.add_argument("--sessions", default="1,10,30", help="session counts, one run each")
    p.add_argument("--ramp", type=float, default=2.0, help="seconds between session starts")
    p.add_argument("--think", type=float, default=10.0, help="seconds between page opens")
    p.add_argument("--cycles", type=int, default=1, help="times each session visits every page")
    p.add_argument("--load", help="a source to `soat load` into the store during the last run")
    p.add_argument("--load-nice", type=int, default=0, help="run that `soat load` at this niceness")
    p.add_argument("--json", action="store_true", help="one JSON line per run")
    a = p.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is not installed (apt-get install chromium)")
    counts = [int(x) for x in a.sessions.split(",")]
    rows = []
    for k, n in enumerate(counts):
        print(f"{n} sessions…", file=sys.stderr, flush=True)
        run = run_load_test(
            a.db,
            n,
            ramp=a.ramp,
            think=a.think,
            cycles=a.cycles,
            load_source=a.load if k == len(counts) - 1 else None,
            load_nice=a.load_nice,
            progress=lambda m: print(m, file=sys.stderr, flush=True),
        )
        rows.append(run.summary())
        if a.json:
            print(json.dumps(rows[-1]), flush=True)
        else:
            print(table(rows[-1:]), file=sys.stderr, flush=True)
    if not a.json:
        print(table(rows))


if __name__ == "__main__":
    main()
