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
