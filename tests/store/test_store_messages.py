"""What the command line says about the store's known conditions: Vietnamese, one line,
never "lỗi không mong đợi" (that is for real bugs), never a library's English text.

Ctrl-C during a load and a full disk are in test_snapshot_store.py (they need a child
process and a small file system); they assert the same."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from soat.cli import main
from soat.snapshot_store import SnapshotStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "province"
# a library's own words, or a traceback, reaching the user
ENGLISH = re.compile(
    r"Traceback|Error:|Exception|Could not|No such file|Errno|lock on file|Permission denied"
)


def assert_told(err: str, fragment: str) -> None:
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1, err
    assert lines[0].startswith("soat: ") and fragment in lines[0], err
    assert "lỗi không mong đợi" not in err and not ENGLISH.search(err), err


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("msg") / "store"
    for _ in range(2):
        assert main(["load", str(SAMPLE), "--db", str(db)]) == 0
    return db


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (["snapshots", "--db", "{typo}"], 1, "không tìm thấy kho dữ liệu"),
        (["export", "late", "--db", "{typo}"], 1, "không tìm thấy kho dữ liệu"),
        (["changes", "--db", "{typo}"], 1, "không tìm thấy kho dữ liệu"),
        (["check", "--db", "{typo}"], 1, "không tìm thấy kho dữ liệu"),
        (["snapshots", "delete", "1", "--db", "{typo}"], 1, "không tìm thấy kho dữ liệu"),
        (["snapshots", "delete", "2", "--db", "{db}"], 1, "không xoá bản chụp mới nhất"),
        (["snapshots", "delete", "7", "--db", "{db}"], 1, "không có bản chụp 7"),
        (["snapshots", "prune", "--keep", "0", "--db", "{db}"], 1, "--keep phải từ 1"),
        (["check", "--snapshot", "9", "--db", "{db}"], 1, "không có bản chụp 9"),
        (["export", "findings", "--snapshot", "9", "--db", "{db}"], 1, "không có bản chụp 9"),
        (["load", "{tmp}/nowhere", "--db", "{db}"], 1, "không tìm thấy nguồn dữ liệu"),
    ],
)
def test_store_conditions_are_told_in_vietnamese(store_dir, tmp_path, capsys, argv, code, fragment):
    values = {"typo": str(tmp_path / "kho-go-nham"), "db": str(store_dir), "tmp": str(tmp_path)}
    capsys.readouterr()
    assert main([a.format(**values) for a in argv]) == code
    assert_told(capsys.readouterr().err, fragment)
    assert not (tmp_path / "kho-go-nham").exists()


def test_an_empty_store_has_nothing_to_check(tmp_path, capsys):
    (tmp_path / "store").mkdir()
    assert main(["check", "--db", str(tmp_path / "store")]) == 1
    assert_told(capsys.readouterr().err, "chưa có bản chụp nào")


def test_a_busy_store_with_no_wait(store_dir, capsys):
    """A writer holding the lock (another load); `--no-wait` gives up with who holds it."""
    held, release = threading.Event(), threading.Event()

    def hold():
        with SnapshotStore(store_dir).writing():
            held.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert held.wait(30)
        capsys.readouterr()
        for argv in (
            ["load", str(SAMPLE), "--db", str(store_dir), "--no-wait"],
            ["check", "--db", str(store_dir), "--no-wait"],
        ):
            assert main(argv) == 1
            assert_told(capsys.readouterr().err, "kho dữ liệu đang được ghi bởi tiến trình")
    finally:
        release.set()
        t.join()


def test_a_single_file_store_locked_by_another_process(tmp_path, capsys):
    from soat import store
    from soat.testing import run, valid_province

    legacy = tmp_path / "soat.duckdb"
    con = store.connect(str(legacy))
    run(con, valid_province())
    con.close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('ok', flush=True); time.sleep(60)",
            str(legacy),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == b"ok"
        capsys.readouterr()
        for argv in (["snapshots", "--db", str(legacy)], ["export", "late", "--db", str(legacy)]):
            assert main(argv) == 1
            assert_told(capsys.readouterr().err, "đang được một tiến trình khác mở để ghi")
    finally:
        holder.kill()
        holder.wait()


def test_after_ctrl_c_any_failure_is_the_stop():
    """Ctrl-C that lands inside an import surfaces later as "cannot load module more than
    once per process": once Ctrl-C was pressed, what the stopped command raises is told as
    the stop (soat.errors.noting_ctrl_c), not as "lỗi không mong đợi"."""
    import os
    import signal

    from soat.errors import forget_ctrl_c, is_interrupt, noting_ctrl_c

    assert not is_interrupt(ImportError("cannot load module more than once per process"))
    with pytest.raises(KeyboardInterrupt), noting_ctrl_c():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100):  # the handler runs between bytecodes
            pass
    assert is_interrupt(ImportError("cannot load module more than once per process"))
    with noting_ctrl_c():  # a new command starts afresh
        assert not is_interrupt(ImportError("x"))
    forget_ctrl_c()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_message_the_stop_left_behind_is_told_as_the_stop(tmp_path, monkeypatch, capsys):
    """Ctrl-C inside calamine made a sheet "unreadable", so the load then missed its
    schools table: the command raised a SoatError of its own words, and exited 1 with
    "thiếu bảng trường" (seen in the suite). After Ctrl-C that is the stop: exit 130."""
    import os
    import signal

    import loaders.load
    from soat.errors import SoatError, is_interrupt

    def stopped_midway(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(100):  # the handler runs between bytecodes
                pass
        except KeyboardInterrupt:
            pass  # as a library that swallows it would
        raise SoatError("thiếu bảng trường 'schools'")

    monkeypatch.setattr(loaders.load, "load_source", stopped_midway)
    src = tmp_path / "src"
    src.mkdir()
    assert main(["load", str(src), "--db", str(tmp_path / "store")]) == 130
    err = capsys.readouterr().err
    assert "đã dừng (Ctrl-C)" in err and "thiếu bảng" not in err
    assert not (tmp_path / "store" / "catalog.json").exists()
    # the command is over: a later one in this process is not told it was stopped
    assert not is_interrupt(SoatError("thiếu bảng trường 'schools'"))


def test_a_sheet_read_stopped_by_ctrl_c_is_not_a_broken_sheet(monkeypatch):
    """The loader's broad catches around calamine (a broken sheet is skipped with a
    warning) let the stop through instead of skipping the sheet."""
    import os
    import signal

    from loaders import read
    from soat.errors import forget_ctrl_c, noting_ctrl_c

    class Reader:
        def load_sheet(self, *a, **k):
            try:
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(100):
                    pass
            except KeyboardInterrupt:
                pass
            raise RuntimeError("calamine: interrupted")

    staging = read.Staging(con=None)
    try:
        with noting_ctrl_c(), pytest.raises(RuntimeError):
            read.stage_xlsx_sheet(staging, Reader(), "Sheet1", "students", "hs.xlsx")
    finally:
        forget_ctrl_c()  # as soat.cli.main does when its command ends
    assert staging.messages == []
