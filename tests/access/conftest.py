"""Fixtures for access tests: an app database on SQLite (a temp file) and on PostgreSQL
(its own schema, dropped afterwards), cheap bcrypt, and the env the dashboard reads."""

from __future__ import annotations

import os
import uuid

import pytest

try:  # tests/conftest.py: a package if tests/__init__.py exists, else tests/ is on sys.path
    from tests.conftest import reachable, require
except ImportError:
    from conftest import reachable, require

from soat import appdb

PG_URL = os.environ.get("SOAT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch):
    monkeypatch.setenv("SOAT_BCRYPT_ROUNDS", "4")


_PG_OK: bool | None = None


def pg_ok() -> bool:
    global _PG_OK
    if _PG_OK is None:
        _PG_OK = reachable(PG_URL)
    return _PG_OK


@pytest.fixture
def sqlite_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    monkeypatch.setenv("SOAT_APP_DB", url)
    appdb.reset_cache()
    db = appdb.get_app_db()
    yield db
    appdb.reset_cache()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path, monkeypatch):
    """The app database on both backends; also the default ($SOAT_APP_DB) for the test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.sqlite'}"
        monkeypatch.setenv("SOAT_APP_DB", url)
        appdb.reset_cache()
        d = appdb.get_app_db()
        yield d
        appdb.reset_cache()
        return
    require(pg_ok(), f"PostgreSQL unreachable at {PG_URL}")
    schema = f"soat_test_{uuid.uuid4().hex[:12]}"
    d = appdb.AppDB(PG_URL, schema=schema)
    monkeypatch.setenv("SOAT_APP_DB", PG_URL)
    appdb.reset_cache()
    appdb._cache[PG_URL] = d  # the default for this test is the schema'd one
    try:
        yield d
    finally:
        d.drop()
        appdb._cache.pop(PG_URL, None)
        d.dispose()


@pytest.fixture
def captured_downloads(monkeypatch):
    """The `data` given to every st.download_button, by key (apptest_helpers.
    spy_download_buttons); a refused download answers at once."""
    from dashboard import downloads
    from tests.access.apptest_helpers import spy_download_buttons

    monkeypatch.setattr(downloads, "REFUSED_DELAY", 0)
    return spy_download_buttons(monkeypatch)
