"""One-line messages: a column is a column, an option is an option."""

from soat.errors import SoatError


def test_error_names_file_sheet_row_column():
    e = SoatError(
        "không đọc được ngày", source="hoc_sinh.xlsx", sheet="HS", row=12, column="Ngày sinh"
    )
    assert str(e) == "hoc_sinh.xlsx, sheet 'HS', dòng 12, cột 'Ngày sinh': không đọc được ngày"


def test_error_names_an_option_as_an_option(tmp_path, capsys):
    from soat.cli import main

    assert main(["export", "findings", "--db", str(tmp_path / "none.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "tùy chọn --db" in err and "cột" not in err


def test_csv_file_has_a_bom_for_excel_stdout_does_not(tmp_path, capsys):
    from soat import store
    from soat.cli import main
    from soat.testing import run, valid_province

    db = tmp_path / "s.duckdb"
    con = store.connect(str(db))
    run(con, valid_province())
    con.close()
    out = tmp_path / "schools.csv"
    assert main(["export", "schools", "--db", str(db), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbfschool_code,")
    capsys.readouterr()
    assert main(["export", "schools", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("school_code,")


def test_help_and_usage_errors_read_as_vietnamese(capsys):
    """argparse's own words (headings, usage errors) are Vietnamese like the rest."""
    import pytest

    from soat.cli import main

    with pytest.raises(SystemExit):
        main(["load", "-h"])
    out = capsys.readouterr().out
    assert "cách dùng: soat load" in out and "tùy chọn:" in out
    assert "in hướng dẫn này rồi thoát" in out and "thư mục kho dữ liệu" in out
    assert "usage:" not in out and "show this help" not in out
    with pytest.raises(SystemExit) as exc:
        main(["export", "nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "giá trị 'nope' không hợp lệ (chọn một trong:" in err
    assert "invalid choice" not in err
    with pytest.raises(SystemExit):
        main(["load"])
    assert "thiếu tham số bắt buộc: source" in capsys.readouterr().err


def test_a_stop_ends_the_process_with_130_even_when_ctrl_c_landed_in_generated_code(tmp_path):
    """Ctrl-C that escapes code run from text (exec, as dataclasses build their methods)
    makes CPython end a `python -m` process by SIGINT at exit, whatever status it was
    given. The `soat` process ends with the 130 it documents all the same: here the
    command raises the stop inside exec, where a real Ctrl-C lands by chance (2 of 120
    stopped loads on a busy machine)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "stopped_soat.py").write_text(
        "import argparse\n"
        "from soat import cli\n"
        "def stopped(args):\n"
        "    exec('raise KeyboardInterrupt')\n"
        "def parser():\n"
        "    p = argparse.ArgumentParser()\n"
        "    p.set_defaults(func=stopped)\n"
        "    return p\n"
        "cli.build_parser = parser\n"
        "cli.run()\n"
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "stopped_soat"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{root}"},
    )
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip() == "soat: đã dừng (Ctrl-C)"


def test_names_from_data_print_as_they_are(tmp_path, capsys):
    """Rich reads `[…]` as markup and `:name:` as an emoji: a snapshot named
    'Tháng 10 [/x] [bấm] :red_circle:' once made `soat snapshots` raise (a closing tag with
    no opening one) or lose '[bấm]'; the console of every command prints text as it is."""
    from soat import store, terminal
    from soat.cli import main
    from soat.testing import run, valid_province

    db = tmp_path / "s.duckdb"
    con = store.connect(str(db))
    name = "Tháng 10 [/x] [bấm] :red_circle:"
    run(con, valid_province(), name=name)
    con.close()
    capsys.readouterr()
    assert main(["snapshots", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert name in out
    terminal.console().print("Trường [/b]86000005 [bold]x[/bold]")
    assert "Trường [/b]86000005 [bold]x[/bold]" in capsys.readouterr().out


def test_usage_errors_name_arguments_in_vietnamese(capsys):
    """argparse's 'int' and the positional names 'kind'/'action' were English in the one
    line a usage error prints."""
    import pytest

    from soat.cli import main

    for argv, words in (
        (["export", "bogus"], "tham số LOẠI"),
        (["snapshots", "bogus"], "tham số VIỆC"),
        (["check", "--snapshot", "abc"], "(cần một số nguyên)"),
    ):
        with pytest.raises(SystemExit) as ev:
            main(argv)
        assert ev.value.code == 2
        err = capsys.readouterr().err
        assert words in err and " int" not in err and "kind" not in err, err
