"""Fixtures for the outreach tests (letter, school sheets, e-mail digests): the app
database fixtures of tests/access (SQLite, and PostgreSQL in its own schema) and cheap bcrypt."""

from __future__ import annotations

from tests.access.conftest import _fast_bcrypt, db, sqlite_db  # noqa: F401
