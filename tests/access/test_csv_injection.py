"""Issue 19, finding 1: no CSV the system writes can run a formula in Excel. Every export
path with the issue's payloads: `soat export findings|schools|late --format csv` (stdout and
file), `soat changes`, the dashboard's CSV downloads and the follow-up record."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from soat import accounts, followups, store
from soat.cli import main
from soat.exports import csv as csv_file

from . import hostile

PW = "Bi-mat-2024!"
APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
RISKY = ("=", "+", "-", "@", "\t", "\r")


def cells(data: bytes | str) -> list[list[str]]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text)))


def assert_inert(data: bytes | str, payloads=hostile.FORMULAS) -> list[list[str]]:
    """No cell starts a formula (a plain number like -3 may), and each payload present is
    there behind a `'`."""
    rows = cells(data)
    for row in rows:
        for cell in row:
            if cell.startswith(RISKY):
                assert csv_file.neutral_text(cell) == cell, f"formula cell: {cell!r}"
    flat = [c for r in rows for c in r]
    for p in payloads:
        assert p not in flat, f"{p!r} written as it is"
    return rows


def test_neutralise_prefixes_text_that_starts_a_formula_and_keeps_numbers():
    df = pl.DataFrame(
        {
            "text": [
                hostile.FORMULA_SCHOOL,
                hostile.FORMULA_ETHNICITY,
                hostile.FORMULA_ERROR,
                "-cmd",
                "\t=1+1",
                "\r=1+1",
                "-3",
                "+84912345678",
                "-1,5",
                "Trường A",
                None,
            ],
            "n": list(range(-5, 6)),
            "x": [-0.5] * 11,
        }
    )
    out = csv_file.neutralise(df)
    assert out["text"].to_list() == [
        "'" + hostile.FORMULA_SCHOOL,
        "'" + hostile.FORMULA_ETHNICITY,
        "'" + hostile.FORMULA_ERROR,
        "'-cmd",
        "'\t=1+1",
        "'\r=1+1",
        "-3",
        "+84912345678",
        "-1,5",
        "Trường A",
        None,
    ]
    assert out["n"].to_list() == list(range(-5, 6)) and out["n"].dtype == pl.Int64
    data = csv_file.csv_bytes(df)
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Vietnamese right
    rows = cells(data)
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(-5, 6)]  # numbers stay numbers
    assert csv_file.csv_bytes(pl.DataFrame({"=x": [1]}), bom=False) == b"'=x\n1\n"


@pytest.fixture
def hostile_db(tmp_path, sqlite_db, monkeypatch):
    path = tmp_path / "soat.duckdb"
    con = store.connect(str(path))
    hostile.build(con, snapshots=2)
    con.close()
    monkeypatch.setenv("SOAT_DB", str(path))
    return path


def _cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


@pytest.mark.parametrize("kind", ["findings", "schools", "late"])
def test_soat_export_csv_to_stdout_and_to_a_file(hostile_db, tmp_path, kind):
    db = str(hostile_db)
    shown = _cli("export", kind, "--db", db, "--format", "csv")
    rows = assert_inert(shown)
    file = tmp_path / f"{kind}.csv"
    _cli("export", kind, "--db", db, "--format", "csv", "-o", str(file))
    assert cells(file.read_bytes()) == rows  # the same cells, with a BOM
    assert file.read_bytes().startswith(b"\xef\xbb\xbf")
    flat = {c for r in rows for c in r}
    if kind in ("schools", "late"):
        assert "'" + hostile.FORMULA_SCHOOL in flat
    if kind == "findings":
        assert {"'" + hostile.FORMULA_ETHNICITY, "'" + hostile.FORMULA_ERROR} <= flat
    if kind == "schools":  # counts stay numbers
        header = rows[0]
        assert all(r[header.index("students")].isdigit() for r in rows[1:])


def test_soat_changes_csv(hostile_db):
    rows = assert_inert(_cli("changes", "--db", str(hostile_db), "--all"))
    assert "'" + hostile.FORMULA_SCHOOL in {c for r in rows for c in r}


def _app(username: str) -> AppTest:
    from dashboard import auth

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[auth.TOKEN_KEY] = accounts.create_session(username)
    return at


@pytest.fixture
def dash(hostile_db):
    st.cache_data.clear()
    st.cache_resource.clear()
    accounts.create_user("quantri", PW, "province_admin")
    accounts.create_user("canbo", PW, "unit_officer", units=["79760"])
    accounts.create_user("truong_s5", PW, "school", school="S5")
    yield
    from dashboard import db

    db.close()
    st.cache_data.clear()
    st.cache_resource.clear()


def test_dashboard_csv_downloads(dash, captured_downloads):
    at = _app("quantri")
    at.run()
    at.switch_page("pages/tien_do.py").run()
    assert not at.exception, [e.value for e in at.exception]
    rows = assert_inert(captured_downloads["late_dl_csv"]())
    assert "'" + hostile.FORMULA_SCHOOL in {c for r in rows for c in r}
    at.switch_page("pages/truong_hoc.py")
    at.query_params["school"] = "S5"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    rows = assert_inert(captured_downloads["school_findings_csv"]())
    assert {"'" + hostile.FORMULA_ETHNICITY, "'" + hostile.FORMULA_ERROR} <= {
        c for r in rows for c in r
    }


def test_a_school_note_cannot_attack_the_officer_follow_up_csv(dash, captured_downloads):
    # the school writes a formula as its note; the district officer downloads the record
    followups.set_state("S5", "dau_nam", "submission", "fixing", hostile.FORMULA_NOTE, "truong_s5")
    at = _app("canbo")
    at.run()
    at.switch_page("pages/tien_do.py").run()
    assert not at.exception, [e.value for e in at.exception]
    rows = assert_inert(captured_downloads["followup_dl_late_csv"](), (hostile.FORMULA_NOTE,))
    assert "'" + hostile.FORMULA_NOTE in {c for r in rows for c in r}
    assert "'" + hostile.FORMULA_SCHOOL in {c for r in rows for c in r}
