"""Fixtures for the dashboard tests: a DuckDB file built from tests/dashboard/province.py,
an app database with accounts (cheap bcrypt), clean Streamlit caches for every test."""

from __future__ import annotations

from pathlib import Path

import dash_province as province
import pytest
import streamlit as st
from dash_helpers import PASSWORD

from soat import accounts, appdb


def _clear() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
    from dashboard import db

    db.close()


@pytest.fixture(autouse=True)
def _clean_caches(monkeypatch):
    monkeypatch.setenv("SOAT_BCRYPT_ROUNDS", "4")
    _clear()
    yield
    _clear()
    appdb.reset_cache()


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    monkeypatch.setenv("SOAT_APP_DB", f"sqlite:///{tmp_path / 'app.sqlite'}")
    appdb.reset_cache()
    accounts.create_user("admin", PASSWORD, "province_admin")
    accounts.create_user("quan1", PASSWORD, "unit_officer", units=["79760"])
    accounts.create_user("quan2_th", PASSWORD, "unit_officer", units=["79761"], levels=["TH"])
    accounts.create_user("so", PASSWORD, "province_staff")
    accounts.create_user("truong_s2", PASSWORD, "school", school="S2")
    return tmp_path / "app.sqlite"


@pytest.fixture(scope="session")
def _built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("soatdb") / "soat.duckdb"
    province.build_file(str(path), snapshots=2)
    return path


@pytest.fixture
def duck(_built, tmp_path, monkeypatch) -> Path:
    """A copy of the two-snapshot province (tests may write to it)."""
    path = tmp_path / "soat.duckdb"
    path.write_bytes(_built.read_bytes())
    monkeypatch.setenv("SOAT_DB", str(path))
    return path


@pytest.fixture
def empty_duck(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "empty.duckdb"
    province.empty_file(str(path))
    monkeypatch.setenv("SOAT_DB", str(path))
    return path
