"""AppTest: nothing renders before login; login, wrong password, logout."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from soat import accounts, audit
from tests.plots import plots

APP = """
import streamlit as st
from dashboard.auth import require_login, logout_button
scope = require_login()
logout_button()
st.write("TRANG DỮ LIỆU " + scope.user)
"""

PW = "matkhau-dai-123"


def _app() -> AppTest:
    return AppTest.from_string(APP, default_timeout=30)


def _texts(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown] + [e.value for e in at.error] + [t.value for t in at.title]
    )
    return "\n".join(str(p) for p in parts)


def _login(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


@pytest.fixture
def officer(sqlite_db):
    accounts.create_user("canbo1", PW, "unit_officer", units=["79760"], levels=["TH"])
    return sqlite_db


def test_login_form_is_all_there_is(officer):
    at = _app().run()
    assert not at.exception
    assert "TRANG DỮ LIỆU" not in _texts(at)
    labels = [t.label for t in at.text_input]
    assert labels == ["Tên đăng nhập", "Mật khẩu"]
    assert [b.label for b in at.button] == ["Đăng nhập"]
    # the one table is the grid-code prefetch: no columns, no rows
    assert [d.value.shape for d in at.dataframe] == [(0, 0)] and not at.sidebar.button


def test_wrong_password_stays_on_login(officer):
    at = _login(_app().run(), "canbo1", "sai-mat-khau")
    assert not at.exception
    assert "TRANG DỮ LIỆU" not in _texts(at)
    assert "Sai tên đăng nhập hoặc mật khẩu" in _texts(at)


def test_unknown_user_stays_on_login(officer):
    at = _login(_app().run(), "khongco", PW)
    assert "TRANG DỮ LIỆU" not in _texts(at)
    assert "Sai tên đăng nhập hoặc mật khẩu" in _texts(at)


def test_login_then_logout(officer):
    at = _login(_app().run(), "canbo1", PW)
    assert not at.exception
    assert "TRANG DỮ LIỆU canbo1" in _texts(at)
    # every rerun re-validates the session: still in
    at.run()
    assert "TRANG DỮ LIỆU canbo1" in _texts(at)
    at.sidebar.button(key="soat_logout").click()
    at.run()
    assert "TRANG DỮ LIỆU" not in _texts(at)
    assert [t.label for t in at.text_input] == ["Tên đăng nhập", "Mật khẩu"]
    actions = [e["action"] for e in audit.read(user="canbo1")]
    assert "login" in actions and "logout" in actions


def test_disabled_mid_session_goes_back_to_login(officer):
    at = _login(_app().run(), "canbo1", PW)
    assert "TRANG DỮ LIỆU canbo1" in _texts(at)
    accounts.disable_user("canbo1")
    at.run()
    assert "TRANG DỮ LIỆU" not in _texts(at)
    assert [b.label for b in at.button] == ["Đăng nhập"]


def test_tampered_token_in_session_state_fails_closed(officer):
    at = _login(_app().run(), "canbo1", PW)
    from dashboard.auth import TOKEN_KEY

    at.session_state[TOKEN_KEY] = at.session_state[TOKEN_KEY][:-2] + "xx"
    at.run()
    assert "TRANG DỮ LIỆU" not in _texts(at)


def test_login_page_prefetches_the_chart_code_with_no_data(officer):
    """An empty chart, data grid, metric and static table under the form make the
    browser load their code while the user types (dashboard.auth._prefetch_element_code);
    they carry no data, and go after login (in the same run: no st.rerun)."""
    at = _app().run()
    (chart,) = plots(at)
    assert chart.kind == "soat_plot" and chart.key == "prefetch_chart"
    assert chart.spec["data"] == [] and chart.config == {"staticPlot": True}
    assert [d.value.shape for d in at.dataframe] == [(0, 0)]
    assert [t.value.shape for t in at.table] == [(0, 0)]
    assert [(m.label, m.value) for m in at.metric] == [("prefetch", "")]
    at = _login(at, "canbo1", PW)
    assert not at.exception
    assert "TRANG DỮ LIỆU canbo1" in _texts(at)  # the page, in the login's own run
    assert "Đăng nhập" not in [b.label for b in at.button]
    assert all(c.key != "prefetch_chart" for c in plots(at))
    assert all(d.value.shape != (0, 0) for d in at.dataframe)
    assert all(t.value.shape != (0, 0) for t in at.table)
    assert all(m.label != "prefetch" for m in at.metric)
