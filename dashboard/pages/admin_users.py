"""Admin page: list, add, disable and re-enable accounts (province admins only)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard.auth import require_admin
from dashboard.components.grid import dataframe
from soat import accounts
from soat.errors import SoatError
from soat.vocab import LEVELS

scope = require_admin()

st.title("Tài khoản")

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
                "Trạng thái": [
                    "Vô hiệu" if u.disabled else ("Tạm khoá" if u.locked_until else "Hoạt động")
                    for u in users
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("Chưa có tài khoản nào.")

st.subheader("Tạo tài khoản")
with st.form("admin_add_user", clear_on_submit=True):
    username = st.text_input("Tên đăng nhập mới", key="admin_new_username")
    password = st.text_input("Mật khẩu ban đầu", type="password", key="admin_new_password")
    role = st.selectbox(
        "Vai trò",
        accounts.ROLES,
        format_func=lambda r: accounts.ROLE_LABELS[r],
        key="admin_new_role",
    )
    units = st.text_input("Mã đơn vị (Phòng/Xã; cách nhau bởi dấu phẩy)", key="admin_new_units")
    levels = st.multiselect(
        "Cấp học (để trống: tất cả)", LEVELS, placeholder="Tất cả các cấp", key="admin_new_levels"
    )
    school = st.text_input("Mã trường (tài khoản trường)", key="admin_new_school")
    if st.form_submit_button("Tạo tài khoản"):
        try:
            accounts.create_user(
                username,
                password,
                role,
                units=[u for u in units.replace(";", ",").split(",") if u.strip()] or None,
                levels=levels or None,
                school=school or None,
                by=scope.user,
            )
            st.success(f"Đã tạo tài khoản {username.strip()}")
        except SoatError as exc:
            st.error(str(exc))

st.subheader("Vô hiệu hoá / mở lại")
names = [u.username for u in users if u.username != scope.user]
if names:
    target = st.selectbox("Tài khoản", names, key="admin_target")
    c1, c2 = st.columns(2)
    if c1.button("Vô hiệu hoá", key="admin_disable"):
        accounts.set_disabled(target, True, by=scope.user)
        st.success(f"Đã vô hiệu hoá {target}")
        st.rerun()
    if c2.button("Mở lại", key="admin_enable"):
        accounts.set_disabled(target, False, by=scope.user)
        st.success(f"Đã mở lại {target}")
        st.rerun()
else:
    st.caption("Chưa có tài khoản nào khác để vô hiệu hoá hay mở lại.")
