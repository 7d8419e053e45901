"""Tiny calendars and push logs for the deadline tests."""

from __future__ import annotations

import datetime as dt

from soat.db import dicts
from soat.testing import YEAR, province_unit, school, unit


def deadline(**kw) -> dict:
    return {
        "school_year": YEAR,
        "period": "dau_nam",
        "level": None,
        "data_type": "students",
        "target": "Sở",
        "due_date": dt.date(2024, 9, 15),
        "lock_date": None,
        "unit_code": None,
        "school_code": None,
        "reference": "CV 1/SGDĐT",
        **kw,
    }


def push(when: str, **kw) -> dict:
    """A push at 'YYYY-MM-DD HH:MM' (successful unless result is given)."""
    return {
        "school_code": "S1",
        "school_year": YEAR,
        "period": "dau_nam",
        "data_type": "students",
        "pushed_at": dt.datetime.fromisoformat(when),
        "result": "Thành công",
        "error": None,
        "target": "Sở",
        **kw,
    }


def province(deadlines: list[dict], submissions: list[dict], schools=None, units=None) -> dict:
    return {
        "units": units or [province_unit(), unit()],
        "schools": schools or [school()],
        "deadlines": deadlines,
        "submissions": submissions,
    }


def status_rows(con, sid: int, **where) -> list[dict]:
    sql = "SELECT * FROM submission_status WHERE snapshot_id = $s"
    params: dict = {"s": sid}
    for i, (k, v) in enumerate(where.items()):
        sql += f" AND {k} = $p{i}"
        params[f"p{i}"] = v
    return dicts(con, sql + " ORDER BY school_code, level, period, data_type, target", params)
