"""The charts an AppTest run drew, as the browser gets them (dashboard.charts.show): each
Soát chart is a `soat_plot` component whose data carries the figure's JSON; a server
without static serving draws st.plotly_chart instead, read the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass

from streamlit.testing.v1 import AppTest


@dataclass
class Plot:
    key: str | None
    spec: dict  # the figure: {"data": [...], "layout": {...}}
    config: dict  # Plotly's config (mode bar, static)
    kind: str  # "soat_plot" or "plotly_chart"


def plots(at: AppTest) -> list[Plot]:
    out = []
    for el in at.get("bidi_component"):
        if el.proto.component_name.endswith("soat_plot"):
            data = json.loads(el.proto.json)
            key = el.proto.id.split("-", 2)[2] if el.proto.id.count("-") >= 2 else None
            out.append(Plot(key or None, json.loads(data["figure"]), data["config"], "soat_plot"))
    for el in at.get("plotly_chart"):
        out.append(
            Plot(el.key, json.loads(el.proto.spec), json.loads(el.proto.config), "plotly_chart")
        )
    return out


def figures(at: AppTest) -> dict[str, dict]:
    """The figures of the charts with a key, by key."""
    return {p.key: p.spec for p in plots(at) if p.key}
