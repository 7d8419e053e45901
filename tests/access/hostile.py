"""A province whose data attacks: names that are spreadsheet formulas (issue 19, finding 1)
and names that are Markdown or HTML (finding 3), built with soat.testing and the real
check runner.

    79 Sở ─┬─ 79760 "[bấm](http://evil.example/u)"  ─┬─ S1 "[bấm](http://evil.example/s)"
           │                                        └─ S5 '=HYPERLINK("http://evil.example","x")'
           ├─ 79761 "<b>đơn vị</b>"                 ─── S2 "<b>trường</b>"
           ├─ 79762 "*đơn vị*"                      ─── S3 "*trường*"
           └─ 79763 "$đơn vị$"                       ─── S4 "$trường$"

Every school has two students with a bad citizen ID (so every level of Sai lệch and every
chart shows it), a late student push and a missing staff push; S5's student has the
ethnicity `@SUM(1+1)*cmd|' /C calc'!A0` and its last push failed with `+cmd|…`.
"""

from __future__ import annotations

import datetime as dt

from soat import testing as T

FORMULA_SCHOOL = '=HYPERLINK("http://evil.example/x","bấm vào đây")'
FORMULA_ETHNICITY = "@SUM(1+1)*cmd|' /C calc'!A0"
FORMULA_ERROR = "+cmd|' /C calc'!A0"
FORMULA_UNIT = "-2+3+cmd|' /C calc'!A0"
FORMULA_NOTE = "=1+2"
FORMULAS = (FORMULA_SCHOOL, FORMULA_ETHNICITY, FORMULA_ERROR, FORMULA_UNIT)

LINK_S = "[bấm](http://evil.example/s)"
LINK_U = "[bấm](http://evil.example/u)"
MARKUP_SCHOOLS = {"S1": LINK_S, "S2": "<b>trường</b>", "S3": "*trường*", "S4": "$trường$"}
MARKUP_UNITS = {"79760": LINK_U, "79761": "<b>đơn vị</b>", "79762": "*đơn vị*", "79763": "$đơn vị$"}
MARKUP = (*MARKUP_SCHOOLS.values(), *MARKUP_UNITS.values())
SCHOOL_UNIT = {"S1": "79760", "S2": "79761", "S3": "79762", "S4": "79763", "S5": "79760"}
NAMES = {**MARKUP_SCHOOLS, "S5": FORMULA_SCHOOL}
REFERENCE = "[công văn](http://evil.example/cv)"


def tables() -> dict[str, list[dict]]:
    units = [T.province_unit()] + [
        T.unit(unit_code=code, unit_name=name) for code, name in MARKUP_UNITS.items()
    ]
    units.append(
        T.unit(unit_code="79769", unit_name=FORMULA_UNIT, parent_code="79")
    )  # a unit with no school: named in the units table only
    schools = [
        T.school(
            school_code=code,
            school_name=NAMES[code],
            unit_code=unit,
            principal=LINK_S if code == "S2" else "Nguyễn Văn An",
        )
        for code, unit in SCHOOL_UNIT.items()
    ]
    classes, students, staff, submissions = [], [], [], []
    for i, code in enumerate(SCHOOL_UNIT, start=1):
        classes.append(
            T.klass(
                class_code=f"1A{i}",
                school_code=code,
                homeroom_code=f"GV{i}",
                declared_size=2,
            )
        )
        for j in range(2):
            students.append(
                T.student(
                    student_code=f"HS{i}{j}",
                    school_code=code,
                    class_code=f"1A{i}",
                    citizen_id=f"07931800{i}{j}",  # 10 digits: student.id_format
                    ethnicity=FORMULA_ETHNICITY if code == "S5" and j == 0 else "Kinh",
                )
            )
        staff.append(
            T.staff_member(staff_code=f"GV{i}", school_code=code, citizen_id=f"0790850004{i}{i}")
        )
        submissions.append(
            {
                "school_code": code,
                "school_year": T.YEAR,
                "period": "dau_nam",
                "data_type": "students",
                "pushed_at": dt.datetime(2024, 10, 5, 9),  # due 30/09: late
                "result": "Thành công",
                "error": None,
                "target": "Sở",
            }
        )
        submissions.append(
            {
                "school_code": code,
                "school_year": T.YEAR,
                "period": "dau_nam",
                "data_type": "staff",
                "pushed_at": dt.datetime(2024, 9, 26, 9),
                "result": "Thất bại",
                "error": FORMULA_ERROR if code == "S5" else "Sai cấu trúc",
                "target": "Sở",
            }
        )
    deadlines = [
        {
            "school_year": T.YEAR,
            "period": period,
            "level": None,
            "data_type": data_type,
            "target": "Sở",
            "due_date": due,
            "lock_date": None,
            "reference": REFERENCE,
        }
        for period, data_type, due in (
            ("dau_nam", "students", dt.date(2024, 9, 30)),
            ("dau_nam", "staff", dt.date(2024, 9, 30)),
            ("giua_nam", "students", dt.date(2025, 1, 15)),  # upcoming (Tổng quan's table)
        )
    ]
    return {
        "units": units,
        "schools": schools,
        "classes": classes,
        "students": students,
        "staff": staff,
        "deadlines": deadlines,
        "submissions": submissions,
    }


def build(con, snapshots: int = 1) -> int:
    """The hostile province, checked, `snapshots` times (Xu hướng and `soat changes` need
    two); returns the last snapshot id."""
    sid = 0
    for _ in range(snapshots):
        sid = T.run(con, tables(), name=LINK_S)
        con.execute(
            "UPDATE snapshots SET checked_at = coalesce(checked_at, now()) WHERE snapshot_id = $s",
            {"s": sid},
        )
    return sid


def build_file(path: str, snapshots: int = 1) -> int:
    from soat import store

    con = store.connect(path)
    try:
        return build(con, snapshots)
    finally:
        con.close()
