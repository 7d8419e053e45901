"""A snapshot's load and check times are stored as UTC whatever the server's time zone,
and read as Vietnam's time (soat.vntime): `soat snapshots` here, the Dữ liệu page in
tests/dashboard/test_pages.py."""

from __future__ import annotations

import datetime as dt

from loader_helpers import STUDENT_HEAD, folder, load, student_rows

from soat import store, vntime
from soat.cli import main
from soat.engine import run_checks


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def test_times_are_utc_on_a_server_in_vietnam(tmp_path):
    con = store.connect(str(tmp_path / "s.duckdb"))
    con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")  # a server set to Vietnam's time
    before = _utc_now()
    res = load(con, folder(tmp_path, {"hoc_sinh.csv": [STUDENT_HEAD, *student_rows()]}))
    run_checks(con, res.snapshot_id)
    after = _utc_now()
    loaded, checked = con.execute(
        "SELECT loaded_at, checked_at FROM snapshots WHERE snapshot_id = $s",
        {"s": res.snapshot_id},
    ).fetchall()[0]
    slack = dt.timedelta(seconds=5)
    assert before - slack <= loaded <= checked <= after + slack  # not 7 hours ahead


def test_soat_snapshots_prints_vietnam_time(tmp_path, capsys):
    db = str(tmp_path / "s.duckdb")
    con = store.connect(db)
    res = load(con, folder(tmp_path, {"hoc_sinh.csv": [STUDENT_HEAD, *student_rows()]}))
    loaded = con.execute(
        "SELECT loaded_at FROM snapshots WHERE snapshot_id = $s", {"s": res.snapshot_id}
    ).fetchall()[0][0]
    con.close()
    assert main(["snapshots", "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"{vntime.vn(loaded):%d/%m/%Y %H:%M}" in out
    assert vntime.vn(loaded) - loaded == dt.timedelta(hours=7)
