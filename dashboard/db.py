"""The dashboard's read-only view of the snapshot store.

One reader connection per process (`st.cache_resource`) for each state of the store's
catalog: an in-memory DuckDB connection with every published snapshot file attached
read-only (soat.snapshot_store). Every query runs on its own `cursor()` (a DuckDB cursor is
a new connection to the same database instance, safe to use from each Streamlit
session's thread) and closes it at once.

Readers never wait for a load and a load never waits for them: `soat load` (or the Dữ liệu
page's upload) writes its snapshot into a file of its own and publishes it by a rename.
`version()` changes when the catalog does, so the next run of any session gets a reader
with the new snapshot, and `st.cache_data` results keyed by it are not reused across
versions. A reader already handed out keeps the files it attached (a snapshot deleted
meanwhile stays readable through it) and is dropped when no session uses it any more; at
most two are cached (each DuckDB instance has its own buffer pool).

A condition of the store (a snapshot file missing or damaged, a damaged catalog, a file
the server may not read) is told on the page in Vietnamese (`problem`, dashboard/app.py),
never as a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb
import streamlit as st

from soat.errors import SoatError, known_condition
from soat.snapshot_store import SnapshotStore, finish_interrupted_migration, resolve


def path() -> str:
    """$SOAT_DB, else data/store (soat.snapshot_store.resolve)."""
    return resolve(None)


def store() -> SnapshotStore:
    return SnapshotStore(path())


def version() -> str:
    """Changes whenever a snapshot is published, re-checked or deleted."""
    return store().stamp()


class DatabaseBusy(Exception):
    """A single-file store of the first format is being written by another process (its
    file cannot be opened read-only meanwhile); a store directory is never busy."""


@st.cache_resource(show_spinner=False, max_entries=2)
def _reader(store_path: str, stamp: str) -> duckdb.DuckDBPyConnection:  # noqa: ARG001 - key
    try:
        return SnapshotStore(store_path).reader()
    except duckdb.IOException as exc:  # a legacy file locked by a writer: retried next run
        raise DatabaseBusy(str(exc).splitlines()[0]) from exc


def connection() -> duckdb.DuckDBPyConnection | None:
    """The reader for the store as it is now, or None while there is no store (nothing is
    cached then, so a store created later is opened on the next run)."""
    st_ = store()
    if not st_.path.exists():
        finish_interrupted_migration(st_.path)  # a migration killed half-way: finished
        if not st_.path.exists():
            return None
    return _reader(str(st_.path), st_.stamp())


def problem(exc: BaseException) -> str | None:
    """What the officer reads about a condition of the store that stops a page (a
    snapshot file missing or damaged, a damaged catalog, a permission, a full disk); None
    for anything else (a bug is shown as one)."""
    if isinstance(exc, SoatError):
        return str(exc)
    if isinstance(exc, duckdb.Error | OSError):
        return known_condition(exc)
    return None


@contextlib.contextmanager
def cursor() -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A cursor on the current reader (None without a store), closed on exit."""
    con = connection()
    if con is None:
        yield None
        return
    cur = con.cursor()
    try:
        yield cur
    finally:
        cur.close()


def close() -> None:
    """Forget every reader this process opened (tests; a reader still in use by a running
    query stays alive until that query's cursor is closed)."""
    _reader.clear()
