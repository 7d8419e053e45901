"""The `findings` export: the record-level error list a school needs to fix its data.

Columns: the findings shape of checks.md. Scope is applied in SQL (soat.scope.scope_sql);
personal values (citizen ID, birth date, address) are masked in `value` and in the
message, and the message parts a check derives from them are cut (soat.scope.MESSAGE_MASKS:
a retirement month, ID digits), for a scope that may not see them. Filters: unit (and every unit below it),
level (rows of that level and school-wide rows of schools that have it), check (an id,
or an entity such as `student` for all its checks) and period (findings of that period
and findings that belong to no period).
"""

from __future__ import annotations

import duckdb
import polars as pl

from loaders.contract import field_labels
from soat.scope import Scope, masked_message_sql, masked_value_sql, scope_sql
from soat.store import FINDING_COLUMNS
from soat.vocab import DATA_TYPES

COLUMNS = list(FINDING_COLUMNS)

HEADERS_VI = {
    "check_id": "Mã kiểm tra",
    "severity": "Mức độ",
    "entity": "Đối tượng",
    "record_key": "Mã bản ghi",
    "school_code": "Mã trường",
    "unit_code": "Mã đơn vị",
    "level": "Cấp học",
    "field": "Trường dữ liệu",
    "value": "Giá trị",
    "message": "Mô tả lỗi và cách sửa",
}

TITLE_VI = "Danh sách lỗi dữ liệu cần sửa"
PERCENT_COLUMNS: tuple[str, ...] = ()

SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
FIELD_LABELS = field_labels()
ENTITY_VI = {
    "student": "Học sinh",
    "staff": "Cán bộ",
    "class": "Lớp học",
    "school": "Trường",
    "report": "Báo cáo",
    "source": "Phần mềm QLNT",
    "submission": "Nộp dữ liệu",
}

# braces doubled: SQL is formatted once more with the scope predicate
_MASKED = masked_value_sql("f.field", "f.value").replace("{", "{{").replace("}", "}}")
_MASKED_MESSAGE = masked_message_sql("f").replace("{", "{{").replace("}", "}}")

SQL = f"""
SELECT f.check_id, f.severity, f.entity, f.record_key, f.school_code, f.unit_code, f.level,
       f.field,
       {_MASKED} AS value,
       {_MASKED_MESSAGE} AS message
FROM findings f
WHERE f.snapshot_id = $snapshot_id
  AND {{scope}}
  AND ($unit IS NULL OR f.unit_code IN (
        SELECT uc.unit_code FROM unit_closure uc
        WHERE uc.snapshot_id = $snapshot_id AND uc.ancestor_code = $unit))
  AND ($level IS NULL OR f.level = $level
       OR (f.level IS NULL AND EXISTS (
            SELECT 1 FROM schools ss WHERE ss.snapshot_id = $snapshot_id
              AND ss.school_code = f.school_code AND list_contains(ss.levels, $level))))
  AND ($check IS NULL OR f.check_id = $check OR f.check_id LIKE $check || '.%')
  AND ($period IS NULL OR f.period IS NULL OR f.period = $period)
ORDER BY f.unit_code, f.school_code, CASE f.severity WHEN 'error' THEN 0 ELSE 1 END,
         f.check_id, f.record_key, f.field
"""


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
        "unmasked": scope.unmasked,
        "snapshot_id": snapshot_id,
        "unit": unit,
        "level": level,
        "check": check,
        "period": period,
    }
    rows = con.execute(SQL.format(scope=scope_sql("f")), params).fetchall()
    return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String), orient="row")


def field_label(name: str | None) -> str:
    """A finding's field as officers read it: the column's Vietnamese header ("Địa chỉ
    thường trú"); submission and source checks name a data type ("Ngân sách") instead."""
    if name is None:
        return ""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    if name in DATA_TYPES:
        return DATA_TYPES[name][0]
    return name


def vietnamese(df: pl.DataFrame) -> pl.DataFrame:
    """Severity, entity and field as officers read them (for the xlsx export; the csv keeps
    the codes)."""
    fields = {f: field_label(f) for f in df.get_column("field").unique().to_list() if f}
    return df.with_columns(
        pl.col("severity").replace(SEVERITY_VI),
        pl.col("entity").replace(ENTITY_VI),
        pl.col("field").replace(fields),
    )
