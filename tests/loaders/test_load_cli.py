"""`soat load` and `soat snapshots`: output and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loader_helpers import STUDENT_HEAD, folder, student_rows

from soat.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _src(tmp_path, extra=None):
    rows_ = [STUDENT_HEAD, *student_rows(3)]
    rows_[2] = [*rows_[2][:3], "ngày lạ", rows_[2][4]]
    files = {"hoc_sinh.csv": rows_}
    files.update(extra or {})
    return folder(tmp_path, files)


def test_load_prints_summary_and_runs_checks(tmp_path, capsys):
    db = tmp_path / "store"
    assert (
        main(
            [
                "load",
                str(_src(tmp_path)),
                "--db",
                str(db),
                "--as-of",
                "2024-10-15",
                "--year",
                "2024 - 2025",
                "--name",
                "Thử",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "students" in out and "schools" in out
    assert "Học sinh (students)" in out and "Trường (schools)" in out
    assert "hoc_sinh.csv, dòng 3, cột 'Ngày sinh'" in out
    assert "Kết quả kiểm tra" in out
    assert "giây" in out
    from soat.snapshot_store import read_connection

    con = read_connection(str(db))
    row = con.execute(
        "SELECT name, as_of, school_year, checked_at IS NOT NULL FROM snapshots"
    ).fetchall()
    assert row[0][0] == "Thử" and str(row[0][1]) == "2024-10-15" and row[0][2] == "2024-2025"
    assert row[0][3] is True
    con.close()
    assert main(["snapshots", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Thử" in out and "15/10/2024" in out and "Học sinh: 3" in out


def test_many_rejects_are_truncated(tmp_path, capsys):
    rows_ = [STUDENT_HEAD] + [[f"HS{i}", "S1", "A", "x", "1"] for i in range(30)]
    d = folder(tmp_path, {"students.csv": rows_})
    assert main(["load", str(d), "--db", str(tmp_path / "store")]) == 0
    out = capsys.readouterr().out
    # one line for the one problem: file, rows, column, how many, the reason
    assert (
        "students.csv, dòng 2, 3, 4, 5, 6 …, cột 'Ngày sinh': 30 giá trị: không đọc được ngày"
        in out
    )


def test_exit_codes(tmp_path, capsys):
    db = str(tmp_path / "store")
    assert main(["load", str(_src(tmp_path)), "--db", db, "--as-of", "15/10/2024"]) == 2
    assert "--as-of" in capsys.readouterr().err
    assert main(["load", str(_src(tmp_path)), "--db", db, "--year", "2024"]) == 2
    assert "--year" in capsys.readouterr().err
    no_schools = folder(tmp_path / "n", {"hoc_sinh.csv": [STUDENT_HEAD]}, schools=False)
    assert main(["load", str(no_schools), "--db", db]) == 1
    err = capsys.readouterr().err
    assert "schools" in err and str(no_schools) in err and len(err.strip().splitlines()) == 1
    assert main(["load", str(tmp_path / "nowhere"), "--db", db]) == 1
    assert main(["snapshots", "--db", db]) == 0
    assert "Chưa có bản chụp" in capsys.readouterr().out


def test_subprocess_no_traceback(tmp_path):
    bad = tmp_path / "tinh.xlsx"
    bad.write_bytes(b"garbage")
    proc = subprocess.run(
        [sys.executable, "-m", "soat", "load", str(bad), "--db", str(tmp_path / "store")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "tinh.xlsx" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "soat", "load"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 2
