"""st.dataframe as every table of the dashboard shows its data."""

from __future__ import annotations

import hashlib

import polars as pl
import streamlit as st

MISSING = "—"


def dataframe(data, **kwargs):
    """st.dataframe with a missing value shown as '—' (Streamlit shows 'None', English to
    the officers: days late of an on-time submission, the sheet of a CSV file …). Numbers
    stay numbers, so the columns still sort as numbers."""
    kwargs.setdefault("placeholder", MISSING)
    return st.dataframe(data, **kwargs)


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
