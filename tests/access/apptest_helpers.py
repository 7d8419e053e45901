"""Helpers for AppTest: log in through the real form, read what rendered."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """Markdown source as a reader sees its text: backslash escapes (labels.md) removed."""
    return _ESCAPED.sub(r"\1", str(markdown))


def login(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    next(b for b in at.button if b.label == "Đăng nhập").click()
    return at.run()


def texts(at: AppTest) -> str:
    parts = []
    for kind in (
        "markdown",
        "error",
        "warning",
        "info",
        "success",
        "title",
        "subheader",
        "caption",
    ):
        parts += [shown(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def frames(at: AppTest) -> list:
    return [d.value for d in at.dataframe]


def spy_download_buttons(monkeypatch) -> dict:
    """From now on, the `data` given to every st.download_button, by key (the dashboard's
    are callables that build the file when clicked: call one to click it)."""
    from streamlit.delta_generator import DeltaGenerator

    seen: dict = {}
    original = DeltaGenerator.download_button

    def spy(self, label, data, *a, **kw):
        seen[kw.get("key")] = data
        return original(self, label, data, *a, **kw)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    return seen
