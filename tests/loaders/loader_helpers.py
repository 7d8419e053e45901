"""Tiny province exports written in tests (CSV / XLSX) and small readers of the store."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from loaders.load import load_source

SCHOOL_HEAD = ["Mã trường", "Tên trường", "Mã đơn vị quản lý", "Cấp học"]
SCHOOLS = [
    SCHOOL_HEAD,
    ["S1", "Trường Tiểu học Lê Lợi", "79760", "TH"],
    ["S2", "Trường B", "79760", "THCS"],
]
STUDENT_HEAD = ["Mã học sinh", "Mã trường", "Họ và tên", "Ngày sinh", "Số định danh cá nhân"]


def student_rows(n: int = 3) -> list[list[str]]:
    return [
        [f"HS{i}", "S1", f"Học sinh {i}", f"0{i}/03/2018", f"07931800012{i}"]
        for i in range(1, n + 1)
    ]


def csv_text(rows: list[list], sep: str = ",") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def write_csv(path: Path, rows: list[list], sep: str = ",", encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(rows, sep).encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]], start_row: int = 1) -> Path:
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is not None:
                    ws.cell(row=start_row + i, column=j + 1, value=v)
    wb.save(path)
    return path


def folder(
    tmp_path: Path, files: dict[str, list[list] | bytes | str], schools: bool = True
) -> Path:
    d = tmp_path / "export"
    d.mkdir(parents=True, exist_ok=True)
    if schools:
        write_csv(d / "truong.csv", SCHOOLS)
    for name, content in files.items():
        p = d / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        elif isinstance(content, str):
            p.write_text(content, encoding="utf-8")
        elif name.endswith(".xlsx"):
            write_xlsx(p, {"Sheet1": content})
        else:
            write_csv(p, content)
    return d


def load(con, source, **kw):
    return load_source(con, str(source), **kw)


def rows(con, table: str, sid: int, cols: str = "*") -> list[dict]:
    cur = con.execute(
        f'SELECT {cols} FROM "{table}" WHERE snapshot_id = $s ORDER BY _row', {"s": sid}
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def rejects(con, sid: int) -> list[dict]:
    cur = con.execute(
        'SELECT * FROM rejects WHERE snapshot_id = $s ORDER BY source, "row", "column"', {"s": sid}
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def messages(con, sid: int) -> list[dict]:
    cur = con.execute("SELECT * FROM load_messages WHERE snapshot_id = $s", {"s": sid})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def table_dump(con) -> dict[str, list]:
    """Every row of every store table, sorted: to compare a store before and after."""
    out = {}
    for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1"
    ).fetchall():
        out[name] = sorted(
            tuple(map(repr, r)) for r in con.execute(f'SELECT * FROM "{name}"').fetchall()
        )
    return out


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letter + combining tone mark."""
    import unicodedata

    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in d if c not in TONE_MARKS))
            out += base.encode("cp1258") + "".join(c for c in d if c in TONE_MARKS).encode("cp1258")
    return bytes(out)
