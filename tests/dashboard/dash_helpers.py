"""Helpers for the dashboard AppTests (imported by name: tests/dashboard is on sys.path)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from soat import accounts

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
APP = str(DASHBOARD / "app.py")
PASSWORD = "mat-khau-thu-1"


def logged_in(username: str = "admin", query_params: dict | None = None) -> AppTest:
    """An AppTest of the dashboard with a session for `username` (no form round-trip)."""
    from dashboard import auth

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[auth.TOKEN_KEY] = accounts.create_session(username)
    for k, v in (query_params or {}).items():
        at.query_params[k] = v
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def open_page(at: AppTest, page: str) -> AppTest:
    """Run the entry point (it registers the pages: st.navigation), then switch to `page`."""
    at.run()
    at.switch_page(page).run()
    no_exception(at)
    return at


def dashboard_sources() -> list[tuple[Path, str]]:
    """(path under dashboard/, text) of every Python file of the dashboard, in name order."""
    return [
        (p.relative_to(DASHBOARD), p.read_text(encoding="utf-8"))
        for p in sorted(DASHBOARD.rglob("*.py"))
    ]


def dashboard_lines(pattern: str) -> list[str]:
    """'path:line' of every line of the dashboard's Python matching the regex `pattern`."""
    import re

    return [
        f"{path}:{i}"
        for path, text in dashboard_sources()
        for i, line in enumerate(text.splitlines(), 1)
        if re.search(pattern, line)
    ]
