"""`soat check` of an older snapshot: the later snapshots compared their findings with its
old ones (new, persisting, since), so the command says so, and `--and-later` re-checks them
in order against the new results."""

from __future__ import annotations

from pathlib import Path

import pytest

from soat import engine
from soat.snapshot_store import SnapshotStore, read_connection
from soat.testing import cli

PROBE_SQL = """
SELECT school_code AS record_key, school_code, NULL AS level, 'school_code' AS field,
       school_code AS value, school_name AS detail, NULL AS period
FROM p_schools
"""
PROBE_TOML = """
id = "school.recheck_probe"
severity = "warning"
entity = "school"
message = "thăm dò {value}"
description = "A test check that fires on every school (the catalogue of a newer version)."
requires = ["schools"]
"""


@pytest.fixture
def store(tmp_path) -> Path:
    src = tmp_path / "export"
    src.mkdir()
    (src / "truong.csv").write_text(
        "Mã trường,Tên trường,Mã đơn vị,Cấp học\nS1,Trường A,79760,TH\nS2,Trường B,79760,THCS\n",
        encoding="utf-8",
    )
    db = tmp_path / "store"
    for day in ("2024-10-15", "2024-10-22", "2024-10-29"):
        code, out, err = cli("load", str(src), "--db", str(db), "--as-of", day)
        assert code == 0, out + err
    return db


@pytest.fixture
def newer_catalogue(tmp_path, monkeypatch):
    """The catalogue of a newer version: one more check, firing on every school."""
    d = tmp_path / "checks"
    d.mkdir()
    (d / "recheck_probe.sql").write_text(PROBE_SQL, encoding="utf-8")
    (d / "recheck_probe.toml").write_text(PROBE_TOML, encoding="utf-8")
    probe = engine.load_check(d / "recheck_probe.sql")
    real = engine.discover
    monkeypatch.setattr(engine, "discover", lambda *a, **k: [*real(*a, **k), probe])


def probe_rows(db: Path) -> list[tuple]:
    con = read_connection(str(db))
    try:
        return con.execute(
            """SELECT snapshot_id, school_code, change, strftime(since, '%d/%m')
               FROM findings WHERE check_id = 'school.recheck_probe'
               ORDER BY snapshot_id, school_code"""
        ).fetchall()
    finally:
        con.close()


def published(db: Path) -> dict[int, str]:
    return {e.snapshot_id: e.published_at for e in SnapshotStore.open(str(db)).catalog().entries}


def test_re_checking_an_older_snapshot_says_the_later_ones_kept_their_comparison(
    store, newer_catalogue
):
    before = published(store)
    code, out, err = cli("check", "--snapshot", "1", "--db", str(store))
    assert code == 0, err
    assert "Các bản chụp sau (2, 3) đã so sánh phát hiện với kết quả cũ của bản chụp 1" in out
    assert "soat check --snapshot 1 --and-later" in out
    # only snapshot 1 was checked again
    assert probe_rows(store) == [(1, "S1", None, "15/10"), (1, "S2", None, "15/10")]
    after = published(store)
    assert after[2] == before[2] and after[3] == before[3] and after[1] != before[1]


def test_and_later_re_checks_the_later_snapshots_in_order(store, newer_catalogue):
    code, out, err = cli("check", "--snapshot", "1", "--and-later", "--db", str(store))
    assert code == 0, err
    assert "Đã kiểm tra lại bản chụp 2" in out and "Đã kiểm tra lại bản chụp 3" in out
    assert "Các bản chụp sau" not in out
    # each later snapshot compared with the re-checked one before it: persisting since the
    # first snapshot's date (the chain of `since` runs through the new results)
    assert probe_rows(store) == [
        (1, "S1", None, "15/10"),
        (1, "S2", None, "15/10"),
        (2, "S1", "persisting", "15/10"),
        (2, "S2", "persisting", "15/10"),
        (3, "S1", "persisting", "15/10"),
        (3, "S2", "persisting", "15/10"),
    ]


def test_the_newest_snapshot_has_no_later_ones_to_mention(store):
    code, out, err = cli("check", "--db", str(store))
    assert code == 0, err
    assert "Các bản chụp sau" not in out
