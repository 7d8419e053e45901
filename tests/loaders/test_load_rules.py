"""Reading rules of data-contract.md, one test (or a few) per rule."""

from __future__ import annotations

import datetime as dt

from loader_helpers import (
    SCHOOLS,
    STUDENT_HEAD,
    encode_cp1258,
    folder,
    load,
    messages,
    rejects,
    rows,
    student_rows,
    write_csv,
    write_xlsx,
)


def test_folder_csv_basic(con, tmp_path):
    d = folder(tmp_path, {"hoc_sinh.csv": [STUDENT_HEAD, *student_rows(3)]})
    r = load(con, d)
    assert r.rows == {"schools": 2, "students": 3}
    got = rows(con, "students", r.snapshot_id)
    assert [x["student_code"] for x in got] == ["HS1", "HS2", "HS3"]
    assert [x["_row"] for x in got] == [2, 3, 4]
    assert got[0]["birth_date"] == dt.date(2018, 3, 1)
    assert got[0]["birth_date_raw"] is None  # the source text is kept only when unreadable
    assert got[0]["_source"] == "hoc_sinh.csv"
    assert got[0]["status"] == "Đang học"  # default when the column is absent
    snap = con.execute("SELECT source_kind, row_counts FROM snapshots").fetchall()[0]
    assert snap == ("folder", {"students": 3, "schools": 2})


def test_title_rows_and_row_numbers_csv(con, tmp_path):
    content = [["BÁO CÁO HỌC SINH"], ["Ngày 15/10/2024"], [], STUDENT_HEAD, *student_rows(2)]
    d = folder(tmp_path, {"students.csv": content})
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [x["_row"] for x in got] == [5, 6]
    header_row = con.execute(
        "SELECT header_row FROM snapshot_tables WHERE table_name = 'students'"
    ).fetchall()[0][0]
    assert header_row == 4


def test_title_rows_and_row_numbers_xlsx(con, tmp_path):
    d = tmp_path / "x"
    write_csv(d / "schools.csv", SCHOOLS)
    write_xlsx(
        d / "students.xlsx",
        {"Sheet1": [["DANH SÁCH HỌC SINH"], [], STUDENT_HEAD, *student_rows(2), [], ["HS9", "S1"]]},
        start_row=3,
    )
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    # title at Excel row 3, header at row 5, data at rows 6, 7 and 9 (row 8 empty)
    assert [(x["student_code"], x["_row"]) for x in got] == [("HS1", 6), ("HS2", 7), ("HS9", 9)]
    assert got[0]["_sheet"] == "Sheet1"


def test_header_matching_variants(con, tmp_path):
    head = ["  MÃ   HỌC SINH ", "ma truong", "full_name", "Ngay sinh", "Số CCCD", "Ghi chú"]
    d = folder(
        tmp_path, {"học sinh.csv": [head, ["HS1", "S1", "An", "2018-03-02", "079318000123", "x"]]}
    )
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)[0]
    assert got["student_code"] == "HS1" and got["school_code"] == "S1"
    assert got["full_name"] == "An" and got["citizen_id"] == "079318000123"
    assert got["birth_date"] == dt.date(2018, 3, 2)
    assert got["_extra"] == {"Ghi chú": "x"}


def test_decomposed_unicode_headers_and_values(con, tmp_path):
    import unicodedata

    nfd = [unicodedata.normalize("NFD", h) for h in STUDENT_HEAD] + ["Dân tộc"]
    row = [
        "HS1",
        "S1",
        unicodedata.normalize("NFD", "Nguyễn Thị Ánh"),
        "01/02/2018",
        "079318000123",
        unicodedata.normalize("NFD", "Mường"),
    ]
    d = folder(tmp_path, {"students.csv": [nfd, row]})
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)[0]
    assert got["full_name"] == "Nguyễn Thị Ánh" and unicodedata.is_normalized(
        "NFC", got["full_name"]
    )
    assert got["ethnicity"] == "Mường"


def test_column_order_free_and_separators(con, tmp_path):
    head = ["Số định danh cá nhân", "Ngày sinh", "Mã học sinh", "Mã trường"]
    for sep in (";", "\t", ","):
        d = tmp_path / f"sep{ord(sep)}"
        write_csv(d / "schools.csv", SCHOOLS, sep=sep)
        write_csv(d / "students.csv", [head, ["079318000123", "02/03/2018", "HS1", "S1"]], sep=sep)
        r = load(con, d)
        got = rows(con, "students", r.snapshot_id)[0]
        assert (got["student_code"], got["citizen_id"]) == ("HS1", "079318000123"), sep


def test_encodings(con, tmp_path):
    body = [STUDENT_HEAD, ["HS1", "S1", "Đặng Thị Ánh", "02/03/2018", "079318000123"]]
    for enc in ("utf-8-sig", "utf-16", "utf-16-be", "cp1258"):
        d = tmp_path / enc
        write_csv(d / "schools.csv", SCHOOLS)
        text = "\t".join(body[0]) + "\r\n" + "\t".join(body[1]) + "\r\n"
        data = encode_cp1258(text) if enc == "cp1258" else text.encode(enc)
        if enc == "utf-16-be":
            data = b"\xfe\xff" + data
        (d / "students.csv").write_bytes(data)
        r = load(con, d)
        got = rows(con, "students", r.snapshot_id)
        assert got[0]["full_name"] == "Đặng Thị Ánh", enc
        assert got[0]["_row"] == 2
    assert any("Windows-1258" in m["message"] for m in messages(con, r.snapshot_id))


def test_empty_markers_and_trim(con, tmp_path):
    head = [*STUDENT_HEAD, "Giới tính", "Trạng thái", "Dân tộc"]
    data = [
        ["HS1", "S1", "  An  ", "-", "N/A", "null", "   ", "--"],
        ["HS2", "S1", "\u00a0Bình\u00a0", "", "NULL", "nữ", "Chuyển đi", "kinh"],
    ]
    d = folder(tmp_path, {"students.csv": [head, *data]})
    r = load(con, d)
    a, b = rows(con, "students", r.snapshot_id)
    assert a["full_name"] == "An" and a["birth_date_raw"] is None and a["citizen_id"] is None
    assert a["gender"] is None and a["status"] == "Đang học" and a["ethnicity"] is None
    assert b["full_name"] == "Bình" and b["gender"] == "Nữ" and b["status"] == "Chuyển đi"
    assert b["ethnicity"] == "Kinh"
    assert rejects(con, r.snapshot_id) == []


def test_dates_and_timestamps(con, tmp_path):
    head = ["Mã học sinh", "Mã trường", "Ngày sinh", "Ngày cập nhật"]
    data = [
        ["HS1", "S1", "02/03/2018", "10/09/2024 08:05"],
        ["HS2", "S1", "2/3/2018", "10/09/2024 08:05:30"],
        ["HS3", "S1", "2018-03-02", "2024-09-10 08:05"],
        ["HS4", "S1", "43161", "45545.5"],
        ["HS5", "S1", "31/02/2018", "hôm qua"],
        ["HS6", "S1", "2018", "10/09/2024"],
    ]
    d = folder(tmp_path, {"students.csv": [head, *data]})
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [x["birth_date"] for x in got[:4]] == [dt.date(2018, 3, 2)] * 4
    assert got[0]["updated_at"] == dt.datetime(2024, 9, 10, 8, 5)
    assert got[1]["updated_at"] == dt.datetime(2024, 9, 10, 8, 5, 30)
    assert got[3]["updated_at"] == dt.datetime(2024, 9, 10, 12, 0)
    assert got[4]["birth_date"] is None and got[4]["birth_date_raw"] == "31/02/2018"
    assert got[5]["birth_date"] is None  # a bare year is not a date (nor an Excel serial)
    assert got[5]["updated_at"] == dt.datetime(2024, 9, 10)
    rej = rejects(con, r.snapshot_id)
    assert {(x["row"], x["column"], x["value"], x["row_dropped"]) for x in rej} == {
        (6, "Ngày sinh", "31/02/2018", False),
        (6, "Ngày cập nhật", "hôm qua", False),
        (7, "Ngày sinh", "2018", False),
    }
    assert all(x["source"] == "hoc_sinh.csv" or x["source"] == "students.csv" for x in rej)
    assert all("ngày" in x["reason"] or "thời điểm" in x["reason"] for x in rej)


def test_xlsx_cells(con, tmp_path):
    d = tmp_path / "x"
    write_csv(d / "schools.csv", SCHOOLS)
    head = [
        "Mã học sinh",
        "Mã trường",
        "Mã lớp",
        "Ngày sinh",
        "Số định danh cá nhân",
        "Ngày cập nhật",
    ]
    write_xlsx(
        d / "hoc_sinh.xlsx",
        {
            "HS": [
                head,
                [101, 7, 12.0, dt.date(2018, 3, 2), 79318000123, dt.datetime(2024, 9, 10, 8, 30)],
                ["HS2", "S1", "1A", 43161, "079318000124", "10/09/2024 08:30"],
                ["HS3", "S1", "1A", "02/03/2018", 1234, None],
            ]
        },
    )
    r = load(con, d)
    a, b, c = rows(con, "students", r.snapshot_id)
    assert (a["student_code"], a["school_code"], a["class_code"]) == ("101", "7", "12")
    assert a["citizen_id"] == "079318000123" and b["citizen_id"] == "079318000124"
    # a number of 4 digits is no ID that lost its zeros (those have 10 or 11 digits): kept
    assert c["citizen_id"] == "1234"
    assert a["birth_date"] == b["birth_date"] == c["birth_date"] == dt.date(2018, 3, 2)
    assert a["updated_at"] == b["updated_at"] == dt.datetime(2024, 9, 10, 8, 30)


def test_numbers(con, tmp_path):
    head = ["Mã trường", "Năm học", "Nguồn", "Số tiền"]
    vals = [
        "1.250.000",
        "1250000",
        "1.250",
        "1,5",
        "1.250.000,5",
        "2,500,000",
        "12 000 đ",
        "-3",
        "1e3",
        "mười",
        "1.2.3",
    ]
    d = folder(tmp_path, {"ngan_sach.csv": [head, *[["S1", "2024-2025", "NS", v] for v in vals]]})
    r = load(con, d)
    got = [x["amount"] for x in rows(con, "budget", r.snapshot_id)]
    assert got == [1250000, 1250000, 1250, 1.5, 1250000.5, 2500000, 12000, -3, 1000, None, None]
    assert len(rejects(con, r.snapshot_id)) == 2
    head = ["Mã lớp", "Mã trường", "Tên lớp", "Khối", "Sĩ số", "Số tiết NN/tuần"]
    d2 = folder(
        tmp_path / "c",
        {
            "classes.csv": [
                head,
                ["1A", "S1", "1A", "1", "35", "4,5"],
                ["1B", "S1", "1B", "Lớp 1", "1.035", "x"],
            ]
        },
    )
    r = load(con, d2)
    a, b = rows(con, "classes", r.snapshot_id)
    assert (a["declared_size"], a["language_periods"]) == (35, None)
    assert (b["declared_size"], b["grade"]) == (1035, "1")
    reasons = {x["reason"] for x in rejects(con, r.snapshot_id)}
    assert "không phải số nguyên" in reasons


def test_plain_digits_fast_path_agrees_with_the_vietnamese_reading():
    """Number and integer cells of plain digits are cast at once (normalise._plain_first);
    every other text takes soat_num / soat_int. On plain digits both must give the same
    value, and text that only looks plain (16 digits, signs, groups) must still take the
    Vietnamese path."""
    import duckdb

    from loaders import normalise

    c = duckdb.connect()
    normalise.install(c)
    values = [
        "0",
        "007",
        "35",
        "1250000",
        "999999999999999",
        "9999999999999999",
        "1.250",
        "1,5",
        "-3",
        "+4",
        "12 000",
        "1e3",
        "",
        None,
        "x",
    ]
    for sql_type, slow in (("DOUBLE", "soat_num"), ("BIGINT", "soat_int")):
        fast = normalise._plain_first("v", sql_type)
        got = c.execute(
            f"SELECT v, {fast} AS a, {slow}(v) AS b FROM unnest($vals) t(v)", {"vals": values}
        ).fetchall()
        assert [(v, a) for v, a, _ in got] == [(v, b) for v, _, b in got], sql_type
    assert c.execute("SELECT soat_num('1.250')").fetchall()[0][0] == 1250


def test_vocabularies(con, tmp_path):
    head = ["Mã học sinh", "Mã trường", "Giới tính", "Dân tộc", "Năm học", "Xác thực định danh"]
    data = [
        ["HS1", "S1", "NAM", "H'Mông", "2024 - 2025", "đã xác thực"],
        ["HS2", "S1", "nu", "Khơ-me", "2024/2025", "Da xac thuc"],
        ["HS3", "S1", "Nữ", "ê-đê", "2024-2025", "Chưa xác thực"],
        ["HS4", "S1", "Nam", "gia-rai", "2024-2025", "x"],
        ["HS5", "S1", "Nam", "Bru - Vân Kiều", "2024-2025", None],
        ["HS6", "S1", "Khác", "Kinh Tế", "24-25", ""],
        # exact spellings with blanks around them: not the fast path's, read by the
        # keyed path on the cleaned cell (soat_vk_<name>)
        ["HS7", "S1", " Nữ ", "\u00a0Kinh\t", " 2024-2025", " Đã xác thực "],
    ]
    d = folder(tmp_path, {"students.csv": [head, *data]})
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [x["gender"] for x in got] == ["Nam", "Nữ", "Nữ", "Nam", "Nam", "Khác", "Nữ"]
    assert [x["ethnicity"] for x in got] == [
        "Mông",
        "Khmer",
        "Ê Đê",
        "Gia Rai",
        "Bru-Vân Kiều",
        "Kinh Tế",
        "Kinh",
    ]
    assert [x["school_year"] for x in got] == ["2024-2025"] * 5 + ["24-25", "2024-2025"]
    assert [x["id_verified"] for x in got] == [
        "Đã xác thực",
        "Đã xác thực",
        "Chưa xác thực",
        "x",
        None,
        None,
        "Đã xác thực",
    ]


def test_levels_grades_periods_types_targets(con, tmp_path):
    schools = [
        ["Mã trường", "Tên trường", "Cấp học"],
        ["S1", "A", "TH&THCS"],
        ["S2", "B", "THCS-THPT"],
        ["S3", "C", "Tiểu học"],
        ["S4", "D", "Mầm non, Tiểu học; THCS"],
        ["S5", "E", "Trung học phổ thông"],
        ["S6", "F", "XYZ"],
    ]
    classes = [
        ["Mã lớp", "Mã trường", "Tên lớp", "Khối"],
        ["A", "S1", "A", "Nhà trẻ"],
        ["B", "S1", "B", "Mẫu giáo 3-4 tuổi"],
        ["C", "S1", "C", "mẫu giáo 5-6 tuổi"],
        ["D", "S1", "D", "10"],
        ["E", "S1", "E", "13"],
    ]
    subs = [
        ["Mã trường", "Kỳ báo cáo", "Loại dữ liệu", "Thời điểm", "Kết quả", "Đích"],
        ["S1", "Đầu năm", "Hồ sơ CBGV", "20/10/2024 09:00", "Thành công", "Sở"],
        ["S1", "Học kỳ I", "Học sinh", "21/10/2024 09:00", "thất bại", "Bộ"],
        ["S1", "Tháng 9", "Cơ sở vật chất", "22/10/2024 10:00", "Thành công", "bo"],
        ["S1", "cuoi_nam", "classes", "23/10/2024", "Thành công", "MOET"],
    ]
    d = tmp_path / "v"
    write_csv(d / "schools.csv", schools)
    write_csv(d / "classes.csv", classes)
    write_csv(d / "submissions.csv", subs)
    r = load(con, d)
    lv = [x["levels"] for x in rows(con, "schools", r.snapshot_id)]
    assert lv == [["TH", "THCS"], ["THCS", "THPT"], ["TH"], ["MN", "TH", "THCS"], ["THPT"], ["XYZ"]]
    assert [x["grade"] for x in rows(con, "classes", r.snapshot_id)] == [
        "NT",
        "MG3",
        "MG5",
        "10",
        "13",
    ]
    s = rows(con, "submissions", r.snapshot_id)
    assert [x["period"] for x in s] == ["dau_nam", "giua_nam", "thang_09", "cuoi_nam"]
    assert [x["data_type"] for x in s] == ["staff", "students", "rooms", "classes"]
    assert [x["target"] for x in s] == ["Sở", "Bộ", "Bộ", "Bộ"]
    assert [x["result"] for x in s] == ["Thành công", "Thất bại", "Thành công", "Thành công"]
    # as_of defaults to the latest push
    assert r.as_of == dt.date(2024, 10, 23)


def test_workbook_source_and_defaults(con, tmp_path):
    wb = write_xlsx(
        tmp_path / "tinh.xlsx",
        {
            "Danh sách trường": SCHOOLS,
            "Học sinh": [STUDENT_HEAD + ["Năm học"], *[r + ["2023-2024"] for r in student_rows(2)]],
            "Ghi chú": [["x"]],
        },
    )
    r = load(con, wb, name="Tỉnh X", as_of=dt.date(2024, 1, 5))
    assert r.rows == {"schools": 2, "students": 2}
    assert r.skipped == ["tinh.xlsx / Ghi chú"]
    snap = con.execute("SELECT name, source_kind, as_of, school_year FROM snapshots").fetchall()[0]
    assert snap == ("Tỉnh X", "workbook", dt.date(2024, 1, 5), "2023-2024")
    r2 = load(con, wb, year="2024-2025")
    assert r2.school_year == "2024-2025" and r2.snapshot_id == r.snapshot_id + 1


def test_extra_and_duplicate_headers(con, tmp_path):
    head = ["Mã học sinh", "Mã trường", "Ma hoc sinh", "Ghi chú", "Lớp cũ"]
    d = folder(tmp_path, {"students.csv": [head, ["HS1", "S1", "OTHER", "n1", "1A"]]})
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)[0]
    assert got["student_code"] == "HS1"
    # the second column naming the student code is kept, never dropped
    assert got["_extra"] == {"Ma hoc sinh": "OTHER", "Ghi chú": "n1", "Lớp cũ": "1A"}
    warn = [
        m
        for m in messages(con, r.snapshot_id)
        if m["severity"] == "warning" and not m["message"].startswith("thiếu cột")
    ]
    assert len(warn) == 1
    assert "Ma hoc sinh" in warn[0]["message"] and "Mã học sinh" in warn[0]["message"]
    assert warn[0]["source"] == "students.csv" and warn[0]["row"] == 1


def test_unit_closure_written(con, tmp_path):
    units = [
        ["Mã đơn vị", "Tên đơn vị", "Cấp đơn vị", "Mã đơn vị cấp trên"],
        ["79", "Sở", "Sở", ""],
        ["79760", "Phòng Q1", "phòng", "79"],
    ]
    d = folder(tmp_path, {"don_vi.csv": units})
    r = load(con, d)
    closure = con.execute(
        "SELECT unit_code, ancestor_code FROM unit_closure WHERE snapshot_id = $s ORDER BY ALL",
        {"s": r.snapshot_id},
    ).fetchall()
    assert closure == [("79", "79"), ("79760", "79"), ("79760", "79760")]
    assert [x["unit_tier"] for x in rows(con, "units", r.snapshot_id)] == ["Sở", "Phòng"]


def test_sqlite_source_empty_table_and_types(con, tmp_path):
    import sqlite3

    db = tmp_path / "tinh.sqlite"
    c = sqlite3.connect(db)
    c.execute(
        'CREATE TABLE truong ("Mã trường" TEXT, school_name TEXT, unit_code INTEGER, levels TEXT)'
    )
    c.execute("INSERT INTO truong VALUES ('S1', 'A', 79760, 'TH'), ('S2', 'B', 79760, 'MN')")
    c.execute("CREATE TABLE hoc_sinh (student_code TEXT, school_code TEXT, citizen_id INTEGER)")
    c.execute("CREATE TABLE khac (x TEXT)")
    c.commit()
    c.close()
    r = load(con, f"sqlite:///{db}")
    assert r.rows == {"schools": 2, "students": 0}
    assert r.skipped == ["khac"]
    got = rows(con, "schools", r.snapshot_id)
    assert [(x["school_code"], x["unit_code"], x["_row"], x["_sheet"]) for x in got] == [
        ("S1", "79760", 1, "truong"),
        ("S2", "79760", 2, "truong"),
    ]


def test_invisible_characters_at_the_ends_are_trimmed_in_csv_and_xlsx(con, tmp_path):
    # pasted from the web or Word: a zero-width space after a code, a soft hyphen, a word
    # joiner or a narrow NBSP around a name, a zero-width joiner before a citizen id
    data = [
        ["HS1\u200b", "S1\u2060", "\u00adAn\u202f", "02/03/2018", "\u200d079318000121"],
        ["HS2", "\u200cS1", "Bình", "03/03/2018", "079318000122\u200b"],
    ]
    for name in ("students.csv", "students.xlsx"):
        d = folder(tmp_path / name, {name: [STUDENT_HEAD, *data]})
        r = load(con, d)
        got = [
            (g["student_code"], g["school_code"], g["full_name"], g["citizen_id"])
            for g in rows(con, "students", r.snapshot_id)
        ]
        assert got == [
            ("HS1", "S1", "An", "079318000121"),
            ("HS2", "S1", "Bình", "079318000122"),
        ], name
        assert rejects(con, r.snapshot_id) == []
