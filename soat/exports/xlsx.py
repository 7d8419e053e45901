"""The .xlsx writer every export uses: what officers forward to schools and districts.

One sheet: a title row naming the report, snapshot, unit and date; the Vietnamese header
row below it, frozen, with filters; column widths that fit the content; ratio columns
formatted as percentages; dates as dd/mm/yyyy. Cells are written a column at a time
(xlsxwriter `write_column`), no per-row Python logic. `write_workbook` writes several
such sheets into one file (the per-school error sheets).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

import polars as pl
import xlsxwriter

TITLE_ROW = 0
HEADER_ROW = 1
MIN_WIDTH, MAX_WIDTH = 8, 60


def title_text(report: str, snapshot: dict, unit_label: str | None) -> str:
    """'Danh sách lỗi — Bản chụp 3 (Tháng 10) — Đơn vị: Toàn tỉnh — Số liệu ngày 15/10/2024'."""
    as_of = snapshot.get("as_of")
    date = as_of.strftime("%d/%m/%Y") if isinstance(as_of, dt.date) else str(as_of or "")
    name = snapshot.get("name")
    snap = f"Bản chụp {snapshot.get('snapshot_id')}" + (f" ({name})" if name else "")
    year = snapshot.get("school_year")
    parts = [
        report,
        snap + (f", năm học {year}" if year else ""),
        f"Đơn vị: {unit_label or 'Toàn tỉnh'}",
        f"Số liệu ngày {date}",
    ]
    return " — ".join(parts)


FIXED_WIDTH = {pl.Date: 10, pl.Datetime: 16, pl.Boolean: 5}


def _widths(df: pl.DataFrame, headers: dict[str, str]) -> list[float]:
    """Each column's width: its header or its longest value, within MIN_WIDTH..MAX_WIDTH;
    the text columns measured in one pass over the frame."""
    measured = [
        c
        for c in df.columns
        if df.schema[c].base_type() not in FIXED_WIDTH and not df.schema[c].is_float()
    ]
    longest: dict[str, int] = dict.fromkeys(df.columns, 0)
    if df.height and measured:
        row = df.select(pl.col(c).cast(pl.String).str.len_chars().max() for c in measured).row(0)
        longest.update({c: v or 0 for c, v in zip(measured, row, strict=True)})
    for c in df.columns:
        dtype = df.schema[c]
        if dtype.base_type() in FIXED_WIDTH:
            longest[c] = FIXED_WIDTH[dtype.base_type()]
        elif dtype.is_float():
            longest[c] = 8
    return [
        float(min(MAX_WIDTH, max(MIN_WIDTH, len(headers.get(c, c)), longest[c]) + 2))
        for c in df.columns
    ]


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: `df` under a title row and the Vietnamese header row."""

    df: pl.DataFrame
    title: str
    headers: dict[str, str]
    name: str = "Dữ liệu"
    percent: Iterable[str] = ()
    booleans: tuple[str, str] = ("Có", "Không")


def write_xlsx(
    df: pl.DataFrame,
    target: str | IO[bytes],
    *,
    title: str,
    headers: dict[str, str],
    percent: Iterable[str] = (),
    sheet: str = "Dữ liệu",
    booleans: tuple[str, str] = ("Có", "Không"),
) -> None:
    """Write `df` to `target` (a path or a binary file object)."""
    write_workbook([Sheet(df, title, headers, sheet, percent, booleans)], target)


def write_workbook(sheets: Iterable[Sheet], target: str | IO[bytes]) -> None:
    """Several sheets in one workbook, each laid out as write_xlsx lays out its one."""
    wb = xlsxwriter.Workbook(
        target,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    try:
        formats = {
            "title": wb.add_format({"bold": True, "font_size": 13}),
            "head": wb.add_format(
                {
                    "bold": True,
                    "bg_color": "#DDEBF7",
                    "border": 1,
                    "text_wrap": True,
                    "valign": "top",
                }
            ),
            "pct": wb.add_format({"num_format": "0.0%"}),
            "date": wb.add_format({"num_format": "dd/mm/yyyy"}),
            "dt": wb.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
        }
        for sheet in sheets:
            _write_sheet(wb, formats, sheet)
    finally:
        wb.close()


def _write_sheet(wb, formats: dict, sheet: Sheet) -> None:
    df, headers, booleans = sheet.df, sheet.headers, sheet.booleans
    percent = set(sheet.percent)
    ws = wb.add_worksheet(sheet.name[:31])
    ws.write_string(TITLE_ROW, 0, sheet.title, formats["title"])
    cols = df.columns
    widths = _widths(df, headers)
    for j, col in enumerate(cols):
        header = headers.get(col, col)
        ws.write_string(HEADER_ROW, j, header, formats["head"])
        series = df.get_column(col)
        fmt = None
        if col in percent:
            fmt = formats["pct"]
        elif series.dtype == pl.Date:
            fmt = formats["date"]
        elif series.dtype == pl.Datetime:
            fmt = formats["dt"]
            series = series.dt.replace_time_zone(None) if series.dtype.time_zone else series
        if series.dtype == pl.Boolean:
            series = series.replace_strict(
                {True: booleans[0], False: booleans[1]}, default=None, return_dtype=pl.String
            )
        ws.write_column(HEADER_ROW + 1, j, series.to_list(), fmt)
        ws.set_column(j, j, widths[j])
    last_col = max(len(cols) - 1, 0)
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.autofilter(HEADER_ROW, 0, HEADER_ROW + max(df.height, 1), last_col)
