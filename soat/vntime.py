"""Vietnam's time, for what people read. Stored times are naive UTC: the app database's
(soat.appdb.utcnow) and the snapshots' `loaded_at` / `checked_at`, written as
`timezone('UTC', now())` (a bare now() stored in a TIMESTAMP column is the server's local
time: UTC in most containers, Vietnam's time on a server set to Asia/Ho_Chi_Minh).
Officers read Vietnam's time: UTC+7 all year, no daylight saving."""

from __future__ import annotations

import datetime as dt

VN_OFFSET = dt.timedelta(hours=7)


def vn(utc: dt.datetime | None) -> dt.datetime | None:
    """A stored (naive UTC) time in Vietnam's time."""
    return None if utc is None else utc + VN_OFFSET
