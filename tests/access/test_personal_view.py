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
