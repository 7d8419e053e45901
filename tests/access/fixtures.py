"""A tiny two-district province for scope tests (built with soat.testing).

    79 Sở
    ├── 79760 Quận 1 (district A)
    │   ├── S1  TH
    │   ├── S4  TH + THCS
    │   └── 26734 Phường Bến Nghé (commune under A)
    │       └── S3  THCS
    └── 79761 Quận 3 (district B)
        └── S2  TH

Findings (one per school and level, plus school-wide rows) and submission_status rows are
inserted directly; personal values use citizen_id / birth_date / permanent_address.
"""

from __future__ import annotations

import datetime as dt

from soat import testing as T

SCHOOL_UNIT = {"S1": "79760", "S2": "79761", "S3": "26734", "S4": "79760"}
SCHOOL_LEVELS = {"S1": ["TH"], "S2": ["TH"], "S3": ["THCS"], "S4": ["TH", "THCS"]}
DISTRICT_A = {"S1", "S3", "S4"}
DISTRICT_B = {"S2"}
CITIZEN_ID = "079318000123"


def province_tables() -> dict[str, list[dict]]:
    units = [
        T.province_unit(),
        T.unit(),
        T.unit(unit_code="79761", unit_name="Phòng GD&ĐT Quận 3"),
        T.unit(
            unit_code="26734", unit_name="UBND Phường Bến Nghé", unit_tier="Xã", parent_code="79760"
        ),
    ]
    schools = [
        T.school(
            school_code=code,
            school_name=f"Trường {code}",
            unit_code=unit,
            levels=SCHOOL_LEVELS[code],
        )
        for code, unit in SCHOOL_UNIT.items()
    ]
    students = [
        T.student(student_code=f"HS_{code}", school_code=code, citizen_id=CITIZEN_ID)
        for code in SCHOOL_UNIT
    ]
    return {"units": units, "schools": schools, "students": students}


def build(con) -> int:
    sid = T.build_snapshot(con, province_tables())
    for code, unit in SCHOOL_UNIT.items():
        for level in [*SCHOOL_LEVELS[code], None]:
            for field, value in (
                ("citizen_id", CITIZEN_ID),
                ("birth_date", "02/03/2018"),
                ("permanent_address", "12 Lê Lợi"),
                ("class_code", "1A"),
            ):
                con.execute(
                    """INSERT INTO findings VALUES ($s, 'student.x', 'error', 'student', $rk, $code,
                       $unit, $level, $field, $value, 'msg', NULL)""",
                    {
                        "s": sid,
                        "rk": f"HS_{code}",
                        "code": code,
                        "unit": unit,
                        "level": level,
                        "field": field,
                        "value": value,
                    },
                )
        for level in SCHOOL_LEVELS[code]:
            con.execute(
                """INSERT INTO submission_status (snapshot_id, school_code, unit_code, level,
                   school_year, period, data_type, target, due_date, status, days_late)
                   VALUES ($s, $code, $unit, $level, '2024-2025', 'Đầu năm', 'Học sinh', 'Bộ',
                   $due, 'late', 3)""",
                {
                    "s": sid,
                    "code": code,
                    "unit": unit,
                    "level": level,
                    "due": dt.date(2024, 10, 10),
                },
            )
    con.execute("UPDATE snapshots SET checked_at = now() WHERE snapshot_id = $s", {"s": sid})
    return sid
