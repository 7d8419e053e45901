"""Plotly figures of the dashboard (Vietnamese labels, percentages 0–100).

Plotly reads a subset of HTML in every text it draws; names from data (units, schools,
levels) go through labels.plain_expr / labels.plain first, so they show as written.

Plotly Express takes the polars frames as they are (through narwhals): no conversion to
pandas on a request path, where a conversion waits on polars' thread pool while holding
the GIL (docs/architecture.md, "Many sessions at once")."""

from __future__ import annotations

import functools
from pathlib import Path

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from dashboard import labels

# by status code; the chart's legend shows the Vietnamese label
STATUS_COLORS = {
    labels.STATUS[code]: color
    for code, color in {
        "on_time": "#2e7d32",
        "late": "#f9a825",
        "missing": "#c62828",
        "pending": "#90a4ae",
    }.items()
}


# red (0 %) -> amber -> green (100 %)
COMPLIANCE_SCALE = [[0.0, "#c62828"], [0.5, "#f9a825"], [1.0, "#2e7d32"]]
# Bar charts with a name on each row (units, schools, checks): a row is BAR_PX high for a
# one-line name and LINE_PX more for each further line (names are broken into lines of
# WRAP characters: on a phone, 360 px wide, a name on one line left the bars ≈ 65 px and
# Plotly then cut the names); the chart is BASE_PX (axis, margins) more, at least MIN_PX
# (one or two bars — a school account's own unit — left the x axis's ticks and title drawn
# over each other)
BASE_PX, BAR_PX, LINE_PX, MIN_PX = 100, 26, 12, 200
WRAP = 20
# A chart's title is one line Plotly never wraps: at most this many characters a line (a
# longer title has a <br>), or a phone cuts it
TITLE_CHARS = 32
ZERO_WIDTH = "\u200b"
# A legend: in a row under the chart (beside it, it took half a phone's width), placed in
# the figure ("container"): Plotly then makes room for it under the x axis's title, where
# a place relative to the plot ("paper", y < 0) drew it over a two-line title
LEGEND_BELOW = {
    "orientation": "h",
    "yref": "container",
    "y": 0,
    "yanchor": "bottom",
    "xref": "container",
    "x": 0,
}

# Plotly's mode bar (zoom, pan, autoscale, "Download plot as a PNG") speaks English only:
# plotly.js has no Vietnamese locale. The bar is hidden, and the axes are fixed (_layout):
# a zoom by dragging could then only be undone by a double-click nobody knows. The charts
# are read, not explored: hovering still shows every figure; the tables below them hold
# the numbers. No "double-click to zoom back out" tips either.
CONFIG = {"displayModeBar": False, "displaylogo": False, "showTips": False}

# The browser draws the charts with Plotly's *basic* bundle (bar, scatter, pie: all the
# dashboard draws; 1.2 MB, MIT licence beside it), served by Streamlit's static file
# serving from dashboard/static/, in a small component (components/plot.js). Streamlit's
# own st.plotly_chart loads all of plotly.js, 4.7 MB, into every new browser session:
# with ten officers opening the dashboard at once on the 2-core server, that about doubled
# the page p95 (BENCHMARKS.md, round 8's seventh and eighth sessions). Both draw the figure
# plotly (Python) builds, with Streamlit's theme; a server run without static serving
# (neither `soat serve` nor `streamlit run` from the project's root) falls back to
# st.plotly_chart.
PLOTLY_JS = "plotly-basic-4.1.2.min.js"
_COMPONENT_JS = Path(__file__).resolve().parent / "components" / "plot.js"


@functools.cache
def _component():
    import streamlit as st

    return st.components.v2.component(
        "soat_plot", js=_COMPONENT_JS.read_text(encoding="utf-8"), isolate_styles=False
    )


def _bundle_url() -> str:
    import streamlit as st

    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return "/" + (f"{base}/" if base else "") + f"app/static/{PLOTLY_JS}"


def show(fig: go.Figure, key: str, config: dict | None = None) -> None:
    """Draw a chart on the page: every chart of the dashboard goes through here
    (tests/dashboard/test_charts.py holds the pages to it)."""
    import streamlit as st

    config = CONFIG if config is None else config
    if not st.get_option("server.enableStaticServing"):
        st.plotly_chart(fig, key=key, config=config)
        return
    _component()(
        data={"src": _bundle_url(), "figure": fig.to_json(), "config": config},
        key=key,
    )


def prefetch() -> None:
    """An empty chart, drawn as a still picture: the browser loads and compiles the
    drawing code under the login form while the user types (dashboard.auth, in a 1-pixel
    box: at 10 px high Plotly failed, "Something went wrong with axis scaling")."""
    hidden = {"visible": False}
    show(
        go.Figure(
            layout={
                "height": 100,
                "margin": {"l": 0, "r": 0, "t": 0, "b": 0, "pad": 0},
                "xaxis": hidden,
                "yaxis": hidden,
            }
        ),
        key="prefetch_chart",
        config={"staticPlot": True},
    )


def _layout(fig: go.Figure, height: int | None = None) -> go.Figure:
    title_lines = (fig.layout.title.text or "").count("<br>") + 1
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 40 + 20 * (title_lines - 1), "b": 10},
        legend_title_text="",
        separators=",.",
        # a series' name beside its hover whole: Plotly cuts it at 15 characters
        # ("Mới trong bả...")
        hoverlabel={"namelength": -1},
        **({"height": height} if height else {}),
    )
    # the margins grow to the tick labels and axis titles (names on the left, a right axis's
    # title); fixed ranges: no zoom or pan by dragging (CONFIG)
    fig.update_xaxes(automargin=True, fixedrange=True)
    fig.update_yaxes(automargin=True, fixedrange=True)
    return fig


def _row_names(name: str, code: str | None, over: str | None = None) -> pl.Expr:
    """A row's name as a bar chart's axis shows it: `name` (else `code`, else '(không rõ)'),
    with its code in brackets when another row (of the same `over` group) has the same name —
    on a category axis Plotly draws rows of one name as ONE row, their bars over each other;
    a polars expression giving the raw text (to break into lines with _axis_text)."""
    label = pl.coalesce(pl.col(name), *([pl.col(code)] if code else []), pl.lit("(không rõ)"))
    if code is None:
        return label
    group = [label] if over is None else [label, pl.col(over)]
    dup = pl.col(code).n_unique().over(group) > 1  # one unit has a row per status: not twins
    return pl.when(dup).then(pl.format("{} ({})", label, pl.col(code))).otherwise(label)


def _axis_text(d: pl.DataFrame, column: str) -> pl.Expr:
    """The raw text of `column` as Plotly text (labels.plain) broken into lines of WRAP
    characters: a lookup built once per distinct name, no Python inside polars."""
    return labels.mapped(d, column, lambda v: labels.plain_lines(v, WRAP))


def _rows_px(names: list[str]) -> int:
    """The chart's height for one bar (or group of bars) a name: BASE_PX + a row each, as
    high as its name's lines (Plotly spaces the rows evenly: a three-line name between
    shorter ones takes some of their room)."""
    return BASE_PX + sum(BAR_PX + LINE_PX * n.count("<br>") for n in names)


def compliance_by_unit(df: pl.DataFrame, levels: list[str]) -> go.Figure:
    """Horizontal bars of every level in one chart: the y axis is grouped by level (Plotly's
    two-level "multicategory" axis, `levels` from the top, each group named by the level's
    code, its name in the hover), each level's units ranked by compliance (share of compliant
    schools), the best at the top of its group. The counts sit in the unit's label, so a
    unit at 0 % still reads '0/3'.

    Plotly places a second-level label where it FIRST appears on the whole axis, whatever its
    group: a unit in two levels with the same k/n in both was drawn, in the lower group, at
    its place in the upper one (the best unit of a level drawn below its units at 0 %). So
    each level's labels end in as many zero-width spaces as the level's place: the same
    text to read, a category of that level only. Two units of one name in a level are told
    apart by their codes.

    One chart with one axis, not a chart (or a subplot) per level: the browser's Plotly
    spends most of its time per chart and per axis. Tổng quan, the first page after a
    login, took 1.9 s in Chromium on the 2-core test machine with five charts, 1.2 s with
    none, ≈ 1.75 s with five subplots of one figure, ≈ 1.4 s with this one. Built with
    graph_objects (Plotly Express costs ≈ 35 ms a figure)."""
    parts = [
        df.filter(pl.col("level") == level)
        .sort("compliance", "unit_name", descending=[False, True])
        .with_columns(
            pl.lit(labels.plain(level)).alias("level_code"),
            pl.lit(labels.plain(labels.level(level))).alias("level_label"),
            pl.lit(ZERO_WIDTH * i).alias("_zw"),
        )
        for i, level in enumerate(reversed(levels))  # Plotly draws the first category at the bottom
    ]
    empty = df.clear().with_columns(
        level_code=pl.lit("", pl.String), level_label=pl.lit("", pl.String), _zw=pl.lit("")
    )
    d = pl.concat(parts) if parts else empty
    d = d.with_columns(
        (pl.col("compliance") * 100).alias("pct"),
        pl.format(
            "{} ({}/{})",
            _row_names("unit_name", "unit_code" if "unit_code" in d.columns else None, "level"),
            pl.col("compliant_schools"),
            pl.col("schools"),
        ).alias("_raw"),
    )
    d = d.with_columns(
        pl.concat_str(_axis_text(d, "_raw"), pl.col("_zw")).alias("axis"),
        labels.plain_expr("_raw").alias("label"),
    )
    pct = d["pct"].to_list()
    names = d["axis"].to_list()
    fig = go.Figure(
        go.Bar(
            x=pct,
            y=[d["level_code"].to_list(), names],
            orientation="h",
            marker={"color": pct, "colorscale": COMPLIANCE_SCALE, "cmin": 0, "cmax": 100},
            customdata=d.select("level_label", "label", "compliant_schools", "schools").rows(),
            hovertemplate="%{customdata[1]} · %{customdata[0]}<br>"
            "Tỷ lệ trường đạt: %{x:.1f} %<br>"
            "Trường đạt: %{customdata[2]} / %{customdata[3]}<extra></extra>",
        ),
        layout={
            # the subheader above says what the bars are: no axis titles, '%' on the ticks
            "xaxis": {"range": [0, 100], "ticksuffix": " %"},
            "yaxis": {"title": {"text": ""}},
        },
    )
    fig = _layout(fig, height=max(MIN_PX, _rows_px(names)))
    return fig.update_layout(margin_r=24)  # room for the last tick, '100 %'


def status_by_unit(df: pl.DataFrame) -> go.Figure:
    """Stacked bars: school × data type rows per unit in each status, the units in the
    query's order from the top. The order is the axis's own (categoryarray): Plotly orders a
    category axis by first appearance over the traces, one per status, so a unit with no
    row on time came after every unit with one."""
    d = df.with_columns(
        _row_names("unit_name", "unit_code").alias("_raw"),
        pl.col("status")
        .replace_strict(labels.STATUS, default=pl.col("status"))
        .alias("Trạng thái"),
    )
    d = d.with_columns(_axis_text(d, "_raw").alias("unit_name"))
    units = d.unique("unit_code", keep="first", maintain_order=True)["unit_name"].to_list()
    order = [s for s in STATUS_COLORS if s in set(d["Trạng thái"].to_list())]
    fig = px.bar(
        d,
        x="n",
        y="unit_name",
        color="Trạng thái",
        orientation="h",
        color_discrete_map=STATUS_COLORS,
        category_orders={"Trạng thái": order},
        labels={"n": "Số lượt (trường × loại dữ liệu)", "unit_name": "Đơn vị"},
        title="Tình trạng nộp theo đơn vị",
    )
    fig.update_layout(
        # "Đơn vị" beside the names was drawn over them on a phone; the title says it
        yaxis={"title": {"text": ""}, **_names_axis(units[::-1])},
        xaxis={
            "title": {"text": "Số lượt<br>(trường × loại dữ liệu)"},
            **_counts_axis(d.group_by("unit_code").agg(pl.col("n").sum())["n"].max()),
        },
        legend=LEGEND_BELOW,
    )
    # "Đúng hạn: 3", not Plotly Express's "Trạng thái=Đúng hạn<br>n=3<br>unit_name=…"
    fig.update_traces(hovertemplate="%{y}<br>%{fullData.name}: %{x:,d}<extra></extra>")
    return _layout(fig, height=max(240, _rows_px(units) + 60))


def ranked_bars(
    df: pl.DataFrame, x: str, y: str, title: str, x_label: str, code: str | None = None
) -> go.Figure:
    """The first 30 rows of `df` (ranked, the first at the top) as horizontal bars, named
    by `y` (and `code` where two rows share a name: one row each, not one bar drawn over
    another). The title names the rows: no y axis title."""
    d = df.head(30).reverse()
    d = d.with_columns(_row_names(y, code).alias("_raw"))
    d = d.with_columns(_axis_text(d, "_raw").alias("_axis"))
    names = d["_axis"].to_list()
    fig = go.Figure(
        go.Bar(
            x=d[x].to_list(),
            y=names,
            orientation="h",
            marker_color="#c62828",
            hovertemplate="%{y}: %{x:,d}<extra></extra>",
        ),
        layout={
            "title": {"text": title},
            "xaxis": {"title": {"text": x_label}, **_counts_axis(d[x].max())},
            "yaxis": _names_axis(names),
        },
    )
    return _layout(fig, height=max(220, _rows_px(names)))


TREND_SERIES = {
    "compliance": "Tỷ lệ trường đạt",
    "on_time_rate": "Nộp đúng hạn",
    "identity_verified": "Xác thực định danh",
    "completeness": "Đầy đủ thông tin",
    "validity": "Hồ sơ không lỗi",
}


def _names_axis(names: list[str]) -> dict:
    """An axis of names (units, schools, checks) in the given order, from the bottom. Its
    type is said: Plotly reads an axis of strings as numbers when most of them look like
    numbers ("2024", "#1", "1.000"), and then draws the bars at those numbers."""
    return {"type": "category", "categoryorder": "array", "categoryarray": names}


# Below this many, a count axis has a tick at every whole number: Plotly's own steps for a
# small range are halves (0, 0.5, 1 …), which ",d" printed as 0, 1, 1, 2, 2, 3, 3
SMALL_COUNTS = 8


def _counts_axis(top) -> dict:
    """An axis of counts from 0 whose largest value is `top` (None: no data): ticks at
    whole numbers only, printed with the thousands separator."""
    small = top is None or top < SMALL_COUNTS
    return {"rangemode": "tozero", "tickformat": ",d", **({"dtick": 1} if small else {})}


def _snapshot_axis(df: pl.DataFrame) -> pl.DataFrame:
    """One category per snapshot ('#3 · 15/10/2024'), in load order: a single snapshot or
    two on the same day still read well, unlike a date axis."""
    return df.with_columns(
        pl.format("#{} · {}", pl.col("snapshot_id"), pl.col("as_of").dt.strftime("%d/%m/%Y")).alias(
            "Bản chụp"
        )
    )


def trend_lines(df: pl.DataFrame) -> go.Figure:
    d = _snapshot_axis(df)
    long = d.unpivot(
        index=["Bản chụp"], on=list(TREND_SERIES), variable_name="m", value_name="v"
    ).with_columns(
        (pl.col("v") * 100).alias("Tỷ lệ (%)"),
        pl.col("m").replace_strict(TREND_SERIES).alias("Chỉ số"),
    )
    fig = px.line(
        long,
        x="Bản chụp",
        y="Tỷ lệ (%)",
        color="Chỉ số",
        markers=True,
        title="Tiến tới 100 %",
    )
    # the ticks name the snapshots: no "Bản chụp" under them; the legend below the chart,
    # not beside it (on a phone it took half the width)
    fig.update_xaxes(
        type="category",
        categoryorder="array",
        categoryarray=d["Bản chụp"].to_list(),
        title={"text": ""},
    )
    fig.update_yaxes(range=[0, 105])
    fig.update_layout(legend=LEGEND_BELOW)
    # the hover as the page's figures read: "Nộp đúng hạn: 93,1 %", not Plotly Express's
    # "Tỷ lệ (%)=93,10345"
    fig.update_traces(hovertemplate="%{x}<br>%{fullData.name}: %{y:.1f} %<extra></extra>")
    return _layout(fig, height=420)


def errors_line(df: pl.DataFrame) -> go.Figure:
    fig = px.line(
        _snapshot_axis(df),
        x="Bản chụp",
        y="errors",
        markers=True,
        labels={"errors": "Số lỗi"},
        title="Số lỗi qua các bản chụp",
    )
    fig.update_xaxes(type="category", title={"text": ""})
    fig.update_yaxes(_counts_axis(df["errors"].max()))
    fig.update_traces(hovertemplate="%{x}<br>Số lỗi: %{y:,d}<extra></extra>")
    return _layout(fig, height=300)


def metrics_by_level(df: pl.DataFrame) -> go.Figure:
    """Grouped bars of a school's ratios per level."""
    cols = {
        "completeness": "Đầy đủ",
        "validity": "Không lỗi",
        "identity_verified": "Xác thực",
        "on_time_rate": "Đúng hạn",
    }
    long = (
        df.select(["level", *cols])
        .with_columns(labels.plain_expr("level"))
        .unpivot(index="level", variable_name="m", value_name="v")
    )
    long = long.with_columns(
        (pl.col("v") * 100).alias("Tỷ lệ (%)"), pl.col("m").replace_strict(cols).alias("Chỉ số")
    )
    fig = px.bar(
        long,
        x="Chỉ số",
        y="Tỷ lệ (%)",
        color="level",
        barmode="group",
        labels={"level": "Cấp học"},
        range_y=[0, 105],
    )
    fig.update_xaxes(title={"text": ""})  # the ticks name the ratios
    fig.update_traces(hovertemplate="%{fullData.name} · %{x}: %{y:.1f} %<extra></extra>")
    return _layout(fig, height=300)


# ---- findings over time (Xu hướng) ----------------------------------------------------
NEW_COLOR, RESOLVED_COLOR, OPEN_COLOR = "#c62828", "#2e7d32", "#546e7a"
# open findings by age (dashboard.query.AGE_BUCKETS), newest to oldest: new in the snapshot
# blue, then amber to dark red as they age
AGE_COLORS = ("#64b5f6", "#ffb74d", "#ef6c00", "#b71c1c")


def _right_axis(title: str, top) -> dict:
    """A line's own axis on the right of a bar chart (counts, whole numbers from 0). Ticks
    at round numbers: Plotly's default for an overlaying axis is "sync", ticks at the left
    axis's gridlines, so unround numbers (36, 72, 109…); it draws no grid of its own."""
    return {
        "title": {"text": title},
        "overlaying": "y",
        "side": "right",
        "showgrid": False,
        "tickmode": "auto",
        **_counts_axis(top),
    }


def resolution_bars(df: pl.DataFrame) -> go.Figure:
    """Per snapshot: findings new since the previous snapshot and findings resolved (bars),
    and the findings open (a line on the right axis). A snapshot compared with none has no
    bars. Built with graph_objects (Plotly Express costs ≈ 35 ms a figure)."""
    d = _snapshot_axis(df)
    x = d["Bản chụp"].to_list()
    fig = go.Figure(
        [
            go.Bar(x=x, y=d["new"].to_list(), name="Mới phát sinh", marker_color=NEW_COLOR),
            go.Bar(
                x=x, y=d["resolved"].to_list(), name="Đã khắc phục", marker_color=RESOLVED_COLOR
            ),
            go.Scatter(
                x=x,
                y=d["open"].to_list(),
                name="Còn mở",
                mode="lines+markers",
                line={"color": OPEN_COLOR},
                yaxis="y2",
            ),
        ],
        layout={
            "title": {"text": "Mới phát sinh và đã khắc phục"},  # under "Tiến độ khắc phục lỗi"
            "barmode": "group",
            "xaxis": {"type": "category"},
            "yaxis": {
                "title": {"text": "Số phát hiện"},
                **_counts_axis(d.select(pl.max_horizontal("new", "resolved").max()).item()),
            },
            "yaxis2": _right_axis("Còn mở", d["open"].max()),
            "legend": LEGEND_BELOW,
        },
    )
    return _layout(fig, height=360)


def open_age_bars(df: pl.DataFrame, buckets) -> go.Figure:
    """Per snapshot: the open findings stacked by how long they have been open (`buckets`:
    (column, label, …) from dashboard.query.AGE_BUCKETS), and their median age in days (a
    line on the right axis)."""
    d = _snapshot_axis(df)
    x = d["Bản chụp"].to_list()
    traces: list = [
        go.Bar(x=x, y=d[col].to_list(), name=label, marker_color=color)
        for (col, label, *_), color in zip(buckets, AGE_COLORS, strict=True)
    ]
    traces.append(
        go.Scatter(
            x=x,
            y=d["median_age"].to_list(),
            name="Tuổi trung vị (ngày)",
            mode="lines+markers",
            line={"color": OPEN_COLOR},
            yaxis="y2",
        )
    )
    fig = go.Figure(
        traces,
        layout={
            "title": {"text": "Tuổi của các phát hiện còn mở"},
            "barmode": "stack",
            "xaxis": {"type": "category"},
            "yaxis": {
                "title": {"text": "Số phát hiện còn mở"},
                **_counts_axis(
                    d.select(pl.sum_horizontal(col for col, *_ in buckets).max()).item()
                ),
            },
            "yaxis2": _right_axis("Ngày", d["median_age"].max()),
            "legend": LEGEND_BELOW,
        },
    )
    return _layout(fig, height=360)


def unit_change_bars(df: pl.DataFrame) -> go.Figure:
    """Per managing unit: new and resolved findings against the previous snapshot
    (horizontal grouped bars, at most 30 units with any, the most new at the top)."""
    d = df.filter((pl.col("new") > 0) | (pl.col("resolved") > 0)).head(30).reverse()
    d = d.with_columns(_row_names("unit_name", "unit_code").alias("_raw"))
    y = d.select(_axis_text(d, "_raw"))["_raw"].to_list()
    fig = go.Figure(
        [
            go.Bar(
                x=d["new"].to_list(),
                y=y,
                orientation="h",
                name="Mới phát sinh",
                marker_color=NEW_COLOR,
            ),
            go.Bar(
                x=d["resolved"].to_list(),
                y=y,
                orientation="h",
                name="Đã khắc phục",
                marker_color=RESOLVED_COLOR,
            ),
        ],
        layout={
            "title": {"text": "Mới phát sinh và đã khắc phục<br>theo đơn vị"},
            "barmode": "group",
            "xaxis": {
                "title": {"text": "Số phát hiện"},
                **_counts_axis(d.select(pl.max_horizontal("new", "resolved").max()).item()),
            },
            "yaxis": {"title": {"text": ""}, **_names_axis(y)},
            "legend": LEGEND_BELOW,
        },
    )
    return _layout(fig, height=max(MIN_PX, _rows_px(y) + BAR_PX * d.height))
