"""Findings over time on the dashboard: the query layer (scoped like every query) and the
pages — Tổng quan's headline, Sai lệch's and Trường's new / còn tồn tại marks and their "new
only" toggle, Xu hướng's resolution progress and age of open findings."""

from __future__ import annotations

import datetime as dt
import io

import dash_province as province
import polars as pl
import pytest
from dash_helpers import logged_in, no_exception

from dashboard import query as q
from dashboard.query import Filters
from soat.scope import Scope
from tests.access.apptest_helpers import texts
from tests.plots import figures

ADMIN = Scope.admin()
QUAN1 = Scope(units=("79760",), role="unit_officer")
QUAN2_TH = Scope(units=("79761",), levels=("TH",), role="unit_officer")
S2 = Scope(school="S2", role="school")
D3 = province.AS_OF + dt.timedelta(days=28)
NEW_S1 = 10  # pupils HS1070..HS1079 get a bad citizen ID again in snapshot 3


@pytest.fixture
def duck3(duck):
    """The two-snapshot province plus a third snapshot 14 days after the second: ten of
    S1's fixed IDs broken again and S3's bad ID back (11 new findings, nothing resolved).
    Snapshot 2 had fixed 61 of snapshot 1's findings."""
    province.publish(str(duck), as_of=D3, name="Cập nhật 2", bad_s1=province.BAD_S1 - 60 + NEW_S1)
    return duck


# ---- the query layer ---------------------------------------------------------------------


def test_change_summary_in_every_scope(duck3):
    f = Filters()
    s = q.change_summary(3, ADMIN, f)
    assert (s["previous_id"], s["previous_as_of"]) == (2, province.AS_OF + dt.timedelta(days=14))
    assert (s["new"], s["resolved"]) == (NEW_S1 + 1, 0)
    assert s["open"] == s["new"] + s["persisting"]
    assert (q.change_summary(3, QUAN1, f)["new"], q.change_summary(3, QUAN2_TH, f)["new"]) == (
        NEW_S1,
        1,
    )
    assert q.change_summary(3, S2, f)["new"] == 0
    two = q.change_summary(2, ADMIN, f)
    assert (two["new"], two["resolved"]) == (0, 61)
    assert q.change_summary(2, QUAN2_TH, f)["resolved"] == 1
    first = q.change_summary(1, ADMIN, f)
    assert first["previous_id"] is None and first["new"] is None and first["open"] > 0
    # filters: the unit filter walks the hierarchy, the level filter keeps TH
    assert q.change_summary(3, ADMIN, Filters(unit="79761"))["new"] == 1
    assert q.change_summary(3, ADMIN, Filters(level="THCS"))["new"] == 0


def test_resolution_trend_per_snapshot(duck3):
    df = q.resolution_trend(ADMIN, Filters())
    assert df["snapshot_id"].to_list() == [1, 2, 3]
    assert df["new"].to_list() == [None, 0, NEW_S1 + 1]
    assert df["resolved"].to_list() == [None, 61, 0]
    rows = df.to_dicts()
    for r in rows:
        assert sum(r[c] for c, *_ in q.AGE_BUCKETS) == r["open"]
    assert rows[0]["median_age"] == 0  # everything is new on the first snapshot
    assert rows[2]["age_new"] == NEW_S1 + 1
    # 73 open since 15/10 (28 days) and 11 new (0 days): the median is 28
    assert rows[2]["median_age"] == 28
    scoped = q.resolution_trend(QUAN2_TH, Filters())
    assert scoped["new"].to_list() == [None, 0, 1]
    assert scoped["resolved"].to_list() == [None, 1, 0]


def test_unit_changes_per_snapshot(duck3):
    df = q.unit_changes(ADMIN, Filters())
    assert sorted(set(df["snapshot_id"])) == [2, 3]  # snapshot 1 was compared with none
    three = df.filter(pl.col("snapshot_id") == 3)
    got = {r["unit_code"]: (r["new"], r["resolved"]) for r in three.to_dicts()}
    assert got == {"79760": (NEW_S1, 0), "79761": (1, 0)}
    assert three["unit_code"][0] == "79760"  # most new first
    two = df.filter(pl.col("snapshot_id") == 2)
    assert {r["unit_code"]: r["resolved"] for r in two.to_dicts()} == {"79760": 60, "79761": 1}
    assert set(q.unit_changes(QUAN2_TH, Filters())["unit_code"]) == {"79761"}
    assert set(q.unit_changes(ADMIN, Filters(unit="79761"))["unit_code"]) == {"79761"}


def test_new_only_drill_and_records(duck3):
    f = Filters(new_only=True)
    units = q.drill_units(3, ADMIN, f)
    got = {r["unit_code"]: (r["errors"], r["new_findings"]) for r in units.to_dicts()}
    assert got["79760"] == (NEW_S1, NEW_S1) and got["79761"] == (1, 1)
    everything = q.drill_units(3, ADMIN, Filters())
    assert everything.filter(pl.col("unit_code") == "79760")["new_findings"].to_list() == [NEW_S1]
    recs = q.drill_records(3, ADMIN, f, "S1", "student.id_format")
    assert recs.height == NEW_S1 and set(recs["change"]) == {"new"}
    assert set(recs["since"]) == {D3}
    old = q.drill_records(3, ADMIN, Filters(), "S1", "student.id_format")
    assert set(old["change"]) == {"new", "persisting"}
    assert q.count_records(3, QUAN1, f, "S3", None) == 0  # S3 is Quận 2's


# ---- the pages ---------------------------------------------------------------------------


def test_overview_headline_says_new_and_fixed(duck3, app_db):
    at = logged_in("admin")
    at.run()
    no_exception(at)
    t = texts(at)
    assert "So với bản chụp #2 (ngày 29/10/2024)" in t
    assert f"**{NEW_S1 + 1} phát hiện mới**" in t and "**0 đã được khắc phục**" in t
    at = logged_in("quan2_th", {"snapshot": "2"})
    at.run()
    assert "**0 phát hiện mới**, **1 đã được khắc phục**" in texts(at)
    at = logged_in("admin", {"snapshot": "1"})
    at.run()
    assert "Chưa có bản chụp trước để so sánh" in texts(at)


def _select(at, row: int = 0):
    key = at.dataframe[0].key
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    no_exception(at)
    return at


def test_sai_lech_marks_new_and_filters_to_new_only(duck3, app_db):
    at = logged_in("admin")
    at.run()
    at.switch_page("pages/sai_lech.py").run()
    no_exception(at)
    units = at.dataframe[0].value
    assert dict(zip(units["Mã"], units["Mới"], strict=True))["79760"] == NEW_S1
    at.toggle(key="d_new_only").set_value(True).run()
    no_exception(at)
    assert at.query_params.get("d_new") in ("1", ["1"])
    units = at.dataframe[0].value
    assert dict(zip(units["Mã"], units["Lỗi"], strict=True))["79760"] == NEW_S1
    _select(at)  # Quận 1
    _select(at)  # S1
    _select(at)  # student.id_format
    recs = at.dataframe[0].value
    assert len(recs) == NEW_S1 and set(recs["Thay đổi"]) == {"Mới"}
    at.toggle(key="d_new_only").set_value(False).run()
    recs = at.dataframe[0].value
    assert "Còn tồn tại (từ 15/10/2024)" in set(recs["Thay đổi"])
    assert "d_new" not in at.query_params


def test_sai_lech_link_with_new_only(duck3, app_db):
    at = logged_in("quan1", {"d_new": "1"})
    at.run()
    at.switch_page("pages/sai_lech.py")
    at.query_params.update({"d_new": "1"})
    at.run()
    no_exception(at)
    assert at.toggle(key="d_new_only").value is True
    units = at.dataframe[0].value
    assert set(units["Mã"]) <= {"79760", "26734"}
    assert units["Lỗi"].sum() == NEW_S1


def test_toggle_is_off_without_a_previous_snapshot(duck3, app_db):
    at = logged_in("admin", {"snapshot": "1"})
    at.run()
    at.switch_page("pages/sai_lech.py").run()
    no_exception(at)
    assert at.toggle(key="d_new_only").disabled


def test_school_page_marks_and_new_only_download(duck3, app_db, captured):
    at = logged_in("admin")
    at.run()
    at.switch_page("pages/truong_hoc.py")
    at.query_params["school"] = "S1"
    at.run()
    no_exception(at)
    frame = next(d.value for d in at.dataframe if "Thay đổi" in d.value.columns)
    assert {"Mới", "Còn tồn tại (từ 15/10/2024)"} <= set(frame["Thay đổi"])
    at.toggle(key="school_new_only").set_value(True).run()
    no_exception(at)
    frame = next(d.value for d in at.dataframe if "Thay đổi" in d.value.columns)
    assert len(frame) == NEW_S1 and set(frame["Thay đổi"]) == {"Mới"}
    assert at.query_params.get("new") in ("1", ["1"])
    df = pl.read_csv(io.BytesIO(captured["school_findings_csv"]()), infer_schema=False)
    assert df.height == NEW_S1 and set(df["change"]) == {"new"} and set(df["school_code"]) == {"S1"}
    assert df.columns[-2:] == ["change", "since"]


def test_trends_page_shows_resolution_and_age(duck3, app_db):
    at = logged_in("admin")
    at.run()
    at.switch_page("pages/xu_huong.py").run()
    no_exception(at)
    got = {m.label: m.value for m in at.metric}
    assert got["Mới phát sinh"] == str(NEW_S1 + 1) and got["Đã khắc phục"] == "0"
    assert got["Tuổi trung vị lỗi còn mở"] == "28 ngày"
    charts = figures(at)
    assert {"trend_resolution", "trend_open_age", "trend_units"} <= set(charts)
    bars = {t["name"]: t for t in charts["trend_resolution"]["data"]}
    assert bars["Mới phát sinh"]["y"][-1] == NEW_S1 + 1
    assert bars["Đã khắc phục"]["y"][1] == 61
    units = {t["name"]: t for t in charts["trend_units"]["data"]}
    # names as Plotly text: '&' as an entity (labels.plain), drawn as '&'
    assert set(units["Mới phát sinh"]["y"]) == {"Phòng GD&amp;ĐT Quận 1", "Phòng GD&amp;ĐT Quận 2"}
    # a district officer sees its own units only
    at = logged_in("quan2_th")
    at.run()
    at.switch_page("pages/xu_huong.py").run()
    no_exception(at)
    charts = figures(at)
    units = {t["name"]: t for t in charts["trend_units"]["data"]}
    assert units["Mới phát sinh"]["y"] == ["Phòng GD&amp;ĐT Quận 2"]
