"""Every page with Streamlit's AppTest: with data, empty, filters, drill-down, downloads, upload."""

from __future__ import annotations

import io

import dash_province as province
import polars as pl
import pytest
from dash_helpers import APP, logged_in, no_exception, open_page
from streamlit.testing.v1 import AppTest

from dashboard import charts
from dashboard.query import Filters
from tests.access.apptest_helpers import shown, texts
from tests.plots import plots

PAGES = {
    "pages/tong_quan.py": "Tổng quan",
    "pages/tien_do.py": "Tiến độ nộp dữ liệu",
    "pages/sai_lech.py": "Sai lệch",
    "pages/truong_hoc.py": "Trường",
    "pages/xu_huong.py": "Xu hướng",
    "pages/du_lieu.py": "Dữ liệu",
}
EMPTY = "Chưa có bản chụp dữ liệu nào"


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_login_required_before_anything(duck, app_db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Soát — Đăng nhập"]
    # no figure, no table and no figure but the empty ones that prefetch their code
    assert [d.value.shape for d in at.dataframe] == [(0, 0)]
    assert [(m.label, m.value) for m in at.metric] == [("prefetch", "")]


def test_login_page_opens_the_database_and_reads_nothing(duck, app_db, monkeypatch):
    """The shared read-only connection is opened while the user types (the first page
    after the login then need not); with the file locked by a load, the login page still
    renders."""
    from dashboard import db
    from soat.snapshot_store import SnapshotStore

    opened = []
    real = SnapshotStore.reader
    monkeypatch.setattr(
        SnapshotStore, "reader", lambda self: opened.append(self.path) or real(self)
    )
    db.close()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    no_exception(at)
    assert opened == [duck]
    assert [t.value for t in at.title] == ["Soát — Đăng nhập"] and not at.markdown.values
    db.close()

    def locked():
        raise db.DatabaseBusy("the file is being written")  # what a writer's lock gives

    monkeypatch.setattr(db, "connection", locked)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Soát — Đăng nhập"]


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_with_data(duck, app_db, page):
    at = logged_in("admin")
    at.run()
    no_exception(at)
    open_page(at, page)
    assert PAGES[page] in [t.value for t in at.title]
    assert EMPTY not in texts(at)
    assert at.dataframe or plots(at)
    for chart in plots(at):  # Plotly's English mode bar hidden (charts.CONFIG)
        assert chart.kind == "soat_plot" and chart.config == charts.CONFIG, chart.key


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("db", ["empty", "absent"])
def test_every_page_renders_empty(tmp_path, monkeypatch, app_db, page, db):
    path = tmp_path / f"{db}-store"
    if db == "empty":
        province.empty_store(str(path))
    monkeypatch.setenv("SOAT_DB", str(path))
    at = logged_in("admin")
    at.run()
    no_exception(at)
    open_page(at, page)
    assert EMPTY in texts(at)


def test_overview_figures_and_charts(duck, app_db):
    at = logged_in("admin")
    at.run()
    assert metric(at, "Số trường") == "4"
    assert metric(at, "Học sinh") == "156"
    assert metric(at, "Trường đạt") == "50,0 %"
    (chart,) = plots(at)  # every level in one chart, grouped by level
    (bars,) = chart.spec["data"]
    assert set(bars["y"][0]) == {"MN", "TH", "THCS"}  # the levels' names are in the hover
    assert {row[0] for row in bars["customdata"]} == {
        "MN – Mầm non",
        "TH – Tiểu học",
        "THCS – Trung học cơ sở",
    }
    assert "Hạn nộp sắp tới" in texts(at)


def test_filters_change_what_is_shown_and_live_in_the_url(duck, app_db):
    at = logged_in("admin")
    at.run()
    assert metric(at, "Số trường") == "4"
    at.selectbox(key="f_level").select("MN").run()
    no_exception(at)
    assert metric(at, "Số trường") == "1"
    assert at.query_params["level"] == ["MN"] or at.query_params["level"] == "MN"
    at.selectbox(key="f_level").select("__all__").run()
    at.selectbox(key="f_unit").select("79760").run()  # includes the commune's school S4
    assert metric(at, "Số trường") == "3"
    at.selectbox(key="f_snapshot").select(1).run()
    assert "Bản chụp #1" in texts(at)


def test_a_link_opens_the_same_selection(duck, app_db):
    at = logged_in("admin", {"unit": "79761", "level": "TH", "snapshot": "1"})
    at.run()
    no_exception(at)
    assert at.selectbox(key="f_unit").value == "79761"
    assert at.selectbox(key="f_level").value == "TH"
    assert at.selectbox(key="f_snapshot").value == 1
    assert metric(at, "Số trường") == "1"


def test_a_link_outside_the_scope_is_ignored(duck, app_db):
    at = logged_in("quan1", {"unit": "79761"})
    at.run()
    no_exception(at)
    assert at.selectbox(key="f_unit").value == "__all__"
    assert metric(at, "Số trường") == "3"
    assert "79761" not in at.selectbox(key="f_unit").options


def _select(at: AppTest, row: int = 0) -> AppTest:
    key = at.dataframe[0].key
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    no_exception(at)
    return at


def test_drill_down_reaches_a_record_and_goes_back(duck, app_db):
    # province staff (masked), on the first snapshot (130 bad IDs at S1)
    at = open_page(logged_in("so", {"snapshot": "1"}), "pages/sai_lech.py")
    first = at.dataframe[0].value
    assert first["Mã"].iloc[0] == "79760"  # ranked by errors
    _select(at)
    assert at.query_params.get("d_unit") in ("79760", ["79760"])
    schools = at.dataframe[0].value
    assert schools["Mã trường"].iloc[0] == "S1"
    _select(at)
    checks = at.dataframe[0].value
    assert checks["Mã kiểm tra"].iloc[0] == "student.id_format"
    assert "Trường Tiểu học Lê Lợi" in [b.label for b in at.button]  # breadcrumb
    _select(at)
    recs = at.dataframe[0].value
    assert len(recs) == 100  # one page
    assert "Trang **1 / 2**" in texts(at)
    row = recs.iloc[0]
    assert row["Trường thông tin"] == "Số định danh cá nhân"
    assert row["Giá trị"] == "0793****00"  # masked for province staff
    assert "cần đúng 12 chữ số" in row["Nội dung cần sửa"]
    next(b for b in at.button if b.label == "Trang sau ›").click().run()
    assert len(at.dataframe[0].value) == province.BAD_S1 - 100
    # breadcrumbs back to the schools of the unit
    next(b for b in at.button if "Phòng GD&ĐT Quận 1" in shown(b.label)).click().run()
    no_exception(at)
    assert "Mã trường" in at.dataframe[0].value.columns
    next(b for b in at.button if "Toàn bộ phạm vi" in b.label).click().run()
    assert "Mã" in at.dataframe[0].value.columns


def test_drill_link_opens_the_record_level(duck, app_db):
    at = logged_in("admin", {"snapshot": "1"})
    at.run()
    at.switch_page("pages/sai_lech.py")
    at.query_params.update(
        {"d_unit": "79760", "d_school": "S1", "d_check": "student.id_format", "d_page": "2"}
    )
    at.run()
    no_exception(at)
    assert "Trang **2 / 2**" in texts(at)
    assert at.dataframe[0].value["Giá trị"].iloc[0] == "0793100100"  # admin: unmasked


def test_school_page(duck, app_db):
    at = logged_in("admin")
    at.run()
    at.switch_page("pages/truong_hoc.py")
    at.query_params["school"] = "S3"
    at.run()
    no_exception(at)
    assert at.selectbox(key="school_pick").value == "S3"
    t = texts(at)
    assert "Trường TH&THCS Hòa Bình" in t
    frames = [d.value for d in at.dataframe]
    assert any("Tình trạng" in f.columns and "Chưa nộp" in set(f["Tình trạng"]) for f in frames)
    assert any("Nội dung cần sửa" in f.columns for f in frames)
    assert {b.label for b in at.get("download_button")} >= {"⬇ Tải Excel (.xlsx)", "⬇ Tải CSV"}


def _cli_export(db, kind: str, fmt: str, *args: str) -> bytes:
    import contextlib

    from soat.cli import main

    out = db.parent / f"cli_{kind}.{fmt}"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["export", kind, "--db", str(db), "--format", fmt, "-o", str(out), *args]) == 0
    return out.read_bytes()


def test_late_list_downloads_equal_the_cli_export(duck, app_db, captured):
    at = logged_in("admin")
    at.run()
    at.selectbox(key="f_period").select("dau_nam").run()
    open_page(at, "pages/tien_do.py")
    frame = at.dataframe[0].value
    assert set(frame["Mã trường"]) == {"S2", "S3"}
    csv = captured["late_dl_csv"]()
    xlsx = captured["late_dl_xlsx"]()
    assert csv == _cli_export(duck, "late", "csv", "--snapshot", "2", "--period", "dau_nam")
    cli_x = _cli_export(duck, "late", "xlsx", "--snapshot", "2", "--period", "dau_nam")
    assert _xlsx_rows(xlsx) == _xlsx_rows(cli_x)


def _xlsx_rows(data: bytes) -> list[tuple]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]


def test_the_csv_button_says_its_columns_are_the_data_contracts(duck, app_db):
    """The CSV holds the spec's column names and codes (school_code, missing), the .xlsx the
    Vietnamese list; an officer who took the CSV for the list to send got English headers
    without a word. Each button's help says which is which."""
    at = logged_in("admin")
    at.run()
    open_page(at, "pages/tien_do.py")
    helps = {b.proto.label: b.proto.help for b in at.get("download_button")}
    assert "chuẩn dữ liệu" in helps["⬇ Tải CSV"] and "Excel" in helps["⬇ Tải CSV"]
    assert "tiếng Việt" in helps["⬇ Tải Excel (.xlsx)"]


def test_download_respects_the_scope(duck, app_db, captured):
    open_page(logged_in("quan1"), "pages/tien_do.py")
    df = pl.read_csv(io.BytesIO(captured["late_dl_csv"]()), infer_schema=False)
    assert set(df["school_code"]) <= {"S1", "S2", "S4"}


def test_export_bytes_are_the_exports_own(duck, app_db):
    from dashboard import downloads
    from soat.scope import Scope

    got = downloads.export_bytes("late", "csv", 1, Scope.admin(), Filters())
    assert got == _cli_export(duck, "late", "csv", "--snapshot", "1")


def test_upload_loads_a_new_snapshot(duck, app_db, tmp_path):
    schools = (
        "Mã trường,Tên trường,Mã đơn vị quản lý,Cấp học,Phần mềm QLNT,Hiệu trưởng,"
        "Đạt chuẩn quốc gia,Kiểm định chất lượng,Kết nối internet\n"
        "S9,Trường Tiểu học Mới,79760,TH,SMAS,Nguyễn Văn A,Mức 1,Cấp độ 1,Có\n"
    )
    units = (
        "Mã đơn vị,Tên đơn vị,Cấp đơn vị,Mã đơn vị cấp trên\n"
        "79,Sở GD&ĐT,Sở,\n79760,Phòng GD&ĐT Quận 1,Phòng,79\n"
    )
    at = open_page(logged_in("admin"), "pages/du_lieu.py")
    at.file_uploader(key="upload_files").set_value(
        [
            ("truong.csv", schools.encode(), "text/csv"),
            ("don_vi.csv", units.encode(), "text/csv"),
        ]
    )
    at.text_input(key="upload_name").input("Tải lên thử")
    at.text_input(key="upload_year").input("2024-2025")
    next(b for b in at.button if b.label == "Nạp dữ liệu").click().run(timeout=120)
    no_exception(at)
    assert any("Đã nạp bản chụp #3" in s.value for s in at.success), texts(at)
    assert any("Trường 1" in s.value and "schools" not in s.value for s in at.success)
    at.run()
    no_exception(at)
    assert at.selectbox(key="f_snapshot").value == 3
    assert "Bản chụp #3" in texts(at)
    snaps = next(d.value for d in at.dataframe if "Loại nguồn" in d.value.columns)
    assert snaps.set_index("Mã").loc[3, "Loại nguồn"] == "Thư mục"  # not 'folder'
    tables = next(d.value for d in at.dataframe if "Dòng tiêu đề" in d.value.columns)
    assert "Trang tính" in tables.columns and "Sheet" not in tables.columns  # Vietnamese


def test_snapshot_load_times_read_in_vietnam_time(duck, app_db):
    import datetime as dt

    from soat.snapshot_store import read_connection

    con = read_connection(str(duck))
    stored = dict(con.execute("SELECT snapshot_id, loaded_at FROM snapshots").fetchall())
    con.close()
    at = open_page(logged_in("admin"), "pages/du_lieu.py")
    no_exception(at)
    snaps = next(d.value for d in at.dataframe if "Nạp lúc" in d.value.columns)
    shown = dict(zip(snaps["Mã"], snaps["Nạp lúc"], strict=True))
    assert shown and {k: v.to_pydatetime() for k, v in shown.items()} == {
        k: v + dt.timedelta(hours=7) for k, v in stored.items()
    }


def test_upload_is_for_province_admins_only(duck, app_db):
    at = open_page(logged_in("quan1"), "pages/du_lieu.py")
    assert not at.get("file_uploader")
    assert "Chỉ quản trị Sở được nạp dữ liệu mới." in texts(at)


def test_selecting_a_late_row_opens_its_follow_up(duck, app_db):
    at = open_page(logged_in("quan1"), "pages/tien_do.py")
    frame = at.dataframe[0].value
    assert set(frame["Mã trường"]) == {"S2"}  # S3 (Quận 2) is outside Quận 1
    _select(at)
    assert "Theo dõi khắc phục (biên bản)" in texts(at)


def test_late_page_offers_the_follow_up_record_in_scope(duck, app_db, captured):
    from soat import followups

    followups.set_state("S2", "dau_nam", "submission", "notified", "đã gọi điện", "quan1")
    followups.set_state("S3", "dau_nam", "submission", "fixing", None, "quan2_th")
    open_page(logged_in("quan1"), "pages/tien_do.py")
    csv = captured["followup_dl_late_csv"]().decode("utf-8-sig")  # the click builds it
    df = pl.read_csv(io.StringIO(csv), infer_schema=False)
    assert df["Mã trường"].to_list() == ["S2"]  # Quận 2's S3 is outside Quận 1
    assert df["Trạng thái"].to_list() == ["Đã thông báo"]
    assert df["Người cập nhật"].to_list() == ["quan1"]


def test_school_error_list_download_is_that_school_only(duck, app_db, captured):
    at = logged_in("admin", {"snapshot": "1"})
    at.run()
    at.switch_page("pages/truong_hoc.py")
    at.query_params["school"] = "S3"
    at.run()
    no_exception(at)
    df = pl.read_csv(io.BytesIO(captured["school_findings_csv"]()), infer_schema=False)
    assert df.height > 0 and set(df["school_code"]) == {"S3"}
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(captured["school_findings_xlsx"]()), read_only=True)
    assert wb.worksheets[0].max_row >= 3  # title, header, rows


def test_a_failed_upload_says_why_and_changes_nothing(duck, app_db):
    at = open_page(logged_in("admin"), "pages/du_lieu.py")
    at.file_uploader(key="upload_files").set_value([("hoc_sinh.csv", b"a,b\n1,2\n", "text/csv")])
    next(b for b in at.button if b.label == "Nạp dữ liệu").click().run(timeout=120)
    no_exception(at)
    assert at.error, texts(at)
    assert not at.get("progress")  # no "Chuẩn bị…" bar left standing under the error
    assert at.selectbox(key="f_snapshot").options == [
        "#2 · Cập nhật 1 · 29/10/2024",
        "#1 · Đầu năm · 15/10/2024",
    ]


def test_a_database_created_later_is_picked_up(tmp_path, monkeypatch, app_db):
    path = tmp_path / "later"
    monkeypatch.setenv("SOAT_DB", str(path))
    at = logged_in("admin")
    at.run()
    assert EMPTY in texts(at)
    province.build_store(str(path))  # e.g. `soat load` while nobody was looking
    at.run()
    no_exception(at)
    assert metric(at, "Số trường") == "4"


def test_a_single_file_store_being_written_elsewhere_gives_a_message(tmp_path, monkeypatch, app_db):
    """A store of the first format (one DuckDB file) cannot be read while another process
    writes it: the page says so instead of failing."""
    import subprocess
    import sys

    legacy = tmp_path / "soat.duckdb"
    province.build_file(str(legacy))
    monkeypatch.setenv("SOAT_DB", str(legacy))
    code = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
        "print('ok', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(legacy)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"ok"
        at = logged_in("admin")
        at.run()
        no_exception(at)
        assert any("đang được một tiến trình khác ghi" in w.value for w in at.warning)
    finally:
        proc.kill()
        proc.wait()


def test_a_store_being_written_is_read_as_usual(duck, app_db):
    """A load holding the store's write lock (its snapshot being written under tmp/) does
    not stop or slow a reader: the pages show the published snapshots."""
    import subprocess
    import sys

    code = (
        "import sys, time; from soat.snapshot_store import SnapshotStore\n"
        "with SnapshotStore(sys.argv[1]).writing() as w, w.draft() as d:\n"
        "    print('ok', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(duck)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"ok"
        at = logged_in("admin")
        at.run()
        no_exception(at)
        assert not at.warning
        assert metric(at, "Số trường") == "4"
    finally:
        proc.kill()
        proc.wait()


def test_data_page_names_tables_in_vietnamese_and_shows_no_none(duck, app_db):
    """Dữ liệu's tables: the snapshot's tables by their Vietnamese names, and a CSV's missing
    sheet (or any missing text) blank, not Streamlit's 'None'."""
    from loaders.contract import TABLES

    at = open_page(logged_in("admin"), "pages/du_lieu.py")
    no_exception(at)
    tables = next(d.value for d in at.dataframe if "Dòng tiêu đề" in d.value.columns)
    names = set(tables["Bảng"])
    assert names and names <= {t.label for t in TABLES.values()}, names
    assert "Học sinh" in names
    for d in at.dataframe:
        assert not _text_nulls(d.value)


@pytest.mark.parametrize("page", list(PAGES))
def test_no_table_shows_none(duck, app_db, page):
    """Streamlit prints a missing value as 'None': every table of every page blanks missing
    text and shows a missing number as '—' (components.grid)."""
    at = open_page(logged_in("admin"), page)
    no_exception(at)
    for d in at.dataframe:
        assert not _text_nulls(d.value), page
        assert d.proto.placeholder == "—", page


def _text_nulls(df) -> dict:
    """{column: first values} of the text columns of a shown table that hold a null."""
    import pandas as pd

    return {
        col: df[col].tolist()[:5]
        for col in df.columns
        if pd.api.types.is_string_dtype(df[col]) and df[col].isna().any()
    }


def test_new_account_with_unknown_codes_is_warned_and_listed(duck, app_db):
    at = open_page(logged_in("admin"), "pages/admin_users.py")
    at.text_input(key="admin_new_username").input("phong_moi")
    at.text_input(key="admin_new_password").input("Mat-khau-phong-moi-1")
    at.selectbox(key="admin_new_role").set_value("unit_officer")
    at.text_input(key="admin_new_units").input("79760; 99999")
    next(b for b in at.button if b.label == "Tạo tài khoản").click().run()
    no_exception(at)
    assert [shown(s.value) for s in at.success] == ["Đã tạo tài khoản phong_moi"]
    (warning,) = [w.value for w in at.warning]
    assert "99999" in warning and "79760" not in warning  # the known unit is not named
    accounts_shown = next(d.value for d in at.dataframe if "Tên đăng nhập" in d.value.columns)
    assert "phong_moi" in list(accounts_shown["Tên đăng nhập"])  # the list is fresh
    assert "phong_moi" in at.selectbox(key="admin_target").options
    at.selectbox(key="admin_target").set_value("phong_moi")
    at.button(key="admin_disable").click().run()
    assert [shown(s.value) for s in at.success] == [
        "Đã vô hiệu hoá phong_moi"
    ]  # shown after the rerun
    at.run()
    assert not at.success  # once

    at.text_input(key="admin_new_username").input("truong_s1")
    at.text_input(key="admin_new_password").input("Mat-khau-truong-s1")
    at.selectbox(key="admin_new_role").set_value("school")
    at.text_input(key="admin_new_school").input("S1")
    next(b for b in at.button if b.label == "Tạo tài khoản").click().run()
    assert [shown(s.value) for s in at.success] == ["Đã tạo tài khoản truong_s1"]
    assert not at.warning  # S1 is a school of the snapshot


def test_a_check_without_its_column_is_listed_as_not_run(duck, app_db):
    """A students file without its citizen-ID column: the Dữ liệu page's check listing says
    the ID checks did not run and which column is missing, never 'ran, 0 findings'."""
    schools = (
        "Mã trường,Tên trường,Mã đơn vị quản lý,Cấp học,Phần mềm QLNT,Hiệu trưởng,"
        "Đạt chuẩn quốc gia,Kiểm định chất lượng,Kết nối internet\n"
        "S9,Trường Tiểu học Mới,79760,TH,SMAS,Nguyễn Văn A,Mức 1,Cấp độ 1,Có\n"
    )
    students = "Mã học sinh,Mã trường,Họ và tên,Ngày sinh\nHS1,S9,Lê An,02/03/2018\n"
    at = open_page(logged_in("admin"), "pages/du_lieu.py")
    at.file_uploader(key="upload_files").set_value(
        [
            ("truong.csv", schools.encode(), "text/csv"),
            ("hoc_sinh.csv", students.encode(), "text/csv"),
        ]
    )
    next(b for b in at.button if b.label == "Nạp dữ liệu").click().run(timeout=120)
    no_exception(at)
    at.run()
    no_exception(at)
    runs = next(d.value for d in at.dataframe if "Mã kiểm tra" in d.value.columns)
    row = runs.set_index("Mã kiểm tra").loc["student.id_format"]
    assert row["Trạng thái"] == "Không chạy"
    assert row["Ghi chú"].startswith("thiếu cột Số định danh cá nhân")


def test_no_page_path_is_its_file_name(duck, app_db):
    """A url_path equal to the page file's name shares its hash with Streamlit's legacy
    pages/ mode: the file then ran alone, without app.py (no sidebar, no session check: a
    disabled account still saw Trường). Every page, the admin ones included; and Trường,
    once its account is disabled, shows the login form."""
    import re
    from pathlib import Path

    from soat import accounts

    root = Path(APP).parent
    text = (root / "app.py").read_text() + (root / "auth.py").read_text()
    pairs = re.findall(r'PAGES / "(\w+)\.py",?\s*(?:[^)]*?)url_path="([^"]+)"', text, re.S)
    assert len(pairs) == 9, pairs  # six review pages, three admin pages
    assert [p for p in pairs if p[0] == p[1]] == []
    at = logged_in("quan1")
    at.run()
    at.switch_page("pages/truong_hoc.py").run()
    assert not at.exception
    accounts.set_disabled("quan1", True)
    at.run()
    assert [t.label for t in at.text_input][:2] == ["Tên đăng nhập", "Mật khẩu"]
    assert not at.dataframe or all(d.value.shape == (0, 0) for d in at.dataframe)


@pytest.mark.parametrize(
    "role, scope",
    [
        ("unit_officer", {"units": ["79999"]}),  # a unit the snapshot does not know
        ("school", {"school": "S_KHONG_CO"}),
        ("province_staff", {"levels": ["GDTX"]}),  # no school of that level
    ],
)
@pytest.mark.parametrize("page", ["pages/tong_quan.py", "pages/tien_do.py", "pages/sai_lech.py"])
def test_a_scope_with_no_school_says_so_instead_of_perfect_figures(duck, app_db, role, scope, page):
    """An officer whose unit is not in the snapshot saw 'Trường đạt 100,0 %' over no school
    and a reporting rate of 100 %: the page says the account's scope is not there."""
    from soat import accounts

    accounts.create_user("khong_co", "mat-khau-tam-thoi-2026", role, **scope)
    at = logged_in("khong_co")
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    assert any("không có" in w.value and "phạm vi" in w.value or "của tài khoản" in w.value
               for w in at.warning), texts(at)  # fmt: skip
    assert not at.metric and not plots(at)


def test_a_link_to_an_unknown_check_is_ignored(duck, app_db):
    """`d_check` that names no check of the catalogue is ignored (docs/dashboard.md): the
    page opened at the school's checks, not a record level headed by the raw text."""
    at = logged_in("admin", {"snapshot": "1"})
    at.run()
    at.switch_page("pages/sai_lech.py")
    at.query_params.update({"d_unit": "79760", "d_school": "S1", "d_check": "khong_co"})
    at.run()
    no_exception(at)
    assert "Mã kiểm tra" in at.dataframe[0].value.columns  # the school's checks
    assert not any("khong" in shown(b.label) for b in at.button)


def test_a_school_without_a_code_is_named_so(tmp_path, monkeypatch, app_db):
    """A pupil whose school code is empty sits under '(không rõ đơn vị)' and a school with no
    code: its breadcrumb reads 'Trường (không rõ mã)', never 'Trường None'."""
    from soat import store
    from soat import testing as T

    path = tmp_path / "s.duckdb"
    con = store.connect(str(path))
    tables = T.valid_province(
        students=[T.student(), T.student(student_code="HS3", school_code=None, class_code=None)]
    )
    sid = T.run(con, tables)
    con.execute("UPDATE snapshots SET checked_at = now() WHERE snapshot_id = $s", {"s": sid})
    con.close()
    monkeypatch.setenv("SOAT_DB", str(path))
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    at = logged_in("admin", {"d_unit": "_", "d_school": "_"})
    at.run()
    at.switch_page("pages/sai_lech.py")
    at.query_params.update({"d_unit": "_", "d_school": "_"})
    at.run()
    no_exception(at)
    labels_ = [shown(b.label) for b in at.button]
    assert "Trường (không rõ mã)" in labels_ and "Trường None" not in labels_
    from dashboard import db

    db.close()
