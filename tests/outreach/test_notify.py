"""`soat notify` against a real SMTP server (aiosmtpd on 127.0.0.1): each recipient gets one
message with exactly their scoped items, a second run sends nothing, a recipient outside
a scope gets nothing, reminders come back after the interval, and the SMTP password is in
no log, no audit row, no message."""

from __future__ import annotations

import datetime as dt
import io
import logging

import duckdb
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from soat import accounts, audit, store
from soat.appdb import audit_log, notifications
from soat.notify import ledger
from soat.testing import cli

from . import smtp_server as smtp
from .fixtures import build_file

# the plain-text server of these tests sits on 127.0.0.1; the TLS one is in test_notify_tls
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PW = "Bi-mat-2024!"
BASE = "https://soat.sgddt.example.vn"
# who, and the schools (and levels) their digest may speak of
EXPECTED = {
    "canbo@q1.edu.vn": ({"S1", "S2", "S3"}, None),  # quan1: Quận 1 and the ward below it
    "canbo.th@q3.edu.vn": ({"S4", "S6"}, "TH"),  # quan3_th: Quận 3, primary only
    "c1leloi@q1.edu.vn": ({"S1"}, None),  # school S1: its account and its row share it
    "thcs.s3@q1.edu.vn": ({"S3"}, None),  # school S3's row holds two addresses
    "hieutruong.s3@q1.edu.vn": ({"S3"}, None),
}
SILENT = {
    "chuyenvien@sgddt.example.vn",  # province staff: no digest
    "nghi@q1.edu.vn",  # disabled officer
    "mamnon@q1.edu.vn",  # officer for MN in Quận 1: nothing there
}


@pytest.fixture
def duck(tmp_path, sqlite_db):
    path = tmp_path / "soat.duckdb"
    build_file(str(path))
    accounts.create_user("quan1", PW, "unit_officer", units=["79760"], email="canbo@q1.edu.vn")
    accounts.create_user(
        "quan3_th", PW, "unit_officer", units=["79761"], levels=["TH"], email="canbo.th@q3.edu.vn"
    )
    accounts.create_user("truong1", PW, "school", school="S1", email="C1LeLoi@q1.edu.vn")
    accounts.create_user("so", PW, "province_staff", email="chuyenvien@sgddt.example.vn")
    accounts.create_user("nghi", PW, "unit_officer", units=["79760"], email="nghi@q1.edu.vn")
    accounts.disable_user("nghi")
    accounts.create_user(
        "mn", PW, "unit_officer", units=["79760"], levels=["MN"], email="mamnon@q1.edu.vn"
    )
    return path


@pytest.fixture
def server(monkeypatch):
    controller, inbox = smtp.start()
    monkeypatch.setenv("SOAT_SMTP_URL", f"smtp://{smtp.USER}@127.0.0.1:{controller.port}")
    monkeypatch.setenv("SOAT_SMTP_PASSWORD", smtp.PASSWORD)
    monkeypatch.setenv("SOAT_SMTP_FROM", "Soát – Sở GD&ĐT <soat@sgddt.example.vn>")
    monkeypatch.setenv("SOAT_BASE_URL", BASE)
    monkeypatch.delenv("SOAT_NOTIFY_INTERVAL_DAYS", raising=False)
    yield inbox
    controller.stop()


def expected_keys(db, schools: set[str], level: str | None) -> set[str]:
    """The items of these schools, straight from the tables (not through the scope code)."""
    con = store.connect(str(db), read_only=True)
    try:
        subs = con.execute(
            """SELECT 'submission|' || school_code || '|' || level || '|' || period || '|'
                      || data_type || '|' || target || '|' || status
               FROM submission_status WHERE snapshot_id = 1 AND status IN ('missing', 'late')
                 AND list_contains($schools, school_code) AND ($level IS NULL OR level = $level)""",
            {"schools": sorted(schools), "level": level},
        ).fetchall()
        found = con.execute(
            """SELECT 'finding|' || check_id || '|' || school_code || '|' || record_key || '|'
                      || field
               FROM findings WHERE snapshot_id = 1 AND change = 'new' AND entity <> 'submission'
                 AND list_contains($schools, school_code)
                 AND ($level IS NULL OR level = $level OR level IS NULL)""",
            {"schools": sorted(schools), "level": level},
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in subs} | {r[0] for r in found}


def sent_keys(db_app, address: str) -> set[str]:
    with db_app.connect() as conn:
        rows = conn.execute(
            select(notifications.c.item_key).where(notifications.c.recipient == address)
        ).all()
    return {r[0] for r in rows}


def test_each_recipient_gets_exactly_their_items_once(duck, server, sqlite_db, caplog):
    caplog.set_level(logging.DEBUG)
    code, out, err = cli("notify", "--db", str(duck))
    assert code == 0, err
    assert "Đã gửi 5 thư" in out
    assert "S4" in err and "khong-phai-dia-chi" in err  # the malformed school address, named
    inbox = server
    assert sorted(a.lower() for m in inbox.received for a in m.rcpt_tos) == sorted(EXPECTED)
    assert all(len(m.rcpt_tos) == 1 for m in inbox.received)
    assert inbox.logins and all(ok for _, ok in inbox.logins)
    every = {"S1", "S2", "S3", "S4", "S5", "S6"}
    for address, (schools, level) in EXPECTED.items():
        (msg,) = inbox.to(address)
        keys = expected_keys(duck, schools, level)
        assert keys and sent_keys(sqlite_db, address) == keys
        body = msg.body
        # one line per late/missing item, the schools of the scope only
        item_lines = [ln for ln in body.splitlines() if "(hạn " in ln]
        assert len(item_lines) == sum(k.startswith("submission|") for k in keys)
        for other in every - schools:
            assert f"({other})" not in body and other not in msg.subject
        assert msg.subject.startswith("[Soát] ") and "15/10/2024" in msg.subject
        assert msg.mail_from == "soat@sgddt.example.vn"
    # officers: links to their pages; schools: their page and their sheet attached
    q1 = inbox.to("canbo@q1.edu.vn")[0]
    assert f"{BASE}/tien-do-nop?snapshot=1&unit=79760" in q1.body
    assert f"{BASE}/sai-lech?snapshot=1&unit=79760" in q1.body and not q1.attachments()
    q3 = inbox.to("canbo.th@q3.edu.vn")[0].body
    assert f"{BASE}/tien-do-nop?snapshot=1&level=TH&unit=79761" in q3
    s1 = inbox.to("c1leloi@q1.edu.vn")[0]
    assert f"{BASE}/truong?snapshot=1&school=S1" in s1.body
    ((name, data),) = s1.attachments()
    assert name == "S1_Truong_Tieu_hoc_Le_Loi.xlsx"
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    values = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v]
    assert any("****" in v for v in values)  # citizen IDs masked in what leaves by e-mail
    assert not any("0793110001" in v for v in values)
    # audited: one row per message, with its items counted
    events = audit.read(action="notify")
    assert sorted(e["detail"]["to"].lower() for e in events) == sorted(EXPECTED)
    assert all(e["rows"] == len(sent_keys(sqlite_db, e["detail"]["to"].lower())) for e in events)

    # right after: nothing new, nothing sent
    code, out, _ = cli("notify", "--db", str(duck))
    assert code == 0 and "Không có gì mới để gửi" in out
    assert len(inbox.received) == 5
    assert len(audit.read(action="notify")) == 5

    # the password: in no log record, output, audit row, ledger row or message
    with sqlite_db.connect() as conn:
        dump = repr(conn.execute(select(audit_log)).all())
        dump += repr(conn.execute(select(notifications)).all())
    seen = [dump, out, err, caplog.text] + [
        m.data.decode("utf-8", "replace") for m in inbox.received
    ]
    assert not any(smtp.PASSWORD in text for text in seen)


def age(db_app, address: str, days: int) -> None:
    """What was sent to an address, as if sent `days` earlier."""
    with db_app.begin() as conn:
        rows = conn.execute(
            select(notifications.c.id, notifications.c.sent_at).where(
                notifications.c.recipient == address
            )
        ).all()
        for id_, at in rows:
            conn.execute(
                update(notifications)
                .where(notifications.c.id == id_)
                .values(sent_at=at - dt.timedelta(days=days))
            )


def test_reminder_after_the_interval(duck, server, sqlite_db):
    assert cli("notify", "--db", str(duck))[0] == 0
    assert len(server.received) == 5
    # a week later for one address (Vietnam's calendar days): reminded of the same items
    age(sqlite_db, "canbo@q1.edu.vn", 7)
    code, _, err = cli("notify", "--db", str(duck))
    assert code == 0 and len(server.received) == 6, err
    again = server.to("canbo@q1.edu.vn")
    assert len(again) == 2 and again[1].body.count("(hạn ") == again[0].body.count("(hạn ")
    # six days is not a week
    age(sqlite_db, "canbo.th@q3.edu.vn", 6)
    assert cli("notify", "--db", str(duck))[0] == 0 and len(server.received) == 6
    assert cli("notify", "--db", str(duck), "--interval-days", "6")[0] == 0
    assert [m.rcpt_tos for m in server.received[6:]] == [["canbo.th@q3.edu.vn"]]


def test_a_unit_only_and_recipients_outside_it_get_nothing(duck, server):
    code, out, _ = cli("notify", "--db", str(duck), "--unit", "79761")
    assert code == 0
    assert [m.rcpt_tos for m in server.received] == [["canbo.th@q3.edu.vn"]]
    assert "S1" not in server.received[0].body
    code, _, err = cli("notify", "--db", str(duck), "--unit", "nope")
    assert code == 1 and "không có đơn vị 'nope'" in err


def test_dry_run_writes_eml_and_records_nothing(duck, server, sqlite_db, tmp_path):
    out_dir = tmp_path / "thu"
    code, out, _ = cli("notify", "--db", str(duck), "--dry-run", "-o", str(out_dir))
    assert code == 0 and "chưa gửi" in out
    files = sorted(out_dir.glob("*.eml"))
    assert len(files) == 5 and not server.received
    import email
    import email.policy

    msgs = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert sorted(str(m["To"]).lower() for m in msgs) == sorted(EXPECTED)
    assert all(str(m["Subject"]).startswith("[Soát] ") for m in msgs)
    assert "lỗi dữ liệu mới" in str(msgs[0]["Subject"])  # words kept apart in the folded subject
    with sqlite_db.connect() as conn:
        assert conn.execute(select(notifications)).all() == []
    assert len(audit.read(action="notify_dry_run")) == 5 and not audit.read(action="notify")
    # a dry run does not count as sent: the real run still sends everything
    assert cli("notify", "--db", str(duck))[0] == 0 and len(server.received) == 5
    assert cli("notify", "--db", str(duck), "--dry-run")[0] == 2  # -o missing
    assert cli("notify", "--db", str(duck), "-o", str(out_dir))[0] == 2  # -o without --dry-run


def test_without_a_previous_snapshot_only_submissions(tmp_path, sqlite_db, server):
    path = tmp_path / "first.duckdb"
    build_file(str(path), mark_new=False)  # findings.change NULL: nothing is "new"
    accounts.create_user("quan1", PW, "unit_officer", units=["79760"], email="canbo@q1.edu.vn")
    assert cli("notify", "--db", str(path))[0] == 0
    body = server.to("canbo@q1.edu.vn")[0].body
    assert "DỮ LIỆU CHƯA NỘP" in body and "LỖI DỮ LIỆU MỚI" not in body
    assert all(k.startswith("submission|") for k in sent_keys(sqlite_db, "canbo@q1.edu.vn"))


def test_a_wrong_password_sends_nothing_and_says_so(duck, server, monkeypatch, sqlite_db):
    monkeypatch.setenv("SOAT_SMTP_PASSWORD", "sai-" + smtp.PASSWORD)
    code, out, err = cli("notify", "--db", str(duck))
    assert code == 1
    assert "từ chối đăng nhập" in err and smtp.PASSWORD not in err + out
    assert not server.received and ledger.last_sent("canbo@q1.edu.vn").height == 0


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SOAT_SMTP_URL": ""}, "chưa cấu hình máy chủ thư"),
        ({"SOAT_SMTP_URL": "smtp://u:bimat@127.0.0.1:25"}, "không được chứa mật khẩu"),
        ({"SOAT_SMTP_URL": "http://127.0.0.1"}, "không đúng dạng"),
        ({"SOAT_SMTP_PASSWORD": ""}, "thiếu SOAT_SMTP_PASSWORD"),
        ({"SOAT_SMTP_FROM": "khong-phai"}, "không phải địa chỉ thư"),
        ({"SOAT_SMTP_CAFILE": "/khong/co.pem"}, "không tìm thấy tệp chứng chỉ"),
    ],
)
def test_configuration_errors_are_one_line(duck, server, monkeypatch, env, message):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    code, _, err = cli("notify", "--db", str(duck))
    assert code == 1 and message in err and "Traceback" not in err
    assert "bimat" not in err and not server.received


def test_a_store_without_the_school_email_column(tmp_path, sqlite_db, server):
    """A store written before the schools table had its e-mail column: accounts still get
    their digests."""
    path = tmp_path / "old.duckdb"
    build_file(str(path))
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE schools DROP COLUMN email")
    con.close()
    accounts.create_user("quan1", PW, "unit_officer", units=["79760"], email="canbo@q1.edu.vn")
    code, _, err = cli("notify", "--db", str(path))
    assert code == 0, err
    assert [m.rcpt_tos for m in server.received] == [["canbo@q1.edu.vn"]]


def test_a_hostile_school_name_stays_inside_the_subject(duck, server):
    con = duckdb.connect(str(duck))
    con.execute(
        "UPDATE schools SET school_name = 'Trường A\r\nBcc: ke.gian@example.com' "
        "WHERE school_code = 'S1'"
    )
    con.close()
    assert cli("notify", "--db", str(duck))[0] == 0
    (msg,) = server.to("c1leloi@q1.edu.vn")
    assert msg.rcpt_tos == ["C1LeLoi@q1.edu.vn"] and msg.message["Bcc"] is None
    assert msg.subject.startswith("[Soát] Trường A Bcc: ke.gian@example.com:")
    assert not any("ke.gian" in a for m in server.received for a in m.rcpt_tos)


def test_a_name_with_line_breaks_stays_on_its_line_in_the_body(duck, server):
    """A school's name can carry line breaks (the loader keeps what was typed): in a
    digest's text it stays inside its item's line, and cannot plant a paragraph that
    reads as the sender's."""
    con = duckdb.connect(str(duck))
    con.execute(
        "UPDATE schools SET school_name = $n WHERE school_code = 'S1'",
        {"n": "Trường A\n\nTHÔNG BÁO: đăng nhập lại tại http://evil.example\u2028-"},
    )
    con.close()
    assert cli("notify", "--db", str(duck))[0] == 0
    (msg,) = server.to("canbo@q1.edu.vn")  # the district officer's digest lists S1
    lines = msg.body.splitlines()
    assert not any(ln.startswith("THÔNG BÁO") for ln in lines)
    items = [ln for ln in lines if "THÔNG BÁO" in ln and "(hạn " in ln]
    assert items and items[0].startswith(
        "- Trường A THÔNG BÁO: đăng nhập lại tại http://evil.example - (S1)"
    )


def test_one_address_gets_each_item_once_in_a_run(duck, server, sqlite_db):
    """Two accounts on one mailbox (the whole unit and its TH part), and a ward officer
    whose address is also a school's row: each item reaches an address once per run (the
    ledger is read before anything is sent, so both digests carried the shared items)."""
    accounts.create_user(
        "quan1_th", PW, "unit_officer", units=["79760"], levels=["TH"], email="CANBO@q1.edu.vn"
    )
    accounts.create_user("benghe", PW, "unit_officer", units=["26734"], email="thcs.s3@q1.edu.vn")
    assert cli("notify", "--db", str(duck))[0] == 0
    for address in ("canbo@q1.edu.vn", "thcs.s3@q1.edu.vn"):
        keys = [
            k
            for m in server.to(address)
            for k in m.body.splitlines()
            if "(hạn " in k or "lỗi mới" in k
        ]
        assert len(keys) == len(set(keys)), (address, keys)
        with sqlite_db.connect() as conn:
            recorded = [
                r[0]
                for r in conn.execute(
                    select(notifications.c.item_key).where(notifications.c.recipient == address)
                ).all()
            ]
        assert recorded and len(recorded) == len(set(recorded)), address


def test_a_ledger_that_cannot_be_written_after_sending_is_told(duck, server, sqlite_db):
    """The message has gone when the ledger is written: a failure there is told for that
    message and the run goes on (it stopped, with the sent message unrecorded)."""
    from sqlalchemy import text

    with sqlite_db.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER no_ledger BEFORE INSERT ON notifications "
                "BEGIN SELECT RAISE(ABORT, 'khoa'); END"
            )
        )
    code, out, _ = cli("notify", "--db", str(duck))
    assert len(server.received) == len(EXPECTED)  # every message went
    assert "không ghi được sổ nhắc" in out and "nhắc lại" in out
    assert len(audit.read(action="notify")) == len(EXPECTED)  # and each is audited
