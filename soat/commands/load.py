"""`soat load SOURCE [--year] [--as-of] [--name]`: read a folder, workbook or SQL URL into a
new snapshot (atomically), run the catalogue on it, print a summary."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sys
import time

from soat import terminal
from soat.cli import add_db_option
from soat.errors import UsageError, stopped_as

SHOW_REJECTS = 20


def register(sub) -> None:
    p = sub.add_parser("load", help="nạp dữ liệu (thư mục, tệp .xlsx hoặc URL) thành bản chụp mới")
    p.add_argument("source", help="thư mục, tệp .xlsx, hoặc URL SQLAlchemy")
    p.add_argument("--year", help="năm học, dạng 2024-2025 (mặc định: năm học phổ biến nhất)")
    p.add_argument("--as-of", dest="as_of", help="ngày chốt số liệu YYYY-MM-DD")
    p.add_argument("--name", help="tên bản chụp")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="không chờ khi một lệnh nạp khác đang ghi kho: báo bận và thoát",
    )
    add_db_option(p)
    p.set_defaults(func=run)


def parse_as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--as-of '{value}' không đúng dạng YYYY-MM-DD") from None


def parse_year(value: str | None) -> str | None:
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d{4})\s*[-/]\s*(\d{4})\s*", value)
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise UsageError(f"--year '{value}' không đúng dạng 2024-2025")
    return f"{m.group(1)}-{m.group(2)}"


def run(args) -> int:

    from soat.snapshot_store import SnapshotStore

    as_of = parse_as_of(args.as_of)
    year = parse_year(args.year)
    console = terminal.console()
    target = SnapshotStore.open(args.db, create=True)
    t0 = time.perf_counter()
    with (
        interrupted_load(),
        target.writing(wait=not args.no_wait, on_wait=console.print) as writer,
        writer.draft() as draft,
    ):
        result, results = load_and_check(draft, args.source, year, as_of, args.name, console)
        print_load_summary(draft.con, result, console)
        print_change_line(draft.con, result.snapshot_id, console)
        newer = [
            e for e in writer.catalog.entries if result.as_of and e.as_of and e.as_of > result.as_of
        ]
        draft.publish()
    print_summary_tail(results, result, t0, console)
    if newer:  # loaded late for an earlier date: the later snapshots compare past it
        ids = ", ".join(str(e.snapshot_id) for e in newer)
        console.print(
            f"[yellow]! Ngày số liệu {result.as_of:%d/%m/%Y} trước ngày của bản chụp {ids}: "
            "các bản chụp đó vẫn so sánh phát hiện với bản chụp trước ngày này. Chạy "
            f"'soat check --snapshot {result.snapshot_id} --and-later' để so sánh lại theo "
            "thứ tự ngày.[/yellow]",
            highlight=False,
            markup=True,
        )
    return 0


def load_and_check(draft, source, year, as_of, name, console):
    """Read `source` into the draft snapshot and run the catalogue on it, with a progress
    bar on a terminal. Returns (LoadResult, check results)."""
    from loaders.load import load_source
    from soat.engine import run_checks

    sid = draft.snapshot_id
    with _progress_line(console) as say:
        result = load_source(
            draft.con,
            source,
            year=year,
            as_of=as_of,
            name=name,
            snapshot_id=sid,
            history=draft.history,
            draft=True,
            progress=say,
        )
        say("chạy bộ kiểm tra")
        results = run_checks(
            draft.con, sid, progress=lambda cid: say(f"kiểm tra {cid}"), history=draft.history
        )
    return result, results


@contextlib.contextmanager
def _progress_line(console):
    """A spinner and bar with what is being done, on a terminal (gone when the block ends);
    elsewhere (a pipe, a log, a timer's journal) nothing: the summary says it all."""
    if not sys.stdout.isatty():
        yield lambda _msg: None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("đọc nguồn dữ liệu", total=None)
        yield lambda msg: bar.update(task, description=msg)


def print_change_line(con, snapshot_id: int, console) -> None:
    """'So với bản chụp 1 (12/06/2025): 26 phát hiện mới, 13 đã khắc phục, 159 còn tồn tại'
    — what an officer wants to know first on Monday (soat.history's province counts)."""
    from soat.db import one
    from soat.report import number

    row = one(
        con,
        """SELECT b.previous_id, b.previous_as_of, r.new, r.resolved, r.persisting
           FROM history_baselines b
           LEFT JOIN finding_changes_rollup r
                  ON r.snapshot_id = b.snapshot_id AND r.grain = 'province'
           WHERE b.snapshot_id = $s""",
        {"s": snapshot_id},
    )
    if row is None or row[0] is None:
        console.print("Chưa có bản chụp trước để so sánh (mọi phát hiện đều tính từ bản này).")
        return
    prev, prev_as_of, new, resolved, persisting = row
    console.print(
        f"So với bản chụp {prev} ({prev_as_of:%d/%m/%Y}): {number(new or 0)} phát hiện mới, "
        f"{number(resolved or 0)} đã khắc phục, {number(persisting or 0)} còn tồn tại."
    )


def print_summary_tail(results, result, t0: float, console) -> None:
    from soat.report import print_check_summary, seconds_text

    print_check_summary(results, time.perf_counter() - t0 - result.seconds, console)
    console.print(f"Tổng thời gian: {seconds_text(time.perf_counter() - t0)}")


def interrupted_load():
    """Ctrl-C (or SIGTERM) while a snapshot is written: the draft is discarded by the
    store; the user reads that nothing changed."""
    return stopped_as(
        lambda: (
            "đã dừng (Ctrl-C) khi đang nạp: bản chụp mới không được ghi, "
            "các bản chụp đã có giữ nguyên"
        )
    )


def _table_label(name: str) -> str:
    """'Học sinh (students)': the contract's Vietnamese name, and the table's own name that
    other messages and `soat export` use."""
    from loaders.contract import table_label

    label = table_label(name)
    return f"{label} ({name})" if label != name else name


def print_load_summary(con, result, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    from soat.report import number, seconds_text

    console.print(
        f"Bản chụp {result.snapshot_id}: năm học {result.school_year}, "
        f"ngày chốt {result.as_of:%d/%m/%Y}, đọc trong {seconds_text(result.seconds)}"
    )
    if getattr(result, "identical_to", None) is not None:
        console.print(
            f"[yellow]! Dữ liệu nạp giống hệt bản chụp {result.identical_to} (cùng nội dung "
            "các tệp nguồn): bản chụp mới không có gì thay đổi.[/yellow]",
            highlight=False,
            markup=True,
        )
    table = Table(title="Số dòng đã nạp")
    table.add_column("Bảng")
    table.add_column("Nguồn")
    table.add_column("Số dòng", justify="right")
    table.add_column("Bị loại/lỗi giá trị", justify="right")
    for row in con.execute(
        """SELECT table_name, source || coalesce(' / ' || sheet, ''), rows, rejected
           FROM snapshot_tables WHERE snapshot_id = $s ORDER BY table_name""",
        {"s": result.snapshot_id},
    ).fetchall():
        table.add_row(_table_label(row[0]), row[1], number(row[2]), number(row[3]))
    console.print(table)
    for m in result.messages:
        if m.severity == "warning" or m.message.startswith("bỏ qua"):
            where = ", ".join(
                x
                for x in (
                    m.source,
                    m.sheet and f"sheet '{m.sheet}'",
                    m.row and f"dòng {m.row}",
                    m.column and f"cột '{m.column}'",
                )
                if x
            )
            text = f"{where}: {m.message}" if where else m.message
            console.print(f"[yellow]! {escape(text)}[/yellow]", highlight=False, markup=True)
    # one line per problem: the rejects of one file, sheet, column and reason together
    groups = con.execute(
        """SELECT source, sheet, "column", reason, row_dropped, count(*) AS n,
                  list("row" ORDER BY "row") FILTER (WHERE "row" IS NOT NULL)[:5] AS rows,
                  arg_min(value, "row") AS value
           FROM rejects WHERE snapshot_id = $s
           GROUP BY ALL ORDER BY n DESC, source, sheet, "column", reason""",
        {"s": result.snapshot_id},
    ).fetchall()
    if groups:
        total = sum(g[5] for g in groups)
        dropped = sum(g[5] for g in groups if g[4])
        console.print(
            f"{number(total)} giá trị/dòng không đọc được ({number(dropped)} dòng bị loại):"
        )
        for src, sheet, col, reason, is_dropped, n, rows, value in groups[:SHOW_REJECTS]:
            rows = rows or []
            at = None
            if n == 1 and rows:
                at = f"dòng {rows[0]}"
            elif rows:
                at = "dòng " + ", ".join(str(r) for r in rows) + (" …" if n > len(rows) else "")
            where = ", ".join(
                x for x in (src, sheet and f"sheet '{sheet}'", at, col and f"cột '{col}'") if x
            )
            what = "dòng bị loại" if is_dropped else "giá trị để trống"
            count = f"{number(n)} {'dòng' if is_dropped else 'giá trị'}: " if n > 1 else ""
            shown = (value or "")[:60]
            console.print(
                f"  {where}: {count}{reason} — '{shown}' ({what})", highlight=False, markup=False
            )
        if len(groups) > SHOW_REJECTS:
            console.print(f"  … và {number(len(groups) - SHOW_REJECTS)} vấn đề khác")
