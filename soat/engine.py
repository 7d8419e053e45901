"""The check runner: discovers queries/checks/**/<name>.sql + <name>.toml and runs them.

A check's SQL is a SELECT over the snapshot (DuckDB, set-based) returning the columns
    record_key, school_code, level, field, value, detail, period
(`level`, `detail`, `period` may be NULL; extra columns are ignored). The runner wraps it
in one INSERT that adds the metadata (id, severity, entity), the school's unit and the
Vietnamese message built from the metadata's template: `{value}`, `{detail}` and
`{field}` (the field's Vietnamese label) are replaced in SQL, never in a Python loop.

SQL may use these named parameters only: $snapshot_id, $as_of, $school_year, $year_start,
the history's ($prev_snapshot_id, $prev_as_of, $trend_snapshot_id, $trend_as_of,
$trend_same_year: soat.history) and the check's own `[params]` (thresholds, in its metadata).
Before the checks the runner executes queries/prelude/*.sql in name order, lane by lane (temporary
tables shared by the checks); after them queries/derived/*.sql (metrics and other derived
tables). A check whose `requires` tables are absent from the snapshot is recorded
"not_run", and so is a check one of whose `reads` columns ("table.column") the snapshot's
table was loaded without (snapshot_tables.columns; detail "thiếu cột …" naming the headers
accepted for it): a check never passes on data it could not see. A check whose SQL fails
is recorded "failed" and the others go on.

The checks run on WORKERS connections at once (one per core): most of them are small
queries DuckDB runs on one thread, so two at a time keep both cores busy. A prelude
`CREATE OR REPLACE TEMP TABLE` is therefore created in the in-memory database WORK_DB,
which every connection of the store sees (a temp table is seen by its own connection
only), and its `TEMP MACRO`s are created on each worker connection too. The prelude's
lanes (`-- lane: <name>` in a file) run at the same time on those connections as well.
While the checks run, DuckDB's thread pool is cut by WORKERS - 1 threads (to 1 on two
cores; restored after): each worker's own thread runs its query too, and the pool's extra
thread only made the two cores switch between three (checks at 2 M: 1.27–1.36 s →
1.17–1.21 s).
"""

from __future__ import annotations

import re
import threading
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from queries import ROOT as QUERIES_ROOT
from soat import history as hist
from soat.store import tables_present

CHECKS_DIR = QUERIES_ROOT / "checks"
PRELUDE_DIR = QUERIES_ROOT / "prelude"
DERIVED_DIR = QUERIES_ROOT / "derived"

WORK_DB = "soat_work"  # in-memory, attached to the store connection for the run
WORKERS = 2
SHARED_TABLE_RE = re.compile(r"^((?:\s*--[^\n]*\n)*\s*)CREATE OR REPLACE TEMP TABLE ")
MACRO_RE = re.compile(r"^(?:\s*--[^\n]*\n)*\s*CREATE OR REPLACE TEMP MACRO ")
LANE_RE = re.compile(r"^--\s*lane:\s*(\w+)\s*$", re.MULTILINE)

SEVERITIES = ("error", "warning")
PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
META_KEYS = {
    "id",
    "severity",
    "entity",
    "reads",
    "message",
    "description",
    "requires",
    "params",  # [params] table: thresholds, passed to the check's SQL as named parameters
    "baseline",  # "previous" | "same_year": compares with an earlier snapshot (soat.history)
}
# names a check's [params] may not take (the runner's own parameters)
RESERVED_PARAMS = {
    "snapshot_id",
    "as_of",
    "school_year",
    "year_start",
    "check_id",
    "severity",
    "entity",
    "message",
    "present",
    *hist.PARAM_NAMES,
}


@dataclass(frozen=True)
class Check:
    id: str
    severity: str
    entity: str
    reads: tuple[str, ...]
    message: str
    description: str
    requires: tuple[str, ...]
    sql: str
    path: Path
    params: tuple[tuple[str, object], ...] = ()
    baseline: str | None = None


class CatalogueError(Exception):
    pass


def load_check(sql_path: Path) -> Check:
    meta_path = sql_path.with_suffix(".toml")
    if not meta_path.exists():
        raise CatalogueError(f"{sql_path}: no metadata file {meta_path.name}")
    meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    missing = {"id", "severity", "entity", "message", "description", "requires"} - meta.keys()
    if missing:
        raise CatalogueError(f"{meta_path}: missing keys {sorted(missing)}")
    unknown = meta.keys() - META_KEYS
    if unknown:
        raise CatalogueError(f"{meta_path}: unknown keys {sorted(unknown)}")
    if meta["severity"] not in SEVERITIES:
        raise CatalogueError(f"{meta_path}: severity must be one of {SEVERITIES}")
    params = meta.get("params", {})
    if not isinstance(params, dict) or not all(
        isinstance(v, int | float | str | bool) for v in params.values()
    ):
        raise CatalogueError(f"{meta_path}: [params] must map names to numbers or text")
    taken = sorted(set(params) & RESERVED_PARAMS)
    if taken:
        raise CatalogueError(f"{meta_path}: [params] may not be named {taken}")
    baseline = meta.get("baseline")
    if baseline is not None and baseline not in hist.BASELINES:
        raise CatalogueError(f"{meta_path}: baseline must be one of {hist.BASELINES}")
    return Check(
        id=meta["id"],
        severity=meta["severity"],
        entity=meta["entity"],
        reads=tuple(meta.get("reads", ())),
        message=meta["message"],
        description=meta["description"],
        requires=tuple(meta["requires"]),
        sql=sql_path.read_text(encoding="utf-8"),
        path=sql_path,
        params=tuple(sorted(params.items())),
        baseline=baseline,
    )


def discover(root: Path = CHECKS_DIR) -> list[Check]:
    checks = [load_check(p) for p in sorted(root.rglob("*.sql"))]
    for meta in sorted(root.rglob("*.toml")):
        if not meta.with_suffix(".sql").exists():
            raise CatalogueError(f"{meta}: metadata without a .sql file")
    seen: dict[str, Path] = {}
    for c in checks:
        if c.id in seen:
            raise CatalogueError(f"duplicate check id {c.id}: {seen[c.id]} and {c.path}")
        seen[c.id] = c.path
    return checks


def params_for(sql: str, params: dict) -> dict:
    """Only the named parameters the SQL uses (DuckDB rejects unused ones)."""
    used = set(PARAM_RE.findall(sql))
    unknown = used - params.keys()
    if unknown:
        raise CatalogueError(f"unknown parameters {sorted(unknown)}")
    return {k: v for k, v in params.items() if k in used}


def run_sql_dir(con: duckdb.DuckDBPyConnection, directory: Path, params: dict) -> None:
    for path in sorted(directory.glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        for statement in split_statements(sql):
            con.execute(statement, params_for(statement, params))


def prelude_lanes(directory: Path = PRELUDE_DIR) -> list[list[Path]]:
    """queries/prelude/*.sql grouped by the `-- lane: <name>` line a file may have (files
    without one are in the lane "main"), each lane in name order. Lanes run at the same time
    on different connections, so a file may use only what its own lane created before it
    (and the store): the submission status, for one, needs nothing of the students."""
    lanes: dict[str, list[Path]] = {}
    for path in sorted(directory.glob("*.sql")):
        m = LANE_RE.search(path.read_text(encoding="utf-8"))
        lanes.setdefault(m.group(1) if m else "main", []).append(path)
    return list(lanes.values())


def _run_lane(con: duckdb.DuckDBPyConnection, paths: list[Path], params: dict) -> list[str]:
    """One lane's files on one connection, temp tables created in WORK_DB (seen by every
    connection); returns its macro statements, for the other connections to create too."""
    macros: list[str] = []
    for path in paths:
        for statement in split_statements(path.read_text(encoding="utf-8")):
            if MACRO_RE.match(statement):
                macros.append(statement)
            shared = SHARED_TABLE_RE.sub(
                rf"\1CREATE OR REPLACE TABLE {WORK_DB}.main.", statement, count=1
            )
            con.execute(shared, params_for(shared, params))
    return macros


def run_prelude(cons: list[duckdb.DuckDBPyConnection], params: dict) -> None:
    """The prelude's lanes, lane i on connection i % len(cons), at the same time; then every
    connection gets the macros the other lanes created (a TEMP MACRO is per connection)."""
    lanes = prelude_lanes()
    by_con: list[list[list[Path]]] = [[] for _ in cons]
    for i, lane in enumerate(lanes):
        by_con[i % len(cons)].append(lane)
    macros: list[list[str]] = [[] for _ in cons]

    def run(i: int) -> None:
        for lane in by_con[i]:
            macros[i] += _run_lane(cons[i], lane, params)

    _in_threads(run, len(cons))
    for i, c in enumerate(cons):
        for j, defined in enumerate(macros):
            if j != i:
                for m in defined:
                    c.execute(m)


def _in_threads(fn: Callable[[int], None], n: int) -> None:
    """fn(0) in this thread, fn(1..n-1) in threads; the first exception is raised here."""
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            fn(i)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(1, n)]
    for t in threads:
        t.start()
    try:
        fn(0)
    finally:
        for t in threads:
            t.join()
    if errors:
        raise errors[0]


def _search_path(con: duckdb.DuckDBPyConnection) -> str:
    """WORK_DB first, then the store: unqualified names find the prelude's tables."""
    store = con.execute("SELECT current_database()").fetchall()[0][0]
    return f"{WORK_DB}.main," + '"' + store.replace('"', '""') + '".main'


def _set_search_path(con: duckdb.DuckDBPyConnection, path: str) -> None:
    # SET takes no parameters; the path is our database name and the store's, quoted
    con.execute("SET search_path = '" + path.replace("'", "''") + "'")


def split_statements(sql: str) -> list[str]:
    """Split a file of ';'-terminated statements (no ';' inside strings in our SQL files)."""
    parts = [p.strip() for p in sql.split(";")]
    return [
        p
        for p in parts
        if p
        and not all(line.strip().startswith("--") or not line.strip() for line in p.splitlines())
    ]


# The school's unit and levels for every finding, computed once per run (not per check).
FINDING_SCHOOLS = f"""
CREATE OR REPLACE TABLE {WORK_DB}.main.finding_schools AS
SELECT school_code, any_value(unit_code) AS unit_code, any_value(levels) AS levels
FROM schools WHERE snapshot_id = $snapshot_id GROUP BY school_code
"""

WRAP = """
INSERT INTO findings (snapshot_id, check_id, severity, entity, record_key, school_code,
                      unit_code, level, field, value, message, period)
SELECT $snapshot_id, $check_id, $severity, $entity,
       q.record_key, q.school_code, sch.unit_code,
       coalesce(q.level, CASE WHEN len(sch.levels) = 1 THEN sch.levels[1] END),
       q.field, q.value,
       replace(replace(replace($message,
           '{{value}}', coalesce(q.value, '')),
           '{{detail}}', coalesce(CAST(q.detail AS VARCHAR), '')),
           '{{field}}', coalesce(fl.label, q.field, '')),
       q.period
FROM ({sql}) AS q
LEFT JOIN finding_schools AS sch ON sch.school_code = q.school_code
LEFT JOIN field_labels AS fl ON fl.field = q.field
"""


def snapshot_params(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> dict:
    row = con.execute(
        "SELECT as_of, school_year FROM snapshots WHERE snapshot_id = $s", {"s": snapshot_id}
    ).fetchall()
    if not row:
        raise CatalogueError(f"no snapshot {snapshot_id}")
    as_of, school_year = row[0]
    year_start = int(school_year[:4]) if school_year else as_of.year
    return {
        "snapshot_id": snapshot_id,
        "as_of": as_of,
        "school_year": school_year,
        "year_start": year_start,
        **hist.Baselines().params(),  # no earlier snapshot until run_checks picks them
    }


def create_field_labels(con: duckdb.DuckDBPyConnection) -> None:
    from loaders.contract import field_labels

    labels = field_labels()
    con.execute(
        f"CREATE OR REPLACE TABLE {WORK_DB}.main.field_labels (field VARCHAR, label VARCHAR)"
    )
    con.executemany(f"INSERT INTO {WORK_DB}.main.field_labels VALUES (?, ?)", list(labels.items()))


class Present(set):
    """The tables of a snapshot (a set of names), with the canonical columns each was
    found with (`columns`; a table whose list is empty or unknown counts as having all)."""

    columns: dict[str, set[str]]

    def missing(self, check: Check) -> list[tuple[str, str]]:
        """(table, column) of the columns the check reads that its table lacks. A column
        with a default (status) is never missing: the loader fills it."""
        from loaders.contract import TABLES

        out = []
        for r in check.reads:
            table, _, column = r.partition(".")
            have = self.columns.get(table)
            if not column or not have or column in have or table not in TABLES:
                continue
            if TABLES[table].column(column).default is None:
                out.append((table, column))
        return out


def tables_and_columns(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> Present:
    present = Present(tables_present(con, snapshot_id))
    present.columns = {
        t: set(cols or [])
        for t, cols in con.execute(
            """SELECT table_name, flatten(list(columns)) FROM snapshot_tables
               WHERE snapshot_id = $s GROUP BY ALL""",
            {"s": snapshot_id},
        ).fetchall()
    }
    return present


def _run_one(con: duckdb.DuckDBPyConnection, check: Check, params: dict, present) -> CheckResult:
    t0 = time.perf_counter()
    absent = [t for t in check.requires if t not in present]
    if absent:
        return CheckResult(check.id, "not_run", 0, 0.0, "không có dữ liệu: " + ", ".join(absent))
    missing = present.missing(check) if isinstance(present, Present) else []
    if missing:  # a column it reads is not in the source: not run, never "ran, 0 findings"
        from loaders.contract import missing_column_text

        text = "; ".join(missing_column_text(t, c) for t, c in missing)
        return CheckResult(check.id, "not_run", 0, 0.0, text)
    sql = WRAP.format(sql=check.sql.strip().rstrip(";"))
    p = {
        **params,
        **dict(check.params),
        "check_id": check.id,
        "severity": check.severity,
        "entity": check.entity,
        "message": check.message,
    }
    try:
        n = con.execute(sql, params_for(sql, p)).fetchall()[0][0]
        return CheckResult(check.id, "ran", int(n), time.perf_counter() - t0)
    except duckdb.Error as exc:
        return CheckResult(
            check.id, "failed", 0, time.perf_counter() - t0, str(exc).splitlines()[0]
        )


def _run_checks_parallel(cons, checks, params, present, progress):
    """Each check is one INSERT in autocommit on one of the connections (the store's
    connection and cursors of it, each with the prelude's macros and the search path);
    DuckDB appends from several connections to `findings` do not conflict. Results keep
    the catalogue's order."""
    results: list[CheckResult | None] = [None] * len(checks)
    todo = iter(range(len(checks)))
    lock = threading.Lock()
    started: list[str] = []  # check ids not yet reported to `progress`

    def report() -> None:
        # only from the calling thread: a Streamlit callback needs the script's thread
        with lock:
            ids = started[:]
            started.clear()
        if progress:
            for cid in ids:
                progress(cid)

    def work(w: int) -> None:
        while True:
            with lock:
                i = next(todo, None)
                if i is not None:
                    started.append(checks[i].id)
            if w == 0:
                report()
            if i is None:
                return
            results[i] = _run_one(cons[w], checks[i], params, present)

    # an exception here is not a check's SQL failing (that is a "failed" result): a bug
    _in_threads(work, len(cons))
    report()
    return results


def _run_with_history(cons, checks, params, present, progress, base):
    """The checks that compare with an earlier snapshot and have none are "not_run" with the
    reason (soat.history.not_run); the others run in parallel. Catalogue order is kept."""
    waiting = {c.id: hist.not_run(c, base) for c in checks}
    runnable = [c for c in checks if waiting[c.id] is None]
    if progress:
        for c in checks:
            if waiting[c.id] is not None:
                progress(c.id)
    ran = iter(_run_checks_parallel(cons, runnable, params, present, progress))
    return [
        next(ran) if waiting[c.id] is None else CheckResult(c.id, "not_run", 0, 0.0, waiting[c.id])
        for c in checks
    ]


@dataclass
class CheckResult:
    check_id: str
    status: str
    findings: int
    seconds: float
    detail: str = ""


def run_checks(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    checks: Iterable[Check] | None = None,
    progress: Callable[[str], None] | None = None,
    timings: dict[str, float] | None = None,
    history: str | None = None,
) -> list[CheckResult]:
    """Run the catalogue on a snapshot, replacing its findings, check runs and derived tables.

    Call it outside a transaction: each check is one INSERT in autocommit, so a check that
    fails does not abort the others (DuckDB has no savepoints). `snapshots.checked_at`
    is set when all is done; readers show only checked snapshots. When `timings` is given
    it receives the seconds of each phase: prelude, checks, history, derived.

    `history` names a DuckDB catalog attached to `con` that holds the earlier snapshots
    (the store's schema, every table keyed by snapshot_id); None: `con`'s own database.
    It is only read: the runner picks the previous checked snapshot(s) from its
    `snapshots` and compares with them (soat.history: the trend.* checks, each finding's
    `change` and `since`, findings_resolved, finding_changes)."""
    checks = list(discover() if checks is None else checks)
    params = snapshot_params(con, snapshot_id)
    present = tables_and_columns(con, snapshot_id)
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {WORK_DB}")
    work_path = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = $n", {"n": WORK_DB}
    ).fetchall()
    if work_path != [(None,)]:  # a store file named like it: never write prelude tables there
        raise CatalogueError(f"the database name {WORK_DB!r} is taken by {work_path[0][0]}")
    old_path = con.execute("SELECT current_setting('search_path')").fetchall()[0][0]
    if history is None:  # the store itself (current_database() follows the search path)
        history = con.execute("SELECT current_database()").fetchall()[0][0]
    path = _search_path(con)
    _set_search_path(con, path)
    try:
        return _run(con, snapshot_id, checks, params, present, path, progress, timings, history)
    finally:
        _set_search_path(con, old_path)


def _run(con, snapshot_id, checks, params, present, path, progress, timings, history):
    create_field_labels(con)
    con.execute(FINDING_SCHOOLS, {"snapshot_id": snapshot_id})
    base = hist.setup(con, WORK_DB, history, params)
    params = {**params, **base.params()}
    hist.extend_finding_schools(con, WORK_DB, base)
    con.execute("DELETE FROM findings WHERE snapshot_id = $s", {"s": snapshot_id})
    con.execute("DELETE FROM check_runs WHERE snapshot_id = $s", {"s": snapshot_id})
    cons = [con]
    try:
        for _ in range(WORKERS - 1):
            cur = con.cursor()
            cons.append(cur)
            _set_search_path(cur, path)
        clock = time.perf_counter()
        run_prelude(cons, params)
        if timings is not None:
            timings["prelude"] = time.perf_counter() - clock
            clock = time.perf_counter()
        threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
        # each worker's own thread runs its query too: DuckDB's pool keeps the rest (SET
        # takes no parameters; the value is an integer computed here)
        con.execute(f"SET threads = {max(1, threads - (len(cons) - 1))}")
        try:
            results = _run_with_history(cons, checks, params, present, progress, base)
        finally:
            con.execute(f"SET threads = {threads}")
    finally:
        for c in cons[1:]:
            c.close()
    if results:
        con.executemany(
            "INSERT INTO check_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    snapshot_id,
                    r.check_id,
                    c.severity,
                    c.entity,
                    r.status,
                    r.findings,
                    r.seconds,
                    r.detail,
                )
                for r, c in zip(results, checks, strict=True)
            ],
        )
    if timings is not None:
        timings["checks"] = time.perf_counter() - clock
        clock = time.perf_counter()
    hist.record_changes(con, WORK_DB, base, params)
    if timings is not None:
        timings["history"] = time.perf_counter() - clock
        clock = time.perf_counter()
    if DERIVED_DIR.exists():
        run_sql_dir(con, DERIVED_DIR, {**params, "present": sorted(present)})
    if timings is not None:
        timings["derived"] = time.perf_counter() - clock
    con.execute(
        "UPDATE snapshots SET checked_at = timezone('UTC', now()) WHERE snapshot_id = $s",
        {"s": snapshot_id},
    )
    return results
