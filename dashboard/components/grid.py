"""st.dataframe as every table of the dashboard shows its data."""

from __future__ import annotations

import hashlib

import polars as pl
import streamlit as st

MISSING = "—"
EMPTY = "Không có dòng nào để hiện."


def dataframe(data, *, empty: str = EMPTY, **kwargs):
    """st.dataframe with a missing value shown as '—' (Streamlit shows 'None', English to
    the officers: days late of an on-time submission, the sheet of a CSV file …). Numbers
    stay numbers, so the columns still sort as numbers.

    A table without rows is not drawn (Streamlit's grid writes the English word "empty"
    across it): the caption `empty` (Markdown) says so instead, and None is returned (no
    selection)."""
    if _rows(data) == 0:
        st.caption(empty)
        return None
    kwargs.setdefault("placeholder", MISSING)
    return st.dataframe(data, **kwargs)


def _rows(data) -> int | None:
    """Rows of a polars or pandas frame (a Styler: its frame); None when unknown."""
    data = getattr(data, "data", data)  # pandas Styler
    height = getattr(data, "height", None)  # polars
    if height is not None:
        return height
    try:
        return len(data)
    except TypeError:
        return None


def rows_key(prefix: str, df: pl.DataFrame, columns: list[str]) -> str:
    """A selectable grid's widget key that names the rows it shows (`columns` identify a
    row): Streamlit keeps a grid's selection as row positions under its key, so a grid
    whose list changed under the same key (a search, a filter) showed the old positions
    selected, on other rows. With the rows in the key, a changed list is a new grid and
    starts with nothing selected."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(repr((df.height, columns)).encode())
    if df.height:
        digest.update(df.select(columns).hash_rows(seed=7).to_numpy().tobytes())
    return f"{prefix}_{digest.hexdigest()}"
