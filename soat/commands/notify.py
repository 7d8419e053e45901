"""`soat notify [--dry-run -o DIR] [--unit CODE]`: e-mail each recipient the digest of their
late and missing items and the findings new since the previous snapshot, over SMTP
($SOAT_SMTP_URL, password in $SOAT_SMTP_PASSWORD), or write them as `.eml` files with
--dry-run. Reads the latest checked snapshot (or --snapshot). See docs/outreach.md.

Exit status 0 when every message went (or there was nothing to send), 1 when a message
failed or the server could not be used, 2 on usage errors.
"""

from __future__ import annotations

import sys

from soat import terminal
from soat.cli import add_db_option
from soat.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("notify", help="gửi thư nhắc (trễ hạn, chưa nộp, lỗi mới) qua thư điện tử")
    add_db_option(p)
    p.add_argument(
        "--app-db",
        help="CSDL ứng dụng (mặc định: $SOAT_APP_DB, nếu không có thì sqlite:///data/app.sqlite)",
    )
    p.add_argument("--snapshot", type=int, help="mã bản chụp (mặc định: bản đã kiểm tra mới nhất)")
    p.add_argument("--unit", help="chỉ các mục của đơn vị này (gồm mọi đơn vị trực thuộc)")
    p.add_argument(
        "--dry-run", action="store_true", help="không gửi: ghi mỗi thư thành tệp .eml vào -o"
    )
    p.add_argument("-o", "--output", help="thư mục ghi tệp .eml (với --dry-run)")
    p.add_argument(
        "--interval-days",
        type=int,
        help="số ngày trước khi nhắc lại một mục đã gửi (mặc định: $SOAT_NOTIFY_INTERVAL_DAYS, hoặc 7)",
    )
    p.add_argument(
        "--base-url", help="địa chỉ bảng điều khiển cho đường dẫn (mặc định: $SOAT_BASE_URL)"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.table import Table

    from soat import notify
    from soat.commands.export import _unit_label, checked_snapshot
    from soat.snapshot_store import read_connection

    if args.dry_run and not args.output:
        raise UsageError("--dry-run cần -o THƯ_MỤC (nơi ghi các tệp .eml)")
    if args.output and not args.dry_run:
        raise UsageError("-o chỉ dùng với --dry-run (thư thật được gửi qua SOAT_SMTP_URL)")
    con = read_connection(args.db)
    try:
        snap = checked_snapshot(con, args.snapshot)
        _unit_label(con, snap["snapshot_id"], args.unit)
        digests, warnings = notify.preview(
            con,
            snap,
            unit=args.unit,
            interval=args.interval_days,
            base=args.base_url,
            app_db=args.app_db,
        )
    finally:
        con.close()

    console = terminal.console()
    for w in warnings:
        print(f"soat: cảnh báo: {w}", file=sys.stderr)
    if not digests:
        console.print(
            "Không có người nhận: chưa tài khoản cán bộ Phòng/Xã hay trường nào có địa chỉ thư "
            "(soat users edit TÊN --email …), chưa trường nào có cột 'Thư điện tử'."
        )
        return 0
    outcomes = notify.deliver(
        digests,
        dry_run_dir=args.output if args.dry_run else None,
        app_db=args.app_db,
    )
    table = Table(title=f"Thư nhắc — bản chụp #{snap['snapshot_id']}")
    for h in ("Người nhận", "Địa chỉ", "Trễ/chưa nộp", "Lỗi mới", "Đã nhắc gần đây", "Kết quả"):
        table.add_column(h)
    for o in outcomes:
        d = o.digest
        result = notify.STATUS_VI[o.status] + (f": {o.detail}" if o.detail else "")
        table.add_row(
            d.recipient.label,
            d.recipient.address,
            str(d.submissions.height),
            str(d.findings.height),
            str(d.held),
            result,
        )
    console.print(table)
    sent = sum(o.status in (notify.SENT, notify.WRITTEN) for o in outcomes)
    failed = sum(o.status == notify.FAILED for o in outcomes)
    if sent == 0 and failed == 0:
        console.print("Không có gì mới để gửi.")
    elif args.dry_run:
        console.print(f"Đã ghi {sent} thư vào {args.output} (chưa gửi, không ghi nhận đã gửi).")
    else:
        console.print(f"Đã gửi {sent} thư." + (f" {failed} thư lỗi." if failed else ""))
    return 1 if failed else 0
