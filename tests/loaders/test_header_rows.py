"""Which row is the header and which rows are data: an information block above the list,
required-column marks in headers, title rows above a repeated header, the total and
signature block under the list, two columns naming one field, CSV quoting with spaces."""

from __future__ import annotations

import pytest
from loader_helpers import STUDENT_HEAD, folder, load, messages, rows, student_rows

from loaders.headers import find_header


def _warned(con, sid, text: str) -> list[dict]:
    return [m for m in messages(con, sid) if m["severity"] == "warning" and text in m["message"]]


def _header_row(con, sid, table: str = "students"):
    return con.execute(
        "SELECT header_row, columns FROM snapshot_tables WHERE snapshot_id = $s "
        "AND table_name = $t",
        {"s": sid, "t": table},
    ).fetchall()


# ---- the header row: the one naming the most known headers --------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_information_block_above_the_list_is_not_the_header(con, tmp_path, kind):
    """'Mã trường | S1 | Năm học | 2024-2025' above the list names two headers: taken as
    the header, the pupils' codes were stored as school codes, their names as school years
    and the real header row loaded as a pupil (a CSV rejected every row)."""
    data = [
        ["Mã trường", "S1", "Năm học", "2024-2025"],
        ["Tên trường", "Trường Tiểu học Lê Lợi"],
        [],
        STUDENT_HEAD,
        *student_rows(2),
    ]
    d = folder(tmp_path, {f"hoc_sinh.{kind}": data})
    r = load(con, d)
    ((header_row, columns),) = _header_row(con, r.snapshot_id)
    assert header_row == 4
    assert columns == ["student_code", "school_code", "full_name", "birth_date", "citizen_id"]
    got = rows(con, "students", r.snapshot_id)
    assert [(g["_row"], g["student_code"], g["school_code"], g["full_name"]) for g in got] == [
        (5, "HS1", "S1", "Học sinh 1"),
        (6, "HS2", "S1", "Học sinh 2"),
    ]
    assert [g["citizen_id"] for g in got] == ["079318000121", "079318000122"]
    assert r.rejected == 0


def test_the_header_row_is_the_one_naming_the_most_known_headers():
    info = ["Mã trường", "S1", "Năm học", "2024-2025"]
    head = ["Mã học sinh", "Họ và tên", "Ngày sinh"]
    found = find_header("students", [info, [], head, ["HS1", "An", "01/02/2018"]])
    assert (found.index, found.rows) == (2, 1)
    # a tie: the first (a header repeated within the first rows)
    found = find_header("students", [head, ["HS1", "An", "01/02/2018"], head])
    assert found.index == 0
    # a two-row header counts whole: its upper row names fewer headers than its lower one
    upper = ["Mã học sinh", "Họ và tên", "Thông tin cá nhân", None, None]
    lower = [None, None, "Ngày sinh", "Giới tính", "Dân tộc"]
    found = find_header("students", [upper, lower, ["HS1", "An", "01/02/2018", "Nam", "Kinh"]])
    assert (found.index, found.rows) == (0, 2)
    assert found.cells == ["Mã học sinh", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc"]


# ---- headers: required-column marks, headers made of parts ---------------------------------


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Họ và tên (*)", "full_name"),
        ("Họ và tên *", "full_name"),
        ("Họ và tên*", "full_name"),
        ("Ngày sinh(*)", "birth_date"),
        ("Ngày sinh (dd/mm/yyyy) (*)", "birth_date"),
        ("Ho va ten (*)", "full_name"),
        ("Mã định danh (CCCD)", "citizen_id"),
        ("Mã định danh/CCCD", "citizen_id"),
        ("Số định danh cá nhân (CCCD) (*)", "citizen_id"),
        ("(*)", None),
        ("*", None),
        ("Mã trường (cũ)", None),  # a part naming nothing: not the school code
        ("Mã học sinh/Mã trường", None),  # parts naming two columns
        ("Số CMND (CCCD)", None),
    ],
)
def test_required_marks_and_headers_made_of_parts(header, column):
    from loaders.headers import match_header

    assert match_header("students", header) == column


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_headers_with_required_marks_are_read(con, tmp_path, kind):
    """Import templates mark the required columns '(*)' or '*': with every header so
    marked the file was skipped ('không tìm thấy dòng tiêu đề'); with some, their columns
    went to _extra and were reported missing."""
    every = [h + " (*)" for h in STUDENT_HEAD]
    some = ["Mã học sinh", "Mã trường", "Họ và tên*", "Ngày sinh(*)", "Mã định danh/CCCD"]
    d = folder(
        tmp_path,
        {
            f"hoc_sinh.{kind}": [every, *student_rows(2)],
            f"hoc_sinh_2.{kind}": [some, *student_rows(1)],
        },
    )
    r = load(con, d)
    cols = ["student_code", "school_code", "full_name", "birth_date", "citizen_id"]
    assert [c for _h, c in _header_row(con, r.snapshot_id)] == [cols, cols]
    got = rows(con, "students", r.snapshot_id)
    assert sorted((g["student_code"], g["full_name"], g["citizen_id"]) for g in got) == [
        ("HS1", "Học sinh 1", "079318000121"),
        ("HS1", "Học sinh 1", "079318000121"),
        ("HS2", "Học sinh 2", "079318000122"),
    ]
    assert all(g["_extra"] is None for g in got)
    assert not _warned(con, r.snapshot_id, "thiếu cột Họ và tên")


# ---- CSV: a space between the separator and the quote --------------------------------------


@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_with_a_space_before_each_quote(con, tmp_path, sep):
    """`"HS1", "S1", …` (scripts, hand edits): the header was not found ('không tìm thấy
    dòng tiêu đề') and the table skipped. A quoted cell holds the separator and, in the
    title above, a line break."""
    lines = [["", "DANH SÁCH HỌC SINH\nNăm học 2024-2025"], STUDENT_HEAD, *student_rows(2)]
    lines[3][2] = f"Trần{sep} Bình"
    text = "".join(f"{sep} ".join(f'"{c}"' for c in r) + "\n" for r in lines)
    d = folder(tmp_path, {"hoc_sinh.csv": text})
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [(g["_row"], g["student_code"], g["school_code"], g["full_name"]) for g in got] == [
        (4, "HS1", "S1", "Học sinh 1"),
        (5, "HS2", "S1", f"Trần{sep} Bình"),
    ]
    assert [g["citizen_id"] for g in got] == ["079318000121", "079318000122"]
    assert r.rejected == 0 and not _warned(con, r.snapshot_id, "không tìm thấy dòng tiêu đề")


# ---- title rows above a repeated header: never a record ------------------------------------

WIDE_HEAD = [
    "Mã học sinh",
    "Mã trường",
    "Mã lớp",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Dân tộc",
    "Số định danh cá nhân",
]


def _wide(code, school, name, dob="01/03/2018", cid="079318000121"):
    return [code, school, "1A", name, dob, "Nữ", "Kinh", cid]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_record_above_a_repeated_header_is_not_a_title(con, tmp_path, kind):
    """Two lists pasted one under the other: the pupils right above the second header,
    whose details are not entered yet (at most a quarter of the columns filled), were
    dropped as 'title rows'. A row with a code in the key column, or a name beside another
    value, is a record; the one-cell title above the header is still dropped."""
    data = [
        WIDE_HEAD,
        _wide("HS1", "S1", "Nguyễn Văn An"),
        ["HS9", "", "", "Đỗ Thị Mới"],  # a code and a name
        ["", "S1", "", "Mai Lan"],  # no code: a name beside a school
        ["DANH SÁCH HỌC SINH TRƯỜNG S2"],  # a title typed in the code column
        WIDE_HEAD,
        _wide("HS3", "S2", "Lê Hoàng Cường"),
    ]
    d = folder(tmp_path, {f"hoc_sinh.{kind}": data})
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [(g["_row"], g["student_code"], g["full_name"]) for g in got] == [
        (2, "HS1", "Nguyễn Văn An"),
        (3, "HS9", "Đỗ Thị Mới"),
        (4, None, "Mai Lan"),
        (7, "HS3", "Lê Hoàng Cường"),
    ]
    (w,) = _warned(con, r.snapshot_id, "tiêu đề bảng lặp lại")
    assert w["message"].startswith("dòng 5–6:") and w["row"] == 6


# ---- the total and signature block under the list ------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_total_and_signature_block_under_the_list_is_not_loaded(con, tmp_path, kind):
    """A list ends as administrative documents do: a total line, the place and date, the
    signers' titles and names. They were loaded as pupils ('Tổng cộng', 'Người lập biểu',
    a signer's name as a pupil code) with date rejects. Now dropped with a warning naming
    the rows; a total line with pupils after it (a second piece) stays a row."""
    footer = [
        [],
        ["Tổng cộng", "", "3 học sinh"],
        [],
        ["", "", "", "Lê Lợi, ngày 15 tháng 10 năm 2024"],
        ["Người lập biểu", "", "", "HIỆU TRƯỞNG"],
        ["", "", "", "(Ký, ghi rõ họ tên, đóng dấu)"],
        [],
        ["Nguyễn Thị Lập", "", "", "Nguyễn Văn A"],
    ]
    middle = [STUDENT_HEAD, *student_rows(1), ["Tổng số", "", "1"], *student_rows(2)[1:]]
    d = folder(
        tmp_path,
        {
            f"hoc_sinh.{kind}": [["DANH SÁCH HỌC SINH"], STUDENT_HEAD, *student_rows(3), *footer],
            f"hoc_sinh_2.{kind}": middle,
        },
    )
    r = load(con, d)
    got = [
        (g["_source"], g["_row"], g["student_code"]) for g in rows(con, "students", r.snapshot_id)
    ]
    first, second = f"hoc_sinh.{kind}", f"hoc_sinh_2.{kind}"
    assert sorted(got) == [
        (first, 3, "HS1"),
        (first, 4, "HS2"),
        (first, 5, "HS3"),
        (second, 2, "HS1"),
        (second, 3, "Tổng số"),  # amid the data: a row, as before
        (second, 4, "HS2"),
    ]
    (w,) = _warned(con, r.snapshot_id, "phần ký tên")
    assert w["source"] == first and w["row"] == 7
    assert w["message"].startswith("dòng 7–13: dòng tổng cộng và phần ký tên dưới danh sách")
    assert "'Tổng cộng'; 5 dòng" in w["message"]
    assert r.rejected == 0  # no 'không đọc được ngày' for the place and date line
    # the CSV's short footer lines are not named as padded; the row amid the data is
    assert [m["source"] for m in _warned(con, r.snapshot_id, "ít trường hơn")] == (
        [second] if kind == "csv" else []
    )


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_footer_word_before_the_last_record_drops_nothing(con, tmp_path, kind):
    """A signature title above a pupil who has a code (a list pasted after the signature):
    the block is only what follows the last record."""
    data = [STUDENT_HEAD, *student_rows(1), ["Hiệu trưởng"], *student_rows(2)[1:], []]
    d = folder(tmp_path, {f"hoc_sinh.{kind}": data})
    r = load(con, d)
    assert [g["student_code"] for g in rows(con, "students", r.snapshot_id)] == [
        "HS1",
        "Hiệu trưởng",
        "HS2",
    ]
    assert not _warned(con, r.snapshot_id, "phần ký tên")


def test_a_formula_in_the_total_line_is_no_reject(con, tmp_path):
    """The total line's formula (no cached value in a program-written workbook) would be a
    value reject on a row that is not loaded."""
    import xlsxwriter

    d = folder(tmp_path, {})
    wb = xlsxwriter.Workbook(str(d / "hoc_sinh.xlsx"))
    ws = wb.add_worksheet("HS")
    for i, row in enumerate([STUDENT_HEAD, *student_rows(2)]):
        ws.write_row(i, 0, row)
    ws.write_string(4, 0, "Tổng cộng")
    ws.write_formula(4, 3, "=COUNTA(A2:A3)", None, "")
    wb.close()
    r = load(con, d)
    assert [g["student_code"] for g in rows(con, "students", r.snapshot_id)] == ["HS1", "HS2"]
    (w,) = _warned(con, r.snapshot_id, "phần ký tên")
    assert w["message"].startswith("dòng 5: ") and w["sheet"] == "HS"
    assert r.rejected == 0


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_no_footer_is_dropped_where_no_column_tells_a_record(con, tmp_path, kind):
    """Without a key or name column (a deadlines table; a list without codes and names)
    no row is known to be the last record: nothing is dropped."""
    head = ["Năm học", "Kỳ báo cáo", "Loại dữ liệu", "Đích", "Hạn"]
    data = [
        head,
        ["2024-2025", "Đầu năm", "Học sinh", "Sở", "30/09/2024"],
        ["", "Người lập biểu"],
        ["2024-2025", "Cuối năm", "Học sinh", "Sở", "31/05/2025"],
    ]
    d = folder(tmp_path, {f"lich_bao_cao.{kind}": data})
    r = load(con, d)
    assert r.rows["deadlines"] == 3 and not _warned(con, r.snapshot_id, "phần ký tên")


# ---- two columns naming one field -----------------------------------------------------------


def _ids(con, sid):
    return [
        (g["student_code"], g["citizen_id"], g["_extra"] and dict(g["_extra"]))
        for g in rows(con, "students", sid)
    ]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_two_id_columns_the_contracts_header_is_used_the_other_kept(con, tmp_path, kind):
    """'Số CMND/CCCD' (empty: children have no card) left of 'Số định danh cá nhân'
    (filled): the leftmost was used and the filled one dropped, not even in _extra, so
    every ID was gone. The contract's own header is used; the other is kept in _extra."""
    head = ["Mã học sinh", "Mã trường", "Họ và tên", "Số CMND/CCCD", "Số định danh cá nhân"]
    data = [
        head,
        ["HS1", "S1", "An", "", "079318000121"],
        ["HS2", "S1", "Bình", "", "079318000122"],
    ]
    d = folder(tmp_path, {f"hoc_sinh.{kind}": data})
    r = load(con, d)
    assert _ids(con, r.snapshot_id) == [
        ("HS1", "079318000121", None),
        ("HS2", "079318000122", None),
    ]
    (w,) = _warned(con, r.snapshot_id, "trùng với cột")
    assert w["message"] == (
        "cột 'Số CMND/CCCD' trùng với cột 'Số định danh cá nhân' (cùng là 'Số định danh cá "
        "nhân'); dùng cột 'Số định danh cá nhân', cột 'Số CMND/CCCD' giữ trong cột thêm "
        "'Số CMND/CCCD' (_extra)"
    )
    assert (w["row"], w["column"]) == (1, "Số CMND/CCCD")
    assert _header_row(con, r.snapshot_id)[0][1][-1] == "citizen_id"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_empty_id_column_gives_way_to_a_filled_one(con, tmp_path, kind):
    """'Số CCCD' comes before 'Mã định danh' among the accepted headers, but is empty on
    every row: the filled column is used (in a sheet, its number cells padded as the ID
    column's are), the empty one kept in _extra, and the warning says why."""
    head = ["Mã học sinh", "Mã trường", "Số CCCD", "Mã định danh"]
    ids = [79318000121, 79318000122] if kind == "xlsx" else ["079318000121", "079318000122"]
    data = [head, ["HS1", "S1", None, ids[0]], ["HS2", "S1", "-", ids[1]]]
    d = folder(tmp_path, {f"hoc_sinh.{kind}": data})
    r = load(con, d)
    assert _ids(con, r.snapshot_id) == [
        ("HS1", "079318000121", None),
        ("HS2", "079318000122", None),
    ]
    (w,) = _warned(con, r.snapshot_id, "trùng với cột")
    assert w["message"].startswith(
        "cột 'Số CCCD' trùng với cột 'Mã định danh' (cùng là 'Số định danh cá nhân'); dùng "
        "cột 'Mã định danh' vì cột 'Số CCCD' để trống trên mọi dòng, cột 'Số CCCD' giữ"
    )


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_values_only_in_the_other_column_are_kept_and_counted(con, tmp_path, kind):
    """Both columns hold values: the contract's is used; a row with a value only in the
    other keeps it in _extra, and the warning counts such rows and names the first."""
    head = ["Mã học sinh", "Mã trường", "Số định danh cá nhân", "Số CCCD"]
    data = [
        head,
        ["HS1", "S1", "079318000121", ""],
        ["HS2", "S1", "", "079318000122"],
        ["HS3", "S1", "", "079318000123"],
    ]
    d = folder(tmp_path, {f"hoc_sinh.{kind}": data})
    r = load(con, d)
    assert _ids(con, r.snapshot_id) == [
        ("HS1", "079318000121", None),
        ("HS2", None, {"Số CCCD": "079318000122"}),
        ("HS3", None, {"Số CCCD": "079318000123"}),
    ]
    (w,) = _warned(con, r.snapshot_id, "trùng với cột")
    assert w["message"].endswith(
        "; 2 dòng để trống cột 'Số định danh cá nhân' nhưng có giá trị ở cột 'Số CCCD' "
        "(dòng đầu 3): hãy gộp hai cột thành một"
    )


def test_an_empty_sql_column_gives_way_to_a_filled_one(con, tmp_path):
    import sqlite3

    from loader_helpers import SCHOOLS

    db = tmp_path / "tinh.sqlite"
    c = sqlite3.connect(db)
    c.execute('CREATE TABLE truong ("Mã trường" TEXT, "Tên trường" TEXT)')
    c.executemany("INSERT INTO truong VALUES (?, ?)", [r[:2] for r in SCHOOLS[1:]])
    c.execute('CREATE TABLE hoc_sinh (student_code TEXT, "Số CCCD" TEXT, "Mã định danh" INTEGER)')
    c.execute("INSERT INTO hoc_sinh VALUES ('HS1', NULL, 79318000121), ('HS2', '', 79318000122)")
    c.commit()
    c.close()
    r = load(con, f"sqlite:///{db}")
    assert _ids(con, r.snapshot_id) == [
        ("HS1", "079318000121", None),
        ("HS2", "079318000122", None),
    ]
    (w,) = _warned(con, r.snapshot_id, "trùng với cột")
    assert "dùng cột 'Mã định danh' vì cột 'Số CCCD' để trống trên mọi dòng" in w["message"]
