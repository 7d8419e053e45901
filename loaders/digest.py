"""A snapshot's source digest: "the same bytes were loaded before".

Each part of the load has a digest of what it was read from: a CSV file's bytes (the
position-weighted checksum read.Digest, computed by the scan that already reads the file
beside its INSERT, so no extra pass), an .xlsx file's bytes (sha1; the file is compressed
and small beside its sheets' load) with the sheet's name, a SQL table's rows (a DuckDB
hash aggregate over the rows as read). The snapshot's digest (`snapshots.source_digest`)
is the sha256 of its parts' digests, each with its table, source and sheet, sorted.
`soat load` says when a new snapshot's digest equals an earlier one's.
"""

from __future__ import annotations

import hashlib

import duckdb


def combine(kind: str, parts) -> str:
    lines = sorted(f"{p.table}\t{p.source}\t{p.sheet or ''}\t{p.digest}" for p in parts)
    return hashlib.sha256(("\n".join([kind, *lines])).encode("utf-8")).hexdigest()


def frame_digest(con: duckdb.DuckDBPyConnection, part) -> str:
    """Rows of a registered frame (a SQL table) as read: count and the sum of each row's
    hash (order-free: a database has no row order)."""
    n = len(part.headers.headers)
    cells = ", ".join(f"c{i}" for i in range(n)) or "NULL"
    count, total = con.execute(
        f"SELECT count(*), sum(CAST(hash({cells}) AS HUGEINT)) FROM ({part.from_sql})",
        part.params,
    ).fetchall()[0]
    return f"rows:{count}:{total}"


def identical_snapshot(
    con: duckdb.DuckDBPyConnection, snapshot_id: int, catalog: str | None = None
) -> int | None:
    """The latest other snapshot whose source digest equals this one's, or None.

    The new snapshot's row is read from `snapshots` of the connection's database; earlier
    snapshots are looked for in `{catalog}.main.snapshots` (None: the same database, as
    in a one-file store; a store of one file per snapshot passes its attached catalog)."""
    row = con.execute(
        "SELECT source_digest FROM snapshots WHERE snapshot_id = $s", {"s": snapshot_id}
    ).fetchall()
    if not row or row[0][0] is None:
        return None
    where = (
        "snapshots" if catalog is None else '"' + catalog.replace('"', '""') + '".main.snapshots'
    )
    found = con.execute(
        f"""SELECT max(snapshot_id) FROM {where}
            WHERE source_digest = $d AND snapshot_id <> $s""",
        {"d": row[0][0], "s": snapshot_id},
    ).fetchall()
    return found[0][0] if found else None
