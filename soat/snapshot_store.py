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
fsynced, linked into the store under its published name, and only then listed in
catalog.json (itself replaced by a rename). A load that fails, is interrupted or is
killed leaves a file under tmp/ that no reader ever opens; the next writer removes it.

**Nothing published is ever removed as a leftover.** The next writer removes only what
bears a temporary name (tmp/, `.catalog.json.*.tmp`, a DuckDB `.wal`), a published name
that is the same file as a draft under tmp/ (a publish killed before its catalog), and
the files a delete named in the catalog as it unlisted them (`removing`: a delete killed
before it unlinked them). A snapshot file the catalog does not account for is left alone
(`soat snapshots` names it; `soat snapshots repair` lists it again), and a catalog that is
missing while snapshot files are there, or damaged, stops every command until it is
restored or rebuilt from the files (`soat snapshots repair`).

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
import errno
import json
import os
import re
import shutil
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from soat import store
from soat.errors import SoatError, is_interrupt, known_condition, snapshot_file_message

CATALOG = "catalog.json"
LOCK = "write.lock"
TMP = "tmp"
FORMAT = 2  # 1 was the single-file store
HISTORY = "soat_history"  # the published snapshots, attached to a writer's connection
LEGACY_DEFAULT = "data/soat.duckdb"  # the default path of the single-file store
DUCKDB_MAGIC = b"DUCK"  # bytes 8–11 of a DuckDB database file
SNAPSHOT_FILE = re.compile(r"snapshot-(\d{6,})\.duckdb")  # a published snapshot's file name
NOT_A_STORE = (
    "không phải kho dữ liệu Soát (cần thư mục kho có catalog.json, một thư mục "
    "trống để tạo kho mới, hoặc tệp .duckdb của Soát)"
)


def snapshot_file_name(snapshot_id: int) -> str:
    return f"snapshot-{snapshot_id:06d}.duckdb"


def snapshot_files(path: str | Path) -> list[Path]:
    """The files of the store directory named as published snapshots, by id."""
    try:
        names = [p for p in Path(path).iterdir() if SNAPSHOT_FILE.fullmatch(p.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(names, key=lambda p: int(SNAPSHOT_FILE.fullmatch(p.name).group(1)))


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
    def from_json(cls, d: object, n: int = 1) -> Entry:
        """One entry of catalog.json (`n`: its place, for the message); ValueError saying
        in Vietnamese what is wrong with it."""
        where = f"mục thứ {n} của 'snapshots'"
        if not isinstance(d, dict):
            raise ValueError(f"{where} không phải một bản chụp")
        sid = d.get("snapshot_id")
        if isinstance(sid, bool) or not isinstance(sid, int) or sid < 1:
            raise ValueError(f"{where}: thiếu 'snapshot_id' hoặc không phải số")
        file = d.get("file")
        if not isinstance(file, str) or not SNAPSHOT_FILE.fullmatch(file):
            raise ValueError(f"{where} (bản chụp {sid}): thiếu 'file' hoặc tên tệp không hợp lệ")
        as_of = d.get("as_of")
        if as_of is not None:
            try:
                as_of = dt.date.fromisoformat(as_of)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where} (bản chụp {sid}): ngày chốt '{as_of}' không đúng dạng YYYY-MM-DD"
                ) from None
        for key in ("name", "school_year"):
            if d.get(key) is not None and not isinstance(d[key], str):
                raise ValueError(f"{where} (bản chụp {sid}): '{key}' không phải chuỗi")
        return cls(
            snapshot_id=sid,
            file=file,
            name=d.get("name"),
            as_of=as_of,
            school_year=d.get("school_year"),
            published_at=str(d.get("published_at", "")),
        )


@dataclasses.dataclass
class Catalog:
    next_id: int = 1
    entries: list[Entry] = dataclasses.field(default_factory=list)
    # files a delete unlisted and then unlinks: what a delete killed in between left is
    # removed by the next writer (an unlisted file not named here is never removed)
    removing: list[str] = dataclasses.field(default_factory=list)

    def ids(self) -> list[int]:
        return [e.snapshot_id for e in self.entries]

    @classmethod
    def parse(cls, raw: bytes) -> Catalog:
        """catalog.json's bytes; ValueError saying in Vietnamese what is wrong."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("không phải văn bản UTF-8") from None
        if not text.strip():
            raise ValueError("tệp trống")
        try:
            body = json.loads(text)
        except ValueError as exc:
            line, col = getattr(exc, "lineno", "?"), getattr(exc, "colno", "?")
            raise ValueError(f"không phải JSON hợp lệ, dòng {line} cột {col}") from None
        if not isinstance(body, dict) or not isinstance(body.get("snapshots"), list):
            raise ValueError("không có danh sách 'snapshots'")
        entries = [Entry.from_json(d, n) for n, d in enumerate(body["snapshots"], 1)]
        ids = [e.snapshot_id for e in entries]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"bản chụp {twice[0]} có hai mục")
        next_id = body.get("next_id", max(ids, default=0) + 1)
        if isinstance(next_id, bool) or not isinstance(next_id, int) or next_id < 1:
            raise ValueError("'next_id' không phải số")
        removing = body.get("removing", [])
        if not isinstance(removing, list) or not all(
            isinstance(f, str) and SNAPSHOT_FILE.fullmatch(f) for f in removing
        ):
            raise ValueError("'removing' không phải danh sách tên tệp bản chụp")
        return cls(
            next_id=max(next_id, max(ids, default=0) + 1), entries=entries, removing=removing
        )

    def to_json(self) -> str:
        body: dict = {
            "format": FORMAT,
            "next_id": self.next_id,
            "snapshots": [e.to_json() for e in self.entries],
        }
        if self.removing:
            body["removing"] = self.removing
        return json.dumps(body, ensure_ascii=False, indent=1)


class CatalogProblem(SoatError):
    """catalog.json missing while snapshot files are there, or damaged: every command
    refuses (nothing is removed) until it is restored or rebuilt (`soat snapshots repair`)."""


class SnapshotFileError(SoatError):
    """A listed snapshot's file cannot be read. `kind`: missing, damaged, foreign (a
    DuckDB file not holding this snapshot) — the file is lost, the way out is a backup or
    `soat snapshots delete` — or denied, locked (the file is intact: a permission, another
    process holding it read-write; never advised for deletion)."""

    BROKEN = ("missing", "damaged", "foreign")

    def __init__(self, snapshot_id: int, path: Path, kind: str, detail: str | None = None):
        self.snapshot_id, self.path, self.kind, self.detail = snapshot_id, Path(path), kind, detail
        if kind in self.BROKEN:
            super().__init__(snapshot_file_message(snapshot_id, detail), source=str(path))
        else:  # the words of known_condition, which names the path
            super().__init__(f"bản chụp {snapshot_id}: {detail}")

    @property
    def broken(self) -> bool:
        return self.kind in self.BROKEN


class StoreBusy(SoatError):
    """Another process holds the write lock and the caller chose not to wait."""


# ---- locations ---------------------------------------------------------------------------


def resolve(cli_value: str | None = None) -> str:
    """The store's path: --db, else $SOAT_DB, else data/store. Without either, the store of
    the old default path (data/soat.duckdb: a single-file store, the directory it was
    migrated into, or a migration of it stopped half-way) is used while data/store does
    not exist, so an existing installation keeps its snapshots."""
    path = store.db_path(cli_value)
    if (
        not cli_value
        and not os.environ.get("SOAT_DB")
        and not os.path.exists(path)
        and (os.path.exists(LEGACY_DEFAULT) or _half_migrated(Path(LEGACY_DEFAULT)))
    ):
        return LEGACY_DEFAULT
    return path


def is_legacy_file(path: str | Path) -> bool:
    """A DuckDB database file: the single-file store of the first format (whether it holds
    Soát's tables is checked when it is opened: `_require_store_tables`)."""
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
    """A store directory: one with a catalog, a write lock or snapshot files, or an empty
    one (a folder of province files given as --db by mistake is not: nothing is written
    into it)."""
    p = Path(path)
    if not p.is_dir():
        return False
    return (
        (p / CATALOG).exists()
        or (p / LOCK).exists()
        or bool(snapshot_files(p))
        or not any(p.iterdir())
    )


# ---- the store ---------------------------------------------------------------------------


class SnapshotStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def open(cls, cli_value: str | None = None, *, create: bool = False) -> SnapshotStore:
        """The store at --db / $SOAT_DB / the default. A path that does not exist is an
        error (a mistyped --db must not create an empty store) unless `create`. A
        migration of a single-file store stopped half-way is finished first (said on
        stderr)."""
        path = Path(resolve(cli_value))
        done = finish_interrupted_migration(path)
        if done:
            print(f"soat: {done}", file=sys.stderr)
        if path.exists() and not (is_store_dir(path) or is_legacy_file(path)):
            raise SoatError(NOT_A_STORE, source=str(path), column="--db")
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
        """What is published now (an empty catalog for a store not written yet). A catalog
        that is missing while snapshot files are there, or damaged, is a CatalogProblem:
        nothing may be taken as unpublished then."""
        f = self.path / CATALOG
        try:
            raw = f.read_bytes()
        except FileNotFoundError:
            files = snapshot_files(self.path)
            if files:
                raise CatalogProblem(
                    f"không có danh mục bản chụp {CATALOG} nhưng thư mục kho còn "
                    f"{len(files)} tệp bản chụp ({_names(files)}); không lệnh nào xoá các "
                    f"tệp này: chép {CATALOG} từ bản sao lưu (docs/deployment.md), hoặc chạy "
                    "'soat snapshots repair' để dựng lại danh mục từ các tệp",
                    source=str(self.path),
                ) from None
            return Catalog()
        except OSError as exc:
            raise SoatError(
                known_condition(exc) or f"không đọc được danh mục bản chụp {f} ({_errno(exc)})"
            ) from exc
        try:
            return Catalog.parse(raw)
        except ValueError as exc:
            raise CatalogProblem(
                f"danh mục bản chụp bị hỏng ({exc}); các tệp bản chụp không bị ảnh hưởng: "
                f"chép {CATALOG} từ bản sao lưu (docs/deployment.md), hoặc chạy 'soat "
                "snapshots repair' để dựng lại danh mục từ các tệp bản chụp",
                source=str(f),
            ) from None

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
        (the store's tables, empty, when nothing is published). Never waits for a writer:
        a snapshot deleted or re-checked between its reading of the catalog and its
        ATTACH is read again from the new catalog."""
        if self.legacy:
            con = duckdb.connect(str(self.path), read_only=True)
            try:
                _require_store_tables(con, self.path)
            except BaseException:
                con.close()
                raise
            return con
        for attempt in range(5):
            try:
                cat = self.catalog()
            except CatalogProblem:
                # a catalog rewritten in place on a full disk (_atomic_write) can be read
                # half-written: read it again before saying it is damaged
                if attempt == 4:
                    raise
                time.sleep(0.05)
                continue
            con = duckdb.connect()
            try:
                attach_views(con, "memory", [(e.snapshot_id, self.file_of(e)) for e in cat.entries])
                return con
            except SnapshotFileError:
                con.close()
                # a file of the catalog read a moment ago was deleted (or replaced)
                # meanwhile: the catalog has changed since; read it again
                try:
                    changed = self.catalog().entries != cat.entries
                except SoatError:
                    changed = False
                if not changed or attempt == 4:
                    raise
            except BaseException:
                con.close()
                raise
        raise AssertionError("unreachable")

    def disk_use(self) -> dict[int, int]:
        """Bytes on disk per published snapshot."""
        out = {}
        for e in self.catalog().entries:
            try:
                out[e.snapshot_id] = self.file_of(e).stat().st_size
            except OSError:
                out[e.snapshot_id] = 0
        return out

    def unlisted(self, cat: Catalog | None = None) -> list[Path]:
        """Snapshot files the catalog does not account for (neither listed nor being
        removed): never removed; `soat snapshots repair` lists them again."""
        cat = cat or self.catalog()
        known = {e.file for e in cat.entries} | set(cat.removing)
        return [
            p
            for p in snapshot_files(self.path)
            if p.name not in known and not _same_file(p, self.path / TMP / p.name)
        ]

    # -- writing --

    @contextlib.contextmanager
    def _locked(self, *, wait: bool, on_wait: Callable[[str], None] | None) -> Iterator[None]:
        """The write lock, held for the block; a store of the first format is migrated
        first."""
        if self.legacy:
            _check_legacy_file(self.path)  # not another program's database: nothing created
            # the lock of a single-file store lives beside it (its directory does not exist
            # yet); a second writer waits here, then finds the store already migrated
            beside = self.path.with_name(self.path.name + ".lock")
            with _write_lock(beside, wait=wait, on_wait=on_wait):
                if self.legacy:
                    migrate_legacy(self.path, on_wait=on_wait)
            beside.unlink(missing_ok=True)
        self.path.mkdir(parents=True, exist_ok=True)
        with _write_lock(self.path / LOCK, wait=wait, on_wait=on_wait):
            yield

    @contextlib.contextmanager
    def writing(
        self, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> Iterator[Writer]:
        """The write lock, held for the block. A store of the first format is migrated
        first; what a killed writer left is removed."""
        with self._locked(wait=wait, on_wait=on_wait):
            cat = self.catalog()
            self._remove_leftovers(cat)
            yield Writer(self, cat)

    def _remove_leftovers(self, cat: Catalog) -> None:
        """What a writer killed before it finished left (only a lock holder calls this, so
        no writer is running), never a published snapshot: drafts under tmp/ (and a
        published name that is the same file as one: a publish killed before its catalog),
        a catalog being written, the files a delete unlisted but had not unlinked yet, a
        DuckDB write-ahead log beside a snapshot file. None of it was ever visible."""
        listed = {e.file for e in cat.entries}
        for name in cat.removing:
            if name not in listed:
                (self.path / name).unlink(missing_ok=True)
        tmp = self.path / TMP
        if tmp.is_dir():
            for p in tmp.iterdir():
                final = self.path / p.name
                if p.name not in listed and _same_file(final, p):
                    final.unlink(missing_ok=True)
            shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir(exist_ok=True)
        except OSError as exc:
            # a full disk: a delete or prune needs no tmp/ (a load says so at its draft)
            if exc.errno != errno.ENOSPC:
                raise
        for p in self.path.glob(f".{CATALOG}.*.tmp"):
            p.unlink(missing_ok=True)
        for p in self.path.glob("snapshot-*.duckdb.wal"):
            p.unlink(missing_ok=True)

    def repair(self, *, on_wait: Callable[[str], None] | None = None) -> list[str]:
        """`soat snapshots repair`: list again every snapshot file the catalog does not
        account for — all of them when catalog.json is missing or damaged (the damaged one
        is kept beside it) — each checked to hold its one checked snapshot. Returns what
        was done and what is still wrong, one line each."""
        said: list[str] = []
        with self._locked(wait=True, on_wait=on_wait):
            try:
                cat, problem = self.catalog(), None
            except CatalogProblem as exc:
                cat, problem = Catalog(), exc
            if problem is None:
                self._remove_leftovers(cat)
            adopted: list[Entry] = []
            for p in self.unlisted(cat):
                sid = int(SNAPSHOT_FILE.fullmatch(p.name).group(1))
                try:
                    adopted.append(_read_entry(p, sid))
                except SnapshotFileError as exc:
                    what = exc.detail or ("không đọc được" if exc.broken else exc.plain)
                    said.append(
                        f"! {p}: không đưa vào danh mục ({what}); khôi phục tệp từ bản sao "
                        "lưu rồi chạy lại lệnh này, hoặc xoá tệp nếu không cần"
                    )
            ids = [e.snapshot_id for e in (*cat.entries, *adopted)]
            highest = max(
                (int(SNAPSHOT_FILE.fullmatch(p.name).group(1)) for p in snapshot_files(self.path)),
                default=0,
            )
            damaged = self.path / CATALOG
            if problem is not None and damaged.exists():
                kept = damaged.with_name(f"{CATALOG}.damaged")
                shutil.copyfile(damaged, kept)  # a copy: the catalog is replaced by a rename
                said.append(f"Danh mục hỏng được giữ ở {kept}.")
            if adopted or problem is not None:
                new = Catalog(
                    next_id=max(cat.next_id, max(ids, default=0) + 1, highest + 1),
                    entries=sorted([*cat.entries, *adopted], key=lambda e: e.snapshot_id),
                    removing=[f for f in cat.removing if (self.path / f).exists()],
                )
                _atomic_write(self.path / CATALOG, new.to_json())
                cat = new
            if adopted:
                listed = ", ".join(str(e.snapshot_id) for e in adopted)
                said.insert(0, f"Đã đưa {len(adopted)} tệp vào danh mục: bản chụp {listed}.")
            elif problem is not None:
                said.insert(
                    0, "Đã ghi lại danh mục bản chụp (không có tệp bản chụp nào dùng được)."
                )
            else:
                said.insert(0, "Không có tệp bản chụp nào ngoài danh mục; danh mục giữ nguyên.")
            for e in cat.entries:
                trouble = probe_file(self.file_of(e), e.snapshot_id)
                if trouble is not None:
                    said.append(f"! {trouble}")
        return said


class Writer:
    """What a holder of the write lock can do."""

    def __init__(self, st: SnapshotStore, cat: Catalog | None = None):
        self.store = st
        self.catalog = cat or st.catalog()

    @contextlib.contextmanager
    def draft(self, copy_of: int | None = None) -> Iterator[Draft]:
        """A new snapshot file under tmp/: a new id, or (`copy_of`) a copy of a published
        snapshot to re-check, keeping its id. Discarded unless published in the block."""
        (self.store.path / TMP).mkdir(exist_ok=True)
        if copy_of is None:
            # a new id is never the name of a file already there (one the catalog does not
            # account for is left alone, never overwritten)
            there = [
                int(SNAPSHOT_FILE.fullmatch(p.name).group(1))
                for p in snapshot_files(self.store.path)
            ]
            sid = max(self.catalog.next_id, max(there, default=0) + 1)
            source = None
        else:
            sid = copy_of
            source = self.store.file_of(self.entry(copy_of))
            trouble = probe_file(source, sid)
            if trouble is not None:
                raise trouble
        path = self.store.path / TMP / snapshot_file_name(sid)
        if source is not None:
            try:
                shutil.copyfile(source, path)
            except FileNotFoundError:
                path.unlink(missing_ok=True)
                raise SnapshotFileError(sid, source, "missing") from None
            except OSError as exc:
                path.unlink(missing_ok=True)
                if exc.errno == errno.ENOSPC:  # the copy's disk, not the snapshot's file
                    raise OSError(exc.errno, exc.strerror, str(path)) from exc
                raise
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        try:
            d = Draft(self, sid, path, replaces=source is not None)
            try:
                yield d
            finally:
                d.discard()
        except duckdb.Error as exc:
            # reading the copy of a snapshot being re-checked failed: its file is damaged
            # (DuckDB names the copy under tmp/; the user knows the store's file)
            if source is None or str(path) not in str(exc) or is_interrupt(exc):
                raise
            raise SnapshotFileError(sid, source, "damaged", _damage(exc)) from exc

    def entry(self, snapshot_id: int) -> Entry:
        for e in self.catalog.entries:
            if e.snapshot_id == snapshot_id:
                return e
        raise SoatError(f"không có bản chụp {snapshot_id} (xem 'soat snapshots')")

    def newest(self) -> int | None:
        ids = self.catalog.ids()
        return max(ids) if ids else None

    def delete(
        self,
        snapshot_ids: list[int],
        *,
        before: Callable[[list[Entry]], None] | None = None,
    ) -> list[Entry]:
        """Unlist snapshots in one catalog write, naming their files as being removed, then
        remove the files (readers that attached them keep reading them until they are
        replaced). Never the newest, unless its file is missing or damaged (a store whose
        newest file is lost can then be loaded again). `before` is called with the entries
        once all is checked, before anything changes (the audit log)."""
        entries = [self.entry(s) for s in dict.fromkeys(snapshot_ids)]
        newest = self.newest()
        if newest in snapshot_ids:
            trouble = probe_file(self.store.file_of(self.entry(newest)), newest, deep=True)
            if trouble is None:
                raise SoatError(
                    f"không xoá bản chụp mới nhất ({newest}); nạp bản mới trước khi xoá bản này"
                )
            if not trouble.broken:  # intact as far as anyone knows: not for deletion
                raise SoatError(f"không xoá bản chụp mới nhất: {trouble.plain}")
        if before:
            before(entries)
        gone = [e.file for e in entries]
        self._write_catalog(
            [e for e in self.catalog.entries if e.file not in gone],
            removing=[*self._still_removing(), *gone],
        )
        for name in gone:
            with contextlib.suppress(FileNotFoundError):
                (self.store.path / name).unlink()
        return entries

    def _still_removing(self) -> list[str]:
        return [f for f in self.catalog.removing if (self.store.path / f).exists()]

    def _write_catalog(
        self, entries: list[Entry], next_id: int | None = None, removing: list[str] | None = None
    ) -> None:
        self.catalog = Catalog(
            next_id=next_id or self.catalog.next_id,
            entries=sorted(entries, key=lambda e: e.snapshot_id),
            removing=self._still_removing() if removing is None else removing,
        )
        _atomic_write(self.store.path / CATALOG, self.catalog.to_json())

    def publish(self, d: Draft, entry: Entry) -> None:
        final = self.store.path / entry.file
        _fsync_file(d.path)
        linked = False
        if d.replaces:
            os.replace(d.path, final)  # a re-check: the new file takes the old one's place
        else:
            # a new snapshot: its published name is a second link to the draft until the
            # catalog lists it, so a publish killed in between leaves a file the next
            # writer knows for a leftover (the same file as a draft under tmp/)
            try:
                os.link(d.path, final)
                linked = True
            except OSError as exc:
                if exc.errno == errno.EEXIST:
                    raise
                os.replace(d.path, final)  # a file system without hard links
        _fsync_dir(self.store.path)
        others = [e for e in self.catalog.entries if e.snapshot_id != entry.snapshot_id]
        self._write_catalog(
            [*others, entry], next_id=max(self.catalog.next_id, entry.snapshot_id + 1)
        )
        if linked:
            d.path.unlink(missing_ok=True)


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
    With no file a table is created empty instead, so every query has its tables. A file
    that cannot be read is a SnapshotFileError naming it (`_attach_checked`)."""
    canonical = _canonical_columns()
    present = _attach_checked(con, files)
    target = _ident(catalog)
    try:
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
    except duckdb.Error as exc:
        raise _named_file_error(exc, files) from exc


def _attach_checked(
    con: duckdb.DuckDBPyConnection, files: list[tuple[int, Path]]
) -> dict[tuple[str, str], set[str]]:
    """ATTACH each file READ_ONLY as `snap_<id>` and check it is the file of that snapshot:
    there (missing), not cut short (DuckDB's header names its size: a copy interrupted
    half-way, read through only then), readable (a permission, another process holding it
    read-write: told in known_condition's words, the file is intact), a DuckDB database
    holding exactly that one checked snapshot (foreign: another snapshot's file, another
    program's database). Returns the columns of each table of each file."""
    cut = []
    for sid, path in files:
        try:
            if _cut_short(path):
                cut.append((sid, path))
        except FileNotFoundError:
            raise SnapshotFileError(sid, path, "missing") from None
        except OSError as exc:
            raise _file_error(sid, path, exc) from exc
        try:
            con.execute(f"ATTACH {_sql_str(str(path))} AS snap_{int(sid)} (READ_ONLY)")
        except duckdb.Error as exc:
            raise _file_error(sid, path, exc) from exc
    present: dict[tuple[str, str], set[str]] = {}
    if not files:
        return present
    try:
        for sid, path in cut:
            _read_through(con, sid, path)
        names = [f"snap_{int(sid)}" for sid, _ in files]
        rows = con.execute(
            """SELECT database_name, table_name, column_name FROM duckdb_columns()
               WHERE database_name IN (SELECT unnest($names)) AND schema_name = 'main'""",
            {"names": names},
        ).fetchall()
        for db_name, table, column in rows:
            present.setdefault((db_name, table), set()).add(column)
        for sid, path in files:
            if "snapshot_id" not in present.get((f"snap_{int(sid)}", "snapshots"), set()):
                raise SnapshotFileError(sid, path, "foreign", "không phải tệp bản chụp của Soát")
        held = con.execute(
            " UNION ALL ".join(
                f"SELECT {int(sid)} AS sid, list(snapshot_id ORDER BY snapshot_id) "
                f"FROM snap_{int(sid)}.main.snapshots"
                for sid, _ in files
            )
        ).fetchall()
    except duckdb.Error as exc:
        raise _named_file_error(exc, files) from exc
    paths = dict(files)
    for sid, ids in held:
        if ids != [sid]:
            what = (
                "tệp không chứa bản chụp nào"
                if not ids
                else f"tệp chứa bản chụp {', '.join(map(str, ids))}, không phải bản chụp {sid}"
            )
            raise SnapshotFileError(sid, paths[sid], "foreign", what)
    return present


def _read_through(con: duckdb.DuckDBPyConnection, sid: int, path: Path) -> None:
    """Read every row of every table of `snap_<sid>` (a damaged file fails somewhere)."""
    db_name = f"snap_{int(sid)}"
    try:
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = $d", {"d": db_name}
        ).fetchall()
        for (table,) in tables:
            con.execute(
                f"SELECT count(*), min(hash(t)) FROM {db_name}.main.{_ident(table)} AS t"
            ).fetchall()
    except duckdb.Error as exc:
        raise _file_error(sid, path, exc) from exc


def probe_file(path: Path, snapshot_id: int, *, deep: bool = False) -> SnapshotFileError | None:
    """What is wrong with a snapshot's file, as a reader would find it (None: nothing);
    `deep` reads every row of it too (deciding that a newest snapshot may be deleted)."""
    con = duckdb.connect()
    try:
        _attach_checked(con, [(snapshot_id, path)])
        if deep:
            _read_through(con, snapshot_id, path)
    except SnapshotFileError as exc:
        return exc
    finally:
        con.close()
    return None


def _read_entry(path: Path, snapshot_id: int) -> Entry:
    """The catalog entry of a snapshot file found in the store (`soat snapshots repair`),
    checked as a reader checks it; SnapshotFileError if it is not one checked snapshot."""
    con = duckdb.connect()
    try:
        _attach_checked(con, [(snapshot_id, path)])
        name, as_of, year, checked = con.execute(
            f"SELECT name, as_of, school_year, checked_at IS NOT NULL "
            f"FROM snap_{int(snapshot_id)}.main.snapshots"
        ).fetchall()[0]
    except duckdb.Error as exc:
        raise _file_error(snapshot_id, path, exc) from exc
    finally:
        con.close()
    if not checked:
        raise SnapshotFileError(snapshot_id, path, "foreign", "bản chụp chưa được kiểm tra xong")
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)
    return Entry(
        snapshot_id=snapshot_id,
        file=path.name,
        name=name,
        as_of=as_of,
        school_year=year,
        published_at=mtime.isoformat(timespec="seconds"),
    )


# DuckDB's file header: 4096 bytes of main header (magic at 8), then two database headers
# of which the one with the higher iteration is current: checksum, iteration, meta block,
# free list, block count, block size, ... (8 bytes each, little-endian).
_HEADER = 3 * 4096


def _cut_short(path: Path) -> bool:
    """The file is shorter than its DuckDB header says (block count × block size after
    the headers): a copy or restore interrupted half-way. Only a hint (a layout not the
    expected one says False; a file cut in free blocks is still read through before it is
    called damaged); raises FileNotFoundError, PermissionError."""
    with open(path, "rb") as f:
        head = f.read(_HEADER)
        size = os.fstat(f.fileno()).st_size
    if len(head) < _HEADER or head[8:12] != DUCKDB_MAGIC:
        return False  # DuckDB says what it is
    current = max(
        (struct.unpack_from("<8Q", head, off) for off in (4096, 8192)), key=lambda h: h[1]
    )
    blocks, block_size = current[4], current[5]
    if not (4096 <= block_size <= 1 << 26 and block_size & (block_size - 1) == 0):
        return False
    if blocks > 1 << 40:
        return False
    return size < _HEADER + blocks * block_size


def _damage(exc: BaseException) -> str | None:
    text = str(exc)
    if "Could not read enough bytes" in text:
        return "tệp bị cắt ngắn"
    if "not a valid DuckDB database file" in text:
        return "không phải tệp cơ sở dữ liệu DuckDB"
    if "Corrupt database" in text:
        return "dữ liệu trong tệp sai tổng kiểm tra"
    return None


def _file_error(sid: int, path: Path, exc: BaseException) -> BaseException:
    """SnapshotFileError for a failure reading `path`: a permission or a lock (the file is
    intact: known_condition's words), else missing or damaged. Ctrl-C passes as it is."""
    if is_interrupt(exc):
        return exc
    text = str(exc)
    known = known_condition(exc)
    if isinstance(exc, PermissionError) or "Permission denied" in text:
        return SnapshotFileError(sid, path, "denied", known)
    if "Could not set lock" in text or "Conflicting lock" in text:
        return SnapshotFileError(sid, path, "locked", known)
    if not os.path.exists(path):
        return SnapshotFileError(sid, path, "missing")
    return SnapshotFileError(sid, path, "damaged", _damage(exc))


def _named_file_error(exc: duckdb.Error, files: list[tuple[int, Path]]) -> BaseException:
    """A failure while reading attached files: the file DuckDB names, else as it is."""
    if is_interrupt(exc):
        return exc
    text = str(exc)
    for sid, path in files:
        if f'"{path}"' in text:
            return _file_error(sid, path, exc)
    return exc


def _require_store_tables(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A DuckDB file given as the store must hold Soát's tables (not another program's)."""
    has = con.execute(
        """SELECT count(*) FROM duckdb_tables()
           WHERE database_name = current_database() AND schema_name = 'main'
             AND table_name = 'snapshots'"""
    ).fetchall()[0][0]
    if not has:
        raise SoatError(NOT_A_STORE, source=str(path), column="--db")


def _check_legacy_file(path: Path) -> None:
    con = duckdb.connect(str(path), read_only=True)
    try:
        _require_store_tables(con, path)
    finally:
        con.close()


def _same_file(a: Path, b: Path) -> bool:
    """Two names of one file (a published name still linked to its draft under tmp/)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _names(files: list[Path]) -> str:
    if len(files) <= 3:
        return ", ".join(p.name for p in files)
    return f"{files[0].name} … {files[-1].name}"


def _errno(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, "lỗi đọc tệp")


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
        _note(fd, _holder_text())
        try:
            yield
        finally:
            _note(fd, "")
            _unlock(fd)
    finally:
        os.close(fd)


NOTE_SIZE = 512  # the holder note's room in the lock file, kept between writers


def _note(fd: int, text: str) -> None:
    """Write who holds the lock (blank: nobody) over the lock file's first bytes, padded to
    NOTE_SIZE: the file keeps its block, so a writer on a full disk (a delete or prune
    that would free it) still writes its note. A note that cannot be written is left
    out (a waiter then reads "một tiến trình khác"), never a reason to fail."""
    try:
        os.pwrite(fd, text.encode().ljust(NOTE_SIZE), 0)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no note rather than an earlier holder's


def _holder_text() -> str:
    now = dt.datetime.now().astimezone()
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": now.isoformat()})


def _holder(path: Path) -> str:
    """'tiến trình 1234 (từ 09:15 06/12)' — who holds the lock, as far as its file tells."""
    try:
        info = json.loads(path.read_text(encoding="utf-8").strip() or "{}")
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
    """Replace `path` by `text`: written aside, fsynced, renamed. On a full disk (no block
    for a new file) the text goes into the file's own blocks instead when it is no longer
    than what is there (`_overwrite`): a delete or prune can then unlist and free space."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = text.encode("utf-8")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if exc.errno == errno.ENOSPC and _overwrite(path, data):
            return
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _overwrite(path: Path, data: bytes) -> bool:
    """`data` written over `path` in one write, padded with spaces to the file's length
    (JSON allows them), so it takes no new block. Not a rename: a reader reading meanwhile
    may see it half-written and reads again (SnapshotStore.reader); one write is never
    half-done by a kill. False when the file is shorter than `data`."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError:
        return False
    try:
        size = os.fstat(fd).st_size
        if len(data) > size:
            return False
        os.pwrite(fd, data.ljust(size), 0)
        os.fsync(fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


# ---- migration of the single-file store --------------------------------------------------


def migrate_legacy(path: Path, on_wait: Callable[[str], None] | None = None) -> None:
    """Split a single-file store (format 1) into a store directory at the same path: one
    file per snapshot, every table's rows copied, counts compared; the old file is kept
    beside it as `<name>.v1-backup`. Nothing is lost: the copy is checked before the old
    file moves, and a failure leaves the old file where it was."""
    work, backup = _migration_names(path)
    src = duckdb.connect(str(path), read_only=True)
    try:
        _require_store_tables(src, path)  # another program's database: nothing is created
        if on_wait:
            on_wait(f"Chuyển kho dữ liệu một tệp {path} sang dạng thư mục (bản cũ giữ ở {backup})…")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
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


def _migration_names(path: Path) -> tuple[Path, Path]:
    """Where a migration builds the new store, and where it keeps the old file."""
    return path.with_name(path.name + ".migrating"), path.with_name(path.name + ".v1-backup")


def _half_migrated(path: Path) -> bool:
    """A migration killed between its two renames: the old file already moved to its
    backup, the new store not yet at the path (a backup alone, after a migrated store
    was removed by hand, is left alone)."""
    work, backup = _migration_names(path)
    return not os.path.lexists(path) and backup.is_file() and work.is_dir()


def finish_interrupted_migration(path: str | Path) -> str | None:
    """A migration killed between its two renames left nothing at the path: the old file
    is `<name>.v1-backup`, the new store `<name>.migrating/` — complete, its catalog was
    written before the first rename. Finish it (rename the new store into place), under
    the migration's lock; without the new store's catalog (never left by migrate_legacy)
    put the old file back instead (the next write migrates it again). Returns what was
    done, for the user; None when there was nothing to do."""
    path = Path(path)
    if not _half_migrated(path):
        return None
    work, backup = _migration_names(path)
    wal, backup_wal = Path(f"{path}.wal"), Path(f"{backup}.wal")
    beside = path.with_name(path.name + ".lock")
    try:
        with _write_lock(beside, wait=True, on_wait=None):
            if not _half_migrated(path):
                return None  # another process finished it meanwhile
            try:
                Catalog.parse((work / CATALOG).read_bytes())
                complete = True
            except (OSError, ValueError):
                complete = False
            if complete:
                if wal.exists() and not backup_wal.exists():
                    os.replace(wal, backup_wal)  # the old file's log goes with it
                os.replace(work, path)
                said = f"đã hoàn tất (bản cũ giữ ở {backup})"
            else:
                if backup_wal.exists() and not wal.exists():
                    os.replace(backup_wal, wal)
                os.replace(backup, path)
                said = f"đã đặt lại tệp cũ {path}; lệnh ghi tiếp theo sẽ chuyển lại"
            _fsync_dir(path.parent)
        beside.unlink(missing_ok=True)
    except OSError as exc:
        raise SoatError(
            f"việc chuyển kho dữ liệu một tệp sang dạng thư mục đã bị dừng giữa chừng (kho mới "
            f"ở {work}, tệp cũ ở {backup}) và không hoàn tất được: "
            f"{known_condition(exc) or _errno(exc)}; chạy lại lệnh với quyền ghi thư mục "
            f"{path.parent}, hoặc đổi tên {work} thành {path}",
            source=str(path),
        ) from exc
    return f"{path}: việc chuyển kho dữ liệu một tệp sang dạng thư mục đã bị dừng giữa chừng lần trước; {said}"


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
