"""soat/changes.py and `soat changes`: status changes between two snapshots."""

from __future__ import annotations

import datetime as dt

from deadlines.deadline_helpers import deadline, province, push
from soat import store
from soat.changes import CHANGE_VI, CHANGES, COLUMNS, changes, previous_snapshot, summary
from soat.cli import main
from soat.scope import Scope
from soat.testing import run, school, unit

D = dt.date
UNITS = [
    {"unit_code": "79", "unit_name": "Sở", "unit_tier": "Sở", "parent_code": None},
    unit(),
    unit(unit_code="79761", unit_name="Phòng Q2"),
]
SCHOOLS = [school(school_code=c) for c in "ABCDE"] + [school(school_code="F", unit_code="79761")]
DEADLINES = [deadline(), deadline(period="giua_nam", due_date=D(2024, 10, 20))]


def two_snapshots(con):
    before = [  # as of 15/10: A on time, B..F missing, giua_nam pending
        push("2024-09-10 08:00", school_code="A"),
    ]
    after = before + [
        push("2024-10-16 08:00", school_code="B"),  # missing -> late (submitted late)
        push("2024-10-25 08:00", school_code="C", period="giua_nam"),  # pending -> late
        push("2024-10-19 08:00", school_code="D", period="giua_nam"),  # pending -> on time
    ]  # E, F: still missing. giua_nam of A, B, E, F: pending -> missing
    s1 = run(con, province(DEADLINES, before, SCHOOLS, UNITS), as_of=D(2024, 10, 15))
    s2 = run(con, province(DEADLINES, after, SCHOOLS, UNITS), as_of=D(2024, 10, 30))
    return s1, s2


def as_set(df):
    return {(r["school_code"], r["period"], r["change"]) for r in df.iter_rows(named=True)}


def test_changes_between_the_latest_and_the_previous_snapshot(con):
    s1, s2 = two_snapshots(con)
    assert previous_snapshot(con, s2) == s1
    df = changes(con)
    assert df.columns == COLUMNS
    assert as_set(df) == {
        ("B", "dau_nam", "submitted_late"),
        ("C", "giua_nam", "newly_late"),
        ("D", "giua_nam", "on_time"),
        ("C", "dau_nam", "still_missing"),
        ("D", "dau_nam", "still_missing"),
        ("E", "dau_nam", "still_missing"),
        ("F", "dau_nam", "still_missing"),
        ("A", "giua_nam", "newly_missing"),
        ("B", "giua_nam", "newly_missing"),
        ("E", "giua_nam", "newly_missing"),
        ("F", "giua_nam", "newly_missing"),
    }
    assert df["change"][0] == "newly_missing"  # worst news first
    e = df.filter(school_code="E", period="dau_nam").row(0, named=True)
    assert (e["status_before"], e["status_after"]) == ("missing", "missing")
    assert (e["days_late_before"], e["days_late_after"]) == (30, 45)
    counts = summary(df)
    assert list(counts) == list(CHANGES) and counts["still_missing"] == 4
    assert set(CHANGE_VI) == set(CHANGES)


def test_explicit_ids_unchanged_and_scope(con):
    s1, s2 = two_snapshots(con)
    everything = changes(con, to_id=s2, from_id=s1, include_unchanged=True)
    assert everything.height == 12
    assert as_set(everything) >= {("A", "dau_nam", "unchanged")}
    q2 = changes(con, scope=Scope(units=("79761",)))
    assert set(q2["school_code"]) == {"F"}


def test_first_snapshot_compares_to_nothing(con):
    s1, _ = two_snapshots(con)
    df = changes(con, to_id=s1)
    assert previous_snapshot(con, s1) is None
    assert set(df["status_before"].to_list()) == {None}
    assert set(df["change"]) == {"on_time", "newly_missing"}


def test_no_snapshot_gives_an_empty_frame(con):
    assert changes(con).columns == COLUMNS


def test_soat_changes_command(tmp_path, capsys, monkeypatch, request):
    from soat import appdb, audit

    monkeypatch.setenv("SOAT_APP_DB", f"sqlite:///{tmp_path / 'app.sqlite'}")
    appdb.reset_cache()
    request.addfinalizer(appdb.reset_cache)
    db = str(tmp_path / "soat.duckdb")
    con = store.connect(db)
    s1, s2 = two_snapshots(con)
    con.close()
    assert main(["changes", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == ",".join(COLUMNS)
    assert len(out.splitlines()) == 12
    assert "Vẫn chưa nộp: 4" in err
    (ev,) = audit.read(action="export")  # every export is audited, this list too
    assert ev["rows"] == 11 and ev["detail"]["kind"] == "changes"
    assert ev["detail"]["filters"] == {"from": s1, "to": s2} and ev["detail"]["format"] == "csv"
    assert main(["changes", "--db", db, "--from", "99"]) == 1
    assert main(["changes", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert len(audit.read(action="export")) == 1  # refusals export nothing
