"""National scale: load + catalogue at several sizes, measured, and the extrapolation to
24 M students (the issue's target: ≤ 5 min) from the slope between the two largest.

    python -m benchmarks.national [--sizes 2000000,6000000] [--target 24000000]
                                  [--copies K] [--workdir DIR] [--keep]

Each size: `soat sample --students N --schools 1.5·N/1000 --format csv` (3 000 schools at
2 M, 9 000 at 6 M), then the bench's `load` and `checks` steps (benchmarks/step.py), each
in its own process, into a fresh DuckDB file (seconds and peak RSS per step). Generated
data is deleted afterwards unless --keep.

`soat sample` builds every table in memory and is killed above ≈ 10 M students here. With
`--copies K` a size N is K provinces of N/K students each: one is generated and copied K
times under other province codes (benchmarks/replicate.py), so 12 copies of 2 M make the
country's 24 M.
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


def generate(folder: Path, students: int, schools: int) -> float:
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "soat", "sample", "-o", str(folder)]
    cmd += ["--students", str(students), "--schools", str(schools), "--format", "csv"]
    cmd += ["--weeks", "1"]
    proc = subprocess.run([*cmd, "--seed", "1"], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"soat sample failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def measure(students: int, work: Path, keep: bool, say, copies: int = 1) -> dict:
    folder = work / f"p{students}"
    db = work / f"soat{students}.duckdb"
    each = students // copies
    schools = max(40, each * 3 // 2000)
    if copies == 1:
        gen = generate(folder, students, schools)
    else:
        from benchmarks.replicate import replicate

        base = work / f"p{students}_base"
        gen = generate(base, each, schools)
        t0 = time.perf_counter()
        replicate(base, folder, copies)
        gen += time.perf_counter() - t0
        shutil.rmtree(base, ignore_errors=True)
    for extra in ("ground_truth.csv", "expected_late.csv"):  # written beside the folder
        (work / extra).unlink(missing_ok=True)
    size_mb = sum(f.stat().st_size for f in folder.glob("*")) / 1e6
    say(
        f"{students:,} students ({copies} × {each:,}), {schools * copies:,} schools: "
        f"{size_mb:.0f} MB generated in {gen:.1f}s"
    )
    out = {
        "students": students,
        "copies": copies,
        "schools": schools * copies,
        "size_mb": round(size_mb),
        "generate": gen,
    }
    for step in ("load", "checks"):
        r = run_step(step, folder, db)
        out[step] = {k: r[k] for k in ("seconds", "rss_mb", "wall")}
        if step == "checks":
            out[step]["phases"] = r.get("phases")
        say(f"  {step}: {r['seconds']:.2f}s, peak RSS {r['rss_mb']:.0f} MB")
    out["db_mb"] = round(db.stat().st_size / 1e6)
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
        db.unlink(missing_ok=True)
    return out


def extrapolate(results: list[dict], target: int) -> dict:
    a, b = sorted(results, key=lambda r: r["students"])[-2:]
    dm = (b["students"] - a["students"]) / 1e6
    slope_load = (b["load"]["seconds"] - a["load"]["seconds"]) / dm
    slope_checks = (b["checks"]["seconds"] - a["checks"]["seconds"]) / dm
    extra = (target - b["students"]) / 1e6
    load = b["load"]["seconds"] + extra * slope_load
    checks = b["checks"]["seconds"] + extra * slope_checks
    rss = {
        s: b[s]["rss_mb"] + extra * (b[s]["rss_mb"] - a[s]["rss_mb"]) / dm
        for s in ("load", "checks")
    }
    return {
        "target": target,
        "slope_load_s_per_m": round(slope_load, 2),
        "slope_checks_s_per_m": round(slope_checks, 2),
        "load": round(load, 1),
        "checks": round(checks, 1),
        "total": round(load + checks, 1),
        "rss_mb": {k: round(v) for k, v in rss.items()},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="2000000,6000000")
    p.add_argument("--target", type=int, default=24_000_000)
    p.add_argument("--workdir")
    p.add_argument("--keep", action="store_true", help="keep the generated files and databases")
    p.add_argument(
        "--copies", type=int, default=1, help="each size as this many copies of one province"
    )
    a = p.parse_args()

    def say(m: str) -> None:
        print(m, file=sys.stderr, flush=True)

    work = Path(a.workdir or tempfile.mkdtemp(prefix="soat-national-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = [
            measure(int(n), work, a.keep, say, a.copies) for n in a.sizes.split(",") if n.strip()
        ]
    finally:
        if not a.workdir and not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    out = {"results": results}
    if len(results) >= 2:
        out["extrapolated"] = extrapolate(results, a.target)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
