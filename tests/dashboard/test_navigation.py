"""Moving around the dashboard: selections that follow their rows, the URL as the source of
truth for Back/Forward, links outside the scope, paging controls, empty tables, unknown
paths (AppTest; the browser's own Back is in test_browser.py)."""

from __future__ import annotations

from dash_helpers import logged_in
from streamlit.testing.v1 import AppTest

from tests.access.apptest_helpers import shown, texts


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def open_page(at: AppTest, page: str) -> AppTest:
    at.run()  # the entry point first: it registers the pages (st.navigation)
    at.switch_page(page).run()
    no_exception(at)
    return at


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
