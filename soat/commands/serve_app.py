"""The dashboard server process (`soat serve` runs `python -m soat.commands.serve_app run
dashboard/app.py …`): warm what every first page needs, then hand over to Streamlit's own
command line in the same process.

Streamlit runs dashboard/app.py in this process for each browser session; the first
session used to pay for importing polars, Plotly and the dashboard's modules and for
Plotly's first figure (its validators and templates load lazily): about 1 s of the ~2 s
the first page took after a server start. Importing them here, before the server listens,
moves that cost to the start. The pages themselves are scripts and are not run here.
"""

from __future__ import annotations

import sys


def warm() -> None:
    import logging

    import streamlit.runtime.caching.cache_data_api  # noqa: F401 - creates its logger

    # dashboard modules decorate functions with st.cache_data; imported before the server
    # runs, Streamlit logs "No runtime found" for each (harmless: the caches are the same
    # process-wide memory caches the runtime uses)
    caching = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = caching.level
    caching.setLevel(logging.ERROR)
    try:
        _warm()
    finally:
        caching.setLevel(level)


def _warm() -> None:
    # Imported here, before any session thread exists: Streamlit and Plotly import pandas
    # and pyarrow lazily, and sessions starting together imported them in several threads
    # at once ("partially initialized module 'pandas' has no attribute 'Series'", seen
    # under the load test once the charts stopped converting to pandas themselves).
    import pandas  # noqa: F401
    import plotly.express as px
    import plotly.graph_objects as go
    import plotly.io as pio
    import polars as pl
    import pyarrow  # noqa: F401

    from dashboard import auth, charts, db, downloads, labels, query, state  # noqa: F401

    # small figures the way the charts make them (a polars frame into Plotly Express):
    # loads narwhals, the validators, the default template and the JSON encoder Plotly
    # builds lazily on first use (Streamlit serialises figures with plotly.io)
    frame = pl.DataFrame({"n": [1], "unit": ["a"], "status": ["b"]})
    pio.to_json(px.bar(frame, x="n", y="unit", color="status", orientation="h"))
    pio.to_json(px.line(frame, x="unit", y="n", color="status", markers=True))
    pio.to_json(go.Figure(go.Bar(x=["a"], y=[1])))


def no_pages_directory() -> None:
    """Tell Streamlit, before its first run, what dashboard/app.py's st.navigation call tells
    it on every run: dashboard/pages/ is not a "pages directory". Until some run had called
    st.navigation, Streamlit ran every session the old multipage way: the URL matched
    against the files of dashboard/pages/ (a link to /sai-lech opened an English "Page not
    found" dialog over the login form of the server's first session) and a page file run
    by itself, without app.py. st.navigation sets this same class attribute."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def main() -> None:
    try:
        warm()
    except Exception as exc:  # noqa: BLE001 - a failed warm-up must not stop the server
        print(f"(warm-up skipped: {type(exc).__name__}: {exc})", file=sys.stderr)
    try:
        no_pages_directory()
    except Exception as exc:  # noqa: BLE001 - a newer Streamlit: app.py still routes
        print(f"(pages directory left to Streamlit: {type(exc).__name__}: {exc})", file=sys.stderr)
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
