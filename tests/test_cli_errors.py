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
