"""dashboard.charts: the figures' content (what the officer reads), not their look."""

from __future__ import annotations

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
    # level the worst first (at the bottom); 0 % still reads 0/3
    assert levels == ["THCS – Trung học cơ sở"] + ["TH – Tiểu học"] * 3
    assert units == ["Quận 1 (1/4)", "Quận 3 (0/3)", "Quận 1 (1/2)", "Quận 5 (3/3)"]
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
