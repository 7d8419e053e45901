"""`soat changes [--from ID] [--to ID] [--all]`: submission status changes between two
snapshots (default: the latest checked snapshot and the one before it), as CSV on stdout,
with a one-line count per change on stderr."""

from __future__ import annotations

import sys

from soat.cli import add_db_option
from soat.errors import SoatError


def register(sub) -> None:
    p = sub.add_parser("changes", help="thay đổi tình trạng nộp dữ liệu giữa hai bản chụp")
    add_db_option(p)
    p.add_argument("--from", dest="from_id", type=int, help="bản chụp trước (mặc định: liền trước)")
    p.add_argument("--to", dest="to_id", type=int, help="bản chụp sau (mặc định: mới nhất)")
    p.add_argument("--all", action="store_true", help="in cả các dòng không đổi")
    p.set_defaults(func=run)


def run(args) -> int:
    from soat.changes import CHANGE_VI, changes, checked_snapshots, previous_snapshot, summary
    from soat.snapshot_store import read_connection

    con = read_connection(args.db)
    checked = set(checked_snapshots(con))
    for opt, sid in (("--from", args.from_id), ("--to", args.to_id)):
        if sid is not None and sid not in checked:
            raise SoatError(f"không có bản chụp {sid} đã kiểm tra", column=opt)
    if args.to_id is None and not checked:
        raise SoatError("chưa có bản chụp nào; hãy chạy 'soat load' trước")
    later = args.to_id if args.to_id is not None else max(checked)
    if args.from_id is not None and args.from_id >= later:
        raise SoatError(
            f"--from cần một bản chụp trước bản chụp {later} (bản chụp so sánh)", column="--from"
        )
    df = changes(con, to_id=args.to_id, from_id=args.from_id, include_unchanged=args.all)
    from soat.exports import csv as csv_file

    csv_file.write(df, sys.stdout, bom=False)  # cells that could start a formula neutralised
    to_id = args.to_id if args.to_id is not None else max(checked)
    from_id = args.from_id if args.from_id is not None else previous_snapshot(con, to_id)
    _audit(df.height, from_id, to_id, args.all)
    counts = summary(df)
    print(
        "; ".join(f"{CHANGE_VI[k]}: {v}" for k, v in counts.items() if v or k != "unchanged"),
        file=sys.stderr,
    )
    return 0


def _audit(rows: int, from_id: int | None, to_id: int, unchanged: bool) -> None:
    """Every export is audited, this list too (which snapshots, how many rows); an audit
    log that cannot be written is a warning: the list is already out."""
    from soat import audit
    from soat.scope import Scope

    filters = {"from": from_id, "to": to_id, "all": True if unchanged else None}
    try:
        audit.log_export(Scope.admin(), "changes", filters, rows=rows, fmt="csv")
    except Exception as exc:  # noqa: BLE001
        print(f"soat: cảnh báo: không ghi được nhật ký truy cập: {exc}", file=sys.stderr)
