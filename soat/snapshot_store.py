"""The snapshot store: a directory of immutable snapshot files and a small catalog.

    <store>/catalog.json            the published snapshots (rewritten aside, then renamed)
    <store>/snapshot-000012.duckdb  one DuckDB file per snapshot, never written once published
    <store>/write.lock              held (flock) by the one process that writes
    <store>/tmp/                    files being written: invisible, removed by the next writer

**Writing** (`soat load`, `soat check`, the dashboard's upload, delete, prune) takes the
store's write lock, so two writers never race; a second one waits for the first, saying
whom it waits for, or refuses (`wait=False`). A new snapshot is written into its own file
under tmp/ (the loader and the check runner work on that file as on any store database,
with the published snapshots attached read-only as the catalog `soat_history` for the
checks that compare with an earlier snapshot), closed, reopened read-only and checked,
fsynced, renamed into the store, and only then listed in catalog.json (itself replaced by
a rename). A load that fails, is interrupted or is killed leaves a file under tmp/ that
no reader ever opens; the next writer removes it.

**Reading** never takes the lock and never waits: a reader is an in-memory DuckDB
connection that attaches every listed file READ_ONLY and has one view per table, the
UNION ALL of that table in every file. SQL written for one database holding all snapshots
(`WHERE snapshot_id = $s`, comparisons across snapshots) runs unchanged. A reader keeps
the files it attached: a snapshot deleted or re-checked meanwhile stays readable through
it (the file's inode lives while it is open) until the reader is replaced.

A store of the first format (one DuckDB file holding every snapshot) is still read as it
is; the first write migrates it into a directory at the same path, keeping the old file
beside it as `<name>.v1-backup` (docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from soat import store
from soat.errors import SoatError, is_interrupt

CATALOG = "catalog.json"
LOCK = "write.lock"
TMP = "tmp"
FORMAT = 2  # 1 was the single-file store
HISTORY = "soat_history"  # the published snapshots, attached to a writer's connection
LEGACY_DEFAULT = "data/soat.duckdb"  # the default path of the single-file store
DUCKDB_MAGIC = b"DUCK"  # bytes 8–11 of a DuckDB database file


def snapshot_file_name(snapshot_id: int) -> str:
    return f"snapshot-{snapshot_id:06d}.duckdb"


@dataclasses.dataclass(frozen=True)
class Entry:
    """One published snapshot as the catalog lists it."""

    snapshot_id: int
    file: str
    name: str | None
    as_of: dt.date | None
    school_year: str | None
    published_at: str

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["as_of"] = self.as_of.isoformat() if self.as_of else None
        return d

    @classmethod
    def from_json(cls, d: dict) -> Entry:
        as_of = dt.date.fromisoformat(d["as_of"]) if d.get("as_of") else None
        return cls(
            snapshot_id=int(d["snapshot_id"]),
            file=str(d["file"]),
            name=d.get("name"),
            as_of=as_of,
            school_year=d.get("school_year"),
            published_at=str(d.get("published_at", "")),
        )


@dataclasses.dataclass
class Catalog:
    next_id: int = 1
    entries: list[Entry] = dataclasses.field(default_factory=list)

    def ids(self) -> list[int]:
        return [e.snapshot_id for e in self.entries]


class StoreBusy(SoatError):
    """Another process holds the write lock and the caller chose not to wait."""


# ---- locations ---------------------------------------------------------------------------


def resolve(cli_value: str | None = None) -> str:
    """The store's path: --db, else $SOAT_DB, else data/store. Without either, a
    single-file store at the old default (data/soat.duckdb) is used while data/store does
    not exist, so an existing installation keeps its snapshots."""
    path = store.db_path(cli_value)
    if (
        not cli_value
        and not os.environ.get("SOAT_DB")
        and not os.path.exists(path)
        and os.path.isfile(LEGACY_DEFAULT)
    ):
        return LEGACY_DEFAULT
    return path


def is_legacy_file(path: str | Path) -> bool:
    """A DuckDB database file: the single-file store of the first format."""
    p = Path(path)
    if not p.is_file():
        return False
    with p.open("rb") as f:
        head = f.read(12)
    return head[8:12] == DUCKDB_MAGIC


def read_connection(cli_value: str | None = None) -> duckdb.DuckDBPyConnection:
    """A reader of the store named by --db / $SOAT_DB / the default (an error naming the
    path when there is none): what `soat export`, `soat changes` and `soat snapshots` read."""
    return SnapshotStore.open(cli_value).reader()


def is_store_dir(path: str | Path) -> bool:
    """A store directory: one with a catalog or a write lock, or an empty one (a folder of
    province files given as --db by mistake is not: nothing is written into it)."""
    p = Path(path)
    if not p.is_dir():
        return False
    return (p / CATALOG).exists() or (p / LOCK).exists() or not any(p.iterdir())


# ---- the store ---------------------------------------------------------------------------


class SnapshotStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def open(cls, cli_value: str | None = None, *, create: bool = False) -> SnapshotStore:
        """The store at --db / $SOAT_DB / the default. A path that does not exist is an
        error (a mistyped --db must not create an empty store) unless `create`."""
        path = Path(resolve(cli_value))
        if path.exists() and not (is_store_dir(path) or is_legacy_file(path)):
            raise SoatError(
                "không phải kho dữ liệu Soát (cần thư mục kho có catalog.json, một thư mục "
                "trống để tạo kho mới, hoặc tệp .duckdb của Soát)",
                source=str(path),
                column="--db",
            )
        if not path.exists() and not create:
            raise SoatError(
                "không tìm thấy kho dữ liệu; kiểm tra lại đường dẫn, "
                "hoặc chạy 'soat load' để tạo kho mới",
                source=str(path),
                column="--db",
            )
        return cls(path)

    # -- reading --

    @property
    def legacy(self) -> bool:
        return is_legacy_file(self.path)

    def catalog(self) -> Catalog:
        """What is published now (an empty catalog for a store not written yet)."""
        f = self.path / CATALOG
        try:
            raw = json.loads(f.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Catalog()
        except (OSError, ValueError) as exc:
            raise SoatError(f"không đọc được danh mục bản chụp ({exc})", source=str(f)) from exc
        return Catalog(
            next_id=int(raw.get("next_id", 1)),
            entries=[Entry.from_json(e) for e in raw.get("snapshots", [])],
        )

    def stamp(self) -> str:
        """Changes whenever what a reader sees changes (a publish, delete, migration): the
        key of the dashboard's cached connection and query results."""
        target = self.path if self.legacy else self.path / CATALOG
        try:
            s = target.stat()
        except FileNotFoundError:
            return f"{self.path}:empty"
        return f"{self.path}:{s.st_ino}:{s.st_mtime_ns}:{s.st_size}"

    def file_of(self, entry: Entry) -> Path:
        return self.path / entry.file

    def reader(self) -> duckdb.DuckDBPyConnection:
        """An in-memory connection with a view per table over every published snapshot
        (the store's tables, empty, when nothing is published). Never waits for a writer."""
        if self.legacy:
            return duckdb.connect(str(self.path), read_only=True)
        for attempt in range(5):
            con = duckdb.connect()
            try:
                attach_views(con, "memory", self._files())
                return con
            except duckdb.IOException:
                con.close()
                # a file of the catalog read a moment ago was deleted meanwhile: read again
                if attempt == 4:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def _files(self) -> list[tuple[int, Path]]:
        return [(e.snapshot_id, self.file_of(e)) for e in self.catalog().entries]

    def disk_use(self) -> dict[int, int]:
        """Bytes on disk per published snapshot."""
        out = {}
        for e in self.catalog().entries:
            try:
                out[e.snapshot_id] = self.file_of(e).stat().st_size
            except FileNotFoundError:
                out[e.snapshot_id] = 0
        return out

    # -- writing --

    @contextlib.contextmanager
    def writing(
        self, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> Iterator[Writer]:
        """The write lock, held for the block. A store of the first format is migrated
        first; stale temporary files are removed."""
        if self.legacy:
            # the lock of a single-file store lives beside it (its directory does not exist
            # yet); a second writer waits here, then finds the store already migrated
            beside = self.path.with_name(self.path.name + ".lock")
            with _write_lock(beside, wait=wait, on_wait=on_wait):
                if self.legacy:
                    migrate_legacy(self.path, on_wait=on_wait)
            beside.unlink(missing_ok=True)
        self.path.mkdir(parents=True, exist_ok=True)
        with _write_lock(self.path / LOCK, wait=wait, on_wait=on_wait):
            self._remove_leftovers()
            yield Writer(self)

    def _remove_leftovers(self) -> None:
        """What a writer killed before it finished left (only a lock holder calls this, so
        no writer is running): its draft under tmp/, a catalog it was writing, a snapshot
        file renamed into the store but never listed. None of it was ever visible."""
        tmp = self.path / TMP
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(exist_ok=True)
        for p in self.path.glob(f".{CATALOG}.*.tmp"):
            p.unlink(missing_ok=True)
        listed = {e.file for e in self.catalog().entries}
        for p in self.path.glob("snapshot-*.duckdb*"):
            if p.name not in listed:
                p.unlink(missing_ok=True)


class Writer:
    """What a holder of the write lock can do."""

    def __init__(self, st: SnapshotStore):
        self.store = st
        self.catalog = st.catalog()

    @contextlib.contextmanager
    def draft(self, copy_of: int | None = None) -> Iterator[Draft]:
        """A new snapshot file under tmp/: a new id, or (`copy_of`) a copy of a published
        snapshot to re-check, keeping its id. Discarded unless published in the block."""
        sid = self.catalog.next_id if copy_of is None else copy_of
        path = self.store.path / TMP / snapshot_file_name(sid)
        if copy_of is not None:
            try:
                shutil.copyfile(self.store.file_of(self.entry(copy_of)), path)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        d = Draft(self, sid, path, replaces=copy_of is not None)
        try:
            yield d
        finally:
            d.discard()

    def entry(self, snapshot_id: int) -> Entry:
        for e in self.catalog.entries:
            if e.snapshot_id == snapshot_id:
                return e
        raise SoatError(f"không có bản chụp {snapshot_id} (xem 'soat snapshots')")

    def newest(self) -> int | None:
        ids = self.catalog.ids()
        return max(ids) if ids else None

    def delete(self, snapshot_id: int) -> Entry:
        """Unlist a snapshot, then remove its file (readers that attached it keep reading it
        until they are replaced). Never the newest."""
        entry = self.entry(snapshot_id)
        if snapshot_id == self.newest():
            raise SoatError(
                f"không xoá bản chụp mới nhất ({snapshot_id}); nạp bản mới trước khi xoá bản này"
            )
        self._write_catalog([e for e in self.catalog.entries if e.snapshot_id != snapshot_id])
        with contextlib.suppress(FileNotFoundError):
            self.store.file_of(entry).unlink()
        return entry

    def _write_catalog(self, entries: list[Entry], next_id: int | None = None) -> None:
        entries = sorted(entries, key=lambda e: e.snapshot_id)
        self.catalog = Catalog(next_id=next_id or self.catalog.next_id, entries=entries)
        body = {
            "format": FORMAT,
            "next_id": self.catalog.next_id,
            "snapshots": [e.to_json() for e in entries],
        }
        _atomic_write(self.store.path / CATALOG, json.dumps(body, ensure_ascii=False, indent=1))

    def publish(self, d: Draft, entry: Entry) -> None:
        final = self.store.path / entry.file
        _fsync_file(d.path)
        os.replace(d.path, final)
        _fsync_dir(self.store.path)
        others = [e for e in self.catalog.entries if e.snapshot_id != entry.snapshot_id]
        self._write_catalog(
            [*others, entry], next_id=max(self.catalog.next_id, entry.snapshot_id + 1)
        )


class Draft:
    """A snapshot being written: its connection (`con`), its id, and the catalog name of
    the earlier snapshots (`history`; None when there are none) for the checks that
    compare with them."""

    def __init__(self, writer: Writer, snapshot_id: int, path: Path, replaces: bool):
        self.writer = writer
        self.snapshot_id = snapshot_id
        self.path = path
        self.replaces = replaces
        self.published = False
        earlier = [
            (e.snapshot_id, writer.store.file_of(e))
            for e in writer.catalog.entries
            if e.snapshot_id != snapshot_id
        ]
        # nothing published yet: the draft's own database is all the history there is
        self.history: str | None = HISTORY if earlier else None
        self.con: duckdb.DuckDBPyConnection | None = None
        try:
            self.con = store.connect(str(path))
            if earlier:
                self.con.execute(f"ATTACH ':memory:' AS {HISTORY}")
                attach_views(self.con, HISTORY, earlier)
        except BaseException:
            self.discard()
            raise

    def publish(self) -> Entry:
        """Close, verify read-only, rename into the store and list it in the catalog."""
        assert self.con is not None
        self.con.execute("CHECKPOINT")
        self.con.close()
        self.con = None
        entry = _verify(self.path, self.snapshot_id)
        self.writer.publish(self, entry)
        self.published = True
        return entry

    def discard(self) -> None:
        if self.con is not None:
            with contextlib.suppress(duckdb.Error):
                self.con.close()
            self.con = None
        if not self.published:
            for p in (self.path, Path(str(self.path) + ".wal")):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()


def _verify(path: Path, snapshot_id: int) -> Entry:
    """The closed file, opened read-only: it holds exactly this snapshot, checked, and no
    write-ahead log is left beside it."""
    if Path(str(path) + ".wal").exists():
        raise RuntimeError(f"internal: {path.name} left a write-ahead log after closing")
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT snapshot_id, name, as_of, school_year, checked_at FROM snapshots"
        ).fetchall()
        stray = con.execute(
            "SELECT count(*) FROM findings WHERE snapshot_id IS DISTINCT FROM $s",
            {"s": snapshot_id},
        ).fetchall()[0][0]
    finally:
        con.close()
    if len(rows) != 1 or rows[0][0] != snapshot_id or rows[0][4] is None or stray:
        raise RuntimeError(f"internal: {path.name} is not one checked snapshot {snapshot_id}")
    _, name, as_of, year, _ = rows[0]
    return Entry(
        snapshot_id=snapshot_id,
        file=snapshot_file_name(snapshot_id),
        name=name,
        as_of=as_of,
        school_year=year,
        published_at=dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
    )


# ---- views over attached snapshot files --------------------------------------------------


def _canonical_columns() -> dict[str, list[tuple[str, str]]]:
    """Every table of the store's schema with its (column, type) list."""
    global _CANONICAL
    if _CANONICAL is None:
        con = store.connect(":memory:")
        try:
            rows = con.execute(
                """SELECT table_name, column_name, data_type FROM duckdb_columns()
                   WHERE database_name = current_database() AND schema_name = 'main'
                   ORDER BY table_name, column_index"""
            ).fetchall()
        finally:
            con.close()
        out: dict[str, list[tuple[str, str]]] = {}
        for t, c, ty in rows:
            out.setdefault(t, []).append((c, ty))
        _CANONICAL = out
    return _CANONICAL


_CANONICAL: dict[str, list[tuple[str, str]]] | None = None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def attach_views(con: duckdb.DuckDBPyConnection, catalog: str, files: list[tuple[int, Path]]):
    """Attach each snapshot file READ_ONLY as `snap_<id>` and create, in `catalog`, one view
    per table of the store's schema: the UNION ALL of that table in every file, projected
    onto the current schema (a file written before a column existed gives NULL for it).
    With no file a table is created empty instead, so every query has its tables."""
    canonical = _canonical_columns()
    for sid, path in files:
        try:
            con.execute(f"ATTACH {_sql_str(str(path))} AS snap_{int(sid)} (READ_ONLY)")
        except duckdb.Error as exc:
            if is_interrupt(exc):
                raise
            # a file deleted or cut short by hand, a disk error: say which, and the way out
            raise SoatError(
                f"tệp của bản chụp {sid} không có hoặc bị hỏng: khôi phục tệp từ bản sao lưu "
                f"(docs/deployment.md), hoặc bỏ bản chụp này khỏi kho bằng 'soat snapshots "
                f"delete {sid}'",
                source=str(path),
            ) from exc
    present: dict[tuple[str, str], set[str]] = {}
    if files:
        names = [f"snap_{int(sid)}" for sid, _ in files]
        rows = con.execute(
            """SELECT database_name, table_name, column_name FROM duckdb_columns()
               WHERE database_name IN (SELECT unnest($names)) AND schema_name = 'main'""",
            {"names": names},
        ).fetchall()
        for db_name, table, column in rows:
            present.setdefault((db_name, table), set()).add(column)
    target = _ident(catalog)
    for table, columns in canonical.items():
        branches = []
        for sid, _ in files:
            db_name = f"snap_{int(sid)}"
            have = present.get((db_name, table))
            if have is None:
                continue
            cols = ", ".join(
                _ident(c) if c in have else f"CAST(NULL AS {ty}) AS {_ident(c)}"
                for c, ty in columns
            )
            branches.append(f"SELECT {cols} FROM {db_name}.main.{_ident(table)}")
        if branches:
            con.execute(
                f"CREATE OR REPLACE VIEW {target}.main.{_ident(table)} AS "
                + " UNION ALL ".join(branches)
            )
        else:
            cols = ", ".join(f"{_ident(c)} {ty}" for c, ty in columns)
            con.execute(f"CREATE OR REPLACE TABLE {target}.main.{_ident(table)} ({cols})")


def _sql_str(text: str) -> str:
    """A path as an SQL string literal (ATTACH takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


# ---- the write lock ----------------------------------------------------------------------


@contextlib.contextmanager
def _write_lock(path: Path, *, wait: bool, on_wait: Callable[[str], None] | None):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            holder = _holder(path)
            if not wait:
                raise StoreBusy(
                    f"kho dữ liệu đang được ghi bởi {holder}; thử lại khi lệnh đó xong",
                    source=str(path.parent),
                )
            if on_wait:
                on_wait(f"Kho dữ liệu đang được ghi bởi {holder}; chờ lệnh đó xong…")
            _lock(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder_text().encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            _unlock(fd)
    finally:
        os.close(fd)


def _holder_text() -> str:
    now = dt.datetime.now().astimezone()
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": now.isoformat()})


def _holder(path: Path) -> str:
    """'tiến trình 1234 (từ 09:15 06/12)' — who holds the lock, as far as its file tells."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
        since = dt.datetime.fromisoformat(info["since"])
        return f"tiến trình {info['pid']} (từ {since:%H:%M:%S %d/%m})"
    except (OSError, ValueError, KeyError):
        return "một tiến trình khác"


try:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _lock(fd: int) -> None:
        while not _try_lock(fd):
            time.sleep(0.5)

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


# ---- files -------------------------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


# ---- migration of the single-file store --------------------------------------------------


def migrate_legacy(path: Path, on_wait: Callable[[str], None] | None = None) -> None:
    """Split a single-file store (format 1) into a store directory at the same path: one
    file per snapshot, every table's rows copied, counts compared; the old file is kept
    beside it as `<name>.v1-backup`. Nothing is lost: the copy is checked before the old
    file moves, and a failure leaves the old file where it was."""
    work = path.with_name(path.name + ".migrating")
    backup = path.with_name(path.name + ".v1-backup")
    if on_wait:
        on_wait(f"Chuyển kho dữ liệu một tệp {path} sang dạng thư mục (bản cũ giữ ở {backup})…")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src = duckdb.connect(str(path), read_only=True)
    try:
        tables = {
            r[0]
            for r in src.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
        }
        ids = [r[0] for r in src.execute("SELECT snapshot_id FROM snapshots ORDER BY 1").fetchall()]
        entries = []
        for sid in ids:
            entries.append(_migrate_one(src, path, work, sid, tables))
    finally:
        src.close()
    body = {
        "format": FORMAT,
        "next_id": (max(ids) + 1) if ids else 1,
        "snapshots": [e.to_json() for e in entries if e is not None],
    }
    _atomic_write(work / CATALOG, json.dumps(body, ensure_ascii=False, indent=1))
    os.replace(path, backup)
    wal = Path(str(path) + ".wal")
    if wal.exists():
        os.replace(wal, Path(str(backup) + ".wal"))
    os.replace(work, path)
    _fsync_dir(path.parent)


def _migrate_one(src, src_path: Path, work: Path, sid: int, tables: set[str]) -> Entry | None:
    target = work / snapshot_file_name(sid)
    con = store.connect(str(target))
    try:
        con.execute(f"ATTACH {_sql_str(str(src_path))} AS legacy (READ_ONLY)")
        for table, columns in _canonical_columns().items():
            if table not in tables:
                continue
            have = {
                r[0]
                for r in con.execute(
                    """SELECT column_name FROM duckdb_columns()
                       WHERE database_name = 'legacy' AND table_name = $t""",
                    {"t": table},
                ).fetchall()
            }
            cols = [c for c, _ in columns if c in have]
            col_sql = ", ".join(_ident(c) for c in cols)
            con.execute(
                f"INSERT INTO main.{_ident(table)} ({col_sql}) SELECT {col_sql} "
                f"FROM legacy.main.{_ident(table)} WHERE snapshot_id = $s",
                {"s": sid},
            )
            n_new, n_old = con.execute(
                f"SELECT (SELECT count(*) FROM main.{_ident(table)}), "
                f"(SELECT count(*) FROM legacy.main.{_ident(table)} WHERE snapshot_id = $s)",
                {"s": sid},
            ).fetchall()[0]
            if n_new != n_old:
                raise RuntimeError(
                    f"internal: migrating {table} of snapshot {sid}: {n_new}≠{n_old}"
                )
        checked = con.execute(
            "SELECT checked_at IS NOT NULL FROM snapshots WHERE snapshot_id = $s", {"s": sid}
        ).fetchall()[0][0]
        con.execute("DETACH legacy")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if not checked:  # an unchecked snapshot was never shown: kept in the backup only
        target.unlink()
        return None
    return _verify(target, sid)
