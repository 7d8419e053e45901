"""Download buttons whose files are the CLI exports' own output (soat.exports), never a
re-implementation: the same frame() with the same scope and filters, the same writer.

The files are built when the button is clicked (a callable for st.download_button, run
on its own thread with its own cursor) and each download is written to the audit log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from dashboard import db
from dashboard.query import Filters
from soat.scope import Scope

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def export_bytes(
    kind: str, fmt: str, snapshot_id: int, scope: Scope, filters: Filters, check: str | None = None
) -> bytes:
    """The bytes `soat export KIND --format FMT --snapshot ID [--unit --level --period --check]`
    writes, run with this user's Scope on the dashboard's read-only connection."""
    from soat.commands import export

    args = argparse.Namespace(
        kind=kind,
        format=fmt,
        output=None,
        db=None,
        snapshot=snapshot_id,
        unit=filters.unit,
        level=filters.level,
        period=filters.period,
        check=check,
        scope=scope,
        con=None,
    )
    with db.cursor() as cur:
        if cur is None:
            return b""
        args.con = cur
        with tempfile.TemporaryDirectory(prefix="soat-dl-") as tmp:
            args.output = str(Path(tmp) / f"{kind}.{fmt}")
            export.run(args)
            return Path(args.output).read_bytes()


def _deferred(
    kind: str, fmt: str, snapshot_id: int, scope: Scope, filters: Filters
) -> Callable[[], bytes]:
    def build() -> bytes:
        data = export_bytes(kind, fmt, snapshot_id, scope, filters)
        try:
            from soat import audit

            audit.log_export(
                scope,
                kind,
                {
                    "snapshot": snapshot_id,
                    "unit": filters.unit,
                    "level": filters.level,
                    "period": filters.period,
                },
                fmt=fmt,
            )
        except Exception:  # noqa: BLE001 - a failing audit write must not break the download
            pass
        return data

    return build


def file_name(
    kind: str, fmt: str, snapshot_id: int, filters: Filters, stem: str | None = None
) -> str:
    parts = [stem or kind, f"bc{snapshot_id}"]
    parts += [v for v in (filters.unit, filters.level, filters.period) if v]
    return "_".join(parts) + f"_{dt.date.today():%Y%m%d}.{fmt}"


def buttons(
    kind: str, snapshot_id: int, scope: Scope, filters: Filters, key: str, stem: str | None = None
) -> None:
    c1, c2, _ = st.columns([1, 1, 3])
    c1.download_button(
        "⬇ Tải Excel (.xlsx)",
        data=_deferred(kind, "xlsx", snapshot_id, scope, filters),
        file_name=file_name(kind, "xlsx", snapshot_id, filters, stem),
        mime=XLSX_MIME,
        key=f"{key}_xlsx",
        on_click="ignore",
    )
    c2.download_button(
        "⬇ Tải CSV",
        data=_deferred(kind, "csv", snapshot_id, scope, filters),
        file_name=file_name(kind, "csv", snapshot_id, filters, stem),
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )


def late_buttons(snapshot_id: int, scope: Scope, filters: Filters, key: str) -> None:
    buttons("late", snapshot_id, scope, filters, key, stem="danh_sach_nop_muon")


def findings_buttons(snapshot_id: int, scope: Scope, filters: Filters, stem: str, key: str) -> None:
    buttons("findings", snapshot_id, scope, filters, key, stem=stem)


# ---- the reminder letter and the per-school error sheets (soat export letter|school-sheets)


def document_bytes(
    kind: str, snapshot_id: int, scope: Scope, filters: Filters, suffix: str
) -> bytes:
    """The bytes `soat export letter|school-sheets --snapshot ID [--unit --level --period]
    -o FILE` writes (school-sheets as one .zip), with this user's Scope, on the dashboard's
    read-only connection."""
    from soat.commands import export

    args = argparse.Namespace(
        kind=kind,
        format=None,
        output=None,
        db=None,
        snapshot=snapshot_id,
        unit=filters.unit,
        level=filters.level,
        period=filters.period,
        check=None,
        target=None,
        all_schools=False,
        scope=scope,
        con=None,
    )
    with db.cursor() as cur:
        if cur is None:
            return b""
        args.con = cur
        with tempfile.TemporaryDirectory(prefix="soat-dl-") as tmp:
            args.output = str(Path(tmp) / f"{kind}{suffix}")
            export.run(args)
            return Path(args.output).read_bytes()


def _deferred_document(
    kind: str, snapshot_id: int, scope: Scope, filters: Filters, suffix: str
) -> Callable[[], bytes]:
    def build() -> bytes:
        data = document_bytes(kind, snapshot_id, scope, filters, suffix)
        try:
            from soat import audit

            audit.log_export(
                scope,
                kind,
                {
                    "snapshot": snapshot_id,
                    "unit": filters.unit,
                    "level": filters.level,
                    "period": filters.period,
                },
                fmt=suffix.lstrip("."),
            )
        except Exception:  # noqa: BLE001 - a failing audit write must not break the download
            pass
        return data

    return build


def letter_button(snapshot_id: int, scope: Scope, filters: Filters, key: str) -> None:
    """'Công văn đôn đốc (.docx)': the letter for the late and missing rows of the selection."""
    st.columns([2, 3])[0].download_button(
        "⬇ Công văn đôn đốc (.docx)",
        data=_deferred_document("letter", snapshot_id, scope, filters, ".docx"),
        file_name=file_name("letter", "docx", snapshot_id, filters, "cong_van_don_doc"),
        mime=DOCX_MIME,
        key=key,
        on_click="ignore",
        help="Dự thảo công văn theo Nghị định 30/2020/NĐ-CP, phụ lục là các trường chưa nộp, "
        "nộp trễ hạn theo bộ lọc đang chọn; để trống số, ngày ký và người ký",
    )


def school_sheets_button(snapshot_id: int, scope: Scope, filters: Filters, key: str) -> None:
    """'Phiếu lỗi từng trường (.zip)': one workbook per school of the selection (unit and
    level; the sheets hold every period)."""
    filters = Filters(unit=filters.unit, level=filters.level)
    st.columns([2, 3])[0].download_button(
        "⬇ Phiếu lỗi từng trường (.zip)",
        data=_deferred_document("school-sheets", snapshot_id, scope, filters, ".zip"),
        file_name=file_name("school-sheets", "zip", snapshot_id, filters, "phieu_loi_tung_truong"),
        mime="application/zip",
        key=key,
        on_click="ignore",
        help="Mỗi trường một tệp .xlsx: các lỗi cần sửa (hồ sơ, thông tin, nơi sửa) và dữ "
        "liệu chưa nộp, nộp trễ; đúng như lệnh soat export school-sheets",
    )
