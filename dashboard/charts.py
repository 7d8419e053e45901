"""Plotly figures of the dashboard (Vietnamese labels, percentages 0–100).

Plotly reads a subset of HTML in every text it draws; names from data (units, schools,
levels) go through labels.plain_expr / labels.plain first, so they show as written.

Plotly Express takes the polars frames as they are (through narwhals): no conversion to
pandas on a request path, where a conversion waits on polars' thread pool while holding
the GIL (docs/architecture.md, "Many sessions at once")."""

from __future__ import annotations

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
# compliance_by_unit: the chart's height is BASE_PX (axis, margins) + BAR_PX a unit, at least
# MIN_PX (one or two bars — a school account's own unit — left the x axis's ticks and title
# drawn over each other)
BASE_PX, BAR_PX, MIN_PX = 100, 26, 200


def _layout(fig: go.Figure, height: int | None = None) -> go.Figure:
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend_title_text="",
        separators=",.",
        **({"height": height} if height else {}),
    )
    return fig


def compliance_by_unit(df: pl.DataFrame, levels: list[str]) -> go.Figure:
    """Horizontal bars of every level in one chart: the y axis is grouped by level (Plotly's
    two-level "multicategory" axis, `levels` from the top), each level's units ranked by
    compliance (share of compliant schools), the best at the top of its group. The counts
    sit in the unit's label, so a unit at 0 % still reads '0/3'.

    One chart with one axis, not a chart (or a subplot) per level: the browser's Plotly
    spends most of its time per chart and per axis. Tổng quan, the first page after a
    login, took 1.9 s in Chromium on the 2-core test machine with five charts, 1.2 s with
    none, ≈ 1.75 s with five subplots of one figure, ≈ 1.4 s with this one. Built with
    graph_objects (Plotly Express costs ≈ 35 ms a figure)."""
    parts = [
        df.filter(pl.col("level") == level)
        .sort("compliance", "unit_name", descending=[False, True])
        .with_columns(
            labels.plain_expr("unit_name"),
            pl.lit(labels.plain(labels.level(level))).alias("level_label"),
        )
        for level in reversed(levels)  # Plotly draws the first category at the bottom
    ]
    d = pl.concat(parts) if parts else df.clear().with_columns(level_label=pl.lit("", pl.String))
    d = d.with_columns(
        (pl.col("compliance") * 100).alias("pct"),
        pl.format(
            "{} ({}/{})", pl.col("unit_name"), pl.col("compliant_schools"), pl.col("schools")
        ).alias("label"),
    )
    pct = d["pct"].to_list()
    fig = go.Figure(
        go.Bar(
            x=pct,
            y=[d["level_label"].to_list(), d["label"].to_list()],
            orientation="h",
            marker={"color": pct, "colorscale": COMPLIANCE_SCALE, "cmin": 0, "cmax": 100},
            customdata=d.select("level_label", "label", "compliant_schools", "schools").rows(),
            hovertemplate="%{customdata[1]} · %{customdata[0]}<br>"
            "Tỷ lệ trường đạt: %{x:.1f} %<br>"
            "Trường đạt: %{customdata[2]} / %{customdata[3]}<extra></extra>",
        ),
        layout={
            "xaxis": {"range": [0, 100], "title": {"text": "Tỷ lệ trường đạt (%)"}},
            "yaxis": {"title": {"text": ""}},
        },
    )
    return _layout(fig, height=max(MIN_PX, BASE_PX + BAR_PX * d.height))


def status_by_unit(df: pl.DataFrame) -> go.Figure:
    """Stacked bars: school × data type rows per unit in each status."""
    d = df.with_columns(
        labels.plain_expr("unit_name"),
        pl.col("status")
        .replace_strict(labels.STATUS, default=pl.col("status"))
        .alias("Trạng thái"),
    )
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
    return _layout(fig, height=max(240, 80 + 36 * d["unit_code"].n_unique()))


def ranked_bars(
    df: pl.DataFrame, x: str, y: str, title: str, x_label: str, y_label: str
) -> go.Figure:
    d = df.head(30).reverse().with_columns(labels.plain_expr(y))
    fig = px.bar(d, x=x, y=y, orientation="h", title=title, labels={x: x_label, y: y_label})
    fig.update_traces(marker_color="#c62828")
    return _layout(fig, height=max(220, 60 + 28 * d.height))


TREND_SERIES = {
    "compliance": "Tỷ lệ trường đạt",
    "on_time_rate": "Nộp đúng hạn",
    "identity_verified": "Xác thực định danh",
    "completeness": "Đầy đủ thông tin",
    "validity": "Hồ sơ không lỗi",
}


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
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[0, 105])
    return _layout(fig, height=380)


def errors_line(df: pl.DataFrame) -> go.Figure:
    fig = px.line(
        _snapshot_axis(df),
        x="Bản chụp",
        y="errors",
        markers=True,
        labels={"errors": "Số lỗi"},
        title="Số lỗi qua các bản chụp",
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(rangemode="tozero")
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
    return _layout(fig, height=300)


# ---- findings over time (Xu hướng) ----------------------------------------------------
NEW_COLOR, RESOLVED_COLOR, OPEN_COLOR = "#c62828", "#2e7d32", "#546e7a"
# open findings by age (dashboard.query.AGE_BUCKETS), newest to oldest: new in the snapshot
# blue, then amber to dark red as they age
AGE_COLORS = ("#64b5f6", "#ffb74d", "#ef6c00", "#b71c1c")


def _right_axis(title: str) -> dict:
    """A line's own axis on the right of a bar chart (counts, whole numbers from 0). Ticks
    at round numbers: Plotly's default for an overlaying axis is "sync", ticks at the left
    axis's gridlines, so unround numbers (36, 72, 109…); it draws no grid of its own."""
    return {
        "title": {"text": title},
        "overlaying": "y",
        "side": "right",
        "rangemode": "tozero",
        "showgrid": False,
        "tickmode": "auto",
        "tickformat": ",d",
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
            "title": {"text": "Tiến độ khắc phục: mới phát sinh và đã khắc phục"},
            "barmode": "group",
            "xaxis": {"type": "category"},
            "yaxis": {"title": {"text": "Số phát hiện"}, "rangemode": "tozero", "tickformat": ",d"},
            "yaxis2": _right_axis("Còn mở"),
            "legend": {"orientation": "h", "y": -0.2},
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
                "rangemode": "tozero",
                "tickformat": ",d",
            },
            "yaxis2": _right_axis("Ngày"),
            "legend": {"orientation": "h", "y": -0.2},
        },
    )
    return _layout(fig, height=360)


def unit_change_bars(df: pl.DataFrame) -> go.Figure:
    """Per managing unit: new and resolved findings against the previous snapshot
    (horizontal grouped bars, at most 30 units with any, the most new at the top)."""
    d = df.filter((pl.col("new") > 0) | (pl.col("resolved") > 0)).head(30).reverse()
    y = d.select(labels.plain_expr("unit_name"))["unit_name"].to_list()
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
            "title": {"text": "Mới phát sinh và đã khắc phục theo đơn vị"},
            "barmode": "group",
            "xaxis": {"title": {"text": "Số phát hiện"}, "rangemode": "tozero"},
            "yaxis": {"title": {"text": ""}},
            "legend": {"orientation": "h", "y": -0.15},
        },
    )
    return _layout(fig, height=max(MIN_PX, BASE_PX + 2 * BAR_PX * d.height))
