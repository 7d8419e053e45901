"""AppTest of the follow-up panel: scope-checked display and marking, and the download."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from soat import accounts, audit, followups, store

from .apptest_helpers import frames, login, texts
from .fixtures import build

PW = "Bi-mat-2024!"

APP = """
import streamlit as st
from dashboard.auth import require_login
from dashboard.components.followup import followup_panel, followup_download
scope = require_login()
followup_panel(st.session_state.get("school", "S2"), "Đầu năm", scope, issues=["student.x"])
followup_download(scope)
"""


@pytest.fixture
def env(sqlite_db, tmp_path, monkeypatch):
    path = tmp_path / "soat.duckdb"
    con = store.connect(str(path))
    build(con)
    con.close()
    monkeypatch.setenv("SOAT_DB", str(path))
    st.cache_resource.clear()
    st.cache_data.clear()
    accounts.create_user("canbo_a", PW, "unit_officer", units=["79760"])
    accounts.create_user("canbo_b", PW, "unit_officer", units=["79761"])
    accounts.create_user("truong_s2", PW, "school", school="S2")
    followups.set_state("S2", "Đầu năm", "submission", "notified", "Đã gửi công văn", "quantri")
    yield
    from dashboard import db

    db.close()
    st.cache_resource.clear()


def _app() -> AppTest:
    return AppTest.from_string(APP, default_timeout=30)


def test_officer_of_another_district_sees_and_marks_nothing(env):
    at = login(_app().run(), "canbo_a", PW)
    assert not at.exception
    assert "ngoài phạm vi" in texts(at)
    assert "Đã gửi công văn" not in texts(at) and not frames(at)
    assert "Lưu theo dõi" not in [b.label for b in at.button]


def test_officer_in_scope_sees_history_and_marks(env):
    at = login(_app().run(), "canbo_b", PW)
    assert not at.exception
    df = frames(at)[0]
    assert list(df["Trạng thái"]) == ["Đã thông báo"]
    at.selectbox(key="followup_S2_Đầu năm_issue").set_value("submission")
    at.selectbox(key="followup_S2_Đầu năm_state").set_value("fixing")
    at.text_area(key="followup_S2_Đầu năm_note").input("Trường hẹn thứ Hai")
    next(b for b in at.button if b.label == "Lưu theo dõi").click()
    at.run()
    assert not at.exception
    assert followups.current_state("S2", "Đầu năm", "submission") == "fixing"
    assert [h["by_user"] for h in followups.history("S2")] == ["quantri", "canbo_b"]


def test_school_account_only_offers_its_states(env):
    at = login(_app().run(), "truong_s2", PW)
    assert not at.exception
    assert at.selectbox(key="followup_S2_Đầu năm_state").options == [
        "Đang khắc phục",
        "Đã khắc phục",
    ]


def test_download_is_scoped_and_audited(env, captured_downloads):
    at = login(_app().run(), "canbo_a", PW)
    df = followups.export_frame(None, None, accounts.get_user("canbo_a").scope)
    assert df.height == 0  # no database handle: restricted scope gets nothing
    from dashboard.components.followup import to_csv, to_xlsx

    assert to_csv(df).startswith("\ufeff".encode())
    assert to_xlsx(df)[:2] == b"PK"
    # the files are built when a button is clicked, each build audited with its rows
    dl = [e for e in at.get("download_button")]
    assert len(dl) == 2
    before = len(audit.read(action="export"))
    data = captured_downloads["followup_dl_csv"]()  # the click
    assert data.decode("utf-8-sig").splitlines()[0].startswith("Mã trường")
    ev = audit.read(action="export")
    assert len(ev) == before + 1 and ev[0]["username"] == "canbo_a" and ev[0]["rows"] == 0
    assert ev[0]["detail"]["kind"] == "followups" and ev[0]["detail"]["format"] == "csv"
    assert ev[0]["detail"]["scope"] == {"role": "unit_officer", "units": ["79760"]}


def test_xlsx_keeps_addresses_and_formulas_as_text():
    """A school's name or a note that looks like an address or a formula is a plain text
    cell in the follow-up .xlsx (polars' write_excel once made it a live link)."""
    import io
    import zipfile

    import polars as pl

    from dashboard.components.followup import to_xlsx

    row = dict.fromkeys(followups.EXPORT_HEADERS, "x")
    row.update(
        school_name="http://evil.example/phishing",
        note='=HYPERLINK("http://evil.example","bấm")',
        by_user="mailto:a@b.example",
    )
    data = to_xlsx(pl.DataFrame([row]))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
        names = z.namelist()
    assert "<hyperlink" not in sheet and "<f>" not in sheet
    assert not any("rels" in n and "sheet1" in n for n in names)
    assert "http://evil.example/phishing" in strings and "=HYPERLINK" in strings
    assert "Biên bản theo dõi khắc phục" in strings and "Ghi chú" in strings
