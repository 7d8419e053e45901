"""The `findings` export: the record-level error list a school needs to fix its data.

Columns: the findings shape of checks.md. Scope is applied in SQL (soat.scope.scope_sql);
personal values (citizen ID, birth date, address) are masked in `value` and in the
message, and the message parts a check derives from them are cut (soat.scope.MESSAGE_MASKS:
a retirement month, ID digits), for a scope that may not see them. Filters: unit (and every unit below it),
level (rows of that level and school-wide rows of schools that have it), check (an id,
or an entity such as `student` for all its checks) and period (findings of that period
and findings that belong to no period).

Over time (`soat export findings --change new|persisting|resolved [--from ID]`): the
columns gain `change` and `since`. Without `--from` they are what the runner recorded
against the previous checked snapshot (soat.history; `resolved` rows are the earlier
snapshot's, from findings_resolved); with `--from ID` the snapshot is compared with that
earlier snapshot when the export runs (the same identity and matching, soat.history.match_sql).
Scope and filters apply to the rows after matching (the matching never depends on who asks).
"""

from __future__ import annotations

import duckdb
import polars as pl

from loaders.contract import field_labels
from soat.history import match_sql
from soat.scope import Scope, masked_message_sql, masked_value_sql, scope_sql
from soat.store import FINDING_COLUMNS
from soat.vocab import DATA_TYPES

COLUMNS = list(FINDING_COLUMNS)
CHANGE_COLUMNS = [*COLUMNS, "change", "since"]
CHANGES = ("new", "persisting", "resolved")
CHANGE_VI = {"new": "Mới", "persisting": "Còn tồn tại", "resolved": "Đã khắc phục"}

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
    "change": "Thay đổi",
    "since": "Tồn tại từ ngày",
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
    "trend": "Biến động so với bản chụp trước",
}

# braces doubled: SQL is formatted once more with the scope predicate
_MASKED = masked_value_sql("f.field", "f.value").replace("{", "{{").replace("}", "}}")
_MASKED_MESSAGE = masked_message_sql("f").replace("{", "{{").replace("}", "}}")

_SELECT = f"""
SELECT f.check_id, f.severity, f.entity, f.record_key, f.school_code, f.unit_code, f.level,
       f.field,
       {_MASKED} AS value,
       {_MASKED_MESSAGE} AS message"""

_WHERE = """
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
         f.check_id, f.record_key, f.field{order}
"""

SQL = _SELECT + "\nFROM findings f" + _WHERE.format(order="")

_FIELDS = (
    "check_id, severity, entity, record_key, school_code, unit_code, level, field, value, "
    "message, period"
)

# change and since as the runner recorded them: the snapshot's findings and the previous
# snapshot's findings gone in it
_STORED = f"""(
    SELECT snapshot_id, {_FIELDS}, change, since FROM findings WHERE snapshot_id = $snapshot_id
    UNION ALL
    SELECT snapshot_id, {_FIELDS}, 'resolved', since FROM findings_resolved
    WHERE snapshot_id = $snapshot_id)"""

# against an earlier snapshot $from_id, matched when the export runs
_AGAINST = f"""(
    WITH cur AS (
        SELECT row_number() OVER () AS rid, {_FIELDS}, since
        FROM findings WHERE snapshot_id = $snapshot_id
    ), prev AS (
        SELECT row_number() OVER () AS rid, {_FIELDS}, since
        FROM findings WHERE snapshot_id = $from_id
    ), m AS ({match_sql("cur", "prev")})
    SELECT $snapshot_id AS snapshot_id, {_FIELDS},
           CASE WHEN m.prid IS NULL THEN 'new' ELSE 'persisting' END AS change, c.since
    FROM cur c LEFT JOIN m ON m.crid = c.rid
    UNION ALL
    SELECT $snapshot_id, {_FIELDS}, 'resolved', p.since
    FROM prev p WHERE p.rid NOT IN (SELECT prid FROM m) AND p.entity <> 'trend')"""

_CHANGE_ORDER = (
    ", list_position(['new', 'persisting', 'resolved'], f.change), f.level, f.period, f.value"
)


def change_sql(against: bool) -> str:
    """The export with `change` and `since`, keeping rows of $change (NULL: every row)."""
    rows = _AGAINST if against else _STORED
    where = _WHERE.format(order=_CHANGE_ORDER).replace(
        "ORDER BY", "  AND ($change IS NULL OR f.change = $change)\nORDER BY", 1
    )
    rows = rows.replace("{", "{{").replace("}", "}}")  # formatted with the scope after
    return _SELECT + ", f.change, f.since\nFROM " + rows + " f" + where


def frame(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    scope: Scope,
    unit: str | None = None,
    level: str | None = None,
    check: str | None = None,
    period: str | None = None,
    change: str | None = None,
    from_id: int | None = None,
    compare: bool = False,
    **_,
) -> pl.DataFrame:
    """The findings of a snapshot in the scope and filters. With `change` (new, persisting,
    resolved), `from_id` or `compare`, also their `change` and `since`: against `from_id`
    when given, else as recorded against the previous snapshot (the caller checks that
    there is one: soat.commands.export)."""
    params = {
        **scope.params(),
        "unmasked": scope.unmasked,
        "snapshot_id": snapshot_id,
        "unit": unit,
        "level": level,
        "check": check,
        "period": period,
    }
    if change is None and from_id is None and not compare:
        rows = con.execute(SQL.format(scope=scope_sql("f")), params).fetchall()
        return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String), orient="row")
    if change is not None and change not in CHANGES:
        raise ValueError(f"change must be one of {CHANGES}")
    params |= {"change": change, "from_id": from_id}
    from soat.engine import params_for

    sql = change_sql(from_id is not None).format(scope=scope_sql("f"))
    rows = con.execute(sql, params_for(sql, params)).fetchall()
    schema = {**dict.fromkeys(COLUMNS, pl.String), "change": pl.String, "since": pl.Date}
    return pl.DataFrame(rows, schema=schema, orient="row")


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
    out = df.with_columns(
        pl.col("severity").replace(SEVERITY_VI),
        pl.col("entity").replace(ENTITY_VI),
        pl.col("field").replace(fields),
    )
    if "change" in out.columns:
        out = out.with_columns(pl.col("change").replace(CHANGE_VI))
    return out
