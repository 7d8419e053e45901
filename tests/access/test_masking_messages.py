"""Issue 19, finding 7: masked roles see no part of a birth date or a citizen ID in any
message (the export and the dashboard's record lists), and an export's title names the
scope it was cut to."""

from __future__ import annotations

import argparse
import datetime as dt
import io

import pytest

from soat import store
from soat import testing as T
from soat.engine import discover
from soat.exports import findings as findings_export
from soat.scope import (
    MESSAGE_MASKS,
    MESSAGES_WITHOUT_PERSONAL_PARTS,
    PERSONAL_FIELDS,
    Scope,
)

STAFF_OLD = dt.date(1960, 3, 15)  # 60 in 2020 (before 2021): retired "từ tháng 03/2020"
STUDENT_BORN = dt.date(2017, 4, 9)  # the ID says 18: "chữ số thứ 5–6 là 18 …"
STUDENT_ID = "079318000777"
STAFF_ID = "079060000555"  # a man born 1960: 4th digit 0, digits 5–6 '60'
STAFF_BORN_MISMATCH = dt.date(1985, 7, 21)
STAFF_ID_MISMATCH = "079088000999"  # digits 5–6 '88', born 1985


def test_every_check_reading_personal_data_is_classified():
    """A new check that reads a citizen ID, a birth date or an address must say how its
    message is masked (MESSAGE_MASKS) or why it needs nothing more."""
    reading = {
        c.id for c in discover() if any(r.split(".")[-1] in PERSONAL_FIELDS for r in c.reads)
    }
    classified = set(MESSAGE_MASKS) | set(MESSAGES_WITHOUT_PERSONAL_PARTS)
    assert reading - classified == set(), "classify in soat/scope.py"
    assert classified - reading == set(), "stale entries in soat/scope.py"


@pytest.fixture(scope="module")
def con():
    con = store.connect(":memory:")
    tables = T.valid_province(
        students=[
            T.student(student_code="HS1", citizen_id=STUDENT_ID, birth_date=STUDENT_BORN),
            T.student(student_code="HS2", citizen_id="079318000778"),
        ],
        staff=[
            T.staff_member(staff_code="GV1", citizen_id="079085000456"),
            T.staff_member(
                staff_code="GV2", birth_date=STAFF_OLD, citizen_id=STAFF_ID, gender="Nam"
            ),
            T.staff_member(
                staff_code="GV3",
                birth_date=STAFF_BORN_MISMATCH,
                citizen_id=STAFF_ID_MISMATCH,
                gender="Nam",
            ),
        ],
    )
    sid = T.run(con, tables)
    con.execute("UPDATE snapshots SET checked_at = now() WHERE snapshot_id = $s", {"s": sid})
    yield con
    con.close()


def _messages(con, scope: Scope) -> dict[str, list[str]]:
    df = findings_export.frame(con, 1, scope)
    out: dict[str, list[str]] = {}
    for r in df.iter_rows(named=True):
        out.setdefault(r["check_id"], []).append(r["message"])
    return out


MASKED = Scope(units=("79760",), role="unit_officer", user="canbo")


def _forbidden() -> list[str]:
    """Birth-date parts (day/month, month/year) and masked-out ID digits of the records."""
    parts = []
    for born in (STUDENT_BORN, STAFF_OLD, STAFF_BORN_MISMATCH):
        parts += [f"{born:%d/%m}", f"{born:%m/%Y}"]
    parts += ["03/2020"]  # GV2's retirement month (birth + 60 years)
    for cid in (STUDENT_ID, STAFF_ID, STAFF_ID_MISMATCH):
        parts += [cid, f"là {cid[4:6]} nhưng"]
    return parts


def test_fixture_fires_the_checks_with_personal_parts(con):
    shown = _messages(con, Scope.admin())  # unmasked: the parts are there
    assert any("từ tháng 03/2020" in m for m in shown["staff.retired_on_payroll"])
    assert any("là 18 nhưng năm sinh là 2017" in m for m in shown["student.id_mismatch"])
    assert any("là 88 nhưng năm sinh là 1985" in m for m in shown["staff.id_mismatch"])


def test_masked_export_messages_carry_no_personal_parts(con):
    shown = _messages(con, MASKED)
    assert "staff.retired_on_payroll" in shown and "student.id_mismatch" in shown
    text = "\n".join(m for ms in shown.values() for m in ms)
    for part in _forbidden():
        assert part not in text, part
    assert any(
        "chữ số thứ 5–6 là ** nhưng năm sinh là 2017" in m for m in shown["student.id_mismatch"]
    )
    (retired,) = shown["staff.retired_on_payroll"]
    assert "đến tuổi nghỉ hưu (" in retired and "từ tháng" not in retired


def test_masked_dashboard_record_lists_carry_no_personal_parts(con, monkeypatch):
    from dashboard import query

    class _Cursor:
        def __enter__(self):
            return con.cursor()

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(query.db, "cursor", lambda: _Cursor())
    monkeypatch.setattr(query.db, "path", lambda: ":memory:")
    import streamlit as st

    st.cache_data.clear()
    texts = []
    for check in ("staff.retired_on_payroll", "staff.id_mismatch", "student.id_mismatch"):
        df = query.drill_records(1, MASKED, query.Filters(), "S1", check, 0)
        assert df.height
        texts += df["message"].to_list()
    texts += query.school_findings(1, MASKED, query.Filters(), "S1", 0)["message"].to_list()
    st.cache_data.clear()
    joined = "\n".join(texts)
    for part in _forbidden():
        assert part not in joined, part


@pytest.fixture
def duck(tmp_path, sqlite_db):
    from .fixtures import build

    path = tmp_path / "soat.duckdb"
    c = store.connect(str(path))
    build(c)
    c.close()
    return path


def _title(scope: Scope, con, tmp_path) -> str:
    """The title row of `soat export late --format xlsx` run with `scope` (as a download)."""
    from openpyxl import load_workbook

    from soat.commands import export

    out = tmp_path / "late.xlsx"
    args = argparse.Namespace(kind="late", format="xlsx", output=str(out), db=None)
    args.snapshot = args.unit = args.level = args.period = args.check = None
    args.scope, args.con = scope, con
    export.run(args)
    wb = load_workbook(io.BytesIO(out.read_bytes()), read_only=True)
    return next(wb.worksheets[0].iter_rows(values_only=True))[0]


@pytest.mark.parametrize(
    "scope, expected",
    [
        (Scope.admin(), "Đơn vị: Toàn tỉnh"),
        (
            Scope(units=("79760",), role="unit_officer", user="a"),
            "Đơn vị: 79760 Phòng GD&ĐT Quận 1",
        ),
        (
            Scope(units=("79760",), levels=("TH",), role="unit_officer", user="a"),
            "Đơn vị: 79760 Phòng GD&ĐT Quận 1 (cấp TH)",
        ),
        (Scope(school="S2", unmasked=True, role="school", user="t"), "Đơn vị: Trường S2 (S2)"),
        (Scope(levels=("THCS",), role="province_staff", user="s"), "Đơn vị: Toàn tỉnh (cấp THCS)"),
    ],
)
def test_export_titles_name_the_real_scope(duck, tmp_path, scope, expected):
    con = store.connect(str(duck), read_only=True)
    try:
        title = _title(scope, con, tmp_path)
    finally:
        con.close()
    assert expected in title, title
    if scope.units or scope.school:
        assert "Toàn tỉnh" not in title
