"""The selection every page shares: snapshot, period, level, unit (sidebar filters).

The filters live in widget state and are mirrored into `st.query_params` on every run,
so the address bar always holds a link a colleague can open on the same selection:

    ?snapshot=3&period=dau_nam&level=TH&unit=79760

On a new session the widgets start from the query parameters (a value outside the
user's scope or not in the snapshot is ignored); afterwards the widgets win, except on a
run the browser's Back or Forward button started (`history_navigation`): then the
address of that history entry wins, a parameter it lacks meaning the default. Page-level
parameters (drill-down, school) are kept by the pages themselves in the same way.

The address is written ONCE per run, at its end (`write_url`, called by app.py): Streamlit's
browser side adds a history entry for every change of the query string a run sends (one per
`st.query_params[k] = v`), so a drill step that set two parameters took two Back presses,
the first of which landed on a half-written address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard import labels, query
from dashboard.query import Filters
from soat.scope import Scope

CTX_KEY = "soat_ctx"
URL_KEY = "_soat_url_wanted"  # the query parameters this run will leave in the address
FILTER_PARAMS = ("snapshot", "period", "level", "unit")
ALL = "__all__"


@dataclass(frozen=True)
class Context:
    scope: Scope
    snapshot_id: int | None = None
    snapshot_name: str = ""
    as_of: dt.date | None = None
    school_year: str | None = None
    filters: Filters = field(default_factory=Filters)
    unit_names: dict = field(default_factory=dict, compare=False)


def _back_or_forward() -> bool:
    """Whether the browser's Back or Forward button started this run: Streamlit then reruns
    the page of that history entry with its query string (and, for this run, replaces the
    entry when the run writes the address, instead of adding one)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return bool(getattr(ctx, "is_history_navigation", False))


def history_navigation() -> bool:
    """Back/Forward to an address this app wrote, whose parameters then win (a missing one:
    the default). Every such address holds `snapshot`. One without it is the bare page
    address Streamlit's browser side adds to the history when the menu opens a page (it
    drops the query string; the page's first run then writes the selection back, a second
    entry): Back onto it keeps the selection, so that entry shows the same view."""
    return _back_or_forward() and "snapshot" in st.query_params


def _pick(key: str, param: str, options: list, default, cast=str):
    """Set a widget's state from the URL on a new session and on Back/Forward; keep it
    valid for the options."""
    if key not in st.session_state or history_navigation():
        raw = st.query_params.get(param)
        value = default
        if raw is not None:
            try:
                value = cast(raw)
            except (TypeError, ValueError):
                value = default
        st.session_state[key] = value if value in options else default
    elif st.session_state[key] not in options:
        st.session_state[key] = default


def sidebar(scope: Scope) -> Context:
    """Render the sidebar filters; return (and remember) the selection."""
    snaps = query.snapshots()
    if snaps.height == 0:
        ctx = Context(scope=scope)
        st.session_state[CTX_KEY] = ctx
        set_params(dict.fromkeys(FILTER_PARAMS))
        return ctx

    rows = {r["snapshot_id"]: r for r in snaps.iter_rows(named=True)}
    ids = list(rows)
    with st.sidebar:
        st.markdown("### Bộ lọc")
        pending = st.session_state.pop("f_snapshot_pending", None)  # set by an upload
        if pending in ids:
            st.session_state["f_snapshot"] = pending
        # an open session keeps its snapshot when a newer one is published; one deleted
        # meanwhile (soat snapshots delete/prune) gives way to the newest, with a word
        gone = st.session_state.get("f_snapshot")
        gone = gone if gone is not None and gone not in ids else None
        _pick("f_snapshot", "snapshot", ids, ids[0], int)
        sid = st.selectbox(
            "Bản chụp dữ liệu",
            ids,
            key="f_snapshot",
            format_func=lambda i: _snapshot_label(rows[i]),
            placeholder="Chọn bản chụp",
            help="Chỉ các bản chụp đã chạy kiểm tra",
        )
        if gone is not None:
            st.warning(f"Bản chụp #{gone} đã bị xoá khỏi kho; đang xem bản chụp #{sid}.")
        elif sid != ids[0]:
            st.caption(f"Có bản chụp mới hơn: {labels.md(_snapshot_label(rows[ids[0]]))}")
        periods = [ALL, *query.periods(sid, scope)]
        _pick("f_period", "period", periods, ALL)
        period = st.selectbox(
            "Kỳ báo cáo",
            periods,
            key="f_period",
            format_func=lambda p: "Tất cả các kỳ" if p == ALL else labels.period(p),
            placeholder="Chọn kỳ báo cáo",
        )
        levels = [ALL, *query.levels(sid, scope)]
        _pick("f_level", "level", levels, ALL)
        level = st.selectbox(
            "Cấp học",
            levels,
            key="f_level",
            format_func=lambda v: "Tất cả các cấp" if v == ALL else labels.level(v),
            placeholder="Chọn cấp học",
        )
        unit_df = query.units(sid, scope)
        unit_names = {r["unit_code"]: r["unit_name"] for r in unit_df.iter_rows(named=True)}
        depth = {r["unit_code"]: r["depth"] or 0 for r in unit_df.iter_rows(named=True)}
        unit_opts = [ALL, *unit_names]
        _pick("f_unit", "unit", unit_opts, ALL)
        if scope.school is None:
            unit = st.selectbox(
                "Đơn vị quản lý",
                unit_opts,
                key="f_unit",
                format_func=lambda u: (
                    "Tất cả đơn vị trong phạm vi"
                    if u == ALL
                    else "\u2003" * depth.get(u, 0) + f"{unit_names[u]} ({u})"
                ),
                placeholder="Chọn đơn vị",
                help="Chọn một Phòng/Xã: gồm cả các trường của đơn vị cấp dưới",
            )
        else:
            unit = ALL
    filters = Filters(
        period=None if period == ALL else period,
        level=None if level == ALL else level,
        unit=None if unit == ALL else unit,
    )
    snap = rows[sid]
    ctx = Context(
        scope=scope,
        snapshot_id=sid,
        snapshot_name=snap["name"] or "",
        as_of=snap["as_of"],
        school_year=snap["school_year"],
        filters=filters,
        unit_names=unit_names,
    )
    st.session_state[CTX_KEY] = ctx
    set_params(
        {
            "snapshot": sid,
            "period": filters.period,
            "level": filters.level,
            "unit": filters.unit,
        }
    )
    return ctx


def link_params(ctx: Context, **page: str) -> dict:
    """Query parameters for an st.page_link to another page: the selection (Streamlit opens
    a page link with its own parameters only; the page's run would then write the
    selection back, one more history entry) and the page's own."""
    f = ctx.filters
    sel = {"snapshot": ctx.snapshot_id, "period": f.period, "level": f.level, "unit": f.unit}
    return {k: str(v) for k, v in {**sel, **page}.items() if v is not None}


def begin_url(keep) -> None:
    """Start this run's address (app.py, before the sidebar): the query parameters of the
    address named in `keep`; the others (another page's drill-down …) are dropped."""
    st.session_state[URL_KEY] = {k: v for k, v in st.query_params.to_dict().items() if k in keep}


def set_params(values: dict) -> None:
    """Parameters this run leaves in the address (None: removed), written by write_url."""
    wanted = st.session_state.get(URL_KEY)
    if wanted is None:
        wanted = st.session_state[URL_KEY] = st.query_params.to_dict()
    for k, v in values.items():
        if v is None:
            wanted.pop(k, None)
        else:
            wanted[k] = str(v)


def stop() -> NoReturn:
    """st.stop() after writing this run's address: once a run is stopped, nothing it sends
    reaches the browser any more."""
    write_url()
    st.stop()
    raise RuntimeError("unreachable")  # st.stop() raises


def write_url() -> None:
    """Write this run's address in one assignment, if it changed (one history entry in the
    browser); app.py calls it when the page's run ends, `stop()` before it stops the run
    (not before an st.rerun: the next run writes)."""
    wanted = st.session_state.pop(URL_KEY, None)
    if wanted is not None and wanted != st.query_params.to_dict():
        st.query_params.from_dict(wanted)


def new_only_toggle(compared: dict, param: str, key: str) -> bool:
    """A page's "Chỉ phát hiện mới" toggle (findings new since the previous snapshot, from
    query.change_summary: `compared`), kept in the URL as `param`=1. The URL wins when it
    holds `param` and differs from what this page last wrote there (a link was opened),
    and on Back/Forward; without a previous snapshot the toggle is off and disabled. Its
    state is `key`, what was last written `key` with _synced for _only."""
    synced = key.replace("_only", "_synced")
    prev_id = compared.get("previous_id")
    url_new = st.query_params.get(param) == "1"
    if (
        key not in st.session_state
        or history_navigation()
        or (param in st.query_params and url_new != st.session_state.get(synced))
    ):
        st.session_state[key] = url_new
    new_only = st.toggle(
        "Chỉ phát hiện mới",
        key=key,
        disabled=prev_id is None,
        help=(
            "Bản chụp này chưa có bản chụp trước để so sánh"
            if prev_id is None
            else f"Chỉ các phát hiện chưa có ở bản chụp #{prev_id} "
            f"({compared['previous_as_of']:%d/%m/%Y})"
        ),
    )
    new_only = bool(new_only) and prev_id is not None
    page_param(param, "1" if new_only else None)
    st.session_state[synced] = new_only
    return new_only


def page_param(name: str, value) -> None:
    """Keep a page's own parameter (drill-down, school …) in the URL."""
    set_params({name: value})


def _snapshot_label(r: dict) -> str:
    as_of = r["as_of"].strftime("%d/%m/%Y") if r["as_of"] else ""
    name = r["name"] or r["source"] or ""
    return f"#{r['snapshot_id']} · {name} · {as_of}"


def context() -> Context:
    """The current selection (set by app.py before the page runs)."""
    ctx = st.session_state.get(CTX_KEY)
    if ctx is None:  # a page run without app.py (should not happen): nothing is visible
        st.error("Phiên làm việc chưa sẵn sàng, hãy tải lại trang.")
        stop()
    return ctx


def require_snapshot() -> Context:
    """The selection, or the friendly empty-database page and stop."""
    ctx = context()
    if ctx.snapshot_id is None:
        empty_page()
        stop()
    s = ctx.scope
    restricted = s.units is not None or s.levels is not None or s.school is not None
    if restricted and query.schools_in_scope(ctx.snapshot_id, s) == 0:
        # not "100 % on time" over no school: say that the account's scope is not there
        st.warning(no_school_text(ctx))
        stop()
    return ctx


def no_school_text(ctx: Context) -> str:
    s = ctx.scope
    if s.school is not None:
        whose = f"trường {labels.md(s.school)} của tài khoản này"
    else:
        whose = "trường nào thuộc phạm vi của tài khoản này"
        if s.units is not None:
            whose += f" (đơn vị {labels.md(', '.join(s.units))}"
            whose += f", cấp {', '.join(s.levels)})" if s.levels else ")"
        elif s.levels:
            whose += f" (cấp {', '.join(s.levels)})"
    return (
        f"Bản chụp #{ctx.snapshot_id} không có {whose}: chưa có số liệu để hiện. Mã đơn vị "
        "hoặc mã trường có thể đã đổi, hoặc chưa có trong dữ liệu đã nạp; hãy chọn bản chụp "
        "khác ở thanh bên, hoặc báo quản trị Sở kiểm tra tài khoản."
    )


def empty_page() -> None:
    st.info("**Chưa có bản chụp dữ liệu nào.**")
    st.markdown(
        """
Để bắt đầu, hãy nạp dữ liệu xuất từ phần mềm quản lý trường học (SMAS, VnEDU) hoặc
CSDL ngành:

- trên trang **Dữ liệu** (quản trị Sở): tải lên các tệp `.xlsx`/`.csv` hoặc một
  workbook, hệ thống sẽ tạo bản chụp mới và chạy toàn bộ kiểm tra;
- hoặc bằng dòng lệnh: `soat load <thư mục | tệp.xlsx | URL CSDL> --year 2024-2025`;
- để xem thử với dữ liệu mẫu: `soat demo` (hoặc `make demo`).
"""
    )


def filter_caption(ctx: Context) -> str:
    """The selection in one line of Markdown (names from data escaped: labels.md)."""
    f = ctx.filters
    md = labels.md
    parts = [f"Bản chụp #{ctx.snapshot_id} ({md(ctx.snapshot_name)})"]
    if ctx.as_of:
        parts.append(f"ngày số liệu {ctx.as_of:%d/%m/%Y}")
    parts.append(md(labels.period(f.period)) if f.period else "mọi kỳ")
    parts.append(md(labels.level(f.level)) if f.level else "mọi cấp học")
    if f.unit:
        parts.append(md(ctx.unit_names.get(f.unit, f.unit)))
    return " · ".join(parts)
