"""Terminal summaries (rich tables) for load and check."""

from __future__ import annotations

import re

from rich.console import Console
from rich.table import Table

from soat import terminal

STATUS_VI = {"ran": "đã chạy", "not_run": "không chạy", "failed": "lỗi"}


def number(x: int) -> str:
    """12.345: Vietnamese thousands separator, on the number alone."""
    return f"{x:,}".replace(",", ".")


def seconds_text(seconds: float) -> str:
    """'1,2 giây': a decimal comma, as the dashboard writes numbers."""
    return f"{seconds:.1f}".replace(".", ",") + " giây"


def status_text(status: str, detail: str | None) -> str:
    """'đã chạy'; 'không chạy (không có dữ liệu: classes)'; 'không chạy (thiếu cột Số định
    danh cá nhân, bảng Học sinh)' (the headers accepted for a missing column are in the load
    summary above, once); 'lỗi: <DuckDB's message>'."""
    text = STATUS_VI.get(status, status)
    if not detail or status == "ran":
        return text
    if status == "not_run":
        if detail.startswith("thiếu cột "):
            parts = detail[len("thiếu cột ") :].split("; thiếu cột ")
            detail = "; ".join(
                "thiếu cột " + re.sub(r" \(bảng ([^;]*); tiêu đề chấp nhận: .*\)$", r", bảng \1", p)
                for p in parts
            )
        return f"{text} ({detail})"
    return f"{text}: {detail}"


def print_check_summary(results, seconds: float, console: Console | None = None) -> None:
    console = console or terminal.console()
    table = Table(title="Kết quả kiểm tra", show_lines=False)
    table.add_column("Mã kiểm tra")
    table.add_column("Trạng thái")
    table.add_column("Số lỗi phát hiện", justify="right")
    for r in results:
        table.add_row(r.check_id, status_text(r.status, r.detail), number(r.findings))
    console.print(table)
    total = sum(r.findings for r in results)
    not_run = sum(1 for r in results if r.status == "not_run")
    failed = sum(1 for r in results if r.status == "failed")
    console.print(
        f"{len(results)} kiểm tra, {number(total)} phát hiện"
        + (f", {not_run} không chạy" if not_run else "")
        + (f", {failed} lỗi" if failed else "")
        + f" — {seconds_text(seconds)}"
    )
