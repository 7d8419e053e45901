"""Files uploaded through the dashboard: the size limit, the copy on disk, and how long it
is kept (docs/access.md, "Uploads").

- `$SOAT_MAX_UPLOAD_MB` (default 500) limits an upload: Streamlit refuses a bigger file
  in the browser (`soat serve` passes it as server.maxUploadSize) and `save` checks the
  total again while writing;
- `save` streams each file to `<db folder>/uploads/<time>/` in 1 MB chunks (no second
  copy in memory) and returns what the loader should read;
- after the load the folder is deleted (`discard`), whether the load succeeded or not,
  unless the admin ticked "keep" (`keep` leaves a marker file); a folder left behind by a
  crash is deleted by `sweep` at the next upload once it is a day old. Kept folders stay
  until an admin deletes them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Protocol

from soat.errors import SoatError

DEFAULT_MAX_UPLOAD_MB = 500
CHUNK = 1 << 20
KEEP_MARKER = ".giu_lai"  # "keep": a folder with this file is never swept
STALE_SECONDS = 24 * 3600


class Upload(Protocol):
    name: str

    def seek(self, pos: int, whence: int = 0) -> int: ...
    def read(self, n: int = -1) -> bytes: ...


def max_upload_mb() -> int:
    try:
        return max(1, int(os.environ.get("SOAT_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)))
    except ValueError:
        return DEFAULT_MAX_UPLOAD_MB


MAX_NAME_BYTES = 200  # file systems take 255 bytes a name; Vietnamese letters take 2–3


def safe_name(name: str) -> str:
    """The uploaded file's name as the folder keeps it: its last part only, letters, digits,
    '.', '-', '_' and spaces, and at most MAX_NAME_BYTES bytes (the end of a long name is
    cut before its extension: a 207-letter name once failed with "File name too long")."""
    name = re.sub(r"[^\w.\- ]", "_", Path(name).name, flags=re.UNICODE) or "file"
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    p = Path(name)
    stem, ext = (p.stem, p.suffix) if len(p.suffix.encode()) < 20 else (name, "")
    room = MAX_NAME_BYTES - len(ext.encode())
    return stem.encode()[:room].decode(errors="ignore").rstrip() + ext


def _size(f: Upload) -> int | None:
    size = getattr(f, "size", None)
    return int(size) if isinstance(size, int) else None


def check_sizes(files: Iterable[Upload], limit_mb: int | None = None) -> None:
    """Refuse, before writing anything, an upload whose files add up to more than the limit
    (the sizes the browser declared)."""
    limit = (limit_mb or max_upload_mb()) * 1024 * 1024
    total = 0
    for f in files:
        total += _size(f) or 0
        if total > limit:
            raise SoatError(
                f"tệp tải lên quá lớn: tổng cộng vượt {limit // (1024 * 1024)} MB (tới tệp "
                f"'{f.name}'); hãy nạp bằng lệnh 'soat load' trên máy chủ, hoặc đặt "
                "SOAT_MAX_UPLOAD_MB lớn hơn"
            )


def _copy(src: BinaryIO | Upload, dst: BinaryIO, budget: int, name: str) -> int:
    src.seek(0)
    written = 0
    while chunk := src.read(CHUNK):
        written += len(chunk)
        if written > budget:
            raise SoatError(f"tệp tải lên quá lớn: vượt {max_upload_mb()} MB khi ghi tệp '{name}'")
        dst.write(chunk)
    return written


def save(files: list[Upload], root: Path, limit_mb: int | None = None) -> Path:
    """Write the files to a new folder under `root`, a chunk at a time, checking the total
    size; nothing is left on disk when it is too big. Returns the folder."""
    check_sizes(files, limit_mb)
    budget = (limit_mb or max_upload_mb()) * 1024 * 1024
    folder = root / dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for f in files:
            with open(folder / safe_name(f.name), "wb") as out:
                budget -= _copy(f, out, budget, f.name)
    except BaseException:
        discard(folder)
        raise
    return folder


def keep(folder: Path) -> None:
    """Mark an upload folder to be kept (never swept)."""
    (folder / KEEP_MARKER).write_text(
        "Giữ lại theo yêu cầu của quản trị khi tải lên; xoá thư mục này khi không cần nữa.\n",
        encoding="utf-8",
    )


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def sweep(root: Path, older_than: float = STALE_SECONDS, now: float | None = None) -> list[Path]:
    """Delete upload folders left behind (a crash during a load) once they are older than
    `older_than` seconds; kept folders stay. Returns what was deleted."""
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    gone = []
    for folder in root.iterdir():
        if not folder.is_dir() or (folder / KEEP_MARKER).exists():
            continue
        if now - folder.stat().st_mtime > older_than:
            discard(folder)
            gone.append(folder)
    return gone
