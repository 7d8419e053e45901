"""`soat export school-sheets`: one workbook per school of the scope, each with exactly that
school's rows of `soat export findings` and its late and missing items of `soat export late`."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from soat import audit, store
from soat.exports import school_sheets
from soat.scope import Scope
from soat.testing import cli

from .fixtures import QUAN_1, SCHOOLS

WHERE = "Sửa ở đâu"


def sheet_rows(data: bytes, sheet: str) -> tuple[str, list[str], list[tuple]]:
    """Title, header and data rows of one sheet."""
    ws = load_workbook(io.BytesIO(data), read_only=True)[sheet]
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    return rows[0][0], list(rows[1]), rows[2:]


def export_rows(db, kind: str, *args: str) -> tuple[list[str], list[tuple]]:
    out = db.parent / f"{kind}.xlsx"
    code, _, err = cli("export", kind, "--db", str(db), "--format", "xlsx", "-o", str(out), *args)
    assert code == 0, err
    _, header, rows = sheet_rows(out.read_bytes(), "Dữ liệu")
    return header, rows


def by_school(header: list[str], rows: list[tuple], column: str = "Mã trường") -> dict:
    i = header.index(column)
    out: dict = {}
    for r in rows:
        out.setdefault(r[i], []).append(r)
    return out


def test_one_workbook_per_school_with_exactly_its_findings_rows(duck, tmp_path):
    target = tmp_path / "phieu"
    code, out, _ = cli("export", "school-sheets", "--db", str(duck), "-o", str(target))
    assert code == 0
    assert "1 trường không có lỗi" in out  # S6
    f_head, f_rows = export_rows(duck, "findings")
    l_head, l_rows = export_rows(duck, "late")
    findings = by_school(f_head, f_rows)
    status = l_head.index("Trạng thái")
    late = by_school(l_head, [r for r in l_rows if r[status] in ("Chưa nộp", "Trễ hạn")])
    files = sorted(p.name for p in target.iterdir())
    assert files == [
        "S1_Truong_Tieu_hoc_Le_Loi.xlsx",
        "S2_Truong_THCS_Nguyen_Du.xlsx",
        "S3_Truong_THCS_Ben_Nghe.xlsx",
        "S4_Truong_Tieu_hoc_Ky_Dong.xlsx",
        "S5_Truong_THPT_Trung_Vuong.xlsx",
    ]
    assert set(findings) | set(late) == {"S1", "S2", "S3", "S4", "S5"}
    for name in files:
        school = name.split("_")[0]
        data = (target / name).read_bytes()
        title, header, rows = sheet_rows(data, school_sheets.SHEET_FINDINGS)
        assert SCHOOLS[school][0] in title and "Số liệu ngày 15/10/2024" in title
        assert header[:-1] == f_head and header[-1] == WHERE
        assert [r[:-1] for r in rows] == findings.get(school, [])
        title, header, rows = sheet_rows(data, school_sheets.SHEET_LATE)
        assert header == l_head and rows == late.get(school, [])
    # what to fix and where: the record and the field, on the school software's screen
    _, header, rows = sheet_rows((target / files[0]).read_bytes(), school_sheets.SHEET_FINDINGS)
    assert {r[-1] for r in rows} == {
        "Hồ sơ học sinh HS11 › Số định danh cá nhân",
        "Hồ sơ học sinh HS12 › Số định danh cá nhân",
        "Nộp dữ liệu lên CSDL ngành › Cán bộ",
        "Nộp dữ liệu lên CSDL ngành › Học sinh",
    }


def test_filters_zip_and_audit(duck, tmp_path):
    z = tmp_path / "quan1_th.zip"
    code, _, _ = cli(
        "export",
        "school-sheets",
        "--db",
        str(duck),
        "--unit",
        "79760",
        "--level",
        "TH",
        "-o",
        str(z),
    )
    assert code == 0
    names = zipfile.ZipFile(z).namelist()
    assert names == ["S1_Truong_Tieu_hoc_Le_Loi.xlsx"]
    f_head, f_rows = export_rows(duck, "findings", "--unit", "79760", "--level", "TH")
    data = zipfile.ZipFile(z).read(names[0])
    _, _, rows = sheet_rows(data, school_sheets.SHEET_FINDINGS)
    assert [r[:-1] for r in rows] == by_school(f_head, f_rows)["S1"]
    ev = [e for e in audit.read(action="export") if e["detail"]["kind"] == "school-sheets"]
    assert len(ev) == 1
    assert ev[0]["detail"]["filters"] == {
        "snapshot": 1,
        "unit": "79760",
        "level": "TH",
        "output": str(z),
        "files": 1,
    }
    assert ev[0]["detail"]["format"] == "xlsx" and ev[0]["rows"] == len(rows)


def test_all_schools_writes_the_clean_ones_too(duck, tmp_path):
    target = tmp_path / "all"
    code, _, _ = cli(
        "export", "school-sheets", "--db", str(duck), "--all-schools", "-o", str(target)
    )
    assert code == 0
    clean = target / "S6_Truong_Tieu_hoc_Hoa_Binh.xlsx"
    title, _, rows = sheet_rows(clean.read_bytes(), school_sheets.SHEET_FINDINGS)
    assert rows == [] and "không có lỗi cần sửa" in title
    assert len(list(target.iterdir())) == len(SCHOOLS)


def test_a_unit_officer_gets_only_their_schools_masked(duck):
    con = store.connect(str(duck), read_only=True)
    try:
        officer = Scope(units=("79760",), user="quan1", role="unit_officer")
        sheets = school_sheets.build(con, 1, officer, all_schools=True)
        assert {s.school_code for s in sheets} == QUAN_1
        ids = [
            v
            for s in sheets
            for f, v in s.findings.select("field", "value").iter_rows()
            if f == "citizen_id"
        ]
        assert ids and all(v.startswith("0793") and "****" in v for v in ids)
        school = Scope(school="S4", unmasked=True, user="s4", role="school")
        assert [s.school_code for s in school_sheets.build(con, 1, school)] == ["S4"]
    finally:
        con.close()


def test_usage_errors(duck, tmp_path):
    assert cli("export", "school-sheets", "--db", str(duck))[0] == 2
    assert cli("export", "school-sheets", "--db", str(duck), "--format", "csv", "-o", "x")[0] == 2
    code, _, err = cli("export", "school-sheets", "--db", str(duck), "--unit", "9", "-o", "x")
    assert code == 1 and "không có đơn vị '9'" in err


def test_file_names_are_safe():
    assert school_sheets.sheet_file_name("S1", "Trường Mầm non Đồng Xoài") == (
        "S1_Truong_Mam_non_Dong_Xoai.xlsx"
    )
    assert school_sheets.sheet_file_name("../x", None) == "x.xlsx"
    # a 300-digit code (one bad row) stays within file systems' 255-byte names
    long_name = school_sheets.sheet_file_name("7" * 300, "Trường " * 50)
    assert len(long_name) <= 106 and long_name.startswith("7" * 40 + "_Truong")
    # Windows' device names cannot be files, whatever the extension
    for code in ("CON", "aux", "Lpt1", "nul"):
        assert school_sheets.sheet_file_name(code, None) == f"truong_{code}.xlsx"
    assert school_sheets.sheet_file_name("CON", "Trường A") == "CON_Truong_A.xlsx"


@pytest.mark.parametrize("as_zip", [False, True])
def test_schools_whose_names_collide_each_get_their_file(duck, tmp_path, as_zip):
    """Codes and names that differ only by unsafe characters, one of them colliding with
    the renamed file of another ('S_T_3'): every school keeps its own workbook."""
    import dataclasses

    con = store.connect(str(duck), read_only=True)
    try:
        base = school_sheets.build(con, 1, Scope.admin())[0]
    finally:
        con.close()
    pairs = [("S", "T 3"), ("S-", "T"), ("S.", "T"), ("s", "t")]
    sheets = [dataclasses.replace(base, school_code=c, school_name=n) for c, n in pairs]
    out = tmp_path / ("phieu.zip" if as_zip else "phieu")
    names = school_sheets.write(sheets, {"snapshot_id": 1}, out)
    assert len({n.lower() for n in names}) == len(pairs), names
    if as_zip:
        with zipfile.ZipFile(out) as z:
            assert sorted(z.namelist()) == sorted(names)
    else:
        assert sorted(p.name for p in out.iterdir()) == sorted(names)


def test_a_school_outside_the_levels_with_a_finding_in_them_is_named(duck):
    """A THCS-only account's sheet for a school listed as MN only, whose lower-secondary
    records have findings (and which has no late item, whose row would name it), was
    titled "Mã trường không có trong danh sách trường (S2)"."""
    con = store.connect(str(duck))
    try:
        con.execute("UPDATE schools SET levels = ['MN'] WHERE school_code = 'S2'")
        staff = Scope(levels=("THCS",), user="cv", role="province_staff")
        (s2,) = [s for s in school_sheets.build(con, 1, staff) if s.school_code == "S2"]
        assert s2.findings.height > 0 and s2.late.height == 0
        assert s2.school_name == "Trường THCS Nguyễn Du" and s2.unit_name
        snapshot = {"snapshot_id": 1, "as_of": None, "name": "x"}
        data = school_sheets.workbook_bytes(s2, snapshot)
        ws = load_workbook(io.BytesIO(data), read_only=True)
        titles = [next(w.iter_rows(values_only=True))[0] for w in ws.worksheets]
        assert all("không có trong danh sách" not in t for t in titles), titles
    finally:
        con.close()
