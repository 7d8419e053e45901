"""Class checks: each fires on a minimal record and stays silent on a near miss."""

from __future__ import annotations

import datetime as dt

import pytest

from soat.testing import klass, school, staff_member, student, valid_province

D = dt.date


def p(**kw):
    return valid_province(**kw)


def peers(sizes: list[int], level_grade: str = "1") -> dict:
    """One school per size, each with one class of that many students and one teacher."""
    schools, classes, students, staff = [], [], [], []
    for i, n in enumerate(sizes, start=1):
        code = f"S{i}"
        schools.append(school(school_code=code, school_name=f"Trường {i}"))
        classes.append(klass(school_code=code, grade=level_grade, declared_size=n))
        staff.append(staff_member(school_code=code, staff_code=f"GV{i}", citizen_id=None))
        students += [
            student(school_code=code, student_code=f"HS{i}-{k}", citizen_id=None) for k in range(n)
        ]
    return p(schools=schools, classes=classes, students=students, staff=staff)


FIRES = [
    (
        "class.missing_field",
        p(classes=[klass(homeroom_code=None)]),
        [("1A", "homeroom_code", None)],
    ),
    (
        "class.missing_field",
        p(
            classes=[klass(grade="3", language_programme=None, language_periods=None)],
            students=[student(birth_date=D(2016, 1, 1))],
        ),
        [("1A", "language_periods", None), ("1A", "language_programme", None)],
    ),
    (
        "class.missing_field",
        p(classes=[klass(declared_size=None, declared_size_raw="ba mươi")]),
        [("1A", "declared_size", "ba mươi")],
    ),
    (
        "class.homeroom_unknown",
        p(classes=[klass(homeroom_code="GV9")]),
        [("1A", "homeroom_code", "GV9")],
    ),
    (
        "class.homeroom_unknown",
        p(staff=[staff_member(status="Nghỉ việc")]),
        [("1A", "homeroom_code", "GV1")],
    ),
    ("class.size_mismatch", p(classes=[klass(declared_size=30)]), [("1A", "declared_size", "30")]),
    ("class.grade_level", p(classes=[klass(grade="6")]), [("1A", "grade", "6")]),
    ("class.grade_level", p(classes=[klass(grade="Lớp Một")]), [("1A", "grade", "Lớp Một")]),
    (
        "class.empty",
        p(classes=[klass(), klass(class_code="1B", class_name="1B")]),
        [("1B", "class_code", "1B")],
    ),
    ("class.size_outlier", peers([10, 11, 12, 13, 40]), [("S5", None, "40.0")]),
]

NEAR_MISSES = [
    (
        "class.missing_field",
        p(
            classes=[klass(grade="2", language_programme=None, language_periods=None)],
            students=[student(birth_date=D(2017, 1, 1))],
        ),
    ),
    ("class.homeroom_unknown", p(classes=[klass(homeroom_code="GV1")])),
    ("class.homeroom_unknown", p(classes=[klass(homeroom_code=None)])),
    ("class.size_mismatch", p(classes=[klass(declared_size=1)])),
    (
        "class.size_mismatch",
        p(students=[student(), student(student_code="HS2", status="Thôi học")]),
    ),
    ("class.grade_level", p(classes=[klass(grade="5")])),
    ("class.grade_level", p(schools=[school(levels=["GDTX"])], classes=[klass(grade="10")])),
    ("class.empty", p(classes=[klass()])),
    ("class.size_outlier", peers([10, 11, 12, 13, 17])),
    ("class.size_outlier", peers([12, 12, 12, 12, 40])),  # MAD = 0: no outlier
]


@pytest.mark.parametrize(("check_id", "tables", "expected"), FIRES, ids=[c[0] for c in FIRES])
def test_fires(hits, check_id, tables, expected):
    assert hits(tables, check_id) == expected


@pytest.mark.parametrize(("check_id", "tables"), NEAR_MISSES, ids=[c[0] for c in NEAR_MISSES])
def test_near_miss(hits, check_id, tables):
    assert hits(tables, check_id) == []


def test_size_mismatch_detail_is_the_count(all_findings):
    fs = all_findings(p(classes=[klass(declared_size=30)]))
    (f,) = [f for f in fs if f["check_id"] == "class.size_mismatch"]
    assert f["message"].startswith("Sĩ số khai báo là 30 nhưng có 1 học sinh đang học")
    assert f["level"] == "TH"


def test_size_outlier_is_a_school_level_warning(all_findings):
    fs = all_findings(peers([10, 11, 12, 13, 40]))
    (f,) = [f for f in fs if f["check_id"] == "class.size_outlier"]
    assert (f["severity"], f["school_code"], f["level"]) == ("warning", "S5", "TH")
    assert "trung vị 12.0" in f["message"]
