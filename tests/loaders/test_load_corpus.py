"""Bad-input corpus: each case names file / sheet / row / column in a clear message, and
either the good rows are loaded, or (fatal) nothing is written and earlier snapshots stay."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from loader_helpers import (
    SCHOOLS,
    STUDENT_HEAD,
    folder,
    load,
    messages,
    rejects,
    rows,
    student_rows,
    table_dump,
    write_csv,
    write_xlsx,
)

from soat.errors import SoatError

GOOD = student_rows(3)


def _students(tmp_path, rows_, name="hoc_sinh.csv", **kw):
    return folder(tmp_path, {name: rows_}, **kw)


def _one_reject(con, sid, **expect):
    rej = rejects(con, sid)
    assert len(rej) == 1, rej
    for k, v in expect.items():
        if k == "reason":
            assert v in rej[0]["reason"], rej[0]
        else:
            assert rej[0][k] == v, (k, rej[0])
    return rej[0]


def _warning(con, sid, source, text, sheet=None):
    msgs = [m for m in messages(con, sid) if m["severity"] == "warning"]
    assert any(
        m["source"] == source and text in m["message"] and (sheet is None or m["sheet"] == sheet)
        for m in msgs
    ), msgs


# ---- cases that load: (build(tmp_path) -> source, check(con, result)) --------------------


def value_case(column, bad, reason, table="students"):
    def build(tmp_path):
        rows_ = [list(r) for r in GOOD]
        extra_head = [] if column in STUDENT_HEAD else [column]
        head = STUDENT_HEAD + extra_head
        rows_ = [r + ([""] if extra_head else []) for r in rows_]
        rows_[1][head.index(column)] = bad
        return _students(tmp_path, [head, *rows_])

    def check(con, r):
        assert r.rows["students"] == 3
        _one_reject(
            con,
            r.snapshot_id,
            source="hoc_sinh.csv",
            row=3,
            column=column,
            value=bad,
            row_dropped=False,
            reason=reason,
        )
        got = rows(con, "students", r.snapshot_id)[1]
        raw = {"Ngày sinh": "birth_date_raw", "Ngày cập nhật": "updated_at_raw"}[column]
        assert got[raw] == bad

    return build, check


def int_case(bad, reason):
    head = ["Mã lớp", "Mã trường", "Tên lớp", "Khối", "Sĩ số"]

    def build(tmp_path):
        return folder(
            tmp_path,
            {"lop.csv": [head, ["1A", "S1", "1A", "1", "30"], ["1B", "S1", "1B", "1", bad]]},
        )

    def check(con, r):
        assert r.rows["classes"] == 2
        _one_reject(
            con,
            r.snapshot_id,
            source="lop.csv",
            row=3,
            column="Sĩ số",
            value=bad,
            reason=reason,
            table_name="classes",
        )
        assert rows(con, "classes", r.snapshot_id)[1]["declared_size"] is None

    return build, check


def number_case(bad):
    head = ["Mã trường", "Nguồn", "Số tiền"]

    def build(tmp_path):
        return folder(
            tmp_path, {"budget.csv": [head, ["S1", "NS", "1.000.000"], ["S1", "NS", bad]]}
        )

    def check(con, r):
        assert [x["amount"] for x in rows(con, "budget", r.snapshot_id)] == [1000000, None]
        _one_reject(
            con,
            r.snapshot_id,
            source="budget.csv",
            row=3,
            column="Số tiền",
            value=bad,
            reason="không phải số",
        )

    return build, check


def absent_table_case(build_files, source, text):
    def build(tmp_path):
        return folder(tmp_path, build_files(tmp_path))

    def check(con, r):
        assert "students" not in r.rows and r.rows["schools"] == 2
        _warning(con, r.snapshot_id, source, text)

    return build, check


def dropped_line_case(
    content: bytes, line: int, reason: str, good_rows: list[int], name="students.csv"
):
    def build(tmp_path):
        d = folder(tmp_path, {})
        (d / name).write_bytes(content)
        return d

    def check(con, r):
        got = rows(con, "students", r.snapshot_id)
        assert [x["_row"] for x in got] == good_rows
        rej = [x for x in rejects(con, r.snapshot_id) if x["row_dropped"]]
        assert len(rej) == 1, rej
        assert (rej[0]["source"], rej[0]["row"]) == (name, line)
        assert reason in rej[0]["reason"]

    return build, check


def _csv(rows_, sep=",") -> bytes:
    return "".join(sep.join(r) + "\n" for r in rows_).encode()


HEAD_CSV = ",".join(STUDENT_HEAD)
GOOD_LINES = [",".join(r) for r in GOOD]


def _build_dup_header(tmp_path):
    head = ["Mã học sinh", "Mã trường", "Họ và tên", "Họ tên"]
    return _students(tmp_path, [head, ["HS1", "S1", "An", "Bình"], ["HS2", "S1", "Cường", "Dung"]])


def _check_dup_header(con, r):
    got = rows(con, "students", r.snapshot_id)
    assert [x["full_name"] for x in got] == ["An", "Cường"]
    assert [dict(x["_extra"]) for x in got] == [{"Họ tên": "Bình"}, {"Họ tên": "Dung"}]
    _warning(con, r.snapshot_id, "hoc_sinh.csv", "'Họ tên' trùng với cột 'Họ và tên'")
    (m,) = [m for m in messages(con, r.snapshot_id) if "trùng với cột" in m["message"]]
    assert (m["severity"], m["row"], m["column"]) == ("warning", 1, "Họ tên")


def _build_header_only(tmp_path):
    return _students(tmp_path, [STUDENT_HEAD])


def _check_header_only(con, r):
    assert r.rows["students"] == 0
    present = con.execute(
        "SELECT table_name FROM snapshot_tables WHERE snapshot_id = $s ORDER BY 1",
        {"s": r.snapshot_id},
    ).fetchall()
    assert present == [("schools",), ("students",)]


def _build_unknown_names(tmp_path):
    d = folder(tmp_path, {"hoc_sinh.csv": [STUDENT_HEAD, *GOOD]})
    (d / "bao_cao_tong_hop.csv").write_text("a,b\n1,2\n")
    (d / "students.pdf").write_bytes(b"%PDF-1.4")
    (d / "README").write_text("x")
    return d


def _check_unknown_names(con, r):
    assert r.rows["students"] == 3
    assert sorted(r.skipped) == ["README", "bao_cao_tong_hop.csv", "students.pdf"]
    skipped = {m["source"] for m in messages(con, r.snapshot_id) if "bỏ qua" in m["message"]}
    assert skipped == {"README", "bao_cao_tong_hop.csv", "students.pdf"}


def _build_two_files(tmp_path):
    d = folder(tmp_path, {"hoc_sinh.csv": [STUDENT_HEAD, *GOOD]})
    write_xlsx(d / "students.xlsx", {"S": [STUDENT_HEAD, ["HS9", "S2", "Chín", "", ""]]})
    return d


def _check_two_files(con, r):
    """Two files of one table are two pieces of it: appended, each row keeping its file."""
    got = rows(con, "students", r.snapshot_id, "_source, _sheet, _row, student_code")
    assert sorted((g["_source"], g["_sheet"], g["_row"], g["student_code"]) for g in got) == [
        ("hoc_sinh.csv", None, 2, "HS1"),
        ("hoc_sinh.csv", None, 3, "HS2"),
        ("hoc_sinh.csv", None, 4, "HS3"),
        ("students.xlsx", "S", 2, "HS9"),
    ]
    assert any("ghép từ 2 tệp/sheet" in m["message"] for m in messages(con, r.snapshot_id))


def _build_too_few_fields(tmp_path):
    d = folder(tmp_path, {})
    (d / "students.csv").write_bytes(_csv([STUDENT_HEAD, GOOD[0], GOOD[1][:2], GOOD[2]]))
    return d


def _check_too_few_fields(con, r):
    """A line short of its last fields is read with them empty, and the load says so."""
    got = rows(con, "students", r.snapshot_id)
    assert [(x["_row"], x["student_code"], x["full_name"]) for x in got] == [
        (2, "HS1", "Học sinh 1"),
        (3, "HS2", None),
        (4, "HS3", "Học sinh 3"),
    ]
    assert rejects(con, r.snapshot_id) == []
    _warning(con, r.snapshot_id, "students.csv", "1 dòng có ít trường hơn dòng tiêu đề (dòng 3)")


def _build_xlsx_numeric_ids(tmp_path):
    d = folder(tmp_path, {})
    write_xlsx(
        d / "hoc_sinh.xlsx",
        {
            "HS": [
                STUDENT_HEAD,
                ["HS1", 12, "A", "01/01/2018", 79318000123],
                ["HS2", 12, "B", "01/01/2018", 1234567890123],
            ]
        },
    )
    return d


def _check_xlsx_numeric_ids(con, r):
    got = rows(con, "students", r.snapshot_id)
    assert [x["citizen_id"] for x in got] == ["079318000123", "1234567890123"]
    assert [x["school_code"] for x in got] == ["12", "12"]


def _build_blank_lines(tmp_path):
    d = folder(tmp_path, {})
    lines = [HEAD_CSV, GOOD_LINES[0], "", "   ", GOOD_LINES[1], ",,,,", GOOD_LINES[2]]
    (d / "students.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return d


def _check_blank_lines(con, r):
    assert [x["_row"] for x in rows(con, "students", r.snapshot_id)] == [2, 5, 7]
    assert rejects(con, r.snapshot_id) == []


def _build_quotes(tmp_path):
    return _students(
        tmp_path, [STUDENT_HEAD, ["HS1", "S1", 'Trần "Bé" An, con', "01/01/2018", "0"]]
    )


def _check_quotes(con, r):
    assert rows(con, "students", r.snapshot_id)[0]["full_name"] == 'Trần "Bé" An, con'


def _build_invalid_vocab(tmp_path):
    head = [*STUDENT_HEAD, "Giới tính", "Dân tộc", "Trạng thái"]
    return _students(tmp_path, [head, [*GOOD[0], "Không rõ", "Kinh Tế", "Đã nghỉ"]])


def _check_invalid_vocab(con, r):
    got = rows(con, "students", r.snapshot_id)[0]
    assert (got["gender"], got["ethnicity"], got["status"]) == ("Không rõ", "Kinh Tế", "Đã nghỉ")
    assert rejects(con, r.snapshot_id) == []


def _build_id_spaces(tmp_path):
    rows_ = [list(r) for r in GOOD]
    rows_[0][4] = " 079 318 000 123 "
    rows_[1][4] = "'079318000122"
    return _students(tmp_path, [STUDENT_HEAD, *rows_])


def _check_id_spaces(con, r):
    got = rows(con, "students", r.snapshot_id)
    assert [x["citizen_id"] for x in got[:2]] == ["079 318 000 123", "079318000122"]


def _build_xlsx_title_only_sheet(tmp_path):
    d = folder(tmp_path, {})
    write_xlsx(d / "hoc_sinh.xlsx", {"HS": [["DANH SÁCH HỌC SINH"], ["Không có dữ liệu"]]})
    return d


def _build_binary_csv(tmp_path):
    d = folder(tmp_path, {})
    (d / "hoc_sinh.csv").write_bytes(os.urandom(3000))
    return d


def _check_binary_csv(con, r):
    assert "students" not in r.rows
    msgs = [m for m in messages(con, r.snapshot_id) if m["source"] == "hoc_sinh.csv"]
    assert msgs and msgs[-1]["severity"] == "warning"


def _build_utf16_bad_row(tmp_path):
    d = folder(tmp_path, {})
    text = (
        "\t".join(STUDENT_HEAD)
        + "\r\n"
        + "\r\n".join("\t".join(r) for r in [GOOD[0], [*GOOD[1], "thừa"], GOOD[2]])
        + "\r\n"
    )
    (d / "students.csv").write_bytes(text.encode("utf-16"))
    return d


def _check_utf16_bad_row(con, r):
    assert [x["_row"] for x in rows(con, "students", r.snapshot_id)] == [2, 4]
    rej = _one_reject(con, r.snapshot_id, row=3, row_dropped=True, reason="nhiều trường")
    assert "thừa" in rej["value"]


def _build_xlsx_bad_date(tmp_path):
    d = folder(tmp_path, {})
    write_xlsx(
        d / "hoc_sinh.xlsx",
        {"Học sinh": [["Tiêu đề"], STUDENT_HEAD, *GOOD[:1], ["HS9", "S1", "X", "ngày 5", "0"]]},
    )
    return d


def _check_xlsx_bad_date(con, r):
    assert r.rows["students"] == 2
    _one_reject(
        con,
        r.snapshot_id,
        source="hoc_sinh.xlsx",
        sheet="Học sinh",
        row=4,
        column="Ngày sinh",
        value="ngày 5",
        row_dropped=False,
    )


def _build_workbook_extra_sheets(tmp_path):
    return write_xlsx(
        tmp_path / "wb.xlsx",
        {"trường": SCHOOLS, "Sheet2": [["x"]], "Học sinh": [STUDENT_HEAD, *GOOD]},
    )


def _check_workbook_extra_sheets(con, r):
    assert r.rows == {"schools": 2, "students": 3}
    assert r.skipped == ["wb.xlsx / Sheet2"]


def _build_single_csv(tmp_path):
    return write_csv(tmp_path / "truong.csv", SCHOOLS)


def _check_single_csv(con, r):
    assert r.rows == {"schools": 2}


LOADING = {
    "date_text": value_case("Ngày sinh", "không rõ", "không đọc được ngày"),
    "date_impossible": value_case("Ngày sinh", "30/02/2018", "không đọc được ngày"),
    "date_year_only": value_case("Ngày sinh", "2018", "không đọc được ngày"),
    "date_us_order": value_case("Ngày sinh", "13/25/2018", "không đọc được ngày"),
    "timestamp_bad": value_case("Ngày cập nhật", "10/09/2024 25:99", "không đọc được thời điểm"),
    "int_text": int_case("ba mươi", "không phải số nguyên"),
    "int_fraction": int_case("35,5", "không phải số nguyên"),
    "number_text": number_case("khoảng 1 triệu"),
    "number_two_decimals": number_case("1.2.3,4,5"),
    "unknown_headers": absent_table_case(
        lambda t: {"hoc_sinh.csv": [["Cột 1", "Cột 2", "Cột 3"], ["a", "b", "c"]]},
        "hoc_sinh.csv",
        "không tìm thấy dòng tiêu đề",
    ),
    "title_rows_beyond_15": absent_table_case(
        lambda t: {"hoc_sinh.csv": [[f"tiêu đề {i}"] for i in range(15)] + [STUDENT_HEAD, *GOOD]},
        "hoc_sinh.csv",
        "không tìm thấy dòng tiêu đề trong 15 dòng đầu",
    ),
    "corrupt_xlsx": absent_table_case(
        lambda t: {"hoc_sinh.xlsx": b"PK\x03\x04 this is not a real workbook"},
        "hoc_sinh.xlsx",
        "không mở được tệp Excel: tệp bị hỏng",
    ),
    "encrypted_or_old_xlsx": absent_table_case(  # an OLE container, as Excel writes both
        lambda t: {"hoc_sinh.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)},
        "hoc_sinh.xlsx",
        "tệp được đặt mật khẩu hoặc là tệp Excel cũ (.xls)",
    ),
    "csv_named_xlsx": absent_table_case(
        lambda t: {"hoc_sinh.xlsx": (HEAD_CSV + "\n" + GOOD_LINES[0] + "\n").encode()},
        "hoc_sinh.xlsx",
        "tệp không phải định dạng .xlsx (có thể là tệp CSV",
    ),
    "empty_file": absent_table_case(
        lambda t: {"hoc_sinh.csv": b"\n"}, "hoc_sinh.csv", "không tìm thấy dòng tiêu đề"
    ),
    "zero_byte_file": absent_table_case(lambda t: {"hoc_sinh.csv": b""}, "hoc_sinh.csv", "0 byte"),
    "header_only": (_build_header_only, _check_header_only),
    "duplicated_header": (_build_dup_header, _check_dup_header),
    "latin1_bytes_in_a_line": dropped_line_case(
        HEAD_CSV.encode()
        + b"\n"
        + GOOD_LINES[0].encode()
        + b"\nHS2,S1,Ng\xe0y \xff,01/01/2018,1\n"
        + GOOD_LINES[2].encode()
        + b"\n",
        3,
        "không phải UTF-8",
        [2, 4],
    ),
    "too_many_fields": dropped_line_case(
        _csv([STUDENT_HEAD, GOOD[0], [*GOOD[1], "thừa"], GOOD[2]]), 3, "nhiều trường", [2, 4]
    ),
    "too_few_fields": (_build_too_few_fields, _check_too_few_fields),
    "too_many_fields_after_title": dropped_line_case(
        _csv([["Báo cáo"], [], STUDENT_HEAD, GOOD[0], [*GOOD[1], "x", "y"], GOOD[2]]),
        5,
        "nhiều trường",
        [4, 6],
    ),
    "utf16_with_bad_row": (_build_utf16_bad_row, _check_utf16_bad_row),
    "xlsx_bad_date_cell": (_build_xlsx_bad_date, _check_xlsx_bad_date),
    "xlsx_numeric_ids": (_build_xlsx_numeric_ids, _check_xlsx_numeric_ids),
    "xlsx_title_only_sheet": (
        _build_xlsx_title_only_sheet,
        lambda con, r: _warning(
            con, r.snapshot_id, "hoc_sinh.xlsx", "không tìm thấy dòng tiêu đề", sheet="HS"
        ),
    ),
    "unknown_file_names": (_build_unknown_names, _check_unknown_names),
    "two_files_same_table": (_build_two_files, _check_two_files),
    "blank_and_empty_lines": (_build_blank_lines, _check_blank_lines),
    "quotes_and_separators_in_cells": (_build_quotes, _check_quotes),
    "values_outside_vocabulary": (_build_invalid_vocab, _check_invalid_vocab),
    "citizen_id_spaces_apostrophe": (_build_id_spaces, _check_id_spaces),
    "binary_garbage_csv": (_build_binary_csv, _check_binary_csv),
    "workbook_unknown_sheet": (_build_workbook_extra_sheets, _check_workbook_extra_sheets),
    "single_csv_file": (_build_single_csv, _check_single_csv),
}


@pytest.mark.parametrize("case", sorted(LOADING))
def test_bad_input_loads_good_rows(con, tmp_path, case):
    build, check = LOADING[case]
    r = load(con, build(tmp_path))
    assert r.rows.get("schools") == 2
    check(con, r)


# ---- fatal cases: SoatError naming the source; nothing written ---------------------------


def _no_schools(tmp_path):
    return folder(tmp_path, {"hoc_sinh.csv": [STUDENT_HEAD, *GOOD]}, schools=False), "schools"


def _schools_corrupt_xlsx(tmp_path):
    d = folder(tmp_path, {"hoc_sinh.csv": [STUDENT_HEAD, *GOOD]}, schools=False)
    (d / "truong.xlsx").write_bytes(b"not a zip at all")
    return d, "truong.xlsx"


def _schools_no_header(tmp_path):
    d = folder(tmp_path, {}, schools=False)
    (d / "truong.csv").write_text("x,y\n1,2\n")
    return d, "không tìm thấy dòng tiêu đề"


def _empty_dir(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    return d, "schools"


def _missing_path(tmp_path):
    return tmp_path / "khong_co", "không tìm thấy nguồn"


def _corrupt_workbook(tmp_path):
    p = tmp_path / "tinh.xlsx"
    p.write_bytes(b"PK\x03\x04garbage")
    return p, "tinh.xlsx"


def _workbook_without_schools(tmp_path):
    return write_xlsx(tmp_path / "tinh.xlsx", {"Học sinh": [STUDENT_HEAD, *GOOD]}), "schools"


def _unreachable_sql(tmp_path):
    return "postgresql+psycopg://u:secret@127.0.0.1:1/none", "không kết nối được"


def _unsupported_file(tmp_path):
    p = tmp_path / "truong.pdf"
    p.write_bytes(b"%PDF")
    return p, "thư mục, một tệp .xlsx"


def _single_csv_unknown_name(tmp_path):
    return write_csv(tmp_path / "abc.csv", SCHOOLS), "abc.csv"


FATAL = {
    "missing_schools": _no_schools,
    "schools_corrupt_xlsx": _schools_corrupt_xlsx,
    "schools_without_header": _schools_no_header,
    "empty_directory": _empty_dir,
    "missing_path": _missing_path,
    "corrupt_workbook": _corrupt_workbook,
    "workbook_without_schools": _workbook_without_schools,
    "unreachable_sql": _unreachable_sql,
    "unsupported_file": _unsupported_file,
    "single_csv_unknown_name": _single_csv_unknown_name,
}


@pytest.mark.parametrize("case", sorted(FATAL))
def test_fatal_input_writes_nothing(con, tmp_path, case):
    good = load(con, folder(tmp_path / "good", {"hoc_sinh.csv": [STUDENT_HEAD, *GOOD]}))
    before = table_dump(con)
    source, must_name = FATAL[case](_mk(tmp_path))
    with pytest.raises(SoatError) as err:
        load(con, source)
    message = str(err.value)
    assert must_name in message, message
    assert "\n" not in message
    assert "secret" not in message
    assert table_dump(con) == before
    assert (
        con.execute("SELECT max(snapshot_id) FROM snapshots").fetchall()[0][0] == good.snapshot_id
    )


def _mk(tmp_path: Path) -> Path:
    d = tmp_path / "bad"
    d.mkdir(exist_ok=True)
    return d


def test_corpus_size():
    assert len(LOADING) + len(FATAL) >= 30


# ---- what a user reads: no traceback, no library English, no "unexpected error" ---------

ENGLISH = re.compile(
    r"Traceback|Error|Exception|Invalid|could not|Expected|Parser|state machine|"
    r"not found|lỗi không mong đợi"
)
OFFICE = Path(__file__).resolve().parents[1] / "data" / "office"


def _user_output(tmp_path, source, capsys) -> tuple[int, str]:
    """What `soat load` prints (the load and the check summaries)."""
    from soat.cli import main

    code = main(["load", str(source), "--db", str(tmp_path / "cli.duckdb")])
    out = capsys.readouterr()
    return code, out.out + out.err


def _load_output(con, source) -> tuple[int, str]:
    """The load summary `soat load` prints, or its one-line error (no catalogue run)."""
    import io

    from rich.console import Console

    from soat.commands.load import print_load_summary

    try:
        result = load(con, source)
    except SoatError as exc:
        return 1, str(exc)
    buf = io.StringIO()
    print_load_summary(con, result, Console(file=buf, width=200))
    return 0, buf.getvalue()


@pytest.mark.parametrize("case", sorted(p.name for p in OFFICE.iterdir()))
def test_soat_load_of_office_files_speaks_vietnamese(tmp_path, capsys, case):
    code, text = _user_output(tmp_path, OFFICE / case, capsys)
    assert code == 0, text
    bad = [line for line in text.splitlines() if ENGLISH.search(line)]
    assert bad == [], bad


@pytest.mark.parametrize(
    "case",
    [f"loading/{k}" for k in sorted(LOADING)]
    # a connection failure keeps the driver's message as its detail (wrong password, host)
    + [f"fatal/{k}" for k in sorted(FATAL) if k != "unreachable_sql"],
)
def test_the_load_summary_of_bad_input_speaks_vietnamese(con, tmp_path, case):
    kind, name = case.split("/")
    if kind == "loading":
        source = LOADING[name][0](tmp_path)
    else:
        source, _ = FATAL[name](_mk(tmp_path))
    code, text = _load_output(con, source)
    assert code == (1 if kind == "fatal" else 0), text
    bad = [line for line in text.splitlines() if ENGLISH.search(line)]
    assert bad == [], bad
