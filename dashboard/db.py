"""The dashboard's one read-only DuckDB connection, and the write window for uploads.

The connection is a process-wide `st.cache_resource`; every query runs on its own
`cursor()` (a DuckDB cursor is a new connection to the same database instance, safe to
use from the thread of each Streamlit session) and closes it at once.

A DuckDB file allows one writing process, and inside one process a file cannot be open
read-only and read-write at the same time. `write_connection()` therefore waits for the
running queries, closes the read-only connection, yields a writable one (the upload
page's load), then clears the caches so every session reopens the file and sees the new
snapshot. Queries wait meanwhile (a readers-writer lock).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import duckdb
import streamlit as st

from soat import store


class _ReadersWriter:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


_LOCK = _ReadersWriter()
_OPEN: dict[str, duckdb.DuckDBPyConnection] = {}


def path() -> str:
    """$SOAT_DB, else data/soat.duckdb."""
    return store.db_path(None)


class DatabaseBusy(Exception):
    """The database file is being written by another process (e.g. `soat load`)."""


@st.cache_resource(show_spinner=False)
def _connection(db_file: str) -> duckdb.DuckDBPyConnection:
    try:
        con = store.connect(db_file, read_only=True)
    except duckdb.IOException as exc:  # locked by a writer: not cached, retried next run
        raise DatabaseBusy(str(exc).splitlines()[0]) from exc
    _OPEN[db_file] = con
    return con


def connection() -> duckdb.DuckDBPyConnection | None:
    """The shared read-only connection, or None while the database file does not exist
    (nothing is cached then, so a file created later is opened on the next run)."""
    db_file = path()
    if db_file != ":memory:" and not os.path.exists(db_file):
        return None
    return _connection(db_file)


@contextlib.contextmanager
def cursor() -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A cursor on the read-only connection (None without a database), closed on exit."""
    with _LOCK.read():
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
    """Close every read-only connection this process opened and forget them."""
    for key in list(_OPEN):
        with contextlib.suppress(duckdb.Error):
            _OPEN.pop(key).close()
    _connection.clear()


@contextlib.contextmanager
def write_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A writable connection to the dashboard's database, the read-only one closed meanwhile.

    Caches are cleared afterwards whether the write succeeded or not."""
    with _LOCK.write():
        close()
        con = store.connect(path())
        try:
            yield con
        finally:
            con.close()
            _connection.clear()
            st.cache_data.clear()
