"""Findings over time (soat.history): each finding's change and since against the previous
checked snapshot, the resolved findings, the counts, and the history catalog."""

from __future__ import annotations

import datetime as dt

import pytest

from soat import history, store
from soat.db import dicts
from soat.engine import CatalogueError, run_checks
from soat.testing import (
    AS_OF,
    build_snapshot,
    klass,
    run,
    school,
    staff_member,
    student,
    valid_province,
)

WEEK = dt.timedelta(days=7)


def bad_ids(codes: list[str], n_students: int = 6) -> dict:
    """S1 with students HS0..; those in `codes` have an 11-digit citizen ID."""
    return valid_province(
        classes=[klass(declared_size=n_students)],
        students=[
            student(
                student_code=f"HS{i}",
                citizen_id=f"079318000{i:02d}" if f"HS{i}" in codes else f"0793180001{i:02d}",
            )
            for i in range(n_students)
        ],
    )


def changes(con, sid: int, check_id: str = "student.id_format") -> dict[str, tuple]:
    rows = dicts(
        con,
        "SELECT record_key, change, since FROM findings WHERE snapshot_id = $s AND check_id = $c",
        {"s": sid, "c": check_id},
    )
    return {r["record_key"]: (r["change"], r["since"]) for r in rows}


def resolved(con, sid: int, check_id: str = "student.id_format") -> list[str]:
    rows = dicts(
        con,
        "SELECT record_key FROM findings_resolved WHERE snapshot_id = $s AND check_id = $c "
        "ORDER BY record_key",
        {"s": sid, "c": check_id},
    )
    return [r["record_key"] for r in rows]


def test_first_snapshot_has_no_change_and_starts_every_run(con):
    sid = run(con, bad_ids(["HS1"]))
    assert changes(con, sid) == {"HS1": (None, AS_OF)}
    assert dicts(con, "SELECT * FROM history_baselines") == [
        {
            "snapshot_id": sid,
            "previous_id": None,
            "previous_as_of": None,
            "trend_id": None,
            "trend_as_of": None,
            "trend_same_year": None,
        }
    ]
    counts = dicts(con, "SELECT * FROM finding_changes_rollup WHERE grain = 'province'")[0]
    assert (counts["open"], counts["new"], counts["resolved"]) == (1, None, None)


def test_two_loads_of_one_export_persist_everything(con):
    s1 = run(con, bad_ids(["HS1", "HS2"]))
    s2 = run(con, bad_ids(["HS1", "HS2"]))  # same as-of date: load order decides
    every = dicts(con, "SELECT change, since FROM findings WHERE snapshot_id = $s", {"s": s2})
    assert every and {(r["change"], r["since"]) for r in every} == {("persisting", AS_OF)}
    assert dicts(con, "SELECT * FROM findings_resolved") == []
    base = dicts(con, "SELECT previous_id FROM history_baselines WHERE snapshot_id = $s", {"s": s2})
    assert base == [{"previous_id": s1}]


def test_fixing_k_and_breaking_m(con):
    run(con, bad_ids(["HS0", "HS1", "HS2"]))
    s2 = run(con, bad_ids(["HS2", "HS3", "HS4", "HS5"]), as_of=AS_OF + WEEK)
    assert changes(con, s2) == {
        "HS2": ("persisting", AS_OF),
        "HS3": ("new", AS_OF + WEEK),
        "HS4": ("new", AS_OF + WEEK),
        "HS5": ("new", AS_OF + WEEK),
    }
    assert resolved(con, s2) == ["HS0", "HS1"]
    r = dicts(
        con,
        """SELECT from_snapshot_id, since, value, unit_code FROM findings_resolved
           WHERE record_key = 'HS0'""",
    )[0]
    assert r == {
        "from_snapshot_id": 1,
        "since": AS_OF,
        "value": "07931800000",
        "unit_code": "79760",
    }


def test_since_follows_the_unbroken_run(con):
    d = [AS_OF + WEEK * i for i in range(4)]
    run(con, bad_ids(["HS1", "HS2"]), as_of=d[0])
    run(con, bad_ids(["HS1"]), as_of=d[1])
    run(con, bad_ids(["HS1", "HS2"]), as_of=d[2])  # HS2 is back: a new run
    s4 = run(con, bad_ids(["HS1", "HS2"]), as_of=d[3])
    assert changes(con, s4) == {"HS1": ("persisting", d[0]), "HS2": ("persisting", d[2])}
    age = dicts(
        con,
        """SELECT median_age_days FROM finding_changes_rollup
           WHERE snapshot_id = $s AND grain = 'check' AND check_id = 'student.id_format'""",
        {"s": s4},
    )
    assert age == [{"median_age_days": (21 + 7) / 2}]


def test_previous_is_by_as_of_date_then_id_and_checked_only(con):
    late = run(con, bad_ids(["HS1"]), as_of=AS_OF + WEEK * 2)
    early = run(con, bad_ids(["HS2"]), as_of=AS_OF)  # loaded later, dated earlier
    unchecked = build_snapshot(con, bad_ids(["HS3"]), as_of=AS_OF + WEEK * 2)
    assert changes(con, early) == {"HS2": (None, AS_OF)}  # nothing before 15/10
    sid = run(con, bad_ids(["HS1", "HS3"]), as_of=AS_OF + WEEK * 3)
    base = dicts(
        con, "SELECT previous_id FROM history_baselines WHERE snapshot_id = $s", {"s": sid}
    )
    assert base == [{"previous_id": late}]  # not the unchecked one of the same date
    assert changes(con, sid) == {
        "HS1": ("persisting", AS_OF + WEEK * 2),
        "HS3": ("new", AS_OF + WEEK * 3),
    }
    assert unchecked not in {
        r["previous_id"] for r in dicts(con, "SELECT * FROM history_baselines")
    }


def test_duplicates_of_one_key_match_as_a_multiset(con):
    """One student code on two records (duplicate_code: one finding per record, same key)."""

    def dup(n: int) -> dict:
        return valid_province(
            classes=[klass(declared_size=n)],
            students=[student(citizen_id=f"07931800012{i}") for i in range(n)],
        )

    run(con, dup(2))
    s2 = run(con, dup(3), as_of=AS_OF + WEEK)
    rows = dicts(
        con,
        "SELECT change FROM findings WHERE snapshot_id = $s AND check_id = 'student.duplicate_code'",
        {"s": s2},
    )
    assert sorted(r["change"] for r in rows) == ["new", "persisting", "persisting"]
    s3 = run(con, dup(2), as_of=AS_OF + WEEK * 2)
    rows = dicts(
        con,
        "SELECT change FROM findings WHERE snapshot_id = $s AND check_id = 'student.duplicate_code'",
        {"s": s3},
    )
    assert sorted(r["change"] for r in rows) == ["persisting", "persisting"]
    assert resolved(con, s3, "student.duplicate_code") == ["HS1"]


def test_level_tells_apart_findings_of_one_key(con):
    """A school flagged at two levels (one key): the level that stays is the one persisting."""
    from soat import history as h

    con.execute(
        """CREATE TABLE a AS SELECT * FROM (VALUES
             (1, 'trend.enrolment_change', 'S1', 'S1', 'students', NULL, 'TH', '10', 'm'),
             (2, 'trend.enrolment_change', 'S1', 'S1', 'students', NULL, 'THCS', '20', 'm'))
           t(rid, check_id, school_code, record_key, field, period, level, value, message)"""
    )
    con.execute("CREATE TABLE b AS SELECT * FROM a WHERE level = 'THCS'")
    con.execute("UPDATE b SET rid = 7")
    assert con.execute(h.match_sql("b", "a")).fetchall() == [(7, 2)]
    # a finding whose level changed is still the same finding (second pass: the key alone)
    con.execute("UPDATE b SET level = 'TH'")
    con.execute("DELETE FROM a WHERE level = 'TH'")
    assert con.execute(h.match_sql("b", "a")).fetchall() == [(7, 2)]


def test_period_is_part_of_the_key(con):
    from deadlines.deadline_helpers import deadline, province, push

    # dau_nam staff missing (no push at all) in both snapshots; giua_nam only in the second
    d1 = deadline(data_type="staff", due_date=dt.date(2024, 9, 30))
    d2 = deadline(data_type="staff", period="giua_nam", due_date=dt.date(2024, 10, 18))
    pushes = [push("2024-09-20 09:00")]
    run(con, province([d1, d2], pushes))
    s2 = run(con, province([d1, d2], pushes), as_of=AS_OF + WEEK)
    rows = dicts(
        con,
        """SELECT period, change FROM findings WHERE snapshot_id = $s
           AND check_id = 'submission.missing' ORDER BY period""",
        {"s": s2},
    )
    assert rows == [
        {"period": "dau_nam", "change": "persisting"},
        {"period": "giua_nam", "change": "new"},
    ]


def test_counts_per_grain(con):
    run(con, bad_ids(["HS0", "HS1", "HS2"]))
    s2 = run(con, bad_ids(["HS2", "HS3"]), as_of=AS_OF + WEEK)
    rows = dicts(
        con,
        """SELECT grain, unit_code, level, check_id, school_code, open, new, persisting,
                  resolved, median_age_days
           FROM finding_changes_rollup WHERE snapshot_id = $s AND grain <> 'check'
              OR (snapshot_id = $s AND check_id = 'student.id_format')
           ORDER BY grain, unit_code""",
        {"s": s2},
    )
    want = {"open": 2, "new": 1, "persisting": 1, "resolved": 2}
    for r in rows:
        assert {k: r[k] for k in want} == want, r
        assert r["median_age_days"] == 3.5  # 7 days and 0 days
    assert {(r["grain"], r["unit_code"] or r["level"] or r["school_code"]) for r in rows} == {
        ("check", None),
        ("level", "TH"),
        ("province", None),
        ("school", "S1"),
        ("unit", "79"),
        ("unit", "79760"),
    }
    # the fine table sums to the same
    fine = dicts(
        con,
        """SELECT sum(open) AS open, sum(new) AS new, sum(persisting) AS persisting,
                  sum(resolved) AS resolved FROM finding_changes WHERE snapshot_id = $s""",
        {"s": s2},
    )[0]
    assert {k: int(v) for k, v in fine.items()} == want


def test_a_re_check_replaces_the_history_rows(con):
    run(con, bad_ids(["HS0", "HS1"]))
    s2 = run(con, bad_ids(["HS1"]), as_of=AS_OF + WEEK)
    run_checks(con, s2)
    assert resolved(con, s2) == ["HS0"]
    assert len(dicts(con, "SELECT * FROM history_baselines WHERE snapshot_id = $s", {"s": s2})) == 1
    n = dicts(
        con,
        "SELECT sum(resolved) AS n FROM finding_changes WHERE snapshot_id = $s",
        {"s": s2},
    )
    assert n == [{"n": 1}]


def test_older_findings_without_since_count_from_their_snapshot(con):
    s1 = run(con, bad_ids(["HS1"]))
    con.execute("UPDATE findings SET since = NULL, change = NULL WHERE snapshot_id = $s", {"s": s1})
    s2 = run(con, bad_ids(["HS1"]), as_of=AS_OF + WEEK)
    assert changes(con, s2) == {"HS1": ("persisting", AS_OF)}


def _copy_snapshot(con, sid: int, target: str) -> None:
    """Move every row of snapshot `sid` into the attached database `target`."""
    for (table,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall():
        con.execute(
            f'INSERT INTO {target}.main."{table}" SELECT * FROM "{table}" WHERE snapshot_id = $s',
            {"s": sid},
        )
        con.execute(f'DELETE FROM "{table}" WHERE snapshot_id = $s', {"s": sid})


def test_history_catalog_holds_the_earlier_snapshots(tmp_path):
    """The directory store: the new snapshot in the connection's own database, the published
    ones in an attached catalog (read only) passed as `history`."""
    con = store.connect(":memory:")
    hist_path = tmp_path / "published.duckdb"
    store.connect(str(hist_path)).close()
    con.execute(f"ATTACH '{hist_path}' AS published")
    s1 = run(con, bad_ids(["HS0", "HS1"]))
    _copy_snapshot(con, s1, "published")
    con.execute("DETACH published")
    con.execute(f"ATTACH '{hist_path}' AS published (READ_ONLY)")
    # keep the id sequence going in the new database (the catalog's next id in the real store)
    con.execute("INSERT INTO snapshots (snapshot_id) VALUES (1)")
    s2 = build_snapshot(con, bad_ids(["HS1", "HS2"]), as_of=AS_OF + WEEK)
    con.execute("DELETE FROM snapshots WHERE snapshot_id = 1")
    assert s2 == 2
    results = {r.check_id: r for r in run_checks(con, s2, history="published")}
    assert results["trend.enrolment_change"].status == "ran"
    assert changes(con, s2) == {"HS1": ("persisting", AS_OF), "HS2": ("new", AS_OF + WEEK)}
    assert resolved(con, s2) == ["HS0"]
    assert con.execute("SELECT count(*) FROM published.main.findings_resolved").fetchall() == [(0,)]
    con.close()


def test_an_unknown_history_catalog_is_refused(con):
    sid = build_snapshot(con, valid_province())
    with pytest.raises(CatalogueError, match="not attached"):
        run_checks(con, sid, history="nowhere")


def test_trend_params_are_data():
    from soat.engine import discover

    checks = {c.id: c for c in discover()}
    assert dict(checks["trend.enrolment_change"].params) == {"min_percent": 20, "min_students": 10}
    assert dict(checks["trend.staff_change"].params) == {"min_percent": 20, "min_people": 3}
    assert dict(checks["trend.class_count_change"].params) == {"min_classes": 2}
    assert checks["trend.class_count_change"].baseline == "same_year"
    assert checks["trend.school_vanished"].baseline == "previous"
    assert checks["student.id_format"].baseline is None


def test_check_params_may_not_shadow_the_runner_s(tmp_path):
    from soat.engine import load_check

    (tmp_path / "x.sql").write_text("SELECT 1")
    (tmp_path / "x.toml").write_text(
        'id = "trend.x"\nseverity = "warning"\nentity = "trend"\nmessage = "m"\n'
        'description = "d"\nrequires = ["schools"]\n[params]\nsnapshot_id = 3\n'
    )
    with pytest.raises(CatalogueError, match="snapshot_id"):
        load_check(tmp_path / "x.sql")
    (tmp_path / "x.toml").write_text(
        'id = "trend.x"\nseverity = "warning"\nentity = "trend"\nmessage = "m"\n'
        'description = "d"\nrequires = ["schools"]\nbaseline = "last_week"\n'
    )
    with pytest.raises(CatalogueError, match="baseline"):
        load_check(tmp_path / "x.sql")


def test_previous_school_year():
    assert history.previous_school_year("2024-2025") == "2023-2024"
    assert history.previous_school_year(None) is None


def test_other_schools_unchanged_when_one_vanishes(con):
    two = valid_province(
        schools=[school(), school(school_code="S2")],
        classes=[klass(), klass(school_code="S2", homeroom_code="GV2")],
        students=[student(), student(student_code="HS2", school_code="S2", citizen_id="1")],
        staff=[staff_member(), staff_member(staff_code="GV2", school_code="S2", citizen_id=None)],
    )
    run(con, two)
    s2 = run(con, valid_province(), as_of=AS_OF + WEEK)
    # the vanished school's findings are resolved (with the school, not fixed): the trend
    # check says so
    assert resolved(con, s2) == ["HS2"]
    vanished = dicts(
        con,
        "SELECT record_key, change FROM findings WHERE snapshot_id = $s "
        "AND check_id = 'trend.school_vanished'",
        {"s": s2},
    )
    assert vanished == [{"record_key": "S2", "change": "new"}]


def test_a_school_s_two_targets_keep_their_own_history(con):
    """A data type due to the Sở and to the Bộ gives two findings of one key (check, school,
    record, field, period) told apart by their due dates (`value`), with messages that
    change every week ("quá hạn N ngày"): each is matched to its own earlier self, so the
    older one keeps its `since` and the one due later is new when it becomes due."""
    from deadlines.deadline_helpers import deadline, province, push

    so = deadline(data_type="staff", due_date=dt.date(2024, 9, 30))
    bo = deadline(data_type="staff", target="Bộ", due_date=dt.date(2024, 10, 18))
    pushes = [push("2024-09-20 09:00")]  # students only: staff missing for both
    run(con, province([so, bo], pushes))  # 15/10: only the Sở's is due
    weeks = [run(con, province([so, bo], pushes), as_of=AS_OF + k * WEEK) for k in (1, 2, 3)]

    def rows(sid):
        return {
            (r["target"], str(r["value"])): (r["change"], r["since"])
            for r in dicts(
                con,
                """SELECT f.value, f.change, f.since,
                          CASE WHEN f.value = '18/10/2024' THEN 'Bộ' ELSE 'Sở' END AS target
                   FROM findings f WHERE snapshot_id = $s AND check_id = 'submission.missing'""",
                {"s": sid},
            )
        }

    first = rows(weeks[0])
    assert first[("Sở", "30/09/2024")] == ("persisting", AS_OF)
    assert first[("Bộ", "18/10/2024")] == ("new", AS_OF + WEEK)
    for sid in weeks[1:]:
        got = rows(sid)
        assert got[("Sở", "30/09/2024")] == ("persisting", AS_OF)
        assert got[("Bộ", "18/10/2024")] == ("persisting", AS_OF + WEEK)
        assert resolved(con, sid, "submission.missing") == []


def test_a_check_that_could_not_run_fixes_nothing(con):
    """The students' file missing one week: student.id_format does not run, and its
    findings of the week before are not 'đã khắc phục' (all 19 submission findings of a
    week without the push log were once counted fixed)."""
    run(con, bad_ids(["HS1", "HS2"]))
    p = bad_ids([])
    del p["students"]
    s2 = run(con, p, as_of=AS_OF + WEEK)
    status = dicts(
        con,
        "SELECT status FROM check_runs WHERE snapshot_id = $s AND check_id = 'student.id_format'",
        {"s": s2},
    )
    assert status == [{"status": "not_run"}]
    assert resolved(con, s2) == []


def test_a_school_moved_to_another_unit_has_its_fixes_there(con):
    """S1 moves from unit 79760 to 79761 and one bad citizen ID is fixed: the resolved
    finding is under 79761 now (the new unit's officer sees it; the unit roll-ups add up to
    the province's). It kept the old unit, which the new snapshot may not even have."""
    from soat.testing import unit

    run(con, bad_ids(["HS1", "HS2"]))
    p = bad_ids(["HS2"])
    p["units"] = [*p["units"], unit(unit_code="79761", unit_name="Quận 2")]
    p["schools"] = [school(unit_code="79761")]
    s2 = run(con, p, as_of=AS_OF + WEEK)
    rows = dicts(
        con,
        "SELECT record_key, unit_code FROM findings_resolved WHERE snapshot_id = $s",
        {"s": s2},
    )
    assert rows == [{"record_key": "HS1", "unit_code": "79761"}]
    roll = dicts(
        con,
        """SELECT grain, unit_code, resolved FROM finding_changes_rollup
           WHERE snapshot_id = $s AND grain IN ('province', 'unit') AND resolved > 0
           ORDER BY grain, unit_code""",
        {"s": s2},
    )
    assert {"grain": "unit", "unit_code": "79761", "resolved": 1} in roll
    assert {"grain": "province", "unit_code": None, "resolved": 1} in roll


def test_a_renamed_school_keeps_its_findings(con):
    """S1 renamed S9 (its old code in previous_codes): the same pupils' bad citizen IDs
    persist with their since, nothing is 'fixed' and nothing 'new' (all 13 findings of a
    renamed school were once resolved and new again, with no trend finding to say why)."""
    run(con, bad_ids(["HS1", "HS2"]))
    p = bad_ids(["HS1", "HS2"])
    p["schools"] = [school(school_code="S9", previous_codes=["S1"])]
    for table in ("classes", "students", "staff"):
        for r in p.get(table, []):
            r["school_code"] = "S9"
    s2 = run(con, p, as_of=AS_OF + WEEK)
    assert changes(con, s2) == {"HS1": ("persisting", AS_OF), "HS2": ("persisting", AS_OF)}
    assert resolved(con, s2) == []
