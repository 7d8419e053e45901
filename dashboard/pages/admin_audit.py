"""Admin page: read the audit log, filtered by user, action and date (province admins only)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import labels
from dashboard.auth import require_admin
from dashboard.components.grid import dataframe
from soat import audit

require_admin()

st.title("Nhật ký truy cập")

c1, c2, c3, c4 = st.columns(4)
user = c1.text_input("Người dùng (một phần tên)", key="audit_user").strip() or None
action = c2.selectbox(
    "Hành động",
    [None, *audit.ACTIONS],
    format_func=lambda a: "Tất cả" if a is None else audit.ACTIONS[a],
    placeholder="Chọn hành động",
    key="audit_action",
)
today = (dt.datetime.now(dt.UTC) + labels.VN_OFFSET).date()  # Vietnam's date
since = c3.date_input(
    "Từ ngày", today - dt.timedelta(days=30), format="DD/MM/YYYY", key="audit_since"
)
until = c4.date_input("Đến ngày", today, format="DD/MM/YYYY", key="audit_until")

start, end = labels.utc_range(since, until)
events = audit.read(user_like=user, action=action, since=start, until=end, limit=5000)
st.caption(f"{len(events)} sự kiện (giờ Việt Nam)")
if events:
    dataframe(
        pl.DataFrame(
            {
                "Thời điểm": [labels.vn_time(e["at"]) for e in events],
                "Người dùng": [e["username"] for e in events],
                "Hành động": [audit.ACTIONS.get(e["action"], e["action"]) for e in events],
                "Chi tiết": [audit.describe(e["detail"]) for e in events],
                "Số dòng": [e["rows"] for e in events],
            },
            schema_overrides={"Số dòng": pl.Int64},
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("Không có sự kiện nào khớp bộ lọc.")
