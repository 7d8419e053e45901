"""Conditions of the machine, told in Vietnamese by every command: the app database
locked, unreadable, unreachable or misnamed (never its SQL, never a password's hash), an
output path that is a folder, a file or missing, a port out of range. "lỗi không mong
đợi" is for real bugs only."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from soat import appdb
from soat.cli import main
from soat.testing import run, valid_province

ROOT = Path(__file__).resolve().parents[1]
PW = "mot-mat-khau-du-dai-2026"


def _soat(*args: str, env: dict | None = None, stdin: str | None = None):
    import os

    proc = subprocess.run(
        [sys.executable, "-m", "soat", *args],
        cwd=ROOT,
        env={**os.environ, "SOAT_BCRYPT_ROUNDS": "4", **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


def _clean(text: str) -> None:
    for bad in ("lỗi không mong đợi", "Traceback", "SQL:", "$2b$", "sqlalche.me", "Error"):
        assert bad not in text, (bad, text)


@pytest.fixture
def app_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    monkeypatch.setenv("SOAT_APP_DB", url)
    appdb.reset_cache()
    yield url
    appdb.reset_cache()


def test_a_locked_app_database_is_named_and_its_sql_never_shown(tmp_path, app_url):
    from soat import accounts

    accounts.create_user("canbo", PW, "province_staff")
    path = tmp_path / "app.sqlite"
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        con = sqlite3.connect(path)
        con.execute("BEGIN EXCLUSIVE")
        held.set()
        release.wait(30)
        con.rollback()
        con.close()

    t = threading.Thread(target=hold)
    t.start()
    held.wait(10)
    try:
        env = {"SOAT_APP_DB": app_url, "SOAT_APP_DB_BUSY_SECONDS": "0.3"}
        for args in (
            ["users", "add", "moi", "--role", "province_staff", "--password-stdin"],
            ["users", "passwd", "canbo", "--password-stdin"],
        ):
            code, out = _soat(*args, env=env, stdin=PW + "\n")
            assert code == 1, out
            _clean(out)
            assert "cơ sở dữ liệu ứng dụng" in out and "tiến trình khác giữ" in out
    finally:
        release.set()
        t.join()


@pytest.mark.parametrize(
    "url, why",
    [
        ("garbage", "không đúng dạng SQLAlchemy"),
        ("postgres://", "không đúng dạng SQLAlchemy"),
        ("sqlite:///{tmp}/not_a_db.sqlite", "không phải cơ sở dữ liệu SQLite"),
        (
            "postgresql+psycopg://khong_co_ai:mat-khau@127.0.0.1:5432/test",
            "tài khoản không tồn tại",
        ),
    ],
)
def test_an_app_database_that_cannot_be_used_is_told(tmp_path, url, why):
    (tmp_path / "not_a_db.sqlite").write_bytes(b"khong phai sqlite " * 100)
    url = url.format(tmp=tmp_path)
    code, out = _soat("users", "list", env={"SOAT_APP_DB": url})
    assert code == 1, out
    _clean(out)
    assert why in out and "mat-khau" not in out  # the URL's password is not shown


def test_export_paths_that_are_folders_files_or_missing(tmp_path):
    from soat import store

    db = tmp_path / "s.duckdb"
    con = store.connect(str(db))
    run(con, valid_province())
    con.close()
    (tmp_path / "a_file").write_text("x")
    cases = [
        (["export", "findings", "-o", str(tmp_path / "no" / "dir" / "x.csv")], "không tìm thấy"),
        (["export", "findings", "-o", str(tmp_path)], "là một thư mục"),
        (["export", "school-sheets", "-o", str(tmp_path / "a_file")], "là một tệp"),
        (["sample", "-o", str(tmp_path / "a_file" / "prov")], "là một tệp"),
    ]
    for args, why in cases:
        code, out = _soat(*args, "--db", str(db)) if args[0] != "sample" else _soat(*args)
        assert code == 1, out
        _clean(out)
        assert why in out and str(tmp_path) in out, out


@pytest.mark.parametrize("port", ["0", "99999", "-1", "tám"])
def test_serve_ports_out_of_range_are_usage_errors(port, capsys):
    with pytest.raises(SystemExit) as ev:
        main(["serve", "--port", port])
    assert ev.value.code == 2
    err = capsys.readouterr().err
    assert "cổng phải là số từ 1 đến 65535" in err


def test_serve_refuses_a_file_that_is_not_a_store(tmp_path, capsys):
    f = tmp_path / "khong_phai_kho.txt"
    f.write_text("x")
    assert main(["serve", "--db", str(f), "--port", "8599"]) == 1
    assert "không phải kho dữ liệu Soát" in capsys.readouterr().err


def _store(tmp_path) -> Path:
    from soat import store

    db = tmp_path / "s.duckdb"
    con = store.connect(str(db))
    run(con, valid_province())
    con.close()
    return db


def test_a_stopped_export_leaves_the_earlier_file_and_no_trace(tmp_path, app_url, monkeypatch):
    """Ctrl-C (or a full disk) half-way through an export once left a truncated file under
    its name, over an earlier good one, or a whole file with no audit row: exports are
    written beside their name, audited, then moved into place."""
    from soat import audit
    from soat.exports import csv as csv_file
    from soat.exports import school_sheets

    db = _store(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "loi.csv").write_text("bản cũ, còn nguyên\n")

    def half_then_stop(df, target, **kw):
        Path(target).write_text("nửa tệp")
        raise KeyboardInterrupt

    monkeypatch.setattr(csv_file, "write", half_then_stop)
    assert main(["export", "findings", "--db", str(db), "-o", str(out / "loi.csv")]) == 130
    assert (out / "loi.csv").read_text() == "bản cũ, còn nguyên\n"
    monkeypatch.undo()
    monkeypatch.setenv("SOAT_APP_DB", app_url)

    calls = {"n": 0}
    real = school_sheets.workbook_bytes

    def first_fails(sheet, snapshot):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(28, "No space left on device")
        return real(sheet, snapshot)

    monkeypatch.setattr(school_sheets, "workbook_bytes", first_fails)
    for target in (out / "phieu", out / "phieu.zip"):
        calls["n"] = 0
        code = main(
            ["export", "school-sheets", "--db", str(db), "--all-schools", "-o", str(target)]
        )
        assert code == 1
        assert not target.exists()
    assert sorted(p.name for p in out.iterdir()) == ["loi.csv"]  # no temporary left either
    assert audit.read(action="export") == []
    monkeypatch.undo()
    monkeypatch.setenv("SOAT_APP_DB", app_url)
    assert main(["export", "school-sheets", "--db", str(db), "-o", str(out / "phieu")]) == 0
    (ev,) = audit.read(action="export")
    assert ev["detail"]["filters"]["files"] == len(list((out / "phieu").iterdir()))


def test_a_period_or_unit_the_snapshot_lacks_is_refused(tmp_path, capsys):
    """`--period bogus` exported an empty list without a word, `--unit ''` the whole
    province; a period may be given as its code or its label."""
    from tests.access import hostile

    db = tmp_path / "h.duckdb"
    hostile.build_file(str(db))
    assert main(["export", "late", "--db", str(db), "--period", "bogus"]) == 1
    err = capsys.readouterr().err
    assert "không có kỳ báo cáo 'bogus'" in err and "dau_nam (Đầu năm)" in err
    assert main(["export", "late", "--db", str(db), "--unit", ""]) == 1
    assert "mã đơn vị trống" in capsys.readouterr().err
    for spelling in ("dau_nam", "Đầu năm", "dau nam", "ĐẦU NĂM"):
        assert main(["export", "late", "--db", str(db), "--period", spelling]) == 0
        assert "dau_nam" in capsys.readouterr().out


def test_changes_from_a_later_snapshot_is_refused(tmp_path, capsys):
    from soat import store

    db = tmp_path / "s.duckdb"
    con = store.connect(str(db))
    run(con, valid_province())
    run(con, valid_province())
    con.close()
    for a, b in (("2", "1"), ("1", "1")):
        assert main(["changes", "--db", str(db), "--from", a, "--to", b]) == 1
        assert "--from cần một bản chụp trước" in capsys.readouterr().err


def test_a_mistyped_sqlite_source_is_named_and_not_created(tmp_path, capsys):
    """SQLite creates a missing file on connect: `soat load sqlite:///typo.db` left an
    empty database behind; it is refused, naming the file."""
    typo = tmp_path / "typo.db"
    assert main(["load", f"sqlite:///{typo}", "--db", str(tmp_path / "store")]) == 1
    assert "không tìm thấy tệp cơ sở dữ liệu SQLite" in capsys.readouterr().err
    assert not typo.exists()
