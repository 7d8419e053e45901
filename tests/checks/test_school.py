"""School checks: each fires on a minimal record and stays silent on a near miss."""

from __future__ import annotations

import pytest

from soat.testing import klass, school, staff_member, student, valid_province


def p(**kw):
    return valid_province(**kw)


def peers(ratios: list[int], levels=("TH",)) -> dict:
    """One school per ratio: one teacher (plus one non-teacher) and that many students."""
    schools, classes, students, staff = [], [], [], []
    for i, n in enumerate(ratios, start=1):
        code = f"S{i}"
        schools.append(school(school_code=code, school_name=f"Trường {i}", levels=list(levels)))
        classes.append(klass(school_code=code, declared_size=n))
        staff.append(staff_member(school_code=code, staff_code=f"GV{i}", citizen_id=None))
        staff.append(
            staff_member(
                school_code=code,
                staff_code=f"NV{i}",
                citizen_id=None,
                position="Nhân viên",
                subject=None,
            )
        )
        students += [
            student(school_code=code, student_code=f"HS{i}-{k}", citizen_id=None) for k in range(n)
        ]
    return p(schools=schools, classes=classes, students=students, staff=staff)


FIRES = [
    ("school.missing_field", p(schools=[school(principal=None)]), [("S1", "principal", None)]),
    (
        "school.missing_field",
        p(schools=[school(levels=[], levels_raw="Tiểu hoc")]),
        [("S1", "levels", "Tiểu hoc")],
    ),
    ("school.unit_unknown", p(schools=[school(unit_code="79999")]), [("S1", "unit_code", "79999")]),
    ("school.no_records", p(students=[]), [("S1", "students", None)]),
    ("school.no_records", p(staff=[staff_member(status="Nghỉ hưu")]), [("S1", "staff", None)]),
    ("school.ptr_outlier", peers([10, 11, 12, 13, 40]), [("S5", None, "40.0")]),
    (
        "school.ptr_outlier",
        peers([10, 11, 12, 13, 40], levels=("TH", "THCS")),
        [("S5", None, "40.0")],
    ),
]

NEAR_MISSES = [
    ("school.missing_field", p(schools=[school(principal=None, status="Giải thể")])),
    ("school.unit_unknown", p(schools=[school(unit_code="79760")])),
    ("school.unit_unknown", p(schools=[school(unit_code=None)])),
    ("school.no_records", p(schools=[school(status="Sáp nhập")], students=[])),
    ("school.ptr_outlier", peers([10, 11, 12, 13, 17])),
]


@pytest.mark.parametrize(("check_id", "tables", "expected"), FIRES, ids=[c[0] for c in FIRES])
def test_fires(hits, check_id, tables, expected):
    assert hits(tables, check_id) == expected


@pytest.mark.parametrize(("check_id", "tables"), NEAR_MISSES, ids=[c[0] for c in NEAR_MISSES])
def test_near_miss(hits, check_id, tables):
    assert hits(tables, check_id) == []


def test_ptr_outlier_levels(all_findings):
    single = [
        f
        for f in all_findings(peers([10, 11, 12, 13, 40]))
        if f["check_id"] == "school.ptr_outlier"
    ]
    multi = [
        f
        for f in all_findings(peers([10, 11, 12, 13, 40], levels=("TH", "THCS")))
        if f["check_id"] == "school.ptr_outlier"
    ]
    assert [f["level"] for f in single] == ["TH"]
    assert [f["level"] for f in multi] == [None]  # school-wide: staff have no level


def test_ptr_outlier_compares_only_same_level_sets(hits):
    # four TH schools around 12 and one TH&THCS school at 40: different peer groups.
    tables = peers([10, 11, 12, 13, 40])
    tables["schools"][4]["levels"] = ["TH", "THCS"]
    assert hits(tables, "school.ptr_outlier") == []
