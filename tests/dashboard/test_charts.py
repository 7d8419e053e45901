"""dashboard.charts: the figures' content (what the officer reads), not their look."""

from __future__ import annotations

import contextlib
import json

import polars as pl

from dashboard import charts


def test_compliance_by_unit_ranks_units_within_each_level():
    df = pl.DataFrame(
        {
            "level": ["TH", "TH", "TH", "THCS"],
            "unit_name": ["Quận 1", "Quận 3", "Quận 5", "Quận 1"],
            "compliance": [0.5, 0.0, 1.0, 0.25],
            "compliant_schools": [1, 0, 3, 1],
            "schools": [2, 3, 3, 4],
        }
    )
    fig = charts.compliance_by_unit(df, ["TH", "THCS"])
    (bar,) = fig.data  # one chart, one axis: the levels are groups of its y axis
    levels, units = (list(v) for v in bar.y)
    # Plotly draws the first category at the bottom: the first level on top, and within a
    # level the worst first (at the bottom); 0 % still reads 0/3. The groups are named by the
    # level's code (its name in the hover: a phone has no room for it beside the units); the
    # second level's labels end in a zero-width space (categories of that level only)
    assert levels == ["THCS"] + ["TH"] * 3
    zw = charts.ZERO_WIDTH
    assert units == ["Quận 1 (1/4)", f"Quận 3 (0/3){zw}", f"Quận 1 (1/2){zw}", f"Quận 5 (3/3){zw}"]
    assert [tuple(r)[:2] for r in bar.customdata] == [
        ("THCS – Trung học cơ sở", "Quận 1 (1/4)"),
        ("TH – Tiểu học", "Quận 3 (0/3)"),
        ("TH – Tiểu học", "Quận 1 (1/2)"),
        ("TH – Tiểu học", "Quận 5 (3/3)"),
    ]
    assert list(bar.x) == [25.0, 0.0, 50.0, 100.0]
    # the colour is the percentage on a fixed 0–100 scale (red to green), not per level
    assert list(bar.marker.color) == [25.0, 0.0, 50.0, 100.0]
    assert (bar.marker.cmin, bar.marker.cmax) == (0, 100)
    assert [tuple(r)[2:] for r in bar.customdata] == [(1, 4), (0, 3), (1, 2), (3, 3)]
    assert "Tỷ lệ trường đạt" in bar.hovertemplate
    assert fig.layout.xaxis.range == (0, 100)
    assert fig.layout.height == charts.BASE_PX + charts.BAR_PX * 4
    one = charts.compliance_by_unit(df.filter(pl.col("level") == "THCS"), ["THCS"])
    assert one.layout.height == charts.MIN_PX > charts.BASE_PX + charts.BAR_PX  # room for the axis


def test_compliance_by_unit_without_levels_is_an_empty_chart():
    df = pl.DataFrame(
        {"level": ["TH"], "unit_name": ["Quận 1"], "compliance": [0.5]},
    ).with_columns(compliant_schools=pl.lit(1), schools=pl.lit(2))
    (bar,) = charts.compliance_by_unit(df, []).data
    assert [list(v) for v in bar.y] == [[], []]


def _two_snapshots(**columns) -> pl.DataFrame:
    import datetime as dt

    return pl.DataFrame(
        {
            "snapshot_id": [1, 2],
            "as_of": [dt.date(2025, 6, 12), dt.date(2025, 6, 19)],
            **columns,
        }
    )


def test_resolution_bars_new_and_resolved_beside_the_open_count():
    df = _two_snapshots(new=[None, 26], resolved=[None, 13], open=[172, 185])
    fig = charts.resolution_bars(df)
    new, resolved, still_open = fig.data
    assert (new.name, resolved.name, still_open.name) == ("Mới phát sinh", "Đã khắc phục", "Còn mở")
    assert list(new.x) == ["#1 · 12/06/2025", "#2 · 19/06/2025"]
    assert list(new.y) == [None, 26] and list(resolved.y) == [None, 13]
    assert list(still_open.y) == [172, 185] and still_open.yaxis == "y2"
    # the open count's own axis ticks at round numbers (Plotly's default for an axis over
    # another, "sync", put them at the left axis's gridlines: 36, 72, 109 …)
    assert fig.layout.yaxis2.overlaying == "y" and fig.layout.yaxis2.tickmode == "auto"


def test_open_age_bars_stack_the_ages_with_the_median_age():
    from dashboard.query import AGE_BUCKETS

    df = _two_snapshots(
        age_new=[172, 26],
        age_month=[0, 159],
        age_quarter=[0, 0],
        age_older=[0, 0],
        median_age=[0, 7],
    )
    fig = charts.open_age_bars(df, AGE_BUCKETS)
    *bars, median = fig.data
    assert [b.name for b in bars] == [label for _, label, *_ in AGE_BUCKETS]
    assert fig.layout.barmode == "stack" and list(bars[1].y) == [0, 159]
    assert median.yaxis == "y2" and list(median.y) == [0, 7]
    assert fig.layout.yaxis2.tickmode == "auto"


def _plotly_rows(y) -> list[tuple]:
    """The rows of a multicategory axis from the bottom, as Plotly.js places them
    (setupMultiCategory): (group, label) pairs ordered by the first appearance of the group,
    then by the first appearance of the LABEL anywhere on the axis, whatever its group;
    a repeated pair is one row."""
    groups, names = list(y[0]), list(y[1])
    first_group = {g: i for i, g in reversed(list(enumerate(groups)))}
    first_name = {n: i for i, n in reversed(list(enumerate(names)))}
    pairs = list(dict.fromkeys(zip(groups, names, strict=True)))
    return sorted(pairs, key=lambda p: (first_group[p[0]], first_name[p[1]]))


def test_compliance_by_unit_ranks_each_level_whatever_labels_other_levels_have():
    """A unit in two levels with the same k/n in both has the same text in both: Plotly drew
    it, in the lower level, where it stood in the upper one — 'UBND phường Long Châu (1/1)',
    100 %, second to last of its level, below six units at 0 % (UI review D1)."""
    df = pl.DataFrame(
        {
            "level": ["TH"] * 4 + ["THCS"] * 3,
            "unit_code": ["1", "2", "3", "4", "1", "2", "5"],
            "unit_name": ["Long Châu", "Vũng Liêm", "Tân Hạnh", "Long Hồ"]
            + ["Long Châu", "Vũng Liêm", "Trà Ôn"],
            "compliance": [1.0, 0.0, 0.5, 0.0, 1.0, 0.0, 0.5],
            "compliant_schools": [1, 0, 1, 0, 1, 0, 1],
            "schools": [1, 1, 2, 3, 1, 1, 2],
        }
    )
    (bar,) = charts.compliance_by_unit(df, ["TH", "THCS"]).data
    rows = _plotly_rows(bar.y)
    assert len(rows) == len(bar.x)  # one row a bar: none drawn over another
    share = dict(zip(zip(*bar.y, strict=True), bar.x, strict=True))
    assert len(set(bar.y[0])) == 2
    for group in set(bar.y[0]):
        drawn = [share[r] for r in rows if r[0] == group]  # from the bottom
        assert len(drawn) in (3, 4) and drawn == sorted(drawn), group  # the best on top
    # the same text to read: only zero-width spaces tell the levels' labels apart
    assert [n.replace(charts.ZERO_WIDTH, "") for n in bar.y[1]] == [
        "Vũng Liêm (0/1)",  # THCS, drawn on top: from the bottom, its worst first
        "Trà Ôn (1/2)",
        "Long Châu (1/1)",
        "Vũng Liêm (0/1)",  # TH
        "Long Hồ (0/3)",
        "Tân Hạnh (1/2)",
        "Long Châu (1/1)",
    ]


def test_compliance_by_unit_tells_apart_two_units_of_one_name():
    df = pl.DataFrame(
        {
            "level": ["TH", "TH"],
            "unit_code": ["86001", "86002"],
            "unit_name": ["UBND xã An Bình", "UBND xã An Bình"],
            "compliance": [0.5, 0.5],
            "compliant_schools": [1, 1],
            "schools": [2, 2],
        }
    )
    (bar,) = charts.compliance_by_unit(df, ["TH"]).data
    assert len(_plotly_rows(bar.y)) == 2
    assert sorted(bar.customdata[i][1] for i in range(2)) == [
        "UBND xã An Bình (86001) (1/2)",
        "UBND xã An Bình (86002) (1/2)",
    ]


LONG = "Phòng GD&ĐT thành phố Vĩnh Long"  # 31 characters: one line took a phone's width


def test_status_by_unit_keeps_the_query_order_whatever_the_statuses():
    """Plotly orders a category axis by first appearance over the traces (one per status,
    'on time' first): a unit without a row on time came after every unit with one."""
    df = pl.DataFrame(
        {
            "unit_code": ["79760", "79761", "79761", "79762"],
            "unit_name": ["Quận 1", "Quận 2", "Quận 2", "Quận 2"],
            "status": ["missing", "on_time", "late", "on_time"],
            "n": [3, 5, 1, 2],
        }
    )
    fig = charts.status_by_unit(df)
    # from the top: the query's order; two units named alike are two rows, told by the code
    assert list(fig.layout.yaxis.categoryarray)[::-1] == [
        "Quận 1",
        "Quận 2 (79761)",
        "Quận 2 (79762)",
    ]
    drawn = {name for t in fig.data for name in t.y}
    assert drawn == set(fig.layout.yaxis.categoryarray)
    assert fig.layout.yaxis.categoryorder == "array"


def test_ranked_bars_draw_each_row_once_in_rank_order():
    df = pl.DataFrame(
        {
            "school_code": ["S1", "S2", "S3"],
            "school_name": ["Trường Tiểu học số 1", "Trường Tiểu học số 1", None],
            "errors": [9, 5, 2],
        }
    )
    fig = charts.ranked_bars(
        df, "errors", "school_name", "Số lỗi theo trường", "Số lỗi", "school_code"
    )
    (bar,) = fig.data
    # the first row at the top (Plotly's first category at the bottom); one row each
    assert list(bar.y) == [
        "S3",
        "Trường Tiểu<br>học số 1 (S2)",
        "Trường Tiểu<br>học số 1 (S1)",
    ]
    assert list(bar.x) == [2, 5, 9]
    assert list(fig.layout.yaxis.categoryarray) == list(bar.y)
    assert not fig.layout.yaxis.title.text  # the chart's title names the rows


def test_unit_change_bars_one_row_per_unit():
    df = pl.DataFrame(
        {
            "unit_code": ["1", "2", "3"],
            "unit_name": ["Quận 1", "Quận 1", "Quận 3"],
            "new": [5, 3, 0],
            "resolved": [1, 0, 0],
        }
    )
    fig = charts.unit_change_bars(df)
    new, resolved = fig.data
    assert list(new.y) == list(resolved.y) == ["Quận 1 (2)", "Quận 1 (1)"]  # Quận 3: no change
    assert list(fig.layout.yaxis.categoryarray) == list(new.y)


def _every_chart() -> dict:
    import datetime as dt

    from dashboard.query import AGE_BUCKETS

    snaps = {"snapshot_id": [1, 2], "as_of": [dt.date(2025, 6, 12), dt.date(2025, 6, 19)]}
    trend = pl.DataFrame(
        {
            **snaps,
            **{c: [0.5, 0.6] for c in charts.TREND_SERIES},
            "errors": [10, 8],
        }
    )
    rt = pl.DataFrame(
        {
            **snaps,
            "new": [None, 3],
            "resolved": [None, 2],
            "open": [10, 11],
            **{c: [1, 2] for c, *_ in AGE_BUCKETS},
            "median_age": [0, 7],
        }
    )
    units = pl.DataFrame(
        {
            "unit_code": ["1", "2"],
            "unit_name": [LONG, "Sở Giáo dục và Đào tạo Vĩnh Long"],
            "level": ["THCS", "THCS"],
            "compliance": [0.5, 1.0],
            "compliant_schools": [1, 2],
            "schools": [2, 2],
            "status": ["late", "on_time"],
            "n": [1, 2],
            "errors": [3, 1],
            "new": [2, 1],
            "resolved": [1, 0],
        }
    )
    metrics = pl.DataFrame(
        {
            "level": ["TH"],
            "completeness": [1.0],
            "validity": [0.9],
            "identity_verified": [0.8],
            "on_time_rate": [0.7],
        }
    )
    return {
        "compliance_by_unit": charts.compliance_by_unit(units, ["THCS"]),
        "status_by_unit": charts.status_by_unit(units),
        "ranked_bars": charts.ranked_bars(
            units, "errors", "unit_name", "Số lỗi theo đơn vị", "Số lỗi", "unit_code"
        ),
        "trend_lines": charts.trend_lines(trend),
        "errors_line": charts.errors_line(trend),
        "metrics_by_level": charts.metrics_by_level(metrics),
        "resolution_bars": charts.resolution_bars(rt),
        "open_age_bars": charts.open_age_bars(rt, AGE_BUCKETS),
        "unit_change_bars": charts.unit_change_bars(units),
    }


def _axes(fig) -> list:
    return [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]


def test_charts_fit_a_phone():
    """At 360 px (UI review D5): Plotly neither wraps a title nor a name, and cut them; the
    margins follow the names (automargin), names on a bar chart's axis take lines of WRAP
    characters, titles lines of TITLE_CHARS; axes are fixed (no mode bar to reset a zoom)."""
    import html
    import re

    for name, fig in _every_chart().items():
        title = fig.layout.title.text or ""
        assert all(len(line) <= charts.TITLE_CHARS for line in title.split("<br>")), name
        for ax in _axes(fig):
            assert ax.automargin is True and ax.fixedrange is True, (name, ax.plotly_name)
            axis_title = ax.title.text or ""
            assert all(len(line) <= charts.TITLE_CHARS for line in axis_title.split("<br>"))
        for trace in fig.data:
            ys = trace.y[1] if name == "compliance_by_unit" else trace.y
            if trace.orientation != "h":
                continue
            for y in ys:
                lines = html.unescape(y).replace(charts.ZERO_WIDTH, "").split("<br>")
                assert all(len(line) <= charts.WRAP for line in lines), (name, y)
        if fig.layout.legend.orientation is not None or len(fig.data) > 1:
            # a legend beside the chart took half a phone's width
            assert fig.layout.legend.orientation == "h", name
    (bar,) = _every_chart()["compliance_by_unit"].data
    assert list(bar.y[0]) == ["THCS", "THCS"]  # the level's code: its name is in the hover
    assert "Phòng GD&amp;ĐT thành<br>phố Vĩnh Long (1/2)" in bar.y[1]  # escaped, then broken
    assert not re.search(r"<br>\S*&(?!amp;)", "".join(bar.y[1]))


# every axis of counts: (chart, axis) -> whether _every_chart's counts on it are small
COUNT_AXES = {
    ("status_by_unit", "xaxis"): True,  # 1 and 2 rows
    ("ranked_bars", "xaxis"): True,  # 3 and 1 errors
    ("errors_line", "yaxis"): False,  # 10 and 8
    ("resolution_bars", "yaxis"): True,  # 3 new, 2 resolved
    ("resolution_bars", "yaxis2"): False,  # 10 and 11 open
    ("open_age_bars", "yaxis"): False,  # four buckets of 1, of 2: 8
    ("open_age_bars", "yaxis2"): True,  # 0 and 7 days
    ("unit_change_bars", "xaxis"): True,  # 2 and 1
}


def test_small_counts_are_ticked_at_whole_numbers_only():
    """A unit with 3 findings: Plotly's own ticks for 0–3 are halves, which the counts'
    format printed 0, 1, 1, 2, 2, 3, 3 (seen on Xu hướng). Small counts get a tick per
    whole number; larger ones keep Plotly's round steps (2, 5, 1 000 …), whole anyway."""
    import datetime as dt

    figs = _every_chart()
    for (name, axis), small in COUNT_AXES.items():
        ax = figs[name].layout[axis]
        assert ax.tickformat == ",d" and ax.rangemode == "tozero", (name, axis)
        assert ax.dtick == (1 if small else None), (name, axis)
    big = pl.DataFrame({"unit_code": ["1"], "unit_name": ["A"], "errors": [1200]})
    fig = charts.ranked_bars(big, "errors", "unit_name", "t", "Số lỗi", "unit_code")
    assert fig.layout.xaxis.dtick is None and fig.layout.xaxis.tickformat == ",d"
    fig = charts.errors_line(
        pl.DataFrame({"snapshot_id": [1], "as_of": [dt.date(2025, 6, 12)], "errors": [8]})
    )
    assert fig.layout.yaxis.dtick is None


def test_every_chart_goes_through_show_without_plotlys_mode_bar():
    """Plotly's mode bar speaks English ("Download plot as a PNG", "Zoom", "Autoscale" …;
    UI review D4.9): every page draws its charts with charts.show, which hides it and draws
    them with Plotly's basic bundle; st.plotly_chart is only its fallback."""
    from dash_helpers import dashboard_lines

    calls = dashboard_lines(r"plotly_chart\(|_component\(\)\(")
    assert [c.split(":")[0] for c in calls] == ["charts.py", "charts.py"], calls
    assert charts.CONFIG["displayModeBar"] is False and charts.CONFIG["displaylogo"] is False
    assert any(c.startswith("auth.py:") for c in dashboard_lines(r"charts\.prefetch\(\)"))


SHOW_APP = """
import plotly.graph_objects as go
from dashboard import charts

charts.show(go.Figure(go.Bar(x=["a"], y=[1])), key="k-1")
"""


def test_show_draws_with_the_basic_bundle_served_by_the_app():
    """The chart is the soat_plot component: the figure's JSON, the config without the mode
    bar, and the address of the bundle under the app's static files (the file is there,
    with its licence, and both ways of serving turn static serving on)."""
    import tomllib
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from soat.commands import serve
    from tests.plots import plots

    at = AppTest.from_string(SHOW_APP).run()
    assert not at.exception
    (el,) = at.get("bidi_component")
    data = json.loads(el.proto.json)
    assert data["src"] == f"/app/static/{charts.PLOTLY_JS}"
    (plot,) = plots(at)
    assert plot.kind == "soat_plot" and plot.key == "k-1" and plot.config == charts.CONFIG
    assert plot.spec["data"][0]["type"] == "bar"
    # the browser's side: a module of a few kB, sent with every chart
    assert "export default function" in el.proto.js_content
    assert len(el.proto.js_content) < 10_000
    root = Path(charts.__file__).resolve().parents[1]
    bundle = root / "dashboard" / "static" / charts.PLOTLY_JS
    assert bundle.stat().st_size < 1_500_000
    assert "plotly.js (basic - minified) v4.1.2" in bundle.read_text(encoding="utf-8")[:200]
    assert "MIT License" in (root / "dashboard" / "static" / "LICENSE-plotly.js.txt").read_text()
    cfg = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["enableStaticServing"] is True
    cmd = serve.command(8501)
    assert cmd[cmd.index("--server.enableStaticServing") + 1] == "true"


def test_show_under_a_base_url_path_and_without_static_serving():
    """Behind nginx at /soat/ the bundle's address follows server.baseUrlPath; a server run
    without static serving (streamlit run from elsewhere) draws Streamlit's own Plotly
    element, still without the mode bar, rather than a chart that cannot load."""
    from streamlit.testing.v1 import AppTest

    from tests.plots import plots

    at = AppTest.from_string(SHOW_APP)
    with patch_option("server.baseUrlPath", "/soat/"):
        at.run()
    (el,) = at.get("bidi_component")
    assert json.loads(el.proto.json)["src"] == f"/soat/app/static/{charts.PLOTLY_JS}"
    at = AppTest.from_string(SHOW_APP)
    with patch_option("server.enableStaticServing", False):
        at.run()
    assert not at.exception and not at.get("bidi_component")
    (plot,) = plots(at)
    assert plot.kind == "plotly_chart" and plot.config == charts.CONFIG


@contextlib.contextmanager
def patch_option(name: str, value):
    import streamlit as st

    old = st.get_option(name)
    st.config.set_option(name, value)
    try:
        yield
    finally:
        st.config.set_option(name, old)


def test_axes_of_names_are_categories_even_when_names_look_like_numbers():
    """Two units named "2024" and "#1": Plotly took an axis of mostly number-like strings
    for a number axis and drew the bars at 2024 and 1. Every axis of names says its type."""
    figs = _every_chart()
    for name, axis in [
        ("status_by_unit", "yaxis"),
        ("ranked_bars", "yaxis"),
        ("unit_change_bars", "yaxis"),
    ]:
        assert figs[name].layout[axis].type == "category", name
    units = pl.DataFrame({"unit_code": ["1", "2"], "unit_name": ["2024", "#1"], "errors": [3, 1]})
    fig = charts.ranked_bars(units, "errors", "unit_name", "t", "Số lỗi", "unit_code")
    assert fig.layout.yaxis.type == "category"
    assert list(fig.layout.yaxis.categoryarray) == list(fig.data[0].y)


def test_hovers_read_as_the_page_does():
    """Plotly Express's own hover is "Tỷ lệ (%)=93,10345" and "Trạng thái=Đúng hạn<br>
    n=3<br>unit_name=…": the lines say the series' name and a rounded figure instead."""
    figs = _every_chart()
    for t in figs["trend_lines"].data:
        assert t.hovertemplate == "%{x}<br>%{fullData.name}: %{y:.1f} %<extra></extra>"
    (line,) = figs["errors_line"].data
    assert line.hovertemplate == "%{x}<br>Số lỗi: %{y:,d}<extra></extra>"
    for t in figs["metrics_by_level"].data:
        assert t.hovertemplate == "%{fullData.name} · %{x}: %{y:.1f} %<extra></extra>"
    for t in figs["status_by_unit"].data:
        assert t.hovertemplate == "%{y}<br>%{fullData.name}: %{x:,d}<extra></extra>"
    for fig in figs.values():
        for t in fig.data:
            assert "=" not in (t.hovertemplate or "").replace("<extra></extra>", ""), fig
        assert fig.layout.hoverlabel.namelength == -1  # "Mới trong bản chụp này", not cut
