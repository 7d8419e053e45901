"""Fixtures for the catalogue tests: run the whole catalogue on tiny data, read one check."""

from __future__ import annotations

import pytest

from soat.testing import findings, run


@pytest.fixture
def hits(con):
    """hits(tables, check_id, **run_kw) -> [(record_key, field, value), ...] of that check."""

    def _hits(tables: dict, check_id: str, **kw) -> list[tuple]:
        sid = run(con, tables, **kw)
        return [(f["record_key"], f["field"], f["value"]) for f in findings(con, sid, check_id)]

    return _hits


@pytest.fixture
def all_findings(con):
    def _all(tables: dict, **kw) -> list[dict]:
        sid = run(con, tables, **kw)
        return findings(con, sid)

    return _all
