"""Writing a snapshot's bookkeeping: the snapshots row and the unit hierarchy closure."""

from __future__ import annotations

import datetime as dt

import duckdb

UNIT_CLOSURE_SQL = """
INSERT INTO unit_closure
WITH RECURSIVE u AS (
    SELECT DISTINCT unit_code, parent_code FROM units
    WHERE snapshot_id = $snapshot_id AND unit_code IS NOT NULL
),
walk(unit_code, ancestor_code, depth) AS (
    SELECT unit_code, unit_code, 0 FROM u
    UNION ALL
    SELECT w.unit_code, u.parent_code, w.depth + 1
    FROM walk w JOIN u ON u.unit_code = w.ancestor_code
    WHERE u.parent_code IS NOT NULL AND u.parent_code <> u.unit_code AND w.depth < 10
)
SELECT DISTINCT $snapshot_id, unit_code, ancestor_code, depth FROM walk
"""


def next_snapshot_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(snapshot_id), 0) + 1 FROM snapshots").fetchall()[0][0]


def compute_unit_closure(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> None:
    """Every unit with itself and each unit above it (depth capped at 10: cycles end there).

    A school's unit that is missing from `units` still gets a row for itself, so scoping by
    that unit code finds its schools."""
    con.execute("DELETE FROM unit_closure WHERE snapshot_id = $s", {"s": snapshot_id})
    con.execute(UNIT_CLOSURE_SQL, {"snapshot_id": snapshot_id})
    con.execute(
        """INSERT INTO unit_closure
           SELECT DISTINCT $s, unit_code, unit_code, 0 FROM schools
           WHERE snapshot_id = $s AND unit_code IS NOT NULL
             AND unit_code NOT IN (SELECT unit_code FROM unit_closure WHERE snapshot_id = $s)""",
        {"s": snapshot_id},
    )


def default_as_of(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> dt.date:
    """The latest push in the submissions table, else today (interface.md)."""
    row = con.execute(
        "SELECT max(pushed_at) FROM submissions WHERE snapshot_id = $s", {"s": snapshot_id}
    ).fetchall()[0]
    return row[0].date() if row[0] else dt.date.today()


def default_school_year(con: duckdb.DuckDBPyConnection, snapshot_id: int, as_of: dt.date) -> str:
    """The most common school year among students, else classes, else from the as-of date
    (a school year starts in September)."""
    for table in ("students", "classes"):
        row = con.execute(
            f"""SELECT school_year FROM "{table}" WHERE snapshot_id = $s AND school_year IS NOT NULL
                GROUP BY school_year ORDER BY count(*) DESC, school_year DESC LIMIT 1""",
            {"s": snapshot_id},
        ).fetchall()
        if row:
            return row[0][0]
    start = as_of.year if as_of.month >= 8 else as_of.year - 1
    return f"{start}-{start + 1}"
