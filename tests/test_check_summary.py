"""soat.report: the check summary `soat load` and `soat check` print."""

from __future__ import annotations

import io

from rich.console import Console

from soat.engine import CheckResult
from soat.report import print_check_summary, status_text


def test_summary_reads_as_vietnamese():
    results = [
        CheckResult("student.missing_field", "ran", 12345, 0.1),
        CheckResult("class.empty", "not_run", 0, 0.0, "không có dữ liệu: classes"),
        CheckResult("staff.id_format", "failed", 0, 0.0, "Binder Error: x"),
    ]
    out = io.StringIO()
    print_check_summary(results, 1.25, Console(file=out, width=200))
    text = out.getvalue()
    # the thousands separator is a dot, the decimal one a comma; the sentence keeps its comma
    assert "3 kiểm tra, 12.345 phát hiện, 1 không chạy, 1 lỗi — 1,2 giây" in text
    assert "không chạy (không có dữ liệu: classes)" in text  # said once, not twice
    assert status_text("failed", "Binder Error: x") == "lỗi: Binder Error: x"
    assert status_text("ran", None) == "đã chạy"


def test_a_check_not_run_for_a_missing_column_says_which():
    from loaders.contract import missing_column_text

    detail = missing_column_text("students", "citizen_id")
    assert detail.startswith("thiếu cột Số định danh cá nhân (bảng Học sinh; tiêu đề chấp nhận:")
    assert "Số CCCD/Mã định danh" in detail
    both = detail + "; " + missing_column_text("students", "gender")
    assert status_text("not_run", both) == (
        "không chạy (thiếu cột Số định danh cá nhân, bảng Học sinh; "
        "thiếu cột Giới tính, bảng Học sinh)"
    )
