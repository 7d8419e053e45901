"""Sai lệch: drill-down province → unit → school → check → records.

At the unit levels, the per-school error sheets of the selection (the drilled unit, else the
sidebar's) download as one zip (`soat export school-sheets`).

Each level is a table ranked by impact (errors, share of records); selecting a row opens
the next level; breadcrumbs go back. The path is kept in the URL (d_unit, d_school,
d_check, d_page) so a link opens the same level. Each level counts the findings new since
the previous snapshot ("Mới"), each record says whether it is new or since when it exists,
and a toggle (d_new=1 in the URL) keeps only the new findings at every level.
"""

from __future__ import annotations

import dataclasses
import math

import polars as pl
import streamlit as st

from dashboard import charts, downloads, labels, query, state
from dashboard.components.grid import dataframe, rows_key
from dashboard.query import Filters

ctx = state.require_snapshot()
scope, sid, f = ctx.scope, ctx.snapshot_id, ctx.filters

NONE = "_"  # a unit/school code that is NULL in the data (unknown unit)
KEYS = ("unit", "school", "check")
PARAM = {"unit": "d_unit", "school": "d_school", "check": "d_check", "page": "d_page"}


def _from_url() -> dict:
    d = {k: st.query_params.get(PARAM[k]) for k in KEYS}
    if d["check"] not in labels.CHECK_NAMES:  # not a check of the catalogue: ignored
        d["check"] = None
    for k in KEYS[1:]:  # a level needs the one above it
        if d[KEYS[KEYS.index(k) - 1]] is None:
            d[k] = None
    try:
        d["page"] = max(0, int(st.query_params.get(PARAM["page"], "1")) - 1)
    except ValueError:
        d["page"] = 0
    return d


# The URL wins on the browser's Back/Forward (a level it lacks: the level above), and when
# it holds a path that differs from what this page last wrote there (a link was opened);
# otherwise the session's path does (navigating back to the page keeps the path).
url = _from_url()
if (
    "drill" not in st.session_state
    or state.history_navigation()
    or (
        any(st.query_params.get(PARAM[k]) is not None for k in KEYS)
        and url != st.session_state.get("drill_synced")
    )
):
    st.session_state["drill"] = url
drill: dict = st.session_state["drill"]


def code(v: str | None) -> str | None:
    return None if v in (None, NONE) else v


def go(**kw) -> None:
    drill.update(kw)
    drill["page"] = kw.get("page", 0)
    st.rerun()


def sync() -> None:
    state.set_params({PARAM[k]: drill.get(k) for k in KEYS})
    state.page_param(PARAM["page"], drill["page"] + 1 if drill.get("check") else None)
    st.session_state["drill_synced"] = {**drill, "page": drill["page"] if drill.get("check") else 0}


def pct(col: str) -> pl.Expr:
    return (pl.col(col) * 100).round(1)


PCT = st.column_config.NumberColumn(format="%.1f %%")


def select_row(df: pl.DataFrame, key: str, column_config: dict | None = None) -> int | None:
    ev = dataframe(
        df,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        column_config=column_config or {},
    )
    rows = ev.selection.rows if ev is not None else []
    return rows[0] if rows else None


# A unit or school the account does not see in this snapshot (a link from another account,
# another snapshot) is ignored: the query layer decides, and nothing of it is shown.
ignored = None
if drill["unit"] is not None:
    seen = query.drill_path_in_scope(sid, scope, code(drill["unit"]), code(drill["school"]))
    if not seen["unit"]:
        ignored = "Đơn vị", "toàn bộ phạm vi"
        drill.update(unit=None, school=None, check=None, page=0)
    elif drill["school"] is not None and not seen["school"]:
        ignored = "Trường", "các trường của đơn vị"
        drill.update(school=None, check=None, page=0)
sync()
st.title("Sai lệch")
st.caption(state.filter_caption(ctx))
if ignored:
    st.info(
        f"{ignored[0]} trong đường dẫn không thuộc phạm vi của tài khoản hoặc không có trong "
        f"bản chụp #{sid}: đang hiện {ignored[1]}."
    )

# ---- new findings only (against the previous snapshot) --------------------------------
compared = query.change_summary(sid, scope, f)
new_only = state.new_only_toggle(compared, "d_new", "d_new_only")
if new_only:
    f = dataclasses.replace(f, new_only=True)

# ---- breadcrumbs ---------------------------------------------------------------------
crumbs: list[tuple[str, dict]] = [
    ("Toàn bộ phạm vi", {"unit": None, "school": None, "check": None})
]
if drill["unit"] is not None:
    crumbs.append(
        (
            ctx.unit_names.get(code(drill["unit"]), code(drill["unit"]) or "(không rõ đơn vị)"),
            {"unit": drill["unit"], "school": None, "check": None},
        )
    )
if drill["school"] is not None:
    prof = query.school_profile(sid, scope, code(drill["school"]) or "")
    name = prof["school_name"][0] if prof.height and prof["school_name"][0] else None
    crumbs.append(
        (name or f"Trường {code(drill['school']) or '(không rõ mã)'}", {**drill, "check": None})
    )
if drill["check"] is not None:
    crumbs.append((labels.check(drill["check"]), dict(drill)))
bc = st.columns(len(crumbs) + 1 if len(crumbs) < 4 else len(crumbs))
for i, (label, target) in enumerate(crumbs):
    last = i == len(crumbs) - 1
    if bc[i].button(
        labels.md(label),  # a button's label is Markdown: names from data escaped
        key=f"crumb_{i}",
        disabled=last,
        width="stretch",
        icon=":material/place:" if last else ":material/chevron_left:",
    ):
        go(**{k: target.get(k) for k in KEYS})


def sheets_button(unit: str | None) -> None:
    """Every school's error sheet of the selection (this unit, else the sidebar's)."""
    sel = Filters(level=f.level, unit=unit or f.unit)
    downloads.school_sheets_button(sid, scope, sel, key=f"sheets_dl_{unit}")


# ---- level 1: units ------------------------------------------------------------------
if drill["unit"] is None:
    df = query.drill_units(sid, scope, f)
    st.subheader("Đơn vị xếp theo số lỗi")
    if df.height == 0 or (new_only and df["new_findings"].sum() == 0):
        st.success(
            "Không có phát hiện mới nào so với bản chụp trước trong lựa chọn này."
            if new_only
            else "Không có sai lệch nào trong lựa chọn này."
        )
        state.stop()
    sheets_button(None)
    st.caption("Chọn một dòng để xem các trường của đơn vị.")
    show = df.select(
        pl.col("unit_name").alias("Đơn vị"),
        pl.col("unit_code").alias("Mã"),
        pl.col("schools").alias("Số trường"),
        pl.col("schools_flagged").alias("Trường có phát hiện"),
        pl.col("errors").alias("Lỗi"),
        pl.col("warnings").alias("Cảnh báo"),
        pl.col("new_findings").alias("Mới"),
        pl.col("flagged_records").alias("Hồ sơ có lỗi"),
        pl.col("records").alias("Tổng hồ sơ"),
        pct("share").alias("Tỷ lệ hồ sơ lỗi"),
    )
    i = select_row(
        show, rows_key(f"drill_units_{sid}_{new_only}", df, ["unit_code"]), {"Tỷ lệ hồ sơ lỗi": PCT}
    )
    if i is not None:
        go(unit=df["unit_code"][i] or NONE, school=None, check=None)
    # one under the other: side by side, at a tablet's width (768 px), each had ≈ 50 px of bars
    charts.show(
        charts.ranked_bars(
            df.filter(pl.col("errors") > 0),
            "errors",
            "unit_name",
            "Số lỗi theo đơn vị",
            "Số lỗi",
            code="unit_code",
        ),
        key="ch_units",
    )
    cs = query.checks_summary(sid, scope, f)
    cs = cs.with_columns(labels.mapped(cs, "check_id", labels.check).alias("name"))
    charts.show(
        charts.ranked_bars(
            cs, "findings", "name", "Phát hiện theo loại kiểm tra", "Số phát hiện", code="check_id"
        ),
        key="ch_checks",
    )

# ---- level 2: schools of a unit --------------------------------------------------------
elif drill["school"] is None:
    df = query.drill_schools(sid, scope, f, code(drill["unit"]))
    st.subheader("Trường xếp theo số lỗi")
    if df.height == 0:
        st.info("Không có trường nào của đơn vị này trong lựa chọn.")
        state.stop()
    if code(drill["unit"]):
        sheets_button(code(drill["unit"]))
    st.caption("Chọn một dòng để xem các kiểm tra phát hiện sai lệch ở trường.")
    show = df.select(
        pl.col("school_name").alias("Trường"),
        pl.col("school_code").alias("Mã trường"),
        pl.col("levels").alias("Cấp học"),
        pl.col("errors").alias("Lỗi"),
        pl.col("warnings").alias("Cảnh báo"),
        pl.col("new_findings").alias("Mới"),
        pl.col("flagged_records").alias("Hồ sơ có lỗi"),
        pl.col("records").alias("Tổng hồ sơ"),
        pct("share").alias("Tỷ lệ hồ sơ lỗi"),
    )
    i = select_row(
        show,
        rows_key(f"drill_schools_{sid}_{drill['unit']}_{new_only}", df, ["school_code"]),
        {"Tỷ lệ hồ sơ lỗi": PCT},
    )
    if i is not None:
        go(unit=drill["unit"], school=df["school_code"][i] or NONE, check=None)
    charts.show(
        charts.ranked_bars(
            df.filter(pl.col("errors") > 0),
            "errors",
            "school_name",
            "Số lỗi theo trường",
            "Số lỗi",
            code="school_code",
        ),
        key="ch_schools",
    )

# ---- level 3: checks of a school -------------------------------------------------------
elif drill["check"] is None:
    school = code(drill["school"])
    df = query.drill_checks(sid, scope, f, school)
    st.subheader("Kiểm tra phát hiện sai lệch")
    if school:
        st.page_link(
            "pages/truong_hoc.py",
            label="Mở trang trường",
            icon=":material/school:",
            query_params=state.link_params(ctx, school=school),
        )
    if df.height == 0:
        st.success("Trường không có phát hiện nào trong lựa chọn này.")
        state.stop()
    st.caption("Chọn một dòng để xem từng hồ sơ.")
    show = df.select(
        labels.mapped(df, "check_id", labels.check).alias("Kiểm tra"),
        pl.col("check_id").alias("Mã kiểm tra"),
        pl.col("severity").replace_strict(labels.SEVERITY, default=pl.col("severity")).alias("Mức"),
        labels.mapped(df, "field", labels.field).alias("Trường thông tin"),
        pl.col("findings").alias("Số phát hiện"),
        pl.col("new_findings").alias("Mới"),
        pl.col("records_flagged").alias("Số hồ sơ"),
        pct("share").alias("Tỷ lệ hồ sơ"),
    )
    i = select_row(
        show,
        rows_key(f"drill_checks_{sid}_{drill['school']}_{new_only}", df, ["check_id"]),
        {"Tỷ lệ hồ sơ": PCT},
    )
    if i is not None:
        go(unit=drill["unit"], school=drill["school"], check=df["check_id"][i])

# ---- level 4: records ------------------------------------------------------------------
else:
    school, check = code(drill["school"]), drill["check"]
    total = query.count_records(sid, scope, f, school, check)
    pages = max(1, math.ceil(total / query.PAGE_SIZE))
    page = min(drill["page"], pages - 1)
    if page != drill["page"]:  # a link's page past the last: the last, in the URL too
        drill["page"] = page
        sync()
    st.subheader(f"{labels.md(labels.check(check))} — {labels.number(total)} phát hiện")
    recs = query.drill_records(sid, scope, f, school, check, page)
    from dashboard.auth import note_personal_view  # audit unmasked personal data shown

    note_personal_view(
        scope,
        "sai_lech.records",
        recs,
        {"snapshot": sid, "school": school, "check": check, "page": page, **f.params()},
    )
    dataframe(
        recs.select(
            pl.col("record_key").alias("Mã hồ sơ"),
            pl.col("level").alias("Cấp học"),
            labels.mapped(recs, "field", labels.field).alias("Trường thông tin"),
            pl.col("value").alias("Giá trị"),
            pl.col("message").alias("Nội dung cần sửa"),
            labels.mapped(recs, "period", labels.period).alias("Kỳ"),
            labels.change_status().alias("Thay đổi"),
        ),
        hide_index=True,
        column_config={"Nội dung cần sửa": st.column_config.TextColumn(width="large")},
        key=f"records_{sid}_{drill['school']}_{check}_{page}_{new_only}",
        empty=(
            "Không có phát hiện mới nào của kiểm tra này ở trường trong lựa chọn."
            if new_only
            else "Không có phát hiện nào của kiểm tra này ở trường trong lựa chọn."
        ),
    )
    p1, p2, p3 = st.columns([1, 2, 1]) if total else (None, None, None)
    if p1 and p1.button("‹ Trang trước", disabled=page == 0, key="rec_prev"):
        go(unit=drill["unit"], school=drill["school"], check=check, page=page - 1)
    if p2:
        p2.markdown(
            f"Trang **{page + 1} / {pages}** · {query.PAGE_SIZE} dòng mỗi trang",
            text_alignment="center",
        )
    if p3 and p3.button("Trang sau ›", disabled=page >= pages - 1, key="rec_next"):
        go(unit=drill["unit"], school=drill["school"], check=check, page=page + 1)
    if not scope.unmasked:
        st.caption("Số định danh, ngày sinh và địa chỉ được che theo quyền của tài khoản.")
