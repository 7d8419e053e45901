"""Files as offices really make them (issue 18): every row of the issue's table, loaded from
the committed corpus tests/data/office/ (made by office_corpus.py), has its outcome here:
the data loads as the office meant it, or the values that could not be read are rejects
and warnings naming file, sheet, row and column. docs/loading.md maps each case to it."""

from __future__ import annotations

import datetime as dt
import filecmp
import shutil
from pathlib import Path

import office_corpus
import pytest
from loader_helpers import (
    SCHOOLS,
    STUDENT_HEAD,
    load,
    messages,
    rejects,
    rows,
    student_rows,
    write_xlsx,
)

from soat.engine import run_checks

CORPUS = office_corpus.ROOT


def _case(name: str) -> Path:
    return CORPUS / name


def _warnings(con, sid, text: str) -> list[dict]:
    return [m for m in messages(con, sid) if m["severity"] == "warning" and text in m["message"]]


def _students(con, sid, cols="_source, _sheet, _row, student_code, full_name, birth_date"):
    return [tuple(r.values()) for r in rows(con, "students", sid, cols)]


def _runs(con, sid) -> dict[str, tuple[str, str]]:
    return {
        r[0]: (r[1], r[2])
        for r in con.execute(
            "SELECT check_id, status, detail FROM check_runs WHERE snapshot_id = $s", {"s": sid}
        ).fetchall()
    }


def test_the_committed_corpus_is_what_the_helper_writes(tmp_path):
    office_corpus.build(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(CORPUS) for p in CORPUS.rglob("*") if p.is_file())
    assert made == committed
    different = [str(p) for p in made if not filecmp.cmp(tmp_path / p, CORPUS / p, shallow=False)]
    assert different == [], "run: python tests/loaders/office_corpus.py"


# ---- 1: line endings --------------------------------------------------------------------


@pytest.mark.parametrize("case", ["01_line_endings", "01b_utf16_line_endings"])
def test_01_mixed_line_endings_load_every_row_on_its_line(con, case):
    r = load(con, _case(case))
    got = _students(con, r.snapshot_id, "_row, student_code, full_name")
    assert got == [
        (2, "HS1", "Nguyễn Văn An"),
        (3, "HS2", "Trần Thị Bình"),
        (4, "HS3", "Lê Hoàng Cường"),
        (5, "HS4", "Phạm Thị Dung"),
    ]
    assert rejects(con, r.snapshot_id) == []


def test_01_a_mixed_line_far_down_a_big_file_is_read_on_a_second_attempt(con, tmp_path):
    """The first 256 KB are plain CRLF, so the INSERT meets the bare LF: DuckDB's reader
    stops, the load is rolled back and written again with the file read from a copy with
    LF line endings; no English error, every row on its line."""
    d = tmp_path / "big"
    d.mkdir()
    (d / "truong.csv").write_text("\n".join(",".join(r) for r in SCHOOLS) + "\n")
    n = 6000
    lines = [",".join(STUDENT_HEAD)] + [
        f"HS{i},S1,Học sinh {i},01/03/2018,0793180{i:05d}" for i in range(n)
    ]
    text = "\r\n".join(lines[: n - 10]) + "\n" + "\r\n".join(lines[n - 10 :]) + "\r\n"
    assert len(text.encode()) > 300_000
    (d / "hoc_sinh.csv").write_text(text, encoding="utf-8", newline="")
    r = load(con, d)
    assert r.rows["students"] == n
    got = con.execute(
        "SELECT min(_row), max(_row), count(DISTINCT _row) FROM students WHERE snapshot_id = $s",
        {"s": r.snapshot_id},
    ).fetchall()
    assert got == [(2, n + 1, n)]
    assert rejects(con, r.snapshot_id) == []


# ---- 2, 3: sheets ------------------------------------------------------------------------


def test_02_a_hidden_first_sheet_is_skipped_and_the_table_found(con):
    r = load(con, _case("02_hidden_first_sheet"))
    assert r.rows == {"schools": 2, "students": 4}
    sheets = {(m["source"], m["sheet"], m["message"]) for m in messages(con, r.snapshot_id)}
    assert ("truong.xlsx", "DanhMuc", "bỏ qua sheet ẩn") in sheets
    assert ("hoc_sinh.xlsx", "DanhMuc", "bỏ qua sheet ẩn") in sheets
    assert {x[1] for x in _students(con, r.snapshot_id)} == {"DuLieu"}


def test_03_every_school_sheet_is_appended(con):
    r = load(con, _case("03_sheet_per_school"))
    assert _students(con, r.snapshot_id, "_sheet, _row, student_code") == [
        ("Trường S2", 2, "HS3"),
        ("Trường S1", 3, "HS1"),
        ("Trường S2", 3, "HS4"),
        ("Trường S1", 4, "HS2"),
    ]
    notes = [m for m in messages(con, r.snapshot_id) if m["sheet"] == "Hướng dẫn"]
    assert notes and "bỏ qua" in notes[0]["message"]
    assert "hoc_sinh.xlsx / Hướng dẫn" not in r.skipped or True
    # both schools have their students: no false school.no_records
    run_checks(con, r.snapshot_id)
    keys = con.execute(
        "SELECT DISTINCT school_code FROM students WHERE snapshot_id = $s ORDER BY 1",
        {"s": r.snapshot_id},
    ).fetchall()
    assert keys == [("S1",), ("S2",)]


# ---- 4, 5: headers ----------------------------------------------------------------------


def test_04_a_two_row_header_is_read_as_its_lower_row(con):
    r = load(con, _case("04_two_row_header"))
    got = rows(con, "students", r.snapshot_id)
    assert [g["student_code"] for g in got] == ["HS1", "HS2", "HS3", "HS4"]  # no sub-header row
    first = got[0]
    assert (first["_row"], first["full_name"], first["birth_date"], first["gender"]) == (
        4,
        "Nguyễn Văn An",
        dt.date(2018, 3, 2),
        "Nam",
    )
    assert (first["ethnicity"], first["citizen_id"], first["id_verified"]) == (
        "Kinh",
        "079218000101",
        "Đã xác thực",
    )
    header = con.execute("SELECT header_row FROM snapshot_tables WHERE table_name = 'students'")
    assert header.fetchall() == [(3,)]


def test_05_header_variants_are_read_and_the_checks_run(con):
    r = load(con, _case("05_header_variants"))
    got = rows(con, "students", r.snapshot_id)
    assert [(g["student_code"], g["citizen_id"]) for g in got][:2] == [
        ("HS1", "079218000101"),
        ("HS2", "07931800010"),
    ]
    assert got[0]["birth_date"] == dt.date(2018, 3, 2)
    assert got[0]["permanent_address"] == "Phường 1"
    run_checks(con, r.snapshot_id)
    assert _runs(con, r.snapshot_id)["student.id_format"][0] == "ran"
    found = con.execute(
        "SELECT record_key FROM findings WHERE check_id = 'student.id_format'"
    ).fetchall()
    assert found == [("HS2",)]


def test_05_a_missing_column_is_a_warning_and_its_checks_do_not_run(con):
    r = load(con, _case("05b_missing_column"))
    (w,) = _warnings(con, r.snapshot_id, "thiếu cột Số định danh cá nhân")
    assert "Số CCCD/Mã định danh" in w["message"] and "student.id_format" in w["message"]
    assert w["source"] == "hoc_sinh.csv"
    run_checks(con, r.snapshot_id)
    status, detail = _runs(con, r.snapshot_id)["student.id_format"]
    assert status == "not_run" and detail.startswith("thiếu cột Số định danh cá nhân")
    assert "tiêu đề chấp nhận: Số định danh cá nhân, Số CCCD" in detail
    assert _runs(con, r.snapshot_id)["student.dob_invalid"][0] == "ran"


# ---- 6: code pages ----------------------------------------------------------------------


def test_06_a_windows_1258_file_with_ascii_headers_loads_every_row(con):
    r = load(con, _case("06_cp1258"))
    got = rows(con, "classes", r.snapshot_id)
    assert [g["class_name"] for g in got] == [
        "Lớp 1A Hoa Sen",
        "Lớp 1B Hướng Dương",
        "Lớp 6A Trường Sơn",
    ]
    assert rejects(con, r.snapshot_id) == []
    (w,) = _warnings(con, r.snapshot_id, "Windows-1258")
    assert w["source"] == "lop.csv" and "CSV UTF-8" in w["message"]


def test_06_a_windows_1252_file_says_letters_were_lost(con):
    r = load(con, _case("06b_cp1252"))
    assert r.rows["staff"] == 2 and rejects(con, r.snapshot_id) == []
    (w,) = _warnings(con, r.snapshot_id, "Windows-1252")
    assert "'?'" in w["message"] and "CSV UTF-8" in w["message"]
    # the '?' Excel wrote are kept as they are (visible), never replaced by a guess
    assert rows(con, "staff", r.snapshot_id)[0]["full_name"] == "Nguy?n Th? Hà"


def test_06_a_legacy_file_whose_first_256_kb_are_ascii(con, tmp_path):
    """Windows-1258 bytes only far down the file: the INSERT rejects their lines as not
    UTF-8, the whole file holds no UTF-8 letter, so it is read again, transcoded."""
    from loader_helpers import encode_cp1258

    d = tmp_path / "late"
    d.mkdir()
    (d / "truong.csv").write_text("\n".join(",".join(r) for r in SCHOOLS) + "\n")
    head = "student_code,school_code,full_name,birth_date\n"
    plain = "".join(f"HS{i},S1,Hoc sinh {i},01/03/2018\n" for i in range(9000))
    late = "HSx,S1,Trần Thị Ánh,01/03/2018\n"
    (d / "students.csv").write_bytes((head + plain).encode() + encode_cp1258(late))
    r = load(con, d)
    assert r.rows["students"] == 9001 and rejects(con, r.snapshot_id) == []
    last = con.execute("SELECT full_name, _row FROM students WHERE student_code = 'HSx'").fetchall()
    assert last == [("Trần Thị Ánh", 9002)]
    assert _warnings(con, r.snapshot_id, "Windows-1258")


# ---- 7, 8: dates ------------------------------------------------------------------------


def test_07_two_digit_years_are_rejected_never_year_0005(con):
    r = load(con, _case("07_two_digit_years"))
    got = {g["student_code"]: g for g in rows(con, "students", r.snapshot_id)}
    assert got["HS1"]["birth_date"] is None and got["HS1"]["birth_date_raw"] == "05-03-24"
    assert got["HS2"]["birth_date"] == dt.date(2018, 7, 15)
    rej = rejects(con, r.snapshot_id)
    assert [(x["row"], x["column"], x["value"]) for x in rej] == [
        (2, "Ngày sinh", "05-03-24"),
        (4, "Ngày sinh", "28/11/12"),
    ]
    assert all("năm chỉ có 2 chữ số" in x["reason"] for x in rej)


def test_08_a_month_first_column_is_read_month_first_with_a_warning(con):
    r = load(con, _case("08_us_dates"))
    got = [g["birth_date"] for g in rows(con, "students", r.snapshot_id)]
    assert got == [
        dt.date(2018, 3, 2),
        dt.date(2018, 7, 15),
        dt.date(2012, 11, 28),
        dt.date(2012, 1, 9),
    ]
    (w,) = _warnings(con, r.snapshot_id, "tháng/ngày")
    assert w["column"] == "Ngày sinh" and "7/15/2018" in w["message"]
    assert rejects(con, r.snapshot_id) == []


def test_08_a_column_with_both_orders_rejects_its_ambiguous_values(con):
    r = load(con, _case("08b_mixed_dates"))
    got = {g["student_code"]: g["birth_date"] for g in rows(con, "students", r.snapshot_id)}
    assert got == {
        "HS1": None,  # 03/02/2018: 3 February or 2 March
        "HS2": dt.date(2018, 7, 15),  # 7/15/2018: month first only
        "HS3": dt.date(2012, 11, 28),  # 28/11/2012: day first only
        "HS4": None,
    }
    rej = rejects(con, r.snapshot_id)
    assert [(x["row"], x["value"]) for x in rej] == [(2, "03/02/2018"), (5, "09/01/2012")]
    assert all("không rõ là ngày/tháng hay tháng/ngày" in x["reason"] for x in rej)
    assert _warnings(con, r.snapshot_id, "ghi lẫn ngày/tháng")


# ---- 9, 10, 11: rows and files ----------------------------------------------------------


def test_09_rows_missing_their_trailing_fields_are_padded(con):
    r = load(con, _case("09_trailing_fields"))
    got = _students(con, r.snapshot_id, "_row, student_code, full_name, birth_date")
    assert got[1] == (3, "HS2", "Trần Thị Bình", None)
    assert len(got) == 4 and rejects(con, r.snapshot_id) == []
    (w,) = _warnings(con, r.snapshot_id, "ít trường hơn dòng tiêu đề")
    assert w["row"] == 3 and "dòng 3" in w["message"]


def test_10_one_file_per_school_and_sub_folders_are_appended(con):
    r = load(con, _case("10_file_per_school"))
    got = sorted(_students(con, r.snapshot_id, "_source, _sheet, _row, student_code"))
    assert got == [
        ("hoc_sinh (2).xlsx", "HS", 2, "HS2"),
        ("hoc_sinh/truong3.csv", None, 2, "HS3"),
        ("hoc_sinh_truong1.xlsx", "HS", 2, "HS1"),
        ("truong4/hoc_sinh.csv", None, 2, "HS4"),
    ]
    assert r.skipped == ["truong4/ghi_chu.txt"]
    assert any("ghép từ 4 tệp/sheet" in m["message"] for m in messages(con, r.snapshot_id))


def test_10_the_same_file_sent_twice_is_read_once(con, tmp_path):
    d = tmp_path / "twice"
    shutil.copytree(_case("10_file_per_school"), d)
    shutil.copy(d / "hoc_sinh_truong1.xlsx", d / "hoc_sinh_truong1 (1).xlsx")
    r = load(con, d)
    assert r.rows["students"] == 4
    (w,) = _warnings(con, r.snapshot_id, "giống hệt tệp")
    assert {w["source"], w["message"].split("'")[1]} == {
        "hoc_sinh_truong1.xlsx",
        "hoc_sinh_truong1 (1).xlsx",
    }


def test_11_a_title_and_header_block_inside_the_data_is_skipped(con):
    r = load(con, _case("11_repeated_header"))
    students = _students(con, r.snapshot_id, "_row, student_code")
    assert students == [(2, "HS1"), (3, "HS2"), (6, "HS3"), (7, "HS4")]
    staff = [(g["_row"], g["staff_code"]) for g in rows(con, "staff", r.snapshot_id)]
    assert staff == [(2, "GV1"), (7, "GV2")]
    csv_w = [
        m
        for m in _warnings(con, r.snapshot_id, "tiêu đề bảng lặp lại")
        if m["source"] == "hoc_sinh.csv"
    ]
    assert [m["message"][:9] for m in csv_w] == ["dòng 4–5:"]
    xlsx_w = [
        m for m in _warnings(con, r.snapshot_id, "tiêu đề bảng lặp lại") if m["sheet"] == "CB"
    ]
    assert [m["message"][:9] for m in xlsx_w] == ["dòng 4–6:"]
    assert rejects(con, r.snapshot_id) == []


# ---- 12, 13, 15: cell types -------------------------------------------------------------


@pytest.fixture(params=["xml", "typed load"])
def cell_types(request, monkeypatch):
    """Cell types read both ways: a few cells in the sheet's XML, many by loading the
    sheet again typed."""
    if request.param == "typed load":
        from loaders import read

        monkeypatch.setattr(read, "FEW_CELLS", 0)
    return request.param


def test_12_only_number_cells_of_ids_are_padded(con, cell_types):
    r = load(con, _case("12_id_cells"))
    got = [g["citizen_id"] for g in rows(con, "students", r.snapshot_id)]
    assert got == ["079218000101", "79318000102", "123456789", "23456789"]
    run_checks(con, r.snapshot_id)
    msgs = dict(
        con.execute(
            "SELECT record_key, message FROM findings WHERE check_id = 'student.id_format'"
        ).fetchall()
    )
    assert set(msgs) == {"HS2", "HS3", "HS4"}
    assert "có 11 ký tự, cần đúng 12 chữ số" in msgs["HS2"]
    assert "là số CMND cũ (9 chữ số)" in msgs["HS3"]


def test_13_number_cells_keep_their_value_text_follows_vietnamese_rules(con, cell_types):
    r = load(con, _case("13_number_cells"))
    amounts = [g["amount"] for g in rows(con, "budget", r.snapshot_id)]
    assert amounts == [1.125, 1125.0, 1250000.0]
    sizes = [
        (g["declared_size"], g["declared_size_raw"]) for g in rows(con, "classes", r.snapshot_id)
    ]
    assert sizes == [(35, None), (None, "3 5")]
    (rej,) = rejects(con, r.snapshot_id)
    assert (rej["source"], rej["sheet"], rej["row"], rej["column"], rej["value"]) == (
        "lop.xlsx",
        "Lớp",
        3,
        "Sĩ số",
        "3 5",
    )


def test_15_error_cells_formulas_and_codes_in_number_cells_are_named(con, cell_types):
    r = load(con, _case("15_excel_errors"))
    got = {g["student_code"]: g for g in rows(con, "students", r.snapshot_id)}
    assert set(got) == {"0101", "0102", "103", "0104"}
    assert got["0101"]["citizen_id"] is None and got["0102"]["birth_date"] is None
    rej = [
        (x["row"], x["column"], x["value"], x["reason"][:30]) for x in rejects(con, r.snapshot_id)
    ]
    assert rej == [
        (2, "Số định danh cá nhân", "#N/A", "ô lỗi công thức Excel, không c"),
        (3, "Ngày sinh", None, "ô có công thức nhưng không có "),
    ]
    (w,) = _warnings(con, r.snapshot_id, "Excel bỏ mất số 0 ở đầu")
    assert (w["row"], w["column"]) == (4, "Mã học sinh") and "'103'" in w["message"]


# ---- 14: legacy fonts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "table", "column", "expected", "kind"),
    [
        (
            "14_tcvn3",
            "students",
            "full_name",
            ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường"],
            "TCVN3",
        ),
        (
            "14b_tcvn3_cells",
            "staff",
            "full_name",
            ["Đặng Thị Hoa", "Phạm Văn Hùng", "Lý Thu Hà"],
            "TCVN3",
        ),
        (
            "14c_vni",
            "students",
            "full_name",
            ["Nguyễn Văn An", "Trần Thị Bình", "Đặng Hữu Phước"],
            "VNI",
        ),
    ],
)
def test_14_legacy_font_text_is_converted_with_a_warning(con, case, table, column, expected, kind):
    r = load(con, _case(case))
    assert [g[column] for g in rows(con, table, r.snapshot_id)] == expected
    assert _warnings(con, r.snapshot_id, f"bảng mã {kind}")
    if case == "14b_tcvn3_cells":
        staff = rows(con, table, r.snapshot_id)
        assert [g["position"] for g in staff] == ["Giáo viên", "Hiệu trưởng", "Giáo viên"]
        assert [g["qualification"] for g in staff] == ["Đại học", "Thạc sĩ", "Cao đẳng"]
    if case == "14_tcvn3":
        assert rows(con, table, r.snapshot_id)[1]["gender"] == "Nữ"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_14_a_legacy_warning_never_quotes_an_address(con, tmp_path, kind):
    """Load messages are read by roles that see personal data masked: the example of a
    legacy-font cell is taken from a column that is not personal (here the name, though
    the address comes first), and a file whose only legacy cells are addresses is
    converted and warned about without an example."""
    head = ["Mã học sinh", "Mã trường", "Địa chỉ thường trú", "Họ và tên", "Ngày sinh"]
    data = [
        ["HS1", "S1", "Sè 5 ®­êng Lª Lîi", "NguyÔn V¨n An", "02/03/2018"],
        ["HS2", "S1", "Th«n §«ng, x· Hßa B×nh", "TrÇn ThÞ B×nh", "15/07/2018"],
    ]
    for only_addresses in (False, True):
        d = tmp_path / f"{kind}_{only_addresses}"
        d.mkdir()
        office_corpus._schools(d)
        body = [r[:3] + (["Nguyễn An", r[4]] if only_addresses else r[3:]) for r in data]
        if kind == "csv":
            (d / "hoc_sinh.csv").write_text(office_corpus._csv([head, *body]), encoding="utf-8")
        else:
            wb = office_corpus._workbook(d / "hoc_sinh.xlsx")
            office_corpus._rows(wb.add_worksheet("HS"), [head, *body])
            wb.close()
        r = load(con, d)
        got = rows(con, "students", r.snapshot_id)
        assert got[0]["permanent_address"] == "Số 5 đường Lê Lợi"  # converted
        (w,) = _warnings(con, r.snapshot_id, "bảng mã TCVN3")
        assert "Lê Lợi" not in w["message"] and "Sè 5" not in w["message"]
        if not only_addresses:
            assert "'NguyÔn V¨n An' → 'Nguyễn Văn An'" in w["message"]


# ---- 16–19: cells with line breaks, cells under no header, a far cell, an HTML .xls ------


def test_16_line_breaks_in_a_title_and_a_header_cell(con):
    r = load(con, _case("16_line_breaks_in_cells"))
    got = rows(con, "students", r.snapshot_id, "_row, student_code, birth_date")
    assert [(g["_row"], g["student_code"]) for g in got] == [
        (5, "HS1"),  # the title spans lines 1–2, the header lines 3–4
        (6, "HS2"),
        (7, "HS3"),
        (8, "HS4"),
    ]
    assert str(got[0]["birth_date"]) == "2018-03-02" and r.rejected == 0


def test_17_cells_under_no_header_are_kept_or_warned(con):
    r = load(con, _case("17_unheaded_cells"))
    got = rows(con, "students", r.snapshot_id)
    assert [g["school_code"] for g in got] == ["S1", "S1", "S2", "S2"]  # merged down
    assert [g["full_name"] for g in got][:2] == ["Nguyễn Văn", "Trần Thị"]
    assert [dict(g["_extra"])["(cột D)"] for g in got] == ["An", "Bình", "Cường", "Dung"]
    assert dict(got[0]["_extra"])["Ghi chú (cột G)"] == "GC1-2"
    for text in ("vùng ô gộp", "cột D không có tiêu đề", "'Ghi chú' lặp lại", "bên phải"):
        assert _warnings(con, r.snapshot_id, text), text


def test_18_a_far_cell_skips_the_sheet_with_a_warning(con):
    r = load(con, _case("18_far_cell"))
    assert "students" not in r.rows and r.rows["schools"] == 2
    (w,) = _warnings(con, r.snapshot_id, "XFD1048576")
    assert "xoá các cột, dòng trống" in w["message"]


def test_19_an_html_xls_is_named_and_the_rest_loads(con):
    r = load(con, _case("19_xls_html"))
    (w,) = _warnings(con, r.snapshot_id, "trang HTML đặt đuôi .xls")
    assert w["source"] == "hoc_sinh.xls" and r.rows["schools"] == 2


# ---- the same source twice --------------------------------------------------------------


def test_loading_the_same_source_twice_names_the_identical_snapshot(con, tmp_path, capsys):
    from soat.cli import main

    d = tmp_path / "src"
    shutil.copytree(_case("03_sheet_per_school"), d)
    db = str(tmp_path / "s.duckdb")
    assert main(["load", str(d), "--db", db]) == 0
    assert "giống hệt" not in capsys.readouterr().out
    assert main(["load", str(d), "--db", db, "--as-of", "2024-10-15"]) == 0
    assert "Dữ liệu nạp giống hệt bản chụp 1" in capsys.readouterr().out
    (d / "truong.csv").write_text(
        (d / "truong.csv").read_text(encoding="utf-8").replace("Lê Lợi", "Lê Lai"),
        encoding="utf-8",
    )
    assert main(["load", str(d), "--db", db]) == 0
    assert "giống hệt" not in capsys.readouterr().out


def test_identical_snapshot_in_another_catalog(con, tmp_path):
    """The lookup reads the new snapshot's digest from the connection's database and looks
    for it in the catalog it is given (a store of one file per snapshot attaches one)."""
    from loaders.digest import identical_snapshot
    from soat import store

    d = _case("09_trailing_fields")
    r1 = load(con, d)
    r2 = load(con, d)
    assert r2.identical_to == r1.snapshot_id
    assert identical_snapshot(con, r2.snapshot_id) == r1.snapshot_id
    other = store.connect(str(tmp_path / "catalog.duckdb"))
    other.close()
    con.execute(f"ATTACH '{tmp_path / 'catalog.duckdb'}' AS cat")
    assert identical_snapshot(con, r2.snapshot_id, catalog="cat") is None
    con.execute(
        "INSERT INTO cat.main.snapshots (snapshot_id, source_digest) "
        "SELECT 7, source_digest FROM snapshots WHERE snapshot_id = $s",
        {"s": r1.snapshot_id},
    )
    assert identical_snapshot(con, r2.snapshot_id, catalog="cat") == 7
    con.execute("DETACH cat")


def test_student_rows_helper_still_loads(con, tmp_path):
    from loader_helpers import folder

    r = load(con, folder(tmp_path, {"hoc_sinh.csv": [STUDENT_HEAD, *student_rows(2)]}))
    assert r.identical_to is None


def test_a_ctrl_z_end_of_file_mark_is_not_a_record(con, tmp_path):
    # DOS and FoxPro-era exporters end the file with 0x1A: it was read as a pupil '\x1a'
    text = "\r\n".join(",".join(r) for r in [STUDENT_HEAD, *student_rows(3)]) + "\r\n"
    d = tmp_path / "ctrlz"
    d.mkdir()
    (d / "truong.csv").write_text("\n".join(",".join(r) for r in SCHOOLS) + "\n", encoding="utf-8")
    (d / "hoc_sinh.csv").write_bytes(text.encode() + b"\x1a")
    (d / "can_bo.csv").write_bytes(b"\x1a")
    r = load(con, d)
    assert [g["student_code"] for g in rows(con, "students", r.snapshot_id)] == [
        "HS1",
        "HS2",
        "HS3",
    ]
    msgs = [m["message"] for m in messages(con, r.snapshot_id)]
    assert not any("ít trường hơn" in m for m in msgs)
    assert any("chỉ có ký tự kết thúc tệp Ctrl-Z" in m for m in msgs)


def test_the_same_xlsx_export_saved_twice_is_read_once(con, tmp_path):
    # two saves of one export differ in their bytes (docProps holds the creation time), not
    # in their sheets: every pupil was loaded twice, with no word
    import time

    d = tmp_path / "twice"
    write_xlsx(d / "hoc_sinh.xlsx", {"HS": [STUDENT_HEAD, *student_rows(3)]})
    time.sleep(1.1)
    write_xlsx(d / "hoc_sinh (1).xlsx", {"HS": [STUDENT_HEAD, *student_rows(3)]})
    write_xlsx(d / "hoc_sinh (2).xlsx", {"HS": [STUDENT_HEAD, *student_rows(4)[3:]]})
    (d / "truong.csv").write_text("\n".join(",".join(r) for r in SCHOOLS) + "\n", encoding="utf-8")
    assert not filecmp.cmp(d / "hoc_sinh.xlsx", d / "hoc_sinh (1).xlsx", shallow=False)
    r = load(con, d)
    codes = sorted(g["student_code"] for g in rows(con, "students", r.snapshot_id))
    assert codes == ["HS1", "HS2", "HS3", "HS4"]
    (w,) = _warnings(con, r.snapshot_id, "giống hệt tệp")
    assert {w["source"], w["message"].split("'")[1]} == {"hoc_sinh.xlsx", "hoc_sinh (1).xlsx"}
