"""A store the dashboard cannot read — a snapshot file missing or cut short, a damaged
catalog, another program's DuckDB file as $SOAT_DB, a snapshot deleted while a session
opens the store: the officer reads what is wrong in Vietnamese, never a traceback
(dashboard.db.problem, dashboard/app.py)."""

from __future__ import annotations

import os

import duckdb
import pytest
from conftest import snapshot_file
from dash_helpers import APP, logged_in
from streamlit.testing.v1 import AppTest

from tests.access.apptest_helpers import shown


def errors(at: AppTest) -> list[str]:
    assert not at.exception, [e.message for e in at.exception]
    return [shown(e.value) for e in at.error]


@pytest.mark.parametrize("damage", ["missing", "cut short", "catalog", "catalog null"])
def test_a_damaged_store_is_told_on_the_page(duck, app_db, damage):
    f = snapshot_file(duck, 2)
    if damage == "missing":
        f.unlink()
    elif damage == "cut short":
        with f.open("r+b") as fh:
            fh.truncate(f.stat().st_size // 2)
    else:
        (duck / "catalog.json").write_text("" if damage == "catalog" else "null")
    # the login page opens the store while the user types: it must still render
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    at = logged_in("admin")
    at.run()
    (told,) = errors(at)
    assert told.startswith("Không đọc được kho dữ liệu: ")
    if damage.startswith("catalog"):
        assert "danh mục bản chụp bị hỏng" in told and "soat snapshots repair" in told
    else:
        assert "tệp của bản chụp 2 không có hoặc bị hỏng" in told
    # an officer is told there is a problem, not the server's paths and commands
    at = logged_in("quan1")
    at.run()
    assert not at.exception
    assert errors(at) == ["Không đọc được kho dữ liệu. Hãy báo quản trị Sở."]


def test_another_programs_duckdb_file_is_told(tmp_path, monkeypatch, app_db):
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t (x INTEGER)").close()
    monkeypatch.setenv("SOAT_DB", str(other))
    at = logged_in("admin")
    at.run()
    (told,) = errors(at)
    assert "không phải kho dữ liệu Soát" in told
    assert not [n for n in os.listdir(tmp_path) if n.startswith("other.duckdb.")]  # no debris


def test_a_snapshot_deleted_as_a_session_opens_the_store(duck, app_db, monkeypatch):
    """`soat snapshots delete 1` between the reader's catalog read and its ATTACHes: the
    session showed a SoatError traceback ("tệp của bản chụp 1 … bị hỏng")."""
    from soat.cli import main
    from soat.snapshot_store import SnapshotStore

    real = SnapshotStore.catalog
    fired = []

    def catalog(self):
        cat = real(self)
        if not fired and 1 in cat.ids():
            fired.append(1)
            assert main(["snapshots", "delete", "1", "--db", str(duck)]) == 0
        return cat

    monkeypatch.setattr(SnapshotStore, "catalog", catalog)
    at = logged_in("admin")
    at.run()
    assert fired and errors(at) == []
