"""A page-number box for the paginated lists (Trường's error list, Dữ liệu's rejected rows)."""

from __future__ import annotations

import streamlit as st


def page_number(label: str, pages: int, key: str) -> int:
    """The page the user asks for, 0-based; the box shows it 1-based.

    st.number_input with min_value/max_value answers a number past them with Streamlit's
    own English alert ("Number is outside the allowed range. Please enter a value between 1
    and 1."). This box has no bounds of its own: a number past the last page (or below 1)
    is set to the last (the first) when typed, and a Vietnamese note says so."""
    note = f"{key}__asked"

    def clamp() -> None:
        asked = st.session_state.get(key)
        page = min(max(1, int(asked or 1)), pages)
        if page != asked:
            st.session_state[key] = page
            st.session_state[note] = asked
        else:
            st.session_state.pop(note, None)

    current = st.session_state.get(key)
    if current is None:
        st.session_state[key] = 1
    elif not 1 <= current <= pages:  # fewer pages than before (another filter)
        st.session_state[key] = min(max(1, current), pages)
    value = st.number_input(label, step=1, format="%d", key=key, on_change=clamp)
    asked = st.session_state.pop(note, None)
    if asked is not None:
        st.caption(f"Không có trang {asked}: danh sách có {pages} trang, đang hiện trang {value}.")
    return int(value) - 1
