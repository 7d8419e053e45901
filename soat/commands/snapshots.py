"""`soat snapshots`: list snapshots (id, name, source, as-of, loaded at, row counts)."""

from __future__ import annotations

import sys

from soat.cli import add_db_option


def register(sub) -> None:
    p = sub.add_parser("snapshots", help="liệt kê các bản chụp")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from loaders.contract import table_label
    from soat import store, vntime
    from soat.report import number

    con = store.connect(args.db)
    rows = con.execute(
        """SELECT snapshot_id, name, source, as_of, loaded_at, school_year, row_counts,
                  rejected, checked_at IS NOT NULL
           FROM snapshots ORDER BY snapshot_id"""
    ).fetchall()
    # a pipe or file gets wide lines (no wrapping inside table cells)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    if not rows:
        console.print("Chưa có bản chụp nào; hãy chạy 'soat load'.")
        return 0
    table = Table(title="Các bản chụp")
    for h in ("Mã", "Tên", "Nguồn", "Ngày chốt", "Nạp lúc", "Năm học", "Số dòng", "Đã kiểm tra"):
        table.add_column(h)
    for sid, name, source, as_of, loaded_at, year, counts, _rej, checked in rows:
        counts_text = ", ".join(  # "Học sinh: 8.343", as `soat load` names the tables
            f"{label}: {number(v)}"
            for label, v in sorted((table_label(k), v) for k, v in (counts or {}).items())
        )
        table.add_row(
            str(sid),
            name or "",
            source or "",
            f"{as_of:%d/%m/%Y}" if as_of else "",
            f"{vntime.vn(loaded_at):%d/%m/%Y %H:%M}" if loaded_at else "",  # Vietnam's time
            year or "",
            counts_text,
            "có" if checked else "chưa",
        )
    console.print(table)
    return 0
