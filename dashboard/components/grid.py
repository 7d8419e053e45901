"""st.dataframe as every table of the dashboard shows its data."""

from __future__ import annotations

import streamlit as st

MISSING = "—"


def dataframe(data, **kwargs):
    """st.dataframe with a missing value shown as '—' (Streamlit shows 'None', English to
    the officers: days late of an on-time submission, the sheet of a CSV file …). Numbers
    stay numbers, so the columns still sort as numbers."""
    kwargs.setdefault("placeholder", MISSING)
    return st.dataframe(data, **kwargs)
