"""Fixtures for the dashboard tests: a snapshot store built from tests/dashboard/dash_province.py,
an app database with accounts (cheap bcrypt), clean Streamlit caches for every test."""

from __future__ import annotations

import shutil
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
    path = tmp_path_factory.mktemp("soatdb") / "store"
    province.build_store(str(path), snapshots=2)
    return path


@pytest.fixture
def duck(_built, tmp_path, monkeypatch) -> Path:
    """A copy of the two-snapshot province's store (tests may write to it)."""
    path = tmp_path / "store"
    shutil.copytree(_built, path)
    monkeypatch.setenv("SOAT_DB", str(path))
    return path


def snapshot_file(store: Path, snapshot_id: int) -> Path:
    """The file of one published snapshot (for tests that change it before any reader)."""
    from soat.snapshot_store import snapshot_file_name

    return store / snapshot_file_name(snapshot_id)


@pytest.fixture
def empty_duck(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "empty"
    province.empty_store(str(path))
    monkeypatch.setenv("SOAT_DB", str(path))
    return path


@pytest.fixture
def captured(monkeypatch):
    """The `data` given to every st.download_button, by key."""
    from tests.access.apptest_helpers import spy_download_buttons

    return spy_download_buttons(monkeypatch)
