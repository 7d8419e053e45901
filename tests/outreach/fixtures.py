"""A small province for the outreach tests (letter, school sheets, digests), checked by the
real runner:

    79 Sở GD&ĐT TP Hồ Chí Minh ─┬─ S5 (THPT, directly under the Sở)   misses students
                                ├─ 79760 Phòng GD&ĐT Quận 1 ─┬─ S1 (TH)   students late 5 days, staff missing
                                │                            ├─ S2 (THCS) everything on time
                                │                            └─ 26734 UBND Phường Bến Nghé ── S3 (THCS) misses students
                                └─ 79761 Phòng GD&ĐT Quận 3 ─┬─ S4 (TH)   misses students; e-mail malformed
                                                             └─ S6 (TH)   clean: on time, no finding

Deadlines (as of 15/10/2024): start of year students and staff into the Sở by 30/09/2024
(Công văn 1732/SGDĐT-KHTC), students on to the Bộ by 05/10/2024 (no letter), mid-year
students by 15/01/2025 (pending). S1 and S4 each have two students with a 10-digit
citizen ID (student.id_format), S2 one.
"""

from __future__ import annotations

import datetime as dt

from soat import store
from soat import testing as T

AS_OF = dt.date(2024, 10, 15)
REFERENCE = "Công văn số 1732/SGDĐT-KHTC ngày 19/8/2024"
EMAILS = {
    "S1": "c1leloi@q1.edu.vn",
    "S3": "thcs.s3@q1.edu.vn; hieutruong.s3@q1.edu.vn",
    "S4": "khong-phai-dia-chi",
}
SCHOOLS = {  # code: (name, unit, levels)
    "S1": ("Trường Tiểu học Lê Lợi", "79760", ["TH"]),
    "S2": ("Trường THCS Nguyễn Du", "79760", ["THCS"]),
    "S3": ("Trường THCS Bến Nghé", "26734", ["THCS"]),
    "S4": ("Trường Tiểu học Kỳ Đồng", "79761", ["TH"]),
    "S5": ("Trường THPT Trưng Vương", "79", ["THPT"]),
    "S6": ("Trường Tiểu học Hòa Bình", "79761", ["TH"]),  # clean: nothing to fix
}
QUAN_1 = {"S1", "S2", "S3"}


def tables() -> dict[str, list[dict]]:
    units = [
        T.province_unit(),
        T.unit(unit_code="79760", unit_name="Phòng GD&ĐT Quận 1"),
        T.unit(unit_code="79761", unit_name="Phòng GD&ĐT Quận 3"),
        T.unit(
            unit_code="26734", unit_name="UBND Phường Bến Nghé", unit_tier="Xã", parent_code="79760"
        ),
    ]
    schools = [
        T.school(
            school_code=code,
            school_name=name,
            unit_code=unit,
            levels=levels,
            email=EMAILS.get(code),
        )
        for code, (name, unit, levels) in SCHOOLS.items()
    ]
    grade = {"TH": "1", "THCS": "6", "THPT": "10"}
    born = {"TH": 2018, "THCS": 2013, "THPT": 2009}
    classes, students, staff = [], [], []
    bad = {"S1": 2, "S4": 2, "S2": 1}
    for i, (code, (_, _, levels)) in enumerate(SCHOOLS.items(), start=1):
        lv = levels[0]
        n = 1 + bad.get(code, 0)
        classes.append(
            T.klass(
                class_code=f"C{i}",
                school_code=code,
                grade=grade[lv],
                homeroom_code=f"GV{i}",
                declared_size=n,
            )
        )
        for k in range(n):
            cid = f"0793{born[lv] % 100:02d}00{i}{k:03d}"[:12]
            if k >= 1:  # the bad ones: 10 digits, each its own
                cid = f"07931{i}{k:04d}"
            students.append(
                T.student(
                    student_code=f"HS{i}{k}",
                    school_code=code,
                    class_code=f"C{i}",
                    birth_date=dt.date(born[lv], 3, 2),
                    citizen_id=cid,
                )
            )
        staff.append(
            T.staff_member(staff_code=f"GV{i}", school_code=code, citizen_id=f"07908500{i:04d}")
        )

    def deadline(**kw) -> dict:
        return {
            "school_year": T.YEAR,
            "period": "dau_nam",
            "level": None,
            "data_type": "students",
            "target": "Sở",
            "due_date": dt.date(2024, 9, 30),
            "lock_date": None,
            "unit_code": None,
            "school_code": None,
            "reference": REFERENCE,
            **kw,
        }

    deadlines = [
        deadline(),
        deadline(data_type="staff"),
        deadline(target="Bộ", due_date=dt.date(2024, 10, 5), reference=None),
        deadline(period="giua_nam", due_date=dt.date(2025, 1, 15), reference=None),
    ]

    def push(code: str, when: str, data_type: str = "students", target: str = "Sở") -> dict:
        return {
            "school_code": code,
            "school_year": T.YEAR,
            "period": "dau_nam",
            "data_type": data_type,
            "pushed_at": dt.datetime.fromisoformat(when),
            "result": "Thành công",
            "error": None,
            "target": target,
        }

    submissions = [
        push("S1", "2024-10-05 09:00"),  # 5 days late
        push("S1", "2024-10-05 10:00", target="Bộ"),  # on time for the Bộ
        push("S2", "2024-09-20 08:00"),
        push("S2", "2024-09-20 08:30", "staff"),
        push("S2", "2024-09-21 08:00", target="Bộ"),
        push("S3", "2024-09-25 08:00", "staff"),
        push("S4", "2024-09-25 08:00", "staff"),
        push("S5", "2024-09-25 08:00", "staff"),
        push("S6", "2024-09-25 08:00"),
        push("S6", "2024-09-25 08:00", "staff"),
        push("S6", "2024-09-26 08:00", target="Bộ"),
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


def build(con, mark_new: bool = True) -> int:
    """The checked snapshot; with mark_new its findings count as new since a previous
    snapshot (what issue 20's history fills: `findings.change`)."""
    sid = T.run(con, tables(), as_of=AS_OF)
    if mark_new:
        con.execute(
            "UPDATE findings SET change = 'new', since = $d WHERE snapshot_id = $s",
            {"s": sid, "d": AS_OF},
        )
    return sid


def build_file(path: str, mark_new: bool = True) -> int:
    con = store.connect(path)
    try:
        return build(con, mark_new)
    finally:
        con.close()
