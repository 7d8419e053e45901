"""Dữ liệu: snapshots with sources and row counts, rejected rows, and uploading files to
load a new snapshot (province admins) through the same loader as `soat load`."""

from __future__ import annotations

import math

import polars as pl
import streamlit as st

from dashboard import labels, query, state, upload
from dashboard.auth import note_personal_view
from dashboard.components.grid import dataframe
from dashboard.components.paging import page_number
from soat import accounts

ctx = state.context()
scope = ctx.scope
province_wide = scope.units is None and scope.school is None
# rejected rows and load messages have no reliable school or level (query._PROVINCE_WIDE_ROWS)
every_level = province_wide and scope.levels is None

st.title("Dữ liệu")

if ctx.snapshot_id is None:
    state.empty_page()
else:
    snaps = query.all_snapshots(scope)
    st.subheader("Các bản chụp")
    dataframe(
        snaps.select(
            pl.col("snapshot_id").alias("Mã"),
            pl.col("name").alias("Tên"),
            *([pl.col("source").alias("Nguồn")] if province_wide else []),  # a server path
            pl.col("source_kind")
            .replace_strict(labels.SOURCE_KIND, default=pl.col("source_kind"))
            .alias("Loại nguồn"),
            pl.col("school_year").alias("Năm học"),
            pl.col("as_of").alias("Ngày số liệu"),
            (pl.col("loaded_at") + labels.VN_OFFSET).alias("Nạp lúc"),  # Vietnam's time
            pl.col("total_rows").alias("Số dòng"),
            pl.col("rejected").alias("Dòng bị loại"),
            pl.col("checked_at")
            .is_not_null()
            .replace_strict({True: "Đã kiểm tra", False: "Chưa kiểm tra"})
            .alias("Trạng thái"),
        ),
        hide_index=True,
        column_config={
            "Ngày số liệu": st.column_config.DateColumn(format="DD/MM/YYYY"),
            "Nạp lúc": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm"),
        },
    )
    sid = ctx.snapshot_id
    if not province_wide:
        st.caption(
            "Số dòng, nguồn và các dòng bị loại của toàn tỉnh chỉ hiển thị cho tài khoản cấp Sở."
        )
    else:
        st.subheader(f"Bản chụp #{sid}: bảng và nguồn")
        tables = query.snapshot_tables(sid, scope)
        dataframe(
            labels.for_display(
                tables.select(
                    labels.mapped(tables, "table_name", labels.table_name).alias("Bảng"),
                    pl.col("source").alias("Tệp / nguồn"),
                    pl.col("sheet").alias("Trang tính"),
                    pl.col("header_row").alias("Dòng tiêu đề"),
                    pl.col("rows").alias("Số dòng"),
                    pl.col("rejected").alias("Dòng bị loại"),
                    pl.col("extra_columns").alias("Cột thêm (giữ lại)"),
                )
            ),
            hide_index=True,
        )
        total = query.count_rejects(sid, scope)
        st.subheader(f"Dòng bị loại ({labels.number(total)})" if every_level else "Dòng bị loại")
        if not every_level:
            st.caption(
                "Các dòng bị loại và thông báo khi nạp không gắn được với một cấp học: chỉ hiển "
                "thị cho tài khoản cấp Sở xem mọi cấp học."
            )
        elif total == 0:
            st.caption("Không có dòng hoặc giá trị nào bị loại.")
        else:
            pages = max(1, math.ceil(total / query.PAGE_SIZE))
            page = page_number(f"Trang (1–{pages})", pages, f"rejects_page_{sid}")
            rejected = query.rejects(sid, scope, page)
            # an admin sees rejected personal values (a birth date, an ID) in clear: audited
            note_personal_view(scope, "du_lieu.rejects", rejected, {"snapshot": sid, "page": page})
            dataframe(
                labels.for_display(
                    rejected.select(
                        labels.mapped(rejected, "table_name", labels.table_name).alias("Bảng"),
                        pl.col("source").alias("Tệp"),
                        pl.col("sheet").alias("Trang tính"),
                        pl.col("row").alias("Dòng"),
                        pl.col("column").alias("Cột"),
                        pl.col("value").alias("Giá trị"),
                        pl.col("reason").alias("Lý do"),
                        pl.col("row_dropped")
                        .replace_strict({True: "Bỏ cả dòng", False: "Để trống giá trị"}, default="")
                        .alias("Xử lý"),
                    )
                ),
                hide_index=True,
            )
        msgs = query.load_messages(sid, scope)
        if msgs.height:
            with st.expander(f"Thông báo khi nạp ({msgs.height})"):
                dataframe(
                    labels.for_display(
                        msgs.select(
                            pl.col("severity")
                            .replace_strict(labels.LOAD_SEVERITY, default=pl.col("severity"))
                            .alias("Mức"),
                            pl.col("source").alias("Tệp / nguồn"),
                            pl.col("sheet").alias("Trang tính"),
                            pl.col("row").alias("Dòng"),
                            pl.col("column").alias("Cột"),
                            pl.col("message").alias("Nội dung"),
                        )
                    ),
                    hide_index=True,
                )
        runs = query.check_runs(sid, scope)
        if runs.height:
            with st.expander("Kết quả chạy bộ kiểm tra"):
                dataframe(
                    labels.for_display(
                        runs.select(
                            pl.col("check_id").alias("Mã kiểm tra"),
                            labels.mapped(runs, "check_id", labels.check).alias("Kiểm tra"),
                            pl.col("status")
                            .replace_strict(
                                {"ran": "Đã chạy", "not_run": "Không chạy", "failed": "Lỗi"},
                                default=pl.col("status"),
                            )
                            .alias("Trạng thái"),
                            pl.col("findings").alias("Số phát hiện"),
                            pl.col("seconds").round(3).alias("Giây"),
                            pl.col("detail").alias("Ghi chú"),
                        )
                    ),
                    hide_index=True,
                )

st.subheader("Nạp bản chụp mới")
if not accounts.is_admin(scope):
    st.caption("Chỉ quản trị Sở được nạp dữ liệu mới.")
else:
    upload.form(scope)
