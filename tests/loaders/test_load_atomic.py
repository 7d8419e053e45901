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
from loader_helpers import STUDENT_HEAD, folder, load, student_rows, table_dump

import loaders.load as load_module
from soat import store

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
