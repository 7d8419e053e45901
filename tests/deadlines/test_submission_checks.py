"""The four submission.* checks and the timeliness metrics."""

from __future__ import annotations

import datetime as dt

import pytest

from deadlines.deadline_helpers import deadline, province, push
from soat.db import dicts
from soat.testing import findings, run, school

D = dt.date
IDS = ("submission.late", "submission.missing", "submission.last_failed", "submission.after_lock")


def fired(con, sid) -> dict[str, list[dict]]:
    out = {i: [] for i in IDS}
    for f in findings(con, sid):
        if f["check_id"] in out:
            out[f["check_id"]].append(f)
    return out


def test_on_time_fires_nothing(con):
    sid = run(con, province([deadline(lock_date=D(2024, 9, 30))], [push("2024-09-15 10:00")]))
    assert all(v == [] for v in fired(con, sid).values())
    runs = dicts(con, "SELECT check_id, status FROM check_runs WHERE snapshot_id = $s", {"s": sid})
    assert {r["check_id"]: r["status"] for r in runs if r["check_id"] in IDS} == dict.fromkeys(
        IDS, "ran"
    )


def test_submission_late_fires_with_vietnamese_message(con):
    sid = run(con, province([deadline()], [push("2024-09-18 10:00")]))
    got = fired(con, sid)
    (f,) = got["submission.late"]
    assert f["severity"] == "warning"
    assert (f["record_key"], f["school_code"], f["field"], f["period"]) == (
        "S1",
        "S1",
        "students",
        "dau_nam",
    )
    assert f["level"] == "TH"
    assert f["value"] == "15/09/2024"
    assert f["message"] == "Nộp dữ liệu Học sinh (Đầu năm, lên Sở) trễ 3 ngày so với hạn 15/09/2024"
    assert got["submission.missing"] == []


def test_submission_missing_fires_as_error(con):
    sid = run(con, province([deadline(target="Bộ")], []))
    got = fired(con, sid)
    (f,) = got["submission.missing"]
    assert f["severity"] == "error"
    assert f["unit_code"] == "79760"
    assert "Học sinh (Đầu năm, lên Bộ), đã quá hạn 30 ngày" in f["message"]
    assert "15/09/2024" in f["message"]
    assert got["submission.late"] == []


def test_missing_does_not_fire_when_pending(con):
    sid = run(con, province([deadline(due_date=D(2024, 11, 1))], []))
    assert fired(con, sid)["submission.missing"] == []


def test_multi_level_school_gets_one_school_wide_finding(con):
    schools = [school(levels=["TH", "THCS"])]
    sid = run(con, province([deadline()], [], schools))
    (f,) = fired(con, sid)["submission.missing"]
    assert f["level"] is None


def test_multi_level_school_with_level_specific_due_dates_gets_one_per_level(con):
    schools = [school(levels=["TH", "THCS"])]
    deadlines = [deadline(), deadline(level=["TH"], due_date=D(2024, 9, 10))]
    sid = run(con, province(deadlines, [push("2024-09-12 08:00")], schools))
    got = fired(con, sid)
    (f,) = got["submission.late"]
    assert (f["level"], f["value"]) == ("TH", "10/09/2024")
    assert got["submission.missing"] == []


def test_last_failed_fires_after_an_earlier_success(con):
    pushes = [
        push("2024-09-10 08:00"),
        push("2024-09-12 09:30", result="Thất bại", error="Sai mã lớp"),
    ]
    sid = run(con, province([deadline()], pushes))
    got = fired(con, sid)
    (f,) = got["submission.last_failed"]
    assert f["severity"] == "error"
    assert f["value"] == "Sai mã lớp"
    assert "12/09/2024 09:30" in f["message"]
    assert got["submission.late"] == got["submission.missing"] == []


def test_last_failed_does_not_fire_when_a_success_follows(con):
    pushes = [push("2024-09-10 08:00", result="Thất bại"), push("2024-09-11 08:00")]
    sid = run(con, province([deadline()], pushes))
    assert fired(con, sid)["submission.last_failed"] == []


def test_last_failed_is_per_target(con):
    deadlines = [deadline(), deadline(target="Bộ")]
    pushes = [push("2024-09-10 08:00"), push("2024-09-11 08:00", target="Bộ", result="Thất bại")]
    sid = run(con, province(deadlines, pushes))
    (f,) = fired(con, sid)["submission.last_failed"]
    assert "lên Bộ" in f["message"]


def test_after_lock_fires_and_not(con):
    deadlines = [deadline(lock_date=D(2024, 9, 20))]
    sid = run(con, province(deadlines, [push("2024-09-14 08:00"), push("2024-09-21 08:00")]))
    (f,) = fired(con, sid)["submission.after_lock"]
    assert (f["severity"], f["value"]) == ("warning", "20/09/2024")
    assert "1 lần" in f["message"]

    sid = run(con, province(deadlines, [push("2024-09-20 23:59")]))
    assert fired(con, sid)["submission.after_lock"] == []


def test_checks_not_run_without_the_push_log(con):
    tables = province([deadline()], [])
    del tables["submissions"]
    sid = run(con, tables)
    runs = dicts(con, "SELECT check_id, status FROM check_runs WHERE snapshot_id = $s", {"s": sid})
    assert {r["check_id"]: r["status"] for r in runs if r["check_id"] in IDS} == dict.fromkeys(
        IDS, "not_run"
    )


# ---- timeliness ----------------------------------------------------------------------


def timeliness(con, sid):
    # the temp table is rebuilt by each run; read it right after run()
    rows = dicts(con, "SELECT * FROM timeliness_school_level ORDER BY school_code, level")
    return {(r["school_code"], r["level"]): r for r in rows}


def test_timeliness_rates(con):
    deadlines = [
        deadline(data_type=None),  # 5 data types due 15/09
        deadline(period="giua_nam", due_date=D(2025, 1, 10)),  # pending: not expected
    ]
    pushes = [
        push("2024-09-15 08:00", data_type="staff"),  # on time
        push("2024-09-10 08:00", data_type="students"),  # on time
        push("2024-09-18 08:00", data_type="classes"),  # late 3
        push("2024-09-22 08:00", data_type="rooms"),  # late 7
    ]  # budget missing
    sid = run(con, province(deadlines, pushes))
    t = timeliness(con, sid)[("S1", "TH")]
    assert (t["expected"], t["submitted"], t["on_time"], t["late"], t["missing"]) == (5, 4, 2, 2, 1)
    assert t["reporting_rate"] == pytest.approx(0.8)
    assert t["on_time_rate"] == pytest.approx(0.4)
    assert t["median_days_late"] == pytest.approx(5.0)


def test_timeliness_with_nothing_expected_is_one(con):
    schools = [school(), school(school_code="S2", levels=["MN", "TH"])]
    deadlines = [deadline(due_date=D(2024, 12, 1)), deadline(level=["MN"], due_date=D(2024, 9, 1))]
    sid = run(con, province(deadlines, [], schools))
    t = timeliness(con, sid)
    assert set(t) == {("S1", "TH"), ("S2", "MN"), ("S2", "TH")}
    for key in [("S1", "TH"), ("S2", "TH")]:
        assert t[key]["expected"] == 0
        assert t[key]["reporting_rate"] == t[key]["on_time_rate"] == 1.0
        assert t[key]["median_days_late"] is None
    assert t[("S2", "MN")]["expected"] == 1
    assert t[("S2", "MN")]["reporting_rate"] == t[("S2", "MN")]["on_time_rate"] == 0.0
