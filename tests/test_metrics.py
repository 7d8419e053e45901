"""Metrics per school x level and the roll-ups, with figures computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from soat.db import dicts
from soat.testing import (
    YEAR,
    klass,
    province_unit,
    run,
    school,
    staff_member,
    student,
    unit,
)

D = dt.date


def three_tiers() -> dict:
    """Province 79 > district 79760 > commune 7976001; district 79761.

    S1 (TH, district 79760): one clean class, student, teacher.
    S2 (TH&THCS, commune 7976001): 1A with HS2 (clean), 6A with HS3 (no citizen ID,
        unverified: 2 error findings at THCS); GV2 teacher with Cao đẳng, NV3 clerk.
    S3 (MN, district 79761): one MG5 group, HS4, GV4 teacher with Cao đẳng.
    """
    return {
        "units": [
            province_unit(),
            unit(),
            unit(
                unit_code="7976001",
                unit_name="Phường Bến Nghé",
                unit_tier="Xã",
                parent_code="79760",
            ),
            unit(unit_code="79761", unit_name="Phòng GD&ĐT Quận 2"),
        ],
        "schools": [
            school(),
            school(
                school_code="S2",
                school_name="Trường TH&THCS Lê Lai",
                unit_code="7976001",
                levels=["TH", "THCS"],
            ),
            school(
                school_code="S3",
                school_name="Trường Mầm non Hoa Sen",
                unit_code="79761",
                levels=["MN"],
            ),
        ],
        "classes": [
            klass(),
            klass(school_code="S2", homeroom_code="GV2"),
            klass(
                school_code="S2", class_code="6A", class_name="6A", grade="6", homeroom_code="GV2"
            ),
            klass(
                school_code="S3",
                class_code="L1",
                class_name="Lá 1",
                grade="MG5",
                homeroom_code="GV4",
                language_programme=None,
                language_periods=None,
            ),
        ],
        "students": [
            student(),
            student(student_code="HS2", school_code="S2", citizen_id="079318000124"),
            student(
                student_code="HS3",
                school_code="S2",
                class_code="6A",
                gender="Nam",
                birth_date=D(2012, 1, 1),
                citizen_id=None,
                id_verified=None,
            ),
            student(
                student_code="HS4",
                school_code="S3",
                class_code="L1",
                birth_date=D(2019, 1, 1),
                citizen_id="079319000125",
            ),
        ],
        "staff": [
            staff_member(),
            staff_member(
                staff_code="GV2",
                school_code="S2",
                citizen_id="079085000457",
                qualification="Cao đẳng",
            ),
            staff_member(
                staff_code="NV3",
                school_code="S2",
                citizen_id="079085000458",
                position="Nhân viên",
                subject=None,
            ),
            staff_member(
                staff_code="GV4",
                school_code="S3",
                citizen_id="079190000459",
                gender="Nữ",
                birth_date=D(1990, 1, 1),
                qualification="Cao đẳng",
            ),
        ],
    }


@pytest.fixture
def hier(con):
    sid = run(con, three_tiers())
    sl = {
        (r["school_code"], r["level"]): r
        for r in dicts(con, "SELECT * FROM metrics_school_level WHERE snapshot_id = $s", {"s": sid})
    }
    ru = {
        (r["grain"], r["unit_code"], r["level"]): r
        for r in dicts(con, "SELECT * FROM metrics_rollup WHERE snapshot_id = $s", {"s": sid})
    }
    return sid, sl, ru


def test_only_the_expected_findings(con, hier):
    sid, _, _ = hier
    rows = dicts(
        con,
        "SELECT check_id, record_key, level FROM findings WHERE snapshot_id = $s ORDER BY check_id",
        {"s": sid},
    )
    assert rows == [
        {"check_id": "student.missing_field", "record_key": "HS3", "level": "THCS"},
        {"check_id": "student.unverified", "record_key": "HS3", "level": "THCS"},
    ]


def test_one_row_per_school_and_level(hier):
    _, sl, _ = hier
    assert sorted(sl) == [("S1", "TH"), ("S2", "TH"), ("S2", "THCS"), ("S3", "MN")]


def test_school_level_figures(hier):
    _, sl, _ = hier
    th, thcs = sl[("S2", "TH")], sl[("S2", "THCS")]
    # staff have no level: both staff of S2 count in each of its level rows
    assert (th["students"], th["staff"], th["teachers"], th["classes"]) == (1, 2, 1, 1)
    assert (thcs["students"], thcs["staff"], thcs["teachers"], thcs["classes"]) == (1, 2, 1, 1)
    # TH: HS2 7/7, GV2 10/10, NV3 9/9, 1A 4/4, school 8/8
    assert (th["required_filled"], th["required_total"], th["completeness"]) == (38, 38, 1.0)
    # THCS: HS3 6/7, 6A 6/6 (NN1 fields from grade 3)
    assert (thcs["required_filled"], thcs["required_total"]) == (39, 40)
    assert thcs["completeness"] == pytest.approx(39 / 40)
    assert thcs["completeness_students"] == pytest.approx(6 / 7)
    assert thcs["completeness_classes"] == 1.0
    assert (th["errors"], thcs["errors"]) == (0, 2)
    assert (thcs["records"], thcs["valid_records"], thcs["validity"]) == (5, 4, 0.8)
    assert thcs["identity_verified"] == pytest.approx(2 / 3)
    assert (thcs["students_verified_rate"], thcs["staff_verified_rate"]) == (0.0, 1.0)
    # GV2 has Cao đẳng: below the TH/THCS standard; GV4 (Cao đẳng) meets the MN standard
    assert (th["teachers_standard"], th["teachers_standard_rate"]) == (0, 0.0)
    assert sl[("S3", "MN")]["teachers_standard_rate"] == 1.0
    assert (th["compliant"], thcs["compliant"], sl[("S1", "TH")]["compliant"]) == (
        True,
        False,
        True,
    )


def test_rollup_walks_the_three_tiers(hier):
    _, _, ru = hier
    prov = ru[("province", None, None)]
    assert (prov["schools"], prov["compliant_schools"]) == (3, 2)
    assert prov["compliance"] == pytest.approx(2 / 3)
    # distinct records: each staff member once
    assert (prov["students"], prov["staff"], prov["teachers"], prov["classes"]) == (4, 4, 3, 4)
    assert prov["errors"] == 2
    assert prov["completeness"] == pytest.approx(108 / 109)
    assert prov["validity"] == pytest.approx(14 / 15)
    assert prov["identity_verified"] == pytest.approx(7 / 8)
    assert prov["students_verified_rate"] == pytest.approx(3 / 4)
    # GV1 (Đại học, TH) meets, GV2 (Cao đẳng, TH&THCS) does not, GV4 (Cao đẳng, MN) meets
    assert prov["teachers_standard_rate"] == pytest.approx(2 / 3)
    assert ru[("unit", "79", None)]["schools"] == 3
    district = ru[("unit", "79760", None)]
    assert (district["schools"], district["students"], district["staff"]) == (2, 3, 3)
    assert district["compliance"] == 0.5
    commune = ru[("unit", "7976001", None)]
    assert (commune["schools"], commune["compliance"], commune["students"]) == (1, 0.0, 2)
    assert ru[("unit", "79761", None)]["schools"] == 1


def test_rollup_by_level(hier):
    _, _, ru = hier
    th = ru[("level", None, "TH")]
    assert (th["schools"], th["students"], th["staff"], th["errors"]) == (2, 2, 3, 0)
    assert th["compliance"] == 1.0
    thcs = ru[("level", None, "THCS")]
    assert (thcs["schools"], thcs["students"], thcs["compliance"]) == (1, 1, 0.0)
    assert ru[("unit_level", "79760", "THCS")]["errors"] == 2
    assert ru[("unit_level", "79", "MN")]["students"] == 1
    assert ("unit_level", "79761", "TH") not in ru


def test_denominators_zero(con):
    # an active school with only its profile: no students, staff, classes, deadlines
    sid = run(
        con,
        {
            "units": [province_unit(), unit()],
            "schools": [school()],
            "students": [],
            "staff": [],
            "classes": [],
        },
    )
    (row,) = dicts(con, "SELECT * FROM metrics_school_level WHERE snapshot_id = $s", {"s": sid})
    assert (row["students"], row["staff"], row["teachers"], row["classes"]) == (0, 0, 0, 0)
    assert row["identity_verified"] == 1.0
    assert row["students_verified_rate"] == row["staff_verified_rate"] == 1.0
    assert row["teachers_standard_rate"] == 1.0
    assert (row["expected"], row["reporting_rate"], row["on_time_rate"]) == (0, 1.0, 1.0)
    assert row["completeness"] == 1.0 and row["required_total"] == 8
    # school.no_records (students, staff) are error findings on the school record
    assert (row["errors"], row["records"], row["validity"], row["compliant"]) == (2, 1, 0.0, False)


def test_empty_snapshot_has_no_rows_and_rerun_is_idempotent(con):
    from soat.engine import run_checks

    sid = run(con, {"schools": []})
    assert dicts(con, "SELECT * FROM metrics_rollup WHERE snapshot_id = $s", {"s": sid}) == []
    sid2 = run(con, three_tiers())
    before = dicts(
        con, "SELECT count(*) AS n FROM metrics_rollup WHERE snapshot_id = $s", {"s": sid2}
    )
    run_checks(con, sid2)
    after = dicts(
        con, "SELECT count(*) AS n FROM metrics_rollup WHERE snapshot_id = $s", {"s": sid2}
    )
    assert before == after


def test_timeliness_and_compliance(con):
    tables = three_tiers()
    tables["schools"][1]["levels"] = ["TH"]  # single-level schools: one status each
    tables["classes"] = [c for c in tables["classes"] if c["class_code"] != "6A"]
    tables["students"] = [s for s in tables["students"] if s["student_code"] != "HS3"]
    tables["deadlines"] = [
        {
            "school_year": YEAR,
            "period": "dau_nam",
            "level": None,
            "data_type": "students",
            "target": "Sở",
            "due_date": D(2024, 9, 30),
            "lock_date": None,
            "unit_code": None,
            "school_code": None,
            "reference": "CV 1/SGDĐT",
        }
    ]
    push = {
        "school_year": YEAR,
        "period": "dau_nam",
        "data_type": "students",
        "result": "Thành công",
        "error": None,
        "target": "Sở",
    }
    tables["submissions"] = [
        {**push, "school_code": "S1", "pushed_at": dt.datetime(2024, 9, 20, 8, 0)},
        {**push, "school_code": "S2", "pushed_at": dt.datetime(2024, 10, 5, 8, 0)},
    ]
    sid = run(con, tables)
    sl = {
        r["school_code"]: r
        for r in dicts(con, "SELECT * FROM metrics_school_level WHERE snapshot_id = $s", {"s": sid})
    }
    assert (sl["S1"]["on_time"], sl["S2"]["late"], sl["S3"]["missing"]) == (1, 1, 1)
    assert sl["S2"]["median_days_late"] == 5
    assert (sl["S1"]["compliant"], sl["S2"]["compliant"], sl["S3"]["compliant"]) == (
        True,
        True,
        False,
    )
    (prov,) = dicts(
        con,
        "SELECT * FROM metrics_rollup WHERE snapshot_id = $s AND grain = 'province'",
        {"s": sid},
    )
    assert (prov["expected"], prov["submitted"], prov["on_time"], prov["missing"]) == (3, 2, 1, 1)
    assert prov["reporting_rate"] == pytest.approx(2 / 3)
    assert prov["on_time_rate"] == pytest.approx(1 / 3)
    assert prov["median_days_late"] == 5
    assert prov["compliance"] == pytest.approx(2 / 3)
