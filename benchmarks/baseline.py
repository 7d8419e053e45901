"""The row-wise baseline: pandas `apply(axis=1)` over students, as a user might write it."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

from soat.vocab import PROVINCE_CODES

REQUIRED = [
    "class_code",
    "full_name",
    "birth_date",
    "gender",
    "ethnicity",
    "citizen_id",
    "permanent_address",
]
DIGITS12 = re.compile(r"^\d{12}$")


def _check_row(r, year_start: int) -> int:
    n = 0
    for f in REQUIRED:
        v = r.get(f)
        if v is None or (isinstance(v, float)) or str(v).strip() in ("", "-", "--", "N/A", "null"):
            n += 1
    cid = r.get("citizen_id")
    bd = r.get("birth_date")
    birth = None
    if isinstance(bd, str):
        for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                birth = dt.datetime.strptime(bd.strip(), fmt).date()
                break
            except ValueError:
                pass
        if birth is None or not (0 <= year_start - birth.year <= 30):
            n += 1
    if isinstance(cid, str) and cid.strip():
        if not DIGITS12.match(cid):
            n += 1
        elif cid[:3] not in PROVINCE_CODES:
            n += 1
        elif birth is not None:
            g = int(cid[3])
            century = 1900 + 100 * (g // 2)
            female = g % 2 == 1
            if cid[4:6] != f"{birth.year % 100:02d}" or not (century <= birth.year < century + 100):
                n += 1
            if female != (r.get("gender") == "Nữ"):
                n += 1
    if r.get("id_verified") != "Đã xác thực":
        n += 1
    return n


def rowwise_student_checks(folder: Path, rows: int | None) -> dict:
    import duckdb

    from loaders.contract import TABLES, table_for_name

    path = next(p for p in folder.glob("*.csv") if table_for_name(p.stem) == "students")
    rel = duckdb.read_csv(str(path), all_varchar=True)
    df = (rel.limit(rows) if rows else rel).df()
    # map Vietnamese headers to canonical names, as the user would
    rename = {}
    for c in TABLES["students"].columns:
        for h in c.all_headers:
            if h in df.columns:
                rename[h] = c.name
    df = df.rename(columns=rename)
    t0 = time.perf_counter()
    findings = int(df.apply(_check_row, axis=1, year_start=2024).sum())
    return {"seconds": time.perf_counter() - t0, "rows": len(df), "findings": findings}
