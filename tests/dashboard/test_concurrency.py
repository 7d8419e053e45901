"""Many sessions at once against the real server, while loads run (issue 17).

Each test serves the dashboard with `soat serve` over a snapshot store of the committed
sample province and drives sessions in Debian's Chromium (benchmarks.load_test, the load
test's own session driver). The dashboard once froze for good under about ten sessions
(a Python callback inside a polars expression, waiting for the GIL on polars' pool while a
script thread held the GIL waiting for that pool): these tests fail if any page does not
render within a bounded time, shows an exception, or the health endpoint stops answering.
Skips locally without Chromium; fails in CI (CI=true).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from benchmarks import load_test
from tests.conftest import reachable, require

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "province"
SESSIONS = 12
PAGE_BOUND = 60.0  # seconds; on the 2-core machine pages take ≈ 1–5 s under this load

# `alone`: `make test` runs these after the rest, not beside the suite's other worker. They
# are load tests: twelve fresh Chromium sessions ask ≈ 60 CPU s on two cores in their first
# minute, and with another worker's tests on the same cores the login form took over 60 s to
# appear (CI, 2026-12-07: five sessions timed out typing into it; health kept answering).
pytestmark = [pytest.mark.browser, pytest.mark.alone]


@pytest.fixture
def sample_store(tmp_path) -> Path:
    require(os.path.exists(load_test.CHROMIUM), f"{load_test.CHROMIUM} is not installed")
    db = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for extra in ([], ["--as-of", "2025-06-30"]):  # two snapshots: Xu hướng has two points
        subprocess.run(
            [sys.executable, "-m", "soat", "load", str(SAMPLE), "--db", str(db), *extra],
            env=env,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
    return db


def assert_healthy(run: load_test.Run, views: int) -> None:
    s = run.summary()
    assert s["errors"] == [], s["errors"]
    assert s["views"] == views, s
    assert s["page_max"] <= PAGE_BOUND, s
    assert s["health_failures"] == 0 and s["health_max"] < load_test.HEALTH_TIMEOUT, s
    # the last session's views all start once every session is in; the browsers' CPU is seen
    assert s["settled_views"] >= len(load_test.PAGES) - 1 and s["settled_p95"] <= PAGE_BOUND, s
    assert s["browser_cpu_cores"] > 0, s


def test_a_dozen_sessions_browse_every_page_while_a_load_publishes(sample_store):
    """12 sessions started 0.5 s apart click through the six pages without pause; a `soat
    load` runs meanwhile. Every page renders, health answers, and a session opened after
    the load sees the new snapshot without a restart."""
    run = load_test.run_load_test(
        str(sample_store),
        SESSIONS,
        ramp=0.5,
        think=0.0,
        cycles=1,
        load_source=str(SAMPLE),
        timeout=PAGE_BOUND,
    )
    assert_healthy(run, views=SESSIONS * len(load_test.PAGES))
    assert run.load["ok"] and run.load["seen"] == [True] and run.load["new_snapshot"] == 3


PG_URL = os.environ.get("SOAT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def test_two_servers_over_one_store_and_one_postgresql_app_database(sample_store):
    """Two `soat serve` processes on different ports, the same snapshot store and the same
    PostgreSQL app database (its own schema here): sessions on both, a load in between,
    and a new session on each server sees the new snapshot."""
    import sqlalchemy as sa

    require(reachable(PG_URL), f"PostgreSQL unreachable at {PG_URL}")
    schema = f"soat_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    app_db = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        users = load_test.accounts(app_db, str(sample_store), 3)
        env = {**os.environ, "SOAT_APP_DB": app_db, "PYTHONPATH": str(ROOT)}
        run = load_test.Run(sessions=6)
        with tempfile.TemporaryDirectory(prefix="soat-two-") as tmp:
            log1, log2 = Path(tmp) / "one.log", Path(tmp) / "two.log"
            with (
                load_test.served(str(sample_store), env, log1) as (url1, pid1),
                load_test.served(str(sample_store), env, log2) as (url2, _pid2),
                load_test.Monitor(url1, pid1, run),
            ):
                assert url1 != url2

                async def after(browser):
                    run.load = await load_test.load_while_serving(
                        browser, [url1, url2], str(sample_store), str(SAMPLE), env, run
                    )

                targets = [(u, name) for name in users for u in (url1, url2)]
                asyncio.run(
                    load_test.sessions(
                        targets,
                        run,
                        ramp=0.5,
                        think=0.0,
                        cycles=1,
                        timeout=PAGE_BOUND,
                        after=after,
                    )
                )
        assert_healthy(run, views=len(targets) * len(load_test.PAGES))
        assert run.load["ok"] and run.load["seen"] == [True, True]
        # both servers wrote their logins into the one app database
        with admin.connect() as c:
            logins = c.execute(
                sa.text(f"SELECT count(*) FROM \"{schema}\".audit_log WHERE action = 'login'")
            ).scalar()
        assert logins >= len(targets) + 2
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
