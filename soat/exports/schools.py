"""The `schools` export: one row per school × level with its counts, errors, completeness,
identity verification, timeliness and compliance (from metrics_school_level).

Filters: unit (and below), level, check (school × level rows having at least one finding
of that check, or of that entity's checks), period (errors and warnings then count the
findings of that period plus those without a period; on_time_rate and compliance use that
period's submission statuses only).
"""

from __future__ import annotations

import duckdb
import polars as pl

from soat.scope import Scope, scope_sql

COLUMNS = [
    "school_code",
    "school_name",
    "unit_code",
    "unit_name",
    "level",
    "students",
    "staff",
    "classes",
    "errors",
    "warnings",
    "completeness",
    "identity_verified",
    "on_time_rate",
    "compliant",
]

HEADERS_VI = {
    "school_code": "Mã trường",
    "school_name": "Tên trường",
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "level": "Cấp học",
    "students": "Số học sinh",
    "staff": "Số cán bộ",
    "classes": "Số lớp",
    "errors": "Số lỗi",
    "warnings": "Số cảnh báo",
    "completeness": "Tỉ lệ đầy đủ",
    "identity_verified": "Tỉ lệ xác thực định danh",
    "on_time_rate": "Tỉ lệ nộp đúng hạn",
    "compliant": "Đạt yêu cầu",
}

TITLE_VI = "Danh sách trường theo cấp học: lỗi, mức đầy đủ, đúng hạn"
PERCENT_COLUMNS = ("completeness", "identity_verified", "on_time_rate")

SQL = """
WITH fp AS (
    SELECT f.school_code, f.level,
           count(*) FILTER (WHERE f.severity = 'error') AS errors,
           count(*) FILTER (WHERE f.severity = 'warning') AS warnings
    FROM findings f
    WHERE f.snapshot_id = $snapshot_id AND $period IS NOT NULL
      AND (f.period IS NULL OR f.period = $period)
    GROUP BY f.school_code, f.level
), sp AS (
    SELECT school_code, level,
           count(*) FILTER (WHERE status <> 'pending') AS expected,
           count(*) FILTER (WHERE status = 'on_time') AS on_time,
           count(*) FILTER (WHERE status = 'missing') AS missing
    FROM submission_status
    WHERE snapshot_id = $snapshot_id AND $period IS NOT NULL AND period = $period
    GROUP BY school_code, level
), byp AS (
    SELECT m.school_code, m.level,
           coalesce(sum(fp.errors), 0) AS errors,
           coalesce(sum(fp.warnings), 0) AS warnings
    FROM metrics_school_level m
    JOIN fp ON fp.school_code = m.school_code AND (fp.level IS NULL OR fp.level = m.level)
    WHERE m.snapshot_id = $snapshot_id
    GROUP BY m.school_code, m.level
)
SELECT m.school_code, m.school_name, m.unit_code, u.unit_name, m.level,
       m.students, m.staff, m.classes,
       CASE WHEN $period IS NULL THEN m.errors ELSE coalesce(byp.errors, 0) END AS errors,
       CASE WHEN $period IS NULL THEN m.warnings ELSE coalesce(byp.warnings, 0) END AS warnings,
       m.completeness, m.identity_verified,
       CASE WHEN $period IS NULL THEN m.on_time_rate
            WHEN coalesce(sp.expected, 0) = 0 THEN 1.0
            ELSE CAST(sp.on_time AS DOUBLE) / sp.expected END AS on_time_rate,
       CASE WHEN $period IS NULL THEN m.compliant
            ELSE coalesce(byp.errors, 0) = 0 AND coalesce(sp.missing, 0) = 0 END AS compliant
FROM metrics_school_level m
LEFT JOIN (SELECT unit_code, any_value(unit_name) AS unit_name FROM units
           WHERE snapshot_id = $snapshot_id GROUP BY unit_code) u ON u.unit_code = m.unit_code
LEFT JOIN byp ON byp.school_code = m.school_code AND byp.level IS NOT DISTINCT FROM m.level
LEFT JOIN sp ON sp.school_code = m.school_code AND sp.level IS NOT DISTINCT FROM m.level
WHERE m.snapshot_id = $snapshot_id
  AND {scope}
  AND ($unit IS NULL OR m.unit_code IN (
        SELECT uc.unit_code FROM unit_closure uc
        WHERE uc.snapshot_id = $snapshot_id AND uc.ancestor_code = $unit))
  AND ($level IS NULL OR m.level = $level)
  AND ($check IS NULL OR EXISTS (
        SELECT 1 FROM findings f WHERE f.snapshot_id = $snapshot_id
          AND f.school_code = m.school_code AND (f.level IS NULL OR f.level = m.level)
          AND (f.check_id = $check OR f.check_id LIKE $check || '.%')))
ORDER BY m.unit_code, m.school_code, m.level
"""

SCHEMA = {
    "school_code": pl.String,
    "school_name": pl.String,
    "unit_code": pl.String,
    "unit_name": pl.String,
    "level": pl.String,
    "students": pl.Int64,
    "staff": pl.Int64,
    "classes": pl.Int64,
    "errors": pl.Int64,
    "warnings": pl.Int64,
    "completeness": pl.Float64,
    "identity_verified": pl.Float64,
    "on_time_rate": pl.Float64,
    "compliant": pl.Boolean,
}


def frame(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    scope: Scope,
    unit: str | None = None,
    level: str | None = None,
    check: str | None = None,
    period: str | None = None,
    **_,
) -> pl.DataFrame:
    params = {
        **scope.params(),
        "snapshot_id": snapshot_id,
        "unit": unit,
        "level": level,
        "check": check,
        "period": period,
    }
    rows = con.execute(SQL.format(scope=scope_sql("m")), params).fetchall()
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")
