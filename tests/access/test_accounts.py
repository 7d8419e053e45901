"""Accounts on SQLite and PostgreSQL: hashing, failed logins, lock-out, sessions, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from soat import accounts, audit
from soat.appdb import audit_log, followups, sessions, users, utcnow
from soat.errors import SoatError

PW = "Bi-mat-2024!"


def _dump(db) -> str:
    out = []
    with db.connect() as conn:
        for t in (users, sessions, audit_log, followups):
            out += [repr(tuple(r)) for r in conn.execute(select(t)).all()]
    return "\n".join(out)


def test_password_is_hashed_never_stored_or_logged(db):
    accounts.create_user("admin", PW, "province_admin")
    accounts.authenticate("admin", PW)
    with pytest.raises(accounts.AuthError):
        accounts.authenticate("admin", PW + "x")
    accounts.set_password("admin", "Mat-khau-khac-99")
    dump = _dump(db)
    assert PW not in dump and "Mat-khau-khac-99" not in dump
    with db.connect() as conn:
        h = conn.execute(select(users.c.password_hash)).scalar_one()
    assert h.startswith("$2")  # bcrypt
    assert accounts.authenticate("admin", "Mat-khau-khac-99").username == "admin"
    with pytest.raises(accounts.AuthError):
        accounts.authenticate("admin", PW)


@pytest.mark.parametrize(
    "username, password",
    [("canbo", "sai-mat-khau"), ("khongco", PW), ("", ""), ("canbo", "")],
)
def test_bad_logins_fail_with_one_message(db, username, password):
    accounts.create_user("canbo", PW, "unit_officer", units=["79760"])
    with pytest.raises(accounts.AuthError, match="Sai tên đăng nhập hoặc mật khẩu"):
        accounts.authenticate(username, password)
    ev = audit.read(action="login_failed")
    assert len(ev) == 1
    assert password not in str(ev) or password == ""


def test_disabled_user_cannot_log_in_and_loses_sessions(db):
    accounts.create_user("canbo", PW, "unit_officer", units=["79760"])
    token = accounts.create_session("canbo")
    assert accounts.validate_session(token) is not None
    accounts.disable_user("canbo", by="admin")
    assert accounts.validate_session(token) is None
    with pytest.raises(accounts.AuthError):
        accounts.authenticate("canbo", PW)
    assert audit.read(action="login_failed")[0]["detail"] == {"reason": "disabled"}
    accounts.set_disabled("canbo", False)
    assert accounts.authenticate("canbo", PW).username == "canbo"


def test_lock_out_after_five_failures_for_fifteen_minutes(db):
    accounts.create_user("canbo", PW, "unit_officer", units=["79760"])
    t0 = utcnow()
    for _ in range(4):
        with pytest.raises(accounts.AuthError, match="Sai"):
            accounts.authenticate("canbo", "sai-mat-khau", now=t0)
    with pytest.raises(accounts.AuthError, match="tạm khoá"):
        accounts.authenticate("canbo", "sai-mat-khau", now=t0)
    # locked: even the right password fails, and is not checked
    with pytest.raises(accounts.AuthError, match="tạm khoá"):
        accounts.authenticate("canbo", PW, now=t0 + dt.timedelta(minutes=14))
    assert accounts.authenticate("canbo", PW, now=t0 + dt.timedelta(minutes=16)).username == "canbo"
    actions = [e["action"] for e in audit.read(user="canbo")]
    assert "user_locked" in actions and "login_locked" in actions and actions[0] == "login"


def test_success_resets_the_failure_count(db):
    accounts.create_user("canbo", PW, "unit_officer", units=["79760"])
    for _ in range(4):
        with pytest.raises(accounts.AuthError):
            accounts.authenticate("canbo", "sai-mat-khau")
    accounts.authenticate("canbo", PW)
    for _ in range(4):
        with pytest.raises(accounts.AuthError, match="Sai"):
            accounts.authenticate("canbo", "sai-mat-khau")
    assert accounts.authenticate("canbo", PW)


def test_sessions_expire_and_tampered_tokens_fail(db):
    accounts.create_user("truong", PW, "school", school="S1")
    now = utcnow()
    token = accounts.create_session("truong", now=now, hours=8)
    assert accounts.validate_session(token, now=now + dt.timedelta(hours=7)).username == "truong"
    assert accounts.validate_session(token, now=now + dt.timedelta(hours=8, seconds=1)) is None
    assert accounts.validate_session(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert accounts.validate_session("") is None
    assert accounts.validate_session(None) is None
    assert accounts.validate_session("x" * 5000) is None
    # the DB holds only the hash
    assert token not in _dump(db)
    accounts.end_session(token)
    assert accounts.validate_session(token) is None


def test_session_hours_configurable(db, monkeypatch):
    accounts.create_user("truong", PW, "school", school="S1")
    monkeypatch.setenv("SOAT_SESSION_HOURS", "1")
    now = utcnow()
    token = accounts.create_session("truong", now=now)
    assert accounts.validate_session(token, now=now + dt.timedelta(minutes=59))
    assert accounts.validate_session(token, now=now + dt.timedelta(minutes=61)) is None


def test_password_change_ends_sessions(db):
    accounts.create_user("truong", PW, "school", school="S1")
    token = accounts.create_session("truong")
    accounts.set_password("truong", "Mot-mat-khau-khac")
    assert accounts.validate_session(token) is None


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"role": "boss"}, "vai trò"),
        ({"role": "unit_officer"}, "--unit"),
        ({"role": "school"}, "--school"),
        ({"role": "school", "school": "S1", "units": ["79760"]}, "chỉ nhận mã trường"),
        ({"role": "province_admin", "levels": ["TH"]}, "toàn tỉnh"),
        ({"role": "province_staff", "units": ["79760"]}, "toàn tỉnh"),
        ({"role": "province_staff", "levels": ["ĐH"]}, "cấp học"),
    ],
)
def test_create_user_validates_role_and_scope(db, kw, msg):
    with pytest.raises(SoatError, match=msg):
        accounts.create_user("u1", PW, **kw)
    assert accounts.list_users() == []


def test_create_user_rejects_weak_password_and_duplicates(db):
    with pytest.raises(SoatError, match="ít nhất"):
        accounts.create_user("u1", "ngan", "province_admin")
    with pytest.raises(SoatError, match="tên đăng nhập"):
        accounts.create_user("co khoang trang", PW, "province_admin")
    accounts.create_user("u1", PW, "province_admin")
    with pytest.raises(SoatError, match="đã tồn tại"):
        accounts.create_user("u1", PW, "province_staff")


def test_account_changes_and_exports_are_audited(db):
    from soat.scope import Scope

    accounts.create_user("canbo", PW, "unit_officer", units=["79760"], levels=["TH"], by="admin")
    accounts.set_password("canbo", "Mat-khau-khac-99", by="admin")
    accounts.disable_user("canbo", by="admin")
    scope = Scope(units=("79760",), levels=("TH",), user="canbo", role="unit_officer")
    audit.log_export(scope, "findings", {"unit": "79760", "level": None, "password": "x"}, rows=42)
    ev = audit.read()
    by_action = {e["action"]: e for e in ev}
    assert by_action["user_add"]["username"] == "admin"
    assert by_action["user_add"]["detail"]["target"] == "canbo"
    assert by_action["user_add"]["detail"]["units"] == ["79760"]
    assert by_action["user_passwd"]["detail"] == {"target": "canbo"}
    assert by_action["user_disable"]["detail"] == {"target": "canbo"}
    exp = by_action["export"]
    assert exp["username"] == "canbo" and exp["rows"] == 42
    assert exp["detail"] == {
        "kind": "findings",
        "filters": {"unit": "79760"},
        "scope": {"role": "unit_officer", "units": ["79760"], "levels": ["TH"]},
        "unmasked": False,
    }
    assert audit.read(user="canbo", action="export")[0]["rows"] == 42
    assert audit.read(since=dt.date.today() + dt.timedelta(days=1)) == []
    assert len(audit.read(until=dt.date.today() + dt.timedelta(days=1))) == len(ev)


def test_personal_view_logged_only_when_unmasked(db):
    from soat.scope import Scope

    audit.log_personal_view(Scope(user="canbo", role="unit_officer"), "students", rows=3)
    audit.log_personal_view(
        Scope(unmasked=True, user="truong", role="school", school="S1"), "students", rows=3
    )
    ev = audit.read(action="view_personal")
    assert [e["username"] for e in ev] == ["truong"]


def test_overlong_password_never_matches(db):
    pw72 = "abcdefghij" * 7 + "xy"
    accounts.create_user("dai", pw72, "province_admin")
    assert accounts.authenticate("dai", pw72)
    with pytest.raises(accounts.AuthError):
        accounts.authenticate("dai", pw72 + "b")  # bcrypt alone would truncate and accept
    with pytest.raises(SoatError, match="quá dài"):
        accounts.set_password("dai", "b" * 73)
