"""Shared fixtures. Tests build tiny data in code (soat.testing)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

from soat import store

IN_CI = os.environ.get("CI", "").lower() == "true"

# Tests never write the developer's (or production's) app database: accounts and the audit
# log (`soat export` records every export). Fixtures that need their own override it.
_APP_DB_DIR = tempfile.mkdtemp(prefix="soat-test-appdb-")
atexit.register(shutil.rmtree, _APP_DB_DIR, True)
os.environ["SOAT_APP_DB"] = f"sqlite:///{_APP_DB_DIR}/app.sqlite"


def require(condition: bool, reason: str) -> None:
    """Skip locally when a real dependency is missing; in CI (CI=true) fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing dependency in CI: {reason}")
    pytest.skip(reason)


def reachable(url: str) -> bool:
    """Does a database server answer `SELECT 1` at this SQLAlchemy URL (3 s timeout)?"""
    try:
        import sqlalchemy as sa

        eng = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(sa.text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture
def con():
    c = store.connect(":memory:")
    yield c
    c.close()
