"""Trường: one school — profile, metrics per level, submissions against deadlines, errors."""

from __future__ import annotations

import dataclasses
import math

import polars as pl
import streamlit as st

from dashboard import charts, downloads, labels, query, state
from dashboard.components.followup import followup_panel
from dashboard.components.grid import dataframe
from dashboard.components.paging import page_number

ctx = state.require_snapshot()
scope, sid, f = ctx.scope, ctx.snapshot_id, ctx.filters

st.title("Trường")
st.caption(state.filter_caption(ctx))

schools = query.school_list(sid, scope, f)
if schools.height == 0:
    st.info("Không có trường nào trong lựa chọn này.")
    state.stop()
names = {r["school_code"]: r["school_name"] for r in schools.iter_rows(named=True)}
codes = list(names)

# The URL's ?school= wins when it differs from what this page last wrote (a link was opened).
url_school = st.query_params.get("school")
if url_school in names and (
    "school_pick" not in st.session_state or url_school != st.session_state.get("school_synced")
):
    st.session_state["school_pick"] = url_school
if st.session_state.get("school_pick") not in names:
    st.session_state["school_pick"] = codes[0]
code = st.selectbox(
    "Chọn trường",
    codes,
    key="school_pick",
    format_func=lambda c: f"{names[c]} ({c})",
    placeholder="Chọn trường",
)
state.page_param("school", code)
st.session_state["school_synced"] = code

# ---- profile --------------------------------------------------------------------------
prof = query.school_profile(sid, scope, code)
if prof.height:
    p = prof.row(0, named=True)
    v = {k: labels.md(x) for k, x in p.items()}  # Markdown below: values from data escaped
    st.subheader(v["school_name"] or labels.md(code))
    a, b, c = st.columns(3)
    a.markdown(
        f"**Mã trường:** {labels.md(code)}  \n**Đơn vị quản lý:** {v['unit_name']} ({v['unit_code']})"
        f"  \n**Cấp học:** {v['levels']}  \n**Loại hình:** {v['ownership']}"
    )
    b.markdown(
        f"**Hiệu trưởng:** {v['principal'] or '—'}  \n**Phần mềm QLNT:** {v['software'] or '—'}"
        f"  \n**Kết nối internet:** {v['internet'] or '—'}  \n**Trạng thái:** {v['status']}"
    )
    c.markdown(
        f"**Đạt chuẩn quốc gia:** {v['national_standard'] or '—'}  \n"
        f"**Kiểm định chất lượng:** {v['accreditation'] or '—'}  \n"
        f"**Mã trường cũ:** {v['previous_codes'] or '—'}  \n"
        f"**Nguồn:** {v['_source']}, dòng {v['_row']}"
    )

# ---- metrics per level ----------------------------------------------------------------
st.subheader("Chỉ số theo cấp học")
m = query.school_metrics(sid, scope, code)
if m.height == 0:
    st.caption("Chưa có chỉ số cho trường này.")
else:
    show = m.select(
        pl.col("level").alias("Cấp học"),
        pl.col("students").alias("Học sinh"),
        pl.col("staff").alias("Cán bộ"),
        pl.col("classes").alias("Lớp"),
        pl.col("errors").alias("Lỗi"),
        pl.col("warnings").alias("Cảnh báo"),
        *[
            (pl.col(c) * 100).round(1).alias(n)
            for c, n in (
                ("completeness", "Đầy đủ (%)"),
                ("validity", "Không lỗi (%)"),
                ("identity_verified", "Xác thực (%)"),
                ("on_time_rate", "Đúng hạn (%)"),
            )
        ],
        pl.col("compliant")
        .replace_strict({True: "Đạt", False: "Chưa đạt"}, default="")
        .alias("Kết luận"),
    )
    dataframe(show, hide_index=True)
    charts.show(charts.metrics_by_level(m), key="school_levels")

# ---- submissions ----------------------------------------------------------------------
st.subheader("Lịch sử nộp dữ liệu so với hạn")
subs = query.school_submissions(sid, scope, f, code)
if subs.height == 0:
    st.caption("Không có hạn nộp nào áp dụng cho trường trong lựa chọn này.")
else:
    dataframe(
        labels.for_display(
            subs.select(
                labels.mapped(subs, "period", labels.period).alias("Kỳ"),
                labels.mapped(subs, "data_type", labels.data_type).alias("Loại dữ liệu"),
                pl.col("target").alias("Nộp lên"),
                pl.col("level").alias("Cấp học"),
                pl.col("due_date").alias("Hạn nộp"),
                pl.col("first_success_at").alias("Lần nộp thành công đầu"),
                pl.col("status")
                .replace_strict(labels.STATUS, default=pl.col("status"))
                .alias("Tình trạng"),
                pl.col("days_late").alias("Số ngày muộn"),
                pl.col("pushes").alias("Số lần đẩy"),
                pl.col("last_result").alias("Kết quả lần cuối"),
                pl.col("last_error").alias("Lỗi lần cuối"),
                pl.col("rule")
                .replace_strict(labels.RULE, default=pl.col("rule"))
                .alias("Hạn áp dụng"),
                pl.col("reference").alias("Văn bản"),
            )
        ),
        hide_index=True,
        column_config={
            "Hạn nộp": st.column_config.DateColumn(format="DD/MM/YYYY"),
        },
    )

# ---- errors -----------------------------------------------------------------------------
st.subheader("Danh sách lỗi cần sửa")
# new findings only (against the previous snapshot): a toggle kept in the URL as new=1
compared = query.change_summary(sid, scope, f)
new_only = state.new_only_toggle(compared, "new", "school_new_only")
fl = dataclasses.replace(f, new_only=new_only)
total = query.count_school_findings(sid, scope, fl, code)
if total == 0:
    st.success(
        "Trường không có phát hiện mới nào so với bản chụp trước trong lựa chọn này."
        if new_only
        else "Không có lỗi hoặc cảnh báo nào trong lựa chọn này."
    )
else:
    pages = max(1, math.ceil(total / query.PAGE_SIZE))
    page = page_number(
        f"Trang (1–{pages}), {labels.number(total)} dòng", pages, f"school_page_{code}"
    )
    recs = query.school_findings(sid, scope, fl, code, page)
    from dashboard.auth import note_personal_view  # audit unmasked personal data shown

    note_personal_view(
        scope,
        "truong.findings",
        recs,
        {"snapshot": sid, "school": code, "page": page, **fl.params()},
    )
    dataframe(
        recs.select(
            labels.mapped(recs, "check_id", labels.check).alias("Kiểm tra"),
            pl.col("severity")
            .replace_strict(labels.SEVERITY, default=pl.col("severity"))
            .alias("Mức"),
            pl.col("record_key").alias("Mã hồ sơ"),
            pl.col("level").alias("Cấp học"),
            labels.mapped(recs, "field", labels.field).alias("Trường thông tin"),
            pl.col("value").alias("Giá trị"),
            pl.col("message").alias("Nội dung cần sửa"),
            labels.change_status().alias("Thay đổi"),
        ),
        hide_index=True,
        column_config={"Nội dung cần sửa": st.column_config.TextColumn(width="large")},
    )
school_scope = dataclasses.replace(scope, school=code)
downloads.findings_buttons(
    sid,
    school_scope,
    f,
    f"loi_moi_{code}" if new_only else f"loi_{code}",
    key="school_findings",
    change="new" if new_only else None,
)

# ---- follow-up (biên bản), owned by the access module -----------------------------------
followup_panel(code, f.period, scope, key=f"followup_{code}")
