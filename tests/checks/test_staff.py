"""Staff checks: each fires on a minimal record and stays silent on a near miss."""

from __future__ import annotations

import datetime as dt

import pytest

from soat.testing import klass, school, staff_member, valid_province

D = dt.date


def p(**kw):
    return valid_province(**kw)


def two_schools(staff):
    return p(
        schools=[school(), school(school_code="S2", school_name="Trường Tiểu học Lê Lai")],
        classes=[klass(), klass(school_code="S2")],
        staff=staff,
    )


FIRES = [
    ("staff.missing_field", p(staff=[staff_member(subject=None)]), [("GV1", "subject", None)]),
    (
        "staff.missing_field",
        p(staff=[staff_member(qualification=None, permanent_address=" ")]),
        [("GV1", "permanent_address", None), ("GV1", "qualification", None)],
    ),
    ("staff.invalid_value", p(staff=[staff_member(contract="HĐ")]), [("GV1", "contract", "HĐ")]),
    (
        "staff.invalid_value",
        p(staff=[staff_member(qualification="Cử nhân", position="GV")]),
        [("GV1", "position", "GV"), ("GV1", "qualification", "Cử nhân")],
    ),
    (
        "staff.dob_invalid",
        p(staff=[staff_member(birth_date=D(2007, 1, 1))]),
        [("GV1", "birth_date", "01/01/2007")],
    ),
    (
        "staff.dob_invalid",
        p(staff=[staff_member(birth_date=D(1948, 1, 1), contract="Thỉnh giảng")]),
        [("GV1", "birth_date", "01/01/1948")],
    ),
    (
        "staff.dob_invalid",
        p(staff=[staff_member(birth_date=None, birth_date_raw="1985/20/05")]),
        [("GV1", "birth_date", "1985/20/05")],
    ),
    (
        "staff.id_format",
        p(staff=[staff_member(citizen_id="07908500045X")]),
        [("GV1", "citizen_id", "07908500045X")],
    ),
    (
        "staff.id_province",
        p(staff=[staff_member(citizen_id="100085000456")]),
        [("GV1", "citizen_id", "100085000456")],
    ),
    (
        "staff.id_mismatch",
        p(staff=[staff_member(citizen_id="079185000456")]),
        [("GV1", "citizen_id", "079185000456")],
    ),
    (
        "staff.id_mismatch",
        p(staff=[staff_member(citizen_id="079285000456")]),
        [("GV1", "citizen_id", "079285000456")],
    ),
    (
        "staff.unverified",
        p(staff=[staff_member(id_verified="Sai thông tin")]),
        [("GV1", "id_verified", "Sai thông tin")],
    ),
    (
        "staff.duplicate_code",
        p(staff=[staff_member(), staff_member(citizen_id="079085000999")]),
        [("GV1", "staff_code", "GV1"), ("GV1", "staff_code", "GV1")],
    ),
    (
        "staff.duplicate_payroll",
        two_schools([staff_member(), staff_member(staff_code="GV2", school_code="S2")]),
        [("GV1", "citizen_id", "079085000456"), ("GV2", "citizen_id", "079085000456")],
    ),
    # Decree 135/2020: a man born 15/10/1963 reaches 61 (the 2024 age) on 15/10/2024 = as-of.
    (
        "staff.retired_on_payroll",
        p(staff=[staff_member(birth_date=D(1963, 10, 15), citizen_id="079063000456")]),
        [("GV1", "contract", "Biên chế")],
    ),
    # a woman born 01/05/1968 reaches 56y4m (the 2024 age) on 01/09/2024.
    (
        "staff.retired_on_payroll",
        p(
            staff=[
                staff_member(
                    birth_date=D(1968, 5, 1),
                    gender="Nữ",
                    citizen_id="079168000456",
                    contract="Hợp đồng lao động",
                )
            ]
        ),
        [("GV1", "contract", "Hợp đồng lao động")],
    ),
    (
        "staff.school_unknown",
        p(staff=[staff_member(school_code="S9")]),
        [("GV1", "school_code", "S9")],
    ),
]

NEAR_MISSES = [
    ("staff.missing_field", p(staff=[staff_member(position="Nhân viên", subject=None)])),
    ("staff.invalid_value", p(staff=[staff_member(contract="Hợp đồng lao động")])),
    ("staff.dob_invalid", p(staff=[staff_member(birth_date=D(2006, 12, 31))])),
    (
        "staff.dob_invalid",
        p(staff=[staff_member(birth_date=D(1949, 1, 1), contract="Thỉnh giảng")]),
    ),
    ("staff.id_format", p(staff=[staff_member(citizen_id="079085000456")])),
    ("staff.id_province", p(staff=[staff_member(citizen_id="096085000456")])),
    ("staff.id_mismatch", p(staff=[staff_member(citizen_id="079085000456")])),
    ("staff.unverified", p(staff=[staff_member(id_verified="Đã xác thực")])),
    (
        "staff.duplicate_code",
        p(staff=[staff_member(), staff_member(status="Nghỉ hưu", citizen_id="079085000999")]),
    ),
    (
        "staff.duplicate_payroll",
        two_schools(
            [
                staff_member(),
                staff_member(staff_code="GV2", school_code="S2", contract="Thỉnh giảng"),
            ]
        ),
    ),
    ("staff.duplicate_payroll", p(staff=[staff_member(), staff_member(staff_code="GV2")])),
    (
        "staff.retired_on_payroll",
        p(staff=[staff_member(birth_date=D(1963, 10, 16), citizen_id="079063000456")]),
    ),
    (
        "staff.retired_on_payroll",
        p(staff=[staff_member(birth_date=D(1968, 7, 1), gender="Nữ", citizen_id="079168000456")]),
    ),
    (
        "staff.retired_on_payroll",
        p(
            staff=[
                staff_member(
                    birth_date=D(1950, 1, 1), citizen_id="079050000456", contract="Thỉnh giảng"
                )
            ]
        ),
    ),
    ("staff.school_unknown", p(staff=[staff_member(school_code="S1")])),
]


@pytest.mark.parametrize(("check_id", "tables", "expected"), FIRES, ids=[c[0] for c in FIRES])
def test_fires(hits, check_id, tables, expected):
    assert hits(tables, check_id) == expected


@pytest.mark.parametrize(("check_id", "tables"), NEAR_MISSES, ids=[c[0] for c in NEAR_MISSES])
def test_near_miss(hits, check_id, tables):
    assert hits(tables, check_id) == []


def test_retirement_message_names_the_age(all_findings):
    fs = all_findings(
        p(staff=[staff_member(birth_date=D(1963, 10, 15), citizen_id="079063000456")])
    )
    (f,) = [f for f in fs if f["check_id"] == "staff.retired_on_payroll"]
    assert f["severity"] == "warning"
    assert "61 tuổi, từ tháng 10/2024" in f["message"]


@pytest.mark.parametrize(
    ("gender", "born", "as_of", "fires"),
    [
        ("Nam", D(1961, 1, 10), D(2021, 4, 10), True),  # 60y3m in 2021
        ("Nam", D(1961, 1, 10), D(2021, 4, 9), False),
        ("Nam", D(1961, 10, 10), D(2022, 4, 10), True),  # 60y6m in 2022 (60y3m would be 2022)
        ("Nam", D(1961, 10, 10), D(2022, 4, 9), False),
        ("Nam", D(1966, 6, 1), D(2028, 6, 1), True),  # 62 from 2028
        ("Nam", D(1966, 6, 1), D(2028, 5, 31), False),
        ("Nữ", D(1966, 1, 1), D(2021, 5, 1), True),  # 55y4m in 2021
        ("Nữ", D(1966, 1, 1), D(2021, 4, 30), False),
        ("Nữ", D(1980, 3, 1), D(2040, 3, 1), True),  # 60 from 2035
        ("Nữ", D(1980, 3, 1), D(2040, 2, 29), False),
        ("Nam", D(1959, 6, 1), D(2019, 6, 1), True),  # before 2021: 60
    ],
)
def test_retirement_age_by_decree_135(hits, gender, born, as_of, fires):
    tables = p(staff=[staff_member(gender=gender, birth_date=born, citizen_id=None)])
    got = hits(
        tables,
        "staff.retired_on_payroll",
        as_of=as_of,
        school_year=f"{as_of.year}-{as_of.year + 1}",
    )
    assert bool(got) is fires
