"""Xu hướng: metrics across snapshots; resolution progress (findings new, resolved and
still open per snapshot, their age, per unit); what changed in the push log between two
snapshots."""

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
    charts.show(charts.trend_lines(tr), key="trend_lines")
    charts.show(charts.errors_line(tr), key="trend_errors")
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

# ---- resolution progress: new vs resolved findings, age of the open ones --------------
st.subheader("Tiến độ khắc phục lỗi")
where = ctx.unit_names.get(f.unit, f.unit) if f.unit else "toàn bộ phạm vi"
rt = query.resolution_trend(scope, f)
cs = query.change_summary(sid, scope, f)
if cs.get("previous_id") is None:
    st.caption(
        f"Bản chụp #{sid} chưa có bản chụp trước để so sánh: chưa tính được phát hiện mới "
        "và phát hiện đã khắc phục."
    )
else:
    m = st.columns(4)
    m[0].metric("Mới phát sinh", labels.number(cs["new"]))
    m[1].metric("Đã khắc phục", labels.number(cs["resolved"]))
    m[2].metric("Còn tồn tại", labels.number(cs["persisting"]))
    age = cs.get("median_age")
    m[3].metric(
        "Tuổi trung vị lỗi còn mở",
        "–" if age is None else f"{age:g} ngày".replace(".", ","),
        help="Số ngày từ bản chụp đầu tiên có phát hiện (liên tục đến nay) đến ngày số liệu",
    )
    st.caption(
        f"Bản chụp #{sid} so với bản chụp #{cs['previous_id']} "
        f"(ngày {cs['previous_as_of']:%d/%m/%Y}), {labels.md(where)}. Chọn một đơn vị ở thanh bên để "
        "xem riêng đơn vị đó."
    )
if rt.height:
    charts.show(charts.resolution_bars(rt), key="trend_resolution")
    charts.show(charts.open_age_bars(rt, query.AGE_BUCKETS), key="trend_open_age")
    with st.expander("Bảng số liệu tiến độ khắc phục"):
        dataframe(
            rt.select(
                pl.col("snapshot_id").alias("Bản chụp"),
                pl.col("name").alias("Tên"),
                pl.col("as_of").alias("Ngày số liệu"),
                pl.col("new").alias("Mới phát sinh"),
                pl.col("resolved").alias("Đã khắc phục"),
                pl.col("persisting").alias("Còn tồn tại"),
                pl.col("open").alias("Đang mở"),
                *[pl.col(c).alias(f"Mở {label.lower()}") for c, label, *_ in query.AGE_BUCKETS],
                pl.col("median_age").round(1).alias("Tuổi trung vị (ngày)"),
            ),
            hide_index=True,
        )
uc_all = query.unit_changes(scope, f)
uc = uc_all.filter(pl.col("snapshot_id") == sid) if uc_all.height else uc_all
if uc.height:
    charts.show(charts.unit_change_bars(uc), key="trend_units")
if uc_all.height:
    with st.expander("Bảng theo đơn vị qua các bản chụp"):
        dataframe(
            uc_all.sort("unit_name", "as_of", "snapshot_id").select(
                pl.col("unit_name").alias("Đơn vị"),
                pl.col("unit_code").alias("Mã đơn vị"),
                pl.col("snapshot_id").alias("Bản chụp"),
                pl.col("as_of").alias("Ngày số liệu"),
                pl.col("new").alias("Mới phát sinh"),
                pl.col("resolved").alias("Đã khắc phục"),
                pl.col("persisting").alias("Còn tồn tại"),
                pl.col("open").alias("Đang mở"),
                pl.col("median_age").round(1).alias("Tuổi trung vị (ngày)"),
            ),
            hide_index=True,
            column_config={"Ngày số liệu": st.column_config.DateColumn(format="DD/MM/YYYY")},
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
    state.stop()
c1, c2 = st.columns(2)
to_id = c2.selectbox(
    "Đến bản chụp",
    ids,
    index=ids.index(sid),
    format_func=fmt,
    placeholder="Chọn bản chụp",
    key="ch_to",
)
earlier = [i for i in ids if i < to_id] or [i for i in ids if i != to_id]
from_id = c1.selectbox(
    "Từ bản chụp", earlier, index=0, format_func=fmt, placeholder="Chọn bản chụp", key="ch_from"
)
df = query.changes(to_id, from_id, scope, f)
if df.height == 0:
    st.success("Không có thay đổi nào trong lựa chọn này.")
    state.stop()
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
