"""Tổng quan: headline figures, units ranked by compliance per level, upcoming deadlines."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, labels, query, state
from dashboard.components.grid import dataframe
from soat.vocab import LEVELS

UPCOMING_ROWS_SHOWN = 12  # more upcoming deadlines than this: the table scrolls

ctx = state.require_snapshot()
scope, sid, f = ctx.scope, ctx.snapshot_id, ctx.filters

st.title("Tổng quan")
st.caption(state.filter_caption(ctx))

h = query.headline(sid, scope, f)
c = st.columns(4)
c[0].metric("Số trường", labels.number(h.get("schools")))
c[1].metric("Học sinh", labels.number(h.get("students")))
c[2].metric("Cán bộ, giáo viên", labels.number(h.get("staff")))
c[3].metric(
    "Số lỗi", labels.number(h.get("errors")), help=f"{labels.number(h.get('warnings'))} cảnh báo"
)
c = st.columns(4)
c[0].metric(
    "Trường đạt",
    labels.percent(h["compliance"]),
    help="Trường không có lỗi và không thiếu lượt nộp dữ liệu nào "
    f"({labels.number(h.get('compliant_schools'))}/{labels.number(h.get('schools'))})",
)
c[1].metric(
    "Nộp đúng hạn",
    labels.percent(h["on_time_rate"]),
    help=f"Đúng hạn {labels.number(h.get('on_time'))}, muộn {labels.number(h.get('late'))}, "
    f"chưa nộp {labels.number(h.get('missing'))} trên {labels.number(h.get('expected'))} "
    "lượt đã đến hạn",
)
c[2].metric(
    "Xác thực định danh",
    labels.percent(h.get("identity_verified")),
    help="Học sinh và cán bộ đã xác thực với CSDL quốc gia về dân cư",
)
c[3].metric(
    "Đầy đủ thông tin",
    labels.percent(h.get("completeness")),
    help="Trường bắt buộc đã điền / tổng trường bắt buộc",
)

# what changed since the previous snapshot, in the same selection
ch = query.change_summary(sid, scope, f)
if ch.get("previous_id") is not None:
    st.markdown(
        f"So với bản chụp #{ch['previous_id']} (ngày {ch['previous_as_of']:%d/%m/%Y}): "
        f"**{labels.number(ch['new'])} phát hiện mới**, "
        f"**{labels.number(ch['resolved'])} đã được khắc phục**, "
        f"{labels.number(ch['persisting'])} còn tồn tại."
    )
else:
    st.caption("Chưa có bản chụp trước để so sánh phát hiện mới và đã khắc phục.")

st.subheader("Đơn vị xếp theo tỷ lệ trường đạt")
uc = query.unit_compliance(sid, scope, f)
if uc.height == 0:
    st.info("Không có trường nào trong lựa chọn này.")
else:
    present = set(uc["level"].drop_nulls().to_list())
    lv = [x for x in LEVELS if x in present] + sorted(present - set(LEVELS))
    charts.show(charts.compliance_by_unit(uc, lv), key="uc_levels")
    with st.expander("Bảng số liệu theo đơn vị"):
        dataframe(
            uc.select(
                pl.col("unit_name").alias("Đơn vị"),
                pl.col("unit_code").alias("Mã đơn vị"),
                pl.col("level").alias("Cấp học"),
                pl.col("schools").alias("Số trường"),
                pl.col("compliant_schools").alias("Trường đạt"),
                (pl.col("compliance") * 100).alias("Tỷ lệ đạt (%)"),
                pl.col("errors").alias("Số lỗi"),
                pl.col("students").alias("Học sinh"),
            ),
            hide_index=True,
            column_config={"Tỷ lệ đạt (%)": st.column_config.NumberColumn(format="%.1f")},
        )

st.subheader("Hạn nộp sắp tới")
up = query.upcoming_deadlines(sid, scope, f)
if up.height == 0:
    st.caption(f"Không còn hạn nộp nào sau ngày {ctx.as_of:%d/%m/%Y} trong lựa chọn này.")
else:
    # a list to read, not to sort: a static table, drawn at once (the data grid's canvas
    # keeps re-measuring for ≈ 0.3 s after the first page after login has rendered); early
    # in the school year the whole calendar is ahead (up to ≈ 150 rows): it scrolls then
    st.table(  # its cells are Markdown: text from data escaped
        labels.md_frame(
            up.select(
                pl.col("due_date").dt.strftime("%d/%m/%Y").alias("Hạn nộp"),
                labels.mapped(up, "period", labels.period).alias("Kỳ"),
                labels.mapped(up, "data_type", labels.data_type).alias("Loại dữ liệu"),
                pl.col("target").alias("Nộp lên"),
                pl.col("level").alias("Cấp học"),
                pl.col("schools").alias("Số trường phải nộp"),
                pl.col("submitted").alias("Đã nộp"),
                pl.col("reference").alias("Văn bản"),
            )
        ),
        hide_index=True,
        height="content" if up.height <= UPCOMING_ROWS_SHOWN else 480,
    )
