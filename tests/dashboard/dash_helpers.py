"""Helpers for the dashboard AppTests (imported by name: tests/dashboard is on sys.path)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from soat import accounts

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
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
