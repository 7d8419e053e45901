"""Admin page "Thư nhắc": the e-mail digests of `soat notify` (province admins only).

Shows the mail settings (never the password), who would receive a digest of the latest
checked snapshot now and what it lists, one message in full, and sends them; below, the
accounts' e-mail addresses, editable. Composing and sending are soat.notify's own
(preview, deliver): the same digests, ledger and audit rows as the command line.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import db, labels, query, state
from dashboard.auth import require_admin
from dashboard.components.grid import dataframe
from soat import accounts, notify
from soat.errors import SoatError
from soat.notify import settings

ALL = "__all__"


scope = require_admin()
st.title("Thư nhắc")

for kind, text in st.session_state.pop("notify_flash", []):
    getattr(st, kind)(labels.md(text))

# ---- settings --------------------------------------------------------------------------
try:
    smtp = settings.smtp_settings()
    smtp_error = None
except SoatError as exc:
    smtp, smtp_error = None, str(exc)
try:
    interval = settings.interval_days()
    base = settings.base_url()
except SoatError as exc:
    st.error(labels.md(str(exc)))
    state.stop()
rows = [
    ("Máy chủ thư", smtp.describe() if smtp else "chưa dùng được (xem dưới)"),
    ("Người gửi", smtp.sender if smtp else "—"),
    ("Nhắc lại một mục sau", f"{interval} ngày (SOAT_NOTIFY_INTERVAL_DAYS)"),
    ("Đường dẫn trong thư", base or "chưa đặt SOAT_BASE_URL: thư không có đường dẫn"),
]
dataframe(pl.DataFrame(rows, schema=["Thiết lập", "Giá trị"], orient="row"), hide_index=True)
if smtp_error:
    st.info(labels.md(f"Máy chủ thư: {smtp_error}"))

# ---- the digests -----------------------------------------------------------------------
snaps = query.snapshots()
if snaps.height == 0:
    st.info("Chưa có bản chụp dữ liệu nào đã kiểm tra: chưa có gì để gửi.")
    state.stop()
latest = snaps.row(0, named=True)
sid = latest["snapshot_id"]
snapshot = {k: latest.get(k) for k in ("snapshot_id", "name", "school_year", "as_of")}
units = query.units(sid, scope)
names = {r["unit_code"]: r["unit_name"] for r in units.iter_rows(named=True)}
unit = st.selectbox(
    "Chỉ gửi các mục của đơn vị",
    [ALL, *names],
    format_func=lambda u: "Toàn tỉnh" if u == ALL else f"{names[u]} ({u})",
    placeholder="Chọn đơn vị",
    key="notify_unit",
)
unit = None if unit == ALL else unit
as_of = f", số liệu ngày {latest['as_of']:%d/%m/%Y}" if latest.get("as_of") else ""
st.caption(labels.md(f"Bản chụp đã kiểm tra mới nhất: #{sid} {latest.get('name') or ''}{as_of}"))


def compose() -> tuple[list, list[str]]:
    with db.cursor() as cur:
        return notify.preview(cur, snapshot, unit=unit)


# Composing a province's digests takes seconds: kept for this session until the selection
# changes, "Làm mới" is pressed, or something is sent; sending composes afresh (another
# admin may have sent meanwhile).
key = (sid, unit, interval, base)
kept = st.session_state.get("notify_preview")
refresh = st.button("Làm mới", key="notify_refresh", help="Tính lại các thư theo dữ liệu hiện tại")
if kept is None or kept[0] != key or refresh:
    kept = (key, *compose())
    st.session_state["notify_preview"] = kept
_, digests, warnings = kept
if warnings:
    st.warning(f"{len(warnings)} địa chỉ thư trong danh sách trường không dùng được (bỏ qua):")
    dataframe(pl.DataFrame({"Cảnh báo": warnings}), hide_index=True)
if not digests:
    st.info(
        "Chưa có người nhận: đặt địa chỉ thư cho tài khoản cán bộ Phòng/Xã hoặc trường "
        "(bên dưới), hoặc thêm cột 'Thư điện tử' vào danh sách trường."
    )
todo = [d for d in digests if not d.empty]
if digests:
    dataframe(
        pl.DataFrame(
            {
                "Người nhận": [d.recipient.label for d in digests],
                "Địa chỉ": [d.recipient.address for d in digests],
                "Trễ/chưa nộp": [d.submissions.height for d in digests],
                "Lỗi mới": [d.findings.height for d in digests],
                "Đã nhắc gần đây": [d.held for d in digests],
                "Tiêu đề thư": [d.subject or "(không có gì mới: không gửi)" for d in digests],
            }
        ),
        hide_index=True,
        key="notify_digests",
    )
if todo:
    st.subheader(f"Xem trước ({len(todo)} thư)")
    pick = st.selectbox(
        "Thư",
        range(len(todo)),
        format_func=lambda i: f"{todo[i].recipient.label} — {todo[i].recipient.address}",
        placeholder="Chọn thư",
        key="notify_pick",
    )
    d = todo[pick]
    attached = ", ".join(d.attachment_names) or "không"
    # st.code shows text as it is (no markdown): names and messages come from the data
    st.code(
        f"Gửi tới: {d.recipient.address}\nTiêu đề: {d.subject}\nĐính kèm: {attached}\n\n{d.body}",
        language=None,
        wrap_lines=True,
    )
    if smtp is None:
        st.info("Cấu hình máy chủ thư (SOAT_SMTP_URL, SOAT_SMTP_PASSWORD) trên máy chủ để gửi.")
    else:
        sure = st.checkbox(f"Gửi {len(todo)} thư này qua {smtp.describe()}", key="notify_sure")
        if st.button("Gửi thư", disabled=not sure, type="primary", key="notify_send"):
            bar = st.progress(0.0, text="Đang gửi thư")
            st.session_state.pop("notify_preview", None)
            try:
                fresh = [d for d in compose()[0] if not d.empty]
                outcomes = notify.deliver(
                    fresh,
                    actor=scope.user,
                    progress=lambda i, n: bar.progress(i / n, text=f"Đã gửi {i}/{n} thư"),
                )
            except SoatError as exc:
                st.session_state["notify_flash"] = [("error", str(exc))]
            else:
                sent = sum(o.status == notify.SENT for o in outcomes)
                failed = [o for o in outcomes if o.status == notify.FAILED]
                flash = [("success", f"Đã gửi {sent} thư.")]
                flash += [("error", f"{o.digest.recipient.address}: {o.detail}") for o in failed]
                st.session_state["notify_flash"] = flash
            st.session_state.pop("notify_sure", None)
            st.rerun()
elif digests:
    st.success("Không có gì mới để gửi: mọi mục đã được nhắc trong thời hạn nhắc lại.")

# ---- the accounts' addresses -------------------------------------------------------------
st.subheader("Địa chỉ thư của tài khoản")
users = [u for u in accounts.list_users() if u.role in ("unit_officer", "school")]
if not users:
    st.info("Chưa có tài khoản cán bộ Phòng/Xã hay trường nào.")
    state.stop()
dataframe(
    pl.DataFrame(
        {
            "Tên đăng nhập": [u.username for u in users],
            "Vai trò": [accounts.ROLE_LABELS.get(u.role, u.role) for u in users],
            "Đơn vị / trường": [", ".join(u.units or ()) or (u.school or "") for u in users],
            "Thư điện tử": [u.email or "" for u in users],
            "Trạng thái": [u.status_label() for u in users],
        }
    ),
    hide_index=True,
    key="notify_accounts",
)
# not cleared on submit: a refused address once came back with the first account selected,
# and the address re-typed was saved on that account; a saved one clears the address
for key in st.session_state.pop("notify_email_clear", ()):
    st.session_state.pop(key, None)
with st.form("notify_email", clear_on_submit=False):
    who = st.selectbox(
        "Tài khoản",
        [u.username for u in users],
        placeholder="Chọn tài khoản",
        key="notify_email_user",
    )
    address = st.text_input("Địa chỉ thư mới (để trống: bỏ địa chỉ)", key="notify_email_value")
    if st.form_submit_button("Lưu địa chỉ"):
        try:
            accounts.set_email(who, address, by=scope.user)
        except SoatError as exc:
            st.error(labels.md(str(exc)))
        else:
            st.session_state.pop("notify_preview", None)
            done = "Đã lưu" if address.strip() else "Đã bỏ"
            st.session_state["notify_flash"] = [("success", f"{done} địa chỉ thư của {who}")]
            st.session_state["notify_email_clear"] = ("notify_email_value",)
            st.rerun()
