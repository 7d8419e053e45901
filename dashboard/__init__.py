"""Soát dashboard (Streamlit): app.py routes, pages/ render, query.py answers."""
