"""The audit log as the admin page reads it."""

from __future__ import annotations

from soat import audit


def test_the_audit_page_reads_an_events_detail_in_vietnamese():
    """The page showed the detail as raw JSON with English keys ({"kind": "late",
    "filters": …, "scope": {"role": "unit_officer" …)."""
    text = audit.describe(
        {
            "kind": "late",
            "filters": {"snapshot": 2, "f_unit": None, "f_new_only": False},
            "format": "xlsx",
            "scope": {"role": "unit_officer", "units": ["86857", "86858"]},
            "unmasked": True,
        }
    )
    assert text == (
        "loại: danh sách nộp muộn, chưa nộp; bộ lọc: (bản chụp: 2; chỉ phát hiện mới: không); "
        "định dạng: xlsx; phạm vi: (vai trò: Cán bộ Phòng/Xã; đơn vị: 86857, 86858); "
        "dữ liệu cá nhân không che: có"
    )
    assert audit.describe(None) == "" and audit.describe({"lạ": 1}) == "lạ: 1"
