"""submission_status (queries/prelude/50_submission_status.sql): statuses and deadline rules."""

from __future__ import annotations

import datetime as dt

import pytest

from deadlines.deadline_helpers import deadline, province, push, status_rows
from soat import testing as T
from soat.testing import AS_OF, build_snapshot, run, school, unit

D = dt.date


def test_pushed_on_the_due_date_at_2359_is_on_time(con):
    sid = run(con, province([deadline()], [push("2024-09-15 23:59")]))
    (row,) = status_rows(con, sid)
    assert row["status"] == "on_time"
    assert row["days_late"] is None
    assert row["rule"] == "province"
    assert row["level"] == "TH"
    assert row["first_success_at"] == dt.datetime(2024, 9, 15, 23, 59)


def test_one_day_after_is_late_by_one_day(con):
    sid = run(con, province([deadline()], [push("2024-09-16 00:01")]))
    (row,) = status_rows(con, sid)
    assert (row["status"], row["days_late"]) == ("late", 1)


def test_no_push_and_past_due_is_missing_counted_to_as_of(con):
    sid = run(con, province([deadline()], []))
    (row,) = status_rows(con, sid)
    assert row["status"] == "missing"
    assert row["days_late"] == (AS_OF - D(2024, 9, 15)).days == 30
    assert row["pushes"] == 0


def test_not_yet_due_is_pending(con):
    sid = run(con, province([deadline(due_date=D(2024, 10, 20))], []))
    (row,) = status_rows(con, sid)
    assert (row["status"], row["days_late"]) == ("pending", None)


def test_due_on_as_of_without_push_is_still_pending(con):
    sid = run(con, province([deadline(due_date=AS_OF)], []))
    assert status_rows(con, sid)[0]["status"] == "pending"


def test_empty_data_type_applies_to_every_data_type(con):
    sid = run(con, province([deadline(data_type=None)], [push("2024-09-10 08:00")]))
    rows = status_rows(con, sid)
    assert sorted(r["data_type"] for r in rows) == sorted(
        ["staff", "students", "classes", "rooms", "budget"]
    )
    by_type = {r["data_type"]: r["status"] for r in rows}
    assert by_type["students"] == "on_time"
    assert by_type["staff"] == "missing"


def test_failed_push_then_success_is_on_time_by_the_success_date(con):
    pushes = [
        push("2024-09-10 08:00", result="Thất bại", error="Thiếu ngày sinh"),
        push("2024-09-14 08:00"),
    ]
    sid = run(con, province([deadline()], pushes))
    (row,) = status_rows(con, sid)
    assert row["status"] == "on_time"
    assert row["first_success_at"] == dt.datetime(2024, 9, 14, 8, 0)
    assert (row["pushes"], row["last_result"]) == (2, "Thành công")


def test_failures_only_then_late_success(con):
    pushes = [push("2024-09-10 08:00", result="Thất bại"), push("2024-09-18 08:00")]
    sid = run(con, province([deadline()], pushes))
    (row,) = status_rows(con, sid)
    assert (row["status"], row["days_late"]) == ("late", 3)


def test_only_failures_past_due_is_missing(con):
    sid = run(con, province([deadline()], [push("2024-09-10 08:00", result="Thất bại")]))
    assert status_rows(con, sid)[0]["status"] == "missing"


def test_success_then_failure_keeps_status_and_records_last_error(con):
    pushes = [push("2024-09-10 08:00"), push("2024-09-12 08:00", result="Thất bại", error="Lỗi")]
    sid = run(con, province([deadline()], pushes))
    (row,) = status_rows(con, sid)
    assert row["status"] == "on_time"
    assert (row["last_result"], row["last_error"]) == ("Thất bại", "Lỗi")
    assert row["last_push_at"] == dt.datetime(2024, 9, 12, 8, 0)


def test_target_separation_a_bo_push_does_not_satisfy_a_so_deadline(con):
    deadlines = [deadline(target="Sở"), deadline(target="Bộ", due_date=D(2024, 9, 20))]
    sid = run(con, province(deadlines, [push("2024-09-10 08:00", target="Bộ")]))
    by_target = {r["target"]: r for r in status_rows(con, sid)}
    assert by_target["Sở"]["status"] == "missing"
    assert by_target["Sở"]["pushes"] == 0
    assert by_target["Bộ"]["status"] == "on_time"


def test_period_and_data_type_separation(con):
    pushes = [push("2024-09-10 08:00", period="giua_nam"), push("2024-09-10", data_type="staff")]
    sid = run(con, province([deadline()], pushes))
    assert status_rows(con, sid)[0]["status"] == "missing"


def test_push_under_a_merged_schools_previous_code_counts(con):
    schools = [
        school(school_code="S9", levels=["TH", "THCS"], previous_codes=["S1", "S2"]),
        school(school_code="S1", status="Sáp nhập"),
    ]
    sid = run(con, province([deadline()], [push("2024-09-12 08:00", school_code="S2")], schools))
    rows = status_rows(con, sid)
    assert {r["school_code"] for r in rows} == {"S9"}  # merged-away school expects nothing
    assert {r["level"]: r["status"] for r in rows} == {"TH": "on_time", "THCS": "on_time"}


def test_inactive_school_expects_nothing(con):
    sid = run(con, province([deadline()], [], [school(status="Giải thể")]))
    assert status_rows(con, sid) == []


def test_deadline_for_some_levels_only(con):
    schools = [
        school(school_code="S1", levels=["TH", "THCS"]),
        school(school_code="S2", levels=["THPT"]),
    ]
    sid = run(con, province([deadline(level=["MN", "TH"])], [], schools))
    rows = status_rows(con, sid)
    assert [(r["school_code"], r["level"]) for r in rows] == [("S1", "TH")]


def test_most_specific_deadline_wins(con):
    units = [
        {"unit_code": "79", "unit_name": "Sở", "unit_tier": "Sở", "parent_code": None},
        {"unit_code": "79760", "unit_name": "Phòng Q1", "unit_tier": "Phòng", "parent_code": "79"},
        {"unit_code": "79761", "unit_name": "Phòng Q2", "unit_tier": "Phòng", "parent_code": "79"},
    ]
    schools = [
        school(school_code="A", unit_code="79760"),  # school extension
        school(school_code="B", unit_code="79760"),  # unit extension
        school(school_code="C", unit_code="79761", levels=["TH"]),  # level row
        school(school_code="D", unit_code="79761", levels=["THCS"]),  # province row
    ]
    deadlines = [
        deadline(due_date=D(2024, 9, 10), reference="tỉnh"),
        deadline(due_date=D(2024, 9, 12), level=["TH"], reference="cấp TH"),
        deadline(due_date=D(2024, 9, 20), unit_code="79760", reference="gia hạn phòng"),
        deadline(due_date=D(2024, 9, 25), school_code="A", reference="gia hạn trường"),
    ]
    sid = run(con, province(deadlines, [], schools, units))
    got = {
        r["school_code"]: (r["due_date"], r["rule"], r["reference"]) for r in status_rows(con, sid)
    }
    assert got == {
        "A": (D(2024, 9, 25), "school", "gia hạn trường"),
        "B": (D(2024, 9, 20), "unit", "gia hạn phòng"),
        "C": (D(2024, 9, 12), "level", "cấp TH"),
        "D": (D(2024, 9, 10), "province", "tỉnh"),
    }


def test_an_earlier_extension_still_wins_over_a_later_general_row(con):
    deadlines = [
        deadline(due_date=D(2024, 9, 30)),
        deadline(due_date=D(2024, 9, 5), school_code="S1"),
    ]
    sid = run(con, province(deadlines, []))
    assert status_rows(con, sid)[0]["due_date"] == D(2024, 9, 5)


def test_parent_unit_extension_applies_to_child_units_school_and_nearest_wins(con):
    units = [
        {"unit_code": "79", "unit_name": "Sở", "unit_tier": "Sở", "parent_code": None},
        {"unit_code": "79760", "unit_name": "Phòng", "unit_tier": "Phòng", "parent_code": "79"},
        {"unit_code": "7976001", "unit_name": "Xã", "unit_tier": "Xã", "parent_code": "79760"},
    ]
    schools = [school(school_code="S1", unit_code="7976001")]
    only_parent = [deadline(), deadline(due_date=D(2024, 9, 22), unit_code="79760")]
    sid = run(con, province(only_parent, [], schools, units))
    (row,) = status_rows(con, sid)
    assert (row["due_date"], row["rule"]) == (D(2024, 9, 22), "unit")

    both = [*only_parent, deadline(due_date=D(2024, 9, 18), unit_code="7976001")]
    sid = run(con, province(both, [], schools, units))
    assert status_rows(con, sid)[0]["due_date"] == D(2024, 9, 18)


def test_extension_replaces_due_date_and_keeps_base_lock_unless_given(con):
    deadlines = [
        deadline(lock_date=D(2024, 9, 30)),
        deadline(due_date=D(2024, 9, 25), school_code="S1"),
        deadline(data_type="staff", lock_date=D(2024, 9, 30)),
        deadline(
            data_type="staff", due_date=D(2024, 9, 25), lock_date=D(2024, 10, 5), school_code="S1"
        ),
    ]
    sid = run(con, province(deadlines, []))
    got = {r["data_type"]: (r["due_date"], r["lock_date"]) for r in status_rows(con, sid)}
    assert got["students"] == (D(2024, 9, 25), D(2024, 9, 30))
    assert got["staff"] == (D(2024, 9, 25), D(2024, 10, 5))


def test_extension_with_empty_data_type_and_level_applies_to_all(con):
    deadlines = [
        deadline(),
        deadline(data_type="staff"),
        deadline(data_type=None, school_code="S1", due_date=D(2024, 9, 30)),
    ]
    sid = run(con, province(deadlines, []))
    rows = status_rows(con, sid)
    assert len(rows) == 5
    assert {r["due_date"] for r in rows} == {D(2024, 9, 30)}


def test_data_type_specific_row_beats_all_types_row_within_a_tier(con):
    deadlines = [deadline(data_type=None), deadline(data_type="students", due_date=D(2024, 9, 1))]
    sid = run(con, province(deadlines, []))
    assert status_rows(con, sid, data_type="students")[0]["due_date"] == D(2024, 9, 1)
    assert status_rows(con, sid, data_type="staff")[0]["due_date"] == D(2024, 9, 15)


def test_after_lock_counted_by_date(con):
    deadlines = [deadline(lock_date=D(2024, 9, 20))]
    pushes = [push("2024-09-20 23:00"), push("2024-09-21 07:00"), push("2024-09-25 07:00")]
    sid = run(con, province(deadlines, pushes))
    assert status_rows(con, sid)[0]["pushes_after_lock"] == 2


def test_other_school_years_are_ignored(con):
    deadlines = [deadline(), deadline(school_year="2023-2024", period="cuoi_nam")]
    pushes = [push("2024-09-10 08:00", school_year="2023-2024")]
    sid = run(con, province(deadlines, pushes))
    (row,) = status_rows(con, sid)
    assert (row["period"], row["status"]) == ("dau_nam", "missing")


def test_without_a_push_log_nothing_is_computed(con):
    tables = province([deadline()], [])
    del tables["submissions"]
    sid = run(con, tables)
    assert status_rows(con, sid) == []


def test_rerun_replaces_the_snapshots_rows(con):
    from soat.engine import run_checks

    sid = build_snapshot(con, province([deadline()], []))
    run_checks(con, sid)
    run_checks(con, sid)
    assert len(status_rows(con, sid)) == 1


def test_unit_extension_for_another_unit_does_not_apply(con):
    units = [
        {"unit_code": "79", "unit_name": "Sở", "unit_tier": "Sở", "parent_code": None},
        unit(),
        unit(unit_code="79761", unit_name="Phòng Q2"),
    ]
    deadlines = [deadline(), deadline(due_date=D(2024, 9, 30), unit_code="79761")]
    sid = run(con, province(deadlines, [], units=units))
    assert status_rows(con, sid)[0]["rule"] == "province"


@pytest.mark.parametrize(
    "status, monitored",
    [
        ("Hoạt động", True),
        ("Đang hoạt động", True),
        ("Tạm dừng", True),
        (None, True),
        ("Giải thể", False),
        ("Sáp nhập", False),
    ],  # fmt: skip
)
def test_a_school_is_monitored_unless_it_was_merged_or_dissolved(status, monitored):
    """A status outside the vocabulary ("Tạm dừng") keeps the school active, as every
    record check and metric has it: it once dropped the school from deadline monitoring
    and counted it compliant ("Đang hoạt động" is mapped to "Hoạt động" by the loader)."""
    from soat import store

    con = store.connect(":memory:")
    sid = T.run(
        con,
        T.valid_province(
            schools=[T.school(status=status)],
            deadlines=[deadline()],
            submissions=[push("2024-09-10 08:00", data_type="staff")],
        ),
    )
    checks = [f["check_id"] for f in T.findings(con, sid)]
    rows = con.execute(
        "SELECT expected, missing, compliant FROM metrics_school_level WHERE snapshot_id = $s",
        {"s": sid},
    ).fetchall()
    if monitored:
        assert "submission.missing" in checks and rows == [(1, 1, False)]
    else:
        assert "submission.missing" not in checks
