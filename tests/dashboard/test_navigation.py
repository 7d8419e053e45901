"""Moving around the dashboard: selections that follow their rows, the URL as the source of
truth for Back/Forward, links outside the scope, paging controls, empty tables, unknown
paths (AppTest; the browser's own Back is in test_browser.py)."""

from __future__ import annotations

import pytest
from dash_helpers import logged_in, no_exception, open_page
from streamlit.testing.v1 import AppTest

from tests.access.apptest_helpers import shown, texts


def _select(at: AppTest, row: int = 0, grid: int = 0) -> AppTest:
    key = at.dataframe[grid].key
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    no_exception(at)
    return at


def _page_links(at: AppTest) -> list[str]:
    return [shown(p.proto.label) for p in at.get("page_link")]


def test_a_late_rows_selection_does_not_move_to_another_school(duck, app_db):
    """Tiến độ nộp: row 0 selected (S3), then a search leaves S2 alone in the list: the
    selection was kept as "row 0" and the follow-up panel switched to S2, a school the
    user never chose (a follow-up could be recorded against it). A changed list now starts
    with nothing selected."""
    at = open_page(logged_in("admin"), "pages/tien_do.py")
    assert at.dataframe[0].value["Mã trường"].iloc[0] == "S3"
    _select(at, 0)
    assert _page_links(at) == ["Mở trang trường Trường TH&THCS Hòa Bình"]
    at.text_input(key="late_search").input("S2").run()
    no_exception(at)
    assert list(at.dataframe[0].value["Mã trường"]) == ["S2"]
    assert _page_links(at) == []
    assert "Theo dõi khắc phục (biên bản)" not in texts(at)
    # the same list again is a new choice too: nothing selected until the user picks
    at.text_input(key="late_search").input("").run()
    assert _page_links(at) == []
    _select(at, 2)
    assert _page_links(at) == ["Mở trang trường Trường THCS Nguyễn Du"]


def test_a_drill_grid_changed_by_a_filter_starts_unselected(duck, app_db):
    """Sai lệch: each level's grid is keyed by the rows it shows, so a selection left in a
    grid's state never opens a row of another list."""
    at = open_page(logged_in("admin", {"snapshot": "1"}), "pages/sai_lech.py")
    key_all = at.dataframe[0].key
    at.selectbox(key="f_level").select("MN").run()
    no_exception(at)
    assert at.dataframe[0].key != key_all


# ---- the address: one history entry per step, the URL wins on Back/Forward ----------------


def _qp(at: AppTest) -> dict:
    return {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}


@pytest.fixture
def url_writes(monkeypatch):
    """How many times a run sent the browser a new query string: Streamlit's browser side
    adds one history entry for each (replaces the entry on a Back/Forward run)."""
    from streamlit.runtime.state.query_params import QueryParams

    sent: list[str] = []
    original = QueryParams._send_query_param_msg

    def spy(self):
        sent.append(str(self._query_params))
        return original(self)

    monkeypatch.setattr(QueryParams, "_send_query_param_msg", spy)
    return sent


def _back(at: AppTest, monkeypatch, params: dict) -> AppTest:
    """The browser's Back button: Streamlit reruns the page with the history entry's query
    string, the widgets' current values, and `is_history_navigation` set."""
    from dashboard import state

    at.query_params.clear()
    at.query_params.update(params)
    with monkeypatch.context() as m:
        m.setattr(state, "_back_or_forward", lambda: True, raising=False)
        at.run()
    no_exception(at)
    return at


def _level(at: AppTest) -> str:
    return at.subheader[0].value


def test_each_drill_step_writes_the_address_once(duck, app_db, url_writes):
    """Going from a school's checks to its records set d_check, then d_page: two history
    entries, the first an address with d_check and no d_page, which the page filled in
    again when the user pressed Back (Back seemed to do nothing)."""
    at = open_page(logged_in("so", {"snapshot": "1"}), "pages/sai_lech.py")
    for level in ("Trường xếp theo số lỗi", "Kiểm tra phát hiện sai lệch", "Trang"):
        before = len(url_writes)
        _select(at)
        assert len(url_writes) - before == 1, url_writes[before:]
        assert level in _level(at) or level in texts(at)
    assert _qp(at) == {
        "snapshot": "1",
        "d_unit": "79760",
        "d_school": "S1",
        "d_check": "student.id_format",
        "d_page": "1",
    }
    before = len(url_writes)
    next(b for b in at.button if b.label == "Trang sau ›").click().run()
    assert len(url_writes) - before == 1 and _qp(at)["d_page"] == "2"


def test_back_goes_up_the_drill_down_one_level_at_a_time(duck, app_db, monkeypatch):
    """The browser's Back from a unit's schools stayed there (the address lacked d_unit, so
    the session's path won and was written back); from the records level likewise. The
    address of the history entry now decides the level."""
    at = open_page(logged_in("so", {"snapshot": "1"}), "pages/sai_lech.py")
    history = [_qp(at)]
    for _ in range(3):
        _select(at)
        history.append(_qp(at))
    next(b for b in at.button if b.label == "Trang sau ›").click().run()
    assert "Trang **2 / 2**" in texts(at)
    _back(at, monkeypatch, history[3])  # page 1 of the records
    assert "Trang **1 / 2**" in texts(at) and _qp(at) == history[3]
    _back(at, monkeypatch, history[2])  # the school's checks
    assert _level(at) == "Kiểm tra phát hiện sai lệch" and _qp(at) == history[2]
    _back(at, monkeypatch, history[1])  # the unit's schools
    assert _level(at) == "Trường xếp theo số lỗi" and _qp(at) == history[1]
    _back(at, monkeypatch, history[0])  # every unit
    assert _level(at) == "Đơn vị xếp theo số lỗi" and _qp(at) == history[0]
    # Forward again, straight to the records
    _back(at, monkeypatch, history[3])
    assert "Trang **1 / 2**" in texts(at) and _qp(at) == history[3]
    # an ordinary run afterwards keeps the level (the session's path is the URL's)
    at.run()
    assert "Trang **1 / 2**" in texts(at) and _qp(at) == history[3]


def test_back_restores_the_previous_sidebar_filter(duck, app_db, monkeypatch):
    """After choosing Cấp học = MN, Back kept level=MN: the widgets won over the address."""
    at = logged_in("admin")
    at.run()
    start = _qp(at)
    at.selectbox(key="f_level").select("MN").run()
    assert _qp(at)["level"] == "MN"
    at.selectbox(key="f_unit").select("79760").run()
    after_unit = _qp(at)
    _back(at, monkeypatch, {k: v for k, v in after_unit.items() if k != "unit"})
    assert at.selectbox(key="f_unit").value == "__all__"
    assert at.selectbox(key="f_level").value == "MN"
    _back(at, monkeypatch, start)
    assert at.selectbox(key="f_level").value == "__all__" and _qp(at) == start
    assert "mọi cấp học" in texts(at)
    # without Back, the widgets still win over an address that lacks them (a page link)
    at.selectbox(key="f_level").select("TH").run()
    at.query_params.pop("level")
    at.run()
    assert at.selectbox(key="f_level").value == "TH" and _qp(at)["level"] == "TH"


def test_the_drill_path_is_kept_when_coming_back_to_the_page(duck, app_db):
    """Moving to another page drops the drill-down from the address in one write; coming
    back to Sai lệch through the menu (not Back) reopens the path the user left."""
    at = open_page(logged_in("so", {"snapshot": "1"}), "pages/sai_lech.py")
    _select(at)
    assert _qp(at)["d_unit"] == "79760"
    at.switch_page("pages/tong_quan.py").run()
    assert _qp(at) == {"snapshot": "1"}
    at.switch_page("pages/sai_lech.py").run()
    assert _level(at) == "Trường xếp theo số lỗi" and _qp(at)["d_unit"] == "79760"


def test_back_turns_the_new_only_toggle_off_again(duck, app_db, monkeypatch):
    at = open_page(logged_in("admin"), "pages/sai_lech.py")
    before = _qp(at)
    at.toggle(key="d_new_only").set_value(True).run()
    assert _qp(at)["d_new"] == "1"
    _back(at, monkeypatch, before)
    assert at.toggle(key="d_new_only").value is False and "d_new" not in _qp(at)


def test_back_onto_a_bare_page_address_keeps_the_selection(duck, app_db, monkeypatch):
    """Streamlit's menu opens a page at its bare address (no query string) and the page's
    first run writes the selection: two history entries. Back onto the bare one keeps the
    filters and the drill path (it showed the same view), never resets them."""
    at = open_page(logged_in("so", {"snapshot": "1"}), "pages/sai_lech.py")
    at.selectbox(key="f_level").select("TH").run()
    _select(at)
    shown_before = _qp(at)
    _back(at, monkeypatch, {})
    assert at.selectbox(key="f_snapshot").value == 1
    assert at.selectbox(key="f_level").value == "TH"
    assert _level(at) == "Trường xếp theo số lỗi" and _qp(at) == shown_before


def test_a_page_link_carries_the_selection(duck, app_db):
    """Sai lệch's "Mở trang trường" opens Trường with the sidebar's selection in its
    address, so the page need not write it again (one history entry, not two)."""
    at = open_page(logged_in("so", {"snapshot": "1", "level": "TH"}), "pages/sai_lech.py")
    _select(at)
    _select(at)
    (link,) = at.get("page_link")
    from urllib.parse import parse_qsl

    query = dict(parse_qsl(link.proto.query_string))
    assert query == {"snapshot": "1", "level": "TH", "school": "S1"}


# ---- links outside the scope --------------------------------------------------------------


def _sai_lech_link(user: str, params: dict) -> AppTest:
    at = logged_in(user, {"snapshot": "1"})
    at.run()
    at.switch_page("pages/sai_lech.py")
    at.query_params.update(params)
    at.run()
    no_exception(at)
    return at


def _everything_shown(at: AppTest) -> str:
    frames = " ".join(d.value.to_string() for d in at.dataframe)
    return " ".join([texts(at), " ".join(shown(b.label) for b in at.button), frames])


def test_a_drill_link_outside_the_scope_is_ignored_and_dropped(duck, app_db):
    """A district officer following a link to another district's unit and school saw the
    breadcrumbs "79761" and "Trường S3" over "0 phát hiện", and the codes stayed in the
    address (docs/dashboard.md: such values are ignored)."""
    at = _sai_lech_link("quan1", {"d_unit": "79761", "d_school": "S3"})
    assert _level(at) == "Đơn vị xếp theo số lỗi"
    assert any("Đơn vị trong đường dẫn không thuộc phạm vi" in i.value for i in at.info)
    assert "d_unit" not in _qp(at) and "d_school" not in _qp(at)
    everything = _everything_shown(at)
    for outside in ("79761", "S3", "Quận 2", "Hòa Bình"):
        assert outside not in everything, outside
    # their own unit, another district's school: the unit's schools
    at = _sai_lech_link("quan1", {"d_unit": "79760", "d_school": "S3", "d_check": "x.y"})
    assert _level(at) == "Trường xếp theo số lỗi"
    assert any("Trường trong đường dẫn không thuộc phạm vi" in i.value for i in at.info)
    assert _qp(at)["d_unit"] == "79760" and "d_school" not in _qp(at)
    assert "S3" not in _everything_shown(at)
    # a school account: its own school only
    at = _sai_lech_link("truong_s2", {"d_unit": "79760", "d_school": "S1"})
    assert _level(at) == "Trường xếp theo số lỗi" and "d_school" not in _qp(at)
    assert "S1" not in _everything_shown(at)
    # in scope: no word, the level of the link
    at = _sai_lech_link("quan1", {"d_unit": "79760", "d_school": "S1"})
    assert _level(at) == "Kiểm tra phát hiện sai lệch" and not at.info


def test_a_records_page_past_the_last_is_the_last_in_the_address_too(duck, app_db):
    at = _sai_lech_link(
        "admin",
        {"d_unit": "79760", "d_school": "S1", "d_check": "student.id_format", "d_page": "99999"},
    )
    assert "Trang **2 / 2**" in texts(at)
    assert _qp(at)["d_page"] == "2"


def test_drill_path_in_scope_is_decided_by_the_scope(duck):
    from dashboard import query
    from soat.scope import Scope

    quan1 = Scope(units=("79760",), user="q1", role="unit_officer")
    quan2_th = Scope(units=("79761",), levels=("TH",), user="q2", role="unit_officer")
    for scope, unit, school, expected in [
        (Scope.admin(), "79761", "S3", {"unit": True, "school": True}),
        (quan1, "79761", "S3", {"unit": False, "school": False}),
        (quan1, "79760", "S3", {"unit": True, "school": False}),
        (quan1, "26734", "S4", {"unit": True, "school": True}),  # a commune below Quận 1
        (quan1, "79760", "S4", {"unit": True, "school": False}),  # S4 is the commune's
        (quan2_th, "79761", "S3", {"unit": True, "school": True}),
        (quan1, "khong-co", None, {"unit": False, "school": False}),
    ]:
        assert query.drill_path_in_scope(1, scope, unit, school) == expected, (scope, unit)


@pytest.mark.parametrize(
    "page", ["pages/admin_users.py", "pages/admin_audit.py", "pages/admin_notify.py"]
)
def test_an_admin_link_for_a_non_admin_says_it_is_for_admins(duck, app_db, page):
    """A district officer following a link to /quan-tri-tai-khoan landed on Tổng quan
    without a word (docs/access.md: an error is shown); the admin pages are now in every
    account's navigation, hidden from the menu of non-admins, and say who they are for."""
    at = logged_in("quan1")
    at.run()
    at.switch_page(page).run()
    no_exception(at)
    assert [e.value for e in at.error] == ["Trang này chỉ dành cho quản trị Sở"]
    assert "Tổng quan" not in [t.value for t in at.title]
    assert not at.dataframe and not at.get("file_uploader")


# ---- paging ---------------------------------------------------------------------------------


def test_page_boxes_have_no_range_of_their_own_and_clamp_in_vietnamese(duck, app_db):
    """Trường's "Trang (1–2)" box had min/max: typing 99 showed Streamlit's English "Number
    is outside the allowed range. Please enter a value between 1 and 2." (drawn by the
    browser). The box has no bounds now; 99 opens the last page with a Vietnamese note."""
    at = logged_in("admin", {"snapshot": "1"})
    at.run()
    at.switch_page("pages/truong_hoc.py")
    at.query_params["school"] = "S1"
    at.run()
    no_exception(at)
    box = at.number_input(key="school_page_S1")
    assert box.label.startswith("Trang (1–2)")
    assert not box.proto.has_min and not box.proto.has_max
    first = at.dataframe[-1].value["Mã hồ sơ"].tolist()
    box.set_value(99).run()
    no_exception(at)
    assert at.number_input(key="school_page_S1").value == 2
    assert "Không có trang 99: danh sách có 2 trang, đang hiện trang 2." in texts(at)
    second = at.dataframe[-1].value["Mã hồ sơ"].tolist()
    assert second and second != first
    at.run()  # said once
    assert "Không có trang 99" not in texts(at)
    at.number_input(key="school_page_S1").set_value(-3).run()
    assert at.number_input(key="school_page_S1").value == 1
    assert at.dataframe[-1].value["Mã hồ sơ"].tolist() == first


def test_the_rejected_rows_page_box_has_no_range_of_its_own(duck, app_db, monkeypatch):
    """Dữ liệu's rejected rows: the same box (250 rejected rows: three pages)."""
    from dashboard import query

    monkeypatch.setattr(query, "count_rejects", lambda sid, scope: 250)
    at = open_page(logged_in("admin"), "pages/du_lieu.py")
    (box,) = [b for b in at.number_input if b.key == "rejects_page_2"]
    assert box.label == "Trang (1–3)"
    assert not box.proto.has_min and not box.proto.has_max
    box.set_value(99).run()
    no_exception(at)
    assert at.number_input(key="rejects_page_2").value == 3
    assert "Không có trang 99: danh sách có 3 trang, đang hiện trang 3." in texts(at)


# ---- empty tables -------------------------------------------------------------------------


def test_an_empty_table_is_a_vietnamese_caption_not_an_empty_grid(duck, app_db):
    """Sai lệch's records level over 0 findings (a period without any) drew an empty grid,
    which Streamlit labels with the English word "empty"."""
    at = _sai_lech_link(
        "admin", {"d_unit": "79761", "d_school": "S3", "d_check": "submission.missing"}
    )
    assert "phát hiện" in at.subheader[0].value and at.dataframe
    at.selectbox(key="f_period").select("giua_nam").run()
    no_exception(at)
    assert "— 0 phát hiện" in at.subheader[0].value
    assert not at.dataframe
    assert "Không có phát hiện nào của kiểm tra này ở trường trong lựa chọn." in texts(at)
    assert not any(b.label in ("‹ Trang trước", "Trang sau ›") for b in at.button)


def test_the_grid_helper_draws_no_grid_without_rows():
    """Every table of the dashboard goes through components.grid.dataframe."""
    script = """
import pandas as pd
import polars as pl
from dashboard.components.grid import dataframe
a = dataframe(pl.DataFrame({"Mã": []}, schema={"Mã": pl.String}), key="a")
b = dataframe(pd.DataFrame({"Mã": []}), empty="Chưa có **gì**.")
c = dataframe(pl.DataFrame({"Mã": ["S1"]}), on_select="rerun", key="c")
assert a is None and b is None and c is not None
"""
    at = AppTest.from_string(script).run()
    no_exception(at)
    assert [d.value.shape for d in at.dataframe] == [(1, 1)]
    assert [c.value for c in at.caption] == ["Không có dòng nào để hiện.", "Chưa có **gì**."]


def test_no_page_calls_st_dataframe_directly():
    """Only components.grid draws a grid (and auth's empty prefetch grid, under the login)."""
    from dash_helpers import dashboard_lines

    direct = [c for c in dashboard_lines(r"\bst\.dataframe\(") if "grid.py:" not in c]
    assert direct == []
