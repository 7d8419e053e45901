"""Download buttons whose files are the CLI exports' own output (soat.exports), never a
re-implementation: the same frame() with the same scope and filters, the same writer.

Every download of the dashboard (the exports here, the follow-up record of
dashboard.components.followup) goes through `guarded_button`:

- the file is built only when the button is clicked (a callable for st.download_button,
  run by Streamlit on a worker thread), and only if the session that drew the button is
  still valid then (not logged out, not expired, the account not disabled): checked
  before and after the file is built. A refused click builds nothing, is audited as
  `export_refused`, and the page reruns to the login form (when that rerun reaches the
  server before the click's file request, the button is gone with the page and Streamlit
  drops its callable: nothing to build, nothing to refuse);
- each file built is audited (`export`: kind, filters, scope, format, row count); a
  failing audit write refuses the file;
- the file Streamlit then holds in memory for the browser (`/media/<hash>`) is served at
  most MAX_SERVES times (the button fetches it once to check the address, once to save
  it), within FILE_TTL seconds of being built, and only while the session is still valid;
  then it is deleted. A browser that never logged in, or one asking after the session
  ended, gets "404". (`GuardedMediaStorage`, installed into Streamlit's runtime.)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st
from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import MemoryFile, MemoryMediaFileStorage

from dashboard import db
from dashboard.query import Filters
from soat.scope import Scope

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"

FILE_TTL = 15.0  # seconds a built file may wait for the browser's requests
MAX_SERVES = 2  # the download button's own check of the address, then the download
REFUSED_DELAY = 1.0  # a refusal answers after the page has rerun to the login form
UNAVAILABLE = (
    "Không tải được tệp trên máy chủ này: máy chủ không kiểm soát được thời hạn của tệp "
    "tải về. Hãy báo quản trị."
)
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class DownloadRefused(Exception):
    """The session that drew a download button has ended: no file."""


# ---- the session check ---------------------------------------------------------------


def session_token() -> str | None:
    from dashboard import auth

    return st.session_state.get(auth.TOKEN_KEY)


def session_valid(token: str | None, username: str) -> bool:
    """The session is still the user's: known, not expired, the account active."""
    from soat import accounts

    try:
        user = accounts.validate_session(token)
    except Exception:  # noqa: BLE001 - fail closed
        return False
    return user is not None and user.username == username


def _refuse(scope: Scope, kind: str, fmt: str, reason: str) -> None:
    from soat import audit

    with contextlib.suppress(Exception):
        audit.record("export_refused", scope, {"kind": kind, "format": fmt, "reason": reason})
    if REFUSED_DELAY:
        time.sleep(REFUSED_DELAY)
    raise DownloadRefused(reason)


def guarded(
    make: Callable[[], tuple[bytes, int]],
    scope: Scope,
    token: str | None,
    kind: str,
    fmt: str,
    filters: dict,
) -> Callable[[], bytes]:
    """The `data=` callable of a download button: checks the session, builds the file with
    `make()` (→ bytes, row count), checks the session again, audits, and registers the
    bytes with the media guard. Raises DownloadRefused (no file) when the session ended."""

    def build() -> bytes:
        if not session_valid(token, scope.user):
            _refuse(scope, kind, fmt, "session_ended_before_build")
        data, rows = make()
        if not session_valid(token, scope.user):
            _refuse(scope, kind, fmt, "session_ended_during_build")
        from soat import audit

        try:
            audit.log_export(scope, kind, filters, rows=rows, fmt=fmt)
        except Exception:  # noqa: BLE001 - no audit row, no file
            _refuse(scope, kind, fmt, "audit_failed")
        GUARD.expect(data, token or "", scope.user)
        return data

    return build


def guarded_button(
    container,
    label: str,
    make: Callable[[], tuple[bytes, int]],
    *,
    scope: Scope,
    kind: str,
    fmt: str,
    filters: dict,
    file_name: str,
    mime: str,
    key: str,
    help: str | None = None,
) -> None:
    """A download button whose file is built by `make` under the session check (see the
    module's docstring). Clicking reruns the page, so an ended session shows the login
    form at once."""
    if not install_guard():
        container.download_button(label, data=b"", key=key, disabled=True, help=UNAVAILABLE)
        return
    container.download_button(
        label,
        data=guarded(make, scope, session_token(), kind, fmt, filters),
        file_name=file_name,
        mime=mime,
        key=key,
        on_click="rerun",
        help=help,
    )


# ---- the media guard -----------------------------------------------------------------


@dataclass
class _Entry:
    token: str
    user: str
    expires: float
    serves: int = 0
    file_id: str | None = None
    data: bytes | None = field(default=None, repr=False)


class MediaGuard:
    """Which files in Streamlit's media storage are downloads of a session, and the rules
    for serving them (MAX_SERVES, FILE_TTL, a valid session)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, _Entry] = {}  # id(bytes) → entry, until Streamlit stores it
        self._by_file: dict[str, _Entry] = {}
        self._internal = threading.local()

    def expect(self, data: bytes, token: str, user: str) -> None:
        """`data` is about to be handed to Streamlit as a download of this session."""
        now = time.monotonic()
        with self._lock:
            for k in [k for k, e in self._pending.items() if e.expires < now]:
                del self._pending[k]
            self._pending[id(data)] = _Entry(token, user, now + FILE_TTL, data=data)

    def stored(self, data: object, file_id: str, storage: MemoryMediaFileStorage) -> None:
        """Streamlit stored `data` under `file_id`: guard it, and delete it at FILE_TTL."""
        with self._lock:
            entry = self._pending.pop(id(data), None)
            if entry is None or entry.data is not data:
                return
            entry.data = None
            entry.file_id = file_id
            entry.expires = time.monotonic() + FILE_TTL
            self._by_file[file_id] = entry
        timer = threading.Timer(FILE_TTL, self._expire, (file_id, entry, storage))
        timer.daemon = True
        timer.start()

    def _drop(self, file_id: str, entry: _Entry, storage: MemoryMediaFileStorage) -> None:
        with self._lock:
            if self._by_file.get(file_id) is not entry:
                return
            del self._by_file[file_id]
        storage.delete_file(file_id)

    def _expire(self, file_id: str, entry: _Entry, storage: MemoryMediaFileStorage) -> None:
        self._drop(file_id, entry, storage)

    def guarded(self, file_id: str) -> bool:
        with self._lock:
            return file_id in self._by_file

    @contextlib.contextmanager
    def internal(self):
        """Streamlit's own lookups (the URL it answers the button with) are not serves."""
        self._internal.active = True
        try:
            yield
        finally:
            self._internal.active = False

    def serve(self, file_id: str, file: MemoryFile, storage: MemoryMediaFileStorage) -> MemoryFile:
        if getattr(self._internal, "active", False):
            return file
        with self._lock:
            entry = self._by_file.get(file_id)
            if entry is None:
                return file  # not a guarded download (or already gone)
            entry.serves += 1
            expired = time.monotonic() > entry.expires
            last = entry.serves >= MAX_SERVES
        if expired or not session_valid(entry.token, entry.user):
            self._drop(file_id, entry, storage)
            raise MediaFileStorageError(f"download {file_id} no longer available")
        if last:
            self._drop(file_id, entry, storage)
        return file


GUARD = MediaGuard()


class GuardedMediaStorage(MemoryMediaFileStorage):
    """Streamlit's in-memory media storage with GUARD's rules for download files."""

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None) -> str:
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        GUARD.stored(path_or_data, file_id, self)
        return file_id

    def get_url(self, file_id: str) -> str:
        with GUARD.internal():
            return super().get_url(file_id)

    def get_file(self, filename: str) -> MemoryFile:
        file = super().get_file(filename)
        return GUARD.serve(os.path.splitext(filename)[0], file, self)


def install_guard() -> bool:
    """Make the running Streamlit's media storage a GuardedMediaStorage (once). False when
    it cannot be (no runtime, or a storage this code does not know): downloads are then
    offered disabled, never unguarded."""
    try:
        from streamlit import runtime

        if not runtime.exists():
            return False
        storage = getattr(runtime.get_instance().media_file_mgr, "_storage", None)
    except Exception:  # noqa: BLE001
        return False
    if isinstance(storage, GuardedMediaStorage):
        return True
    if type(storage) is MemoryMediaFileStorage:
        storage.__class__ = GuardedMediaStorage
        return True
    return False


# ---- the export buttons ----------------------------------------------------------------


def export_file(
    kind: str,
    fmt: str,
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    check: str | None = None,
    change: str | None = None,
) -> tuple[bytes, int]:
    """The bytes `soat export KIND --format FMT --snapshot ID [--unit --level --period --check
    --change]` writes, run with this user's Scope on the dashboard's read-only connection,
    and the number of rows in it. The temporary file is removed before this returns."""
    return _exported(
        kind,
        f"{kind}.{fmt}",
        snapshot_id,
        scope,
        filters,
        format=fmt,
        check=check,
        change=change,
        from_id=None,
    )


def _exported(
    kind: str, name: str, snapshot_id: int, scope: Scope, filters: Filters, **options
) -> tuple[bytes, int]:
    """`soat export KIND … -o NAME` (its options as the parser would give them, `options`
    over the defaults) run with this Scope on a cursor of the dashboard's read-only
    connection, in a temporary folder removed before this returns: the file's bytes and
    the number of rows the command counted."""
    from soat.commands import export

    args = argparse.Namespace(
        **{
            "kind": kind,
            "format": None,
            "output": None,
            "db": None,
            "snapshot": snapshot_id,
            "unit": filters.unit,
            "level": filters.level,
            "period": filters.period,
            "check": None,
            "scope": scope,
            "con": None,
            **options,
        }
    )
    with db.cursor() as cur:
        if cur is None:
            return b"", 0
        args.con = cur
        with tempfile.TemporaryDirectory(prefix="soat-dl-") as tmp:
            args.output = str(Path(tmp) / name)
            export.run(args)
            return Path(args.output).read_bytes(), int(getattr(args, "rows", 0) or 0)


def export_bytes(
    kind: str,
    fmt: str,
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    check: str | None = None,
    change: str | None = None,
) -> bytes:
    return export_file(kind, fmt, snapshot_id, scope, filters, check, change)[0]


def audit_filters(
    snapshot_id: int, filters: Filters, check: str | None = None, change: str | None = None
) -> dict:
    return {
        "snapshot": snapshot_id,
        "unit": filters.unit,
        "level": filters.level,
        "period": filters.period,
        "check": check,
        "change": change,
    }


def file_name(
    kind: str, fmt: str, snapshot_id: int, filters: Filters, stem: str | None = None
) -> str:
    parts = [stem or kind, f"bc{snapshot_id}"]
    parts += [v for v in (filters.unit, filters.level, filters.period) if v]
    return "_".join(parts) + f"_{dt.date.today():%Y%m%d}.{fmt}"


def buttons(
    kind: str,
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    key: str,
    stem: str | None = None,
    change: str | None = None,
) -> None:
    c1, c2, _ = st.columns([1, 1, 3])
    # The CSV is the data contract's (docs/interface: column names and codes as `soat export`
    # writes them, for a spreadsheet formula or a script); the list to read or forward is the
    # .xlsx, with Vietnamese headers and values. The button says so.
    for container, fmt, label, mime, tip in (
        (
            c1,
            "xlsx",
            "⬇ Tải Excel (.xlsx)",
            XLSX_MIME,
            "Danh sách để đọc và gửi đi: tiêu đề cột, giá trị bằng tiếng Việt, dòng tiêu đề "
            "ghi phạm vi",
        ),
        (
            c2,
            "csv",
            "⬇ Tải CSV",
            CSV_MIME,
            "Dữ liệu thô để xử lý tiếp (công thức, phần mềm khác): tên cột và mã theo chuẩn "
            "dữ liệu (ví dụ school_code, status = missing), đúng như lệnh soat export; bản "
            "để gửi đi là tệp Excel",
        ),
    ):
        guarded_button(
            container,
            label,
            lambda fmt=fmt: export_file(kind, fmt, snapshot_id, scope, filters, change=change),
            scope=scope,
            kind=kind,
            fmt=fmt,
            filters=audit_filters(snapshot_id, filters, change=change),
            file_name=file_name(kind, fmt, snapshot_id, filters, stem),
            mime=mime,
            key=f"{key}_{fmt}",
            help=tip,
        )


def late_buttons(snapshot_id: int, scope: Scope, filters: Filters, key: str) -> None:
    buttons("late", snapshot_id, scope, filters, key, stem="danh_sach_nop_muon")


def findings_buttons(
    snapshot_id: int,
    scope: Scope,
    filters: Filters,
    stem: str,
    key: str,
    change: str | None = None,
) -> None:
    """The findings list; with `change` ('new'): `soat export findings --change new`."""
    buttons("findings", snapshot_id, scope, filters, key, stem=stem, change=change)


# ---- the reminder letter and the per-school error sheets (soat export letter|school-sheets)


def document_file(
    kind: str, snapshot_id: int, scope: Scope, filters: Filters, suffix: str
) -> tuple[bytes, int]:
    """The bytes `soat export letter|school-sheets --snapshot ID [--unit --level --period]
    -o FILE` writes (school-sheets as one .zip), with this user's Scope, on the dashboard's
    read-only connection, and the number of rows in it (the letter's appendix, the sheets'
    findings)."""
    return _exported(
        kind, f"{kind}{suffix}", snapshot_id, scope, filters, target=None, all_schools=False
    )


def letter_button(snapshot_id: int, scope: Scope, filters: Filters, key: str) -> None:
    """'Công văn đôn đốc (.docx)': the letter for the late and missing rows of the selection."""
    guarded_button(
        st.columns([2, 3])[0],
        "⬇ Công văn đôn đốc (.docx)",
        lambda: document_file("letter", snapshot_id, scope, filters, ".docx"),
        scope=scope,
        kind="letter",
        fmt="docx",
        filters=audit_filters(snapshot_id, filters),
        file_name=file_name("letter", "docx", snapshot_id, filters, "cong_van_don_doc"),
        mime=DOCX_MIME,
        key=key,
        help="Dự thảo công văn theo Nghị định 30/2020/NĐ-CP, phụ lục là các trường chưa nộp, "
        "nộp trễ hạn theo bộ lọc đang chọn; để trống số, ngày ký và người ký",
    )


def school_sheets_button(snapshot_id: int, scope: Scope, filters: Filters, key: str) -> None:
    """'Phiếu lỗi từng trường (.zip)': one workbook per school of the selection (unit and
    level; the sheets hold every period)."""
    filters = Filters(unit=filters.unit, level=filters.level)
    guarded_button(
        st.columns([2, 3])[0],
        "⬇ Phiếu lỗi từng trường (.zip)",
        lambda: document_file("school-sheets", snapshot_id, scope, filters, ".zip"),
        scope=scope,
        kind="school-sheets",
        fmt="zip",
        filters=audit_filters(snapshot_id, filters),
        file_name=file_name("school-sheets", "zip", snapshot_id, filters, "phieu_loi_tung_truong"),
        mime="application/zip",
        key=key,
        help="Mỗi trường một tệp .xlsx: các lỗi cần sửa (hồ sơ, thông tin, nơi sửa) và dữ "
        "liệu chưa nộp, nộp trễ; đúng như lệnh soat export school-sheets",
    )
