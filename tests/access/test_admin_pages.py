"""AppTest of the admin pages: login required, admins only, add/disable, audit reading."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from soat import accounts, audit

from .apptest_helpers import frames, login, texts

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "pages"
PW = "Bi-mat-2024!"


@pytest.fixture
def users(sqlite_db):
    accounts.create_user("quantri", PW, "province_admin")
    accounts.create_user("canbo", PW, "unit_officer", units=["79760"], levels=["TH"])
    return sqlite_db


def _page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / name), default_timeout=30)


@pytest.mark.parametrize("page", ["admin_users.py", "admin_audit.py"])
def test_admin_pages_need_login_and_admin(users, page):
    at = _page(page).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Tên đăng nhập", "Mật khẩu"]
    assert [d.value.shape for d in at.dataframe] == [(0, 0)]  # the login page's prefetch
    at = login(at, "canbo", PW)
    assert not at.exception
    assert "chỉ dành cho quản trị" in texts(at)
    assert not at.dataframe


def test_admin_lists_adds_and_disables_accounts(users):
    at = login(_page("admin_users.py").run(), "quantri", PW)
    assert not at.exception
    df = frames(at)[0]
    assert sorted(df["Tên đăng nhập"]) == ["canbo", "quantri"]
    assert "password" not in " ".join(df.columns).lower()
    at.text_input(key="admin_new_username").input("truong1")
    at.text_input(key="admin_new_password").input("Mat-khau-truong-1")
    at.selectbox(key="admin_new_role").set_value("school")
    at.text_input(key="admin_new_school").input("S1")
    next(b for b in at.button if b.label == "Tạo tài khoản").click()
    at.run()
    assert not at.exception
    assert "Đã tạo tài khoản truong1" in texts(at)
    assert accounts.get_user("truong1").school == "S1"
    at.selectbox(key="admin_target").set_value("canbo")
    at.button(key="admin_disable").click()
    at.run()
    assert accounts.get_user("canbo").disabled
    by_admin = {e["action"] for e in audit.read(user="quantri")}
    assert {"user_add", "user_disable", "login"} <= by_admin


def test_a_refused_account_keeps_its_role_and_scope(users):
    """A refused "Tạo tài khoản" (a short password) keeps the role, units and levels
    chosen and clears only the password: the form once came back as a province admin with
    no unit, and re-typing the name and password created one."""
    at = login(_page("admin_users.py").run(), "quantri", PW)
    at.text_input(key="admin_new_username").input("canbo_q1")
    at.text_input(key="admin_new_password").input("ngan")
    at.selectbox(key="admin_new_role").set_value("unit_officer")
    at.text_input(key="admin_new_units").input("79760")
    at.multiselect(key="admin_new_levels").set_value(["TH"])
    next(b for b in at.button if b.label == "Tạo tài khoản").click().run()
    assert not at.exception and at.error
    assert accounts.get_user("canbo_q1") is None
    assert at.selectbox(key="admin_new_role").value == "unit_officer"
    assert at.text_input(key="admin_new_units").value == "79760"
    assert at.multiselect(key="admin_new_levels").value == ["TH"]
    assert at.text_input(key="admin_new_password").value == ""  # never kept
    at.text_input(key="admin_new_password").input("Xanh-ca-vat-ngo-9137")
    next(b for b in at.button if b.label == "Tạo tài khoản").click().run()
    user = accounts.get_user("canbo_q1")
    assert (user.role, list(user.units), list(user.levels)) == ("unit_officer", ["79760"], ["TH"])
    # a success clears the form for the next account
    assert at.text_input(key="admin_new_username").value == ""
    assert at.selectbox(key="admin_new_role").value == accounts.ROLES[0]


def test_admin_reads_the_audit_log(users):
    with pytest.raises(accounts.AuthError):
        accounts.authenticate("canbo", "sai-mat-khau")
    at = login(_page("admin_audit.py").run(), "quantri", PW)
    assert not at.exception
    df = frames(at)[0]
    assert "Đăng nhập sai" in set(df["Hành động"])
    at.text_input(key="audit_user").input("CANB")  # a part of the name, any case
    at.run()
    df = frames(at)[0]
    assert set(df["Người dùng"]) == {"canbo"}
    assert "sai-mat-khau" not in df.to_string()
    # the detail reads in Vietnamese, not as JSON with English keys
    details = " ".join(df["Chi tiết"])
    assert "{" not in details and '"' not in details


def test_a_refused_scope_is_said_in_the_forms_words(users):
    """The form quoted the command line's options: "tùy chọn --unit: cán bộ Phòng/Xã cần
    ít nhất một đơn vị (--unit)"."""
    at = login(_page("admin_users.py").run(), "quantri", PW)
    at.text_input(key="admin_new_username").input("canbo_q2")
    at.text_input(key="admin_new_password").input("Xanh-ca-vat-ngo-9137")
    at.selectbox(key="admin_new_role").set_value("unit_officer")
    next(b for b in at.button if b.label == "Tạo tài khoản").click().run()
    (err,) = at.error
    assert "cần ít nhất một đơn vị" in err.value and "unit" not in err.value


def test_audit_log_reads_in_vietnam_time(users):
    """Times are stored as UTC; the page shows them, and filters them by day, in Vietnam's
    time (UTC+7): 23:30 UTC yesterday is 06:30 today in Hà Nội."""
    import datetime as dt

    from soat.appdb import audit_log, get_app_db

    vn_today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).date()
    at_utc = dt.datetime.combine(vn_today, dt.time(6, 30)) - dt.timedelta(hours=7)
    with get_app_db().begin() as conn:
        conn.execute(audit_log.insert().values(at=at_utc, username="sang_som", action="login"))
    at = login(_page("admin_audit.py").run(), "quantri", PW)
    at.text_input(key="audit_user").input("sang_som")
    at.date_input(key="audit_since").set_value(vn_today)
    at.run()
    assert not at.exception
    df = frames(at)[0]
    assert list(df["Thời điểm"]) == [f"{vn_today:%d/%m/%Y} 06:30:00"]
    assert "giờ Việt Nam" in texts(at)
    at.date_input(key="audit_until").set_value(vn_today - dt.timedelta(days=1))
    at.date_input(key="audit_since").set_value(vn_today - dt.timedelta(days=1))
    at.run()
    assert not frames(at)  # not an event of yesterday in Vietnam


def test_the_only_admin_is_told_there_is_no_other_account(sqlite_db):
    accounts.create_user("mot_minh", PW, "province_admin")
    at = login(_page("admin_users.py").run(), "mot_minh", PW)
    assert not at.exception
    assert "admin_target" not in [s.key for s in at.selectbox]
    assert "Chưa có tài khoản nào khác" in texts(at)
