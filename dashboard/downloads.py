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


def export_bytes(
    kind: str,
    fmt: str,
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    check: str | None = None,
    change: str | None = None,
) -> bytes:
    """The bytes `soat export KIND --format FMT --snapshot ID [--unit --level --period --check
    --change]` writes, run with this user's Scope on the dashboard's read-only connection."""
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
        change=change,
        from_id=None,
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
    kind: str,
    fmt: str,
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    change: str | None = None,
) -> Callable[[], bytes]:
    def build() -> bytes:
        data = export_bytes(kind, fmt, snapshot_id, scope, filters, change=change)
        try:
            from soat import audit

            logged = {
                "snapshot": snapshot_id,
                "unit": filters.unit,
                "level": filters.level,
                "period": filters.period,
            }
            if change:
                logged["change"] = change
            audit.log_export(scope, kind, logged, fmt=fmt)
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
    kind: str,
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    key: str,
    stem: str | None = None,
    change: str | None = None,
) -> None:
    c1, c2, _ = st.columns([1, 1, 3])
    c1.download_button(
        "⬇ Tải Excel (.xlsx)",
        data=_deferred(kind, "xlsx", snapshot_id, scope, filters, change),
        file_name=file_name(kind, "xlsx", snapshot_id, filters, stem),
        mime=XLSX_MIME,
        key=f"{key}_xlsx",
        on_click="ignore",
    )
    c2.download_button(
        "⬇ Tải CSV",
        data=_deferred(kind, "csv", snapshot_id, scope, filters, change),
        file_name=file_name(kind, "csv", snapshot_id, filters, stem),
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )


def late_buttons(snapshot_id: int, scope: Scope, filters: Filters, key: str) -> None:
    buttons("late", snapshot_id, scope, filters, key, stem="danh_sach_nop_muon")


def findings_buttons(
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    stem: str,
    key: str,
    change: str | None = None,
) -> None:
    """The findings list; with `change` ('new'): `soat export findings --change new`."""
    buttons("findings", snapshot_id, scope, filters, key, stem=stem, change=change)
