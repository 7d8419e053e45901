"""`soat export findings --change new|persisting|resolved [--from ID]`: the findings columns
plus change and since, against the previous snapshot or a chosen earlier one."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from soat import store
from soat.cli import main
from soat.exports import findings as findings_export
from soat.scope import Scope
from soat.testing import (
    AS_OF,
    build_snapshot,
    klass,
    run,
    school,
    staff_member,
    student,
    unit,
    valid_province,
)

WEEK = dt.timedelta(days=7)
COLUMNS = [*findings_export.COLUMNS, "change", "since"]


def province(bad: list[str], bad_s2: list[str] = ()) -> dict:
    """S1 (unit 79760) pupils HS0..HS5, S2 (unit 79761) pupils HT0..HT1; those named in
    `bad` / `bad_s2` have an 11-digit citizen ID."""
    p = valid_province(
        units=[*valid_province()["units"], unit(unit_code="79761", unit_name="Quận 2")],
        schools=[school(), school(school_code="S2", unit_code="79761")],
        classes=[
            klass(declared_size=6),
            klass(school_code="S2", declared_size=2, homeroom_code="GV2"),
        ],
        staff=[
            staff_member(),
            staff_member(staff_code="GV2", school_code="S2", citizen_id="079085000457"),
        ],
        students=[
            student(
                student_code=f"HS{i}",
                citizen_id=f"079318000{i:02d}" if f"HS{i}" in bad else f"0793180001{i:02d}",
            )
            for i in range(6)
        ]
        + [
            student(
                student_code=f"HT{i}",
                school_code="S2",
                citizen_id=f"079318001{i:02d}" if f"HT{i}" in bad_s2 else f"0793180002{i:02d}",
            )
            for i in range(2)
        ],
    )
    return p


@pytest.fixture
def db(tmp_path):
    """Three checked snapshots a week apart: HS0, HS1, HS2 bad; then HS2 kept, HS0 and HS1
    fixed, HS3 and HT0 broken; then the same export loaded again."""
    path = str(tmp_path / "soat.duckdb")
    con = store.connect(path)
    run(con, province(["HS0", "HS1", "HS2"]), name="Tuần 1")
    run(con, province(["HS2", "HS3"], ["HT0"]), as_of=AS_OF + WEEK, name="Tuần 2")
    run(con, province(["HS2", "HS3"], ["HT0"]), as_of=AS_OF + WEEK, name="Tuần 2, nạp lại")
    con.close()
    return path


def export(capsys, db, *args) -> tuple[int, list[dict], str]:
    code = main(["export", "findings", *args, "--db", db])
    out, err = capsys.readouterr()
    return code, list(csv.DictReader(io.StringIO(out))), err


def keys(rows: list[dict]) -> list[tuple]:
    return sorted((r["check_id"], r["record_key"], r["change"], r["since"]) for r in rows)


def test_new_and_resolved_list_exactly_what_changed(capsys, db):
    d1, d2 = AS_OF.isoformat(), (AS_OF + WEEK).isoformat()
    code, rows, _ = export(capsys, db, "--snapshot", "2", "--change", "new")
    assert code == 0 and list(rows[0]) == COLUMNS
    assert keys(rows) == [
        ("student.id_format", "HS3", "new", d2),
        ("student.id_format", "HT0", "new", d2),
    ]
    code, rows, _ = export(capsys, db, "--snapshot", "2", "--change", "resolved")
    assert keys(rows) == [
        ("student.id_format", "HS0", "resolved", d1),
        ("student.id_format", "HS1", "resolved", d1),
    ]
    assert {r["value"] for r in rows} == {"07931800000", "07931800001"}  # the earlier rows
    code, rows, _ = export(capsys, db, "--snapshot", "2", "--change", "persisting")
    assert keys(rows) == [("student.id_format", "HS2", "persisting", d1)]


def test_two_loads_of_one_export_only_persist(capsys, db):
    for change in ("new", "resolved"):
        code, rows, _ = export(capsys, db, "--change", change)  # latest: snapshot 3
        assert code == 0 and rows == []
    code, rows, _ = export(capsys, db, "--change", "persisting")
    assert {r["change"] for r in rows} == {"persisting"} and len(rows) == 3


def test_from_compares_with_a_chosen_snapshot(capsys, db):
    d1, d2 = AS_OF.isoformat(), (AS_OF + WEEK).isoformat()
    code, rows, _ = export(capsys, db, "--from", "1")  # every change, against snapshot 1
    assert code == 0
    assert keys(rows) == [
        ("student.id_format", "HS0", "resolved", d1),
        ("student.id_format", "HS1", "resolved", d1),
        ("student.id_format", "HS2", "persisting", d1),
        ("student.id_format", "HS3", "new", d2),
        ("student.id_format", "HT0", "new", d2),
    ]
    code, rows, _ = export(capsys, db, "--from", "1", "--change", "resolved", "--unit", "79761")
    assert rows == []


def test_scope_filters_and_masking_apply_after_matching(db):
    con = store.connect(db, read_only=True)
    try:
        quan2 = Scope(units=("79761",), unmasked=False)
        df = findings_export.frame(con, 2, quan2, change="new")
        assert df["record_key"].to_list() == ["HT0"]
        assert df["value"].to_list() == ["0793*****00"]
        assert findings_export.frame(con, 2, quan2, change="resolved").height == 0
        s1 = findings_export.frame(con, 2, Scope(school="S1", unmasked=True), change="resolved")
        assert s1["record_key"].to_list() == ["HS0", "HS1"]
        assert s1["value"].to_list() == ["07931800000", "07931800001"]
        masked = findings_export.frame(con, 2, Scope(school="S1"), from_id=1, change="resolved")
        assert masked["value"].to_list() == ["0793*****00", "0793*****01"]
        assert findings_export.frame(con, 2, Scope.admin(), change="new", unit="79760")[
            "record_key"
        ].to_list() == ["HS3"]
    finally:
        con.close()


def test_xlsx_in_vietnamese(capsys, db, tmp_path):
    target = tmp_path / "moi.xlsx"
    assert (
        main(
            [
                "export",
                "findings",
                "--snapshot",
                "2",
                "--change",
                "new",
                "--format",
                "xlsx",
                "-o",
                str(target),
                "--db",
                db,
            ]
        )
        == 0
    )
    capsys.readouterr()
    ws = openpyxl.load_workbook(target).active
    title = ws.cell(1, 1).value
    assert "mới so với bản chụp 1 (ngày 15/10/2024)" in title
    headers = [c.value for c in ws[2]]
    assert headers[-2:] == ["Thay đổi", "Tồn tại từ ngày"]
    assert {ws.cell(r, len(headers) - 1).value for r in (3, 4)} == {"Mới"}
    assert ws.cell(3, len(headers)).value == dt.datetime(2024, 10, 22)


def test_refusals(capsys, db, tmp_path):
    code, _, err = export(capsys, db, "--snapshot", "1", "--change", "new")
    assert code == 1 and "không có bản chụp nào trước nó" in err
    code, _, err = export(capsys, db, "--snapshot", "2", "--from", "3")
    assert code == 1 and "--from" in err and "không có trước" in err
    code, _, err = export(capsys, db, "--snapshot", "2", "--from", "9")
    assert code == 1 and "không có bản chụp 9" in err
    code = main(["export", "late", "--change", "new", "--db", db])
    assert code == 2
    with pytest.raises(SystemExit) as exc:
        main(["export", "findings", "--change", "fixed", "--db", db])
    assert exc.value.code == 2
    capsys.readouterr()
    # a snapshot checked before the history existed (no history_baselines row)
    con = store.connect(db)
    con.execute("DELETE FROM history_baselines WHERE snapshot_id = 2")
    sid = build_snapshot(con, province([]), as_of=AS_OF + WEEK * 3)
    con.close()
    code, _, err = export(capsys, db, "--snapshot", "2", "--change", "new")
    assert code == 1 and "soat check --snapshot 2" in err
    code, _, err = export(capsys, db, "--snapshot", str(sid), "--change", "new")
    assert code == 1 and "chưa được kiểm tra" in err


def test_plain_export_keeps_its_columns(capsys, db):
    code, rows, _ = export(capsys, db)
    assert code == 0 and list(rows[0]) == findings_export.COLUMNS
