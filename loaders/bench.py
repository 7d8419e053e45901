"""Loading benchmark: `python -m loaders.bench [--students N] [--record]`.

Generates N students (default 1 M) and 1,000 schools as CSV with DuckDB in a temp dir,
then times, in the same run and on fresh DuckDB files in that dir:
  bare   CREATE TABLE AS SELECT * FROM read_csv(...) of both files (DuckDB's floor)
  load   loaders.load.load_source (reading rules, normalisation, rejects; no checks)
--record rewrites the "## Loading (1 M students, CSV)" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import tempfile
import time
from pathlib import Path

import duckdb

SECTION = "## Loading (1 M students, CSV)"


def generate(d: Path, n: int) -> None:
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT 'S' || i AS "Mã trường", 'Trường ' || i AS "Tên trường",
              '79760' AS "Mã đơn vị quản lý", 'TH&THCS' AS "Cấp học", 'Công lập' AS "Loại hình",
              'SMAS' AS "Phần mềm QLNT", 'Nguyễn Văn ' || i AS "Hiệu trưởng",
              'Mức 1' AS "Đạt chuẩn quốc gia", 'Cấp độ 2' AS "Kiểm định chất lượng",
              'Có' AS "Kết nối internet"
            FROM range(1000) t(i)) TO '{d}/schools.csv' (HEADER, DELIMITER ',')"""
    )
    con.execute(
        f"""COPY (SELECT 'HS' || i AS "Mã học sinh", 'S' || (i % 1000) AS "Mã trường",
              '1A' || (i % 30) AS "Mã lớp", '2024-2025' AS "Năm học",
              'Trần Thị Bình ' || i AS "Họ và tên",
              strftime(DATE '2010-01-01' + CAST(i % 4000 AS INTEGER), '%d/%m/%Y') AS "Ngày sinh",
              CASE WHEN i % 2 = 0 THEN 'Nam' ELSE 'Nữ' END AS "Giới tính",
              CASE WHEN i % 10 = 0 THEN 'Tày' ELSE 'Kinh' END AS "Dân tộc",
              lpad(CAST(79318000000 + i AS VARCHAR), 12, '0') AS "Số định danh cá nhân",
              'Đã xác thực' AS "Xác thực định danh",
              'Số ' || i || ' Lê Lợi, Phường Bến Nghé' AS "Địa chỉ thường trú",
              'Đang học' AS "Trạng thái", '10/09/2024 08:00' AS "Ngày cập nhật"
            FROM range({n}) t(i)) TO '{d}/students.csv' (HEADER, DELIMITER ',')"""
    )
    con.close()


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
            mem = f"{kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, AttributeError):
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f} at start"
    return f"{os.cpu_count()} CPUs (nproc), {mem}, {platform.platform()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}{load}"


def run(n: int, repeat: int = 2) -> dict:
    from loaders.load import load_source
    from soat import store

    with tempfile.TemporaryDirectory(prefix="soat-bench-") as tmp:
        d = Path(tmp) / "export"
        d.mkdir()
        t = time.perf_counter()
        generate(d, n)
        gen = time.perf_counter() - t
        size = sum(p.stat().st_size for p in d.iterdir())
        info = machine()

        bares, ours_, reads = [], [], []
        for k in range(repeat):  # interleaved; the minimum of each is reported
            con = duckdb.connect(str(Path(tmp) / f"bare{k}.duckdb"))
            t = time.perf_counter()
            con.execute(f"CREATE TABLE students AS SELECT * FROM read_csv('{d}/students.csv')")
            con.execute(f"CREATE TABLE schools AS SELECT * FROM read_csv('{d}/schools.csv')")
            bares.append(time.perf_counter() - t)
            con.close()

            con = store.connect(str(Path(tmp) / f"soat{k}.duckdb"))
            t = time.perf_counter()
            result = load_source(con, str(d), draft=True)  # a new file, as a store's draft
            ours_.append(time.perf_counter() - t)
            reads.append(result.read_seconds)
            con.close()
        bare, ours = min(bares), min(ours_)
    return {
        "students": n,
        "gen": gen,
        "size_mb": size / 1e6,
        "bare": bare,
        "load": ours,
        "ratio": ours / bare,
        "repeat": repeat,
        "read": reads[ours_.index(ours)],
        "all_bare": bares,
        "all_load": ours_,
        "rows": result.rows,
        "rejected": result.rejected,
        "machine": info,
    }


def render(r: dict) -> str:
    return f"""{SECTION}

Measured by `python -m loaders.bench --record` ({time.strftime("%Y-%m-%d")}): {r["students"]:,} students
+ 1,000 schools as CSV ({r["size_mb"]:.0f} MB), generated with DuckDB in a temp dir; both
timings in the same run, each into a fresh DuckDB file; best of {r["repeat"]} interleaved runs
(all: bare {", ".join(f"{x:.2f}" for x in r["all_bare"])} s; load {", ".join(f"{x:.2f}" for x in r["all_load"])} s).

| step | seconds |
| --- | ---: |
| bare `CREATE TABLE AS SELECT * FROM read_csv(...)` (both files) | {r["bare"]:.2f} |
| `load_source` (header detection, cleaning, vocabularies, dates, rejects, one transaction; no checks) | {r["load"]:.2f} |
| … of which reading (read_csv + cleaning into a temp table) | {r["read"]:.2f} |
| … of which writing (typed INSERT, vocabularies, rejects, commit) | {r["load"] - r["read"]:.2f} |
| ratio load / bare | {r["ratio"]:.1f}× |

Rows loaded: {r["rows"]}; rejects: {r["rejected"]}.
Machine: {r["machine"]}. The machine is shared with other jobs (load average above): single runs vary by up to 2×, so compare the two timings of one run (the ratio).
"""


def record(text: str, path: Path = Path("BENCHMARKS.md")) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    if pattern.search(old):
        new = pattern.sub(lambda m: text.rstrip() + "\n", old)
    else:
        new = old.rstrip() + "\n\n" + text
    path.write_text(new, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    r = run(args.students, args.repeat)
    text = render(r)
    print(text)
    if args.record:
        record(text)


if __name__ == "__main__":
    main()
