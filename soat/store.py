"""The DuckDB snapshot store: one file, many immutable snapshots.

Every data table of the contract is one DuckDB table holding all snapshots, keyed by
`snapshot_id`; a snapshot is written in one transaction (see loaders.load), so a load
that fails or is killed leaves earlier snapshots exactly as they were. Derived tables
(findings, check runs, metrics, submission status) are keyed the same way.

Columns of a data table: snapshot_id, _source (file or URL), _sheet, _row (row number in
the source, 1-based as a spreadsheet shows it), the contract's canonical columns, a
`<name>_raw` text companion for typed columns (date, timestamp, int, number, levels) that
keeps what the source held where it could not be read, and `_extra` (MAP of extra columns kept from the source).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from loaders.contract import RAW_KINDS, TABLES, stored_type

DEFAULT_DB = "data/store"  # a snapshot store directory (soat.snapshot_store)

SYSTEM_DDL = """
CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_id   INTEGER PRIMARY KEY,
    name          VARCHAR,
    source        VARCHAR,
    source_kind   VARCHAR,      -- folder | workbook | sql
    school_year   VARCHAR,
    as_of         DATE,
    loaded_at     TIMESTAMP,    -- naive UTC, as checked_at (soat.vntime: read as Vietnam's time)
    load_seconds  DOUBLE,
    row_counts    MAP(VARCHAR, BIGINT),
    rejected      BIGINT,
    checked_at    TIMESTAMP,    -- set when the catalogue has run; readers show checked snapshots
    source_digest VARCHAR       -- of the bytes loaded (loaders.digest): same source, same digest
);
CREATE TABLE IF NOT EXISTS snapshot_tables (
    snapshot_id   INTEGER,
    table_name    VARCHAR,
    source        VARCHAR,
    sheet         VARCHAR,
    header_row    INTEGER,
    rows          BIGINT,
    rejected      BIGINT,
    columns       VARCHAR[],    -- canonical columns found
    extra_columns VARCHAR[]     -- source headers kept in _extra
);
CREATE TABLE IF NOT EXISTS load_messages (
    snapshot_id   INTEGER,
    severity      VARCHAR,      -- info | warning
    source        VARCHAR,
    sheet         VARCHAR,
    "row"         BIGINT,
    "column"      VARCHAR,
    message       VARCHAR
);
CREATE TABLE IF NOT EXISTS rejects (
    snapshot_id   INTEGER,
    table_name    VARCHAR,
    source        VARCHAR,
    sheet         VARCHAR,
    "row"         BIGINT,
    "column"      VARCHAR,
    value         VARCHAR,
    reason        VARCHAR,
    row_dropped   BOOLEAN       -- true: the row could not be read; false: one value was unreadable and set empty
);
CREATE TABLE IF NOT EXISTS unit_closure (
    snapshot_id   INTEGER,
    unit_code     VARCHAR,
    ancestor_code VARCHAR,      -- the unit itself (depth 0) and every unit above it
    depth         INTEGER
);
CREATE TABLE IF NOT EXISTS findings (
    snapshot_id   INTEGER,
    check_id      VARCHAR,
    severity      VARCHAR,
    entity        VARCHAR,
    record_key    VARCHAR,
    school_code   VARCHAR,
    unit_code     VARCHAR,
    level         VARCHAR,      -- NULL: concerns the whole school (every level of it)
    field         VARCHAR,
    value         VARCHAR,
    message       VARCHAR,
    period        VARCHAR,      -- submission checks only; not part of the export shape
    change        VARCHAR,      -- against the previous checked snapshot: new | persisting
                                -- (NULL when there is none)
    since         DATE          -- as-of date of the first snapshot of the finding's unbroken run
);
CREATE TABLE IF NOT EXISTS check_runs (
    snapshot_id   INTEGER,
    check_id      VARCHAR,
    severity      VARCHAR,
    entity        VARCHAR,
    status        VARCHAR,      -- ran | not_run | failed
    findings      BIGINT,
    seconds       DOUBLE,
    detail        VARCHAR
);
"""

# Derived tables: written after the checks (queries/prelude, queries/derived), read by the
# dashboard and the exports. Ratios are fractions 0–1, defined (never NULL) when the
# denominator is 0: 1.0 for completeness/validity/verification/standard rates (nothing
# is wrong with nothing), and for timeliness when nothing was expected.
DERIVED_DDL = """
CREATE TABLE IF NOT EXISTS submission_status (
    snapshot_id      INTEGER,
    school_code      VARCHAR,
    unit_code        VARCHAR,
    level            VARCHAR,   -- the school level the deadline applies through
    school_year      VARCHAR,
    period           VARCHAR,
    data_type        VARCHAR,
    target           VARCHAR,   -- Sở | Bộ
    due_date         DATE,
    lock_date        DATE,
    reference        VARCHAR,   -- the letter the deadline cites
    rule             VARCHAR,   -- which deadline won: school | unit | level | province
    first_success_at TIMESTAMP,
    last_push_at     TIMESTAMP,
    last_result      VARCHAR,
    last_error       VARCHAR,
    pushes           INTEGER,
    pushes_after_lock INTEGER,
    status           VARCHAR,   -- on_time | late | missing | pending
    days_late        INTEGER    -- late: success date - due; missing: as_of - due; else NULL
);
CREATE TABLE IF NOT EXISTS metrics_school_level (
    snapshot_id      INTEGER,
    school_code      VARCHAR,
    school_name      VARCHAR,
    unit_code        VARCHAR,
    level            VARCHAR,
    students         BIGINT,
    staff            BIGINT,
    teachers         BIGINT,
    classes          BIGINT,
    errors           BIGINT,    -- error findings counted for this school × level
    warnings         BIGINT,
    required_filled  BIGINT,
    required_total   BIGINT,
    completeness     DOUBLE,
    completeness_schools  DOUBLE,
    completeness_classes  DOUBLE,
    completeness_students DOUBLE,
    completeness_staff    DOUBLE,
    records          BIGINT,
    valid_records    BIGINT,
    validity         DOUBLE,
    students_verified BIGINT,
    staff_verified   BIGINT,
    identity_verified DOUBLE,   -- (students_verified + staff_verified) / (students + staff)
    students_verified_rate DOUBLE,
    staff_verified_rate DOUBLE,
    teachers_standard BIGINT,
    teachers_standard_rate DOUBLE,
    expected         BIGINT,    -- school × period × data type × target a deadline applies to (due)
    submitted        BIGINT,
    on_time          BIGINT,
    late             BIGINT,
    missing          BIGINT,
    reporting_rate   DOUBLE,
    on_time_rate     DOUBLE,
    median_days_late DOUBLE,
    compliant        BOOLEAN    -- no error finding and no missing submission
);
CREATE TABLE IF NOT EXISTS metrics_rollup (
    snapshot_id      INTEGER,
    grain            VARCHAR,   -- province | unit | level | unit_level
    unit_code        VARCHAR,   -- unit grain: every school under the unit (hierarchy walked)
    level            VARCHAR,
    schools          BIGINT,
    compliant_schools BIGINT,
    compliance       DOUBLE,
    students BIGINT, staff BIGINT, teachers BIGINT, classes BIGINT,
    errors BIGINT, warnings BIGINT,
    completeness DOUBLE, validity DOUBLE, identity_verified DOUBLE,
    students_verified_rate DOUBLE, staff_verified_rate DOUBLE, teachers_standard_rate DOUBLE,
    expected BIGINT, submitted BIGINT, on_time BIGINT, late BIGINT, missing BIGINT,
    reporting_rate DOUBLE, on_time_rate DOUBLE, median_days_late DOUBLE
);
-- Findings over time (soat/history.py, queries/derived/60_finding_changes.sql). Which
-- earlier snapshots a snapshot was compared with when it was checked:
CREATE TABLE IF NOT EXISTS history_baselines (
    snapshot_id      INTEGER,
    previous_id      INTEGER,   -- the previous checked snapshot (change, since); NULL: none
    previous_as_of   DATE,
    trend_id         INTEGER,   -- the trend.* checks' baseline; NULL: none (not run)
    trend_as_of      DATE,
    trend_same_year  BOOLEAN
);
-- The findings of the previous snapshot that are gone in this one ("resolved"): the earlier
-- snapshot's rows, copied (they stay readable when the earlier snapshot is deleted).
CREATE TABLE IF NOT EXISTS findings_resolved (
    snapshot_id      INTEGER,   -- the snapshot in which the finding is gone
    from_snapshot_id INTEGER,   -- the previous checked snapshot, which had it
    check_id VARCHAR, severity VARCHAR, entity VARCHAR, record_key VARCHAR,
    school_code VARCHAR, unit_code VARCHAR, level VARCHAR, field VARCHAR, value VARCHAR,
    message VARCHAR, period VARCHAR,
    since            DATE       -- first snapshot of its run, as the earlier snapshot had it
);
-- New / persisting / resolved findings per school x level x check x period x since (the
-- finest grain every filter and scope of the dashboard applies to; sums roll up exactly,
-- and the median age of open findings is computed from age_days weighted by `open`).
CREATE TABLE IF NOT EXISTS finding_changes (
    snapshot_id      INTEGER,
    from_snapshot_id INTEGER,   -- NULL: no previous snapshot (new/persisting/resolved NULL)
    school_code VARCHAR, unit_code VARCHAR, level VARCHAR, check_id VARCHAR,
    severity VARCHAR, period VARCHAR,
    since            DATE,
    age_days         INTEGER,   -- this snapshot's as-of date - since
    open             BIGINT,    -- findings of this snapshot (new + persisting)
    new              BIGINT,
    persisting       BIGINT,
    resolved         BIGINT     -- findings of the previous snapshot gone in this one
);
-- The same rolled up per province, unit (every school under it), level, check and school,
-- with the median age in days of the open findings (as_of - since).
CREATE TABLE IF NOT EXISTS finding_changes_rollup (
    snapshot_id      INTEGER,
    from_snapshot_id INTEGER,
    grain            VARCHAR,   -- province | unit | level | check | school
    unit_code VARCHAR, level VARCHAR, check_id VARCHAR, school_code VARCHAR,
    open BIGINT, new BIGINT, persisting BIGINT, resolved BIGINT,
    median_age_days  DOUBLE     -- NULL when nothing is open
);
"""

FINDING_COLUMNS = (
    "check_id",
    "severity",
    "entity",
    "record_key",
    "school_code",
    "unit_code",
    "level",
    "field",
    "value",
    "message",
)


def data_table_ddl(table_name: str) -> str:
    table = TABLES[table_name]
    cols = ["snapshot_id INTEGER", "_source VARCHAR", "_sheet VARCHAR", "_row BIGINT"]
    for c in table.columns:
        cols.append(f'"{c.name}" {stored_type(c.kind)}')
        if c.kind in RAW_KINDS:
            cols.append(f'"{c.name}_raw" VARCHAR')
    cols.append("_extra MAP(VARCHAR, VARCHAR)")
    return f'CREATE TABLE IF NOT EXISTS "{table_name}" ({", ".join(cols)});'


def db_path(cli_value: str | None = None) -> str:
    return cli_value or os.environ.get("SOAT_DB") or DEFAULT_DB


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SYSTEM_DDL)
    # a store made before source_digest existed
    con.execute("ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS source_digest VARCHAR")
    con.execute(DERIVED_DDL)
    for name in TABLES:
        con.execute(data_table_ddl(name))


def connect(path: str | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open one DuckDB database holding snapshots (a snapshot file being written, a test's
    in-memory database); a writable connection creates the schema if needed. Read-only, a
    snapshot store directory is opened as its reader (soat.snapshot_store: every published
    snapshot, one view per table)."""
    path = db_path(path)
    if read_only:
        if os.path.isdir(path):
            from soat.snapshot_store import SnapshotStore

            return SnapshotStore(path).reader()
        return duckdb.connect(path, read_only=True)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(path)
    ensure_schema(con)
    return con


def latest_snapshot(con: duckdb.DuckDBPyConnection) -> int | None:
    return con.execute("SELECT max(snapshot_id) FROM snapshots").fetchall()[0][0]


def tables_present(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM snapshot_tables WHERE snapshot_id = $s", {"s": snapshot_id}
    ).fetchall()
    return {r[0] for r in rows}
