"""dashboard.charts: the figures' content (what the officer reads), not their look."""

from __future__ import annotations

import polars as pl

from dashboard import charts


def test_compliance_by_unit_ranks_units_of_one_level():
    df = pl.DataFrame(
        {
            "level": ["TH", "TH", "TH", "THCS"],
            "unit_name": ["Quận 1", "Quận 3", "Quận 5", "Quận 1"],
            "compliance": [0.5, 0.0, 1.0, 0.25],
            "compliant_schools": [1, 0, 3, 1],
            "schools": [2, 3, 3, 4],
        }
    )
    fig = charts.compliance_by_unit(df, "TH")
    (bar,) = fig.data
    # worst first (Plotly draws the first bar at the bottom): 0 % still reads 0/3
    assert list(bar.y) == ["Quận 3 (0/3)", "Quận 1 (1/2)", "Quận 5 (3/3)"]
    assert list(bar.x) == [0.0, 50.0, 100.0]
    # the colour is the percentage on a fixed 0–100 scale (red to green), not per chart
    assert list(bar.marker.color) == [0.0, 50.0, 100.0]
    assert (bar.marker.cmin, bar.marker.cmax) == (0, 100)
    assert [tuple(r) for r in bar.customdata] == [(0, 3), (1, 2), (3, 3)]
    assert fig.layout.xaxis.range == (0, 100)
    assert fig.layout.title.text == "TH – Tiểu học"
    assert fig.layout.height == 110 + 30 * 3
