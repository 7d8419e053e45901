"""Findings over time at scale: what the comparison with the previous snapshot costs.

    python -m benchmarks.history [--students 2000000] [--repeat 3] [--workdir DIR]

Generates the province and the same province a week later (`soat sample --weeks 2`,
soat/sample/week2.py), loads the first week (`soat load` into a snapshot store), then
measures --repeat interleaved rounds of (each in its own process, benchmarks/step.py):

  bare_scan       the floor: DuckDB reads the second week's CSV files into tables, nothing else
  soat_load       `soat load` of the second week into a copy of the store holding the first:
                  the catalogue compares with it (trend.* checks, each finding's change and
                  since, the resolved findings, the counts)
  soat_load_alone `soat load` of the second week into an empty store (nothing to compare
                  with): the difference is the comparison's own cost (each snapshot is a
                  file of its own, so the first week's size costs the second nothing)

then, once, the catalogue re-run on the two-snapshot store with its phases (`history` is
the change computation: matching, the UPDATE of change/since, the resolved rows) and
per-check seconds, the derived counts' share, and the dashboard's page queries on the
two-snapshot store (benchmarks/page_queries.py), as `make bench` times them. Prints the
figures as markdown (and JSON with --json); BENCHMARKS.md records them by hand. The machine
is shared: compare figures of one run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run import ROOT, run_step


def generate(folder: Path, students: int) -> float:
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "soat", "sample", "-o", str(folder), "--students", str(students)]
    cmd += ["--schools", str(max(40, students // 670)), "--format", "csv", "--seed", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"soat sample failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def _remove(db: Path) -> None:
    if db.is_dir():
        shutil.rmtree(db)
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2]


def measure(students: int, work: Path, repeat: int, say, reuse: bool = False) -> dict:
    first = work / "province"
    second = work / "province_week2"
    if reuse and first.is_dir() and second.is_dir():
        gen = 0.0
    else:
        gen = generate(first, students)
    say(f"{students:,} students, two weeks, generated in {gen:.1f}s")
    base = work / "week1"
    _remove(base)
    res: dict = {"students": students, "generate": round(gen, 1)}
    res["week1"] = run_step("soat_load", first, base)
    say(f"  week 1 loaded: {res['week1']['seconds']:.2f}s")
    two, alone, floor = work / "two", work / "alone", work / "floor.duckdb"
    samples: dict[str, list[dict]] = {"bare_scan": [], "soat_load": [], "soat_load_alone": []}
    for i in range(repeat):
        _remove(floor)
        samples["bare_scan"].append(run_step("bare_scan", second, floor))
        _remove(two)
        shutil.copytree(base, two)
        samples["soat_load"].append(run_step("soat_load", second, two))
        _remove(alone)
        samples["soat_load_alone"].append(run_step("soat_load", second, alone))
        say(
            f"  round {i + 1}: bare {samples['bare_scan'][-1]['seconds']:.2f}s, "
            f"soat load (with week 1) {samples['soat_load'][-1]['seconds']:.2f}s, "
            f"alone {samples['soat_load_alone'][-1]['seconds']:.2f}s"
        )
    res["samples"] = {k: sorted(x["seconds"] for x in v) for k, v in samples.items()}
    res["median"] = {k: _median(v) for k, v in res["samples"].items()}
    res["rss_mb"] = {k: max(x["rss_mb"] for x in v) for k, v in samples.items()}
    res["findings"] = samples["soat_load"][-1]["findings"]
    # the catalogue again on the two-snapshot store: its phases and per-check times
    res["checks"] = run_step("checks", second, two)
    say(f"  catalogue re-run: {res['checks']['phases']}")
    res["pages"] = run_step("pages", second, two)
    say(f"  page queries: worst {res['pages']['worst']:.3f}s")
    res["counts"] = _counts(two)
    for p in (base, two, alone, floor):
        _remove(p)
    return res


def _counts(db: Path) -> dict:
    from soat import store

    con = store.connect(str(db), read_only=True)
    try:
        sid = con.execute("SELECT max(snapshot_id) FROM snapshots").fetchall()[0][0]
        row = con.execute(
            """SELECT count(*) FILTER (WHERE change = 'new'),
                      count(*) FILTER (WHERE change = 'persisting'),
                      (SELECT count(*) FROM findings_resolved WHERE snapshot_id = $s),
                      (SELECT count(*) FROM finding_changes WHERE snapshot_id = $s)
               FROM findings WHERE snapshot_id = $s""",
            {"s": sid},
        ).fetchall()[0]
    finally:
        con.close()
    return dict(zip(("new", "persisting", "resolved", "finding_changes_rows"), row, strict=True))


def table(res: dict) -> str:
    m, sm = res["median"], res["samples"]
    floor = m["bare_scan"]
    ph = res["checks"]["phases"]
    per = res["checks"].get("per_check", {})
    trend = {k: v for k, v in per.items() if k.startswith("trend.")}
    c = res["counts"]
    lines = [
        f"**{res['students']:,} students, the second week loaded after the first** "
        f"(generated in {res['generate']} s; {res['findings']:,} findings: {c['new']:,} new, "
        f"{c['persisting']:,} persisting, {c['resolved']:,} resolved; "
        f"{c['finding_changes_rows']:,} finding_changes rows)",
        "",
        "| step (medians of the rounds) | seconds | × floor | rounds (sorted) | peak RSS (MB) |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    for k, label in (
        ("bare_scan", "bare DuckDB load of the second week"),
        ("soat_load", "`soat load` of the second week, after the first (compared)"),
        ("soat_load_alone", "`soat load` of the second week into an empty store"),
    ):
        lines.append(
            f"| {label} | {m[k]:.2f} | {m[k] / floor:.2f} | "
            + ", ".join(f"{x:.2f}" for x in sm[k])
            + f" | {res['rss_mb'][k]:.0f} |"
        )
    lines += [
        "",
        f"Catalogue re-run on the two-snapshot store: prelude {ph['prelude']:.2f} s, checks "
        f"{ph['checks']:.2f} s (the four trend checks "
        + ", ".join(f"{k.split('.')[1]} {v:.3f}" for k, v in sorted(trend.items()))
        + f" s), **history (change, since, resolved) {ph.get('history', 0):.3f} s**, derived "
        f"(timeliness, metrics, finding_changes) {ph['derived']:.2f} s.",
        "",
        "| dashboard page query (two snapshots) | seconds |",
        "| --- | ---: |",
    ]
    for q, sec in res["pages"]["queries"].items():
        lines.append(f"| {q} | {sec:.3f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--students", type=int, default=2_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workdir", help="where to generate (default: a temporary folder)")
    p.add_argument("--json", action="store_true", help="also print the raw figures as JSON")
    p.add_argument("--reuse", action="store_true", help="reuse the provinces already in --workdir")
    a = p.parse_args()

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    work = Path(a.workdir or tempfile.mkdtemp(prefix="soat-history-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        res = measure(a.students, work, a.repeat, say, reuse=a.reuse)
    finally:
        if not a.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print(table(res))
    if a.json:
        print(json.dumps(res, default=str))


if __name__ == "__main__":
    main()
