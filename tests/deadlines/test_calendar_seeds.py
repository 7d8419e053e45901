"""soat/calendar_seeds.py: the letters' calendars as `deadlines` rows."""

from __future__ import annotations

import datetime as dt

import pytest

from deadlines.deadline_helpers import province
from soat.calendar_seeds import LETTERS, date_in_year, letter_rows, seed_deadline_rows
from soat.db import dicts
from soat.testing import run, school

D = dt.date


def test_rows_have_the_canonical_columns_and_follow_the_year():
    rows = seed_deadline_rows("2024-2025")
    assert rows
    for r in rows:
        assert set(r) == {
            "school_year", "period", "level", "data_type", "target", "due_date",
            "lock_date", "unit_code", "school_code", "reference",
        }  # fmt: skip
        assert r["school_year"] == "2024-2025"
        assert D(2024, 9, 1) <= r["due_date"] <= D(2025, 8, 31)
        assert r["lock_date"] is None or r["lock_date"] >= r["due_date"]
        assert r["reference"]
        assert r["unit_code"] is None and r["school_code"] is None
    assert not any(r["period"].startswith("thang_") for r in rows)
    assert len(seed_deadline_rows("2024-2025", monthly=True)) == len(rows) + 9


def test_the_letters_own_dates():
    tn = {(r["period"], r["target"]): r for r in letter_rows(LETTERS["thai_nguyen_2020"])}
    assert tn[("dau_nam", "Sở")]["due_date"] == D(2020, 10, 21)
    assert tn[("dau_nam", "Bộ")]["due_date"] == D(2020, 10, 23)
    assert tn[("dau_nam", "Bộ")]["lock_date"] == D(2020, 10, 26)
    bp = {
        (r["period"], r["target"]): r["due_date"] for r in letter_rows(LETTERS["binh_phuoc_2021"])
    }
    assert bp == {
        ("dau_nam", "Sở"): D(2021, 9, 13),
        ("giua_nam", "Sở"): D(2022, 1, 14),
        ("cuoi_nam", "Sở"): D(2022, 5, 20),
        ("dau_nam", "Bộ"): D(2021, 9, 20),
        ("giua_nam", "Bộ"): D(2022, 1, 21),
        ("cuoi_nam", "Bộ"): D(2022, 5, 27),
    }
    hp = {tuple(r["level"]): r["due_date"] for r in letter_rows(LETTERS["hai_phong_2023"])}
    assert hp == {("MN", "TH", "THCS"): D(2023, 6, 8), ("THPT", "GDTX"): D(2023, 6, 15)}
    vl = letter_rows(LETTERS["vinh_long_2019"])
    start = next(r for r in vl if r["period"] == "dau_nam" and r["target"] == "Sở")
    assert (start["due_date"], start["lock_date"]) == (D(2019, 9, 6), D(2019, 9, 9))
    dec = next(r for r in vl if r["period"] == "thang_12")
    assert (dec["due_date"], dec["lock_date"]) == (D(2019, 12, 15), D(2019, 12, 17))


def test_date_in_year():
    assert date_in_year("2024-2025", 31, 12) == D(2024, 12, 31)
    assert date_in_year("2024-2025", 10, 1) == D(2025, 1, 10)
    with pytest.raises(ValueError):
        date_in_year("2024", 1, 1)


def test_the_default_calendar_resolves_through_the_rules(con):
    schools = [
        school(school_code="P", levels=["TH"]),
        school(school_code="Q", levels=["THCS"]),
        school(school_code="R", levels=["THPT"]),
    ]
    sid = run(con, province(seed_deadline_rows("2024-2025"), [], schools))
    rows = dicts(
        con,
        """SELECT school_code, due_date, lock_date, rule FROM submission_status
           WHERE snapshot_id = $s AND period = 'dau_nam' AND target = 'Sở'
             AND data_type = 'students'""",
        {"s": sid},
    )
    got = {r["school_code"]: (r["due_date"], r["lock_date"], r["rule"]) for r in rows}
    assert got == {
        "P": (D(2024, 9, 13), None, "level"),  # Bình Phước, primary only
        "Q": (D(2024, 9, 15), None, "level"),  # Cẩm Giàng, MN/TH/THCS
        "R": (D(2024, 9, 6), D(2024, 9, 9), "province"),  # Vĩnh Long
    }
