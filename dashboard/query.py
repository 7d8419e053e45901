"""The dashboard's query layer: pages render, these functions answer.

Each function takes (snapshot_id, scope, filters, …) and returns a polars frame from ONE
named-parameter SQL statement on the read-only connection (dashboard.db). Every
statement applies `soat.scope.scope_sql`, so no row outside the user's Scope can come
back whatever a page shows, and masks personal values (`masked_value_sql`) unless the
Scope is unmasked. Results are cached with `st.cache_data`, keyed by the SQL and all its
parameters (snapshot, scope, filters, page).

Filters (the sidebar): period, level, unit. The unit filter is hierarchy-aware (a district
includes every school of the units below it, through `unit_closure`); the level filter
follows docs/architecture.md (rows of level L, and school-wide rows of schools having L).
Record-level queries are paginated with LIMIT/OFFSET on a stable order; everything else
reads the small pre-aggregated tables (metrics_school_level, submission_status) or groups
findings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import streamlit as st

from dashboard import db
from soat.engine import params_for
from soat.scope import (
    HEADER_KEY_SQL,
    Scope,
    masked_load_message_sql,
    masked_reject_value_sql,
    masked_value_sql,
    personal_header_keys,
    scope_sql,
)
from soat.scope import masked_message_sql as scope_masked_message_sql

PAGE_SIZE = 100


@dataclass(frozen=True)
class Filters:
    period: str | None = None
    level: str | None = None
    unit: str | None = None
    new_only: bool = False  # findings new since the previous snapshot only (a page's toggle)

    def params(self) -> dict:
        return {
            "f_period": self.period,
            "f_level": self.level,
            "f_unit": self.unit,
            "f_new_only": self.new_only,
        }


def filter_sql(
    a: str,
    *,
    level_col: str | None = "level",
    period_col: str | None = None,
    period_nullable: bool = False,
    school_level_col: str | None = None,
    unit_col: str = "unit_code",
    school_col: str = "school_code",
) -> str:
    """SQL predicate for the sidebar filters over a table aliased `a` (parameters $f_*)."""
    parts = [
        f"($f_unit IS NULL OR {a}.{unit_col} IN (SELECT fc.unit_code FROM unit_closure fc "
        f"WHERE fc.snapshot_id = {a}.snapshot_id AND fc.ancestor_code = $f_unit))"
    ]
    if level_col is not None:
        parts.append(
            f"($f_level IS NULL OR {a}.{level_col} = $f_level OR ({a}.{level_col} IS NULL AND "
            f"EXISTS (SELECT 1 FROM schools fs WHERE fs.snapshot_id = {a}.snapshot_id "
            f"AND fs.school_code = {a}.{school_col} AND list_contains(fs.levels, $f_level))))"
        )
    if school_level_col is not None:  # a table with the school's list of levels
        parts.append(f"($f_level IS NULL OR list_contains({a}.{school_level_col}, $f_level))")
    if period_col is not None:
        null_ok = f"{a}.{period_col} IS NULL OR " if period_nullable else ""
        parts.append(f"($f_period IS NULL OR {null_ok}{a}.{period_col} = $f_period)")
    return "(" + " AND ".join(parts) + ")"


def masked_message_sql(a: str) -> str:
    """The finding's message as the scope may read it: a personal value masked like the
    value itself, parts derived from personal data cut (soat.scope.masked_message_sql)."""
    return scope_masked_message_sql(a)


class _NoDatabase(Exception):
    """Raised inside the cached function so that "no database yet" is never cached."""


@st.cache_data(show_spinner=False, max_entries=4000, ttl=3600)
def _run(version: str, sql: str, params: dict) -> pl.DataFrame:  # noqa: ARG001 - cache key
    with db.cursor() as cur:
        if cur is None:
            raise _NoDatabase
        return cur.sql(sql, params=params).pl()


def run(sql: str, params: dict) -> pl.DataFrame | None:
    """Execute one statement (only the parameters it uses are passed); None without a database."""
    try:
        return _run(db.version(), sql, params_for(sql, params))
    except _NoDatabase:
        return None


def _p(snapshot_id: int | None, scope: Scope, filters: Filters | None = None, **extra) -> dict:
    p = {**scope.params(), "unmasked": scope.unmasked, "snapshot_id": snapshot_id}
    p.update((filters or Filters()).params())
    p.update(extra)
    return p


def _frame(sql: str, params: dict, schema: dict | None = None) -> pl.DataFrame:
    out = run(sql, params)
    if out is None:
        return pl.DataFrame(schema=schema) if schema else pl.DataFrame()
    return out


# ---- snapshots and the sidebar ---------------------------------------------------------


def has_database() -> bool:
    return db.connection() is not None


def snapshots() -> pl.DataFrame:
    """Checked snapshots, newest first (no personal data; the same list for every user)."""
    return _frame(
        """SELECT snapshot_id, name, source, source_kind, school_year, as_of, loaded_at,
                  checked_at, rejected, load_seconds
           FROM snapshots WHERE checked_at IS NOT NULL ORDER BY snapshot_id DESC""",
        {},
        {"snapshot_id": pl.Int32, "name": pl.Utf8, "as_of": pl.Date},
    )


def units(snapshot_id: int, scope: Scope) -> pl.DataFrame:
    """Units the scope may filter on, with their depth, in hierarchy order (parents first)."""
    sql = """
    WITH RECURSIVE u AS (
        SELECT DISTINCT unit_code, unit_name, parent_code FROM units
        WHERE snapshot_id = $snapshot_id AND unit_code IS NOT NULL
    ), visible AS (
        SELECT DISTINCT c.unit_code FROM unit_closure c
        WHERE c.snapshot_id = $snapshot_id
          AND ($scope_all_units OR list_contains($scope_units, c.ancestor_code))
          AND ($scope_school IS NULL OR c.unit_code IN (SELECT s.unit_code FROM schools s
               WHERE s.snapshot_id = $snapshot_id AND s.school_code = $scope_school))
    ), path AS (
        SELECT c.unit_code, max(c.depth) AS depth,
               string_agg(c.ancestor_code, '/' ORDER BY c.depth DESC) AS sort_key
        FROM unit_closure c WHERE c.snapshot_id = $snapshot_id GROUP BY c.unit_code
    )
    SELECT v.unit_code, coalesce(any_value(u.unit_name), v.unit_code) AS unit_name,
           any_value(u.parent_code) AS parent_code, any_value(p.depth) AS depth,
           any_value(p.sort_key) AS sort_key
    FROM visible v LEFT JOIN u ON u.unit_code = v.unit_code
    LEFT JOIN path p ON p.unit_code = v.unit_code
    GROUP BY v.unit_code ORDER BY sort_key
    """
    return _frame(sql, _p(snapshot_id, scope))


def schools_in_scope(snapshot_id: int, scope: Scope) -> int:
    """How many schools of the snapshot the scope reaches (its units, levels, school)."""
    df = _frame(
        f"""SELECT count(*) AS n FROM schools s
            WHERE s.snapshot_id = $snapshot_id AND {scope_sql("s", level_col=None)}""",
        _p(snapshot_id, scope),
    )
    return int(df["n"][0]) if df.height else 0


def unknown_codes(snapshot_id: int, units: list[str], school: str | None) -> list[str]:
    """The unit codes and the school code of a new account that the snapshot does not know
    (the accounts page warns: a mistyped code leaves an account that sees nothing)."""
    out = _frame(
        """SELECT code FROM (
               SELECT u AS code, 0 AS pos FROM unnest(CAST($units AS VARCHAR[])) AS t(u)
               WHERE u NOT IN (SELECT unit_code FROM unit_closure
                               WHERE snapshot_id = $snapshot_id AND unit_code IS NOT NULL)
               UNION ALL
               SELECT $school, 1 WHERE $school IS NOT NULL
                 AND $school NOT IN (SELECT school_code FROM schools
                                     WHERE snapshot_id = $snapshot_id AND school_code IS NOT NULL))
           ORDER BY pos""",
        {"snapshot_id": snapshot_id, "units": list(units), "school": school},
        {"code": pl.Utf8},
    )
    return out["code"].to_list()


def periods(snapshot_id: int, scope: Scope) -> list[str]:
    sql = f"""SELECT DISTINCT t.period FROM submission_status t
              WHERE t.snapshot_id = $snapshot_id AND t.period IS NOT NULL AND {scope_sql("t")}
              ORDER BY 1"""
    df = _frame(sql, _p(snapshot_id, scope))
    return df["period"].to_list() if df.height else []


def levels(snapshot_id: int, scope: Scope) -> list[str]:
    sql = f"""SELECT DISTINCT lv AS level FROM (
                SELECT unnest(t.levels) AS lv, t.* FROM schools t
                WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t", level_col=None)}) x
              WHERE lv IS NOT NULL AND ($scope_all_levels OR list_contains($scope_levels, lv))"""
    from soat.vocab import LEVELS

    df = _frame(sql, _p(snapshot_id, scope))
    found = set(df["level"].to_list()) if df.height else set()
    return [lv for lv in LEVELS if lv in found] + sorted(found - set(LEVELS))


# ---- Tổng quan -------------------------------------------------------------------------


def headline(snapshot_id: int, scope: Scope, filters: Filters) -> dict:
    """Headline figures for the selection, as a dict.

    metrics_school_level counts staff (and the school profile) in every level row of a
    multi-level school, so people are summed per school first: students and classes over
    its level rows, staff and teachers once (the max of its rows). Errors and warnings are
    counted from findings (each finding once). Completeness and validity are the ratios of
    the summed level rows (the shared staff part weighs once per level, in both terms)."""
    sql = f"""
    WITH per_school AS (
        SELECT t.school_code, bool_and(t.compliant) AS compliant,
               sum(t.students) AS students, max(t.staff) AS staff, max(t.teachers) AS teachers,
               sum(t.classes) AS classes, sum(t.students_verified) AS students_verified,
               max(t.staff_verified) AS staff_verified,
               max(t.teachers_standard) AS teachers_standard,
               sum(t.required_filled) AS required_filled, sum(t.required_total) AS required_total,
               sum(t.valid_records) AS valid_records, sum(t.records) AS records
        FROM metrics_school_level t
        WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t")} AND {filter_sql("t")}
        GROUP BY t.school_code
    ), fnd AS (
        SELECT count(*) FILTER (WHERE f.severity = 'error') AS errors,
               count(*) FILTER (WHERE f.severity = 'warning') AS warnings
        FROM findings f WHERE {_findings_where()}
    ), sub AS (
        SELECT count(*) FILTER (WHERE t.status IN ('on_time', 'late', 'missing')) AS expected,
               count(*) FILTER (WHERE t.status = 'on_time') AS on_time,
               count(*) FILTER (WHERE t.status = 'late') AS late,
               count(*) FILTER (WHERE t.status = 'missing') AS missing,
               count(*) FILTER (WHERE t.status = 'pending') AS pending
        FROM submission_status t
        WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t")}
          AND {filter_sql("t", period_col="period")}
    )
    SELECT count(*) AS schools, count(*) FILTER (WHERE compliant) AS compliant_schools,
           coalesce(sum(students), 0) AS students, coalesce(sum(staff), 0) AS staff,
           coalesce(sum(teachers), 0) AS teachers, coalesce(sum(classes), 0) AS classes,
           (SELECT errors FROM fnd) AS errors, (SELECT warnings FROM fnd) AS warnings,
           coalesce(sum(required_filled) / nullif(sum(required_total), 0), 1.0) AS completeness,
           coalesce(sum(valid_records) / nullif(sum(records), 0), 1.0) AS validity,
           coalesce((sum(students_verified) + sum(staff_verified))
                    / nullif(sum(students) + sum(staff), 0), 1.0) AS identity_verified,
           coalesce(sum(teachers_standard) / nullif(sum(teachers), 0), 1.0)
               AS teachers_standard_rate,
           (SELECT expected FROM sub) AS expected, (SELECT on_time FROM sub) AS on_time,
           (SELECT late FROM sub) AS late, (SELECT missing FROM sub) AS missing,
           (SELECT pending FROM sub) AS pending
    FROM per_school
    """
    df = _frame(sql, _p(snapshot_id, scope, filters))
    row = df.row(0, named=True) if df.height else {}
    schools = row.get("schools") or 0
    row["compliance"] = (row.get("compliant_schools") or 0) / schools if schools else 1.0
    expected = row.get("expected") or 0
    row["on_time_rate"] = (row.get("on_time") or 0) / expected if expected else 1.0
    row["reporting_rate"] = (
        ((row.get("on_time") or 0) + (row.get("late") or 0)) / expected if expected else 1.0
    )
    return row


def unit_compliance(snapshot_id: int, scope: Scope, filters: Filters) -> pl.DataFrame:
    """Per managing unit × level: schools, compliant schools, compliance, errors."""
    sql = f"""
    WITH m AS (
        SELECT t.unit_code, t.level, t.school_code, bool_and(t.compliant) AS compliant,
               sum(t.errors) AS errors, sum(t.students) AS students
        FROM metrics_school_level t
        WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t")} AND {filter_sql("t")}
        GROUP BY ALL
    ), names AS (
        SELECT unit_code, any_value(unit_name) AS unit_name FROM units
        WHERE snapshot_id = $snapshot_id GROUP BY unit_code
    )
    SELECT m.unit_code, coalesce(any_value(n.unit_name), m.unit_code) AS unit_name, m.level,
           count(*) AS schools, count(*) FILTER (WHERE m.compliant) AS compliant_schools,
           count(*) FILTER (WHERE m.compliant) / count(*) AS compliance,
           sum(m.errors) AS errors, sum(m.students) AS students
    FROM m LEFT JOIN names n ON n.unit_code = m.unit_code
    GROUP BY m.unit_code, m.level
    ORDER BY m.level, compliance DESC, m.unit_code
    """
    return _frame(sql, _p(snapshot_id, scope, filters))


def upcoming_deadlines(snapshot_id: int, scope: Scope, filters: Filters) -> pl.DataFrame:
    """Deadlines after the snapshot's as-of date, with how many schools already pushed."""
    sql = f"""
    SELECT t.period, t.data_type, t.target, t.level, t.due_date,
           count(DISTINCT t.school_code) AS schools,
           count(DISTINCT t.school_code) FILTER (WHERE t.first_success_at IS NOT NULL) AS submitted,
           any_value(t.reference) AS reference
    FROM submission_status t, (SELECT as_of FROM snapshots WHERE snapshot_id = $snapshot_id) s
    WHERE t.snapshot_id = $snapshot_id AND t.due_date > s.as_of AND {scope_sql("t")}
      AND {filter_sql("t", period_col="period")}
    GROUP BY ALL ORDER BY t.due_date, t.period, t.level, t.data_type, t.target
    """
    return _frame(sql, _p(snapshot_id, scope, filters))


# ---- Tiến độ nộp -----------------------------------------------------------------------


def submission_rows(
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    statuses: tuple[str, ...] = ("late", "missing"),
) -> pl.DataFrame:
    """One row per school × period × data type × target with the given statuses."""
    sql = f"""
    WITH sch AS (
        SELECT school_code, any_value(school_name) AS school_name FROM schools
        WHERE snapshot_id = $snapshot_id GROUP BY school_code
    ), names AS (
        SELECT unit_code, any_value(unit_name) AS unit_name FROM units
        WHERE snapshot_id = $snapshot_id GROUP BY unit_code
    )
    SELECT t.school_code, sch.school_name, t.unit_code, n.unit_name, t.level, t.period,
           t.data_type, t.target, t.due_date, t.first_success_at, t.status, t.days_late,
           t.last_result, t.last_error, t.pushes
    FROM submission_status t
    LEFT JOIN sch ON sch.school_code = t.school_code
    LEFT JOIN names n ON n.unit_code = t.unit_code
    WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t")}
      AND {filter_sql("t", period_col="period")} AND list_contains($statuses, t.status)
    ORDER BY t.days_late DESC NULLS LAST, t.unit_code, t.school_code, t.period, t.data_type, t.target
    """
    return _frame(sql, _p(snapshot_id, scope, filters, statuses=list(statuses)))


def status_by_unit(snapshot_id: int, scope: Scope, filters: Filters) -> pl.DataFrame:
    """Per managing unit: count of school × data type rows in each status."""
    sql = f"""
    WITH names AS (
        SELECT unit_code, any_value(unit_name) AS unit_name FROM units
        WHERE snapshot_id = $snapshot_id GROUP BY unit_code
    )
    SELECT t.unit_code, coalesce(any_value(n.unit_name), t.unit_code) AS unit_name, t.status,
           count(*) AS n
    FROM submission_status t LEFT JOIN names n ON n.unit_code = t.unit_code
    WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t")}
      AND {filter_sql("t", period_col="period")}
    GROUP BY t.unit_code, t.status ORDER BY t.unit_code, t.status
    """
    return _frame(sql, _p(snapshot_id, scope, filters))


# ---- Sai lệch: drill-down ----------------------------------------------------------------


def _findings_where(a: str = "f") -> str:
    return (
        f"{a}.snapshot_id = $snapshot_id AND {scope_sql(a)} AND "
        f"{filter_sql(a, period_col='period', period_nullable=True)} AND "
        f"(NOT $f_new_only OR {a}.change = 'new')"
    )


# A school's records over its level rows in the selection: metrics_school_level counts
# the staff and the school profile (1) in every level row of a multi-level school.
_SCHOOL_RECORDS = "sum(t.records) - (count(*) - 1) * (max(t.staff) + 1)"


# Errors, warnings and distinct records with an error, over findings aliased `f`.
_FINDING_COUNTS = """count(*) FILTER (WHERE f.severity = 'error') AS errors,
    count(*) FILTER (WHERE f.severity = 'warning') AS warnings,
    count(*) FILTER (WHERE f.change = 'new') AS new_findings,
    count(DISTINCT f.school_code || '|' || f.entity || '|' || f.record_key)
        FILTER (WHERE f.severity = 'error') AS flagged_records"""


def drill_units(snapshot_id: int, scope: Scope, filters: Filters) -> pl.DataFrame:
    """Managing units ranked by error count: errors, warnings, records flagged, share of records."""
    sql = f"""
    WITH f AS (
        SELECT f.unit_code,
               {_FINDING_COUNTS},
               count(DISTINCT f.school_code) AS schools_flagged
        FROM findings f WHERE {_findings_where()} GROUP BY f.unit_code
    ), m AS (
        SELECT unit_code, count(*) AS schools, sum(records) AS records FROM (
            SELECT t.unit_code, t.school_code, {_SCHOOL_RECORDS} AS records
            FROM metrics_school_level t
            WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t")} AND {filter_sql("t")}
            GROUP BY t.unit_code, t.school_code)
        GROUP BY unit_code
    ), names AS (
        SELECT unit_code, any_value(unit_name) AS unit_name FROM units
        WHERE snapshot_id = $snapshot_id GROUP BY unit_code
    )
    SELECT coalesce(f.unit_code, m.unit_code) AS unit_code,
           coalesce(n.unit_name, f.unit_code, m.unit_code, '(không rõ đơn vị)') AS unit_name,
           coalesce(m.schools, 0) AS schools, coalesce(f.schools_flagged, 0) AS schools_flagged,
           coalesce(f.errors, 0) AS errors, coalesce(f.warnings, 0) AS warnings,
           coalesce(f.new_findings, 0) AS new_findings,
           coalesce(f.flagged_records, 0) AS flagged_records, coalesce(m.records, 0) AS records,
           CASE WHEN coalesce(m.records, 0) = 0 THEN NULL
                ELSE least(1.0, coalesce(f.flagged_records, 0) / m.records) END AS share
    FROM f FULL JOIN m ON m.unit_code IS NOT DISTINCT FROM f.unit_code
    LEFT JOIN names n ON n.unit_code = coalesce(f.unit_code, m.unit_code)
    ORDER BY errors DESC, warnings DESC, unit_code
    """
    return _frame(sql, _p(snapshot_id, scope, filters))


def drill_schools(
    snapshot_id: int, scope: Scope, filters: Filters, unit_code: str | None
) -> pl.DataFrame:
    """Schools of one managing unit (exactly, not below it) ranked by error count."""
    sql = f"""
    WITH f AS (
        SELECT f.school_code,
               {_FINDING_COUNTS}
        FROM findings f WHERE {_findings_where()} AND f.unit_code IS NOT DISTINCT FROM $d_unit
        GROUP BY f.school_code
    ), m AS (
        SELECT t.school_code, any_value(t.school_name) AS school_name,
               {_SCHOOL_RECORDS} AS records,
               string_agg(DISTINCT t.level, ', ') AS levels
        FROM metrics_school_level t
        WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t")} AND {filter_sql("t")}
          AND t.unit_code IS NOT DISTINCT FROM $d_unit
        GROUP BY t.school_code
    )
    SELECT coalesce(f.school_code, m.school_code) AS school_code,
           coalesce(m.school_name, f.school_code, m.school_code) AS school_name, m.levels,
           coalesce(f.errors, 0) AS errors, coalesce(f.warnings, 0) AS warnings,
           coalesce(f.new_findings, 0) AS new_findings,
           coalesce(f.flagged_records, 0) AS flagged_records, coalesce(m.records, 0) AS records,
           CASE WHEN coalesce(m.records, 0) = 0 THEN NULL
                ELSE least(1.0, coalesce(f.flagged_records, 0) / m.records) END AS share
    FROM f FULL JOIN m ON m.school_code IS NOT DISTINCT FROM f.school_code
    ORDER BY errors DESC, warnings DESC, school_code
    """
    return _frame(sql, _p(snapshot_id, scope, filters, d_unit=unit_code))


def drill_checks(
    snapshot_id: int, scope: Scope, filters: Filters, school_code: str | None
) -> pl.DataFrame:
    """Checks that flagged one school, ranked by findings: count, records, share of records."""
    sql = f"""
    WITH rec AS (
        SELECT {_SCHOOL_RECORDS} AS records FROM metrics_school_level t
        WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t")} AND {filter_sql("t")}
          AND t.school_code = $d_school
    )
    SELECT f.check_id, any_value(f.severity) AS severity, any_value(f.entity) AS entity,
           count(*) AS findings, count(*) FILTER (WHERE f.change = 'new') AS new_findings,
           count(DISTINCT f.record_key) AS records_flagged,
           any_value(rec.records) AS records,
           CASE WHEN coalesce(any_value(rec.records), 0) = 0 THEN NULL
                ELSE least(1.0, count(DISTINCT f.record_key) / any_value(rec.records)) END AS share,
           mode(f.field) AS field
    FROM findings f, rec
    WHERE {_findings_where()} AND f.school_code IS NOT DISTINCT FROM $d_school
    GROUP BY f.check_id
    ORDER BY (any_value(f.severity) = 'error') DESC, findings DESC, f.check_id
    """
    return _frame(sql, _p(snapshot_id, scope, filters, d_school=school_code))


def drill_path_in_scope(
    snapshot_id: int, scope: Scope, unit_code: str | None, school_code: str | None
) -> dict:
    """Whether a drill path of a link (Sai lệch's d_unit, d_school) names a unit, and a
    school of that unit, that the Scope sees in the snapshot (a school or a finding of it;
    None is the unknown unit / school of rows without a code): {"unit": bool, "school":
    bool}. Not the sidebar's filters: a unit without rows in the selection is still one."""

    def where(a: str, school: bool) -> str:
        w = f"{a}.snapshot_id = $snapshot_id AND {scope_sql(a)}"
        w += f" AND {a}.unit_code IS NOT DISTINCT FROM $d_unit"
        if school:
            w += f" AND {a}.school_code IS NOT DISTINCT FROM $d_school"
        return w

    def seen(school: bool) -> str:
        return (
            f"(EXISTS (SELECT 1 FROM metrics_school_level dm WHERE {where('dm', school)}) OR "
            f"EXISTS (SELECT 1 FROM findings df WHERE {where('df', school)}))"
        )

    sql = f"SELECT {seen(False)} AS unit, {seen(True)} AS school"
    df = _frame(sql, _p(snapshot_id, scope, d_unit=unit_code, d_school=school_code))
    if df.height == 0:
        return {"unit": False, "school": False}
    return {"unit": bool(df["unit"][0]), "school": bool(df["school"][0])}


def _record_where(check: bool) -> str:
    w = _findings_where() + " AND f.school_code IS NOT DISTINCT FROM $d_school"
    if check:
        w += " AND f.check_id = $d_check"
    return w


def drill_records(
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    school_code: str | None,
    check_id: str | None,
    page: int = 0,
    page_size: int = PAGE_SIZE,
) -> pl.DataFrame:
    """One page of findings of a school (and a check): record, field, value (masked), message."""
    sql = f"""
    SELECT f.check_id, f.severity, f.entity, f.record_key, f.level, f.field,
           {masked_value_sql("f.field", "f.value")} AS value, {masked_message_sql("f")} AS message,
           f.period, f.change, f.since
    FROM findings f WHERE {_record_where(check_id is not None)}
    ORDER BY f.check_id, f.record_key, f.field, f.level, f.value, f.period
    LIMIT $limit OFFSET $offset
    """
    return _frame(
        sql,
        _p(
            snapshot_id,
            scope,
            filters,
            d_school=school_code,
            d_check=check_id,
            limit=page_size,
            offset=max(0, page) * page_size,
        ),
    )


def count_records(
    snapshot_id: int, scope: Scope, filters: Filters, school_code: str | None, check_id: str | None
) -> int:
    sql = f"SELECT count(*) AS n FROM findings f WHERE {_record_where(check_id is not None)}"
    df = _frame(sql, _p(snapshot_id, scope, filters, d_school=school_code, d_check=check_id))
    return int(df["n"][0]) if df.height else 0


def checks_summary(snapshot_id: int, scope: Scope, filters: Filters) -> pl.DataFrame:
    """Across the selection: findings and schools per check (the province-level overview)."""
    sql = f"""
    SELECT f.check_id, any_value(f.severity) AS severity, count(*) AS findings,
           count(DISTINCT f.school_code) AS schools
    FROM findings f WHERE {_findings_where()}
    GROUP BY f.check_id ORDER BY findings DESC, f.check_id
    """
    return _frame(sql, _p(snapshot_id, scope, filters))


# ---- Trường ------------------------------------------------------------------------------


def school_list(snapshot_id: int, scope: Scope, filters: Filters) -> pl.DataFrame:
    sql = f"""
    SELECT t.school_code, any_value(t.school_name) AS school_name, any_value(t.unit_code) AS unit_code
    FROM schools t
    WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t", level_col=None)}
      AND {filter_sql("t", level_col=None, school_level_col="levels")}
    GROUP BY t.school_code ORDER BY t.school_code
    """
    return _frame(sql, _p(snapshot_id, scope, filters))


def school_profile(snapshot_id: int, scope: Scope, school_code: str) -> pl.DataFrame:
    sql = f"""
    SELECT t.school_code, t.school_name, t.unit_code, u.unit_name, array_to_string(t.levels, ', ') AS levels,
           t.ownership, t.software, t.principal, t.national_standard, t.accreditation, t.internet,
           array_to_string(t.previous_codes, ', ') AS previous_codes, t.status, t._source, t._row
    FROM schools t
    LEFT JOIN (SELECT unit_code, any_value(unit_name) AS unit_name FROM units
               WHERE snapshot_id = $snapshot_id GROUP BY unit_code) u ON u.unit_code = t.unit_code
    WHERE t.snapshot_id = $snapshot_id AND t.school_code = $d_school
      AND {scope_sql("t", level_col=None)}
    ORDER BY t._row
    """
    return _frame(sql, _p(snapshot_id, scope, d_school=school_code))


def school_metrics(snapshot_id: int, scope: Scope, school_code: str) -> pl.DataFrame:
    sql = f"""
    SELECT t.level, t.students, t.staff, t.teachers, t.classes, t.errors, t.warnings,
           t.completeness, t.validity, t.identity_verified, t.teachers_standard_rate,
           t.expected, t.on_time, t.late, t.missing, t.on_time_rate, t.reporting_rate, t.compliant
    FROM metrics_school_level t
    WHERE t.snapshot_id = $snapshot_id AND t.school_code = $d_school AND {scope_sql("t")}
    ORDER BY t.level
    """
    return _frame(sql, _p(snapshot_id, scope, d_school=school_code))


def school_submissions(
    snapshot_id: int, scope: Scope, filters: Filters, school_code: str
) -> pl.DataFrame:
    sql = f"""
    SELECT t.period, t.data_type, t.target, t.level, t.due_date, t.lock_date,
           t.first_success_at, t.last_push_at, t.last_result, t.last_error, t.pushes,
           t.status, t.days_late, t.rule, t.reference
    FROM submission_status t
    WHERE t.snapshot_id = $snapshot_id AND t.school_code = $d_school AND {scope_sql("t")}
      AND ($f_period IS NULL OR t.period = $f_period)
      AND ($f_level IS NULL OR t.level = $f_level)
    ORDER BY t.due_date, t.period, t.data_type, t.target
    """
    return _frame(sql, _p(snapshot_id, scope, filters, d_school=school_code))


def school_findings(
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    school_code: str,
    page: int = 0,
    page_size: int = PAGE_SIZE,
) -> pl.DataFrame:
    return drill_records(snapshot_id, scope, filters, school_code, None, page, page_size)


def count_school_findings(
    snapshot_id: int, scope: Scope, filters: Filters, school_code: str
) -> int:
    return count_records(snapshot_id, scope, filters, school_code, None)


# ---- Xu hướng ----------------------------------------------------------------------------


def trend(scope: Scope, filters: Filters) -> pl.DataFrame:
    """Headline metrics of the selection for every checked snapshot, oldest first."""
    sql = f"""
    WITH snaps AS (SELECT snapshot_id, name, as_of FROM snapshots WHERE checked_at IS NOT NULL),
    m AS (
        SELECT t.snapshot_id, t.school_code, bool_and(t.compliant) AS compliant,
               sum(t.required_filled) AS rf, sum(t.required_total) AS rt,
               sum(t.valid_records) AS vr, sum(t.records) AS r,
               sum(t.students_verified) + max(t.staff_verified) AS ver,
               sum(t.students) + max(t.staff) AS people
        FROM metrics_school_level t
        WHERE t.snapshot_id IN (SELECT snapshot_id FROM snaps) AND {scope_sql("t")}
          AND {filter_sql("t")}
        GROUP BY t.snapshot_id, t.school_code
    ), ms AS (
        SELECT snapshot_id, count(*) AS schools,
               count(*) FILTER (WHERE compliant) / count(*) AS compliance,
               coalesce(sum(rf) / nullif(sum(rt), 0), 1.0) AS completeness,
               coalesce(sum(vr) / nullif(sum(r), 0), 1.0) AS validity,
               coalesce(sum(ver) / nullif(sum(people), 0), 1.0) AS identity_verified
        FROM m GROUP BY snapshot_id
    ), fnd AS (
        SELECT f.snapshot_id, count(*) FILTER (WHERE f.severity = 'error') AS errors
        FROM findings f
        WHERE f.snapshot_id IN (SELECT snapshot_id FROM snaps) AND {scope_sql("f")}
          AND {filter_sql("f", period_col="period", period_nullable=True)}
        GROUP BY f.snapshot_id
    ), sub AS (
        SELECT t.snapshot_id,
               coalesce(count(*) FILTER (WHERE t.status = 'on_time')
                   / nullif(count(*) FILTER (WHERE t.status IN ('on_time', 'late', 'missing')), 0),
                   1.0) AS on_time_rate
        FROM submission_status t
        WHERE t.snapshot_id IN (SELECT snapshot_id FROM snaps) AND {scope_sql("t")}
          AND {filter_sql("t", period_col="period")}
        GROUP BY t.snapshot_id
    )
    SELECT s.snapshot_id, s.name, s.as_of, ms.schools, ms.compliance, ms.completeness,
           ms.validity, ms.identity_verified, sub.on_time_rate, coalesce(fnd.errors, 0) AS errors
    FROM snaps s LEFT JOIN ms USING (snapshot_id) LEFT JOIN sub USING (snapshot_id)
    LEFT JOIN fnd USING (snapshot_id)
    ORDER BY s.as_of, s.snapshot_id
    """
    return _frame(sql, _p(None, scope, filters))


# ---- Findings over time (Tổng quan, Xu hướng) ---------------------------------------------
# finding_changes: new / persisting / resolved / open findings per school x level x check x
# period x since (queries/derived/60_finding_changes.sql), the grain every scope and filter
# applies to, so sums are exact; the median age of the open findings is the median of
# age_days weighted by `open`.

AGE_BUCKETS = (  # (column, label, lowest age in days, highest)
    ("age_new", "Mới trong bản chụp này", 0, 0),
    ("age_month", "1–30 ngày", 1, 30),
    ("age_quarter", "31–90 ngày", 31, 90),
    ("age_older", "Trên 90 ngày", 91, None),
)


def _age_buckets_sql(t: str) -> str:
    parts = []
    for col, _, lo, hi in AGE_BUCKETS:
        cond = f"{t}.age_days >= {lo}" + (f" AND {t}.age_days <= {hi}" if hi is not None else "")
        parts.append(f"CAST(coalesce(sum({t}.open) FILTER (WHERE {cond}), 0) AS BIGINT) AS {col}")
    return ",\n           ".join(parts)


def _weighted_median_sql(rel: str, keys: str) -> str:
    """SELECT keys, median_age: the median of age_days weighted by n over `rel(keys, age_days,
    n)` (n > 0): the mean of the two middle values when the count is even."""
    return f"""
    SELECT {keys},
           (min(age_days) FILTER (WHERE cum >= (tot + 1) // 2)
            + min(age_days) FILTER (WHERE cum >= tot // 2 + 1)) / 2.0 AS median_age
    FROM (SELECT *, sum(n) OVER (PARTITION BY {keys} ORDER BY age_days
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum,
                 sum(n) OVER (PARTITION BY {keys}) AS tot
          FROM {rel} WHERE n > 0)
    GROUP BY {keys}"""


def _changes_where(t: str = "t") -> str:
    return f"{scope_sql(t)} AND {filter_sql(t, period_col='period', period_nullable=True)}"


def change_summary(snapshot_id: int, scope: Scope, filters: Filters) -> dict:
    """Against the previous snapshot, in the selection: previous_id and previous_as_of (None
    when the snapshot was compared with none), new, resolved, persisting, open findings and
    the median age in days of the open ones."""
    sql = f"""
    WITH b AS (
        SELECT previous_id, previous_as_of FROM history_baselines WHERE snapshot_id = $snapshot_id
    ), t AS (
        SELECT t.* FROM finding_changes t WHERE t.snapshot_id = $snapshot_id AND {_changes_where()}
    ), ages AS (
        SELECT 1 AS k, age_days, sum(open) AS n FROM t GROUP BY age_days
    ), med AS ({_weighted_median_sql("ages", "k")})
    SELECT (SELECT any_value(previous_id) FROM b) AS previous_id,
           (SELECT any_value(previous_as_of) FROM b) AS previous_as_of,
           CAST(sum(t.new) AS BIGINT) AS new, CAST(sum(t.resolved) AS BIGINT) AS resolved, CAST(sum(t.persisting) AS BIGINT) AS persisting,
           CAST(coalesce(sum(t.open), 0) AS BIGINT) AS open,
           (SELECT any_value(median_age) FROM med) AS median_age
    FROM t
    """
    df = _frame(sql, _p(snapshot_id, scope, filters))
    return df.row(0, named=True) if df.height else {}


def resolution_trend(scope: Scope, filters: Filters) -> pl.DataFrame:
    """Per checked snapshot, oldest first, in the selection: new, resolved, persisting and
    open findings (new/resolved/persisting NULL when the snapshot was compared with none),
    open findings by age bucket (AGE_BUCKETS) and their median age in days."""
    sql = f"""
    WITH snaps AS (SELECT snapshot_id, name, as_of FROM snapshots WHERE checked_at IS NOT NULL),
    t AS (
        SELECT t.* FROM finding_changes t
        WHERE t.snapshot_id IN (SELECT snapshot_id FROM snaps) AND {_changes_where()}
    ), agg AS (
        SELECT t.snapshot_id, CAST(sum(t.new) AS BIGINT) AS new, CAST(sum(t.resolved) AS BIGINT) AS resolved,
               CAST(sum(t.persisting) AS BIGINT) AS persisting, CAST(sum(t.open) AS BIGINT) AS open,
               {_age_buckets_sql("t")}
        FROM t GROUP BY t.snapshot_id
    ), ages AS (
        SELECT snapshot_id, age_days, sum(open) AS n FROM t GROUP BY snapshot_id, age_days
    ), med AS ({_weighted_median_sql("ages", "snapshot_id")}),
    compared AS (
        SELECT snapshot_id FROM history_baselines
        WHERE previous_id IS NOT NULL AND snapshot_id IN (SELECT snapshot_id FROM snaps)
    )
    SELECT s.snapshot_id, s.name, s.as_of,
           CASE WHEN c.snapshot_id IS NOT NULL THEN coalesce(a.new, 0) END AS new,
           CASE WHEN c.snapshot_id IS NOT NULL THEN coalesce(a.resolved, 0) END AS resolved,
           CASE WHEN c.snapshot_id IS NOT NULL THEN coalesce(a.persisting, 0) END AS persisting,
           coalesce(a.open, 0) AS open,
           {", ".join(f"coalesce(a.{c}, 0) AS {c}" for c, *_ in AGE_BUCKETS)},
           m.median_age
    FROM snaps s LEFT JOIN agg a USING (snapshot_id) LEFT JOIN med m USING (snapshot_id)
    LEFT JOIN compared c USING (snapshot_id)
    ORDER BY s.as_of, s.snapshot_id
    """
    return _frame(sql, _p(None, scope, filters))


def unit_changes(scope: Scope, filters: Filters) -> pl.DataFrame:
    """Per checked snapshot compared with a previous one × managing unit (the schools' own
    unit, as Sai lệch ranks them): new, resolved, persisting and open findings and the median
    age in days of the open ones; oldest snapshot first, then the units with most new
    findings first."""
    sql = f"""
    WITH snaps AS (
        SELECT s.snapshot_id, s.as_of FROM snapshots s
        JOIN history_baselines b ON b.snapshot_id = s.snapshot_id AND b.previous_id IS NOT NULL
        WHERE s.checked_at IS NOT NULL
    ), t AS (
        SELECT t.* FROM finding_changes t
        WHERE t.snapshot_id IN (SELECT snapshot_id FROM snaps) AND {_changes_where()}
    ), agg AS (
        SELECT t.snapshot_id, t.unit_code, CAST(sum(t.new) AS BIGINT) AS new,
               CAST(sum(t.resolved) AS BIGINT) AS resolved,
               CAST(sum(t.persisting) AS BIGINT) AS persisting,
               CAST(sum(t.open) AS BIGINT) AS open
        FROM t GROUP BY t.snapshot_id, t.unit_code
    ), ages AS (
        SELECT snapshot_id || '|' || coalesce(unit_code, '') AS k, age_days, sum(open) AS n
        FROM t GROUP BY snapshot_id, unit_code, age_days
    ), med AS ({_weighted_median_sql("ages", "k")}),
    names AS (
        SELECT snapshot_id, unit_code, any_value(unit_name) AS unit_name FROM units
        WHERE snapshot_id IN (SELECT snapshot_id FROM snaps) GROUP BY snapshot_id, unit_code
    )
    SELECT a.snapshot_id, s.as_of, a.unit_code,
           coalesce(n.unit_name, a.unit_code, '(không rõ đơn vị)') AS unit_name,
           coalesce(a.new, 0) AS new, coalesce(a.resolved, 0) AS resolved,
           coalesce(a.persisting, 0) AS persisting, a.open, m.median_age
    FROM agg a JOIN snaps s USING (snapshot_id)
    LEFT JOIN med m ON m.k = a.snapshot_id || '|' || coalesce(a.unit_code, '')
    LEFT JOIN names n ON n.snapshot_id = a.snapshot_id AND n.unit_code = a.unit_code
    ORDER BY s.as_of, a.snapshot_id, new DESC, resolved DESC, a.unit_code
    """
    return _frame(sql, _p(None, scope, filters))


# ---- Dữ liệu -----------------------------------------------------------------------------


# Province-wide figures (per-table row counts, rejected rows, load messages, check-run
# totals) have no reliable school: the SQL returns them only to a province-wide Scope
# ($scope_all_units and no school); None (no scope given) sees none of them.
_PROVINCE_WIDE = "$scope_all_units AND $scope_school IS NULL"
# Rows of the source (rejected rows, load messages) have no reliable level either: a
# scope limited to some levels, even province-wide, sees none of them.
_PROVINCE_WIDE_ROWS = "$scope_all_units AND $scope_all_levels AND $scope_school IS NULL"


def _scope_params(scope: Scope | None) -> dict:
    return (scope or Scope(units=(), school="\x00none", role="none")).params()


def snapshot_tables(snapshot_id: int, scope: Scope | None = None) -> pl.DataFrame:
    return _frame(
        f"""SELECT table_name, source, sheet, header_row, rows, rejected,
                  array_to_string(extra_columns, ', ') AS extra_columns
           FROM snapshot_tables WHERE snapshot_id = $snapshot_id AND {_PROVINCE_WIDE}
           ORDER BY table_name, source""",
        {"snapshot_id": snapshot_id, **_scope_params(scope)},
    )


def all_snapshots(scope: Scope | None = None) -> pl.DataFrame:
    """Every snapshot (checked or not); its source (a path or address on the server), total
    and rejected rows for a province-wide scope only."""
    return _frame(
        f"""SELECT s.snapshot_id, s.name, CASE WHEN {_PROVINCE_WIDE} THEN s.source END AS source,
                  s.source_kind, s.school_year, s.as_of,
                  s.loaded_at, s.load_seconds, s.checked_at,
                  CASE WHEN {_PROVINCE_WIDE} THEN s.rejected END AS rejected,
                  CASE WHEN {_PROVINCE_WIDE} THEN
                      (SELECT sum(rows) FROM snapshot_tables st
                       WHERE st.snapshot_id = s.snapshot_id) END AS total_rows
           FROM snapshots s ORDER BY s.snapshot_id DESC""",
        _scope_params(scope),
    )


def rejects(
    snapshot_id: int, scope: Scope, page: int = 0, page_size: int = PAGE_SIZE
) -> pl.DataFrame:
    """Rejected rows with file, sheet and row; the value masked for personal columns.

    Rejected rows have no reliable school or level, so only a scope of every unit and
    every level sees them."""
    sql = f"""
    SELECT r.table_name, r.source, r.sheet, r."row", r."column",
           {masked_reject_value_sql('r."column"', "r.value")} AS value, r.reason, r.row_dropped,
           list_contains($personal_keys, {HEADER_KEY_SQL.format(col='r."column"')}) AS personal
    FROM rejects r
    WHERE r.snapshot_id = $snapshot_id AND {_PROVINCE_WIDE_ROWS}
    ORDER BY r.table_name, r.source, r.sheet, r."row", r."column"
    LIMIT $limit OFFSET $offset
    """
    params = _p(snapshot_id, scope, limit=page_size, offset=max(0, page) * page_size)
    return _frame(sql, {**params, "personal_keys": list(personal_header_keys())})


def count_rejects(snapshot_id: int, scope: Scope) -> int:
    sql = f"""SELECT count(*) AS n FROM rejects r
              WHERE r.snapshot_id = $snapshot_id AND {_PROVINCE_WIDE_ROWS}"""
    df = _frame(sql, _p(snapshot_id, scope))
    return int(df["n"][0]) if df.height else 0


def load_messages(snapshot_id: int, scope: Scope) -> pl.DataFrame:
    """The load's warnings and notes, for a province-wide scope. A message about a personal
    column quotes examples of its values (a birth date in two orders, a code Excel cut
    short): for a masked scope every quoted text but the column's own name becomes '***'."""
    sql = f"""SELECT severity, source, sheet, "row", "column",
                     {masked_load_message_sql('"column"', "message")} AS message
              FROM load_messages
              WHERE snapshot_id = $snapshot_id AND {_PROVINCE_WIDE_ROWS}
              ORDER BY source, sheet, "row" LIMIT 1000"""
    return _frame(sql, {**_p(snapshot_id, scope), "personal_keys": list(personal_header_keys())})


def check_runs(snapshot_id: int, scope: Scope | None = None) -> pl.DataFrame:
    return _frame(
        f"""SELECT check_id, severity, status, findings, seconds, detail FROM check_runs
           WHERE snapshot_id = $snapshot_id AND {_PROVINCE_WIDE} ORDER BY check_id""",
        {"snapshot_id": snapshot_id, **_scope_params(scope)},
    )


def as_of(snapshot_id: int) -> dt.date | None:
    df = _frame(
        "SELECT as_of FROM snapshots WHERE snapshot_id = $snapshot_id", {"snapshot_id": snapshot_id}
    )
    return df["as_of"][0] if df.height else None


def changes(to_id: int, from_id: int | None, scope: Scope, filters: Filters) -> pl.DataFrame:
    """Submission-status changes between two snapshots (soat.changes), in the scope and filters."""
    key = {**scope.params(), "unmasked": scope.unmasked}  # the cache key (the Scope is not hashed)
    return _changes(db.version(), to_id, from_id, key, scope, filters)


@st.cache_data(show_spinner=False, max_entries=200, ttl=3600)
def _changes(
    version: str, to_id: int, from_id: int | None, scope_key: dict, _scope: Scope, filters: Filters
) -> pl.DataFrame:
    from soat import changes as ch

    with db.cursor() as cur:
        if cur is None:
            return pl.DataFrame(schema=ch.SCHEMA)
        df = ch.changes(cur, to_id, from_id, _scope)
        if filters.unit is not None:
            under = [
                r[0]
                for r in cur.execute(
                    "SELECT unit_code FROM unit_closure WHERE snapshot_id = $s AND ancestor_code = $u",
                    {"s": to_id, "u": filters.unit},
                ).fetchall()
            ]
            df = df.filter(pl.col("unit_code").is_in(under))
    if filters.level is not None:
        df = df.filter(pl.col("level") == filters.level)
    if filters.period is not None:
        df = df.filter(pl.col("period") == filters.period)
    return df
