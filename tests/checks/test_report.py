"""Report and source checks: the numbers a school filed must agree with the records."""

from __future__ import annotations

import pytest

from soat.testing import YEAR, valid_province


def rep(indicator, value, period="dau_nam", school_code="S1", school_year=YEAR):
    return {
        "school_code": school_code,
        "school_year": school_year,
        "period": period,
        "indicator": indicator,
        "value": float(value),
    }


def src(data_type, n, school_code="S1"):
    return {
        "school_code": school_code,
        "school_year": YEAR,
        "software": "SMAS",
        "data_type": data_type,
        "record_count": n,
    }


def p(**kw):
    return valid_province(**kw)


FIRES = [
    (
        "report.age_total_mismatch",
        p(reports=[rep("hs_tong", 2), rep("hs_tuoi_6", 1)]),
        [("S1", "hs_tong", "2")],
    ),
    ("report.records_mismatch", p(reports=[rep("hs_tong", 3)]), [("S1", "hs_tong", "3")]),
    (
        "report.records_mismatch",
        p(reports=[rep("lop_tong", 2), rep("gv_tong", 0)]),
        [("S1", "gv_tong", "0"), ("S1", "lop_tong", "2")],
    ),
    ("source.count_mismatch", p(source_counts=[src("students", 2)]), [("S1", "students", "2")]),
    ("source.count_mismatch", p(source_counts=[src("staff", 0)]), [("S1", "staff", "0")]),
]

NEAR_MISSES = [
    ("report.age_total_mismatch", p(reports=[rep("hs_tong", 1), rep("hs_tuoi_6", 1)])),
    ("report.age_total_mismatch", p(reports=[rep("hs_tong", 5)])),  # no split by age
    (
        "report.age_total_mismatch",
        p(reports=[rep("hs_tong", 2), rep("hs_tuoi_6", 1, school_year="2023-2024")]),
    ),
    (
        "report.records_mismatch",
        p(reports=[rep("hs_tong", 1), rep("lop_tong", 1), rep("gv_tong", 1)]),
    ),
    (
        "report.records_mismatch",
        {k: v for k, v in p(reports=[rep("gv_tong", 7)]).items() if k != "staff"},
    ),
    ("source.count_mismatch", p(source_counts=[src("students", 1), src("classes", 1)])),
    ("source.count_mismatch", p(source_counts=[src("rooms", 12)])),  # rooms not loaded
]


@pytest.mark.parametrize(("check_id", "tables", "expected"), FIRES, ids=[c[0] for c in FIRES])
def test_fires(hits, check_id, tables, expected):
    assert hits(tables, check_id) == expected


@pytest.mark.parametrize(("check_id", "tables"), NEAR_MISSES, ids=[c[0] for c in NEAR_MISSES])
def test_near_miss(hits, check_id, tables):
    assert hits(tables, check_id) == []


def test_report_findings_carry_the_period(all_findings):
    fs = all_findings(
        p(reports=[rep("hs_tong", 2, period="giua_nam"), rep("hs_tuoi_6", 2, period="giua_nam")])
    )
    (f,) = fs
    assert (f["check_id"], f["period"], f["level"]) == ("report.records_mismatch", "giua_nam", "TH")
    assert f["message"].startswith(
        "Chỉ tiêu hs_tong đã báo cáo là 2 nhưng CSDL ngành có 1 học sinh"
    )


def test_source_rooms_sum_the_counts(hits):
    rooms = [
        {"school_code": "S1", "school_year": YEAR, "room_type": "Phòng học", "count": 10},
        {"school_code": "S1", "school_year": YEAR, "room_type": "Phòng bộ môn", "count": 2},
    ]
    assert hits(p(rooms=rooms, source_counts=[src("rooms", 12)]), "source.count_mismatch") == []
    assert hits(p(rooms=rooms, source_counts=[src("rooms", 10)]), "source.count_mismatch") == [
        ("S1", "rooms", "10")
    ]
