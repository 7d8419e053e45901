"""Exports: findings and schools frames, the xlsx writer and `soat export`."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from soat import store
from soat.cli import main
from soat.exports import findings as findings_export
from soat.exports import schools as schools_export
from soat.scope import Scope
from soat.testing import (
    build_snapshot,
    klass,
    province_unit,
    run,
    school,
    staff_member,
    student,
    unit,
)

FINDINGS_COLUMNS = [
    "check_id",
    "severity",
    "entity",
    "record_key",
    "school_code",
    "unit_code",
    "level",
    "field",
    "value",
    "message",
]
SCHOOLS_COLUMNS = [
    "school_code",
    "school_name",
    "unit_code",
    "unit_name",
    "level",
    "students",
    "staff",
    "classes",
    "errors",
    "warnings",
    "completeness",
    "identity_verified",
    "on_time_rate",
    "compliant",
]


def province() -> dict:
    """S1 (TH, unit 79760): an 11-digit citizen ID. S2 (MN&TH, unit 79761): a class without
    homeroom teacher at MN and no principal (school-wide)."""
    return {
        "units": [province_unit(), unit(), unit(unit_code="79761", unit_name="Phòng GD&ĐT Quận 2")],
        "schools": [
            school(),
            school(
                school_code="S2",
                school_name="Trường MN&TH Hoa Sen",
                unit_code="79761",
                levels=["MN", "TH"],
                principal=None,
            ),
        ],
        "classes": [
            klass(),
            klass(school_code="S2", homeroom_code="GV2"),
            klass(
                school_code="S2",
                class_code="L1",
                class_name="Lá 1",
                grade="MG5",
                homeroom_code=None,
            ),
        ],
        "students": [
            student(citizen_id="07931800012"),
            student(student_code="HS2", school_code="S2", citizen_id="079318000124"),
            student(
                student_code="HS3",
                school_code="S2",
                class_code="L1",
                birth_date=dt.date(2019, 2, 1),
                citizen_id="079319000125",
            ),
        ],
        "staff": [
            staff_member(),
            staff_member(staff_code="GV2", school_code="S2", citizen_id="079085000457"),
        ],
    }


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "soat.duckdb")
    con = store.connect(path)
    run(con, province())
    con.close()
    return path


@pytest.fixture
def ro(db):
    con = store.connect(db, read_only=True)
    yield con
    con.close()


def export(capsys, db, *args) -> tuple[int, str, str]:
    code = main(["export", *args, "--db", db])
    out, err = capsys.readouterr()
    return code, out, err


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


# ---- frames --------------------------------------------------------------------------


def test_findings_frame_columns_and_rows(ro):
    df = findings_export.frame(ro, 1, Scope.admin())
    assert df.columns == FINDINGS_COLUMNS
    got = sorted(
        zip(df["check_id"], df["record_key"], df["level"], strict=True), key=lambda r: (r[0], r[1])
    )
    assert got == [
        ("class.missing_field", "L1", "MN"),
        ("school.missing_field", "S2", None),
        ("student.id_format", "HS1", "TH"),
    ]


def test_findings_filters(ro):
    f = findings_export.frame
    assert f(ro, 1, Scope.admin(), unit="79760")["record_key"].to_list() == ["HS1"]
    assert sorted(f(ro, 1, Scope.admin(), unit="79")["record_key"].to_list()) == ["HS1", "L1", "S2"]
    # level MN: the MN class and the school-wide finding of S2 (which has MN), not HS1 (TH)
    assert sorted(f(ro, 1, Scope.admin(), level="MN")["record_key"].to_list()) == ["L1", "S2"]
    assert sorted(f(ro, 1, Scope.admin(), level="TH")["record_key"].to_list()) == ["HS1", "S2"]
    assert f(ro, 1, Scope.admin(), check="student.id_format")["record_key"].to_list() == ["HS1"]
    assert sorted(f(ro, 1, Scope.admin(), check="school")["record_key"].to_list()) == ["S2"]
    assert f(ro, 1, Scope.admin(), period="dau_nam").height == 3  # none tied to a period


def test_findings_scope_and_masking(ro):
    district = Scope(units=("79760",), unmasked=False)
    df = findings_export.frame(ro, 1, district)
    assert df["record_key"].to_list() == ["HS1"]
    assert df["value"].to_list() == ["0793*****12"]
    assert "07931800012" not in df["message"][0] and "'0793*****12'" in df["message"][0]
    assert findings_export.frame(ro, 1, Scope(levels=("MN",)))["record_key"].sort().to_list() == [
        "L1",
        "S2",
    ]
    assert findings_export.frame(ro, 1, Scope(school="S1"))["school_code"].to_list() == ["S1"]
    assert findings_export.frame(ro, 1, Scope.admin())["value"].to_list().count("07931800012") == 1


def test_schools_frame(ro):
    df = schools_export.frame(ro, 1, Scope.admin())
    assert df.columns == SCHOOLS_COLUMNS
    got = {(r["school_code"], r["level"]): r for r in df.to_dicts()}
    assert sorted(got) == [("S1", "TH"), ("S2", "MN"), ("S2", "TH")]
    assert got[("S1", "TH")]["unit_name"] == "Phòng GD&ĐT Quận 1"
    assert (got[("S2", "MN")]["errors"], got[("S2", "TH")]["errors"]) == (2, 1)
    assert got[("S2", "TH")]["compliant"] is False and got[("S1", "TH")]["compliant"] is False
    assert schools_export.frame(ro, 1, Scope.admin(), level="MN")["school_code"].to_list() == ["S2"]
    assert schools_export.frame(ro, 1, Scope(units=("79760",)))["school_code"].to_list() == ["S1"]
    assert schools_export.frame(ro, 1, Scope.admin(), check="class.missing_field")[
        "level"
    ].to_list() == ["MN"]


# ---- the command ---------------------------------------------------------------------


def test_csv_to_stdout_has_exact_columns(capsys, db):
    code, out, _ = export(capsys, db, "findings")
    assert code == 0
    assert out.splitlines()[0].split(",") == FINDINGS_COLUMNS
    assert len(rows(out)) == 3
    code, out, _ = export(capsys, db, "schools", "--level", "TH")
    assert code == 0 and out.splitlines()[0].split(",") == SCHOOLS_COLUMNS
    data = rows(out)
    assert [r["school_code"] for r in data] == ["S1", "S2"]
    assert 0 <= float(data[0]["completeness"]) <= 1
    assert data[0]["compliant"] == "false"


def test_csv_filters_and_output_file(capsys, db, tmp_path):
    target = tmp_path / "loi.csv"
    code, out, _ = export(
        capsys, db, "findings", "--unit", "79761", "--check", "class", "-o", str(target)
    )
    assert code == 0 and out == ""
    assert [r["record_key"] for r in rows(target.read_text(encoding="utf-8"))] == ["L1"]


def test_xlsx_findings(capsys, db, tmp_path):
    target = tmp_path / "loi.xlsx"
    code, _, _ = export(
        capsys, db, "findings", "--format", "xlsx", "-o", str(target), "--unit", "79760"
    )
    assert code == 0
    ws = openpyxl.load_workbook(target).active
    title = ws["A1"].value
    assert "Bản chụp 1" in title and "79760 Phòng GD&ĐT Quận 1" in title
    assert "15/10/2024" in title
    headers = [c.value for c in ws[2]]
    assert headers == [findings_export.HEADERS_VI[c] for c in FINDINGS_COLUMNS]
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref.startswith("A2:")
    assert ws["B3"].value == "Lỗi" and ws["D3"].value == "HS1"
    # the field as officers read it (the csv keeps the code)
    field = FINDINGS_COLUMNS.index("field") + 1
    codes = [r["field"] for r in rows(export(capsys, db, "findings", "--unit", "79760")[1])]
    shown = [ws.cell(row=3 + i, column=field).value for i in range(len(codes))]
    assert codes and all(c in findings_export.FIELD_LABELS for c in codes if c)
    assert shown == [findings_export.field_label(c) or None for c in codes]
    assert not set(shown) & set(codes)
    width = ws.column_dimensions["J"].width
    assert width >= len(ws["J3"].value) or width >= 60


def test_xlsx_schools_percent_format(capsys, db, tmp_path):
    target = tmp_path / "truong.xlsx"
    code, _, _ = export(capsys, db, "schools", "--format", "xlsx", "-o", str(target))
    assert code == 0
    ws = openpyxl.load_workbook(target).active
    headers = [c.value for c in ws[2]]
    assert headers == [schools_export.HEADERS_VI[c] for c in SCHOOLS_COLUMNS]
    col = SCHOOLS_COLUMNS.index("completeness") + 1
    cell = ws.cell(row=3, column=col)
    assert isinstance(cell.value, (int, float)) and cell.number_format == "0.0%"
    assert ws.cell(row=3, column=len(SCHOOLS_COLUMNS)).value in ("Có", "Không")
    assert ws.auto_filter.ref == "A2:N5"


def test_late_export_runs(capsys, db):
    code, out, err = export(capsys, db, "late")
    assert code == 0, err
    assert out.splitlines()[0].startswith("school_code,school_name")


def test_exit_codes(capsys, db, tmp_path):
    assert export(capsys, db, "findings", "--format", "xlsx")[0] == 2
    assert export(capsys, db, "findings", "--snapshot", "9")[0] == 1
    assert export(capsys, db, "findings", "--unit", "00000")[0] == 1
    assert export(capsys, str(tmp_path / "none.duckdb"), "findings")[0] == 1
    with pytest.raises(SystemExit) as exc:
        main(["export", "nothing", "--db", db])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["export", "findings", "--level", "XX", "--db", db])
    assert exc.value.code == 2
    capsys.readouterr()


def test_only_checked_snapshots(capsys, db):
    con = store.connect(db)
    build_snapshot(con, province(), name="chưa kiểm tra")  # snapshot 2, never checked
    con.close()
    code, _, err = export(capsys, db, "findings", "--snapshot", "2")
    assert code == 1 and "chưa được kiểm tra" in err
    code, out, _ = export(capsys, db, "findings")  # default: latest checked = 1
    assert code == 0 and len(rows(out)) == 3


def test_field_label_names_columns_and_data_types():
    assert findings_export.field_label("permanent_address") == "Địa chỉ thường trú"
    assert findings_export.field_label("citizen_id") == "Số định danh cá nhân"
    assert findings_export.field_label("budget") == "Ngân sách"  # submission checks
    assert findings_export.field_label("unknown_field") == "unknown_field"
    assert findings_export.field_label(None) == ""
