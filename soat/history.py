"""Findings over time: the earlier snapshots a check run compares with, the `trend.*`
checks' view of them, and each finding's `change` and `since`.

The check runner (soat.engine.run_checks) calls this module; `history` names the DuckDB
catalog attached to the store connection that holds the earlier snapshots with the store's
schema (None: the connection's own database). It is only read:

1. `setup()` creates views `h_<table>` in the runner's work database over the history
   catalog's tables (identifiers only) and picks the baselines from its `snapshots`:
   - **previous**: the checked snapshot just before this one by as-of date, then id (two
     loads of one export have the same as-of: the later load follows the earlier one);
     every finding is compared with it;
   - **trend**: the previous checked snapshot of the same school year, else the latest of
     the previous school year; the `trend.*` checks compare with it. A check whose
     metadata says `baseline = "same_year"` needs one of the same school year.
   The ids and dates are named parameters of every SQL file ($prev_snapshot_id,
   $prev_as_of, $trend_snapshot_id, $trend_as_of, $trend_same_year; NULL when there is
   none), and queries/prelude/70_history.sql turns the trend baseline into small tables
   (`prev_schools`, `prev_school_levels`, `prev_classes`) the checks read.
2. `not_run()` says why a check that needs a baseline cannot run ("chưa có bản chụp trước").
3. `record_changes()`, after the checks: each finding of this snapshot is `new` or
   `persisting` against the previous snapshot (`change`; NULL when there is none), with
   `since` = the as-of date of the first snapshot of its unbroken run; the previous
   snapshot's findings that are gone are copied to `findings_resolved` (a `trend.*` finding
   that is gone has lapsed, not been resolved: it is not copied); the baselines are
   recorded in `history_baselines`. queries/derived/60_finding_changes.sql then counts them.

Finding identity (docs/checks.md): `check_id, school_code, record_key, field`, and the
`period` (submission and report findings: a push late for two periods is two findings).
One key may hold several findings in a snapshot (a school late at two levels, an outlier per
level, one code on two records): they are matched as a multiset — first those with the same
level, then the rest on the key alone (in a fixed order: level, then a hash of value and
message) — so two findings of a key before and three now are two persisting and one new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

# tables of the history catalog the runner reads (as views h_<table> in the work database)
TABLES = (
    "snapshots",
    "snapshot_tables",
    "schools",
    "classes",
    "findings",
    "metrics_school_level",
)

BASELINES = ("previous", "same_year")
# A trend.* finding says two consecutive snapshots differ; when the next one no longer
# differs from it the finding lapses: it is not "resolved" (nothing was fixed; loading one
# export twice resolves nothing).
LAPSING_ENTITY = "trend"
NO_PREVIOUS = "chưa có bản chụp trước"
NO_PREVIOUS_SAME_YEAR = "chưa có bản chụp trước cùng năm học"
PARAM_NAMES = (
    "prev_snapshot_id",
    "prev_as_of",
    "trend_snapshot_id",
    "trend_as_of",
    "trend_same_year",
)


@dataclass(frozen=True)
class Baselines:
    previous_id: int | None = None
    previous_as_of: dt.date | None = None
    trend_id: int | None = None
    trend_as_of: dt.date | None = None
    trend_same_year: bool = False
    trend_tables: frozenset[str] = frozenset()

    def params(self) -> dict:
        return {
            "prev_snapshot_id": self.previous_id,
            "prev_as_of": self.previous_as_of,
            "trend_snapshot_id": self.trend_id,
            "trend_as_of": self.trend_as_of,
            "trend_same_year": self.trend_same_year,
        }


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def previous_school_year(school_year: str | None) -> str | None:
    if not school_year or len(school_year) < 9 or not school_year[:4].isdigit():
        return None
    start = int(school_year[:4])
    return f"{start - 1}-{start}"


def setup(con: duckdb.DuckDBPyConnection, work: str, history: str, params: dict) -> Baselines:
    """Views h_<table> in `work` over the history catalog (a database attached to `con`);
    the baselines of the snapshot."""
    from soat.engine import CatalogueError

    if not con.execute(
        "SELECT 1 FROM duckdb_databases() WHERE database_name = $n", {"n": history}
    ).fetchall():
        raise CatalogueError(f"history catalog {history!r} is not attached")
    for table in TABLES:
        # identifiers only (our table names, the catalog's name quoted)
        con.execute(
            f"CREATE OR REPLACE VIEW {work}.main.h_{table} AS "
            f"SELECT * FROM {quote(history)}.main.{quote(table)}"
        )
    rows = con.execute(
        f"""SELECT snapshot_id, as_of, school_year FROM {work}.main.h_snapshots
            WHERE checked_at IS NOT NULL AND snapshot_id <> $s
              AND (as_of < $as_of OR (as_of = $as_of AND snapshot_id < $s))
            ORDER BY as_of DESC, snapshot_id DESC""",
        {"s": params["snapshot_id"], "as_of": params["as_of"]},
    ).fetchall()
    if not rows:
        return Baselines()
    previous = rows[0]
    year = params["school_year"]
    trend = next((r for r in rows if r[2] == year), None)
    same_year = trend is not None
    if trend is None:
        last_year = previous_school_year(year)
        trend = next((r for r in rows if last_year and r[2] == last_year), None)
    tables: frozenset[str] = frozenset()
    if trend is not None:
        tables = frozenset(
            r[0]
            for r in con.execute(
                f"SELECT table_name FROM {work}.main.h_snapshot_tables WHERE snapshot_id = $s",
                {"s": trend[0]},
            ).fetchall()
        )
    return Baselines(
        previous_id=previous[0],
        previous_as_of=previous[1],
        trend_id=trend[0] if trend else None,
        trend_as_of=trend[1] if trend else None,
        trend_same_year=same_year,
        trend_tables=tables,
    )


def not_run(check, base: Baselines) -> str | None:
    """Why a check that compares with an earlier snapshot cannot run (None: it can)."""
    if check.baseline is None:
        return None
    if base.trend_id is None:
        return NO_PREVIOUS
    if check.baseline == "same_year" and not base.trend_same_year:
        return NO_PREVIOUS_SAME_YEAR
    absent = [t for t in check.requires if t not in base.trend_tables]
    if absent:
        return "bản chụp trước không có dữ liệu: " + ", ".join(absent)
    return None


def extend_finding_schools(con: duckdb.DuckDBPyConnection, work: str, base: Baselines) -> None:
    """A finding about a school absent from this snapshot (trend.school_vanished) takes the
    unit and levels the school had in the trend baseline, so the unit's officers see it."""
    if base.trend_id is None:
        return
    con.execute(
        f"""INSERT INTO {work}.main.finding_schools
            SELECT school_code, any_value(unit_code), any_value(levels)
            FROM {work}.main.h_schools
            WHERE snapshot_id = $t AND school_code IS NOT NULL
              AND school_code NOT IN (SELECT school_code FROM {work}.main.finding_schools
                                      WHERE school_code IS NOT NULL)
            GROUP BY school_code""",
        {"t": base.trend_id},
    )


# The identity key of a finding, and the multiset matching of two sets of findings `cur`
# and `prev` (relations with a unique `rid`): (crid, prid) pairs, first on the key and the
# level, then what is left on the key alone. NULLs compare equal (IS NOT DISTINCT FROM).
KEY = ("check_id", "school_code", "record_key", "field", "period")


def _same(a: str, b: str, cols) -> str:
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in cols)


def match_sql(cur: str, prev: str) -> str:
    """SELECT crid, prid: the findings of `cur` that are the same findings as those of `prev`
    (`cur`, `prev`: relations or parenthesised subqueries we write, with rid, the KEY
    columns, level, value and message).

    Set-based and cheap at 400 k findings a snapshot: the key is hashed once into integers
    (kh: the key, klh: the key and the level, kvh: those and the value, oh: value and
    message, the order among a key's findings); a key and level held by one finding on each
    side (nearly all) is matched by one join. Where a key and level hold several (a school's
    two targets for one data type, told apart by their due dates only), those whose value is
    one of a kind on both sides are matched on it first: the value stays from week to week
    (a due date), the message does not ("quá hạn 12 ngày"), and numbering them by message
    once paired Sở with Bộ. Only the rest are numbered (a window over a few rows); the real
    columns are compared in the joins, so a hash collision never matches two different
    findings."""
    key = ", ".join(KEY)
    hashed = (
        f"rid, {key}, level, value, hash({key}) AS kh, hash({key}, level) AS klh, "
        f"hash({key}, level, value) AS kvh, hash(value, message) AS oh"
    )
    same1 = _same("c", "p", (*KEY, "level"))
    samev = _same("c", "p", (*KEY, "level", "value"))
    return f"""
WITH c0 AS (SELECT {hashed} FROM {cur}),
p0 AS (SELECT {hashed} FROM {prev}),
dup AS (SELECT klh FROM c0 GROUP BY klh HAVING count(*) > 1
        UNION SELECT klh FROM p0 GROUP BY klh HAVING count(*) > 1),
dupv AS (SELECT kvh FROM c0 SEMI JOIN dup USING (klh) GROUP BY kvh HAVING count(*) > 1
         UNION SELECT kvh FROM p0 SEMI JOIN dup USING (klh) GROUP BY kvh HAVING count(*) > 1),
mv AS (
    SELECT c.rid AS crid, p.rid AS prid
    FROM (SELECT * FROM c0 SEMI JOIN dup USING (klh) ANTI JOIN dupv USING (kvh)) c
    JOIN (SELECT * FROM p0 SEMI JOIN dup USING (klh) ANTI JOIN dupv USING (kvh)) p
      ON c.kvh = p.kvh AND {samev}
),
c AS (SELECT c0.*, 1 AS k FROM c0 ANTI JOIN dup USING (klh)
      UNION ALL
      SELECT c0.*, row_number() OVER (PARTITION BY klh ORDER BY oh, rid)
      FROM c0 SEMI JOIN dup USING (klh) ANTI JOIN mv ON c0.rid = mv.crid),
p AS (SELECT p0.*, 1 AS k FROM p0 ANTI JOIN dup USING (klh)
      UNION ALL
      SELECT p0.*, row_number() OVER (PARTITION BY klh ORDER BY oh, rid)
      FROM p0 SEMI JOIN dup USING (klh) ANTI JOIN mv ON p0.rid = mv.prid),
m1 AS (
    SELECT c.rid AS crid, p.rid AS prid
    FROM c JOIN p ON c.klh = p.klh AND c.k = p.k AND {same1}
    UNION ALL SELECT crid, prid FROM mv
), c2 AS (
    SELECT c0.*, row_number() OVER (PARTITION BY kh ORDER BY level NULLS FIRST, oh, rid) AS k
    FROM c0 ANTI JOIN m1 ON c0.rid = m1.crid
), p2 AS (
    SELECT p0.*, row_number() OVER (PARTITION BY kh ORDER BY level NULLS FIRST, oh, rid) AS k
    FROM p0 ANTI JOIN m1 ON p0.rid = m1.prid
)
SELECT crid, prid FROM m1
UNION ALL
SELECT c2.rid, p2.rid FROM c2 JOIN p2 ON c2.kh = p2.kh AND c2.k = p2.k AND {_same("c2", "p2", KEY)}
"""


COLUMNS = (
    "check_id, severity, entity, record_key, school_code, unit_code, level, field, value, "
    "message, period"
)


def _columns(alias: str, **instead: str) -> str:
    """COLUMNS read from `alias`, in their order, with an expression instead of some."""
    return ", ".join(
        f"{instead[c]} AS {c}" if c in instead else f"{alias}.{c}" for c in COLUMNS.split(", ")
    )


def record_changes(
    con: duckdb.DuckDBPyConnection, work: str, base: Baselines, params: dict
) -> None:
    """Fill `change` and `since` of the snapshot's findings, write its resolved findings
    and its row of history_baselines (the snapshot's earlier rows are replaced)."""
    sid, as_of = params["snapshot_id"], params["as_of"]
    p = {"s": sid}
    for table in ("findings_resolved", "history_baselines"):
        con.execute(f"DELETE FROM {table} WHERE snapshot_id = $s", p)
    con.execute(
        "INSERT INTO history_baselines VALUES ($s, $p, $pa, $t, $ta, $same)",
        {
            "s": sid,
            "p": base.previous_id,
            "pa": base.previous_as_of,
            "t": base.trend_id,
            "ta": base.trend_as_of,
            "same": base.trend_same_year if base.trend_id is not None else None,
        },
    )
    if base.previous_id is None:
        con.execute(
            "UPDATE findings SET change = NULL, since = $as_of WHERE snapshot_id = $s",
            {"s": sid, "as_of": as_of},
        )
        return
    # the previous snapshot's findings, numbered (a since left NULL by an older version of
    # the runner counts from that snapshot's own date)
    # A school renamed since (its old code in `previous_codes`, the old code gone) is the
    # same school: its earlier findings take its new code (and a record key that was the
    # school's code, the new one), so a rename fixes nothing and breaks nothing.
    cols = _columns(
        "f",
        school_code="coalesce(r.new, f.school_code)",
        record_key="CASE WHEN r.new IS NOT NULL AND f.record_key = f.school_code "
        "THEN r.new ELSE f.record_key END",
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {work}.main.hist_prev AS
            WITH now AS (SELECT school_code, previous_codes FROM schools
                         WHERE snapshot_id = $s AND school_code IS NOT NULL),
            r AS (SELECT old, any_value(school_code) AS new
                  FROM (SELECT school_code, unnest(previous_codes) AS old FROM now)
                  WHERE old IS NOT NULL AND old NOT IN (SELECT school_code FROM now)
                  GROUP BY old HAVING count(DISTINCT school_code) = 1)
            SELECT row_number() OVER () AS rid, {cols},
                   coalesce(f.since, $pa) AS since
            FROM {work}.main.h_findings f LEFT JOIN r ON r.old = f.school_code
            WHERE f.snapshot_id = $p""",
        {"p": base.previous_id, "pa": base.previous_as_of, "s": sid},
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {work}.main.hist_cur AS
            SELECT rowid AS rid, {COLUMNS} FROM findings WHERE snapshot_id = $s""",
        p,
    )
    con.execute(
        f"CREATE OR REPLACE TABLE {work}.main.hist_match AS "
        + match_sql(f"{work}.main.hist_cur", f"{work}.main.hist_prev")
    )
    con.execute(
        f"""UPDATE findings
            SET change = CASE WHEN x.prid IS NULL THEN 'new' ELSE 'persisting' END,
                since = coalesce(x.since, $as_of)
            FROM (SELECT c.rid, m.prid, pv.since
                  FROM {work}.main.hist_cur c
                  LEFT JOIN {work}.main.hist_match m ON m.crid = c.rid
                  LEFT JOIN {work}.main.hist_prev pv ON pv.rid = m.prid) x
            WHERE findings.rowid = x.rid""",
        {"as_of": as_of},
    )
    # resolved: an earlier finding with no match, of a check that ran on this snapshot (a
    # check that could not run, a column or a file missing, found nothing: not "fixed"),
    # under the unit its school has now (a school moved to another unit: the new unit's
    # officers see what was fixed there, and the unit roll-ups add up to the province's)
    cols = _columns("h", unit_code="coalesce(cs.unit_code, h.unit_code)")
    con.execute(
        f"""INSERT INTO findings_resolved
            SELECT $s, $p, {cols}, h.since FROM {work}.main.hist_prev h
            LEFT JOIN (SELECT school_code, any_value(unit_code) AS unit_code FROM schools
                       WHERE snapshot_id = $s AND school_code IS NOT NULL
                       GROUP BY school_code) cs ON cs.school_code = h.school_code
            WHERE h.rid NOT IN (SELECT prid FROM {work}.main.hist_match)
              AND h.entity <> '{LAPSING_ENTITY}'
              AND h.check_id IN (SELECT check_id FROM check_runs
                                 WHERE snapshot_id = $s AND status = 'ran')""",
        {"s": sid, "p": base.previous_id},
    )
