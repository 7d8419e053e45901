"""soat/exports/late.py: columns, order, filters, scope, Vietnamese labels."""

from __future__ import annotations

import datetime as dt

import polars as pl

from deadlines.deadline_helpers import deadline, province, push
from soat.exports import late
from soat.scope import Scope
from soat.testing import run, school

D = dt.date

UNITS = [
    {"unit_code": "79", "unit_name": "Sở GD&ĐT", "unit_tier": "Sở", "parent_code": None},
    {"unit_code": "79760", "unit_name": "Phòng Q1", "unit_tier": "Phòng", "parent_code": "79"},
    {
        "unit_code": "7976001",
        "unit_name": "Phường Bến Nghé",
        "unit_tier": "Xã",
        "parent_code": "79760",
    },
    {"unit_code": "79761", "unit_name": "Phòng Q2", "unit_tier": "Phòng", "parent_code": "79"},
]
SCHOOLS = [
    school(school_code="A", school_name="TH A", unit_code="79760", levels=["TH"]),
    school(school_code="B", school_name="THCS B", unit_code="7976001", levels=["THCS"]),
    school(school_code="C", school_name="TH-THCS C", unit_code="79761", levels=["TH", "THCS"]),
]
DEADLINES = [deadline(), deadline(period="giua_nam", due_date=D(2025, 1, 10))]
PUSHES = [
    push("2024-09-10 08:00", school_code="A"),  # on time
    push("2024-09-20 08:00", school_code="B"),  # late 5
]  # C: missing 30 (two levels)


def snapshot(con):
    return run(con, province(DEADLINES, PUSHES, SCHOOLS, UNITS))


def test_columns_and_most_overdue_first(con):
    sid = snapshot(con)
    df = late.frame(con, sid, Scope.admin())
    assert df.columns == late.COLUMNS
    assert set(late.HEADERS_VI) == set(late.COLUMNS)
    assert df.height == 8  # (A, B, C-TH, C-THCS) x (dau_nam, giua_nam)
    head = df.head(3).select("school_code", "level", "status", "days_late").rows()
    assert head == [
        ("C", "TH", "missing", 30),
        ("C", "THCS", "missing", 30),
        ("B", "THCS", "late", 5),
    ]
    assert df.filter(pl.col("school_code") == "A", pl.col("period") == "dau_nam").row(
        0, named=True
    ) == {
        "school_code": "A",
        "school_name": "TH A",
        "unit_code": "79760",
        "unit_name": "Phòng Q1",
        "level": "TH",
        "period": "dau_nam",
        "data_type": "students",
        "target": "Sở",
        "due_date": D(2024, 9, 15),
        "first_success_at": dt.datetime(2024, 9, 10, 8, 0),
        "status": "on_time",
        "days_late": None,
    }
    assert set(df.filter(pl.col("period") == "giua_nam")["status"]) == {"pending"}


def test_filters_unit_with_descendants_level_period(con):
    sid = snapshot(con)
    by_unit = late.frame(con, sid, Scope.admin(), unit="79760")
    assert set(by_unit["school_code"]) == {"A", "B"}  # B sits in a ward under 79760
    by_level = late.frame(con, sid, Scope.admin(), level="THCS", period="dau_nam")
    assert sorted(by_level["school_code"]) == ["B", "C"]
    assert late.frame(con, sid, Scope.admin(), unit="nope").height == 0


def test_scope_is_applied_in_sql(con):
    sid = snapshot(con)
    q2 = late.frame(con, sid, Scope(units=("79761",), levels=("TH",)))
    assert set(zip(q2["school_code"], q2["level"], strict=True)) == {("C", "TH")}
    one = late.frame(con, sid, Scope(school="A"), check="ignored")
    assert set(one["school_code"]) == {"A"}


def test_empty_frame_keeps_the_columns(con):
    sid = snapshot(con)
    df = late.frame(con, sid, Scope.admin(), period="cuoi_nam")
    assert df.height == 0 and df.columns == late.COLUMNS


def test_vietnamese_labels_for_xlsx(con):
    sid = snapshot(con)
    df = late.vietnamese(late.frame(con, sid, Scope.admin(), period="dau_nam"))
    assert set(df["status"]) == {"Đúng hạn", "Trễ hạn", "Chưa nộp"}
    assert set(df["period"]) == {"Đầu năm"}
    assert set(df["data_type"]) == {"Học sinh"}
    named = late.vietnamese(df, headers=True)
    assert named.columns[:3] == ["Mã trường", "Tên trường", "Mã đơn vị"]
    assert "Số ngày trễ" in named.columns and "Hạn nộp" in named.columns
    assert late.period_label("thang_09") == "Tháng 9"
