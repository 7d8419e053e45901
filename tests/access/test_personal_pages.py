"""Personal data on the pages, end to end: every distinct view of unmasked records is
audited (the sidebar's filters and the user are part of a view), the rejected values of
Dữ liệu too; load messages quote a personal column's values masked for masked roles; and
rows with no reliable level (rejects, load messages) are for a scope of every level."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import query
from soat import accounts, audit, store

from . import hostile
from .apptest_helpers import login
from .test_hostile_render import APP

PW = "Bi-mat-2024!"
DATE_MESSAGE = (
    "cột 'Ngày sinh' ghi lẫn ngày/tháng ('31/02/2015') và tháng/ngày ('04/19/2016'): mỗi giá "
    "trị đọc theo cách duy nhất đọc được"
)


@pytest.fixture
def env(tmp_path, sqlite_db, monkeypatch):
    path = tmp_path / "soat.duckdb"
    con = store.connect(str(path))
    sid = hostile.build(con)
    con.execute(
        """INSERT INTO rejects VALUES ($s, 'students', 'hoc_sinh.csv', NULL, 7, 'Ngày sinh',
                  '31/02/2015', 'ngày không có thật', false),
                  ($s, 'students', 'hoc_sinh.csv', NULL, 8, 'Giới tính', 'Namm',
                  'không thuộc danh mục', false)""",
        {"s": sid},
    )
    con.execute(
        """INSERT INTO load_messages VALUES
               ($s, 'warning', 'hoc_sinh.csv', NULL, NULL, 'Ngày sinh', $m),
               ($s, 'info', 'truong.csv', NULL, NULL, NULL, 'tệp ''truong.csv'': 5 dòng')""",
        {"s": sid, "m": DATE_MESSAGE},
    )
    con.close()
    monkeypatch.setenv("SOAT_DB", str(path))
    st.cache_data.clear()
    st.cache_resource.clear()
    accounts.create_user("quantri", PW, "province_admin")
    accounts.create_user("chuyenvien", PW, "province_staff")
    accounts.create_user("chuyenvien_thpt", PW, "province_staff", levels=["THPT"])
    yield sid
    from dashboard import db

    db.close()
    st.cache_data.clear()
    st.cache_resource.clear()


def _views() -> list[tuple[str, str, dict]]:
    return [
        (e["username"], e["detail"]["what"], e["detail"]["filters"])
        for e in reversed(audit.read(action="view_personal"))
    ]


def test_each_distinct_view_of_records_is_audited(env):
    at = login(AppTest.from_file(APP, default_timeout=60).run(), "quantri", PW)
    at.switch_page("pages/sai_lech.py")
    for k, v in {"d_unit": "79760", "d_school": "S1", "d_check": "student.id_format"}.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    at.run()  # a rerun of the same view: once
    assert [(u, w) for u, w, _ in _views()] == [("quantri", "sai_lech.records")]
    # the same school and check, another period in the sidebar: another view
    at.selectbox(key="f_period").set_value("dau_nam").run()
    assert not at.exception
    views = _views()
    assert len(views) == 2 and views[0][2] != views[1][2]


def test_rejected_personal_values_are_audited_for_an_admin(env):
    at = login(AppTest.from_file(APP, default_timeout=60).run(), "quantri", PW)
    at.switch_page("pages/du_lieu.py").run()
    assert not at.exception
    shown = [df for df in (d.value for d in at.dataframe) if "Giá trị" in df.columns]
    assert shown and "31/02/2015" in list(shown[0]["Giá trị"])  # in clear: an admin
    assert [(u, w) for u, w, _ in _views()] == [("quantri", "du_lieu.rejects")]


def test_load_messages_mask_a_personal_columns_values(env):
    staff = accounts.get_user("chuyenvien").scope
    msgs = query.load_messages(env, staff)
    (masked,) = [m for m in msgs["message"] if "Ngày sinh" in m]
    assert "31/02/2015" not in masked and "04/19/2016" not in masked
    assert masked.startswith("cột 'Ngày sinh' ghi lẫn ngày/tháng ('***') và tháng/ngày ('***')")
    assert "tệp 'truong.csv': 5 dòng" in list(msgs["message"])  # not a personal column
    admin = accounts.get_user("quantri").scope
    assert DATE_MESSAGE in list(query.load_messages(env, admin)["message"])
    rej = query.rejects(env, staff)
    assert sorted(rej["value"]) == ["***", "Namm"]


def test_rows_without_a_level_are_for_every_level(env):
    thpt = accounts.get_user("chuyenvien_thpt").scope
    assert query.load_messages(env, thpt).height == 0
    assert query.rejects(env, thpt).height == 0 and query.count_rejects(env, thpt) == 0
    at = login(AppTest.from_file(APP, default_timeout=60).run(), "chuyenvien_thpt", PW)
    at.switch_page("pages/du_lieu.py").run()
    assert not at.exception
    assert any("mọi cấp học" in c.value for c in at.caption)
