"""`soat check [--snapshot ID]`: re-run the catalogue on a snapshot (default: latest)."""

from __future__ import annotations

import time

from soat.cli import add_db_option
from soat.errors import SoatError


def register(sub) -> None:
    p = sub.add_parser("check", help="chạy lại bộ kiểm tra trên một bản chụp")
    add_db_option(p)
    p.add_argument("--snapshot", type=int, help="mã bản chụp (mặc định: mới nhất)")
    p.set_defaults(func=run)


def run(args) -> int:
    from soat import store
    from soat.engine import run_checks
    from soat.report import print_check_summary

    con = store.connect(args.db)
    sid = args.snapshot or store.latest_snapshot(con)
    if sid is None:
        raise SoatError("chưa có bản chụp nào; hãy chạy 'soat load' trước")
    if not con.execute("SELECT 1 FROM snapshots WHERE snapshot_id = $s", {"s": sid}).fetchall():
        raise SoatError(f"--snapshot {sid}: không có bản chụp này (xem 'soat snapshots')")
    t0 = time.perf_counter()
    results = run_checks(con, sid)
    print_check_summary(results, time.perf_counter() - t0)
    return 0
