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
                       $unit, $level, $field, $value, 'msg', NULL, NULL, NULL)""",
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


# ---- a fuller province for test_scope_everywhere: the real runner over it --------------

# Strings that belong to district B only (school S2): none may reach an officer of A.
B_MARKERS = (
    "S2",
    "79761",
    "Quận 3",
    "HS_S2",
    "GV_S2",
    "079318000222",
    "079085000222",
    "0793180022",
)


def full_tables() -> dict[str, list[dict]]:
    t = province_tables()
    t["students"] = []
    t["classes"] = []
    t["staff"] = []
    for i, code in enumerate(SCHOOL_UNIT, start=1):
        level = SCHOOL_LEVELS[code][0]
        grade = "1" if level == "TH" else "6"
        t["classes"].append(
            T.klass(
                class_code=f"C_{code}",
                school_code=code,
                grade=grade,
                homeroom_code=f"GV_{code}",
                declared_size=2,
            )
        )
        cid = f"0793180002{i}{i}"  # S2 → 079318000222
        t["students"].append(
            T.student(
                student_code=f"HS_{code}",
                school_code=code,
                class_code=f"C_{code}",
                citizen_id=cid,
                birth_date=dt.date(2018 if level == "TH" else 2013, 3, 2),
            )
        )
        # a second student with a bad (10-digit) citizen ID, so there are record-level findings
        t["students"].append(
            T.student(
                student_code=f"HS_{code}_X",
                school_code=code,
                class_code=f"C_{code}",
                citizen_id=f"07931800{i}{i}",
                birth_date=dt.date(2018 if level == "TH" else 2013, 4, 2),
            )
        )
        t["staff"].append(
            T.staff_member(
                staff_code=f"GV_{code}", school_code=code, citizen_id=f"0790850002{i}{i}"
            )
        )
    t["deadlines"] = [
        {
            "school_year": T.YEAR,
            "period": "dau_nam",
            "level": None,
            "data_type": d,
            "target": "Sở",
            "due_date": dt.date(2024, 9, 30),
            "lock_date": dt.date(2024, 10, 10),
            "reference": "Công văn 123/SGDĐT",
        }
        for d in ("students", "staff")
    ]
    t["submissions"] = [
        {
            "school_code": code,
            "school_year": T.YEAR,
            "period": "dau_nam",
            "data_type": "students",
            "pushed_at": dt.datetime(2024, 10, 3, 9),
            "result": "Thành công",
            "error": None,
            "target": "Sở",
        }
        for code in SCHOOL_UNIT
    ]
    return t


def build_full(con) -> int:
    sid = T.run(con, full_tables())
    con.execute(
        "UPDATE snapshots SET checked_at = coalesce(checked_at, now()) WHERE snapshot_id = $s",
        {"s": sid},
    )
    return sid
