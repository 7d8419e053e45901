""".xlsx cells read from the sheet's XML: positions and the evidence of a cell's type and
number format (a table that starts right of column A, codes kept as numbers, dates Excel
made of codes or swapped)."""

from __future__ import annotations

import pytest
from loader_helpers import folder, load, messages, rejects, rows

from loaders import read
from loaders.headers import excel_column_letter as letter


def _warned(con, sid, text: str) -> list[dict]:
    return [m for m in messages(con, sid) if m["severity"] == "warning" and text in m["message"]]


# ---- a table that does not start in column A ------------------------------------------------


@pytest.mark.parametrize("many", [False, True], ids=["xml_lookup", "typed_reload"])
@pytest.mark.parametrize("c0", [1, 2], ids=["from_B", "from_C"])
def test_a_table_right_of_column_a_is_read_at_its_columns(con, tmp_path, monkeypatch, c0, many):
    """Column A (and B) left empty as a margin, rows 1-2 empty, the header on row 3:
    calamine starts the load at the first used column, while merged ranges, formulas and
    the cells whose type is looked up are named by the sheet's own columns. Each is read at
    its column: the merged school code fills its rows (it overwrote the next column's
    names), a number ID is padded and an 11-digit text ID kept (the text one was padded, the
    number one not), a formula without a value is rejected under its column (it was
    silently empty), and the letters in messages and _extra keys are the sheet's."""
    import openpyxl

    if many:  # the sheet loaded again typed instead of the XML lookup of a few cells
        monkeypatch.setattr(read, "FEW_CELLS", 0)
    d = folder(tmp_path, {})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "HS"
    head = ["Mã học sinh", "Mã trường", "Họ và tên", None, "Số định danh cá nhân", "Ghi chú"]
    body = [
        ["HS1", "S1", "Nguyễn Văn An", "x1", 79218000101, None],  # a number: lost its 0
        ["HS2", None, "Trần Thị Bình", None, "79318000102", None],  # text, 11 digits: kept
        ["HS3", "S2", "Lê Hoàng Cường", None, '=CONCATENATE("0","79212000103")', None],
        ["HS4", None, "Phạm Thị Dung", None, "079312000104", "#N/A"],
    ]
    for i, row in enumerate([head, *body]):
        for j, v in enumerate(row):
            if v is not None:
                ws.cell(row=3 + i, column=c0 + 1 + j, value=v)
    ws.cell(row=5, column=c0 + 1 + 7, value="ghi chú lạc")  # right of the table
    col = letter(c0 + 1)  # the school code's column
    ws.merge_cells(f"{col}4:{col}5")
    ws.merge_cells(f"{col}6:{col}7")
    wb.save(d / "hoc_sinh.xlsx")

    r = load(con, d)
    sid = r.snapshot_id
    got = rows(con, "students", sid)
    assert [
        (g["_row"], g["student_code"], g["school_code"], g["full_name"], g["citizen_id"])
        for g in got
    ] == [
        (4, "HS1", "S1", "Nguyễn Văn An", "079218000101"),
        (5, "HS2", "S1", "Trần Thị Bình", "79318000102"),
        (6, "HS3", "S2", "Lê Hoàng Cường", None),
        (7, "HS4", "S2", "Phạm Thị Dung", "079312000104"),
    ]
    unnamed = f"(cột {letter(c0 + 3)})"
    assert dict(got[0]["_extra"])[unnamed] == "x1"
    assert [(x["row"], x["column"], x["reason"][:20]) for x in rejects(con, sid)] == [
        (6, "Số định danh cá nhân", "ô có công thức nhưng"),
        (7, "Ghi chú", "ô lỗi công thức Exce"),
    ]
    (merged,) = _warned(con, sid, "vùng ô gộp")
    assert merged["column"] == "Mã trường" and f"{col}4:{col}5" in merged["message"]
    (right,) = _warned(con, sid, "bên phải cột có tiêu đề cuối cùng")
    assert f"ô đầu tiên {letter(c0 + 7)}5" in right["message"]
    assert _warned(con, sid, f"cột {letter(c0 + 3)} không có tiêu đề")


# ---- codes kept as numbers --------------------------------------------------------------------


def test_codes_in_number_cells_with_a_zero_format_are_loaded_as_excel_shows_them(con, tmp_path):
    """School codes of provinces 01-09 start with 0; officers keep them as numbers formatted
    '00000000', so Excel shows 01000001 while the cell holds 1000001. The code loaded is the
    one Excel shows, with a warning; a column of number codes without such a format gets a
    warning that its codes may have lost their zeros; text codes say nothing; an 11-digit
    citizen ID typed as text is kept as typed whatever its format."""
    import xlsxwriter

    d = folder(tmp_path, {})
    wb = xlsxwriter.Workbook(str(d / "hoc_sinh.xlsx"))
    ws = wb.add_worksheet("HS")
    zeros = wb.add_format({"num_format": "00000000"})
    id_zeros = wb.add_format({"num_format": "000000000000"})
    head = ["Mã học sinh", "Mã trường", "Mã lớp", "Họ và tên", "Số định danh cá nhân"]
    ws.write_row(0, 1, head)  # from column B
    body = [
        (1001, 1000001, "0601", "Nguyễn Văn An", "79318000102"),
        (1002, 1000001, "0602", "Trần Thị Bình", "079318000103"),
        (1003, 1000002, "0601", "Lê Hoàng Cường", "079212000104"),
    ]
    for r, (code, school, klass, name, cid) in enumerate(body, start=1):
        ws.write_number(r, 1, code)
        ws.write_number(r, 2, school, zeros)
        ws.write_string(r, 3, klass)
        ws.write_string(r, 4, name)
        ws.write_string(r, 5, cid, id_zeros)
    wb.close()

    r = load(con, d)
    sid = r.snapshot_id
    got = rows(con, "students", sid)
    assert [
        (g["student_code"], g["school_code"], g["class_code"], g["citizen_id"]) for g in got
    ] == [
        ("1001", "01000001", "0601", "79318000102"),
        ("1002", "01000001", "0602", "079318000103"),
        ("1003", "01000002", "0601", "079212000104"),
    ]
    (shown,) = _warned(con, sid, "định dạng hiện số 0 ở đầu")
    assert shown["column"] == "Mã trường" and shown["message"].startswith("3 ô là ô kiểu số")
    assert "ô C2: ô chứa số 1000001, Excel hiển thị '01000001'" in shown["message"]
    (numbers,) = _warned(con, sid, "có thể đã mất số 0")
    assert numbers["column"] == "Mã học sinh" and "ô B2: 1001" in numbers["message"]
    assert numbers["row"] == 2 and numbers["sheet"] == "HS"


# ---- dates Excel made -------------------------------------------------------------------------


def test_date_cells_in_code_and_text_columns_are_named(con, tmp_path):
    """Class codes and names typed 6/1, 10/3 into columns not formatted as Text became dates
    (6 January), stored as '2024-01-06 00:00:00' without a word. What was typed is not
    guessed: the date is loaded written dd/mm/yyyy, and a warning per column names an
    example cell, the date and how Excel shows it."""
    import datetime as dt

    import xlsxwriter

    d = folder(tmp_path, {})
    wb = xlsxwriter.Workbook(str(d / "lop.xlsx"))
    ws = wb.add_worksheet("Lop")
    dm = wb.add_format({"num_format": "d/m"})
    ws.write_row(0, 0, ["Mã lớp", "Mã trường", "Tên lớp", "Khối", "Ghi chú"])
    for r, (grade, k) in enumerate([(6, 1), (6, 2), (10, 3)], start=1):
        ws.write_datetime(r, 0, dt.datetime(2024, k, grade), dm)
        ws.write_string(r, 1, "S1")
        ws.write_datetime(r, 2, dt.datetime(2024, k, grade, 7, 30), dm)
        ws.write_string(r, 3, str(grade))
    ws.write_string(3, 2, "Lớp 10/3")  # a text cell: as typed
    wb.close()

    r = load(con, d)
    sid = r.snapshot_id
    got = rows(con, "classes", sid)
    assert [(g["class_code"], g["class_name"]) for g in got] == [
        ("06/01/2024", "06/01/2024 07:30:00"),
        ("06/02/2024", "06/02/2024 07:30:00"),
        ("10/03/2024", "Lớp 10/3"),
    ]
    (code,) = _warned(con, sid, "ô ngày tháng của Excel, không phải mã")
    assert code["column"] == "Mã lớp" and code["message"].startswith("3 ô")
    assert "ví dụ ô A2: ngày 06/01/2024, Excel hiển thị '6/1'" in code["message"]
    (name,) = _warned(con, sid, "ô ngày tháng của Excel, không phải chữ")
    assert name["column"] == "Tên lớp" and name["message"].startswith("2 ô")
    assert "không đoán lại" in name["message"]


def _date_sheet(path, cells):
    """A students sheet whose 'Ngày sinh' cells are ('date', datetime) or ('text', str)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("HS")
    md = wb.add_format({"num_format": "m/d/yyyy"})
    ws.write_row(0, 0, ["Mã học sinh", "Mã trường", "Họ và tên", "Ngày sinh"])
    for r, (kind, v) in enumerate(cells, start=1):
        ws.write_row(r, 0, [f"HS{r}", "S1", f"Học sinh {r}"])
        if kind == "date":
            ws.write_datetime(r, 3, v, md)
        else:
            ws.write_string(r, 3, v)
    wb.close()


def test_dates_english_excel_swapped_are_rejected_not_taken(con, tmp_path):
    """dd/mm/yyyy typed into English-locale Excel: a day ≤ 12 became a date cell with day
    and month swapped (02/03/2018 -> 3 February), a day > 12 stayed text (15/07/2018). The
    column contradicts itself: the date cells readable both ways are rejected (their text,
    as typed, kept in _raw), never Excel's guess taken; the others are read."""
    import datetime as dt

    d = folder(tmp_path, {})
    _date_sheet(
        d / "hoc_sinh.xlsx",
        [
            ("date", dt.datetime(2018, 2, 3)),  # typed 02/03/2018
            ("text", "15/07/2018"),
            ("text", "28/11/2012"),
            ("date", dt.datetime(2012, 9, 1)),  # typed 09/01/2012
            ("date", dt.datetime(2012, 5, 5)),  # typed 05/05/2012: the same either way
        ],
    )
    r = load(con, d)
    sid = r.snapshot_id
    got = rows(con, "students", sid)
    assert [(g["birth_date"], g["birth_date_raw"]) for g in got] == [
        (None, "02/03/2018"),
        (dt.date(2018, 7, 15), None),
        (dt.date(2012, 11, 28), None),
        (None, "09/01/2012"),
        (dt.date(2012, 5, 5), None),
    ]
    assert [(x["row"], x["value"], x["reason"][:35]) for x in rejects(con, sid)] == [
        (2, "02/03/2018", "không rõ là ngày/tháng hay tháng/ng"),
        (5, "09/01/2012", "không rõ là ngày/tháng hay tháng/ng"),
    ]
    (w,) = _warned(con, sid, "đảo ngày và tháng")
    assert w["column"] == "Ngày sinh" and w["message"].startswith("cột 'Ngày sinh': 2 ô")
    assert "('15/07/2018')" in w["message"] and "dòng 2: '02/03/2018'" in w["message"]


def test_dates_typed_month_first_into_vietnamese_excel_are_rejected_too(con, tmp_path):
    """The reverse: mm/dd typed into day-first Excel; 07/15/2018 stayed text, 03/02/2018
    became 3 February. The column is not read month-first as a whole (its date cells are
    Excel's day-first reading): the ambiguous date cells are rejected."""
    import datetime as dt

    d = folder(tmp_path, {})
    _date_sheet(
        d / "hoc_sinh.xlsx",
        [("date", dt.datetime(2018, 2, 3)), ("text", "07/15/2018"), ("text", "11/28/2012")],
    )
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [(g["birth_date"], g["birth_date_raw"]) for g in got] == [
        (None, "03/02/2018"),
        (dt.date(2018, 7, 15), None),
        (dt.date(2012, 11, 28), None),
    ]
    (w,) = _warned(con, r.snapshot_id, "đảo ngày và tháng")
    assert "chỉ đọc được theo tháng/ngày ('07/15/2018')" in w["message"]


@pytest.mark.parametrize(
    "cells",
    [
        [("text", "04/05/2018")],  # text readable both ways
        [("text", "30/02/1985")],  # no date at all (text in any Excel)
        [("text", "15/07/2018"), ("date", "2013-02-14")],  # a date cell with a day > 12
    ],
    ids=["ambiguous_text", "invalid_text", "a_day_over_12"],
)
def test_date_cells_without_the_fingerprint_of_a_swap_are_read_as_they_are(con, tmp_path, cells):
    """The evidence is the whole column: every date cell with a day and month ≤ 12 and text
    valid only the other way. Without it the date cells are read as Excel stored them."""
    import datetime as dt

    d = folder(tmp_path, {})
    more = [(k, dt.datetime.fromisoformat(v) if k == "date" else v) for k, v in cells]
    _date_sheet(
        d / "hoc_sinh.xlsx",
        [("date", dt.datetime(2018, 2, 3)), *more, ("date", dt.datetime(2012, 9, 1))],
    )
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert got[0]["birth_date"] == dt.date(2018, 2, 3)
    assert got[-1]["birth_date"] == dt.date(2012, 9, 1)
    assert not _warned(con, r.snapshot_id, "đảo ngày và tháng")
    assert all(x["value"] in ("30/02/1985",) for x in rejects(con, r.snapshot_id))


def test_a_date_order_decided_while_reading_survives_a_second_write_attempt():
    """A load written again (a CSV whose line endings stopped DuckDB) resets each part to what
    reading decided: an .xlsx column found 'mixed' while reading stays so."""
    from loaders.headers import HeaderMap
    from loaders.normalise import StagedPart

    part = StagedPart("students", "x.xlsx", "HS", "s1", 1, HeaderMap(headers=[]))
    part.date_orders["birth_date"] = "mixed"
    part.reset()  # the first attempt records it
    part.date_orders["updated_at"] = "mdy"  # decided by that attempt's fix-ups
    part.reset()
    assert part.date_orders == {"birth_date": "mixed"}
