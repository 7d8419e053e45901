"""Terminal summaries (rich tables) for load and check."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

STATUS_VI = {"ran": "đã chạy", "not_run": "không chạy (không có dữ liệu)", "failed": "lỗi"}


def print_check_summary(results, seconds: float, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="Kết quả kiểm tra", show_lines=False)
    table.add_column("Mã kiểm tra")
    table.add_column("Trạng thái")
    table.add_column("Số lỗi phát hiện", justify="right")
    for r in results:
        status = STATUS_VI.get(r.status, r.status)
        if r.detail and r.status != "ran":
            status += f": {r.detail}"
        table.add_row(r.check_id, status, f"{r.findings:,}".replace(",", "."))
    console.print(table)
    total = sum(r.findings for r in results)
    not_run = sum(1 for r in results if r.status != "ran")
    console.print(
        f"{len(results)} kiểm tra, {total:,} phát hiện".replace(",", ".")
        + (f", {not_run} không chạy" if not_run else "")
        + f" — {seconds:.1f} giây"
    )
