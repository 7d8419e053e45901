"""Admin page: list, add, disable and re-enable accounts (province admins only)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import labels, query
from dashboard.auth import require_admin
from dashboard.components.grid import dataframe
from soat import accounts
from soat.errors import SoatError
from soat.vocab import LEVELS

scope = require_admin()

st.title("Tài khoản")

# what the last action did, shown once after the rerun that refreshes the lists below
for kind, text in st.session_state.pop("admin_flash", []):
    getattr(st, kind)(text)

users = accounts.list_users()
if users:
    dataframe(
        pl.DataFrame(
            {
                "Tên đăng nhập": [u.username for u in users],
                "Vai trò": [accounts.ROLE_LABELS.get(u.role, u.role) for u in users],
                "Đơn vị": [", ".join(u.units or ()) for u in users],
                "Cấp học": [", ".join(u.levels or ()) or "Tất cả" for u in users],
                "Trường": [u.school or "" for u in users],
                "Trạng thái": [u.status_label() for u in users],
                "Khoá đến": [u.lock_text() for u in users],  # 'Mở lại' lifts a lock
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("Chưa có tài khoản nào.")

st.subheader("Tạo tài khoản")
# The form is not cleared on submit: a refused one (a short password) once came back with
# the role at its first choice, "Quản trị Sở", and the units empty, so an admin who
# re-typed only the name and password created a province admin. A refusal clears only the
# password, a success every field, through the rerun below (before the widgets exist).
NEW_FIELDS = ("admin_new_username", "admin_new_password", "admin_new_role", "admin_new_units",
              "admin_new_levels", "admin_new_school")  # fmt: skip
for key in st.session_state.pop("admin_new_clear", ()):
    st.session_state.pop(key, None)
with st.form("admin_add_user", clear_on_submit=False):
    username = st.text_input("Tên đăng nhập mới", key="admin_new_username")
    password = st.text_input("Mật khẩu ban đầu", type="password", key="admin_new_password")
    role = st.selectbox(
        "Vai trò",
        accounts.ROLES,
        format_func=lambda r: accounts.ROLE_LABELS[r],
        placeholder="Chọn vai trò",
        key="admin_new_role",
    )
    units = st.text_input("Mã đơn vị (Phòng/Xã; cách nhau bởi dấu phẩy)", key="admin_new_units")
    levels = st.multiselect(
        "Cấp học (để trống: tất cả)", LEVELS, placeholder="Tất cả các cấp", key="admin_new_levels"
    )
    school = st.text_input("Mã trường (tài khoản trường)", key="admin_new_school")
    if st.form_submit_button("Tạo tài khoản"):
        unit_codes = [u.strip() for u in units.replace(";", ",").split(",") if u.strip()]
        try:
            user = accounts.create_user(
                username,
                password,
                role,
                units=unit_codes or None,
                levels=levels or None,
                school=school or None,
                by=scope.user,
            )
        except SoatError as exc:
            # the message without "tùy chọn --unit:" (the command line's option, not this
            # form's field); it may quote the name
            st.session_state["admin_flash"] = [("error", labels.md(exc.plain))]
            st.session_state["admin_new_clear"] = ("admin_new_password",)
            st.rerun()
        else:
            flash = [("success", f"Đã tạo tài khoản {labels.md(user.username)}")]
            snaps = query.snapshots()
            unknown = (
                query.unknown_codes(int(snaps["snapshot_id"][0]), user.units or [], user.school)
                if snaps.height
                else []
            )
            if unknown:
                flash.append(
                    (
                        "warning",
                        f"Bản chụp mới nhất không có mã {labels.md(', '.join(unknown))}: tài khoản này "
                        "chưa thấy trường nào cho đến khi dữ liệu có mã đó. Nếu gõ nhầm, hãy vô "
                        "hiệu hoá tài khoản và tạo lại.",
                    )
                )
            st.session_state["admin_flash"] = flash
            st.session_state["admin_new_clear"] = NEW_FIELDS
            st.rerun()

st.subheader("Vô hiệu hoá / mở lại")
names = [u.username for u in users if u.username != scope.user]
if names:
    target = st.selectbox("Tài khoản", names, placeholder="Chọn tài khoản", key="admin_target")
    c1, c2 = st.columns(2)
    if c1.button("Vô hiệu hoá", key="admin_disable"):
        accounts.set_disabled(target, True, by=scope.user)
        st.session_state["admin_flash"] = [("success", f"Đã vô hiệu hoá {labels.md(target)}")]
        st.rerun()
    if c2.button("Mở lại", key="admin_enable"):
        accounts.set_disabled(target, False, by=scope.user)
        st.session_state["admin_flash"] = [("success", f"Đã mở lại {labels.md(target)}")]
        st.rerun()
else:
    st.caption("Chưa có tài khoản nào khác để vô hiệu hoá hay mở lại.")
