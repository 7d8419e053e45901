"""Follow-ups: state history, current state, scope checks, the export frame."""

from __future__ import annotations

import datetime as dt

import pytest

from soat import accounts, audit, followups
from soat.errors import SoatError
from soat.scope import Scope

from .fixtures import build


def _scope(role: str, **kw) -> Scope:
    return accounts.scope_for(
        accounts.User(
            username=kw.pop("name", role),
            role=role,
            units=kw.get("units"),
            levels=kw.get("levels"),
            school=kw.get("school"),
            disabled=False,
        )
    )


@pytest.fixture
def sid(con):
    return build(con)


def test_every_change_is_a_row_and_current_is_the_latest(db):
    followups.set_state("S1", "Đầu năm", "submission", "notified", "Đã gọi điện", "canbo")
    followups.set_state("S1", "Đầu năm", "submission", "fixing", None, "truong_s1")
    followups.set_state("S1", "Đầu năm", "student.id_format", "notified", "", "canbo")
    followups.set_state("S1", "Đầu năm", "submission", "resolved", "Đã nộp lại", "truong_s1")
    followups.set_state("S1", "Giữa năm", "submission", "accepted", "Trường giải thể", "canbo")
    hist = followups.history("S1", "Đầu năm", "submission")
    assert [h["state"] for h in hist] == ["notified", "fixing", "resolved"]
    assert [h["by_user"] for h in hist] == ["canbo", "truong_s1", "truong_s1"]
    assert hist[0]["note"] == "Đã gọi điện" and hist[1]["note"] is None
    cur = followups.current("S1", "Đầu năm")
    assert [(c["issue"], c["state"]) for c in cur] == [
        ("student.id_format", "notified"),
        ("submission", "resolved"),
    ]
    assert followups.current_state("S1", "Giữa năm", "submission") == "accepted"
    assert followups.current_state("S2", "Đầu năm", "submission") is None
    assert len(followups.history("S1")) == 5
    assert len(audit.read(action="followup")) == 5


def test_bad_state_rejected(db):
    with pytest.raises(SoatError, match="trạng thái"):
        followups.set_state("S1", "Đầu năm", "submission", "done", None, "canbo")
    with pytest.raises(SoatError):
        followups.set_state("", "Đầu năm", "submission", "notified", None, "canbo")


def test_officer_marks_only_schools_in_scope(sqlite_db, con, sid):
    officer_a = _scope("unit_officer", units=("79760",), name="canbo_a")
    followups.set_state("S1", "Đầu năm", "submission", "notified", None, officer_a, con=con)
    followups.set_state(
        "S3", "Đầu năm", "submission", "notified", None, officer_a, con=con
    )  # commune under A
    with pytest.raises(SoatError, match="ngoài phạm vi"):
        followups.set_state("S2", "Đầu năm", "submission", "notified", None, officer_a, con=con)
    with pytest.raises(SoatError, match="ngoài phạm vi"):
        followups.set_state("NOPE", "Đầu năm", "submission", "notified", None, officer_a, con=con)
    with pytest.raises(SoatError, match="phạm vi"):
        followups.set_state(
            "S1", "Đầu năm", "submission", "notified", None, officer_a
        )  # no con: refuse
    officer_th = _scope("unit_officer", units=("79760",), levels=("TH",), name="canbo_th")
    with pytest.raises(SoatError, match="ngoài phạm vi"):
        followups.set_state("S3", "Đầu năm", "submission", "notified", None, officer_th, con=con)
    assert followups.history("S2") == []
    assert {r["school_code"] for r in followups.current()} == {"S1", "S3"}


def test_school_account_reports_its_own_progress_only(sqlite_db, con, sid):
    school = _scope("school", school="S1", name="truong_s1")
    followups.set_state("S1", "Đầu năm", "submission", "fixing", None, school, con=con)
    followups.set_state("S1", "Đầu năm", "submission", "resolved", None, school, con=con)
    with pytest.raises(SoatError, match="chỉ ghi"):
        followups.set_state("S1", "Đầu năm", "submission", "accepted", None, school, con=con)
    with pytest.raises(SoatError, match="ngoài phạm vi"):
        followups.set_state("S4", "Đầu năm", "submission", "fixing", None, school, con=con)


def test_admin_marks_any_school(sqlite_db, con, sid):
    followups.set_state(
        "S2", "Đầu năm", "submission", "accepted", None, _scope("province_admin"), con=con
    )
    followups.set_state("S2", "Đầu năm", "submission", "notified", None, Scope.admin())
    assert followups.current_state("S2", "Đầu năm", "submission") == "notified"
    # but not a school the snapshot does not have: stored, it was left out of every export
    with pytest.raises(SoatError, match="không có trường ZZZ"):
        followups.set_state(
            "ZZZ", "Đầu năm", "submission", "notified", None, _scope("province_admin"), con=con
        )
    assert followups.current_state("ZZZ", "Đầu năm", "submission") is None


def test_export_frame_is_scoped(sqlite_db, con, sid):
    for code in ("S1", "S2", "S3", "S4"):
        followups.set_state(code, "Đầu năm", "submission", "notified", None, "canbo")
        followups.set_state(code, "Đầu năm", "submission", "fixing", "x", "canbo")
    admin = followups.export_frame(con, sid, _scope("province_admin"))
    assert admin["school_code"].to_list() == ["S1", "S2", "S3", "S4"]
    assert set(admin["state_label"]) == {"Đang khắc phục"}
    assert set(admin["issue_label"]) == {"Nộp báo cáo"}  # the panel's words, in the export
    assert admin.filter(admin["school_code"] == "S2")["unit_code"].to_list() == ["79761"]
    officer_a = followups.export_frame(con, sid, _scope("unit_officer", units=("79760",)))
    assert officer_a["school_code"].to_list() == ["S1", "S3", "S4"]
    officer_b = followups.export_frame(con, None, _scope("unit_officer", units=("79761",)))
    assert officer_b["school_code"].to_list() == ["S2"]
    school = followups.export_frame(con, sid, _scope("school", school="S3"), history_rows=True)
    assert school["school_code"].to_list() == ["S3", "S3"]
    assert school["state"].to_list() == ["notified", "fixing"]
    # without a database to check the scope against, a restricted scope gets nothing
    assert followups.export_frame(None, None, _scope("unit_officer", units=("79760",))).height == 0
    assert followups.export_frame(None, None, Scope.admin()).height == 4
    assert followups.export_frame(con, sid, _scope("unit_officer", units=("99999",))).height == 0


def test_export_frame_times_are_vietnam_time(sqlite_db, con, sid):
    followups.set_state("S1", "Đầu năm", "submission", "notified", None, "canbo")
    stored = followups.history("S1", "Đầu năm", "submission")[-1]["at"]  # naive UTC
    frame = followups.export_frame(con, sid, Scope.admin())
    assert frame["at"].to_list() == [stored + dt.timedelta(hours=7)]
    assert followups.EXPORT_HEADERS["at"] == "Thời điểm (giờ Việt Nam)"


def test_the_export_names_the_period_and_writes_the_time_as_officers_read_it(sqlite_db, con, sid):
    """The follow-up export's 'Kỳ báo cáo' was the code ('giua_nam') and its CSV time ISO
    ('2026-12-07T15:48:41.637435'); docs/access.md promises dd/mm/yyyy HH:MM:SS."""
    import csv
    import io

    from dashboard.components.followup import to_csv

    followups.set_state("S1", "giua_nam", "submission", "notified", None, "canbo")
    frame = followups.export_frame(con, sid, Scope.admin())
    text = to_csv(frame).decode("utf-8-sig")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["Kỳ báo cáo"] == "Giữa năm"
    at = frame["at"][0]
    assert row["Thời điểm (giờ Việt Nam)"] == at.strftime("%d/%m/%Y %H:%M:%S")
