"""Atomicity: a load that fails, or is killed, mid-write leaves earlier snapshots as they were."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from loader_helpers import SCHOOLS, STUDENT_HEAD, folder, load, student_rows, table_dump

import loaders.load as load_module
from soat import store
from soat.errors import SoatError

ROOT = Path(__file__).resolve().parents[2]


def _source(tmp_path, n=3):
    units = [
        ["Mã đơn vị", "Tên đơn vị", "Cấp đơn vị", "Mã đơn vị cấp trên"],
        ["79760", "P", "Phòng", ""],
    ]
    return folder(tmp_path, {"hoc_sinh.csv": [STUDENT_HEAD, *student_rows(n)], "don_vi.csv": units})


@pytest.mark.parametrize("step", ["compute_unit_closure", "default_school_year", "insert"])
def test_failure_mid_load_rolls_back(tmp_path, monkeypatch, step):
    db = tmp_path / "s.duckdb"
    con = store.connect(str(db))
    first = load(con, _source(tmp_path / "a"))
    before = table_dump(con)

    def boom(*a, **k):
        raise RuntimeError("simulated failure")

    if step == "insert":
        # fail on the second table's INSERT: the first table is already written in the txn
        calls = {"n": 0}
        real = load_module.normalise.insert_sql

        def insert_then_fail(part):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("simulated failure")
            return real(part)

        monkeypatch.setattr(load_module.normalise, "insert_sql", insert_then_fail)
    else:
        monkeypatch.setattr(load_module, step, boom)
    with pytest.raises(RuntimeError):
        load(con, _source(tmp_path / "b", n=5))
    assert table_dump(con) == before
    monkeypatch.undo()
    # the connection is usable and the next load gets the next id
    again = load(con, _source(tmp_path / "c", n=2))
    assert again.snapshot_id == first.snapshot_id + 1
    con.close()
    reopened = duckdb.connect(str(db), read_only=True)
    assert reopened.execute("SELECT count(*) FROM students").fetchall()[0][0] == 5
    reopened.close()


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r})
    import loaders.load as L
    from soat import store
    real = L.compute_unit_closure
    def die(con, sid):
        real(con, sid)          # everything is written, only COMMIT is missing
        os.kill(os.getpid(), signal.SIGKILL)
    L.compute_unit_closure = die
    con = store.connect({db!r})
    L.load_source(con, {src!r})
    """
)


def test_killed_load_leaves_store_intact(tmp_path):
    db = tmp_path / "s.duckdb"
    con = store.connect(str(db))
    load(con, _source(tmp_path / "a"))
    con.close()
    con = duckdb.connect(str(db), read_only=True)
    before = table_dump(con)
    con.close()
    script = KILLER.format(root=str(ROOT), db=str(db), src=str(_source(tmp_path / "b", n=50)))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    con = store.connect(str(db))  # recovery replays the WAL: the uncommitted load is gone
    assert table_dump(con) == before
    assert con.execute("SELECT count(*) FROM snapshots").fetchall()[0][0] == 1
    nxt = load(con, _source(tmp_path / "c", n=4))
    assert nxt.snapshot_id == 2
    con.close()
    assert os.path.exists(db)


# ---- a snapshot store's draft: the rows committed before they are numbered ----------------

OFFICE = ROOT / "tests" / "data" / "office"


def _loaded(db: Path, source: Path, draft: bool):
    con = store.connect(str(db))
    res = load(con, source, draft=draft)
    con.execute("UPDATE snapshots SET loaded_at = NULL, load_seconds = NULL")
    dump = table_dump(con)
    con.close()
    return res, dump


@pytest.mark.parametrize("lanes", [False, True], ids=["in-order", "in-lanes"])
@pytest.mark.parametrize("case", sorted(p.name for p in OFFICE.iterdir() if p.is_dir()))
def test_a_draft_load_writes_what_a_one_transaction_load_writes(tmp_path, case, lanes, monkeypatch):
    """load_source(draft=True) commits the rows as read, then numbers them and writes the
    rest in a second transaction; from LANE_MIN_BYTES on (here: any size) it writes the
    biggest table on a second connection while the others are written. Every file of the
    office corpus (retries, row numbers with skipped lines, repeated headers, footers,
    rejects, legacy encodings, tables in pieces) gives the same tables, rows and messages,
    in the same order, as the one-transaction load."""
    monkeypatch.setattr(load_module, "LANE_MIN_BYTES", 0 if lanes else 1 << 62)
    source = OFFICE / case
    try:
        one, one_dump = _loaded(tmp_path / "one.duckdb", source, draft=False)
    except SoatError as exc:  # a case the loader refuses: refused the same way
        with pytest.raises(SoatError) as again:
            _loaded(tmp_path / "two.duckdb", source, draft=True)
        assert again.value.plain == exc.plain
        return
    two, two_dump = _loaded(tmp_path / "two.duckdb", source, draft=True)
    assert two_dump == one_dump
    assert two.messages == one.messages and two.rows == one.rows
    assert list(two.rows) == list(one.rows)
    assert two.rejected == one.rejected


@pytest.mark.parametrize("lanes", [False, True], ids=["in-order", "in-lanes"])
@pytest.mark.parametrize("step", ["compute_unit_closure", "_count_and_reject_values"])
def test_a_draft_load_that_fails_after_its_first_commit_publishes_nothing(
    tmp_path, monkeypatch, lanes, step
):
    """In a draft the rows are committed before the rest is written: a failure after that
    (numbering a lane's rows, or the unit closure, the last step) leaves the store as it
    was and no file behind."""
    monkeypatch.setattr(load_module, "LANE_MIN_BYTES", 0 if lanes else 1 << 62)
    from soat.engine import run_checks
    from soat.snapshot_store import SnapshotStore

    st = SnapshotStore.open(str(tmp_path / "store"), create=True)
    with st.writing() as w, w.draft() as d:
        load_module.load_source(
            d.con, str(_source(tmp_path / "a")), snapshot_id=d.snapshot_id, draft=True
        )
        run_checks(d.con, d.snapshot_id)
        d.publish()
    before = [e.snapshot_id for e in st.catalog().entries]

    def boom(*a, **k):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(load_module, step, boom)
    with pytest.raises(RuntimeError), st.writing() as w, w.draft() as d:
        load_module.load_source(
            d.con,
            str(_source(tmp_path / "b", n=5)),
            snapshot_id=d.snapshot_id,
            history=d.history,
            draft=True,
        )
        d.publish()
    assert [e.snapshot_id for e in st.catalog().entries] == before
    assert not any((tmp_path / "store" / "tmp").iterdir())


def test_write_order_puts_the_biggest_table_last_and_keeps_a_tables_parts_in_order(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("x" * 1000)
    small = tmp_path / "small.csv"
    small.write_text("x" * 10)

    class Part:
        def __init__(self, name, table, path):
            self.name, self.table = name, table
            self.csv = None if path is None else type("Csv", (), {"path": path})()

    parts = [
        Part("hs1", "students", small),
        Part("truong", "schools", small),
        Part("hs2", "students", big),
        Part("sheet", "classes", None),  # an .xlsx sheet or SQL table: no CSV bytes
        Part("lop", "classes", small),
    ]
    got = [p.name for p in load_module._write_order(parts)]
    assert got == ["truong", "sheet", "lop", "hs1", "hs2"]


@pytest.mark.parametrize("lane", ["this", "other"])
def test_ctrl_c_in_either_lane_stops_the_load_and_leaves_nothing(tmp_path, monkeypatch, lane):
    """Ctrl-C while a draft is written in lanes: raised in this thread whichever lane it
    hits (the other lane's query interrupted), the draft discarded, the store unchanged."""
    import threading

    from soat.snapshot_store import SnapshotStore

    monkeypatch.setattr(load_module, "LANE_MIN_BYTES", 0)
    real = load_module._insert_part

    def stop(con, staging, part, sid, scan):
        here = threading.current_thread() is threading.main_thread()
        if here == (lane == "this"):
            raise KeyboardInterrupt
        return real(con, staging, part, sid, scan)

    monkeypatch.setattr(load_module, "_insert_part", stop)
    st = SnapshotStore.open(str(tmp_path / "store"), create=True)
    with pytest.raises(KeyboardInterrupt), st.writing() as w, w.draft() as d:
        load_module.load_source(
            d.con, str(_source(tmp_path / "a")), snapshot_id=d.snapshot_id, draft=True
        )
    assert st.catalog().entries == []
    assert not any((tmp_path / "store" / "tmp").iterdir())


def _far_mixed(head: list[str], rows: list[str]) -> str:
    """CRLF lines with one bare LF near the end, past what staging sniffs (256 KB): DuckDB's
    reader stops on it in the INSERT, and the load reads the file again from an LF copy."""
    lines = [",".join(head), *rows]
    n = len(lines)
    text = "\r\n".join(lines[: n - 10]) + "\n" + "\r\n".join(lines[n - 10 :]) + "\r\n"
    assert len(text.encode()) > 300_000
    return text


@pytest.mark.parametrize("failing", ["big", "small"])
def test_a_file_read_again_after_the_other_lane_committed(tmp_path, monkeypatch, failing):
    """Each lane commits without waiting for the other; when a file must be read again
    (a bare LF far down a CRLF file: the retry reads an LF copy) after the other lane has
    committed and numbered its rows, those rows are undone first (_undo_rows): the result
    is what a one-transaction load gives, rows and messages."""
    import threading

    source = tmp_path / "src"
    source.mkdir()
    (source / "truong.csv").write_text("\n".join(",".join(r) for r in SCHOOLS) + "\n")
    # (where DuckDB's reader stops depends on where the bare LF falls in its buffers:
    # these sizes make it stop, as the waits below check)
    students = [f"HS{i},S1,Hoc sinh {i},01/03/2018,0793180{i:05d}" for i in range(10000)]
    classes = [f"L{i},S1,Lop {i},1,35,4" for i in range(12000)]
    class_head = ["Mã lớp", "Mã trường", "Tên lớp", "Khối", "Sĩ số", "Số tiết NN/tuần"]
    if failing == "big":
        (source / "hoc_sinh.csv").write_text(
            _far_mixed(STUDENT_HEAD, students), encoding="utf-8", newline=""
        )
    else:  # the classes (the small files' lane) are read again; the students are bigger
        (source / "lop.csv").write_text(
            _far_mixed(class_head, classes), encoding="utf-8", newline=""
        )
        (source / "hoc_sinh.csv").write_text("\n".join([",".join(STUDENT_HEAD), *students]) + "\n")
    one, one_dump = _loaded(tmp_path / "one.duckdb", source, draft=False)

    monkeypatch.setattr(load_module, "LANE_MIN_BYTES", 0)
    other_done = threading.Event()
    real_insert, real_number, real_undo = (
        load_module._insert_part,
        load_module._number_part,
        load_module._undo_rows,
    )
    waiting = {"left": 1, "undone": 0}
    failing_table = "students" if failing == "big" else "classes"

    def insert(con, staging, part, sid, scan):
        if part.table == failing_table and waiting["left"]:
            waiting["left"] -= 1
            assert other_done.wait(30), "the other lane never numbered its rows"
        return real_insert(con, staging, part, sid, scan)

    def number(con, staging, part, sid, fscan):
        real_number(con, staging, part, sid, fscan)
        if part.table != failing_table:
            other_done.set()

    def undo(*args):
        waiting["undone"] += 1
        real_undo(*args)

    monkeypatch.setattr(load_module, "_insert_part", insert)
    monkeypatch.setattr(load_module, "_number_part", number)
    monkeypatch.setattr(load_module, "_undo_rows", undo)
    two, two_dump = _loaded(tmp_path / "two.duckdb", source, draft=True)
    assert waiting == {"left": 0, "undone": 1}
    assert two_dump == one_dump
    assert two.messages == one.messages and two.rows == one.rows
