"""The office-files corpus (tests/data/office/): exports as district offices and schools
really edit them (issue 18), one folder per case, each a source `soat load` reads.

Made by code: `python tests/loaders/office_corpus.py` writes every case into
tests/data/office/ (the committed copy); tests/loaders/test_office_files.py loads the
committed folders and checks that they are what this code writes. Workbooks are written
with xlsxwriter with a fixed creation date, so the bytes are the same on every run.

| folder | the file as offices make it |
| --- | --- |
| 01_line_endings | CRLF CSV with one line ending in LF only (edited in a text editor) |
| 01b_utf16_line_endings | the same saved as UTF-16 ("Unicode text") |
| 02_hidden_first_sheet | truong.xlsx and hoc_sinh.xlsx whose first sheet is a hidden lookup list |
| 03_sheet_per_school | hoc_sinh.xlsx with one sheet per school and a notes sheet |
| 04_two_row_header | SMAS-style header: group titles merged above the real headers |
| 05_header_variants | headers the contract did not list (Họ tên học sinh, Số CCCD/Mã định danh…) |
| 05b_missing_column | a students file without its citizen-ID column |
| 06_cp1258 | lop.csv saved as Windows-1258, plain-ASCII headers |
| 06b_cp1252 | can_bo.csv saved as Windows-1252 by English Excel (letters lost as '?') |
| 07_two_digit_years | text dates 05-03-24 |
| 08_us_dates | dates month first (English-locale Excel) |
| 08b_mixed_dates | one column with both orders |
| 09_trailing_fields | CSV rows missing only their trailing empty fields |
| 10_file_per_school | hoc_sinh_truong1.xlsx, hoc_sinh (2).xlsx, hoc_sinh/…, truong4/hoc_sinh.csv |
| 11_repeated_header | a title + header block pasted into the middle of the data |
| 12_id_cells | citizen IDs as number and text cells, an old 9-digit CMND |
| 13_number_cells | number cell 1.125, text 1.125 and '3 5' in number columns |
| 14_tcvn3 | TCVN3 (ABC font) headers and text |
| 14b_tcvn3_cells | Unicode headers, TCVN3 names in an .xlsx |
| 14c_vni | VNI (VNI-Times font) names in a UTF-8 CSV |
| 15_excel_errors | #N/A cells, a formula without a cached value, codes in number cells |
| 16_line_breaks_in_cells | a CSV title typed over two lines in one cell, a header cell with Alt+Enter |
| 17_unheaded_cells | "Họ và tên" merged over two columns, a repeated "Ghi chú", a note right of the table, the school code merged down its rows |
| 18_far_cell | a stray value in XFD1048576 of the students' sheet |
| 19_xls_html | hoc_sinh.xls that is an HTML page (a school software's "Excel" export) |
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "tests" / "data" / "office"

SCHOOL_HEAD = ["Mã trường", "Tên trường", "Mã đơn vị quản lý", "Cấp học"]
SCHOOLS = [
    ["S1", "Trường Tiểu học Lê Lợi", "79760", "TH"],
    ["S2", "Trường THCS Nguyễn Du", "79760", "THCS"],
]
HEAD = ["Mã học sinh", "Mã trường", "Họ và tên", "Ngày sinh", "Giới tính", "Số định danh cá nhân"]
STUDENTS = [
    ["HS1", "S1", "Nguyễn Văn An", "02/03/2018", "Nam", "079218000101"],
    ["HS2", "S1", "Trần Thị Bình", "15/07/2018", "Nữ", "079318000102"],
    ["HS3", "S2", "Lê Hoàng Cường", "28/11/2012", "Nam", "079212000103"],
    ["HS4", "S2", "Phạm Thị Dung", "09/01/2012", "Nữ", "079312000104"],
]
CREATED = dt.datetime(2024, 10, 15, 8, 0, 0)


def _csv(rows: list[list[str]], sep: str = ",", eol: str = "\n") -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if any(c in v for c in (sep, '"', "\n")) else v

    return "".join(sep.join(cell(str(v)) for v in r) + eol for r in rows)


def _schools(d: Path) -> None:
    (d / "truong.csv").write_text(_csv([SCHOOL_HEAD, *SCHOOLS]), encoding="utf-8")


def _workbook(path: Path):
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": CREATED})
    return wb


def _rows(ws, rows: list[list], first: int = 0) -> None:
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, int | float):
                ws.write_number(first + i, j, v)
            else:
                ws.write_string(first + i, j, v)


# ---- the cases ---------------------------------------------------------------------


def line_endings(d: Path) -> None:
    _schools(d)
    lines = _csv([HEAD, *STUDENTS], eol="\r\n").split("\r\n")
    text = "\r\n".join(lines[:3]) + "\n" + "\r\n".join(lines[3:])  # line 3 ends in LF only
    (d / "hoc_sinh.csv").write_bytes(text.encode("utf-8"))


def utf16_line_endings(d: Path) -> None:
    _schools(d)
    lines = _csv([HEAD, *STUDENTS], sep="\t", eol="\r\n").split("\r\n")
    text = "\r\n".join(lines[:2]) + "\n" + "\r\n".join(lines[2:])
    (d / "hoc_sinh.csv").write_bytes(text.encode("utf-16"))


def hidden_first_sheet(d: Path) -> None:
    for name, head, rows in (
        ("truong.xlsx", SCHOOL_HEAD, SCHOOLS),
        ("hoc_sinh.xlsx", HEAD, STUDENTS),
    ):
        wb = _workbook(d / name)
        lookup = wb.add_worksheet("DanhMuc")
        _rows(lookup, [["Mã", "Tên"], ["TH", "Tiểu học"], ["THCS", "Trung học cơ sở"]])
        data = wb.add_worksheet("DuLieu")
        _rows(data, [head, *rows])
        data.activate()
        data.set_first_sheet()
        lookup.hide()
        wb.close()


def sheet_per_school(d: Path) -> None:
    _schools(d)
    wb = _workbook(d / "hoc_sinh.xlsx")
    _rows(wb.add_worksheet("Hướng dẫn"), [["Mỗi trường một sheet"], ["Không sửa tiêu đề"]])
    _rows(wb.add_worksheet("Trường S1"), [["DANH SÁCH HỌC SINH"], HEAD, *STUDENTS[:2]])
    _rows(wb.add_worksheet("Trường S2"), [HEAD, *STUDENTS[2:]])
    wb.close()


def two_row_header(d: Path) -> None:
    _schools(d)
    wb = _workbook(d / "hoc_sinh.xlsx")
    ws = wb.add_worksheet("Học sinh")
    ws.write_string(0, 0, "DANH SÁCH HỌC SINH NĂM HỌC 2024-2025")
    for col, text in enumerate(["STT", "Mã học sinh", "Mã trường", "Họ và tên"]):
        ws.merge_range(1, col, 2, col, text)  # merged down over both header rows
    ws.merge_range(1, 4, 1, 6, "Thông tin cá nhân")  # a group title over three columns
    ws.merge_range(1, 7, 1, 8, "Định danh")
    for col, text in enumerate(
        ["Ngày sinh", "Giới tính", "Dân tộc", "Số CCCD/Mã định danh", "Trạng thái xác thực"],
        start=4,
    ):
        ws.write_string(2, col, text)
    for i, s in enumerate(STUDENTS):
        _rows(ws, [[i + 1, s[0], s[1], s[2], s[3], s[4], "Kinh", s[5], "Đã xác thực"]], 3 + i)
    wb.close()


def header_variants(d: Path) -> None:
    _schools(d)
    head = [
        "Mã HS",
        "Mã trường",
        "Họ tên học sinh",
        "Ngày tháng năm sinh",
        "Giới tính",
        "Số CCCD/Mã định danh",
        "Nơi thường trú",
    ]
    rows = [[*s, "Phường 1"] for s in STUDENTS]
    rows[1][5] = "07931800010"  # 11 digits: id_format must fire, not pass for want of a column
    (d / "hoc_sinh.csv").write_text(_csv([head, *rows]), encoding="utf-8")


def missing_column(d: Path) -> None:
    _schools(d)
    rows = [s[:5] for s in STUDENTS]
    (d / "hoc_sinh.csv").write_text(_csv([HEAD[:5], *rows]), encoding="utf-8")


def cp1258(d: Path) -> None:
    from loader_helpers import encode_cp1258

    _schools(d)
    head = ["class_code", "school_code", "school_year", "class_name", "grade", "declared_size"]
    rows = [
        ["1A", "S1", "2024-2025", "Lớp 1A Hoa Sen", "1", "30"],
        ["1B", "S1", "2024-2025", "Lớp 1B Hướng Dương", "1", "28"],
        ["6A", "S2", "2024-2025", "Lớp 6A Trường Sơn", "6", "40"],
    ]
    (d / "lop.csv").write_bytes(encode_cp1258(_csv([head, *rows])))


def cp1252(d: Path) -> None:
    _schools(d)
    head = ["staff_code", "school_code", "full_name", "birth_date", "gender", "position"]
    rows = [
        ["GV1", "S1", "Nguyễn Thị Hà", "20/05/1985", "Nữ", "Giáo viên"],
        ["GV2", "S2", "Võ Văn Tú", "02/01/1979", "Nam", "Hiệu trưởng"],
    ]
    text = _csv([head, *rows])
    (d / "can_bo.csv").write_bytes(text.encode("cp1252", errors="replace"))


def two_digit_years(d: Path) -> None:
    _schools(d)
    rows = [list(s) for s in STUDENTS]
    rows[0][3] = "05-03-24"
    rows[2][3] = "28/11/12"
    (d / "hoc_sinh.csv").write_text(_csv([HEAD, *rows]), encoding="utf-8")


def us_dates(d: Path) -> None:
    _schools(d)
    rows = [list(s) for s in STUDENTS]
    for r, us in zip(rows, ["3/2/2018", "7/15/2018", "11/28/2012", "1/9/2012"], strict=True):
        r[3] = us
    (d / "hoc_sinh.csv").write_text(_csv([HEAD, *rows]), encoding="utf-8")


def mixed_dates(d: Path) -> None:
    _schools(d)
    rows = [list(s) for s in STUDENTS]
    for r, v in zip(rows, ["03/02/2018", "7/15/2018", "28/11/2012", "09/01/2012"], strict=True):
        r[3] = v
    (d / "hoc_sinh.csv").write_text(_csv([HEAD, *rows]), encoding="utf-8")


def trailing_fields(d: Path) -> None:
    _schools(d)
    text = _csv([HEAD, STUDENTS[0]]) + "HS2,S1,Trần Thị Bình\n" + _csv(STUDENTS[2:])
    (d / "hoc_sinh.csv").write_text(text, encoding="utf-8")


def file_per_school(d: Path) -> None:
    _schools(d)
    wb = _workbook(d / "hoc_sinh_truong1.xlsx")
    _rows(wb.add_worksheet("HS"), [HEAD, STUDENTS[0]])
    wb.close()
    wb = _workbook(d / "hoc_sinh (2).xlsx")
    _rows(wb.add_worksheet("HS"), [HEAD, STUDENTS[1]])
    wb.close()
    (d / "hoc_sinh").mkdir(parents=True, exist_ok=True)
    (d / "hoc_sinh" / "truong3.csv").write_text(_csv([HEAD, STUDENTS[2]]), encoding="utf-8")
    (d / "truong4").mkdir(parents=True, exist_ok=True)
    (d / "truong4" / "hoc_sinh.csv").write_text(_csv([HEAD, STUDENTS[3]]), encoding="utf-8")
    (d / "truong4" / "ghi_chu.txt").write_text("Danh sách gửi Phòng\n", encoding="utf-8")


def repeated_header(d: Path) -> None:
    _schools(d)
    rows = [HEAD, *STUDENTS[:2], ["DANH SÁCH HỌC SINH TRƯỜNG S2"], HEAD, *STUDENTS[2:]]
    (d / "hoc_sinh.csv").write_text(_csv(rows), encoding="utf-8")
    head = ["Mã cán bộ", "Mã trường", "Họ và tên", "Vị trí việc làm"]
    wb = _workbook(d / "can_bo.xlsx")
    _rows(
        wb.add_worksheet("CB"),
        [
            head,
            ["GV1", "S1", "Lê Văn Cường", "Giáo viên"],
            [],
            ["DANH SÁCH CÁN BỘ TRƯỜNG S2"],
            ["Ngày 15/10/2024"],
            head,
            ["GV2", "S2", "Hồ Thị Dịu", "Giáo viên"],
        ],
    )
    wb.close()


def id_cells(d: Path) -> None:
    _schools(d)
    wb = _workbook(d / "hoc_sinh.xlsx")
    ws = wb.add_worksheet("HS")
    _rows(ws, [HEAD[:3] + [HEAD[5]]])
    _rows(ws, [["HS1", "S1", "Số 11 chữ số"], ["HS2", "S1", "Văn bản 11 chữ số"]], 1)
    ws.write_number(1, 3, 79218000101)  # a number cell: Excel dropped the leading 0
    ws.write_string(2, 3, "79318000102")  # a text cell typed with 11 digits
    _rows(ws, [["HS3", "S2", "CMND cũ (văn bản)", "123456789"]], 3)
    _rows(ws, [["HS4", "S2", "CMND cũ (số)"]], 4)
    ws.write_number(4, 3, 23456789)
    wb.close()


def number_cells(d: Path) -> None:
    _schools(d)
    wb = _workbook(d / "ngan_sach.xlsx")
    ws = wb.add_worksheet("NS")
    _rows(ws, [["Mã trường", "Nguồn", "Số tiền"]])
    _rows(ws, [["S1", "Ngân sách tỉnh"], ["S1", "Học phí"], ["S2", "Xã hội hóa"]], 1)
    ws.write_number(1, 2, 1.125)  # a number cell: 1.125
    ws.write_string(2, 2, "1.125")  # text: read the Vietnamese way, 1125
    ws.write_string(3, 2, "1 250 000")  # spaces grouping thousands
    wb.close()
    wb = _workbook(d / "lop.xlsx")
    ws = wb.add_worksheet("Lớp")
    _rows(ws, [["Mã lớp", "Mã trường", "Tên lớp", "Khối", "Sĩ số"]])
    _rows(ws, [["1A", "S1", "1A", "1", 35], ["1B", "S1", "1B", "1", "3 5"]], 1)
    wb.close()


TCVN3_HEAD = ["M· häc sinh", "M· tr­êng", "Hä vµ tªn", "Ngµy sinh", "Giíi tÝnh"]


def tcvn3(d: Path) -> None:
    _schools(d)
    rows = [
        ["HS1", "S1", "NguyÔn V¨n An", "02/03/2018", "Nam"],
        ["HS2", "S1", "TrÇn ThÞ B×nh", "15/07/2018", "N÷"],
        ["HS3", "S2", "Lª Hoµng C­êng", "28/11/2012", "Nam"],
    ]
    (d / "hoc_sinh.csv").write_text(_csv([TCVN3_HEAD, *rows]), encoding="utf-8")


def tcvn3_cells(d: Path) -> None:
    _schools(d)
    wb = _workbook(d / "can_bo.xlsx")
    _rows(
        wb.add_worksheet("CB"),
        [
            ["Mã cán bộ", "Mã trường", "Họ và tên", "Vị trí việc làm", "Trình độ đào tạo"],
            ["GV1", "S1", "§Æng ThÞ Hoa", "Gi¸o viªn", "§¹i häc"],
            ["GV2", "S2", "Ph¹m V¨n Hïng", "HiÖu tr­ëng", "Th¹c sÜ"],
            ["GV3", "S2", "Lý Thu Hà", "Giáo viên", "Cao đẳng"],
        ],
    )
    wb.close()


def vni(d: Path) -> None:
    _schools(d)
    rows = [
        ["HS1", "S1", "Nguyeãn Vaên An", "02/03/2018", "Nam"],
        ["HS2", "S1", "Traàn Thò Bình", "15/07/2018", "Nöõ"],
        ["HS3", "S2", "Ñaëng Höõu Phöôùc", "28/11/2012", "Nam"],
    ]
    (d / "hoc_sinh.csv").write_text(_csv([HEAD[:5], *rows]), encoding="utf-8")


def excel_errors(d: Path) -> None:
    _schools(d)
    wb = _workbook(d / "hoc_sinh.xlsx")
    ws = wb.add_worksheet("HS")
    _rows(ws, [HEAD])
    codes = ["0101", "0102", 103, "0104"]  # 103 typed as a number: its leading 0 is gone
    for row, (code, s) in enumerate(zip(codes, STUDENTS, strict=True), start=1):
        _rows(ws, [[code, *s[1:]]], row)
    ws.write_formula(1, 5, "=NA()", None, "#N/A")  # an error cell
    ws.write_formula(2, 3, "=DATE(2018,7,15)", None, "")  # a formula without a cached value
    wb.close()


def line_breaks_in_cells(d: Path) -> None:
    _schools(d)
    head = [*HEAD]
    head[3] = "Ngày sinh\n(dd/mm/yyyy)"
    title = ["DANH SÁCH HỌC SINH\nNăm học 2024-2025"]
    (d / "hoc_sinh.csv").write_text(_csv([title, head, *STUDENTS]), encoding="utf-8")


def unheaded_cells(d: Path) -> None:
    _schools(d)
    wb = _workbook(d / "hoc_sinh.xlsx")
    ws = wb.add_worksheet("HS")
    head = ["Mã học sinh", "Mã trường", "Họ và tên", None, "Ngày sinh", "Ghi chú", "Ghi chú"]
    _rows(ws, [head])
    ws.merge_range("C1:D1", "Họ và tên")
    family = {"HS1": ("Nguyễn Văn", "An"), "HS2": ("Trần Thị", "Bình")}
    family.update({"HS3": ("Lê Hoàng", "Cường"), "HS4": ("Phạm Thị", "Dung")})
    for i, (code, _school, _name, born, *_rest) in enumerate(STUDENTS, start=1):
        first, given = family[code]
        _rows(ws, [[code, None, first, given, born, f"GC{i}", f"GC{i}-2"]], i)
    ws.merge_range("B2:B3", "S1")
    ws.merge_range("B4:B5", "S2")
    ws.write_string(2, 9, "chuyển trường 5/2025")  # J3, right of the table
    wb.close()


def far_cell(d: Path) -> None:
    _schools(d)
    wb = _workbook(d / "hoc_sinh.xlsx")
    ws = wb.add_worksheet("HS")
    _rows(ws, [HEAD, *STUDENTS])
    ws.write_string(1048575, 16383, "x")
    wb.close()


def xls_html(d: Path) -> None:
    _schools(d)
    cells = "".join(f"<td>{h}</td>" for h in HEAD)
    (d / "hoc_sinh.xls").write_text(
        f"<html><body><table><tr>{cells}</tr></table></body></html>\n", encoding="utf-8"
    )


CASES = {
    "01_line_endings": line_endings,
    "01b_utf16_line_endings": utf16_line_endings,
    "02_hidden_first_sheet": hidden_first_sheet,
    "03_sheet_per_school": sheet_per_school,
    "04_two_row_header": two_row_header,
    "05_header_variants": header_variants,
    "05b_missing_column": missing_column,
    "06_cp1258": cp1258,
    "06b_cp1252": cp1252,
    "07_two_digit_years": two_digit_years,
    "08_us_dates": us_dates,
    "08b_mixed_dates": mixed_dates,
    "09_trailing_fields": trailing_fields,
    "10_file_per_school": file_per_school,
    "11_repeated_header": repeated_header,
    "12_id_cells": id_cells,
    "13_number_cells": number_cells,
    "14_tcvn3": tcvn3,
    "14b_tcvn3_cells": tcvn3_cells,
    "14c_vni": vni,
    "15_excel_errors": excel_errors,
    "16_line_breaks_in_cells": line_breaks_in_cells,
    "17_unheaded_cells": unheaded_cells,
    "18_far_cell": far_cell,
    "19_xls_html": xls_html,
}


def build(root: Path, cases=None) -> None:
    for name, make in CASES.items():
        if cases and name not in cases:
            continue
        d = root / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        make(d)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    build(ROOT, sys.argv[1:])
    print(f"wrote {len(CASES)} cases to {ROOT}")
