"""Views of unmasked personal data are audited once per page view, only for unmasked scopes."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from soat import accounts, audit

from .apptest_helpers import login

PW = "Bi-mat-2024!"

APP = """
import polars as pl
import streamlit as st
from dashboard.auth import require_login, note_personal_view
scope = require_login()
recs = pl.DataFrame({"record_key": ["HS1", "HS2"], "field": ["citizen_id", "class_code"],
                     "value": ["079318000123", "1A"]})
note_personal_view(scope, "test.records", recs, {"page": st.session_state.get("p", 0)})
note_personal_view(scope, "test.other", recs.filter(pl.col("field") == "class_code"), {})
st.write("ok")
"""


def test_unmasked_view_is_audited_once_per_view(sqlite_db):
    accounts.create_user("truong", PW, "school", school="S1")
    at = login(AppTest.from_string(APP, default_timeout=30).run(), "truong", PW)
    assert not at.exception
    at.run()  # a rerun of the same view: not logged again
    ev = audit.read(action="view_personal")
    assert len(ev) == 1
    assert ev[0]["username"] == "truong" and ev[0]["rows"] == 2
    assert ev[0]["detail"] == {"what": "test.records", "filters": {"page": 0}}
    at.session_state["p"] = 1  # another page of records: logged
    at.run()
    assert len(audit.read(action="view_personal")) == 2


def test_masked_view_is_not_audited(sqlite_db):
    accounts.create_user("canbo", PW, "unit_officer", units=["79760"])
    at = login(AppTest.from_string(APP, default_timeout=30).run(), "canbo", PW)
    assert not at.exception
    assert audit.read(action="view_personal") == []


APP_WITH_LOGOUT = """
import polars as pl
import streamlit as st
from dashboard.auth import logout_button, require_login, note_personal_view
scope = require_login()
logout_button()
rej = pl.DataFrame({"column": ["Ngày sinh"], "value": ["31/02/2015"], "personal": [True]})
note_personal_view(scope, "test.rejects", rej, {"page": 0})
st.write("ok")
"""


def test_personal_rows_flagged_and_each_user_audited(sqlite_db):
    """A frame flagged `personal` (rejected cells of a personal column) is audited; after
    a logout the next user on the same browser tab is audited for the same view."""
    accounts.create_user("quantri", PW, "province_admin")
    accounts.create_user("quantri_hai", PW, "province_admin")
    at = login(AppTest.from_string(APP_WITH_LOGOUT, default_timeout=30).run(), "quantri", PW)
    assert not at.exception
    at.run()
    assert [e["username"] for e in audit.read(action="view_personal")] == ["quantri"]
    next(b for b in at.button if b.label == "Đăng xuất").click().run()
    at = login(at, "quantri_hai", PW)
    assert not at.exception
    assert [e["username"] for e in audit.read(action="view_personal")] == [
        "quantri_hai",
        "quantri",
    ]
