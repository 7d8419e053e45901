"""E-mail digests: who receives one, what it lists, how it reads.

Recipients
- accounts with an e-mail address (`soat users add|edit --email`), enabled, of role
  `unit_officer` (their units and every unit below them, their levels) or `school`;
- schools whose row in the latest snapshot's schools table carries an address (column
  "Email" / "Thư điện tử"; several separated by `,` `;`); an address that is not one is
  named in the run's warnings and skipped. A school account and the school's own row with
  the same address get one digest.
Province accounts receive none (the dashboard is theirs).

Items (each recipient's own scope, through the same scoped queries as the exports)
- the late and missing submissions of the `late` export (soat.exports.late.frame);
- the findings of the snapshot that are new since the previous snapshot (`findings.change
  = 'new'`, filled by the history of issue 20; none without a previous snapshot), except
  the submission checks (those are the items above).
An item is listed only when it is due for that address (soat.notify.ledger: never sent, or
sent at least the reminder interval ago); a recipient with nothing due gets nothing.

The text is short: counts and one line per item (at most MAX_LINES per section), a link to
the dashboard page filtered to the recipient's scope (SOAT_BASE_URL), and for a school its
error sheet attached (soat.exports.school_sheets, masked: personal data never leaves by
e-mail). No citizen ID, birth date or address is written in a digest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from urllib.parse import urlencode

import duckdb
import polars as pl

from soat import accounts
from soat.appdb import AppDB
from soat.db import dicts
from soat.errors import SoatError
from soat.exports import late as late_export
from soat.exports import school_sheets
from soat.notify import ledger
from soat.scope import Scope, scope_sql
from soat.vocab import DATA_TYPES

MAX_LINES = 40
XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")

NEW_FINDINGS_SQL = """
SELECT f.check_id, f.school_code, any_value(s.school_name) AS school_name,
       f.record_key, f.field, f.severity
FROM findings f
LEFT JOIN schools s ON s.snapshot_id = f.snapshot_id AND s.school_code = f.school_code
WHERE f.snapshot_id = $snapshot_id
  AND f.change = 'new'
  AND f.entity <> 'submission'
  AND {scope}
  AND ($unit IS NULL OR f.unit_code IN (
        SELECT uc.unit_code FROM unit_closure uc
        WHERE uc.snapshot_id = $snapshot_id AND uc.ancestor_code = $unit))
GROUP BY ALL
ORDER BY f.school_code, f.check_id, f.record_key, f.field
"""

FINDINGS_SCHEMA = {
    "check_id": pl.String,
    "school_code": pl.String,
    "school_name": pl.String,
    "record_key": pl.String,
    "field": pl.String,
    "severity": pl.String,
}

SCHOOL_EMAILS_SQL = """
SELECT s.school_code, any_value(s.school_name) AS school_name, any_value(s.email) AS email
FROM schools s
WHERE s.snapshot_id = $snapshot_id
  AND s.email IS NOT NULL AND trim(s.email) <> ''
  AND coalesce(s.status, 'Hoạt động') = 'Hoạt động'
  AND ($unit IS NULL OR s.unit_code IN (
        SELECT uc.unit_code FROM unit_closure uc
        WHERE uc.snapshot_id = $snapshot_id AND uc.ancestor_code = $unit))
GROUP BY s.school_code
ORDER BY s.school_code
"""


@dataclass(frozen=True)
class Recipient:
    address: str
    greeting: str  # after "Kính gửi": "cán bộ phụ trách Phòng GD&ĐT Quận 1 (tài khoản quan1)"
    label: str  # who, in lists: "quan1 (Cán bộ Phòng/Xã)", "Trường S1"
    short: str  # in the subject: "Phòng GD&ĐT Quận 1", "Trường Tiểu học Lê Lợi"
    scope: Scope
    username: str | None = None
    school_code: str | None = None

    @property
    def key(self) -> tuple:
        s = self.scope
        return (ledger.recipient_key(self.address), s.units, s.levels, s.school)


@dataclass
class Digest:
    recipient: Recipient
    snapshot: dict
    submissions: pl.DataFrame  # due late/missing rows of the late export, with item_key
    findings: pl.DataFrame  # due new findings, with item_key
    held: int  # items sent within the interval, not repeated
    subject: str = ""
    body: str = ""
    sheet: school_sheets.SchoolSheet | None = None  # a school's error sheet, attached

    @property
    def attachment_names(self) -> list[str]:
        return [self.sheet.file_name] if self.sheet is not None else []

    def attachments(self) -> list[tuple[str, bytes]]:
        """Built when the message is (a province's previews need not write 2,500 workbooks)."""
        if self.sheet is None:
            return []
        return [(self.sheet.file_name, school_sheets.workbook_bytes(self.sheet, self.snapshot))]

    @property
    def item_keys(self) -> list[str]:
        return self.submissions["item_key"].to_list() + self.findings["item_key"].to_list()

    @property
    def empty(self) -> bool:
        return self.submissions.height == 0 and self.findings.height == 0


# ---- recipients ------------------------------------------------------------------------


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Does `table`, as a query names it, have `column`? (A store written before the
    schools e-mail column existed has none.)"""
    cur = con.execute(f'SELECT * FROM "{table}" LIMIT 0')
    names = [d[0] for d in cur.description]
    cur.fetchall()
    return column in names


def split_addresses(text: str | None) -> list[str]:
    return [a for a in re.split(r"[,;\s]+", text or "") if a]


def recipients(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    unit: str | None = None,
    app_db: AppDB | str | None = None,
) -> tuple[list[Recipient], list[str]]:
    """Everyone who may receive a digest, and warnings (unusable addresses)."""
    out: list[Recipient] = []
    warnings: list[str] = []
    names = {
        r["unit_code"]: r["unit_name"]
        for r in dicts(
            con,
            "SELECT unit_code, any_value(unit_name) AS unit_name FROM units "
            "WHERE snapshot_id = $s GROUP BY unit_code",
            {"s": snapshot_id},
        )
    }
    school_names = {
        r["school_code"]: r["school_name"]
        for r in dicts(
            con,
            "SELECT school_code, any_value(school_name) AS school_name FROM schools "
            "WHERE snapshot_id = $s GROUP BY school_code",
            {"s": snapshot_id},
        )
    }
    for user in accounts.list_users(app_db=app_db):
        if user.disabled or not user.email or user.role not in ("unit_officer", "school"):
            continue
        scope = dataclasses.replace(accounts.scope_for(user), unmasked=False)
        role = accounts.ROLE_LABELS.get(user.role, user.role)
        if user.role == "school":
            short = school_names.get(user.school) or f"Trường {user.school}"
            greeting = f"Hiệu trưởng {short} (tài khoản {user.username})"
        else:
            short = ", ".join(names.get(u) or u for u in user.units or ())
            if user.levels:
                short += f" (cấp {', '.join(user.levels)})"
            greeting = f"cán bộ phụ trách {short} (tài khoản {user.username})"
        out.append(
            Recipient(
                address=user.email,
                greeting=greeting,
                label=f"{user.username} ({role})",
                short=short,
                scope=scope,
                username=user.username,
                school_code=user.school,
            )
        )
    if _has_column(con, "schools", "email"):
        rows = dicts(con, SCHOOL_EMAILS_SQL, {"snapshot_id": snapshot_id, "unit": unit})
        for r in rows:
            code, name = r["school_code"], r["school_name"] or r["school_code"]
            for address in split_addresses(r["email"]):
                try:
                    address = accounts.valid_email(address)
                except SoatError:
                    warnings.append(
                        f"{name} ({code}): địa chỉ thư '{address}' không hợp lệ, bỏ qua"
                    )
                    continue
                out.append(
                    Recipient(
                        address=address,
                        greeting=f"Hiệu trưởng {name}",
                        label=f"Trường {code}",
                        short=name,
                        scope=Scope(
                            school=code, unmasked=False, user=f"truong:{code}", role="school"
                        ),
                        school_code=code,
                    )
                )
    seen: set[tuple] = set()
    unique = []
    for r in out:  # accounts first: a school's own row repeating an account's address is one
        if r.key not in seen:
            seen.add(r.key)
            unique.append(r)
    return unique, warnings


# ---- items -----------------------------------------------------------------------------


def submission_items(
    con: duckdb.DuckDBPyConnection, snapshot_id: int, scope: Scope, unit: str | None = None
) -> pl.DataFrame:
    df = late_export.frame(con, snapshot_id, scope, unit=unit, statuses=("missing", "late"))
    key = pl.concat_str(
        [
            pl.lit("submission"),
            *(
                pl.col(c).fill_null("")
                for c in ("school_code", "level", "period", "data_type", "target", "status")
            ),
        ],
        separator="|",
    )
    return df.with_columns(key.alias("item_key"))


def finding_items(
    con: duckdb.DuckDBPyConnection, snapshot_id: int, scope: Scope, unit: str | None = None
) -> pl.DataFrame:
    params = {**scope.params(), "snapshot_id": snapshot_id, "unit": unit}
    rows = con.execute(NEW_FINDINGS_SQL.format(scope=scope_sql("f")), params).fetchall()
    df = pl.DataFrame(rows, schema=FINDINGS_SCHEMA, orient="row")
    key = pl.concat_str(
        [
            pl.lit("finding"),
            *(pl.col(c).fill_null("") for c in ("check_id", "school_code", "record_key", "field")),
        ],
        separator="|",
    )
    return df.with_columns(key.alias("item_key"))


# ---- text ------------------------------------------------------------------------------


def _n(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _d(day) -> str:
    return f"{day:%d/%m/%Y}" if isinstance(day, dt.date) else ""


def _school(name: str | None, code: str) -> str:
    return f"{name or 'Trường'} ({code})"


def submission_lines(df: pl.DataFrame, one_school: bool = False) -> list[str]:
    shown = df.head(MAX_LINES)
    lines = []
    for r in shown.iter_rows(named=True):
        school = "" if one_school else f"{_school(r['school_name'], r['school_code'])}, "
        what = DATA_TYPES.get(r["data_type"], (r["data_type"],))[0]
        period = late_export.period_label(r["period"]) or ""
        days = r["days_late"] or 0
        state = (
            f"chưa nộp, quá hạn {days} ngày" if r["status"] == "missing" else f"nộp trễ {days} ngày"
        )
        lines.append(
            f"- {school}{r['level']}: {what} ({period}, lên {r['target']}) {state} "
            f"(hạn {_d(r['due_date'])})"
        )
    if df.height > MAX_LINES:
        lines.append(f"- … và {_n(df.height - MAX_LINES)} mục khác (xem trên trang Tiến độ nộp)")
    return lines


def finding_lines(df: pl.DataFrame, one_school: bool = False) -> list[str]:
    from dashboard.labels import CHECK_NAMES

    per = (
        df.group_by("school_code", "school_name", "check_id", maintain_order=True)
        .agg(pl.len().alias("n"))
        .sort("school_code", "n", descending=[False, True])
    )
    lines = []
    for (code, name), g in per.group_by("school_code", "school_name", maintain_order=True):
        total = int(g["n"].sum())
        checks = [
            f"{CHECK_NAMES.get(c, c)} ({_n(n)})" for c, n in g.select("check_id", "n").iter_rows()
        ]
        if one_school:
            lines += [f"- {c}" for c in checks]
        else:
            lines.append(f"- {_school(name, code)}: {_n(total)} lỗi mới — {'; '.join(checks)}")
    if len(lines) > MAX_LINES:
        rest = len(lines) - MAX_LINES
        lines = lines[:MAX_LINES] + [f"- … và {_n(rest)} trường khác (xem trên trang Sai lệch)"]
    return lines


def links(recipient: Recipient, snapshot_id: int, base: str | None) -> list[tuple[str, str]]:
    """Dashboard pages filtered to the recipient's scope (the sidebar's URL parameters)."""
    if not base:
        return []
    s = recipient.scope
    if s.school:
        q = urlencode({"snapshot": snapshot_id, "school": s.school})
        return [("Trang của trường", f"{base}/truong?{q}")]
    out = []
    level = s.levels[0] if s.levels and len(s.levels) == 1 else None
    for unit in s.units or (None,):
        params = {"snapshot": snapshot_id}
        if level:
            params["level"] = level
        if unit:
            params["unit"] = unit
        q = urlencode(params)
        out.append(("Tiến độ nộp", f"{base}/tien-do-nop?{q}"))
        out.append(("Sai lệch", f"{base}/sai-lech?{q}"))
    return out


def write_text(d: Digest, base: str | None, interval: int) -> None:
    snap = d.snapshot
    r = d.recipient
    n_sub_schools = d.submissions["school_code"].n_unique()
    n_new = d.findings.height
    parts = []
    if d.submissions.height:
        parts.append(
            f"{_n(d.submissions.height)} mục chưa nộp hoặc nộp trễ"
            if r.scope.school
            else f"{_n(n_sub_schools)} trường chưa nộp hoặc nộp trễ"
        )
    if n_new:
        parts.append(f"{_n(n_new)} lỗi dữ liệu mới")
    subject = f"[Soát] {r.short}: {', '.join(parts)} (số liệu {_d(snap.get('as_of'))})"
    d.subject = " ".join(subject.split())  # a name with a line break stays one header line
    name = f" “{snap['name']}”" if snap.get("name") else ""
    lines = [
        f"Kính gửi {r.greeting},",
        "",
        f"Hệ thống Soát thông báo kết quả rà soát dữ liệu ngành theo số liệu ngày "
        f"{_d(snap.get('as_of'))} (bản chụp #{snap['snapshot_id']}{name}, năm học "
        f"{snap.get('school_year') or ''}).",
    ]
    one = r.scope.school is not None
    if d.submissions.height:
        where = "" if one else f"{_n(n_sub_schools)} trường, "
        lines += [
            "",
            f"DỮ LIỆU CHƯA NỘP, NỘP TRỄ HẠN ({where}{_n(d.submissions.height)} mục):",
            *submission_lines(d.submissions, one),
        ]
    if n_new:
        where = "" if one else f" ở {_n(d.findings['school_code'].n_unique())} trường"
        lines += [
            "",
            f"LỖI DỮ LIỆU MỚI SO VỚI BẢN CHỤP TRƯỚC ({_n(n_new)} lỗi{where}):",
            *finding_lines(d.findings, one),
        ]
    pages = links(r, snap["snapshot_id"], base)
    if pages:
        lines += ["", "Xem chi tiết trên bảng điều khiển (đăng nhập bằng tài khoản được cấp):"]
        lines += [f"- {label}: {url}" for label, url in pages]
    if d.sheet is not None:
        lines += [
            "",
            "Phiếu lỗi của trường (tệp .xlsx) đính kèm thư này: mỗi dòng ghi hồ sơ, thông tin "
            "cần sửa và nơi sửa trên phần mềm quản lý nhà trường; số định danh, ngày sinh, "
            "địa chỉ được che.",
        ]
    lines += [
        "",
        "Thư do hệ thống Soát gửi tự động, xin không trả lời thư này. Mỗi mục chỉ được nhắc "
        f"lại sau {interval} ngày nếu chưa được khắc phục.",
    ]
    if d.held:
        lines.append(f"({_n(d.held)} mục đã nhắc trong {interval} ngày qua không nhắc lại.)")
    # each element of `lines` is one line: a name from data with a line break in it (the
    # loader keeps what was typed) must not start a line of its own in the message, where
    # it could pass for the sender's words ("THÔNG BÁO: … đăng nhập lại tại …")
    d.body = "\n".join(" ".join(line.split()) for line in lines) + "\n"


def compose(
    con: duckdb.DuckDBPyConnection,
    snapshot: dict,
    *,
    unit: str | None = None,
    interval: int = 7,
    base: str | None = None,
    now: dt.datetime | None = None,
    app_db: AppDB | str | None = None,
) -> tuple[list[Digest], list[str]]:
    """Every recipient's digest (empty ones included: nothing due), and warnings.

    A school's items are its rows of the province's items (one query for every school
    recipient: what Scope(school=…) selects), an officer's come from their own scope."""
    sid = snapshot["snapshot_id"]
    people, warnings = recipients(con, sid, unit=unit, app_db=app_db)
    province = Scope(unmasked=False, user="soat-notify", role="notify")
    schools = {r.scope.school for r in people if r.scope.school}
    by_school_s: dict = {}
    by_school_f: dict = {}
    sheets: dict = {}
    if schools:
        subs = submission_items(con, sid, province, unit)
        found = finding_items(con, sid, province, unit)
        by_school_s = {k[0]: v for k, v in subs.partition_by("school_code", as_dict=True).items()}
        by_school_f = {k[0]: v for k, v in found.partition_by("school_code", as_dict=True).items()}
        sheets = {s.school_code: s for s in school_sheets.build(con, sid, province, unit=unit)}
    sent = ledger.last_sent_many([r.address for r in people], app_db)
    # items already in another digest of this run to the same address (an officer's
    # account and a school's row sharing one, two accounts on one mailbox): held, not sent
    # twice (the ledger is read once, before anything is sent)
    planned: dict[str, set[str]] = {}
    out = []
    for r in people:
        code = r.scope.school
        if code:
            subs_r = by_school_s.get(code, subs.clear())
            found_r = by_school_f.get(code, found.clear())
        else:
            subs_r = submission_items(con, sid, r.scope, unit)
            found_r = finding_items(con, sid, r.scope, unit)
        mine = sent.get(ledger.recipient_key(r.address))
        subs_r, held_s = ledger.due(subs_r, mine, interval, now)
        found_r, held_f = ledger.due(found_r, mine, interval, now)
        already = planned.setdefault(ledger.recipient_key(r.address), set())
        if already:
            before = subs_r.height + found_r.height
            subs_r = subs_r.filter(~pl.col("item_key").is_in(list(already)))
            found_r = found_r.filter(~pl.col("item_key").is_in(list(already)))
            held_s += before - subs_r.height - found_r.height
        already.update(subs_r["item_key"].to_list() + found_r["item_key"].to_list())
        d = Digest(r, snapshot, subs_r, found_r, held_s + held_f)
        if not d.empty:
            if code:
                d.sheet = sheets.get(code)
            write_text(d, base, interval)
        out.append(d)
    return out, warnings


def message(d: Digest, sender: str) -> Message:
    """The e-mail: plain text in UTF-8, the school's sheet attached. Built with the
    compat32 MIME classes: the default policy's header folding drops the space between two
    encoded words in a long Vietnamese subject ('2 lỗidữ liệu' in CPython 3.11)."""
    body = MIMEText(d.body, "plain", "utf-8")
    files = d.attachments()
    if files:
        msg: Message = MIMEMultipart()
        msg.attach(body)
        for file_name, data in files:
            part = MIMEApplication(data, _subtype=XLSX_MIME[1])
            part.add_header("Content-Disposition", "attachment", filename=file_name)
            msg.attach(part)
    else:
        msg = body
    name, address = parseaddr(sender)
    msg["From"] = formataddr((str(Header(name or "Soát", "utf-8")), address))
    msg["To"] = d.recipient.address
    msg["Subject"] = Header(d.subject, "utf-8")
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    return msg
