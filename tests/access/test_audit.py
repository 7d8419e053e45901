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


def test_read_by_part_of_a_user_name(sqlite_db):
    """The page's 'Người dùng' box needed the exact name: 'phong' found 0 events of
    'phong.longho'. A part, any case; % and _ are letters there, not wildcards."""
    for name in ("phong.longho", "quantri", "a_b", "axb"):
        audit.record("login", name, None)
    assert {e["username"] for e in audit.read(user_like="PHONG")} == {"phong.longho"}
    assert {e["username"] for e in audit.read(user_like="a_b")} == {"a_b"}
    assert audit.read(user_like="%") == []
