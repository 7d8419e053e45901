"""A small province for the dashboard tests, built with soat.testing and the real runner.

    79 Sở ─┬─ 79760 Quận 1 ─┬─ S1 (TH)       150 students, 130 with a bad citizen ID
           │                ├─ S2 (THCS)     pushes students late
           │                └─ 26734 Phường Bến Nghé ── S4 (MN)
           └─ 79761 Quận 2 ──── S3 (TH, THCS) one bad citizen ID, misses the staff push

Deadlines: start of year (dau_nam) students and staff due 2024-09-30 (past, as-of
2024-10-15) and mid-year (giua_nam) students due 2025-01-15 (upcoming).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from soat import store
from soat.testing import (
    YEAR,
    build_snapshot,
    klass,
    province_unit,
    school,
    staff_member,
    student,
    unit,
)

AS_OF = dt.date(2024, 10, 15)
BAD_S1 = 130


def tables(bad_s1: int = BAD_S1, extra_s3_bad: bool = True) -> dict[str, list[dict]]:
    units = [
        province_unit(),
        unit(unit_code="79760", unit_name="Phòng GD&ĐT Quận 1"),
        unit(unit_code="79761", unit_name="Phòng GD&ĐT Quận 2"),
        unit(
            unit_code="26734", unit_name="UBND Phường Bến Nghé", unit_tier="Xã", parent_code="79760"
        ),
    ]
    schools = [
        school(
            school_code="S1", school_name="Trường Tiểu học Lê Lợi", unit_code="79760", levels=["TH"]
        ),
        school(
            school_code="S2",
            school_name="Trường THCS Nguyễn Du",
            unit_code="79760",
            levels=["THCS"],
        ),
        school(
            school_code="S3",
            school_name="Trường TH&THCS Hòa Bình",
            unit_code="79761",
            levels=["TH", "THCS"],
        ),
        school(
            school_code="S4",
            school_name="Trường Mầm non Bến Nghé",
            unit_code="26734",
            levels=["MN"],
        ),
    ]
    classes = [
        klass(class_code="1A", school_code="S1", grade="1", homeroom_code="GV1", declared_size=150),
        klass(class_code="6A", school_code="S2", grade="6", homeroom_code="GV2", declared_size=2),
        klass(class_code="2A", school_code="S3", grade="2", homeroom_code="GV3", declared_size=2),
        klass(
            class_code="7A",
            school_code="S3",
            grade="7",
            homeroom_code="GV4",
            declared_size=1,
            language_programme="Tiếng Anh 7 năm",
        ),
        klass(
            class_code="MG5",
            school_code="S4",
            grade="MG5",
            homeroom_code="GV5",
            declared_size=1,
            language_programme=None,
            language_periods=None,
        ),
    ]
    students = []
    for i in range(150):
        cid = f"0793180{i:05d}" if i >= bad_s1 else f"07931{i:05d}"  # 12 vs 10 digits
        students.append(
            student(student_code=f"HS1{i:03d}", school_code="S1", class_code="1A", citizen_id=cid)
        )
    students += [
        student(
            student_code="HS2001",
            school_code="S2",
            class_code="6A",
            birth_date=dt.date(2013, 1, 1),
            citizen_id="079313000001",
        ),
        student(
            student_code="HS2002",
            school_code="S2",
            class_code="6A",
            birth_date=dt.date(2013, 2, 1),
            citizen_id="079313000002",
        ),
        student(
            student_code="HS3001",
            school_code="S3",
            class_code="2A",
            birth_date=dt.date(2017, 1, 1),
            citizen_id="0793170" if extra_s3_bad else "079317000001",
        ),
        student(
            student_code="HS3002",
            school_code="S3",
            class_code="2A",
            birth_date=dt.date(2017, 5, 1),
            citizen_id="079317000002",
        ),
        student(
            student_code="HS3003",
            school_code="S3",
            class_code="7A",
            birth_date=dt.date(2012, 5, 1),
            citizen_id="079312000003",
        ),
        student(
            student_code="HS4001",
            school_code="S4",
            class_code="MG5",
            birth_date=dt.date(2019, 5, 1),
            citizen_id="079319000004",
        ),
    ]
    staff = [
        staff_member(staff_code=f"GV{i}", school_code=s, citizen_id=f"0790850000{i:02d}")
        for i, s in ((1, "S1"), (2, "S2"), (3, "S3"), (4, "S3"), (5, "S4"))
    ]
    deadlines = [
        {
            "school_year": YEAR,
            "period": "dau_nam",
            "level": None,
            "data_type": dt_,
            "target": "Sở",
            "due_date": dt.date(2024, 9, 30),
            "lock_date": dt.date(2024, 10, 10),
            "reference": "Công văn 123/SGDĐT",
        }
        for dt_ in ("students", "staff")
    ] + [
        {
            "school_year": YEAR,
            "period": "giua_nam",
            "level": None,
            "data_type": "students",
            "target": "Sở",
            "due_date": dt.date(2025, 1, 15),
            "lock_date": None,
            "reference": "Công văn 123/SGDĐT",
        }
    ]

    def push(
        school_code: str,
        data_type: str,
        when: dt.datetime,
        result: str = "Thành công",
        period: str = "dau_nam",
    ) -> dict:
        return {
            "school_code": school_code,
            "school_year": YEAR,
            "period": period,
            "data_type": data_type,
            "pushed_at": when,
            "result": result,
            "error": None if result == "Thành công" else "Sai cấu trúc",
            "target": "Sở",
        }

    submissions = [
        push("S1", "students", dt.datetime(2024, 9, 20, 9)),
        push("S1", "staff", dt.datetime(2024, 9, 21, 9)),
        push("S2", "students", dt.datetime(2024, 10, 5, 9)),  # 5 days late
        push("S2", "staff", dt.datetime(2024, 9, 29, 9)),
        push("S3", "students", dt.datetime(2024, 9, 25, 9)),
        push("S3", "staff", dt.datetime(2024, 9, 26, 9), result="Thất bại"),  # still missing
        push("S4", "students", dt.datetime(2024, 9, 28, 9)),
        push("S4", "staff", dt.datetime(2024, 9, 28, 10)),
        push("S1", "students", dt.datetime(2024, 10, 12, 9), period="giua_nam"),  # early
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


# Until the metrics catalogue fills metrics_school_level, the tests fill it with this
# simplified version (only when the runner left it empty for the snapshot).
_FALLBACK_METRICS = """
INSERT INTO metrics_school_level
WITH sl AS (
    SELECT snapshot_id, school_code, school_name, unit_code, unnest(levels) AS level,
           levels[1] AS first_level
    FROM schools WHERE snapshot_id = $s
), stu AS (
    SELECT st.school_code,
           CASE WHEN c.grade IN ('NT','MG3','MG4','MG5') THEN 'MN'
                WHEN TRY_CAST(c.grade AS INT) BETWEEN 1 AND 5 THEN 'TH'
                WHEN TRY_CAST(c.grade AS INT) BETWEEN 6 AND 9 THEN 'THCS' ELSE 'THPT' END AS level,
           count(*) AS n, count(*) FILTER (WHERE st.id_verified = 'Đã xác thực') AS verified
    FROM students st LEFT JOIN classes c ON c.snapshot_id = st.snapshot_id
         AND c.school_code = st.school_code AND c.class_code = st.class_code
    WHERE st.snapshot_id = $s GROUP BY ALL
), sta AS (
    SELECT school_code, count(*) AS n,
           count(*) FILTER (WHERE id_verified = 'Đã xác thực') AS verified
    FROM staff WHERE snapshot_id = $s GROUP BY ALL
), f AS (
    SELECT f.school_code, coalesce(f.level, sl.first_level) AS level,
           count(*) FILTER (WHERE severity = 'error') AS errors,
           count(*) FILTER (WHERE severity = 'warning') AS warnings,
           count(DISTINCT record_key) FILTER (WHERE severity = 'error') AS flagged
    FROM findings f JOIN (SELECT DISTINCT school_code, first_level FROM sl) sl
         ON sl.school_code = f.school_code
    WHERE f.snapshot_id = $s GROUP BY ALL
), sub AS (
    SELECT school_code, level,
           count(*) FILTER (WHERE status <> 'pending') AS expected,
           count(*) FILTER (WHERE status IN ('on_time', 'late')) AS submitted,
           count(*) FILTER (WHERE status = 'on_time') AS on_time,
           count(*) FILTER (WHERE status = 'late') AS late,
           count(*) FILTER (WHERE status = 'missing') AS missing
    FROM submission_status WHERE snapshot_id = $s GROUP BY ALL
), x AS (
    SELECT sl.*, coalesce(stu.n, 0) AS students,
           CASE WHEN sl.level = sl.first_level THEN coalesce(sta.n, 0) ELSE 0 END AS staff,
           coalesce(stu.verified, 0) AS sv,
           CASE WHEN sl.level = sl.first_level THEN coalesce(sta.verified, 0) ELSE 0 END AS tv,
           coalesce(f.errors, 0) AS errors, coalesce(f.warnings, 0) AS warnings,
           coalesce(f.flagged, 0) AS flagged, coalesce(sub.expected, 0) AS expected,
           coalesce(sub.submitted, 0) AS submitted, coalesce(sub.on_time, 0) AS on_time,
           coalesce(sub.late, 0) AS late, coalesce(sub.missing, 0) AS missing
    FROM sl LEFT JOIN stu ON stu.school_code = sl.school_code AND stu.level = sl.level
    LEFT JOIN sta ON sta.school_code = sl.school_code
    LEFT JOIN f ON f.school_code = sl.school_code AND f.level = sl.level
    LEFT JOIN sub ON sub.school_code = sl.school_code AND sub.level = sl.level
)
SELECT snapshot_id, school_code, school_name, unit_code, level, students, staff, staff, 1,
       errors, warnings, students + staff, students + staff, 1.0, 1.0, 1.0, 1.0, 1.0,
       students + staff, greatest(0, students + staff - flagged),
       CASE WHEN students + staff = 0 THEN 1.0
            ELSE greatest(0, students + staff - flagged) / (students + staff) END,
       sv, tv, CASE WHEN students + staff = 0 THEN 1.0 ELSE (sv + tv) / (students + staff) END,
       1.0, 1.0, staff, 1.0, expected, submitted, on_time, late, missing,
       CASE WHEN expected = 0 THEN 1.0 ELSE submitted / expected END,
       CASE WHEN expected = 0 THEN 1.0 ELSE on_time / expected END, NULL,
       errors = 0 AND missing = 0
FROM x
"""


def build(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: dt.date = AS_OF,
    name: str = "Đầu năm",
    snapshot_id: int | None = None,
    history: str | None = None,
    **kw,
) -> int:
    from soat.engine import run_checks

    sid = build_snapshot(con, tables(**kw), as_of=as_of, name=name, snapshot_id=snapshot_id)
    run_checks(con, sid, history=history)
    n = con.execute(
        "SELECT count(*) FROM metrics_school_level WHERE snapshot_id = $s", {"s": sid}
    ).fetchall()[0][0]
    if n == 0:
        con.execute(_FALLBACK_METRICS, {"s": sid})
    return sid


def build_file(path: str, snapshots: int = 1) -> list[int]:
    """A DuckDB file with `snapshots` checked snapshots of the province (the later ones with
    fewer errors, so trends move)."""
    con = store.connect(path)
    try:
        sids = [build(con, name="Đầu năm")]
        for i in range(1, snapshots):
            sids.append(
                build(
                    con,
                    as_of=AS_OF + dt.timedelta(days=14 * i),
                    name=f"Cập nhật {i}",
                    bad_s1=max(0, BAD_S1 - 60 * i),
                    extra_s3_bad=False,
                )
            )
        return sids
    finally:
        con.close()


def publish(path: str, **kw) -> int:
    """One more snapshot of the province (build's options) published into the store at
    `path` the way a load publishes one (soat.snapshot_store)."""
    from soat.snapshot_store import SnapshotStore

    with SnapshotStore(path).writing() as w, w.draft() as d:
        sid = build(d.con, snapshot_id=d.snapshot_id, history=d.history, **kw)
        d.publish()
    return sid


def build_store(path: str, snapshots: int = 1) -> list[int]:
    """A snapshot store directory (soat.snapshot_store) holding what build_file writes: the
    file is built, then migrated the way a store of the first format is (its backup
    removed)."""
    from pathlib import Path

    from soat.snapshot_store import migrate_legacy

    sids = build_file(path, snapshots)
    migrate_legacy(Path(path))
    Path(path + ".v1-backup").unlink()
    return sids


def empty_file(path: str) -> None:
    store.connect(path).close()


def empty_store(path: str) -> None:
    """A store directory nothing was published to yet."""
    import os

    os.makedirs(path)
