"""The outreach buttons and page: the reminder letter on Tiến độ nộp, the per-school error
sheets (zip) on Sai lệch — each the CLI export's own output for the user's scope — and the
admin page "Thư nhắc" (preview, send, the accounts' addresses)."""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import duckdb
import pytest
from dash_helpers import APP, PASSWORD, logged_in, open_page
from docx import Document
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from soat import accounts, audit
from soat.cli import main
from tests.access.apptest_helpers import login, texts
from tests.outreach import smtp_server as smtp


def cli_file(db, tmp, *argv: str) -> bytes:
    out = tmp / ("cli.docx" if argv[0] == "letter" else "cli.zip")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["export", *argv, "--db", str(db), "-o", str(out)]) == 0
    return out.read_bytes()


def appendix(data: bytes) -> list[list[str]]:
    return [[c.text for c in r.cells] for r in Document(io.BytesIO(data)).tables[-1].rows]


def zip_rows(data: bytes) -> dict[str, list[tuple]]:
    z = zipfile.ZipFile(io.BytesIO(data))
    out = {}
    for name in z.namelist():
        wb = load_workbook(io.BytesIO(z.read(name)), read_only=True)
        out[name] = [tuple(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]
    return out


def test_letter_button_is_the_cli_letter(duck, app_db, captured, tmp_path):
    at = logged_in("admin")
    at.run()
    at.selectbox(key="f_period").select("dau_nam").run()
    open_page(at, "pages/tien_do.py")
    data = captured["letter_dl"]()
    cli = cli_file(duck, tmp_path, "letter", "--snapshot", "2", "--period", "dau_nam")
    assert appendix(data) == appendix(cli) and len(appendix(data)) > 1
    assert Document(io.BytesIO(data)).tables[0].cell(0, 1).paragraphs[0].text == (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    )
    ev = [e for e in audit.read(action="export", user="admin") if e["detail"]["kind"] == "letter"]
    assert len(ev) == 1 and ev[0]["detail"]["format"] == "docx"
    assert ev[0]["detail"]["filters"] == {"snapshot": 2, "period": "dau_nam"}


def test_letter_follows_the_scope(duck, app_db, captured):
    open_page(logged_in("quan2_th"), "pages/tien_do.py")  # Quận 2, primary: S3's TH rows
    schools = {r[1] for r in appendix(captured["letter_dl"]())[1:]}
    assert schools == {"Trường TH&THCS Hòa Bình"}


def test_no_letter_button_without_late_rows(duck, app_db, captured):
    open_page(logged_in("truong_s2"), "pages/tien_do.py")  # S2 pushed late: a letter
    assert "letter_dl" in captured
    captured.clear()
    at = logged_in("admin")
    at.run()
    at.selectbox(key="f_level").select("MN").run()  # S4 pushed everything on time
    open_page(at, "pages/tien_do.py")
    assert "letter_dl" not in captured and "late_dl_csv" in captured


def test_school_sheets_zip_is_the_cli_export(duck, app_db, captured, tmp_path):
    at = logged_in("admin")
    at.run()
    at.switch_page("pages/sai_lech.py")
    at.query_params.update({"d_unit": "79760"})
    at.run()
    assert not at.exception
    data = captured["sheets_dl_79760"]()
    cli = cli_file(duck, tmp_path, "school-sheets", "--snapshot", "2", "--unit", "79760")
    assert zip_rows(data) == zip_rows(cli)
    assert sorted(zip_rows(data)) == [
        "S1_Truong_Tieu_hoc_Le_Loi.xlsx",
        "S2_Truong_THCS_Nguyen_Du.xlsx",
    ]


def test_school_sheets_zip_follows_the_scope(duck, app_db, captured):
    open_page(logged_in("quan2_th"), "pages/sai_lech.py")  # Quận 2, primary only
    z = zipfile.ZipFile(io.BytesIO(captured["sheets_dl_None"]()))
    assert z.namelist() == ["S3_Truong_TH_THCS_Hoa_Binh.xlsx"]
    ws = load_workbook(io.BytesIO(z.read(z.namelist()[0])), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    level = rows[1].index("Cấp học")
    assert rows[2:] and {r[level] for r in rows[2:]} <= {"TH", None}  # no THCS finding


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_admin_previews_and_sends_the_digests(duck, app_db, monkeypatch):
    from conftest import snapshot_file

    con = duckdb.connect(str(snapshot_file(duck, 2)))  # before any reader opened it
    con.execute("UPDATE findings SET change = 'new' WHERE snapshot_id = 2")
    con.close()
    accounts.set_email("quan1", "canbo@q1.edu.vn")
    accounts.set_email("quan2_th", "canbo@q2.edu.vn")
    accounts.set_email("so", "so@sgddt.example.vn")  # province staff: none
    controller, inbox = smtp.start()
    try:
        monkeypatch.setenv("SOAT_SMTP_URL", f"smtp://{smtp.USER}@127.0.0.1:{controller.port}")
        monkeypatch.setenv("SOAT_SMTP_PASSWORD", smtp.PASSWORD)
        at = logged_in("admin")
        open_page(at, "pages/admin_notify.py")
        assert "Thư nhắc" in [t.value for t in at.title]
        digests = at.dataframe[1].value
        assert sorted(digests["Địa chỉ"]) == ["canbo@q1.edu.vn", "canbo@q2.edu.vn"]
        shown = at.code[0].value
        assert shown.startswith("Gửi tới: ") and "Kính gửi" in shown
        assert smtp.PASSWORD not in texts(at) + shown
        assert at.button(key="notify_send").disabled  # until the sending is confirmed
        at.checkbox(key="notify_sure").check().run()
        at.button(key="notify_send").click().run()
        assert not at.exception
        assert "Đã gửi 2 thư" in texts(at)
        assert sorted(a for m in inbox.received for a in m.rcpt_tos) == [
            "canbo@q1.edu.vn",
            "canbo@q2.edu.vn",
        ]
        assert {e["username"] for e in audit.read(action="notify")} == {"admin"}
        # right after: nothing new
        assert "Không có gì mới để gửi" in texts(at)
    finally:
        controller.stop()


def test_admin_sets_an_accounts_address(duck, app_db):
    at = logged_in("admin")
    open_page(at, "pages/admin_notify.py")
    at.selectbox(key="notify_email_user").set_value("truong_s2")
    at.text_input(key="notify_email_value").input("hieutruong@s2.edu.vn")
    next(b for b in at.button if b.label == "Lưu địa chỉ").click()
    at.run()
    assert not at.exception
    assert accounts.get_user("truong_s2").email == "hieutruong@s2.edu.vn"
    at.selectbox(key="notify_email_user").set_value("truong_s2")
    at.text_input(key="notify_email_value").input("sai dia chi")
    next(b for b in at.button if b.label == "Lưu địa chỉ").click()
    at.run()
    assert "không hợp lệ" in texts(at)
    assert accounts.get_user("truong_s2").email == "hieutruong@s2.edu.vn"


def test_notify_page_is_for_admins_only(duck, app_db):
    at = logged_in("quan1")
    at.run()
    at.switch_page("pages/admin_notify.py").run()  # hidden from an officer's menu
    assert [e.value for e in at.error] == ["Trang này chỉ dành cho quản trị Sở"]
    assert not at.code and not at.dataframe
    # reached by its file all the same: the login form, then only an error
    page = str(Path(APP).parent / "pages" / "admin_notify.py")
    at = AppTest.from_file(page, default_timeout=60).run()
    at = login(at, "quan1", PASSWORD)
    assert "chỉ dành cho quản trị" in texts(at)
    assert not at.code and not at.dataframe
