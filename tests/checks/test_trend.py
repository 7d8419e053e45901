"""Consistency over time (trend.*): each check fires on its defect and stays silent on a near
miss, comparing a snapshot with the one before it; without an earlier snapshot it is "not
run", never passed."""

from __future__ import annotations

import datetime as dt

import pytest

from soat.db import dicts
from soat.testing import (
    AS_OF,
    klass,
    run,
    school,
    staff_member,
    student,
    valid_province,
)

WEEK = dt.timedelta(days=7)


def students(n: int, school_code: str = "S1", class_code: str = "1A", prefix: str = "") -> list:
    return [
        student(
            student_code=f"{school_code}{prefix}HS{i}",
            school_code=school_code,
            class_code=class_code,
            citizen_id=None,
        )
        for i in range(n)
    ]


def staff(n: int, school_code: str = "S1") -> list:
    return [
        staff_member(staff_code=f"{school_code}GV{i}", school_code=school_code, citizen_id=None)
        for i in range(n)
    ]


def two_snapshots(con, before: dict, after: dict, check_id: str, **after_kw) -> list[tuple]:
    """Run the catalogue on `before`, then on `after` a week later; the findings of
    `check_id` in the later snapshot as (record_key, level, field, value)."""
    run(con, before)
    kw = {"as_of": AS_OF + WEEK, **after_kw}
    sid = run(con, after, **kw)
    rows = dicts(
        con,
        """SELECT record_key, level, field, value, message FROM findings
           WHERE snapshot_id = $s AND check_id = $c ORDER BY record_key, level""",
        {"s": sid, "c": check_id},
    )
    return [(r["record_key"], r["level"], r["field"], r["value"]) for r in rows]


def status(con, check_id: str, sid: int | None = None) -> tuple[str, str]:
    rows = dicts(
        con,
        """SELECT status, detail FROM check_runs WHERE check_id = $c
           AND snapshot_id = coalesce($s, (SELECT max(snapshot_id) FROM check_runs))""",
        {"c": check_id, "s": sid},
    )
    return rows[0]["status"], rows[0]["detail"]


def sized(n_students: int = 50, n_staff: int = 15, **kw) -> dict:
    return valid_province(
        classes=[klass(declared_size=n_students)],
        students=students(n_students),
        staff=staff(n_staff),
        **kw,
    )


TREND_IDS = (
    "trend.enrolment_change",
    "trend.staff_change",
    "trend.school_vanished",
    "trend.class_count_change",
)


@pytest.mark.parametrize("check_id", TREND_IDS)
def test_first_snapshot_is_not_run_never_passed(con, check_id):
    run(con, sized())
    assert status(con, check_id) == ("not_run", "chưa có bản chụp trước")


# ---- trend.enrolment_change ----------------------------------------------------------


def test_enrolment_change_fires_at_both_thresholds(con):
    # 50 -> 40: 10 students and 20 %, both exactly at the threshold
    hits = two_snapshots(con, sized(50), sized(40), "trend.enrolment_change")
    assert hits == [("S1", "TH", "students", "40")]
    msg = dicts(con, "SELECT message FROM findings WHERE check_id = 'trend.enrolment_change'")
    assert "giảm từ 50 (bản chụp ngày 15/10/2024) xuống 40 (−20,0 %)" in msg[0]["message"]
    assert "cấp TH" in msg[0]["message"]


def test_enrolment_change_fires_on_a_rise(con):
    hits = two_snapshots(con, sized(50), sized(60), "trend.enrolment_change")
    assert hits == [("S1", "TH", "students", "60")]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (50, 41),  # 9 students (18 %): neither threshold
        (100, 81),  # 19 students but 19 %
        (20, 10),  # 50 % but 10 students: fires (both reached)
        (15, 6),  # 60 % but only 9 students
    ],
)
def test_enrolment_change_near_misses(con, before, after):
    hits = two_snapshots(con, sized(before), sized(after), "trend.enrolment_change")
    fired = abs(after - before) >= 10 and abs(after - before) * 5 >= before
    assert bool(hits) == fired


def test_enrolment_change_per_level_of_a_two_level_school(con):
    def p(th: int, thcs: int) -> dict:
        return valid_province(
            schools=[school(levels=["TH", "THCS"])],
            classes=[
                klass(declared_size=th),
                klass(class_code="6A", grade="6", declared_size=thcs),
            ],
            students=students(th) + students(thcs, class_code="6A", prefix="B"),
            staff=staff(15),
        )

    hits = two_snapshots(con, p(50, 50), p(50, 30), "trend.enrolment_change")
    assert hits == [("S1", "THCS", "students", "30")]


def test_enrolment_change_skips_schools_not_active_in_both(con):
    closed = sized(20, schools=[school(status="Giải thể")])
    assert two_snapshots(con, sized(50), closed, "trend.enrolment_change") == []


def test_enrolment_change_from_zero_is_not_compared(con):
    before = valid_province(students=[], staff=staff(15))
    assert two_snapshots(con, before, sized(50), "trend.enrolment_change") == []


def test_enrolment_change_compares_with_the_previous_school_year(con):
    """No earlier snapshot of the same year: the latest of the previous school year."""
    last_year = sized(50)
    for s in last_year["students"]:
        s["school_year"] = "2023-2024"
    last_year["classes"][0]["school_year"] = "2023-2024"
    run(con, last_year, as_of=dt.date(2024, 5, 20), school_year="2023-2024")
    sid = run(con, sized(30))
    assert status(con, "trend.enrolment_change", sid) == ("ran", "")
    hits = dicts(con, "SELECT value FROM findings WHERE check_id = 'trend.enrolment_change'")
    assert [h["value"] for h in hits] == ["30"]
    # classes change between years: only compared within one school year
    assert status(con, "trend.class_count_change", sid) == (
        "not_run",
        "chưa có bản chụp trước cùng năm học",
    )


def test_a_snapshot_two_years_back_is_no_baseline(con):
    run(con, sized(50), as_of=dt.date(2023, 5, 20), school_year="2022-2023")
    sid = run(con, sized(30))
    assert status(con, "trend.enrolment_change", sid) == ("not_run", "chưa có bản chụp trước")


def test_baseline_without_the_table_is_not_run(con):
    before = sized(50)
    del before["staff"]
    run(con, before)
    sid = run(con, sized(50), as_of=AS_OF + WEEK)
    assert status(con, "trend.staff_change", sid) == (
        "not_run",
        "bản chụp trước không có dữ liệu: staff",
    )
    assert status(con, "trend.enrolment_change", sid) == ("ran", "")


def test_two_loads_of_one_export_change_nothing(con):
    """Same data, same as-of date (two loads of one export): the later load compares with
    the earlier and no trend check fires."""
    run(con, sized(50))
    sid = run(con, sized(50))
    assert (
        dicts(
            con,
            "SELECT check_id FROM findings WHERE snapshot_id = $s AND check_id LIKE 'trend.%'",
            {"s": sid},
        )
        == []
    )
    assert {status(con, c, sid)[0] for c in TREND_IDS} == {"ran"}


def test_a_trend_finding_lapses_it_is_not_resolved(con):
    """Week 2 drops enrolment (a trend finding); week 2 loaded again no longer differs from
    week 2: the trend finding is gone, but nothing was fixed, so nothing is resolved and
    the export of resolved findings is empty."""
    run(con, sized(50))
    run(con, sized(40), as_of=AS_OF + WEEK)
    third = run(con, sized(40), as_of=AS_OF + WEEK)
    assert dicts(
        con, "SELECT check_id FROM findings WHERE snapshot_id = 2 AND entity = 'trend'"
    ) == [{"check_id": "trend.enrolment_change"}]
    assert dicts(
        con,
        "SELECT count(*) AS n FROM findings WHERE snapshot_id = $s AND entity = 'trend'",
        {"s": third},
    ) == [{"n": 0}]
    assert dicts(con, "SELECT * FROM findings_resolved WHERE snapshot_id = $s", {"s": third}) == []
    counts = dicts(
        con,
        "SELECT new, resolved FROM finding_changes_rollup WHERE snapshot_id = $s "
        "AND grain = 'province'",
        {"s": third},
    )
    assert counts == [{"new": 0, "resolved": 0}]
    from soat.exports import findings as export
    from soat.scope import Scope

    against = export.frame(con, third, Scope.admin(), change="resolved", from_id=2)
    assert against.height == 0


# ---- trend.staff_change --------------------------------------------------------------


def test_staff_change_fires_at_both_thresholds(con):
    # 15 -> 12: 3 people and 20 % (integer arithmetic: 20 % of 15 is exactly 3)
    hits = two_snapshots(con, sized(n_staff=15), sized(n_staff=12), "trend.staff_change")
    assert hits == [("S1", "TH", "staff", "12")]  # one-level school: its level
    msg = dicts(con, "SELECT message FROM findings WHERE check_id = 'trend.staff_change'")
    assert "giảm từ 15 (bản chụp ngày 15/10/2024) xuống 12 (−20,0 %)" in msg[0]["message"]


@pytest.mark.parametrize(
    ("before", "after", "fires"),
    [(15, 13, False), (20, 17, False), (10, 7, True), (5, 8, True), (2, 4, False), (10, 13, True)],
)
def test_staff_change_near_misses(con, before, after, fires):
    hits = two_snapshots(con, sized(n_staff=before), sized(n_staff=after), "trend.staff_change")
    assert bool(hits) == fires


def test_staff_change_counts_active_staff_only(con):
    after = sized(n_staff=15)
    for s in after["staff"][:4]:
        s["status"] = "Nghỉ hưu"
    hits = two_snapshots(con, sized(n_staff=15), after, "trend.staff_change")
    assert hits == [("S1", "TH", "staff", "11")]


# ---- trend.school_vanished -----------------------------------------------------------


def two_schools(**s2) -> dict:
    return valid_province(
        schools=[school(), school(school_code="S2", school_name="Trường TH Hòa Bình", **s2)],
        classes=[klass(), klass(school_code="S2")],
        students=[student(), student(student_code="HS2", school_code="S2")],
        staff=[staff_member(), staff_member(staff_code="GV2", school_code="S2")],
    )


def test_school_vanished_fires_with_the_unit_it_had(con):
    hits = two_snapshots(con, two_schools(unit_code="79761"), sized(1), "trend.school_vanished")
    assert hits == [("S2", "TH", "school_code", "S2")]
    row = dicts(
        con,
        "SELECT unit_code, school_code, message FROM findings "
        "WHERE check_id = 'trend.school_vanished'",
    )[0]
    assert row["unit_code"] == "79761" and row["school_code"] == "S2"
    assert "Trường TH Hòa Bình" in row["message"]


@pytest.mark.parametrize(
    "after",
    [
        two_schools(status="Giải thể"),  # marked dissolved
        two_schools(status="Sáp nhập"),  # marked merged
        valid_province(schools=[school(previous_codes=["S2"])]),  # merged into S1
        valid_province(schools=[school(previous_codes=[" S2"])]),
    ],
)
def test_school_vanished_near_misses(con, after):
    assert two_snapshots(con, two_schools(), after, "trend.school_vanished") == []


def test_an_inactive_school_that_vanishes_is_not_flagged(con):
    before = two_schools(status="Sáp nhập")
    assert two_snapshots(con, before, valid_province(), "trend.school_vanished") == []


# ---- trend.class_count_change ---------------------------------------------------------


def classes_of(n_grade1: int, n_grade2: int = 1) -> dict:
    classes = [klass(class_code=f"1{c}", declared_size=0) for c in "ABCDEFG"[:n_grade1]]
    classes += [klass(class_code=f"2{c}", grade="2", declared_size=0) for c in "ABCDEFG"[:n_grade2]]
    return valid_province(classes=classes, students=[], staff=staff(2))


def test_class_count_change_fires_per_grade(con):
    hits = two_snapshots(con, classes_of(4, 1), classes_of(2, 3), "trend.class_count_change")
    assert hits == [("S1 khối 1", "TH", "grade", "1"), ("S1 khối 2", "TH", "grade", "2")]
    msgs = [
        r["message"]
        for r in dicts(
            con,
            "SELECT message FROM findings WHERE check_id = 'trend.class_count_change' "
            "ORDER BY record_key",
        )
    ]
    assert "khối 1 giảm từ 4 lớp (bản chụp ngày 15/10/2024) xuống 2 lớp" in msgs[0]
    assert "khối 2 tăng từ 1 lớp (bản chụp ngày 15/10/2024) lên 3 lớp" in msgs[1]


def test_class_count_change_a_grade_that_appears(con):
    hits = two_snapshots(con, classes_of(1, 0), classes_of(1, 2), "trend.class_count_change")
    assert hits == [("S1 khối 2", "TH", "grade", "2")]


@pytest.mark.parametrize(("before", "after"), [(4, 3), (1, 2), (3, 3)])
def test_class_count_change_near_misses(con, before, after):
    assert (
        two_snapshots(con, classes_of(before), classes_of(after), "trend.class_count_change") == []
    )


def test_class_count_change_counts_a_class_code_once(con):
    after = classes_of(1)
    after["classes"] += [klass(class_code="1A", declared_size=0)] * 2  # repeated rows
    assert two_snapshots(con, classes_of(1), after, "trend.class_count_change") == []


def test_a_vanished_multi_level_school_is_seen_by_each_levels_officer(con):
    """A TH-THCS school that vanishes: one finding per level it had, so an officer scoped to
    THCS sees it (a school-wide finding passes a level scope through the school's levels in
    the same snapshot, which a vanished school no longer has)."""
    from soat.scope import Scope, scope_sql

    hits = two_snapshots(con, two_schools(levels=["TH", "THCS"]), sized(1), "trend.school_vanished")
    assert hits == [("S2", "TH", "school_code", "S2"), ("S2", "THCS", "school_code", "S2")]
    sid = con.execute("SELECT max(snapshot_id) FROM findings").fetchall()[0][0]
    for levels, seen in ((("THCS",), ["THCS"]), (("TH",), ["TH"]), (("THPT",), [])):
        scope = Scope(levels=levels, role="province_staff", user="s")
        got = con.execute(
            f"""SELECT f.level FROM findings f
                WHERE f.snapshot_id = $snapshot_id AND f.check_id = 'trend.school_vanished'
                  AND {scope_sql("f")}""",
            {**scope.params(), "snapshot_id": sid},
        ).fetchall()
        assert [r[0] for r in got] == seen, levels


def test_a_vanished_school_without_levels_gives_one_finding(con):
    hits = two_snapshots(con, two_schools(levels=[]), sized(1), "trend.school_vanished")
    assert hits == [("S2", None, "school_code", "S2")]
