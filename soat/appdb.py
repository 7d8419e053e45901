"""The application database: accounts, sessions, the audit log, follow-ups (biên bản) and
what `soat notify` sent.

SQLAlchemy 2 Core. The URL comes from `$SOAT_APP_DB`, default `sqlite:///data/app.sqlite`;
production uses PostgreSQL (`postgresql+psycopg://user@host/db`). Tables are created on
first use; a nullable column added to a table later (users.email) is added to an existing
database's table then too. This database is separate from the DuckDB snapshot store: it changes while the
store's snapshots are immutable, and it must accept concurrent writers (the dashboard).

    db = get_app_db()              # the default one ($SOAT_APP_DB), cached per URL
    with db.begin() as conn: ...   # one transaction
    AppDB(url, schema="t_123")     # tests: tables in their own PostgreSQL schema

Times are stored as naive UTC datetimes (`utcnow()`).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from soat.errors import SoatError, redact_url

DEFAULT_URL = "sqlite:///data/app.sqlite"
ENV_URL = "SOAT_APP_DB"

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),  # bcrypt; never the clear password
    Column("role", String(30), nullable=False),
    Column("units", JSON, nullable=True),  # list of unit codes (unit_officer), else NULL
    Column("levels", JSON, nullable=True),  # list of level codes, NULL = every level
    Column("school", String(50), nullable=True),  # school accounts: their school code
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(100), nullable=True),
    # where `soat notify` sends the account's digest (optional; added to older databases
    # at start-up, see _add_missing_columns)
    Column("email", String(320), nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex of the token
    Column("username", String(100), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("username", String(100), nullable=False, index=True),
    Column("action", String(50), nullable=False, index=True),
    Column("detail", Text, nullable=True),  # JSON text
    Column("row_count", Integer, nullable=True),
)

followups = Table(
    "followups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("school_code", String(50), nullable=False),
    Column("period", String(100), nullable=False),
    Column("issue", String(200), nullable=False),  # a check id, 'submission', ...
    Column("state", String(20), nullable=False),
    Column("note", Text, nullable=True),
    Column("by_user", String(100), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_followups_school_period", "school_code", "period"),
)


# What `soat notify` sent: one row per recipient address × item (a late or missing
# submission, a new finding) per message, so an item is not sent to the same address again
# until the reminder interval has passed (soat.notify).
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient", String(320), nullable=False),  # the address, lower-cased
    Column("item_key", String(500), nullable=False),
    Column("snapshot_id", Integer, nullable=True),
    Column("sent_at", DateTime, nullable=False),
    Column("message_id", String(250), nullable=True),
    Index("ix_notifications_recipient_item", "recipient", "item_key"),
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# what SQLAlchemy's and the drivers' English says, in the officer's words (their text also
# holds the SQL and its parameters: a new password's hash, an e-mail address)
_CAUSES = (
    ("database is locked", "đang bị một tiến trình khác giữ để ghi; thử lại sau ít phút"),
    ("readonly database", "không có quyền ghi vào tệp cơ sở dữ liệu"),
    ("unable to open database file", "không mở được tệp (thư mục không có hoặc không có quyền)"),
    ("file is not a database", "tệp không phải cơ sở dữ liệu SQLite"),
    ("no space left", "hết chỗ trống trên đĩa"),
    ("password authentication failed", "sai tài khoản hoặc mật khẩu"),
    ('role "', "tài khoản không tồn tại trên máy chủ"),  # FATAL: role "x" does not exist
    ('fatal:  database "', "cơ sở dữ liệu không tồn tại trên máy chủ"),
    ("connection refused", "không kết nối được máy chủ (địa chỉ, cổng?)"),
    ("could not translate host name", "không tìm thấy máy chủ (tên máy?)"),
    ("connection failed", "không kết nối được máy chủ"),
    ("timeout", "máy chủ không trả lời"),
)


def busy_seconds() -> float:
    """How long a SQLite writer waits for another one ($SOAT_APP_DB_BUSY_SECONDS, default
    30) before the app database is "đang bị một tiến trình khác giữ"."""
    try:
        return max(0.0, float(os.environ.get("SOAT_APP_DB_BUSY_SECONDS", "30")))
    except ValueError:
        return 30.0


class AppDBError(SoatError):
    """The app database could not be used: a condition of the machine (locked, read-only,
    unreachable, a malformed $SOAT_APP_DB), told in Vietnamese without the SQL."""


@contextmanager
def _told(url: str):
    """SQLAlchemy's errors as AppDBError: the cause in Vietnamese, the URL without its
    password, never the statement or its parameters (the exception chain keeps them)."""
    try:
        yield
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        text_ = f"{orig or ''} {exc if orig is None else ''}".lower()
        why = next((vi for en, vi in _CAUSES if en in text_), None)
        if why is None:
            kind = type(exc).__name__
            if kind in ("ArgumentError", "NoSuchModuleError"):
                why = (
                    "địa chỉ không đúng dạng SQLAlchemy (ví dụ sqlite:///data/app.sqlite, "
                    "postgresql+psycopg://người_dùng@máy/cơ_sở_dữ_liệu)"
                )
            else:
                why = f"lỗi cơ sở dữ liệu ({type(orig or exc).__name__})"
        raise AppDBError(f"cơ sở dữ liệu ứng dụng ({redact_url(url)}, ${ENV_URL}): {why}") from exc


class AppDB:
    """An engine plus the (optional) schema the tables live in; tables created on first use.
    Its errors are AppDBError (`_told`)."""

    def __init__(self, url: str | None = None, schema: str | None = None):
        self.url = url or os.environ.get(ENV_URL) or DEFAULT_URL
        self.schema = schema
        with _told(self.url):
            self._make_engine()
        self._ready = False
        self._lock = threading.Lock()

    def _make_engine(self) -> None:
        schema = self.schema
        u = make_url(self.url)
        kw: dict = {"future": True}
        if u.get_backend_name() == "sqlite":
            db = u.database
            if not db or db == ":memory:":
                kw["poolclass"] = StaticPool
                kw["connect_args"] = {"check_same_thread": False}
            else:
                Path(db).parent.mkdir(parents=True, exist_ok=True)
                kw["connect_args"] = {"check_same_thread": False, "timeout": busy_seconds()}
        else:
            kw["pool_pre_ping"] = True
        engine = create_engine(self.url, **kw)
        if u.get_backend_name() == "sqlite":

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_con, _rec):  # noqa: ANN001
                cur = dbapi_con.cursor()
                cur.execute(f"PRAGMA busy_timeout = {int(busy_seconds() * 1000)}")
                if db and db != ":memory:":
                    cur.execute("PRAGMA journal_mode = WAL")
                cur.close()

        if schema:
            engine = engine.execution_options(schema_translate_map={None: schema})
        self.engine: Engine = engine

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def ensure(self) -> None:
        if self._ready:
            return
        with self._lock, _told(self.url):
            if self._ready:
                return
            with self.engine.begin() as conn:
                if self.schema:
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                metadata.create_all(conn, checkfirst=True)
            self._add_missing_columns()
            self._ready = True

    def _add_missing_columns(self) -> None:
        """Columns added to a table after databases were created with it (users.email) are
        added to an existing table, nullable and empty: create_all() creates missing tables
        only. Several processes may start at once: a column another one has just added is
        taken as done."""
        from sqlalchemy import inspect
        from sqlalchemy.exc import DBAPIError

        for table in metadata.sorted_tables:
            with self.engine.connect() as conn:
                existing = {c["name"] for c in inspect(conn).get_columns(table.name, self.schema)}
            for column in table.columns:
                if column.name in existing or not column.nullable:
                    continue
                ddl = column.type.compile(dialect=self.engine.dialect)
                qualified = f'"{self.schema}"."{table.name}"' if self.schema else f'"{table.name}"'
                try:
                    with self.engine.begin() as conn:
                        conn.execute(
                            text(f'ALTER TABLE {qualified} ADD COLUMN "{column.name}" {ddl}')
                        )
                except DBAPIError:
                    with self.engine.connect() as conn:
                        cols = inspect(conn).get_columns(table.name, self.schema)
                    if column.name not in {c["name"] for c in cols}:
                        raise

    @contextmanager
    def begin(self):
        """A connection in one transaction (committed on success)."""
        self.ensure()
        with _told(self.url), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self):
        self.ensure()
        with _told(self.url), self.engine.connect() as conn:
            yield conn

    def drop(self) -> None:
        """Drop every table (and the schema, if one was given). Tests only."""
        with self.engine.begin() as conn:
            metadata.drop_all(conn, checkfirst=True)
            if self.schema:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        self._ready = False

    def dispose(self) -> None:
        self.engine.dispose()


_cache: dict[str, AppDB] = {}
_cache_lock = threading.Lock()


def get_app_db(app_db: AppDB | str | None = None) -> AppDB:
    """The AppDB to use: the one given, one for a URL, else the default ($SOAT_APP_DB)."""
    if isinstance(app_db, AppDB):
        return app_db
    url = app_db or os.environ.get(ENV_URL) or DEFAULT_URL
    with _cache_lock:
        db = _cache.get(url)
        if db is None:
            db = _cache[url] = AppDB(url)
        return db


def reset_cache() -> None:
    """Forget cached engines (tests that change $SOAT_APP_DB)."""
    with _cache_lock:
        for db in _cache.values():
            db.dispose()
        _cache.clear()


__all__ = [
    "AppDB",
    "Connection",
    "audit_log",
    "followups",
    "get_app_db",
    "metadata",
    "notifications",
    "reset_cache",
    "sessions",
    "users",
    "utcnow",
]
