"""The `late` export: one row per school × level × (period, data type, target) a deadline
applies to, with its submission status (all statuses; filter with unit/level/period).

`frame()` returns the codes (status 'late', period 'dau_nam', data type 'students'), which
the CSV keeps; `vietnamese()` turns the status, period and data type into the Vietnamese
labels officers read (the xlsx export uses it: its rows are forwarded as they are), and
optionally renames the columns to `HEADERS_VI`.
"""

from __future__ import annotations

import duckdb
import polars as pl

from soat.scope import Scope, scope_sql
from soat.vocab import DATA_TYPES, MONTHLY_PERIOD_PREFIX, PERIODS

COLUMNS = [
    "school_code",
    "school_name",
    "unit_code",
    "unit_name",
    "level",
    "period",
    "data_type",
    "target",
    "due_date",
    "first_success_at",
    "status",
    "days_late",
]

HEADERS_VI = {
    "school_code": "Mã trường",
    "school_name": "Tên trường",
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "level": "Cấp học",
    "period": "Kỳ báo cáo",
    "data_type": "Loại dữ liệu",
    "target": "Đích",
    "due_date": "Hạn nộp",
    "first_success_at": "Nộp thành công lúc",
    "status": "Trạng thái",
    "days_late": "Số ngày trễ",
}

STATUS_VI = {
    "on_time": "Đúng hạn",
    "late": "Trễ hạn",
    "missing": "Chưa nộp",
    "pending": "Chưa đến hạn",
}

TITLE_VI = "Danh sách trường nộp dữ liệu trễ hạn, chưa nộp"

SQL = """
SELECT st.school_code,
       sch.school_name,
       st.unit_code,
       u.unit_name,
       st.level,
       st.period,
       st.data_type,
       st.target,
       st.due_date,
       st.first_success_at,
       st.status,
       st.days_late
FROM submission_status st
LEFT JOIN (SELECT school_code, any_value(school_name) AS school_name FROM schools
           WHERE snapshot_id = $snapshot_id GROUP BY school_code) sch
       ON sch.school_code = st.school_code
LEFT JOIN (SELECT unit_code, any_value(unit_name) AS unit_name FROM units
           WHERE snapshot_id = $snapshot_id GROUP BY unit_code) u
       ON u.unit_code = st.unit_code
WHERE st.snapshot_id = $snapshot_id
  AND {scope}
  AND ($unit IS NULL OR st.unit_code IN (
        SELECT uc.unit_code FROM unit_closure uc
        WHERE uc.snapshot_id = $snapshot_id AND uc.ancestor_code = $unit))
  AND ($level IS NULL OR st.level = $level)
  AND ($period IS NULL OR st.period = $period)
  AND ($all_statuses OR list_contains($statuses, st.status))
ORDER BY st.days_late DESC NULLS LAST,
         CASE st.status WHEN 'missing' THEN 0 WHEN 'late' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END,
         st.due_date, st.unit_code, st.school_code, st.level, st.period,
         list_position(['staff', 'students', 'classes', 'rooms', 'budget'], st.data_type),
         st.target DESC
"""

SCHEMA = {
    "school_code": pl.String,
    "school_name": pl.String,
    "unit_code": pl.String,
    "unit_name": pl.String,
    "level": pl.String,
    "period": pl.String,
    "data_type": pl.String,
    "target": pl.String,
    "due_date": pl.Date,
    "first_success_at": pl.Datetime("us"),
    "status": pl.String,
    "days_late": pl.Int64,
}


def frame(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    scope: Scope,
    unit: str | None = None,
    level: str | None = None,
    period: str | None = None,
    statuses: tuple[str, ...] | None = None,
    **_,
) -> pl.DataFrame:
    """The late list of a snapshot, most overdue first (days late, then missing before late
    before pending before on time), restricted to the scope and the filters. `unit` keeps
    that unit and every unit below it; `statuses` (e.g. ('missing', 'late'), for the
    reminder letter and the digests) keeps those rows only, in the same order."""
    sql = SQL.format(scope=scope_sql("st"))
    params = {
        **scope.params(),
        "snapshot_id": snapshot_id,
        "unit": unit,
        "level": level,
        "period": period,
        "all_statuses": statuses is None,
        "statuses": list(statuses or ()),
    }
    cur = con.execute(sql, params)
    rows = cur.fetchall()
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def period_label(code: str | None) -> str | None:
    """'dau_nam' -> 'Đầu năm', 'thang_09' -> 'Tháng 9'; unknown codes unchanged."""
    if code is None:
        return None
    if code in PERIODS:
        return PERIODS[code][0]
    if code.startswith(MONTHLY_PERIOD_PREFIX) and code[len(MONTHLY_PERIOD_PREFIX) :].isdigit():
        return f"Tháng {int(code[len(MONTHLY_PERIOD_PREFIX) :])}"
    return code


def vietnamese(df: pl.DataFrame, headers: bool = False) -> pl.DataFrame:
    """Vietnamese labels for status, period and data type (codes not in a vocabulary are kept);
    with headers=True also rename the columns to HEADERS_VI."""
    out = df
    if "status" in out.columns:
        out = out.with_columns(pl.col("status").replace(STATUS_VI))
    if "data_type" in out.columns:
        out = out.with_columns(
            pl.col("data_type").replace({k: v[0] for k, v in DATA_TYPES.items()})
        )
    if "period" in out.columns:
        periods = out.get_column("period").unique().to_list()
        out = out.with_columns(
            pl.col("period").replace({p: period_label(p) for p in periods if p is not None})
        )
    if headers:
        out = out.rename({c: HEADERS_VI[c] for c in out.columns if c in HEADERS_VI})
    return out
