"""Where an export is written: whole, or not at all.

Every export file (CSV, .xlsx, the letter, the per-school sheets as a .zip or a folder) is
written under a hidden temporary name beside its target and moved into place (an atomic
rename) only once it is complete. The caller audits it inside the block, before the move:
an export stopped by Ctrl-C, a full disk or an error leaves no half-written file under its
name, does not truncate an earlier good file of that name, and no file reaches its name
without its audit row.

    with output.file(path) as tmp:
        write(tmp)
        audit(...)
    # here `path` is the whole file
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


def _check_target(path: Path) -> None:
    """The errors the officer reads name the path they gave, not the temporary one."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(parent))
    if not parent.exists():
        raise FileNotFoundError(errno.ENOENT, "no such directory", str(parent))


@contextlib.contextmanager
def file(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path to write the export to; moved onto `path` when the block ends
    without an exception, removed otherwise."""
    path = Path(path)
    _check_target(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def folder(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary folder to write the export's files to; when the block ends without an
    exception they are moved into `path` (created if needed; other files there are left
    alone, a file of the same name replaced), else the temporary folder is removed."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(errno.EEXIST, "a file, not a directory", str(path))
    if not path.parent.is_dir():
        _check_target(path)
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    tmp.mkdir()
    try:
        yield tmp
        path.mkdir(exist_ok=True)
        for f in sorted(tmp.iterdir()):
            os.replace(f, path / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
