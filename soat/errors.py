"""Errors a user sees: one line, naming the file, sheet, row or option at fault."""

from __future__ import annotations

import contextlib
import errno
import re
import signal
import threading


def redact_url(url: str) -> str:
    """A database URL as messages show it: its password replaced by ***."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class SoatError(Exception):
    """Bad input: the CLI prints the message and exits with status 1."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ):
        self.source, self.sheet, self.row, self.column = source, sheet, row, column
        where = []
        if source:
            where.append(source)
        if sheet:
            where.append(f"sheet '{sheet}'")
        if row is not None:
            where.append(f"dòng {row}")
        if column and column.startswith("--"):
            where.append(f"tùy chọn {column}")  # a command-line option, not a column
        elif column:
            where.append(f"cột '{column}'")
        self.plain = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class UsageError(Exception):
    """Wrong use of the command line: exit status 2."""


class Interrupted(Exception):
    """The user stopped a command (Ctrl-C): the CLI prints the message and exits 130."""


_CTRL_C = threading.Event()


@contextlib.contextmanager
def noting_ctrl_c():
    """While the block runs (in the main thread), remember that Ctrl-C was pressed. Ctrl-C
    surfaces in many shapes: Python's KeyboardInterrupt, DuckDB's interrupted query, and —
    when it lands inside an import — a later "cannot load module more than once per
    process"; whatever a stopped command then raises is told as the stop it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        _CTRL_C.set()
        signal.default_int_handler(signum, frame)  # KeyboardInterrupt, as without us

    _CTRL_C.clear()
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def forget_ctrl_c() -> None:
    """The command is over: what it noted of Ctrl-C must not colour another command run
    later in the same process (tests; the dashboard's threads never note it)."""
    _CTRL_C.clear()


def is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, however it surfaced: Python's KeyboardInterrupt, DuckDB's answer to it while
    a query ran (an InterruptException, or a RuntimeError 'Query interrupted'), or any
    failure after Ctrl-C was pressed during `noting_ctrl_c`."""
    if isinstance(exc, KeyboardInterrupt) or _CTRL_C.is_set():
        return True
    import duckdb

    if isinstance(exc, duckdb.InterruptException):
        return True
    return isinstance(exc, RuntimeError) and str(exc).strip() == "Query interrupted"


@contextlib.contextmanager
def stopped_as(message):
    """Ctrl-C inside the block becomes Interrupted(message()) — what the command left as it
    was — whatever it surfaced as: a stop can surface as anything, a loader's own message
    included (a sheet that "cannot be read" because the read was interrupted), and DuckDB
    reports an interrupted query as its own exception. `message` is called then, so it can
    say how far the command got. Any other failure passes unchanged."""
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, SystemExit) or not is_interrupt(exc):
            raise
        raise Interrupted(message()) from exc


_QUOTED_PATH = re.compile(r'"(/[^"]+|[A-Za-z]:\\[^"]+)"')
# a published snapshot's file (soat.snapshot_store), quoted in DuckDB's message, relative or not
_SNAPSHOT_PATH = re.compile(r'"([^"]*?snapshot-(\d{6,})\.duckdb)"')
# DuckDB's words for a database file it cannot read: cut short, not a database, bad checksum
_DRAFT = re.compile(r"(^|[/\\])tmp[/\\]snapshot-")  # a snapshot being written (tmp/)
_DAMAGED = ("Could not read enough bytes", "not a valid DuckDB database file", "Corrupt database")


def snapshot_file_message(snapshot_id: int, detail: str | None = None) -> str:
    """A snapshot's file missing or damaged, and the two ways out (docs/deployment.md)."""
    what = f" ({detail})" if detail else ""
    return (
        f"tệp của bản chụp {snapshot_id} không có hoặc bị hỏng{what}: khôi phục tệp từ bản "
        "sao lưu (docs/deployment.md), hoặc bỏ bản chụp này khỏi kho bằng "
        f"'soat snapshots delete {snapshot_id}'"
    )


def known_condition(exc: BaseException) -> str | None:
    """Vietnamese words for conditions of the machine, not bugs, that a library reports in
    English: a full disk, a store file another process holds, a file the user may not
    read or write. None for anything else ("lỗi không mong đợi" is for real bugs)."""
    text = str(exc)
    named = getattr(exc, "filename", None) if isinstance(exc, OSError) else None
    where = _QUOTED_PATH.search(text)
    path = f" ({named})" if named else f" ({where.group(1)})" if where else ""
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left" in text:
        return (
            f"hết chỗ trống trên đĩa{path}: giải phóng dung lượng trên đĩa đó (nếu là đĩa của "
            "kho dữ liệu: xoá bản chụp cũ bằng 'soat snapshots prune --keep N') rồi chạy lại; "
            "các bản chụp đã có không đổi"
        )
    if isinstance(exc, IsADirectoryError):
        return f"đường dẫn{path} là một thư mục: hãy ghi cả tên tệp (ví dụ …/danh_sach.xlsx)"
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return f"đường dẫn{path} là một tệp, không phải thư mục: hãy chọn một thư mục khác"
    if isinstance(exc, FileNotFoundError):
        return f"không tìm thấy thư mục hoặc tệp{path}: kiểm tra đường dẫn (thư mục phải có sẵn)"
    snapshot = _SNAPSHOT_PATH.search(text)
    if snapshot and not path:
        path = f" ({snapshot.group(1)})"
    if "Could not set lock on file" in text or "Conflicting lock is held" in text:
        if snapshot:  # a published snapshot, opened read-write by hand (the duckdb CLI)
            return (
                f"tệp dữ liệu{path} đang được một tiến trình khác mở để ghi (tệp không hỏng; "
                "không mở tệp của kho bằng công cụ khác); thử lại khi tiến trình đó xong"
            )
        return (
            f"tệp dữ liệu{path} đang được một tiến trình khác mở để ghi "
            "(kho dạng một tệp của phiên bản cũ); thử lại khi tiến trình đó xong"
        )
    if (isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)) or (
        "Permission denied" in text or "Read-only file system" in text
    ):
        return f"không có quyền đọc/ghi{path}: kiểm tra quyền của tệp hoặc thư mục này"
    if any(words in text for words in _DAMAGED):
        if snapshot and not _DRAFT.search(snapshot.group(1)):  # a published one
            return f"{snapshot.group(1)}: {snapshot_file_message(int(snapshot.group(2)))}"
        return (
            f"tệp dữ liệu{path} bị hỏng hoặc bị cắt ngắn: khôi phục tệp từ bản sao lưu "
            "(docs/deployment.md)"
        )
    return None
