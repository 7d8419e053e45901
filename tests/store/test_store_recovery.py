"""The store when something outside Soát (or a kill) has damaged it: a catalog lost or
damaged, a snapshot file missing, cut short, replaced or held by another process, a
migration killed half-way, a full disk, another program's database given as --db. Every
command says what is wrong in Vietnamese and what to do, nothing published is deleted,
and each condition has a way out that works (soat.snapshot_store)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from soat import audit, store
from soat.cli import main
from soat.snapshot_store import (
    CATALOG,
    CatalogProblem,
    SnapshotFileError,
    SnapshotStore,
    migrate_legacy,
    read_connection,
    snapshot_file_name,
)

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
FILES = [snapshot_file_name(i) for i in (1, 2, 3, 4)]


def publish(db: Path, n: int) -> None:
    """`n` tiny checked snapshots published the way `soat load` publishes one."""
    from soat.engine import run_checks
    from soat.testing import build_snapshot, valid_province

    for _ in range(n):
        with SnapshotStore(db).writing() as w, w.draft() as d:
            build_snapshot(d.con, valid_province(), snapshot_id=d.snapshot_id)
            run_checks(d.con, d.snapshot_id, history=d.history)
            d.publish()


@pytest.fixture(scope="module")
def four(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("four") / "store"
    publish(db, 4)
    return db


@pytest.fixture
def db(four, tmp_path) -> Path:
    """A copy of a store of four snapshots (ids 1–4)."""
    path = tmp_path / "store"
    shutil.copytree(four, path)
    return path


def snapshot_files(db: Path) -> list[str]:
    return sorted(p.name for p in db.glob("snapshot-*.duckdb"))


def ids(db: Path) -> list[int]:
    con = read_connection(str(db))
    try:
        return [
            r[0] for r in con.execute("SELECT snapshot_id FROM snapshots ORDER BY 1").fetchall()
        ]
    finally:
        con.close()


def told(capsys, argv: list[str], code: int = 1) -> str:
    """Run one command; its stderr, one Vietnamese line, no library text, no bug."""
    capsys.readouterr()
    assert main(argv) == code, argv
    err = capsys.readouterr().err
    assert "lỗi không mong đợi" not in err and "Traceback" not in err, err
    for english in ("Error:", "Exception", "Could not", "No such file", "Errno", "Expecting"):
        assert english not in err, err
    return err


# ---- 1, 8: a catalog lost or damaged ------------------------------------------------------


@pytest.mark.parametrize("damage", ["missing", "{}"])
def test_a_lost_catalog_never_costs_a_snapshot_file(db, capsys, damage):
    """catalog.json gone (a partial restore, removed by mistake) or `{}`: the next writer
    took the store for an empty one and deleted every snapshot file — even `soat check`,
    which then failed. Every command now refuses, naming the catalog and `repair`; repair
    lists the four snapshots again, with the next id after them."""
    if damage == "missing":
        (db / CATALOG).unlink()
    else:
        (db / CATALOG).write_text(damage)
    for argv in (
        ["snapshots"],
        ["check"],
        ["snapshots", "delete", "1"],
        ["snapshots", "prune", "--keep", "1"],
    ):
        err = told(capsys, [*argv, "--db", str(db)])
        assert "catalog.json" in err and "soat snapshots repair" in err, err
        assert snapshot_files(db) == FILES
    with pytest.raises(CatalogProblem), SnapshotStore(db).writing():
        pass
    assert snapshot_files(db) == FILES
    capsys.readouterr()
    assert main(["snapshots", "repair", "--db", str(db)]) == 0
    assert "bản chụp 1, 2, 3, 4" in capsys.readouterr().out
    assert ids(db) == [1, 2, 3, 4]
    assert SnapshotStore(db).catalog().next_id == 5


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "tệp trống"),
        (None, "không phải JSON hợp lệ, dòng"),  # cut short
        (b"\xaa\x01\xfe binary", "không phải văn bản UTF-8"),
        (b"null", "không có danh sách 'snapshots'"),
        (b"[]", "không có danh sách 'snapshots'"),
        ("no file", "thiếu 'file'"),
        ("as_of", "ngày chốt '12/06/2025' không đúng dạng YYYY-MM-DD"),
    ],
)
def test_a_damaged_catalog_is_named_and_can_be_rebuilt(db, capsys, content, why):
    """A damaged catalog.json gave English ("Expecting value…") or "lỗi không mong đợi:
    AttributeError/KeyError/ValueError" for every command, delete included."""
    f = db / CATALOG
    good = json.loads(f.read_text())
    if content is None:
        f.write_bytes(f.read_bytes()[:100])
    elif content == "no file":
        del good["snapshots"][0]["file"]
        f.write_text(json.dumps(good))
    elif content == "as_of":
        good["snapshots"][0]["as_of"] = "12/06/2025"
        f.write_text(json.dumps(good))
    else:
        f.write_bytes(content)
    damaged = f.read_bytes()
    for argv in (["snapshots"], ["export", "findings"], ["snapshots", "delete", "1"]):
        err = told(capsys, [*argv, "--db", str(db)])
        assert f"{f}: danh mục bản chụp bị hỏng (" in err and why in err, err
        assert "chép catalog.json từ bản sao lưu" in err and "soat snapshots repair" in err
    assert snapshot_files(db) == FILES
    assert main(["snapshots", "repair", "--db", str(db)]) == 0
    assert (db / f"{CATALOG}.damaged").read_bytes() == damaged  # kept for a look
    assert ids(db) == [1, 2, 3, 4]


def test_an_unreadable_catalog_is_a_permission_not_damage(db, capsys, monkeypatch):
    real = Path.read_bytes

    def denied(self):
        if self.name == CATALOG:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    err = told(capsys, ["snapshots", "--db", str(db)])
    assert f"không có quyền đọc/ghi ({db / CATALOG})" in err and "repair" not in err


def test_only_temporary_names_are_ever_removed_as_leftovers(db, capsys):
    """A catalog copied back from an older backup does not list the newest snapshot: its
    file was deleted by the next writer. Now only what bears a temporary name, a publish
    or delete a kill cut short, is removed; an unlisted file is kept, named by `soat
    snapshots`, skipped by new ids, and listed again by `repair`."""
    f = db / CATALOG
    cat = json.loads(f.read_text())
    cat["snapshots"] = cat["snapshots"][:3]
    cat["next_id"] = 4
    f.write_text(json.dumps(cat))
    # what killed writers leave: a draft, a catalog being written, a published name that is
    # still its draft (killed between the link and the catalog), a delete's unlinked file
    (db / "tmp" / "snapshot-000007.duckdb").write_bytes(b"draft")
    os.link(db / "tmp" / "snapshot-000007.duckdb", db / "snapshot-000007.duckdb")
    (db / ".catalog.json.123.tmp").write_text("{")
    shutil.copyfile(db / snapshot_file_name(3), db / "snapshot-000009.duckdb")
    cat = json.loads(f.read_text())
    cat["removing"] = ["snapshot-000009.duckdb"]
    f.write_text(json.dumps(cat))
    with SnapshotStore(db).writing() as w, w.draft() as d:
        assert d.snapshot_id == 5  # past the unlisted file of 4 (catalog: next 4)
    assert sorted(p.name for p in db.iterdir()) == [CATALOG, *FILES, "tmp", "write.lock"]
    capsys.readouterr()
    assert main(["snapshots", "--db", str(db)]) == 0
    err = capsys.readouterr().err
    assert "snapshot-000004.duckdb: tệp bản chụp không có trong danh mục" in err
    assert "soat snapshots repair" in err
    assert main(["snapshots", "repair", "--db", str(db)]) == 0
    assert "Đã đưa 1 tệp vào danh mục: bản chụp 4." in capsys.readouterr().out
    assert ids(db) == [1, 2, 3, 4]


def test_repair_names_what_it_cannot_list(db, capsys):
    (db / CATALOG).unlink()
    (db / "snapshot-000008.duckdb").write_bytes(os.urandom(5000))
    shutil.copyfile(db / snapshot_file_name(2), db / "snapshot-000009.duckdb")
    capsys.readouterr()
    assert main(["snapshots", "repair", "--db", str(db)]) == 1  # something is left to do
    out = capsys.readouterr().out
    assert "Đã đưa 4 tệp vào danh mục: bản chụp 1, 2, 3, 4." in out
    assert "snapshot-000008.duckdb: không đưa vào danh mục (không phải tệp cơ sở dữ liệu" in out
    assert "snapshot-000009.duckdb: không đưa vào danh mục (tệp chứa bản chụp 2" in out
    assert "delete 8" not in out and "delete 9" not in out  # not in the catalog: no such id
    assert ids(db) == [1, 2, 3, 4] and SnapshotStore(db).catalog().next_id == 10


# ---- 2, 9: the single-file store ----------------------------------------------------------


def legacy_file(path: Path) -> Path:
    from soat.testing import run, valid_province

    con = store.connect(str(path))
    for _ in range(2):
        run(con, valid_province())
    con.close()
    return path


def kill_between_renames(legacy: Path, monkeypatch) -> None:
    """migrate_legacy stopped right after it moved the old file to its backup."""
    import soat.snapshot_store as ss

    real = os.replace

    def replace(a, b):
        real(a, b)
        if Path(b).name.endswith(".v1-backup"):
            raise SystemExit("killed")

    with monkeypatch.context() as m:
        m.setattr(ss.os, "replace", replace)
        with pytest.raises(SystemExit):
            migrate_legacy(legacy)
    assert not legacy.exists() and Path(f"{legacy}.migrating").is_dir()


def test_a_migration_killed_between_its_renames_is_finished_by_the_next_command(
    tmp_path, capsys, monkeypatch
):
    """The store path did not exist any more: "không tìm thấy kho dữ liệu", and `soat
    load` started a new, empty history at id 1."""
    legacy = legacy_file(tmp_path / "soat.duckdb")
    kill_between_renames(legacy, monkeypatch)
    capsys.readouterr()
    assert main(["snapshots", "--db", str(legacy)]) == 0
    err = capsys.readouterr().err
    assert "dừng giữa chừng lần trước; đã hoàn tất" in err and ".v1-backup" in err
    assert legacy.is_dir() and not Path(f"{legacy}.migrating").exists()
    assert ids(legacy) == [1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["soat.duckdb", "soat.duckdb.v1-backup"]


def test_the_default_path_finds_its_migrated_or_half_migrated_store(tmp_path, capsys, monkeypatch):
    """Without --db and $SOAT_DB, data/soat.duckdb half-migrated (or migrated: it is then a
    directory) was passed over for an empty data/store, where the next load began anew."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOAT_DB", raising=False)
    (tmp_path / "data").mkdir()
    legacy = legacy_file(Path("data/soat.duckdb"))
    kill_between_renames(legacy, monkeypatch)
    capsys.readouterr()
    assert main(["snapshots"]) == 0
    assert "đã hoàn tất" in capsys.readouterr().err
    assert SnapshotStore.open(create=True).path == Path("data/soat.duckdb")
    assert ids(Path("data/soat.duckdb")) == [1, 2] and not Path("data/store").exists()


def test_a_half_migration_without_its_new_catalog_puts_the_old_file_back(tmp_path, capsys):
    legacy = legacy_file(tmp_path / "soat.duckdb")
    before = legacy.read_bytes()
    Path(f"{legacy}.migrating").mkdir()  # begun, nothing written (not what a kill leaves)
    legacy.rename(f"{legacy}.v1-backup")
    assert main(["snapshots", "--db", str(legacy)]) == 0
    assert "đã đặt lại tệp cũ" in capsys.readouterr().err
    assert legacy.read_bytes() == before


def test_another_programs_duckdb_file_is_refused_and_nothing_is_left_beside_it(tmp_path, capsys):
    """Readers said "lỗi không mong đợi: CatalogException"; writers announced a migration,
    failed the same way and left `.lock` and `.migrating/` beside the file."""
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    for argv in (
        ["snapshots"],
        ["export", "findings"],
        ["changes"],
        ["check"],
        ["snapshots", "delete", "1"],
        ["load", str(tmp_path / "nowhere")],
    ):
        err = told(capsys, [*argv, "--db", str(other)])
        assert "không phải kho dữ liệu Soát" in err, (argv, err)
        assert "Chuyển kho" not in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["other.duckdb"]


# ---- 3, 4, 6, 7, 10: a snapshot's file ----------------------------------------------------


def test_a_reader_racing_a_delete_reads_the_new_catalog(db, monkeypatch):
    """A delete landing between the reader's catalog read and its ATTACHes: the retry meant
    for this never ran (the ATTACH failure was already a SoatError), so `soat export`, the
    dashboard… failed, calling the just-deleted snapshot damaged."""
    real = SnapshotStore.catalog
    fired = []

    def catalog_then_delete(self):
        cat = real(self)
        if not fired:
            fired.append(1)
            assert main(["snapshots", "delete", "2", "--db", str(db)]) == 0
        return cat

    monkeypatch.setattr(SnapshotStore, "catalog", catalog_then_delete)
    con = SnapshotStore(db).reader()  # read the catalog listing 2, then 2 was deleted
    got = con.execute("SELECT snapshot_id FROM snapshots ORDER BY 1").fetchall()
    con.close()
    assert fired and [r[0] for r in got] == [1, 3, 4]


def test_a_file_cut_short_past_its_header_is_named_everywhere(db, capsys):
    """Cut in the middle (an interrupted copy), the file still ATTACHes: every command,
    load included, said "lỗi không mong đợi: IOException: Could not read enough bytes",
    and `check --snapshot 2` named its tmp/ copy."""
    f = db / snapshot_file_name(2)
    with f.open("r+b") as fh:
        fh.truncate(f.stat().st_size // 2)
    for argv in (["snapshots"], ["export", "findings"], ["changes"], ["check", "--snapshot", "2"]):
        err = told(capsys, [*argv, "--db", str(db)])
        assert f"{f}: tệp của bản chụp 2 không có hoặc bị hỏng (tệp bị cắt ngắn)" in err, err
        assert "soat snapshots delete 2" in err
    with pytest.raises(SnapshotFileError) as e, SnapshotStore(db).writing() as w, w.draft():
        pass  # a load attaches every earlier snapshot
    assert e.value.snapshot_id == 2 and e.value.broken
    assert main(["snapshots", "delete", "2", "--db", str(db)]) == 0
    assert ids(db) == [1, 3, 4]


def test_a_file_holding_another_snapshot_is_named(db, capsys):
    """Snapshot 2's file replaced by an empty DuckDB database hid snapshot 2 silently; by a
    copy of snapshot 3's file, every view counted snapshot 3 twice."""
    f = db / snapshot_file_name(2)
    f.unlink()
    duckdb.connect(str(f)).close()
    err = told(capsys, ["snapshots", "--db", str(db)])
    assert "tệp của bản chụp 2 không có hoặc bị hỏng (không phải tệp bản chụp của Soát)" in err
    shutil.copyfile(db / snapshot_file_name(3), f)
    err = told(capsys, ["export", "findings", "--db", str(db)])
    assert "(tệp chứa bản chụp 3, không phải bản chụp 2)" in err


@pytest.mark.parametrize("damage", ["missing", "garbage", "cut short"])
def test_the_newest_snapshot_with_its_file_lost_can_be_deleted(db, capsys, damage):
    """The message said `soat snapshots delete 4`, which refused ("mới nhất"); a load was
    refused too, and `prune --keep 1` kept only the broken file. Deleting it now works and
    says so; prune refuses to keep it in place of good ones."""
    f = db / snapshot_file_name(4)
    if damage == "missing":
        f.unlink()
    elif damage == "garbage":
        f.write_bytes(os.urandom(50_000))
    else:
        with f.open("r+b") as fh:
            fh.truncate(f.stat().st_size // 2)
    err = told(capsys, ["snapshots", "prune", "--keep", "1", "--db", str(db)])
    assert "không dọn: bản chụp 4 nằm trong 1 bản giữ lại" in err
    assert "soat snapshots delete 4" in err
    assert snapshot_files(db)[:3] == FILES[:3]
    err = told(capsys, ["check", "--snapshot", "4", "--db", str(db)])
    assert "tệp của bản chụp 4 không có hoặc bị hỏng" in err and "thư mục phải có sẵn" not in err
    capsys.readouterr()
    assert main(["snapshots", "delete", "4", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Đã xoá bản chụp 4" in out and "là bản mới nhất nhưng tệp của nó" in out
    assert ids(db) == [1, 2, 3] and not f.exists()
    with SnapshotStore(db).writing() as w, w.draft() as d:  # a load works again
        assert d.snapshot_id == 5 and d.history


def test_an_intact_newest_is_still_never_deleted(db, capsys):
    err = told(capsys, ["snapshots", "delete", "4", "--db", str(db)])
    assert "không xoá bản chụp mới nhất (4)" in err
    assert snapshot_files(db) == FILES


HOLD = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
    "time.sleep(60)"
)


def test_a_file_another_process_holds_is_not_called_damaged(db, capsys):
    """The duckdb CLI holding snapshot 4's file read-write: commands said the file was
    missing or damaged and advised deleting the (intact) snapshot."""
    f = db / snapshot_file_name(4)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(f)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"ok"
        for argv in (["snapshots"], ["export", "findings"], ["snapshots", "delete", "4"]):
            err = told(capsys, [*argv, "--db", str(db)])
            assert f"({f}) đang được một tiến trình khác mở để ghi (tệp không hỏng" in err, err
            assert "không có hoặc bị hỏng" not in err and "delete 4" not in err
        assert snapshot_files(db) == FILES
    finally:
        holder.kill()
        holder.wait()


def test_a_file_the_user_may_not_read_is_not_called_damaged():
    import tempfile

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root to run a command as another user")
    base = Path(tempfile.mkdtemp(prefix="soat-perm-", dir="/tmp"))
    try:
        db = base / "store"
        publish(db, 2)
        os.chmod(base, 0o755)
        for p in [db, *db.rglob("*")]:
            os.chown(p, 65534, 65534)
        os.chown(db / snapshot_file_name(1), 0, 0)
        os.chmod(db / snapshot_file_name(1), 0o600)
        proc = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            + [sys.executable, "-m", "soat", "snapshots", "--db", str(db)],
            capture_output=True,
            text=True,
            env={**ENV, "HOME": str(base)},
            timeout=120,
        )
    finally:
        shutil.rmtree(base)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"soat: bản chụp 1: không có quyền đọc/ghi ({db / snapshot_file_name(1)}): kiểm tra "
        "quyền của tệp hoặc thư mục này"
    )


# ---- 5: a full disk -----------------------------------------------------------------------


def test_delete_and_prune_free_space_on_a_full_disk(four, tmp_path):
    """The lock's holder note (the lock file was truncated to nothing between writers) and
    the catalog written aside each needed a new block: `snapshots delete` failed with "hết
    chỗ trống… xoá bản chụp cũ bằng 'soat snapshots prune'", which failed the same way."""
    try:
        from tests.conftest import require
    except ImportError:
        from conftest import require

    mnt = tmp_path / "small"
    mnt.mkdir()
    size = sum(p.stat().st_size for p in four.iterdir() if p.is_file())
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size + 1_000_000}", "tmpfs", str(mnt)]
        ).returncode
        == 0
    )
    require(mounted, "a small tmpfs cannot be mounted here (needs root)")
    try:
        db = mnt / "store"
        shutil.copytree(four, db)
        with (mnt / "filler").open("wb") as f:  # every block taken
            with pytest.raises(OSError):
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
        for argv in (["snapshots", "delete", "1"], ["snapshots", "prune", "--keep", "2"]):
            proc = subprocess.run(
                [sys.executable, "-m", "soat", *argv, "--db", str(db)],
                capture_output=True,
                text=True,
                env=ENV,
                timeout=120,
            )
            assert proc.returncode == 0, proc.stderr
            assert "Đã xoá" in proc.stdout
        assert snapshot_files(db) == FILES[2:]
        assert [e.snapshot_id for e in SnapshotStore(db).catalog().entries] == [3, 4]
    finally:
        subprocess.run(["umount", str(mnt)])


def test_a_catalog_that_cannot_be_written_aside_is_written_in_place(db, monkeypatch):
    """No block for a new file: the shorter catalog goes into the old one's blocks."""
    import builtins

    real_open = builtins.open

    def full(file, mode="r", *a, **k):
        if "w" in mode and str(file).endswith(".tmp"):
            raise OSError(28, "No space left on device")
        return real_open(file, mode, *a, **k)

    monkeypatch.setattr(builtins, "open", full)
    size = (db / CATALOG).stat().st_size
    assert main(["snapshots", "prune", "--keep", "2", "--db", str(db)]) == 0
    monkeypatch.undo()
    assert (db / CATALOG).stat().st_size == size  # the same blocks
    assert ids(db) == [3, 4] and snapshot_files(db) == FILES[2:]
    assert not list(db.glob(".catalog.json.*"))


# ---- 11: the audit log --------------------------------------------------------------------

KILL_AFTER_UNLISTING = textwrap.dedent(
    """
    import os, sys
    from soat import snapshot_store as ss
    real = ss._atomic_write
    def write_then_die(path, text):
        real(path, text)
        if path.name == ss.CATALOG:
            os._exit(9)
    ss._atomic_write = write_then_die
    from soat.cli import main
    main(["snapshots", sys.argv[1], *sys.argv[2:]])
    """
)


def test_a_delete_killed_after_unlisting_is_in_the_audit_log(db, tmp_path):
    """The audit record was written after the lock was released (≈ 0.5 s later, importing
    SQLAlchemy): a kill in between left a deletion nobody could trace."""
    app = f"sqlite:///{tmp_path / 'app.sqlite'}"
    for argv in (["delete", "1"], ["prune", "--keep", "2"]):
        proc = subprocess.run(
            [sys.executable, "-c", KILL_AFTER_UNLISTING, *argv, "--db", str(db)],
            env={**ENV, "SOAT_APP_DB": app},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 9, proc.stderr
    events = [(e["action"], e["detail"]) for e in audit.read(limit=10, app_db=app)]
    assert ("snapshot_prune", {"keep": 2, "deleted": [2]}) in events
    assert any(a == "snapshot_delete" and d["snapshot_id"] == 1 for a, d in events)
    assert ids(db) == [3, 4]
