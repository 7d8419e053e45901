"""Issue 19, finding 8: uploads have a size limit (the setting, Streamlit's limit and a check
of our own), are streamed to disk, and are deleted after the load unless the admin keeps
them; folders a crash left behind are swept."""

from __future__ import annotations

import io
import os
import time

import pytest
from dash_helpers import logged_in

from soat import uploads
from soat.commands import serve
from soat.errors import SoatError
from tests.access.apptest_helpers import texts

SCHOOLS = (
    "Mã trường,Tên trường,Mã đơn vị quản lý,Cấp học,Phần mềm QLNT,Hiệu trưởng,"
    "Đạt chuẩn quốc gia,Kiểm định chất lượng,Kết nối internet\n"
    "S9,Trường Tiểu học Mới,79760,TH,SMAS,Nguyễn Văn A,Mức 1,Cấp độ 1,Có\n"
)
UNITS = (
    "Mã đơn vị,Tên đơn vị,Cấp đơn vị,Mã đơn vị cấp trên\n79,Sở GD&ĐT,Sở,\n79760,Quận 1,Phòng,79\n"
)


class Streamed(io.RawIOBase):
    """An upload that can only be read in pieces (no getvalue), recording each read."""

    def __init__(self, name: str, size: int):
        self.name, self.size, self._pos, self.reads = name, size, 0, []

    def readable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        self._pos = pos
        return pos

    def read(self, n: int = -1) -> bytes:
        n = self.size - self._pos if n is None or n < 0 else min(n, self.size - self._pos)
        self.reads.append(n)
        self._pos += n
        return b"x" * n


def test_save_streams_in_chunks_and_checks_the_size(tmp_path, monkeypatch):
    monkeypatch.setenv("SOAT_MAX_UPLOAD_MB", "5")
    f = Streamed("hoc_sinh.csv", 3 * uploads.CHUNK + 10)
    folder = uploads.save([f], tmp_path)
    assert (folder / "hoc_sinh.csv").stat().st_size == f.size
    assert max(f.reads) <= uploads.CHUNK  # never read whole
    big = Streamed("lon.csv", 6 * 1024 * 1024)
    with pytest.raises(SoatError, match="quá lớn"):
        uploads.save([big], tmp_path)
    assert not big.reads  # refused from the declared size, before reading
    with pytest.raises(SoatError, match="quá lớn"):
        uploads.save([Undeclared("noi_doi.csv", 6 * 1024 * 1024)], tmp_path)  # found writing
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # nothing left over


class Undeclared:
    """An upload whose size was not declared: only writing it finds it too big."""

    def __init__(self, name: str, size: int):
        self.name, self._size, self.pos = name, size, 0

    def seek(self, pos: int, whence: int = 0) -> int:
        self.pos = pos
        return pos

    def read(self, n: int = -1) -> bytes:
        n = min(n, self._size - self.pos)
        self.pos += n
        return b"y" * n


def test_sweep_removes_old_leftovers_but_not_kept_folders(tmp_path):
    old, kept, fresh = (tmp_path / n for n in ("cu", "giu", "moi"))
    for d in (old, kept, fresh):
        d.mkdir()
        (d / "hoc_sinh.csv").write_text("x")
    uploads.keep(kept)
    past = time.time() - 2 * uploads.STALE_SECONDS
    for d in (old, kept):
        os.utime(d, (past, past))
    assert uploads.sweep(tmp_path) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["giu", "moi"]


def test_serve_passes_the_upload_limit_and_hides_the_grid_csv(monkeypatch):
    monkeypatch.setenv("SOAT_MAX_UPLOAD_MB", "123")
    cmd = serve.command(8501)
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "123"
    assert cmd[cmd.index("--client.disableDataExport") + 1] == "true"


def _upload(at, files, keep: bool = False):
    at.file_uploader(key="upload_files").set_value(files)
    at.text_input(key="upload_year").input("2024-2025")
    if keep:
        at.checkbox(key="upload_keep").check()
    next(b for b in at.button if b.label == "Nạp dữ liệu").click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _open(page="pages/du_lieu.py"):
    at = logged_in("admin")
    at.run()
    at.switch_page(page).run()
    return at


FILES = [("truong.csv", SCHOOLS.encode(), "text/csv"), ("don_vi.csv", UNITS.encode(), "text/csv")]


def test_uploaded_files_are_deleted_after_a_load(duck, app_db):
    at = _upload(_open(), FILES)
    assert any("Đã nạp bản chụp #3" in s.value for s in at.success), texts(at)
    root = duck.parent / "uploads"
    assert not root.exists() or not any(root.iterdir())  # nothing personal left on disk
    from soat import audit

    ev = audit.read(action="upload")[0]
    assert ev["detail"]["kept"] is False


def test_uploaded_files_are_kept_when_asked(duck, app_db):
    at = _upload(_open(), FILES, keep=True)
    assert any("Đã nạp bản chụp #3" in s.value for s in at.success), texts(at)
    (folder,) = list((duck.parent / "uploads").iterdir())
    assert sorted(p.name for p in folder.iterdir()) == [
        uploads.KEEP_MARKER,
        "don_vi.csv",
        "truong.csv",
    ]


def test_a_failed_load_leaves_no_file(duck, app_db):
    at = _upload(_open(), [("hoc_sinh.csv", b"a,b\n1,2\n", "text/csv")])
    assert at.error
    # the message names what the officer sent, not the server's folder
    assert "các tệp tải lên" in at.error[0].value and "uploads" not in at.error[0].value
    root = duck.parent / "uploads"
    assert not root.exists() or not any(root.iterdir())


def test_a_too_big_upload_is_refused_in_words(duck, app_db, monkeypatch):
    monkeypatch.setenv("SOAT_MAX_UPLOAD_MB", "1")
    big = "Mã trường\n".encode() + b"S1\n" * (600 * 1024)  # ≈ 1.8 MB
    at = _upload(_open(), [("truong.csv", big, "text/csv")])
    assert any("quá lớn" in e.value for e in at.error), texts(at)
    assert at.selectbox(key="f_snapshot").options[0].startswith("#2")  # nothing loaded
    root = duck.parent / "uploads"
    assert not root.exists() or not any(root.iterdir())


def test_a_long_file_name_is_cut_not_a_crash(duck, app_db):
    """A 207-letter Vietnamese name (263 bytes) failed with an English "File name too long"
    traceback: the name kept on disk is cut before its extension, the table still told by
    its beginning."""
    long = "truong " + "Danh sách các trường thuộc Phòng Giáo dục và Đào tạo quận 1 " * 4 + ".csv"
    assert len(long.encode()) > 255
    kept = uploads.safe_name(long)
    assert len(kept.encode()) <= uploads.MAX_NAME_BYTES and kept.endswith(".csv")
    assert kept.startswith("truong Danh sách")
    at = _upload(_open(), [(long, SCHOOLS.encode(), "text/csv"), FILES[1]])
    assert any("Đã nạp bản chụp #3" in s.value for s in at.success), texts(at)


def test_another_kind_of_file_is_refused_in_words(duck, app_db):
    """The uploader takes any file (Streamlit's own refusal is English text in the browser)
    and the form refuses what is not a spreadsheet, in Vietnamese, before writing anything."""
    at = _upload(_open(), [("chuong_trinh.exe", b"MZ\x90\x00", "application/octet-stream")])
    assert any("chỉ nhận tệp" in e.value and "chuong" in e.value for e in at.error), texts(at)
    root = duck.parent / "uploads"
    assert not root.exists() or not any(root.iterdir())
