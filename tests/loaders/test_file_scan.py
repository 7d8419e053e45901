"""read.scan_file: the NFC fast path (skip per-cell nfc_normalize) and the line count."""

from __future__ import annotations

import unicodedata

import pytest
from loader_helpers import (
    SCHOOLS,
    STUDENT_HEAD,
    folder,
    load,
    rejects,
    rows,
    student_rows,
)

from loaders import read


def _write(tmp_path, text: str, name: str = "f.csv", bom: bool = False):
    p = tmp_path / name
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return p


@pytest.mark.parametrize("chunk", [read.SCAN_CHUNK, 7, 64])
@pytest.mark.parametrize("block", [read.FAST_BLOCK, 5, 64])
def test_scan_nfc_and_lines(tmp_path, chunk, block, monkeypatch):
    monkeypatch.setattr(read, "SCAN_CHUNK", chunk)
    monkeypatch.setattr(read, "FAST_BLOCK", block)
    body = "Mã,Tên\n" + "".join(f"HS{i},Nguyễn Thị Ánh Đặng {i}\n" for i in range(50))
    s = read.scan_file(_write(tmp_path, body, bom=True))
    assert s.nfc and s.lines == 51
    # no final newline: the last line still counts
    assert read.scan_file(_write(tmp_path, body + "x,y", "g.csv")).lines == 52
    # a decomposed name deep in the file, whatever the chunk size
    nfd = body + "HSx," + unicodedata.normalize("NFD", "Nguyễn Ánh") + "\n" + body
    s = read.scan_file(_write(tmp_path, nfd, "h.csv"))
    assert not s.nfc and s.lines == 103
    # characters outside the fast path's ranges, still NFC: the exact check says so
    other = body + "a – b ’ 漢字 ὰ\n"
    assert read.scan_file(_write(tmp_path, other, "i.csv")).nfc
    # Greek with a decomposed accent (E1 BD..BF lead/second bytes are not fast-path safe)
    assert not read.scan_file(_write(tmp_path, body + "α\u0300\n", "j.csv")).nfc


@pytest.mark.parametrize("block", [4, 5, 6, 7, 8])
def test_fast_scan_across_block_edges(tmp_path, block, monkeypatch):
    """The vectorised test reads fixed blocks: a 0xE1 lead byte at a block's end is judged
    by the next block's first byte, whatever the block size."""
    monkeypatch.setattr(read, "FAST_BLOCK", block)
    fast = "ab\nẠẠ\nx ạ\n"  # U+1EA0/U+1EA1: E1 BA A0 / E1 BA A1
    assert read._scan_fast(_write(tmp_path, fast)) == read.FileScan(nfc=True, lines=3)
    # U+1F70 (Greek, E1 BD B0) is NFC, but not the fast path's to vouch for
    slow = "ab\nὰ\n"
    assert read._scan_fast(_write(tmp_path, slow, "s.csv")) is None
    assert read.scan_file(_write(tmp_path, slow, "s.csv")) == read.FileScan(nfc=True, lines=2)
    # a file cut inside a character
    (tmp_path / "cut.csv").write_bytes(b"ab\n\xe1")
    assert read._scan_fast(tmp_path / "cut.csv") is None


def _safe_by_definition(block: bytes, carry: bool) -> bool:
    """_fast_safe's rule, byte by byte: every byte below 0xCC, or 0xE1 followed by
    0xB8-0xBB (a 0xE1 ending the block is the caller's; `carry`: the first byte follows one)."""
    if carry and not 0xB8 <= block[0] <= 0xBB:
        return False
    for i, b in enumerate(block):
        if b < 0xCC:
            continue
        if b != 0xE1:
            return False
        if i + 1 < len(block) and not 0xB8 <= block[i + 1] <= 0xBB:
            return False
    return True


def test_fast_byte_test_is_its_definition():
    """The vectorised byte test against the rule written byte by byte, on random blocks of
    the bytes that matter (0xE1 and its allowed and refused followers, other high bytes)."""
    import numpy as np

    rng = np.random.default_rng(2026)
    alphabet = np.array(
        [0x41, 0x0A, 0xC3, 0xB7, 0xB8, 0xBB, 0xBC, 0xCB, 0xCC, 0xE1, 0xFF], np.uint8
    )
    for _ in range(5000):
        a = rng.choice(alphabet, size=int(rng.integers(1, 10)))
        for carry in (False, True):
            assert read._fast_safe(a, carry) == _safe_by_definition(a.tobytes(), carry), (
                a.tobytes(),
                carry,
            )


def test_nfd_deep_in_a_large_file_is_stored_nfc(con, tmp_path, monkeypatch):
    monkeypatch.setattr(read, "SCAN_CHUNK", 256)  # the NFD row lands in a later chunk
    name = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    body = [STUDENT_HEAD, *student_rows(9), ["HS10", "S1", name, "01/02/2018", "079318000130"]]
    d = folder(tmp_path, {"students.csv": body})
    r = load(con, d)
    got = {g["student_code"]: g for g in rows(con, "students", r.snapshot_id)}
    assert got["HS10"]["full_name"] == "Nguyễn Thị Ánh"
    assert unicodedata.is_normalized("NFC", got["HS10"]["full_name"])
    assert got["HS10"]["_row"] == 11


def test_row_numbers_with_and_without_skipped_lines(con, tmp_path):
    # no empty line: the line count matches, no search for empty lines
    d = folder(tmp_path / "a", {"students.csv": [STUDENT_HEAD, *student_rows(3)]})
    r = load(con, d)
    assert sorted(g["_row"] for g in rows(con, "students", r.snapshot_id)) == [2, 3, 4]
    # an empty line and a line with too many fields: rows after them keep their line numbers
    d = tmp_path / "b"
    d.mkdir()
    (d / "schools.csv").write_text("\n".join(",".join(r) for r in SCHOOLS) + "\n")
    lines = [",".join(STUDENT_HEAD)] + [",".join(r) for r in student_rows(3)]
    lines.insert(2, "")
    lines.insert(4, "HSx,S1,a,b,c,d,e")
    (d / "students.csv").write_text("\n".join(lines) + "\n")
    r = load(con, d)
    assert sorted(g["_row"] for g in rows(con, "students", r.snapshot_id)) == [2, 4, 6]
    assert [x["row"] for x in rejects(con, r.snapshot_id)] == [5]
    # a short line is read with its last fields empty (the file read again, padded)
    lines[4] = "HSx,S1"
    (d / "students.csv").write_text("\n".join(lines) + "\n")
    r = load(con, d)
    got = rows(con, "students", r.snapshot_id)
    assert [(g["_row"], g["student_code"], g["full_name"]) for g in got] == [
        (2, "HS1", "Học sinh 1"),
        (4, "HS2", "Học sinh 2"),
        (5, "HSx", None),
        (6, "HS3", "Học sinh 3"),
    ]
    assert rejects(con, r.snapshot_id) == []


def test_frame_is_nfc():
    import polars as pl

    nfc = pl.DataFrame({"a": ["Nguyễn", None, "Ánh"], "b": [1, 2, 3]})
    assert read.frame_is_nfc(nfc)
    nfd = nfc.with_columns(pl.lit(unicodedata.normalize("NFD", "Ánh")).alias("c"))
    assert not read.frame_is_nfc(nfd)
    assert not read.frame_is_nfc(pl.DataFrame({"x": [b"\xcc\x81"]}))  # binary: not vouched
    assert read.frame_is_nfc(pl.DataFrame({"a": pl.Series([], dtype=pl.String)}))


def test_nfd_xlsx_cell_is_stored_nfc(con, tmp_path):
    name = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    body = [STUDENT_HEAD, *student_rows(2), ["HS9", "S1", name, "01/02/2018", "079318000199"]]
    r = load(con, folder(tmp_path, {"students.xlsx": body}))
    got = {g["student_code"]: g["full_name"] for g in rows(con, "students", r.snapshot_id)}
    assert got["HS9"] == "Nguyễn Thị Ánh" and got["HS1"] == "Học sinh 1"


def test_nfd_sql_value_is_stored_nfc(con, tmp_path):
    import sqlite3

    db = tmp_path / "src.sqlite"
    c = sqlite3.connect(db)
    c.execute('CREATE TABLE schools ("Mã trường" TEXT, "Tên trường" TEXT, "Cấp học" TEXT)')
    c.execute(
        "INSERT INTO schools VALUES ('S1', ?, 'TH')", (unicodedata.normalize("NFD", "Lê Lợi"),)
    )
    c.execute("INSERT INTO schools VALUES ('S2', 'Trường B', 'THCS')")
    c.commit()
    c.close()
    r = load(con, f"sqlite:///{db}")
    got = {g["school_code"]: g["school_name"] for g in rows(con, "schools", r.snapshot_id)}
    assert got == {"S1": "Lê Lợi", "S2": "Trường B"}


def test_all_empty_rows_are_dropped_and_later_rows_keep_their_line(con, tmp_path):
    # Rows are numbered after the INSERT from their position in it, so a row of empty
    # cells (dropped afterwards) must still count, like a rejected line.
    lines = [",".join(STUDENT_HEAD)] + [",".join(r) for r in student_rows(3)]
    lines.insert(2, ",,, n/a ,")  # every cell empty once cleaned
    lines.insert(4, "HSx,S1,a,b,c,d")  # too many fields: rejected
    d = tmp_path / "e"
    d.mkdir()
    (d / "schools.csv").write_text("\n".join(",".join(r) for r in SCHOOLS) + "\n")
    (d / "students.csv").write_text("\n".join(lines) + "\n")
    r = load(con, d)
    got = sorted((g["_row"], g["student_code"]) for g in rows(con, "students", r.snapshot_id))
    assert got == [(2, "HS1"), (4, "HS2"), (6, "HS3")]
    assert r.rows["students"] == 3


def test_row_numbers_of_a_file_read_in_parallel(con, tmp_path):
    """More rows than one DuckDB row group (122 880), read by several threads: every row's
    number is still its line in the file (the INSERT keeps the file's order)."""
    import duckdb

    n = 300_000
    d = tmp_path / "big"
    d.mkdir()
    (d / "schools.csv").write_text("\n".join(",".join(r) for r in SCHOOLS) + "\n")
    path = d / "students.csv"
    duckdb.sql(
        f"""COPY (SELECT 'HS' || i AS "Mã học sinh", 'S1' AS "Mã trường",
                         'Học sinh ' || i AS "Họ và tên", '01/03/2018' AS "Ngày sinh"
                  FROM range(1, {n + 1}) t(i) ORDER BY i) TO '{path}' (HEADER)"""
    )
    con.execute("SET threads = 2")
    r = load(con, d)
    off = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE _row <> CAST(student_code[3:] AS BIGINT) + 1)
           FROM students WHERE snapshot_id = $s""",
        {"s": r.snapshot_id},
    ).fetchall()[0]
    assert off == (n, 0)


def test_a_csv_insert_that_would_lose_the_file_order_is_refused(con, tmp_path, monkeypatch):
    """Row numbers come from the INSERT keeping the file's order. An IN list of five or
    more constants becomes a join in DuckDB's plan and loses that order (it did, at 2 M
    rows): the loader checks the plan and refuses, rather than number rows wrongly."""
    from loaders import normalise

    real = normalise.insert_sql

    def with_long_in_list(part):
        sql, params = real(part)
        return sql.replace(
            "s._row AS _row",
            "CASE WHEN ord(s.c0) IN (1, 2, 3, 4, 5) THEN -2 ELSE s._row END AS _row",
            1,
        ), params

    monkeypatch.setattr(normalise, "insert_sql", with_long_in_list)
    d = folder(tmp_path, {"students.csv": [STUDENT_HEAD, *student_rows(3)]})
    with pytest.raises(RuntimeError, match="order"):
        load(con, d)
    assert con.execute("SELECT count(*) FROM snapshots").fetchall()[0][0] == 0


def test_no_schools_table_names_the_files_no_table_was_found_in(con, tmp_path):
    """A folder whose files are named after no table (an upload of 'danh_sach.xlsx',
    'bogus.txt') only said "thiếu bảng trường 'schools'": the files are named now."""
    import pytest
    from loader_helpers import SCHOOLS, load, write_csv

    from soat.errors import SoatError

    d = tmp_path / "upload"
    write_csv(d / "ds.csv", SCHOOLS)
    (d / "bogus.txt").write_text("không phải dữ liệu\n", encoding="utf-8")
    with pytest.raises(SoatError) as ev:
        load(con, d)
    text = str(ev.value)
    assert "thiếu bảng trường" in text
    assert "bogus.txt" in text and "ds.csv" in text and "truong.xlsx" in text
