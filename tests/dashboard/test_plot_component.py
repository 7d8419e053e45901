"""The charts' component in Chromium (dashboard/components/plot.js), without a server: the
module and Plotly's basic bundle served to the page by Playwright, the way Streamlit
mounts the component (its default export, given the data and the element to draw in)."""

from __future__ import annotations

import os
from pathlib import Path

import plotly.graph_objects as go
import pytest

from benchmarks.page_timing import ARGS, CHROMIUM
from dashboard import charts
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://soat.test"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pg():
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    files = {
        "/plot.js": ROOT / "dashboard" / "components" / "plot.js",
        f"/app/static/{charts.PLOTLY_JS}": ROOT / "dashboard" / "static" / charts.PLOTLY_JS,
    }

    def serve(route):
        path = route.request.url.removeprefix(ORIGIN)
        if path == "/":
            route.fulfill(
                body="<!doctype html><html><body></body></html>", content_type="text/html"
            )
        elif path in files:
            route.fulfill(path=str(files[path]), content_type="text/javascript")
        else:
            route.fulfill(status=404, body="")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 800, "height": 900})
        page.route(f"{ORIGIN}/**", serve)
        page.goto(ORIGIN + "/")
        yield page
        browser.close()


MOUNT_JS = """
async ([id, data, vars]) => {
  const { default: mount } = await import('/plot.js');
  const el = document.createElement('div');
  el.id = id;
  for (const [k, v] of Object.entries(vars)) el.style.setProperty(k, v);
  document.body.appendChild(el);
  window.cleanups = window.cleanups || {};
  window.cleanups[id] = mount({ data, parentElement: el });
}
"""


def _mount(pg, id_: str, fig: go.Figure, src: str, css: dict | None = None) -> None:
    data = {"src": src, "figure": fig.to_json(), "config": charts.CONFIG}
    pg.evaluate(MOUNT_JS, [id_, data, css or {}])


def test_draws_with_the_pages_theme_and_keeps_the_datas_text(pg):
    """The template's colour placeholders become the page's theme colours; a value of the
    data that looks like one (a school named "#000001") is drawn as written; the mode bar
    is not there; a dark page gets a dark chart."""
    fig = go.Figure(
        go.Bar(x=["#000001", "Trường B"], y=[3, 1]), layout={"xaxis": {"type": "category"}}
    )
    assert fig.layout.template.layout.colorway[0] == "#000001"  # plotly's "streamlit" template
    _mount(
        pg,
        "light",
        fig,
        f"/app/static/{charts.PLOTLY_JS}",
        {
            "--st-chart-categorical-colors": "rgb(18, 52, 86),#654321",
            "--st-background-color": "#ffffff",
        },
    )
    pg.wait_for_selector("#light div.soat-plot svg.main-svg")
    got = pg.evaluate(
        """() => {
      const d = document.querySelector('#light div.soat-plot');
      return {
        color: d._fullData[0].marker.color,
        x: d._fullData[0].x,
        ticks: [...d.querySelectorAll('.xtick text')].map((t) => t.textContent),
        paper: d._fullLayout.paper_bgcolor,
        modebar: d.querySelectorAll('.modebar-btn').length,
      };
    }"""
    )
    assert got["color"] == "rgb(18, 52, 86)"  # a theme's colours in any CSS form
    assert got["x"] == ["#000001", "Trường B"] and "#000001" in got["ticks"]
    assert got["paper"] == "#ffffff" and got["modebar"] == 0
    _mount(
        pg,
        "dark",
        go.Figure(go.Bar(x=["a"], y=[1])),
        f"/app/static/{charts.PLOTLY_JS}",
        {"--st-background-color": "#0e1117", "--st-text-color": "#fafafa"},
    )
    pg.wait_for_selector("#dark div.soat-plot svg.main-svg")
    dark = pg.evaluate("() => document.querySelector('#dark div.soat-plot')._fullLayout")
    assert dark["paper_bgcolor"] == "#0e1117"
    assert dark["font"]["color"].lower() in ("#e6eaf1", "rgb(230, 234, 241)")
    # a theme's colour in another form (a custom theme's rgb()) is dark all the same; a
    # title is bold, as Streamlit's element drew it
    _mount(
        pg,
        "dark_rgb",
        go.Figure(go.Bar(x=["a"], y=[1]), layout={"title": {"text": "Tiêu đề"}}),
        f"/app/static/{charts.PLOTLY_JS}",
        {"--st-background-color": "rgb(14, 17, 23)"},
    )
    pg.wait_for_selector("#dark_rgb div.soat-plot svg.main-svg")
    got = pg.evaluate("() => document.querySelector('#dark_rgb div.soat-plot')._fullLayout")
    assert got["font"]["color"].lower() in ("#e6eaf1", "rgb(230, 234, 241)")
    assert got["title"]["font"]["weight"] in ("bold", 700)


def test_a_new_figure_redraws_in_place_and_the_cleanup_frees_it(pg):
    """A rerun with new data draws into the same element (Plotly.react); leaving the page
    purges the chart; an overtaken render's cleanup does nothing."""
    src = f"/app/static/{charts.PLOTLY_JS}"
    _mount(pg, "re", go.Figure(go.Bar(x=["a"], y=[1])), src)
    pg.wait_for_selector("#re div.soat-plot svg.main-svg")
    first_cleanup = pg.evaluate_handle("() => window.cleanups['re']")
    data = {"src": src, "figure": go.Figure(go.Bar(x=["b", "c"], y=[2, 3])).to_json(), "config": {}}
    pg.evaluate(
        """async (data) => {
      const { default: mount } = await import('/plot.js');
      window.cleanups.re2 = mount({ data, parentElement: document.getElementById('re') });
    }""",
        data,
    )
    pg.wait_for_function(
        "() => document.querySelector('#re div.soat-plot')._fullData?.[0]?.x?.length === 2"
    )
    assert pg.locator("#re div.soat-plot").count() == 1
    pg.evaluate("(f) => f()", first_cleanup)  # overtaken: the chart stays
    assert pg.evaluate("() => !!document.querySelector('#re div.soat-plot')._fullLayout")
    pg.evaluate("() => window.cleanups.re2()")
    assert pg.evaluate("() => !document.querySelector('#re div.soat-plot')._fullLayout")


def test_a_figure_plotly_cannot_draw_is_said_and_the_next_one_draws(pg):
    """Plotly throws on a chart 10 px high ("Something went wrong with axis scaling", the
    login page's first prefetch): the chart's place says so in Vietnamese, and the next
    run's figure draws there."""
    src = f"/app/static/{charts.PLOTLY_JS}"
    flat = {"height": 10, "margin": {"l": 0, "r": 0, "t": 0, "b": 0}}
    _mount(pg, "bad", go.Figure(layout=flat), src)
    problem = pg.locator("#bad .soat-plot-problem")
    problem.wait_for()
    assert problem.inner_text().startswith("Không vẽ được biểu đồ này")
    _mount_again = """async (data) => {
      const { default: mount } = await import('/plot.js');
      mount({ data, parentElement: document.getElementById('bad') });
    }"""
    good = {"src": src, "figure": go.Figure(go.Bar(x=["a"], y=[1])).to_json(), "config": {}}
    pg.evaluate(_mount_again, good)
    pg.wait_for_selector("#bad div.soat-plot svg.main-svg")
    assert problem.count() == 0


def test_a_bundle_that_cannot_load_is_said_in_vietnamese(pg):
    """The bundle missing (a proxy that does not pass /app/static/, say): the chart's place
    says so in Vietnamese, no English error, no stack."""
    pg.evaluate("() => { delete window.Plotly; delete window.__soatPlotlyLoading; }")
    _mount(pg, "missing", go.Figure(go.Bar(x=["a"], y=[1])), "/app/static/khong-co.js")
    problem = pg.locator("#missing .soat-plot-problem")
    problem.wait_for()
    text = problem.inner_text()
    assert text.startswith("Không vẽ được biểu đồ") and "tải lại trang" in text
