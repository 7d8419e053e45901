"""Small DuckDB helpers.

DuckDB 2.0: `fetchone()` leaves the result open, and the next `register()` on the
connection then fails with "unfinished result". Fetch through these helpers (they drain
the result) instead of calling `fetchone()`.
"""

from __future__ import annotations

from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> Any:
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0][0] if rows else None


def one(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> tuple | None:
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0] if rows else None


def dicts(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[dict]:
    cur = con.execute(sql, params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
