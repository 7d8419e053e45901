"""Tiến độ nộp: late and missing submissions per school × data type, per-unit chart,
the late list as `soat export late` writes it (xlsx, csv), and the reminder letter
(`soat export letter`, .docx) for the late and missing rows of the selection."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, downloads, labels, query, state
from dashboard.components.followup import followup_download, followup_panel
from dashboard.components.grid import dataframe, rows_key

ctx = state.require_snapshot()
scope, sid, f = ctx.scope, ctx.snapshot_id, ctx.filters

st.title("Tiến độ nộp dữ liệu")
st.caption(state.filter_caption(ctx))

h = query.headline(sid, scope, f)
c = st.columns(5)
c[0].metric(
    "Lượt đã đến hạn",
    labels.number(h.get("expected")),
    help="Trường × kỳ × loại dữ liệu × nơi nhận có hạn nộp trước ngày số liệu",
)
c[1].metric("Đúng hạn", labels.number(h.get("on_time")), help=labels.percent(h["on_time_rate"]))
c[2].metric(labels.STATUS["late"], labels.number(h.get("late")))
c[3].metric("Chưa nộp", labels.number(h.get("missing")))
c[4].metric(
    "Tỷ lệ đã nộp",
    labels.percent(h["reporting_rate"]),
    help="(Đúng hạn + nộp muộn) / lượt đã đến hạn",
)

by_unit = query.status_by_unit(sid, scope, f)
if by_unit.height:
    charts.show(charts.status_by_unit(by_unit), key="status_by_unit")

st.subheader("Trường nộp muộn, chưa nộp")
STATUS_OPTS = ["missing", "late", "pending", "on_time"]
chosen = st.multiselect(
    "Tình trạng",
    STATUS_OPTS,
    default=["missing", "late"],
    format_func=lambda s: labels.STATUS[s],
    placeholder="Chọn tình trạng",
    key="late_status",
)
rows = query.submission_rows(sid, scope, f, tuple(chosen))
text = st.text_input("Tìm trường (mã hoặc tên)", key="late_search").strip().casefold()
if text and rows.height:
    rows = rows.filter(
        pl.col("school_code").str.to_lowercase().str.contains(text, literal=True)
        | pl.col("school_name").fill_null("").str.to_lowercase().str.contains(text, literal=True)
    )
if rows.height == 0:
    st.info("Không có trường nào ở tình trạng đã chọn.")  # a search, not good news
else:
    st.caption(
        f"{labels.number(rows.height)} dòng · bấm vào tiêu đề cột để sắp xếp · "
        "chọn một dòng để ghi nhận theo dõi khắc phục"
    )
    event = dataframe(
        labels.for_display(
            rows.select(
                pl.col("school_code").alias("Mã trường"),
                pl.col("school_name").alias("Tên trường"),
                pl.col("unit_name").alias("Đơn vị"),
                pl.col("level").alias("Cấp học"),
                labels.mapped(rows, "period", labels.period).alias("Kỳ"),
                labels.mapped(rows, "data_type", labels.data_type).alias("Loại dữ liệu"),
                pl.col("target").alias("Nộp lên"),
                pl.col("due_date").alias("Hạn nộp"),
                pl.col("first_success_at").alias("Nộp thành công lúc"),
                pl.col("status")
                .replace_strict(labels.STATUS, default=pl.col("status"))
                .alias("Tình trạng"),
                pl.col("days_late").alias("Số ngày muộn"),
                pl.col("last_result").alias("Kết quả lần cuối"),
                pl.col("last_error").alias("Lỗi lần cuối"),
            )
        ),
        hide_index=True,
        column_config={
            "Hạn nộp": st.column_config.DateColumn(format="DD/MM/YYYY"),
            "Số ngày muộn": st.column_config.NumberColumn(format="%d"),
        },
        # the rows in the key: a search or filter that changes the list clears the selection
        # (kept as row positions, it moved to whichever school took the selected row's place)
        key=rows_key(
            f"late_rows_{sid}", rows, ["school_code", "level", "period", "data_type", "target"]
        ),
        on_select="rerun",
        selection_mode="single-row",
    )
    picked = event.selection.rows if event is not None else []
    if picked:
        row = rows.row(picked[0], named=True)
        st.page_link(
            "pages/truong_hoc.py",
            label=f"Mở trang trường {labels.md(row['school_name'] or row['school_code'])}",
            icon=":material/school:",
            query_params=state.link_params(ctx, school=row["school_code"]),
        )
        followup_panel(
            row["school_code"],
            row["period"],
            scope,
            issues=["submission"],
            key=f"followup_late_{row['school_code']}_{row['period']}",
        )

st.markdown(
    "**Tải danh sách** (đúng như lệnh `soat export late`, theo bộ lọc đang chọn, mọi tình trạng)"
)
downloads.late_buttons(sid, scope, f, key="late_dl")

# the reminder letter, for the late and missing rows of the selection (not the status filter)
if query.submission_rows(sid, scope, f, ("missing", "late")).height:
    st.markdown(
        "**Công văn đôn đốc** (dự thảo theo Nghị định 30/2020/NĐ-CP; phụ lục: các trường chưa "
        "nộp, nộp trễ hạn theo bộ lọc đang chọn, như lệnh `soat export letter`)"
    )
    downloads.letter_button(sid, scope, f, key="letter_dl")

with st.expander("Biên bản theo dõi khắc phục (ai đánh dấu, khi nào, trạng thái)"):
    st.caption(
        "Trạng thái hiện tại của từng việc đã đánh dấu cho các trường trong phạm vi của bạn."
    )
    followup_download(scope, f.period, key="followup_dl_late")
