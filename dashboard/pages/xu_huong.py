"""Xu hướng: metrics across snapshots, and what changed between two snapshots."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, labels, query, state
from dashboard.components.grid import dataframe

ctx = state.require_snapshot()
scope, sid, f = ctx.scope, ctx.snapshot_id, ctx.filters

st.title("Xu hướng")
st.caption(state.filter_caption(ctx).split(" · ", 2)[-1])

tr = query.trend(scope, f)
if tr.height < 2:
    st.info(f"Cần ít nhất hai bản chụp để thấy xu hướng; hiện có {tr.height} bản chụp.")
if tr.height:
    st.plotly_chart(charts.trend_lines(tr), key="trend_lines")
    st.plotly_chart(charts.errors_line(tr), key="trend_errors")
    with st.expander("Bảng số liệu"):
        dataframe(
            tr.select(
                pl.col("snapshot_id").alias("Bản chụp"),
                pl.col("name").alias("Tên"),
                pl.col("as_of").alias("Ngày số liệu"),
                pl.col("schools").alias("Số trường"),
                *[
                    (pl.col(c) * 100).round(1).alias(n + " (%)")
                    for c, n in charts.TREND_SERIES.items()
                ],
                pl.col("errors").alias("Số lỗi"),
            ),
            hide_index=True,
        )

st.subheader("Thay đổi tình trạng nộp giữa hai bản chụp")
snaps = query.snapshots()
ids = snaps["snapshot_id"].to_list()  # newest first
names = {r["snapshot_id"]: r for r in snaps.iter_rows(named=True)}


def fmt(i: int) -> str:
    r = names[i]
    return f"#{i} · {r['name'] or ''} · {r['as_of']:%d/%m/%Y}" if r["as_of"] else f"#{i}"


if len(ids) < 2:
    st.caption("Chưa có bản chụp trước để so sánh.")
    st.stop()
c1, c2 = st.columns(2)
to_id = c2.selectbox("Đến bản chụp", ids, index=ids.index(sid), format_func=fmt, key="ch_to")
earlier = [i for i in ids if i < to_id] or [i for i in ids if i != to_id]
from_id = c1.selectbox("Từ bản chụp", earlier, index=0, format_func=fmt, key="ch_from")
df = query.changes(to_id, from_id, scope, f)
if df.height == 0:
    st.success("Không có thay đổi nào trong lựa chọn này.")
    st.stop()
from soat.changes import CHANGE_VI, summary  # noqa: E402

counts = summary(df)
cols = st.columns(len([c for c in counts if c != "unchanged"]))
for col, (k, n) in zip(cols, [(k, n) for k, n in counts.items() if k != "unchanged"], strict=True):
    col.metric(CHANGE_VI[k], labels.number(n))
dataframe(
    df.select(
        pl.col("change").replace_strict(CHANGE_VI, default=pl.col("change")).alias("Thay đổi"),
        pl.col("school_code").alias("Mã trường"),
        pl.col("school_name").alias("Tên trường"),
        pl.col("unit_code").alias("Mã đơn vị"),
        pl.col("level").alias("Cấp học"),
        labels.mapped(df, "period", labels.period).alias("Kỳ"),
        labels.mapped(df, "data_type", labels.data_type).alias("Loại dữ liệu"),
        pl.col("target").alias("Nộp lên"),
        pl.col("due_date").alias("Hạn nộp"),
        pl.col("status_before")
        .replace_strict(labels.STATUS, default=pl.col("status_before"))
        .alias("Trước"),
        pl.col("status_after")
        .replace_strict(labels.STATUS, default=pl.col("status_after"))
        .alias("Sau"),
        pl.col("days_late_after").alias("Số ngày muộn"),
    ),
    hide_index=True,
    column_config={"Hạn nộp": st.column_config.DateColumn(format="DD/MM/YYYY")},
)
