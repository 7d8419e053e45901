"""The rules behind the office-files corpus, one by one: names of pieces, header variants
and two-row headers, legacy encodings, sheets, CR line endings, SQL numeric IDs."""

from __future__ import annotations

import pytest
from loader_helpers import (
    SCHOOLS,
    STUDENT_HEAD,
    folder,
    load,
    messages,
    rows,
    student_rows,
    write_csv,
)

from loaders import legacy
from loaders.contract import TABLES, table_for_name
from loaders.headers import find_header, two_row_header
from soat.vocab import fold, strip_diacritics


@pytest.mark.parametrize(
    ("name", "exact", "piece"),
    [
        ("hoc_sinh", "students", "students"),
        ("hoc_sinh_truong1", None, "students"),
        ("hoc_sinh (2)", None, "students"),
        ("students-45000100", None, "students"),
        ("Học sinh trường A", None, "students"),
        ("hocsinh2", None, "students"),
        ("lịch sử tiếp nhận 2024", None, "submissions"),
        ("danh sách trường THCS", None, "schools"),
        ("hocsinhA", None, None),  # glued letters: not a suffix
        ("truongABC", None, None),
        ("Sheet1", None, None),
        ("lớp học", "classes", "classes"),
    ],
)
def test_table_names_with_a_suffix(name, exact, piece):
    assert table_for_name(name) == exact
    assert table_for_name(name, pieces=True) == piece


def test_no_header_spelling_names_two_columns_of_a_table():
    for t in TABLES.values():
        seen: dict[str, str] = {}
        for c in t.columns:
            for h in c.all_headers:
                for key in (fold(h), strip_diacritics(fold(h))):
                    assert seen.setdefault(key, c.name) == c.name, (t.name, h)


def test_a_data_row_under_the_header_is_not_a_second_header_row():
    head = ["Mã học sinh", "Họ và tên", "Ghi chú"]
    # a value under a known header: data
    assert two_row_header("students", head, ["HS1", "An", "Ngày sinh"]) is None
    # nothing known below: data (or an empty row)
    assert two_row_header("students", head, [None, None, "x"]) is None
    # a group title with the real headers below it
    found = find_header(
        "students",
        [
            ["DANH SÁCH"],
            ["Mã học sinh", "Họ và tên", "Thông tin", None],
            [None, None, "Ngày sinh", "Giới tính"],
        ],
    )
    assert (found.index, found.rows, found.last) == (1, 2, 3)
    assert found.cells == ["Mã học sinh", "Họ và tên", "Ngày sinh", "Giới tính"]


def test_legacy_text_is_told_apart():
    assert legacy.from_tcvn3("Së GD&§T Qu¶ng TrÞ") == "Sở GD&ĐT Quảng Trị"
    assert legacy.from_vni("Tröôøng Tieåu hoïc Ñoàng Xoaøi") == "Trường Tiểu học Đồng Xoài"
    assert legacy.decide(["Së GD&§T Qu¶ng TrÞ", "NguyÔn V¨n Hïng"]) == "tcvn3"
    assert legacy.decide(["Tröôøng Tieåu hoïc", "Nguyeãn Vaên Huøng"]) == "vni"
    assert legacy.decide(["Müller", "Gößweinstein"]) is None  # neither reads as Vietnamese
    assert not legacy.is_suspect("Nguyễn Thị Ánh")  # Unicode text
    assert not legacy.is_suspect("Hà")  # Latin-1 letters Vietnamese has


def test_eight_bit_code_pages():
    from loader_helpers import encode_cp1258

    text = "Nguyễn Văn Hùng, Trường Tiểu học Hòa Bình\n"
    assert legacy.eight_bit(encode_cp1258(text) * 3) == ("cp1258", False)
    assert legacy.eight_bit(text.encode("cp1252", errors="replace")) == ("cp1252", True)
    assert legacy.eight_bit("Hà Tú Lê\n".encode("cp1252")) == ("cp1252", False)


def _csv_text(records: list[list[str]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(records)
    return buf.getvalue()


def test_a_title_cell_with_a_line_break_above_the_header(con, tmp_path):
    """A title typed over two lines in one cell ("DANH SÁCH HỌC SINH⏎Năm học …") is one
    CSV record over two lines: the header is the second record, and no pupil is lost to
    a skip counted in lines (the first pupil once vanished without a word). Row numbers
    are the lines the officer sees."""
    title = [["DANH SÁCH HỌC SINH\nNăm học 2024-2025"]]
    d = folder(tmp_path, {"hoc_sinh.csv": _csv_text(title + [STUDENT_HEAD] + student_rows(3))})
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [(g["_row"], g["student_code"]) for g in got] == [(4, "HS1"), (5, "HS2"), (6, "HS3")]
    assert r.rows["students"] == 3 and r.rejected == 0


def test_a_header_cell_with_a_line_break(con, tmp_path):
    """Excel's Alt+Enter in a header cell ("Ngày sinh⏎(dd/mm/yyyy)"): the header is one
    record; every row loads (they were all rejected as having too many fields)."""
    head = [*STUDENT_HEAD]
    head[3] = "Ngày sinh\n(dd/mm/yyyy)"
    d = folder(tmp_path, {"hoc_sinh.csv": _csv_text([head] + student_rows(3))})
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [(g["_row"], g["student_code"]) for g in got] == [(3, "HS1"), (4, "HS2"), (5, "HS3")]
    assert [str(g["birth_date"]) for g in got] == ["2018-03-01", "2018-03-02", "2018-03-03"]
    assert r.rejected == 0


def test_cr_only_line_endings(con, tmp_path):
    d = folder(tmp_path, {})
    lines = [",".join(STUDENT_HEAD)] + [",".join(r) for r in student_rows(3)]
    (d / "hoc_sinh.csv").write_bytes(("\r".join(lines) + "\r").encode())
    r = load(con, d)
    assert [(g["_row"], g["student_code"]) for g in rows(con, "students", r.snapshot_id)] == [
        (2, "HS1"),
        (3, "HS2"),
        (4, "HS3"),
    ]


def test_a_piece_whose_header_names_another_table_is_not_loaded_into_this_one(con, tmp_path):
    d = folder(tmp_path, {"lop_6a.csv": [STUDENT_HEAD, *student_rows(2)]})
    r = load(con, d)
    assert "classes" not in r.rows and "lop_6a.csv" in r.skipped
    warn = [m for m in messages(con, r.snapshot_id) if m["source"] == "lop_6a.csv"]
    assert any("giống bảng Học sinh hơn bảng Lớp học" in m["message"] for m in warn)


def test_a_hidden_sheet_named_after_a_table_in_a_workbook_is_named(con, tmp_path):
    import xlsxwriter

    path = tmp_path / "tinh.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("trường")
    for i, r in enumerate(SCHOOLS):
        ws.write_row(i, 0, r)
    hidden = wb.add_worksheet("Học sinh")
    for i, r in enumerate([STUDENT_HEAD, *student_rows(2)]):
        hidden.write_row(i, 0, r)
    hidden.hide()
    wb.close()
    r = load(con, path)
    assert "students" not in r.rows and "tinh.xlsx / Học sinh" in r.skipped
    (w,) = [m for m in messages(con, r.snapshot_id) if m["sheet"] == "Học sinh"]
    assert w["severity"] == "warning" and "sheet ẩn" in w["message"]


def test_workbook_sheets_with_a_suffix_are_pieces(con, tmp_path):
    from loader_helpers import write_xlsx

    path = write_xlsx(
        tmp_path / "tinh.xlsx",
        {
            "trường": SCHOOLS,
            "Học sinh 1": [STUDENT_HEAD, *student_rows(2)],
            "Học sinh 2": [STUDENT_HEAD, ["HS9", "S2", "Chín", "01/01/2015", ""]],
        },
    )
    r = load(con, path)
    got = [(g["_sheet"], g["student_code"]) for g in rows(con, "students", r.snapshot_id)]
    assert sorted(got) == [("Học sinh 1", "HS1"), ("Học sinh 1", "HS2"), ("Học sinh 2", "HS9")]
    tables = con.execute(
        "SELECT sheet, rows FROM snapshot_tables WHERE table_name = 'students' ORDER BY 1"
    ).fetchall()
    assert tables == [("Học sinh 1", 2), ("Học sinh 2", 1)]


def test_a_missing_column_in_one_piece_only(con, tmp_path):
    d = folder(
        tmp_path,
        {
            "hoc_sinh_1.csv": [STUDENT_HEAD, *student_rows(1)],
            "hoc_sinh_2.csv": [STUDENT_HEAD[:4], ["HS7", "S2", "Bảy", "01/02/2015"]],
        },
    )
    r = load(con, d)
    assert r.rows["students"] == 2
    warn = [
        m
        for m in messages(con, r.snapshot_id)
        if m["message"].startswith("thiếu cột Số định danh cá nhân")
    ]
    assert [m["source"] for m in warn] == ["hoc_sinh_2.csv"]
    assert "các dòng của nguồn này để trống cột đó" in warn[0]["message"]


def test_timestamps_two_digit_years_and_month_first(con, tmp_path):
    head = [*STUDENT_HEAD, "Ngày cập nhật"]
    d = folder(
        tmp_path,
        {
            "hoc_sinh.csv": [
                head,
                [*student_rows(1)[0], "09/25/2024 08:30"],
                ["HS2", "S1", "B", "01/03/2018", "", "10/1/2024 7:05"],
                ["HS3", "S1", "C", "01/03/2018", "", "09/09/24 08:30"],
            ]
        },
    )
    r = load(con, d)
    import datetime as dt

    got = [g["updated_at"] for g in rows(con, "students", r.snapshot_id)]
    assert got == [dt.datetime(2024, 9, 25, 8, 30), dt.datetime(2024, 10, 1, 7, 5), None]
    from loader_helpers import rejects

    (rej,) = rejects(con, r.snapshot_id)
    assert (rej["row"], rej["column"], rej["value"]) == (4, "Ngày cập nhật", "09/09/24 08:30")
    assert "năm chỉ có 2 chữ số" in rej["reason"]


# ---- values under no header ---------------------------------------------------------------


def _warned(con, sid, text: str) -> list[dict]:
    return [m for m in messages(con, sid) if m["severity"] == "warning" and text in m["message"]]


def test_a_stray_value_far_off_is_refused_clearly(con, tmp_path):
    """A value typed in XFD1048576 made calamine ask for 17 billion cells and the process
    abort with an English Rust trace: the sheet is refused with a warning saying what to
    do, and the rest of the source loads."""
    import xlsxwriter

    d = folder(tmp_path, {})
    wb = xlsxwriter.Workbook(str(d / "hoc_sinh.xlsx"))
    ws = wb.add_worksheet("HS")
    for i, row in enumerate([STUDENT_HEAD, *student_rows(2)]):
        ws.write_row(i, 0, row)
    ws.write_string(1048575, 16383, "x")
    wb.close()
    r = load(con, d)
    (w,) = _warned(con, r.snapshot_id, "XFD1048576")
    assert "quá lớn để đọc" in w["message"] and w["sheet"] == "HS"
    assert r.rows.get("students", 0) == 0 and r.rows["schools"] == len(SCHOOLS) - 1


def test_values_right_of_the_header_are_warned(con, tmp_path):
    """A note typed beside a row, a value in column Z: not in any column, so not loaded,
    and never silently (their values are not quoted: they may be personal)."""
    body = student_rows(3)
    body[1] = body[1] + ["", "chuyển trường 5/2025"]
    data = [STUDENT_HEAD, *body, [None] * 25 + ["lạc chỗ"]]
    d = folder(tmp_path, {"hoc_sinh.xlsx": data})
    r = load(con, d)
    assert [g["student_code"] for g in rows(con, "students", r.snapshot_id)] == [
        "HS1",
        "HS2",
        "HS3",
    ]
    (w,) = _warned(con, r.snapshot_id, "bên phải cột có tiêu đề cuối cùng")
    assert w["message"].startswith("2 ô có dữ liệu") and "cột G–Z" in w["message"]
    assert "ô đầu tiên G3" in w["message"] and "chuyển trường" not in w["message"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_column_without_a_header_is_kept_and_warned(con, tmp_path, kind):
    """'Họ và tên' merged over two columns (the given name under an empty header), and a
    second column with the unknown header 'Ghi chú': both kept in _extra under a key
    naming the column, with a warning; an empty column under no header (a trailing
    separator) says nothing and is not listed."""
    head = ["Mã học sinh", "Mã trường", "Họ và tên", "", "Ngày sinh", "Ghi chú", "Ghi chú", ""]
    body = [
        ["HS1", "S1", "Hoàng Mai", "Lan", "01/03/2018", "GC1", "GC2-1", ""],
        ["HS2", "S1", "Trần", "Bình", "02/03/2018", "", "GC2-2", ""],
    ]
    name = f"hoc_sinh.{kind}"
    d = folder(tmp_path, {name: [head, *body]})
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [g["full_name"] for g in got] == ["Hoàng Mai", "Trần"]
    assert [dict(g["_extra"]).get("(cột D)") for g in got] == ["Lan", "Bình"]
    assert [dict(g["_extra"]).get("Ghi chú (cột G)") for g in got] == ["GC2-1", "GC2-2"]
    assert [dict(g["_extra"]).get("Ghi chú") for g in got] == ["GC1", None]
    (unnamed,) = _warned(con, r.snapshot_id, "cột D không có tiêu đề")
    assert "(2 ô)" in unnamed["message"] and "'(cột D)'" in unnamed["message"]
    (again,) = _warned(con, r.snapshot_id, "tiêu đề 'Ghi chú' lặp lại ở cột G")
    assert "2 ô có dữ liệu" in again["message"]
    assert not _warned(con, r.snapshot_id, "cột H không có tiêu đề")
    (extra,) = con.execute(
        "SELECT extra_columns FROM snapshot_tables WHERE snapshot_id = $s AND table_name = "
        "'students'",
        {"s": r.snapshot_id},
    ).fetchall()[0]
    assert extra == ["(cột D)", "Ghi chú", "Ghi chú (cột G)"]


def test_spreadsheets_in_formats_not_read_are_named(con, tmp_path):
    """An .xls that is really HTML (some school software's 'Excel' export), an old .xls,
    an .ods: each is a warning naming the file and how to resave it, not an info line; a
    missing schools table says why."""
    from soat.errors import SoatError

    d = tmp_path / "export"
    d.mkdir()
    (d / "truong.xls").write_text("<html><table><tr><td>Mã trường</td></tr></table></html>")
    (d / "hoc_sinh.ods").write_bytes(b"PK\x03\x04 not really")
    (d / "ghi_chu.xls").write_bytes(b"\xd0\xcf\x11\xe0 not a table")
    with pytest.raises(SoatError) as ev:
        load(con, d)
    assert "trang HTML đặt đuôi .xls" in str(ev.value) and "truong.xls" in str(ev.value)
    (d / "truong.xls").unlink()
    write_csv(d / "truong.csv", SCHOOLS)
    r = load(con, d)
    (ods,) = _warned(con, r.snapshot_id, "OpenDocument (.ods)")
    assert (
        ods["source"] == "hoc_sinh.ods"
        and "lưu lại dạng 'Excel Workbook (.xlsx)'" in ods["message"]
    )
    info = [m for m in messages(con, r.snapshot_id) if m["source"] == "ghi_chu.xls"]
    assert [m["severity"] for m in info] == ["info"]  # not named after a table


def test_cells_merged_down_a_column_fill_their_rows(con, tmp_path):
    """A school code merged over the rows it is for: Excel shows it on every row, calamine
    gives it to the first only (nine pupils had no school). Every row of the range takes
    the value, with one warning per column naming the range."""
    import openpyxl

    d = folder(tmp_path, {})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "HS"
    ws.append(STUDENT_HEAD)
    for r in student_rows(4):
        ws.append(r)
    ws.append(["HS9", "S2", "Học sinh 9", "09/03/2018", "079318000129"])
    for i in range(3, 6):
        ws.cell(row=i, column=2).value = None  # what Excel leaves under a merge
    ws.merge_cells("B2:B5")
    ws.merge_cells("C2:D2")  # across, in one row: nothing to fill
    wb.save(d / "hoc_sinh.xlsx")
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [(g["_row"], g["school_code"]) for g in got] == [
        (2, "S1"),
        (3, "S1"),
        (4, "S1"),
        (5, "S1"),
        (6, "S2"),
    ]
    (w,) = _warned(con, r.snapshot_id, "vùng ô gộp")
    assert w["message"].startswith("3 ô của cột 'Mã trường'") and "B2:B5" in w["message"]
