"""What changed in submission status between two snapshots (default: a snapshot and the one
checked before it), for the dashboard's trends page and `soat changes`.

One row per school × level × (period, data type, target) of the later snapshot whose status
moved (compared on the same school year), with a `change`:

    on_time         now on time, before not (submitted on time, or an extension moved the due date)
    submitted_late  now late, before missing: the overdue data finally arrived
    newly_late      now late, before pending/on time/absent: it arrived after the due date
    newly_missing   now missing, before not: the due date passed without a success
    still_missing   missing in both: still overdue (days_late grows)
    unchanged       anything else (left out unless include_unchanged=True)

Rows that only the earlier snapshot has (a school closed, a deadline removed) are left out.
"""

from __future__ import annotations

import duckdb
import polars as pl

from soat.scope import Scope, scope_sql

CHANGES = ("on_time", "submitted_late", "newly_late", "newly_missing", "still_missing", "unchanged")
CHANGE_VI = {
    "on_time": "Đã nộp đúng hạn",
    "submitted_late": "Đã nộp (trễ hạn)",
    "newly_late": "Mới nộp trễ hạn",
    "newly_missing": "Mới quá hạn, chưa nộp",
    "still_missing": "Vẫn chưa nộp",
    "unchanged": "Không đổi",
}

COLUMNS = [
    "school_code",
    "school_name",
    "unit_code",
    "level",
    "period",
    "data_type",
    "target",
    "due_date",
    "status_before",
    "status_after",
    "days_late_before",
    "days_late_after",
    "change",
]

SCHEMA = {
    "school_code": pl.String,
    "school_name": pl.String,
    "unit_code": pl.String,
    "level": pl.String,
    "period": pl.String,
    "data_type": pl.String,
    "target": pl.String,
    "due_date": pl.Date,
    "status_before": pl.String,
    "status_after": pl.String,
    "days_late_before": pl.Int64,
    "days_late_after": pl.Int64,
    "change": pl.String,
}

SQL = """
WITH a AS (
    SELECT * FROM submission_status WHERE snapshot_id = $from_id
),
b AS (
    SELECT st.* FROM submission_status st
    WHERE st.snapshot_id = $to_id AND {scope}
),
joined AS (
    SELECT b.school_code, b.unit_code, b.level, b.period, b.data_type, b.target, b.due_date,
           a.status AS status_before, b.status AS status_after,
           a.days_late AS days_late_before, b.days_late AS days_late_after,
           CASE
               WHEN b.status = 'on_time' AND a.status IS DISTINCT FROM 'on_time' THEN 'on_time'
               WHEN b.status = 'late' AND a.status = 'missing' THEN 'submitted_late'
               WHEN b.status = 'late' AND a.status IS DISTINCT FROM 'late' THEN 'newly_late'
               WHEN b.status = 'missing' AND a.status IS DISTINCT FROM 'missing' THEN 'newly_missing'
               WHEN b.status = 'missing' THEN 'still_missing'
               ELSE 'unchanged'
           END AS change
    FROM b
    LEFT JOIN a
           ON a.school_code = b.school_code AND a.level = b.level AND a.period = b.period
          AND a.data_type = b.data_type AND a.target = b.target
          AND a.school_year = b.school_year
)
SELECT j.school_code, sch.school_name, j.unit_code, j.level, j.period, j.data_type, j.target,
       j.due_date, j.status_before, j.status_after, j.days_late_before, j.days_late_after,
       j.change
FROM joined j
LEFT JOIN (SELECT school_code, any_value(school_name) AS school_name FROM schools
           WHERE snapshot_id = $to_id GROUP BY school_code) sch
       ON sch.school_code = j.school_code
WHERE $include_unchanged OR j.change <> 'unchanged'
ORDER BY list_position(['newly_missing', 'still_missing', 'newly_late', 'submitted_late',
                        'on_time', 'unchanged'], j.change),
         j.days_late_after DESC NULLS LAST, j.unit_code, j.school_code, j.level, j.period,
         list_position(['staff', 'students', 'classes', 'rooms', 'budget'], j.data_type),
         j.target DESC
"""


def checked_snapshots(con: duckdb.DuckDBPyConnection) -> list[int]:
    rows = con.execute(
        "SELECT snapshot_id FROM snapshots WHERE checked_at IS NOT NULL ORDER BY snapshot_id"
    ).fetchall()
    return [r[0] for r in rows]


def previous_snapshot(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> int | None:
    """The checked snapshot just before `snapshot_id` (by id, i.e. load order), if any."""
    earlier = [s for s in checked_snapshots(con) if s < snapshot_id]
    return earlier[-1] if earlier else None


def changes(
    con: duckdb.DuckDBPyConnection,
    to_id: int | None = None,
    from_id: int | None = None,
    scope: Scope | None = None,
    include_unchanged: bool = False,
) -> pl.DataFrame:
    """Status changes from snapshot `from_id` to `to_id` (default: the latest checked snapshot
    and the one checked before it; with no earlier snapshot every row compares to nothing)."""
    scope = scope or Scope.admin()
    if to_id is None:
        checked = checked_snapshots(con)
        to_id = checked[-1] if checked else None
    if to_id is None:
        return pl.DataFrame(schema=SCHEMA)
    if from_id is None:
        from_id = previous_snapshot(con, to_id)
    params = {
        **scope.params(),
        "to_id": to_id,
        "from_id": from_id if from_id is not None else -1,
        "include_unchanged": include_unchanged,
    }
    # read as Arrow: ~97 k changed rows at 2 M students in 0.08 s (tuples took 0.33 s)
    return con.sql(SQL.format(scope=scope_sql("st")), params=params).pl().cast(SCHEMA)


def summary(df: pl.DataFrame) -> dict[str, int]:
    """Count of rows per change, in CHANGES order (zeros included)."""
    counts = dict(df.group_by("change").len().iter_rows()) if df.height else {}
    return {c: int(counts.get(c, 0)) for c in CHANGES}
