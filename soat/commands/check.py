"""`soat check [--snapshot ID] [--and-later]`: re-run the catalogue on a snapshot (default:
the newest).

The snapshot's file is copied, checked again and published in place of the old one by a
rename (soat.snapshot_store): readers keep the old findings until they next open the store.
A later snapshot compared its findings with this one's (new, persisting, since, resolved:
soat.history), so re-checking an older snapshot leaves those as they were, and the command
says so; `--and-later` re-checks every later snapshot too, in order (each `since` chains
from the snapshot before it).
"""

from __future__ import annotations

import time

from soat.cli import add_db_option
from soat.errors import SoatError, stopped_as


def register(sub) -> None:
    p = sub.add_parser("check", help="chạy lại bộ kiểm tra trên một bản chụp")
    add_db_option(p)
    p.add_argument("--snapshot", type=int, help="mã bản chụp (mặc định: mới nhất)")
    p.add_argument(
        "--and-later",
        dest="and_later",
        action="store_true",
        help="kiểm tra lại cả các bản chụp sau nó (để cột mới/còn tồn tại/đã khắc phục khớp)",
    )
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
    done: list[int] = []

    def stopped() -> str:
        again = f"; đã kiểm tra lại bản chụp {', '.join(map(str, done))}" if done else ""
        return f"đã dừng (Ctrl-C): bản chụp đang kiểm tra giữ kết quả cũ{again}"

    with stopped_as(stopped), target.writing(wait=not args.no_wait, on_wait=print) as writer:
        sid = args.snapshot or writer.newest()
        if sid is None:
            raise SoatError("chưa có bản chụp nào; hãy chạy 'soat load' trước")
        writer.entry(sid)  # an unknown id is named before anything is copied
        later = later_snapshots(writer.catalog.entries, sid)
        for one in [sid, *later] if args.and_later else [sid]:
            with writer.draft(copy_of=one) as draft:
                checked = run_checks(draft.con, one, history=draft.history)
                draft.publish()
            done.append(one)
            if one == sid:
                results = checked  # the summary is the asked snapshot's
            else:
                print(f"Đã kiểm tra lại bản chụp {one} (so với kết quả mới của bản trước nó).")
    print_check_summary(results, time.perf_counter() - t0)
    if later and not args.and_later:
        print(
            f"! Các bản chụp sau ({', '.join(map(str, later))}) đã so sánh phát hiện với kết quả "
            f"cũ của bản chụp {sid}: cột mới/còn tồn tại/đã khắc phục của chúng chưa đổi. "
            f"Chạy 'soat check --snapshot {sid} --and-later' để kiểm tra lại cả chúng."
        )
    return 0


def later_snapshots(entries, sid: int) -> list[int]:
    """The snapshots that compare, directly or through others, with `sid`: those after it in
    the order history uses (as-of date, then id; soat.history), in that order. By id alone a
    snapshot loaded late for an earlier date was taken for a later one, and a snapshot of a
    later date loaded before it was left comparing with the old result."""
    import datetime as dt

    def key(e):
        return (e.as_of or dt.date.min, e.snapshot_id)

    mine = next(key(e) for e in entries if e.snapshot_id == sid)
    return [e.snapshot_id for e in sorted(entries, key=key) if key(e) > mine]
