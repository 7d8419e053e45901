"""Fixtures for the outreach tests (letter, school sheets, e-mail digests): the app
database fixtures of tests/access (SQLite, and PostgreSQL in its own schema) and cheap bcrypt."""

from __future__ import annotations

import pytest

from tests.access.conftest import _fast_bcrypt, db, sqlite_db  # noqa: F401

from .fixtures import build_file


@pytest.fixture
def duck(tmp_path, sqlite_db):  # noqa: F811 - sqlite_db is the fixture imported above
    """The outreach test province (fixtures.build_file) in a one-file store; the e-mail
    tests add their accounts in their own `duck`."""
    path = tmp_path / "soat.duckdb"
    build_file(str(path))
    return path
