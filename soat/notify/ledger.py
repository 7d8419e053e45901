"""What was sent to whom (app database table `notifications`): one row per recipient
address × item per message. An item is due for an address when it was never sent there,
or when its last sending is at least the reminder interval ago, counted in Vietnam's
calendar days (a weekly timer that runs a few minutes earlier than last week still finds
a 7-day interval passed)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import func, select

from soat.appdb import AppDB, get_app_db, notifications, utcnow
from soat.vntime import VN_OFFSET

SCHEMA = {"item_key": pl.String, "last_sent_at": pl.Datetime("us")}


def recipient_key(address: str) -> str:
    return address.strip().lower()


def last_sent(address: str, app_db: AppDB | str | None = None) -> pl.DataFrame:
    """item_key, last_sent_at (naive UTC) of everything sent to an address."""
    got = last_sent_many([address], app_db)
    return got.get(recipient_key(address), pl.DataFrame(schema=SCHEMA))


def last_sent_many(
    addresses: list[str], app_db: AppDB | str | None = None
) -> dict[str, pl.DataFrame]:
    """last_sent for several addresses in one query: recipient key -> frame."""
    keys = sorted({recipient_key(a) for a in addresses})
    if not keys:
        return {}
    db = get_app_db(app_db)
    out: dict[str, list] = {k: [] for k in keys}
    with db.connect() as conn:
        for i in range(0, len(keys), 500):  # bound the IN list
            q = (
                select(
                    notifications.c.recipient,
                    notifications.c.item_key,
                    func.max(notifications.c.sent_at),
                )
                .where(notifications.c.recipient.in_(keys[i : i + 500]))
                .group_by(notifications.c.recipient, notifications.c.item_key)
            )
            for recipient, item, at in conn.execute(q).all():
                out[recipient].append((item, at))
    return {k: pl.DataFrame(v, schema=SCHEMA, orient="row") for k, v in out.items()}


def due(
    items: pl.DataFrame,
    sent: pl.DataFrame | None,
    interval_days: int,
    now: dt.datetime | None = None,
) -> tuple[pl.DataFrame, int]:
    """The rows of `items` (with an `item_key` column) due for an address whose sendings
    are `sent` (last_sent's frame), and how many are held back (sent within the interval)."""
    if items.height == 0 or sent is None or sent.height == 0:
        return items, 0
    today = ((now or utcnow()) + VN_OFFSET).date()
    recent = (
        sent.with_columns((pl.col("last_sent_at") + VN_OFFSET).dt.date().alias("last_day"))
        .filter((pl.lit(today) - pl.col("last_day")).dt.total_days() < interval_days)
        .select("item_key")
    )
    keep = items.join(recent, on="item_key", how="anti", maintain_order="left")
    return keep, items.height - keep.height


def record(
    address: str,
    item_keys: list[str],
    snapshot_id: int,
    message_id: str | None,
    now: dt.datetime | None = None,
    app_db: AppDB | str | None = None,
) -> None:
    """The message with these items went to the address."""
    if not item_keys:
        return
    db = get_app_db(app_db)
    at = now or utcnow()
    key = recipient_key(address)
    with db.begin() as conn:
        conn.execute(
            notifications.insert(),
            [
                {
                    "recipient": key,
                    "item_key": k,
                    "snapshot_id": snapshot_id,
                    "sent_at": at,
                    "message_id": message_id,
                }
                for k in item_keys
            ],
        )
