"""The snapshot store (soat.snapshot_store): publish by rename, readers that never wait,
writers that wait for each other, what a killed or interrupted writer leaves, migration
of the single-file store, delete and prune."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from soat import store
from soat.cli import main
from soat.snapshot_store import (
    CATALOG,
    SnapshotStore,
    StoreBusy,
    migrate_legacy,
    read_connection,
    snapshot_file_name,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "province"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def load(db: Path, *extra: str) -> int:
    return main(["load", str(SAMPLE), "--db", str(db), "--as-of", "2024-10-15", *extra])


def counts(con: duckdb.DuckDBPyConnection) -> dict:
    """Rows per (table, snapshot) of every table of the store's schema."""
    out = {}
    for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() "
        "WHERE NOT internal"
    ).fetchall():
        if t.startswith("duckdb_") or t.startswith("sqlite_") or t.startswith("pragma_"):
            continue
        try:
            rows = con.execute(f'SELECT snapshot_id, count(*) FROM "{t}" GROUP BY 1').fetchall()
        except duckdb.Error:
            continue
        out.update({(t, sid): n for sid, n in rows})
    return out


def files(db: Path) -> list[str]:
    return sorted(p.name for p in db.iterdir())


def test_a_load_publishes_one_file_and_the_catalog_lists_it(tmp_path, capsys):
    db = tmp_path / "store"
    assert load(db, "--name", "Tuần 42") == 0
    assert "Chưa có bản chụp trước để so sánh" in capsys.readouterr().out
    assert load(db) == 0
    # the second load is compared with the first through the store's history catalog
    assert "So với bản chụp 1 (15/10/2024): 0 phát hiện mới, 0 đã khắc phục, " in (
        capsys.readouterr().out
    )
    assert files(db) == [
        CATALOG,
        snapshot_file_name(1),
        snapshot_file_name(2),
        "tmp",
        "write.lock",
    ]
    assert list((db / "tmp").iterdir()) == []
    cat = json.loads((db / CATALOG).read_text(encoding="utf-8"))
    assert [e["snapshot_id"] for e in cat["snapshots"]] == [1, 2] and cat["next_id"] == 3
    assert cat["snapshots"][0]["name"] == "Tuần 42"
    # each file holds its own snapshot only; the reader sees both through its views
    one = duckdb.connect(str(db / snapshot_file_name(1)), read_only=True)
    assert one.execute("SELECT DISTINCT snapshot_id FROM findings").fetchall() == [(1,)]
    one.close()
    con = read_connection(str(db))
    per = con.execute("SELECT snapshot_id, count(*) FROM findings GROUP BY 1 ORDER BY 1").fetchall()
    assert [s for s, _ in per] == [1, 2] and per[0][1] == per[1][1] > 0
    assert con.execute("SELECT count(*) FROM snapshots WHERE checked_at IS NULL").fetchall() == [
        (0,)
    ]
    con.close()


def test_a_reader_keeps_its_files_while_snapshots_are_deleted_and_published(tmp_path, capsys):
    db = tmp_path / "store"
    for _ in range(3):
        assert load(db) == 0
    reader = read_connection(str(db))
    before = reader.execute("SELECT count(*) FROM students WHERE snapshot_id = 1").fetchall()
    assert main(["snapshots", "delete", "1", "--db", str(db)]) == 0
    assert not (db / snapshot_file_name(1)).exists()
    assert load(db) == 0
    # the open reader still reads snapshot 1 (its file is gone from the directory only)
    assert reader.execute("SELECT count(*) FROM students WHERE snapshot_id = 1").fetchall() == (
        before
    )
    reader.close()
    fresh = read_connection(str(db))
    ids = [r[0] for r in fresh.execute("SELECT snapshot_id FROM snapshots ORDER BY 1").fetchall()]
    assert ids == [2, 3, 4]  # ids are never reused
    fresh.close()
    out = capsys.readouterr().out
    assert "Đã xoá bản chụp 1" in out


def test_delete_and_prune_never_take_the_newest_and_are_audited(tmp_path, capsys):
    from soat import audit

    db = tmp_path / "store"
    for _ in range(4):
        assert load(db) == 0
    capsys.readouterr()
    assert main(["snapshots", "delete", "4", "--db", str(db)]) == 1
    assert "không xoá bản chụp mới nhất" in capsys.readouterr().err
    assert main(["snapshots", "delete", "9", "--db", str(db)]) == 1
    assert "không có bản chụp 9" in capsys.readouterr().err
    assert main(["snapshots", "prune", "--keep", "0", "--db", str(db)]) == 1
    assert main(["snapshots", "prune", "--keep", "2", "--db", str(db)]) == 0
    assert "Đã xoá 2 bản chụp (2, 1)" in capsys.readouterr().out
    assert [e.snapshot_id for e in SnapshotStore(db).catalog().entries] == [3, 4]
    assert main(["snapshots", "prune", "--keep", "5", "--db", str(db)]) == 0
    assert "Không có bản chụp nào cần xoá" in capsys.readouterr().out
    events = [(e["action"], e["detail"]) for e in audit.read(limit=50)]
    prunes = [d for a, d in events if a == "snapshot_prune"]
    assert prunes and prunes[0]["deleted"] == [2, 1] and prunes[0]["keep"] == 2
    # the listing shows each snapshot's disk use and the total
    assert main(["snapshots", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Dung lượng" in out and "MB" in out and "Tổng dung lượng" in out


def test_a_mistyped_store_path_is_an_error_and_creates_nothing(tmp_path, capsys):
    typo = tmp_path / "stroe"
    for argv in (
        ["snapshots", "--db", str(typo)],
        ["export", "findings", "--db", str(typo)],
        ["changes", "--db", str(typo)],
        ["check", "--db", str(typo)],
        ["snapshots", "prune", "--keep", "1", "--db", str(typo)],
    ):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "không tìm thấy kho dữ liệu" in err and str(typo) in err, argv
        assert not typo.exists()
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("x")
    assert main(["snapshots", "--db", str(not_a_store)]) == 1
    assert "không phải kho dữ liệu Soát" in capsys.readouterr().err
    # a folder of province files given as --db by mistake: nothing is written into it
    assert main(["load", str(SAMPLE), "--db", str(SAMPLE)]) == 1
    assert "không phải kho dữ liệu Soát" in capsys.readouterr().err
    assert not (SAMPLE / CATALOG).exists() and not (SAMPLE / "tmp").exists()


def test_a_second_writer_waits_for_the_first_or_refuses_with_no_wait(tmp_path):
    db = tmp_path / "store"
    assert load(db) == 0
    holder = subprocess.Popen(  # holds the write lock until told to stop on its stdin
        [
            sys.executable,
            "-c",
            "import sys; from soat.snapshot_store import SnapshotStore\n"
            "with SnapshotStore(sys.argv[1]).writing() as w, w.draft():\n"
            "    print('holding', flush=True); sys.stdin.readline()\n",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=ENV,
    )
    try:
        assert holder.stdout.readline().strip() == b"holding"
        refused = subprocess.run(
            [sys.executable, "-m", "soat", "load", str(SAMPLE), "--db", str(db), "--no-wait"],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=60,
        )
        assert refused.returncode == 1
        assert f"tiến trình {holder.pid}" in refused.stderr
        assert "đang được ghi" in refused.stderr and "Traceback" not in refused.stderr
        waiter = subprocess.Popen(
            [sys.executable, "-m", "soat", "load", str(SAMPLE), "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        said = waiter.stdout.readline()  # it says whom it waits for, then waits
        assert f"đang được ghi bởi tiến trình {holder.pid}" in said
        assert "chờ lệnh đó xong" in said
        time.sleep(0.5)
        assert waiter.poll() is None  # still waiting
        holder.communicate(b"\n", timeout=30)  # the first writer ends
        out, err = waiter.communicate(timeout=120)
        assert waiter.returncode == 0, err
    finally:
        for p in (holder,):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [e.snapshot_id for e in SnapshotStore(db).catalog().entries] == [1, 2]


def test_a_store_is_readable_while_a_writer_holds_it(tmp_path):
    """The dashboard's reader (and `soat snapshots`, `soat export`) never wait for a load."""
    db = tmp_path / "store"
    assert load(db) == 0
    st = SnapshotStore(db)
    with st.writing() as w, w.draft() as d:
        d.con.execute("SELECT 1").fetchall()
        t0 = time.monotonic()
        con = read_connection(str(db))
        assert con.execute("SELECT count(*) FROM snapshots").fetchall() == [(1,)]
        con.close()
        assert time.monotonic() - t0 < 5
        with pytest.raises(StoreBusy):
            with SnapshotStore(db).writing(wait=False):
                pass


# A child that loads the sample and stops (prints the point, then sleeps) at one moment of
# publishing, for the test to kill it there with SIGKILL.
KILL_AT = textwrap.dedent(
    """
    import os, sys, time
    from soat import snapshot_store as ss
    point, db, sample = sys.argv[1:4]

    def pause(name):
        if name == point:
            print(point, flush=True)
            time.sleep(600)

    real_link, real_catalog = ss.os.link, ss.Writer._write_catalog
    def link(a, b):  # the draft takes its published name
        pause("before_rename")
        real_link(a, b)
        pause("after_rename")
    def write_catalog(self, *a, **k):
        pause("before_catalog")
        real_catalog(self, *a, **k)
    ss.os.link = link
    ss.Writer._write_catalog = write_catalog
    real_checks = None
    import soat.engine as engine
    real_run = engine.run_checks
    def run_checks(*a, **k):
        pause("during_checks")
        return real_run(*a, **k)
    engine.run_checks = run_checks
    from soat.cli import main
    sys.exit(main(["load", sample, "--db", db]))
    """
)


@pytest.mark.parametrize("point", ["during_checks", "before_rename", "after_rename"])
def test_kill_9_while_publishing_leaves_no_visible_trace(tmp_path, point):
    db = tmp_path / "store"
    assert load(db) == 0
    published = (db / CATALOG).read_bytes()
    reader = read_connection(str(db))
    before = counts(reader)
    reader.close()
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_AT, point, str(db), str(SAMPLE)],
        stdout=subprocess.PIPE,
        env=ENV,
    )
    try:
        lines = iter(child.stdout.readline, b"")  # the load's summary comes first
        assert any(line.strip() == point.encode() for line in lines)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # readers see exactly what was published before
    assert (db / CATALOG).read_bytes() == published
    reader = read_connection(str(db))
    assert counts(reader) == before
    reader.close()
    # the next writer removes the leftovers and gets the next id
    assert load(db) == 0
    assert files(db) == [
        CATALOG,
        snapshot_file_name(1),
        snapshot_file_name(2),
        "tmp",
        "write.lock",
    ]
    assert list((db / "tmp").iterdir()) == []


def test_ctrl_c_during_a_load_says_so_and_changes_nothing(tmp_path):
    db = tmp_path / "store"
    assert load(db) == 0
    published = (db / CATALOG).read_bytes()
    stopped = 0
    for delay in (0.0, 0.4):
        proc = subprocess.Popen(
            [sys.executable, "-m", "soat", "load", str(SAMPLE), "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        draft = db / "tmp" / snapshot_file_name(2)
        end = time.monotonic() + 60
        while not draft.exists() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.02)  # until the load is writing its snapshot
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        if proc.returncode == 0:  # the load won the race: nothing to see
            published = (db / CATALOG).read_bytes()
            continue
        stopped += 1
        assert proc.returncode == 130, err
        assert err.strip() == (
            "soat: đã dừng (Ctrl-C) khi đang nạp: bản chụp mới không được ghi, "
            "các bản chụp đã có giữ nguyên"
        )
        assert (db / CATALOG).read_bytes() == published
        assert list((db / "tmp").iterdir()) == []
    assert stopped  # at least one load was stopped mid-way


def test_a_full_disk_is_told_in_vietnamese_and_keeps_what_was_published(tmp_path):
    """The store on a small file system (a tmpfs with room for its one snapshot and little
    more): the second load runs out of space."""
    import shutil

    try:
        from tests.conftest import require
    except ImportError:  # tests/ is not a package: the rootdir conftest is `conftest`
        from conftest import require

    first = tmp_path / "first"
    assert load(first) == 0
    size = sum(p.stat().st_size for p in first.iterdir() if p.is_file())
    mnt = tmp_path / "small"
    mnt.mkdir()
    room = f"size={size + 2_000_000}"
    mounted = os.geteuid() == 0 and (
        subprocess.run(["mount", "-t", "tmpfs", "-o", room, "tmpfs", str(mnt)]).returncode == 0
    )
    require(mounted, "a small tmpfs cannot be mounted here (needs root)")
    try:
        db = mnt / "store"
        shutil.copytree(first, db)
        published = (db / CATALOG).read_bytes()
        proc = subprocess.run(
            [sys.executable, "-m", "soat", "load", str(SAMPLE), "--db", str(db)],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=120,
        )
        assert proc.returncode == 1
        assert proc.stderr.startswith("soat: hết chỗ trống trên đĩa"), proc.stderr
        assert "lỗi không mong đợi" not in proc.stderr and "Traceback" not in proc.stderr
        assert (db / CATALOG).read_bytes() == published
        assert list((db / "tmp").iterdir()) == []
        con = read_connection(str(db))
        assert con.execute("SELECT count(*) FROM snapshots").fetchall() == [(1,)]
        con.close()
    finally:
        subprocess.run(["umount", str(mnt)])


def test_a_single_file_store_is_read_as_is_and_migrated_at_its_first_write(tmp_path, capsys):
    """A store of the first format (every snapshot in one DuckDB file): read without
    change; the first write splits it into a directory at the same path, row for row,
    keeping the old file as a backup."""
    from loaders.load import load_source
    from soat.engine import run_checks

    legacy = tmp_path / "soat.duckdb"
    con = store.connect(str(legacy))
    for _ in range(2):
        res = load_source(con, str(SAMPLE))
        run_checks(con, res.snapshot_id)
    # a third, never checked (a load killed during its checks in the old format)
    load_source(con, str(SAMPLE))
    expected = {k: v for k, v in counts(con).items() if k[1] != 3}
    con.close()

    assert main(["snapshots", "--db", str(legacy)]) == 0  # read as it is
    assert legacy.is_file()
    reader = read_connection(str(legacy))
    assert reader.execute("SELECT count(*) FROM snapshots").fetchall() == [(3,)]
    reader.close()

    assert load(legacy) == 0  # the first write migrates, then loads snapshot 4
    out = capsys.readouterr().out
    assert "Chuyển kho dữ liệu một tệp" in out
    assert legacy.is_dir() and (tmp_path / "soat.duckdb.v1-backup").is_file()
    assert [e.snapshot_id for e in SnapshotStore(legacy).catalog().entries] == [1, 2, 4]
    reader = read_connection(str(legacy))
    after = counts(reader)
    reader.close()
    assert {k: v for k, v in after.items() if k[1] != 4} == expected


def test_migrating_a_legacy_file_keeps_it_when_the_copy_fails(tmp_path, monkeypatch):
    import soat.snapshot_store as ss

    legacy = tmp_path / "soat.duckdb"
    con = store.connect(str(legacy))
    from soat.testing import run, valid_province

    run(con, valid_province())
    con.close()
    before = legacy.read_bytes()

    def broken(*a, **k):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(ss, "_verify", broken)
    with pytest.raises(RuntimeError):
        migrate_legacy(legacy)
    assert legacy.is_file() and legacy.read_bytes() == before


@pytest.mark.parametrize("damage", ["deleted", "cut short"])
def test_a_snapshot_file_lost_by_hand_is_named_and_can_be_dropped(tmp_path, capsys, damage):
    """A snapshot file deleted or cut short outside Soát made every command fail with
    "lỗi không mong đợi: IOException": each names the file and the way out, and
    `soat snapshots delete N` takes it out of the store."""
    db = tmp_path / "store"
    for _ in range(2):
        assert load(db) == 0
    f = db / snapshot_file_name(1)
    if damage == "deleted":
        f.unlink()
    else:
        f.write_bytes(f.read_bytes()[:4096])
    capsys.readouterr()
    for args in (["snapshots"], ["export", "findings"], ["changes"]):
        assert main([*args, "--db", str(db)]) == 1
        err = capsys.readouterr().err
        assert "tệp của bản chụp 1 không có hoặc bị hỏng" in err, err
        assert "soat snapshots delete 1" in err and "lỗi không mong đợi" not in err
    assert main(["snapshots", "delete", "1", "--db", str(db)]) == 0
    assert main(["export", "findings", "--db", str(db)]) == 0


def test_a_snapshot_loaded_late_for_an_earlier_date(tmp_path, capsys):
    """Loaded out of date order (id 3 for a date before id 2's): the load says that the
    later-dated snapshots still compare past it, and `soat check --and-later` re-checks in
    the order history uses (date, then id), so id 2 then compares with id 3."""
    from soat.commands.check import later_snapshots

    db = tmp_path / "store"
    assert main(["load", str(SAMPLE), "--db", str(db), "--as-of", "2024-10-01"]) == 0
    assert main(["load", str(SAMPLE), "--db", str(db), "--as-of", "2024-10-22"]) == 0
    capsys.readouterr()
    assert main(["load", str(SAMPLE), "--db", str(db), "--as-of", "2024-10-15"]) == 0
    out = capsys.readouterr().out
    assert "trước ngày của bản chụp 2" in out and "soat check --snapshot 3 --and-later" in out
    entries = SnapshotStore(db).catalog().entries
    assert later_snapshots(entries, 1) == [3, 2] and later_snapshots(entries, 3) == [2]
    assert main(["check", "--db", str(db), "--snapshot", "3", "--and-later"]) == 0
    con = read_connection(str(db))
    base = con.execute("SELECT previous_id FROM history_baselines WHERE snapshot_id = 2").fetchall()
    con.close()
    assert base == [(3,)]
