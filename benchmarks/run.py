"""`make bench`: generate provinces with `soat sample`, measure each step in one run on
the same files, and append the figures (with date and machine) to BENCHMARKS.md.

    python -m benchmarks.run [--students 2000000] [--curve 100000,500000,1000000]
                             [--baseline-rows 200000] [--repeat 5] [--no-record] [--browser]
                             [--xlsx-students 100000] [--sessions 1,10,30 [--load-with 10]]

The target's figure is `soat load`, the command a user runs: it loads the folder and runs
the whole catalogue on the new snapshot in one process (step `soat_load`). The `load` and
`checks` steps measure the same two halves apart (each in its own process, the catalogue
reopening the file), to show where the time goes.

At the headline size the floor, the load, the catalogue and `soat load` are measured
--repeat times, interleaved (floor, load, catalogue, soat load, floor, …), each time on
fresh DuckDB files: on a shared 2-core machine one sample of a step varies by ±30 %, so
the ratio is taken from the medians and the range is printed beside it.

Then the same province, smaller (--xlsx-students, default 100 k), as .xlsx workbooks:
`soat load` of them and the readers' share (load_source's phase 1, where fastexcel reads
the sheets into Arrow).

With --sessions, the load test (benchmarks/load_test.py) runs against the store `soat load`
wrote: one run per session count, `soat load` of the same province during the run of
--load-with sessions.

Every step runs in its own process (benchmarks/step.py) so its peak RSS is its own.
Data goes to a temporary folder that is deleted afterwards (never committed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("bare_scan", "bare_sql", "load", "checks", "soat_load", "exports", "pages")
# the catalogue checks whose rules benchmarks/baseline.py implements row by row
BASELINE_CHECKS = (
    "student.id_format",
    "student.id_province",
    "student.id_mismatch",
    "student.dob_invalid",
    "student.missing_field",
    "student.unverified",
)


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError):
        pass
    import duckdb
    import polars

    return (
        f"{os.cpu_count()} cores ({cpu}), {mem} RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, polars {polars.__version__}"
    )


def run_step(step: str, folder: Path, db: Path, rows: int | None = None) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.step", step, "--dir", str(folder), "--db", str(db)]
    if rows:
        cmd += ["--rows", str(rows)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"step {step} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall"] = round(wall, 3)
    return out


def generate(folder: Path, students: int, fmt: str = "csv") -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "soat",
            "sample",
            "-o",
            str(folder),
            "--students",
            str(students),
            # ≈ 670 students a school, as in a large province (2 M students, 3 000 schools)
            "--schools",
            str(max(40, students // 670)),
            "--format",
            fmt,
            "--seed",
            "1",
            "--weeks",  # one snapshot's files (benchmarks/history.py measures the second week)
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"soat sample failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def browser_pages(db: Path) -> dict:
    """benchmarks/page_timing.py in its own process: each page served, in Chromium."""
    cmd = [sys.executable, "-m", "benchmarks.page_timing", "--db", str(db), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"page_timing failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


REPEATED = ("bare_scan", "load", "checks", "soat_load")


def _remove_db(db: Path) -> None:
    """A DuckDB file and its WAL, or a snapshot store directory, for the next step to start
    from nothing."""
    if db.is_dir():
        shutil.rmtree(db)
    for p in (db, db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)


def measure_xlsx(students: int, work: Path, progress) -> dict:
    """The same province as .xlsx workbooks (a smaller size: the sample writer and the
    workbooks are slow to make): `soat load` and the readers' share of it."""
    folder = work / f"x{students}"
    gen = generate(folder, students, "xlsx")
    size_mb = sum(f.stat().st_size for f in folder.glob("*")) / 1e6
    db = work / f"xlsx{students}.duckdb"
    res = run_step("load", folder, db)
    progress(f"  xlsx load: {res['seconds']:.2f}s (reading the sheets {res['read_seconds']:.2f}s)")
    _remove_db(db)
    shutil.rmtree(folder, ignore_errors=True)
    return {"students": students, "generate": gen, "size_mb": size_mb, **res}


def xlsx_line(x: dict) -> str:
    share = x["read_seconds"] / x["seconds"] if x["seconds"] else 0.0
    return (
        f"XLSX: {x['students']:,} students as .xlsx workbooks ({x['size_mb']:.1f} MB, "
        f"{x['rows']:,} rows in all sheets; generated in {x['generate']:.1f} s): `soat load` "
        f"{x['seconds']:.2f} s, of which reading the sheets (fastexcel into Arrow, staged) "
        f"{x['read_seconds']:.2f} s (**{share:.0%}**); peak RSS {x['rss_mb']:.0f} MB."
    )


def measure(
    students: int,
    work: Path,
    baseline_rows: int | None,
    progress,
    browser: bool = False,
    repeat: int = 1,
    sessions: list[int] | None = None,
    load_with: int | None = None,
) -> dict:
    folder = work / f"p{students}"
    gen = generate(folder, students)
    progress(f"{students:,} students generated in {gen:.1f}s")
    size_mb = sum(f.stat().st_size for f in folder.glob("*")) / 1e6
    res = {"students": students, "generate": gen, "size_mb": size_mb, "steps": {}}
    floor_db = work / f"floor{students}.duckdb"
    soat_db = work / f"soat{students}.duckdb"
    one_db = work / f"store{students}"  # `soat load`, the one command: a snapshot store

    def db_for(step: str) -> Path:
        # exports and pages read the store `soat load` wrote, as the dashboard does
        if step.startswith("bare"):
            return floor_db
        return one_db if step in ("soat_load", "exports", "pages") else soat_db

    samples: dict[str, list[dict]] = {k: [] for k in REPEATED}
    for i in range(repeat - 1):  # the extra rounds; the last round is the full one below
        for step in REPEATED:
            if step != "checks":
                _remove_db(db_for(step))
            samples[step].append(run_step(step, folder, db_for(step)))
            progress(f"  round {i + 1} {step}: {samples[step][-1]['seconds']:.2f}s")
    for p in (floor_db, soat_db, one_db):
        _remove_db(p)
    for step in STEPS:
        res["steps"][step] = run_step(step, folder, db_for(step))
        progress(
            f"  {step}: {res['steps'][step]['seconds']:.2f}s, {res['steps'][step]['rss_mb']:.0f} MB"
        )
    if repeat > 1:
        res["samples"] = {}
        for step in REPEATED:
            secs = sorted(x["seconds"] for x in [*samples[step], res["steps"][step]])
            res["samples"][step] = secs
            # the median is the figure; RSS and the other fields stay those of the last round
            res["steps"][step] = {**res["steps"][step], "seconds": secs[len(secs) // 2]}
    if baseline_rows:
        res["steps"]["baseline"] = run_step("baseline", folder, soat_db, rows=baseline_rows)
        progress(f"  baseline: {res['steps']['baseline']['seconds']:.2f}s")
    if browser:
        res["browser"] = browser_pages(one_db)
        progress("  browser pages timed")
    if sessions:
        res["sessions"] = concurrent_sessions(one_db, folder, sessions, load_with, progress)
    for p in (floor_db, soat_db, one_db):
        _remove_db(p)
    shutil.rmtree(folder, ignore_errors=True)
    return res


def concurrent_sessions(db: Path, folder: Path, counts, load_with, progress) -> list[dict]:
    """benchmarks/load_test.py against the store `soat load` wrote: one run per session
    count; during the run of `load_with` sessions, `soat load` of the same folder."""
    from benchmarks.load_test import run_load_test

    out = []
    for n in counts:
        progress(f"  {n} concurrent sessions…")
        run = run_load_test(
            str(db), n, load_source=str(folder) if n == load_with else None, progress=progress
        )
        out.append(run.summary())
        progress(f"  {n} sessions: {out[-1]}")
    return out


def sessions_text(rows: list[dict]) -> str:
    from benchmarks.load_test import table as sessions_table

    lines = [
        "",
        "Concurrent sessions (benchmarks/load_test.py: sessions 2 s apart, a page every 10 s, "
        "all six pages; server and Chromium on this machine):",
        "",
        sessions_table(rows),
    ]
    for r in rows:
        if r["load"]:
            lines.append(
                f"During the {r['sessions']}-session run, `soat load` of the same province took "
                f"{r['load']['seconds']} s and published snapshot {r['load'].get('new_snapshot')}"
                f"; a session opened afterwards saw it: {r['load'].get('seen')}."
            )
        for e in r["errors"][:5]:
            lines.append(f"- error ({r['sessions']} sessions): {e}")
    return "\n".join(lines)


def table(res: dict) -> str:
    s = res["steps"]
    floor = s["bare_scan"]["seconds"]
    n = res["students"]
    lines = [
        f"**{n:,} students** ({res['size_mb']:.0f} MB of CSV; generated in {res['generate']:.1f} s)",
        "",
        "| step | seconds | students/s | × floor | peak RSS (MB) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in (*STEPS, "baseline"):
        if name not in s:
            continue
        sec = s[name]["seconds"]
        rows = s[name].get("rows") if name == "baseline" else n
        rate = f"{rows / sec:,.0f}" if sec and rows else "–"
        lines.append(
            f"| {name} | {sec:.2f} | {rate} | {sec / floor:.2f} | {s[name]['rss_mb']:.0f} |"
        )
    one = s["soat_load"]["seconds"]
    total = s["load"]["seconds"] + s["checks"]["seconds"]
    lines += [
        "",
        f"load + catalogue + metrics, as a user runs them (`soat load`: one command, one "
        f"process): {one:.2f} s = **{one / floor:.2f} × the bare DuckDB load**. "
        f"As two processes (the `load` step, then the `checks` step reopening the file): "
        f"{total:.2f} s = {total / floor:.2f} ×.",
    ]
    if "samples" in res:
        sm = res["samples"]
        lines.append(
            f"Medians of {len(sm['load'])} interleaved rounds (seconds, sorted): bare "
            + ", ".join(f"{x:.2f}" for x in sm["bare_scan"])
            + "; load "
            + ", ".join(f"{x:.2f}" for x in sm["load"])
            + "; catalogue "
            + ", ".join(f"{x:.2f}" for x in sm["checks"])
            + "; `soat load` "
            + ", ".join(f"{x:.2f}" for x in sm["soat_load"])
            + ". Other figures are those of the last round."
        )
    ph = s["checks"].get("phases")
    if ph:
        lines.append(
            f"Catalogue phases: prelude (tables shared by the checks) {ph['prelude']:.2f} s, "
            f"{len(s['checks'].get('per_check', {}))} checks {ph['checks']:.2f} s, "
            f"history (change, since, resolved) {ph.get('history', 0.0):.3f} s, "
            f"derived (timeliness, metrics, finding changes) {ph['derived']:.2f} s."
        )
    if "baseline" in s:
        b = s["baseline"]
        per = s["checks"].get("per_check", {})
        same = sum(per.get(c, 0.0) for c in BASELINE_CHECKS)
        prelude = (ph or {}).get("prelude", 0.0)
        theirs = b["seconds"] / b["rows"]
        lines.append(
            f"Row-wise pandas baseline (the rules of {', '.join(BASELINE_CHECKS)}; "
            f"`df.apply(axis=1)` on {b['rows']:,} students of the same file, reading excluded): "
            f"{b['seconds']:.1f} s ({b['rows'] / b['seconds']:,.0f} rows/s). The same checks in "
            f"the catalogue: {same:.2f} s for {n:,} students → **{theirs / (same / n):,.0f} × "
            f"faster per row**; counting the whole prelude too ({same + prelude:.2f} s): "
            f"**{theirs / ((same + prelude) / n):,.0f} ×**."
        )
    if "pages" in s and "queries" in s["pages"]:
        lines += ["", "| dashboard page query | seconds |", "| --- | ---: |"]
        for q, sec in s["pages"]["queries"].items():
            lines.append(f"| {q} | {sec:.3f} |")
    if "browser" in res:
        from benchmarks.page_timing import table as page_table

        lines += ["", page_table(res["browser"]["pages"])]
    if "sessions" in res:
        lines.append(sessions_text(res["sessions"]))
    if "exports" in s and "exports" in s["exports"]:
        lines += ["", "| export (csv) | seconds | rows |", "| --- | ---: | ---: |"]
        for k, v in s["exports"]["exports"].items():
            lines.append(f"| {k} | {v['seconds']:.2f} | {v['rows']:,} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--students", type=int, default=2_000_000)
    p.add_argument(
        "--curve",
        default="100000,500000,1000000",
        help="smaller sizes for the scaling curve ('' to skip)",
    )
    p.add_argument("--baseline-rows", type=int, default=200_000)
    p.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="rounds of floor/load/catalogue/soat load at the headline size (medians are reported)",
    )
    p.add_argument(
        "--no-record", action="store_true", help="print only, do not append to BENCHMARKS.md"
    )
    p.add_argument(
        "--xlsx-students",
        type=int,
        default=100_000,
        help="also load this many students as .xlsx workbooks (0 to skip)",
    )
    p.add_argument("--workdir", help="where to generate (default: a temporary folder)")
    p.add_argument(
        "--browser",
        action="store_true",
        help="also time each dashboard page served, in Chromium (benchmarks/page_timing.py)",
    )
    p.add_argument(
        "--sessions",
        default="",
        help="also run the concurrent-sessions load test, e.g. 1,10,30 (benchmarks/load_test.py)",
    )
    p.add_argument(
        "--load-with",
        type=int,
        default=10,
        help="run `soat load` during the load test with this many sessions",
    )
    a = p.parse_args()
    session_counts = [int(x) for x in a.sessions.split(",") if x.strip()]

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    sizes = [int(x) for x in a.curve.split(",") if x.strip()] + [a.students]
    work = Path(a.workdir or tempfile.mkdtemp(prefix="soat-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for n in sizes:
            progress(f"== {n:,} students")
            last = n == a.students
            results.append(
                measure(
                    n,
                    work,
                    a.baseline_rows if last else None,
                    progress,
                    a.browser and last,
                    a.repeat if last else 1,
                    session_counts if last else None,
                    a.load_with,
                )
            )
        if a.xlsx_students:
            progress(f"== {a.xlsx_students:,} students as .xlsx")
            xlsx = measure_xlsx(a.xlsx_students, work, progress)
    finally:
        if not a.workdir:
            shutil.rmtree(work, ignore_errors=True)

    head = f"## Run of {dt.datetime.now():%Y-%m-%d %H:%M} — {machine()}"
    curve = [
        "",
        "Scaling (seconds):",
        "",
        "| students | bare load | load step | catalogue step | the two | `soat load` "
        "(one command) | × floor | s per M students |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        s = r["steps"]
        tot = s["load"]["seconds"] + s["checks"]["seconds"]
        one = s["soat_load"]["seconds"]
        curve.append(
            f"| {r['students']:,} | {s['bare_scan']['seconds']:.2f} | {s['load']['seconds']:.2f} | "
            f"{s['checks']['seconds']:.2f} | {tot:.2f} | {one:.2f} | "
            f"{one / s['bare_scan']['seconds']:.2f} | {one / r['students'] * 1e6:.2f} |"
        )
    extra = ["", xlsx_line(xlsx)] if a.xlsx_students else []
    text = "\n".join([head, "", table(results[-1]), *curve, *extra, ""])
    print(text)
    if not a.no_record:
        path = ROOT / "BENCHMARKS.md"
        prev = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
        path.write_text(prev.rstrip() + "\n\n" + text, encoding="utf-8")
        (ROOT / "benchmarks" / "last_run.json").write_text(
            json.dumps(
                {"sizes": results, "xlsx": xlsx if a.xlsx_students else None},
                indent=1,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
