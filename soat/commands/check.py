"""`soat check [--snapshot ID]`: re-run the catalogue on a snapshot (default: the newest).

The snapshot's file is copied, checked again and published in place of the old one by a
rename (soat.snapshot_store): readers keep the old findings until they next open the store.
"""

from __future__ import annotations

import time

from soat.cli import add_db_option
from soat.errors import Interrupted, SoatError, is_interrupt


def register(sub) -> None:
    p = sub.add_parser("check", help="chạy lại bộ kiểm tra trên một bản chụp")
    add_db_option(p)
    p.add_argument("--snapshot", type=int, help="mã bản chụp (mặc định: mới nhất)")
    p.add_argument(
        "--no-wait", action="store_true", help="không chờ khi kho đang được ghi: báo bận và thoát"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from soat.engine import run_checks
    from soat.report import print_check_summary
    from soat.snapshot_store import SnapshotStore

    target = SnapshotStore.open(args.db)
    t0 = time.perf_counter()
    try:
        with target.writing(wait=not args.no_wait, on_wait=print) as writer:
            sid = args.snapshot or writer.newest()
            if sid is None:
                raise SoatError("chưa có bản chụp nào; hãy chạy 'soat load' trước")
            writer.entry(sid)  # an unknown id is named before anything is copied
            with writer.draft(copy_of=sid) as draft:
                results = run_checks(draft.con, sid, history=draft.history)
                draft.publish()
    except BaseException as exc:
        if isinstance(exc, SystemExit) or not is_interrupt(exc):
            raise
        raise Interrupted("đã dừng (Ctrl-C): kết quả kiểm tra cũ của bản chụp giữ nguyên") from exc
    print_check_summary(results, time.perf_counter() - t0)
    return 0
