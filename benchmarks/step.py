"""One measured step, run in its own process so its peak RSS is its own.

    python -m benchmarks.step STEP --dir DIR --db DB [--rows N]

Prints one JSON line: {"step", "seconds", "rows", "rss_mb", ...}.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def bare_scan(d: Path, db: str, **_) -> dict:
    """The floor: DuckDB reads every CSV of the folder into a table, all text, nothing else."""
    import duckdb

    con = duckdb.connect(db)
    rows = 0
    for f in sorted(d.glob("*.csv")):
        name = "t_" + f.stem.replace(" ", "_")
        con.execute(
            f'CREATE TABLE "{name}" AS SELECT * FROM read_csv($f, all_varchar = true, header = true)',
            {"f": str(f)},
        )
        rows += con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
    con.close()
    return {"rows": rows}


def bare_sql(d: Path, db: str, **_) -> dict:
    """The floor of checking: a plain SQL pass over the loaded students (a few predicates)."""
    import duckdb

    con = duckdb.connect(db)
    tables = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
    stu = next(t for t in tables if "hoc_sinh" in t or "students" in t)
    cols = [r[0] for r in con.execute(f'DESCRIBE "{stu}"').fetchall()]
    cid = next(c for c in cols if "định danh" in c.lower() or c == "citizen_id")
    n = con.execute(
        f'SELECT count(*) FILTER (WHERE NOT regexp_full_match("{cid}", \'[0-9]{{12}}\')) FROM "{stu}"'
    ).fetchall()[0][0]
    con.close()
    return {"rows": n}


def load(d: Path, db: str, **_) -> dict:
    """`soat load`'s reading and writing of a folder (CSV or .xlsx files) into a new file.
    `read_seconds`: load_source's phase 1, where .xlsx sheets are read (fastexcel into
    Arrow) and staged: the reader's share."""
    from loaders.load import load_source
    from soat import store

    con = store.connect(db)
    res = load_source(con, str(d), draft=True)  # a new file of this load alone, as a draft
    con.close()
    return {
        "rows": sum(res.rows.values()),
        "snapshot_id": res.snapshot_id,
        "read_seconds": round(res.read_seconds, 3),
    }


def soat_load(d: Path, db: str, t0: float, **_) -> dict:
    """The command as a user runs it: `soat load DIR` reads the folder into a new snapshot
    and runs the whole catalogue (checks, timeliness, metrics) on it, in one process, then
    prints its summary (here into a buffer). Timed like every step: from before its imports
    to the command's return (counting the rows and findings afterwards is not timed)."""
    import contextlib
    import io

    from soat.cli import main as soat_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = soat_main(["load", str(d), "--db", db])
    seconds = time.perf_counter() - t0
    if rc != 0:
        raise RuntimeError(f"soat load exited {rc}:\n{out.getvalue()[-2000:]}")
    from soat import store

    con = store.connect(db, read_only=True)
    rows, findings = con.execute(
        """SELECT (SELECT count(*) FROM students WHERE snapshot_id = m.s),
                  (SELECT sum(findings) FROM check_runs WHERE snapshot_id = m.s)
           FROM (SELECT max(snapshot_id) AS s FROM snapshots) m"""
    ).fetchall()[0]
    con.close()
    return {"seconds": seconds, "rows": rows, "findings": int(findings or 0)}


def checks(d: Path, db: str, **_) -> dict:
    """The catalogue on the latest snapshot: of a single DuckDB file (the `load` step's),
    or of a snapshot store, re-checked as `soat check` does (a copy of its file, the
    earlier snapshots attached as its history)."""
    import os

    if os.path.isdir(db):
        return _recheck(db)
    from soat import store
    from soat.engine import run_checks

    con = store.connect(db)
    sid = store.latest_snapshot(con)
    phases: dict[str, float] = {}
    results = run_checks(con, sid, timings=phases)
    per_check = {r.check_id: round(r.seconds, 4) for r in results}
    rows = con.execute(
        "SELECT count(*) FROM students WHERE snapshot_id = $s", {"s": sid}
    ).fetchall()[0][0]
    con.close()
    return {
        "rows": rows,
        "findings": sum(r.findings for r in results),
        "per_check": per_check,
        "phases": {k: round(v, 3) for k, v in phases.items()},
    }


def _recheck(db: str) -> dict:
    from soat.engine import run_checks
    from soat.snapshot_store import SnapshotStore

    with SnapshotStore(db).writing() as w:
        sid = w.newest()
        with w.draft(copy_of=sid) as draft:
            phases: dict[str, float] = {}
            results = run_checks(draft.con, sid, timings=phases, history=draft.history)
            rows = draft.con.execute(
                "SELECT count(*) FROM students WHERE snapshot_id = $s", {"s": sid}
            ).fetchall()[0][0]
            draft.publish()
    return {
        "rows": rows,
        "findings": sum(r.findings for r in results),
        "per_check": {r.check_id: round(r.seconds, 4) for r in results},
        "phases": {k: round(v, 3) for k, v in phases.items()},
    }


def exports(d: Path, db: str, **_) -> dict:
    from soat import store
    from soat.scope import Scope

    con = store.connect(db, read_only=True)
    sid = store.latest_snapshot(con)
    out = {}
    import importlib

    for kind in ("findings", "schools", "late"):
        mod = importlib.import_module(f"soat.exports.{kind}")
        t0 = time.perf_counter()
        df = mod.frame(con, sid, Scope.admin())
        path = d.parent / f"export_{kind}.csv"
        df.write_csv(path)
        out[kind] = {"seconds": round(time.perf_counter() - t0, 3), "rows": df.height}
    con.close()
    return {"rows": sum(v["rows"] for v in out.values()), "exports": out}


def pages(d: Path, db: str, **_) -> dict:
    """The query behind each dashboard page, uncached, as the province admin."""
    import os

    os.environ["SOAT_DB"] = db
    from benchmarks.page_queries import time_page_queries

    return time_page_queries(db)


def baseline(d: Path, db: str, rows: int | None = None, **_) -> dict:
    """What a user might write instead: pandas row-wise validation of the student ID,
    birth-date and required-field rules (the same rules as student.id_format, id_province,
    id_mismatch, dob_invalid, missing_field), on the first `rows` students."""
    from benchmarks.baseline import rowwise_student_checks

    return rowwise_student_checks(d, rows)


STEPS = {
    f.__name__: f for f in (bare_scan, bare_sql, load, soat_load, checks, exports, pages, baseline)
}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("step", choices=sorted(STEPS))
    p.add_argument("--dir", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--rows", type=int)
    a = p.parse_args()
    t0 = time.perf_counter()
    extra = STEPS[a.step](Path(a.dir), a.db, rows=a.rows, t0=t0)
    seconds = extra.pop("seconds", None) or time.perf_counter() - t0
    print(
        json.dumps(
            {"step": a.step, "seconds": round(seconds, 3), "rss_mb": round(_rss_mb(), 1), **extra}
        )
    )


if __name__ == "__main__":
    main()
