"""Student checks: each fires on a minimal record and stays silent on a near miss."""

from __future__ import annotations

import datetime as dt

import pytest

from soat.testing import klass, school, student, valid_province

D = dt.date


def p(**kw):
    return valid_province(**kw)


def two_schools(students):
    return p(
        schools=[school(), school(school_code="S2", school_name="Trường Tiểu học Lê Lai")],
        classes=[klass(), klass(school_code="S2")],
        students=students,
    )


FIRES = [
    (
        "student.missing_field",
        p(students=[student(full_name=None, citizen_id=None)]),
        [("HS1", "citizen_id", None), ("HS1", "full_name", None)],
    ),
    (
        "student.missing_field",
        p(students=[student(birth_date=None, birth_date_raw=None)]),
        [("HS1", "birth_date", None)],
    ),
    ("student.invalid_value", p(students=[student(gender="Nu")]), [("HS1", "gender", "Nu")]),
    (
        "student.invalid_value",
        p(students=[student(status="Dang hoc", ethnicity="Kinhh")]),
        [("HS1", "ethnicity", "Kinhh"), ("HS1", "status", "Dang hoc")],
    ),
    (
        "student.dob_invalid",
        p(students=[student(birth_date=None, birth_date_raw="31/02/2018")]),
        [("HS1", "birth_date", "31/02/2018")],
    ),
    (
        "student.dob_invalid",
        p(students=[student(birth_date=D(2025, 1, 1))]),
        [("HS1", "birth_date", "01/01/2025")],
    ),
    (
        "student.dob_invalid",
        p(students=[student(birth_date=D(1993, 12, 31))]),
        [("HS1", "birth_date", "31/12/1993")],
    ),
    (
        "student.id_format",
        p(students=[student(citizen_id="07931800012")]),
        [("HS1", "citizen_id", "07931800012")],
    ),
    (
        "student.id_province",
        p(students=[student(citizen_id="003318000123")]),
        [("HS1", "citizen_id", "003318000123")],
    ),
    (
        "student.id_mismatch",
        p(students=[student(citizen_id="079218000123")]),
        [("HS1", "citizen_id", "079218000123")],
    ),
    (
        "student.id_mismatch",
        p(students=[student(citizen_id="079319000123")]),
        [("HS1", "citizen_id", "079319000123")],
    ),
    (
        "student.unverified",
        p(students=[student(id_verified="Chưa xác thực")]),
        [("HS1", "id_verified", "Chưa xác thực")],
    ),
    ("student.unverified", p(students=[student(id_verified=None)]), [("HS1", "id_verified", None)]),
    (
        "student.duplicate_id",
        two_schools([student(), student(student_code="HS2", school_code="S2")]),
        [("HS1", "citizen_id", "079318000123"), ("HS2", "citizen_id", "079318000123")],
    ),
    (
        "student.duplicate_code",
        p(students=[student(), student(citizen_id="079318000999")]),
        [("HS1", "student_code", "HS1"), ("HS1", "student_code", "HS1")],
    ),
    (
        "student.age_grade",
        p(students=[student(birth_date=D(2014, 3, 2))]),
        [("HS1", "birth_date", "02/03/2014")],
    ),
    (
        "student.age_grade",
        p(students=[student(birth_date=D(2019, 1, 1))]),
        [("HS1", "birth_date", "01/01/2019")],
    ),
    (
        "student.age_grade",  # with dob_invalid too: the spec does not exclude it
        p(students=[student(birth_date=D(1990, 1, 1))]),
        [("HS1", "birth_date", "01/01/1990")],
    ),
    (
        "student.class_unknown",
        p(students=[student(class_code="1B")]),
        [("HS1", "class_code", "1B")],
    ),
    (
        "student.class_unknown",
        p(classes=[klass(school_year="2023-2024")], students=[student()]),
        [("HS1", "class_code", "1A")],
    ),
    (
        "student.school_unknown",
        p(students=[student(school_code="S9")]),
        [("HS1", "school_code", "S9")],
    ),
]

NEAR_MISSES = [
    ("student.missing_field", p(students=[student(birth_date=None, birth_date_raw="31/02/2018")])),
    ("student.invalid_value", p(students=[student(gender="Nữ", ethnicity="Ê Đê")])),
    ("student.dob_invalid", p(students=[student(birth_date=D(1994, 1, 1), class_code="1A")])),
    ("student.dob_invalid", p(students=[student(birth_date=D(2024, 10, 15))])),
    ("student.id_format", p(students=[student(citizen_id=None)])),
    ("student.id_province", p(students=[student(citizen_id="001318000123")])),
    ("student.id_province", p(students=[student(citizen_id="07931800012")])),
    (
        "student.id_mismatch",
        p(students=[student(citizen_id="079317000123", birth_date=D(2017, 12, 31))]),
    ),
    ("student.id_mismatch", p(students=[student(citizen_id="003218000123")])),
    ("student.unverified", p(students=[student(id_verified="Đã xác thực")])),
    (
        "student.duplicate_id",
        two_schools([student(), student(student_code="HS2", school_code="S2", status="Chuyển đi")]),
    ),
    (
        "student.duplicate_code",
        p(students=[student(), student(school_year="2023-2024", citizen_id="079318000999")]),
    ),
    ("student.age_grade", p(students=[student(birth_date=D(2015, 1, 1))])),
    ("student.age_grade", p(students=[student(birth_date=D(2018, 12, 31))])),
    (
        "student.age_grade",
        p(classes=[klass(grade="NT")], students=[student(birth_date=D(2021, 1, 1))]),
    ),
    ("student.class_unknown", p(students=[student(class_code=None)])),
    ("student.school_unknown", p(schools=[school(status="Giải thể")])),
]


@pytest.mark.parametrize(("check_id", "tables", "expected"), FIRES, ids=[c[0] for c in FIRES])
def test_fires(hits, check_id, tables, expected):
    assert hits(tables, check_id) == expected


@pytest.mark.parametrize(("check_id", "tables"), NEAR_MISSES, ids=[c[0] for c in NEAR_MISSES])
def test_near_miss(hits, check_id, tables):
    assert hits(tables, check_id) == []


def test_valid_province_fires_nothing(all_findings):
    assert all_findings(valid_province()) == []


def test_id_format_message_counts_digits(all_findings):
    (f,) = all_findings(p(students=[student(citizen_id="07931800012")]))
    assert f["check_id"] == "student.id_format"
    assert f["severity"] == "error" and f["level"] == "TH" and f["unit_code"] == "79760"
    assert "11 ký tự" in f["message"] and "12 chữ số" in f["message"]


def test_missing_field_message_names_the_field_in_vietnamese(all_findings):
    fs = all_findings(p(students=[student(full_name=None)]))
    assert [f["message"] for f in fs] == [
        "Thiếu Họ và tên; hãy nhập đầy đủ trong phần mềm QLNT rồi đồng bộ lại"
    ]


def test_id_mismatch_detail_explains(all_findings):
    fs = all_findings(p(students=[student(citizen_id="079219000123")]))
    (f,) = [f for f in fs if f["check_id"] == "student.id_mismatch"]
    assert "giới tính là Nữ" in f["message"] and "năm sinh là 2018" in f["message"]


def test_age_grade_detail(all_findings):
    fs = all_findings(p(students=[student(birth_date=D(2014, 3, 2))]))
    (f,) = [f for f in fs if f["check_id"] == "student.age_grade"]
    assert f["severity"] == "warning"
    assert "10 tuổi, khối 1 cần từ 6 đến 9 tuổi" in f["message"]


def test_student_level_comes_from_the_class_grade(all_findings):
    tables = p(
        schools=[school(levels=["TH", "THCS"])],
        classes=[klass(), klass(class_code="6A", grade="6")],
        students=[
            student(),
            student(
                student_code="HS2",
                class_code="6A",
                citizen_id="079312000111",
                birth_date=D(2012, 1, 1),
                gender="Nam",
                id_verified=None,
            ),
        ],
    )
    fs = [f for f in all_findings(tables) if f["check_id"] == "student.unverified"]
    assert [(f["record_key"], f["level"]) for f in fs] == [("HS2", "THCS")]
