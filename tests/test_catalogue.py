"""The catalogue as a whole: metadata, ids, coverage of checks.md and of the tests, and
how the runner records checks that cannot run or fail."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from loaders.contract import VOCABS
from soat import vocab
from soat.db import dicts
from soat.engine import CHECKS_DIR, SEVERITIES, WORK_DB, discover, load_check, run_checks
from soat.testing import build_snapshot, findings, student, valid_province
from tests.conftest import require

REPO = Path(__file__).resolve().parents[1]
# shared/ sits beside the checkout (CI clones main with shared/ next to it)
SPEC = next(
    (
        p
        for p in (REPO.parent / "shared/spec/checks.md", Path("/work/shared/spec/checks.md"))
        if p.exists()
    ),
    REPO.parent / "shared/spec/checks.md",
)
ID_RE = re.compile(r"`([a-z_]+\.[a-z_]+)`")
ENTITIES = ("student", "staff", "class", "school", "report", "source", "submission", "trend")


def spec_ids() -> set[str]:
    text = SPEC.read_text(encoding="utf-8") if SPEC.exists() else ""
    return {m for m in ID_RE.findall(text) if m.split(".")[0] in ENTITIES}


def test_every_sql_has_metadata_and_valid_fields():
    for sql in sorted(CHECKS_DIR.rglob("*.sql")):
        assert sql.with_suffix(".toml").exists(), f"{sql} has no .toml"
        check = load_check(sql)
        assert check.severity in SEVERITIES
        entity, _, name = check.id.partition(".")
        assert entity == check.entity == sql.parent.name, check.id
        assert name == sql.stem, f"{check.id} lives in {sql.name}"
        assert check.message and check.description and check.requires


def test_ids_are_unique():
    ids = [c.id for c in discover()]
    assert len(ids) == len(set(ids))


def test_every_id_of_the_spec_is_implemented():
    require(SPEC.exists(), f"{SPEC} not on this machine")
    ids = spec_ids() | {"class.size_outlier", "school.ptr_outlier"}
    assert len(ids) >= 38, "could not parse the ids of checks.md"
    missing = sorted(ids - {c.id for c in discover()})
    assert not missing, "checks.md ids without a check: " + ", ".join(missing)


def test_every_check_id_is_tested():
    text = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "tests").rglob("test_*.py"))
    untested = sorted(c.id for c in discover() if f'"{c.id}"' not in text)
    assert not untested, "checks without a test naming them: " + ", ".join(untested)


def test_vocab_table_matches_soat_vocab(con):
    build_snapshot(con, valid_province())
    run_checks(con, 1, checks=[])
    rows = dicts(con, f"SELECT name, value FROM {WORK_DB}.p_vocab")
    got: dict[str, set[str]] = {}
    for r in rows:
        got.setdefault(r["name"], set()).add(r["value"])
    for name, attr in VOCABS.items():
        assert got[name] == set(getattr(vocab, attr)), name
    assert got["province_code"] == set(vocab.PROVINCE_CODES)


def test_absent_table_is_not_run_never_passed(con):
    tables = valid_province()
    del tables["staff"]
    sid = build_snapshot(con, tables)
    results = {r.check_id: r for r in run_checks(con, sid)}
    assert results["staff.id_format"].status == "not_run"
    assert results["class.homeroom_unknown"].status == "not_run"
    assert "staff" in results["staff.id_format"].detail
    assert results["student.id_format"].status == "ran"
    runs = {r["check_id"]: r["status"] for r in dicts(con, "SELECT * FROM check_runs")}
    assert runs["staff.missing_field"] == "not_run"


def test_failing_sql_is_failed_and_the_others_run(con):
    checks = discover()
    good = next(c for c in checks if c.id == "student.id_format")
    broken = dataclasses.replace(good, id="student.broken", sql="SELECT * FROM no_such_table")
    tables = valid_province(students=[student(citizen_id="123")])
    sid = build_snapshot(con, tables)
    results = {r.check_id: r for r in run_checks(con, sid, checks=[broken, good])}
    assert results["student.broken"].status == "failed"
    assert results["student.id_format"].status == "ran"
    assert [f["record_key"] for f in findings(con, sid)] == ["HS1"]


def test_rerun_replaces_findings(con):
    sid = build_snapshot(con, valid_province(students=[student(citizen_id="123")]))
    run_checks(con, sid)
    run_checks(con, sid)
    assert len(findings(con, sid, "student.id_format")) == 1


def test_checks_run_on_two_connections_and_report_progress_from_the_caller(con):
    """The checks are shared between WORKERS connections; every check is reported to
    `progress` once, from the calling thread (a Streamlit callback needs it), results keep
    the catalogue's order, and the caller's search path is restored."""
    import threading

    from soat import engine

    assert engine.WORKERS >= 2
    sid = build_snapshot(con, valid_province(students=[student(citizen_id="123")]))
    before = con.execute("SELECT current_setting('search_path')").fetchall()[0][0]
    seen: list[tuple[str, int]] = []
    checks = discover()
    results = run_checks(
        con, sid, checks, progress=lambda cid: seen.append((cid, threading.get_ident()))
    )
    assert sorted(c for c, _ in seen) == sorted(c.id for c in checks)
    assert {t for _, t in seen} == {threading.get_ident()}
    assert [r.check_id for r in results] == [c.id for c in checks]
    assert "failed" not in {r.status for r in results}
    assert con.execute("SELECT current_setting('search_path')").fetchall()[0][0] == before
    assert "HS1" in {f["record_key"] for f in findings(con, sid, "student.id_format")}


def test_a_store_named_like_the_work_database_is_refused(tmp_path):
    """The prelude's tables go to an in-memory database attached as WORK_DB; a store file of
    that name must not receive them."""
    import pytest

    from soat import store
    from soat.engine import CatalogueError

    con = store.connect(str(tmp_path / f"{WORK_DB}.duckdb"))
    sid = build_snapshot(con, valid_province())
    with pytest.raises(CatalogueError, match="taken"):
        run_checks(con, sid)
    con.close()


def test_a_bug_in_a_check_worker_reaches_the_caller(con, monkeypatch):
    """A check's SQL failing is a "failed" result; anything else going wrong on the second
    connection (a bug) is raised to the caller, not lost with its thread."""
    import pytest

    from soat import engine

    real = engine._run_one

    def broken(c, check, params, present):
        if c is not con:
            raise ZeroDivisionError("worker bug")
        return real(c, check, params, present)

    monkeypatch.setattr(engine, "_run_one", broken)
    sid = build_snapshot(con, valid_province())
    with pytest.raises(ZeroDivisionError):
        run_checks(con, sid)


def test_prelude_lanes_group_files_by_their_lane_line(tmp_path):
    from soat.engine import PRELUDE_DIR, prelude_lanes

    (tmp_path / "00_a.sql").write_text("SELECT 1;")
    (tmp_path / "10_b.sql").write_text("-- lane: side\n-- about b\nSELECT 2;")
    (tmp_path / "20_c.sql").write_text("-- no lane here: lane: side is only read on its own line\n")
    (tmp_path / "30_d.sql").write_text("-- lane: side\nSELECT 4;")
    lanes = [[p.name for p in lane] for lane in prelude_lanes(tmp_path)]
    assert lanes == [["00_a.sql", "20_c.sql"], ["10_b.sql", "30_d.sql"]]
    # the real prelude: the submission status beside the scans of the data tables
    real = [[p.name for p in lane] for lane in prelude_lanes(PRELUDE_DIR)]
    assert ["50_submission_status.sql", "60_submission_macros.sql"] in real
    assert any("10_base.sql" in lane for lane in real)


def test_each_connection_gets_the_macros_of_the_other_lanes(con):
    """A lane's macros are created on the connection that ran it; the runner replays them on
    the others, so a check using a macro of either lane works on either connection."""
    from deadlines.deadline_helpers import deadline, province

    from soat import engine

    sid = build_snapshot(con, province([deadline(target="Bộ")], []))
    run_checks(con, sid)  # attaches the work database; its search path is restored after
    cur = con.cursor()
    path = engine._search_path(con)
    old = con.execute("SELECT current_setting('search_path')").fetchall()[0][0]
    try:
        for c in (con, cur):
            engine._set_search_path(c, path)
        engine.run_prelude([con, cur], engine.snapshot_params(con, sid))
        for c in (con, cur):
            assert c.execute("SELECT soat_empty('  ')").fetchall() == [(True,)]  # lane main
            rows = c.execute("SELECT count(*) FROM p_submission_rows($s)", {"s": sid})
            assert rows.fetchall() == [(1,)]  # lane submissions
    finally:
        cur.close()
        engine._set_search_path(con, old)
    assert len(findings(con, sid, "submission.missing")) == 1


def test_the_thread_pool_is_cut_while_the_checks_run_and_restored(con, monkeypatch):
    """Each check worker's own thread runs its query, so while the checks run DuckDB's pool
    has WORKERS - 1 threads fewer; the setting is restored after, and after a failure."""
    import pytest

    from soat import engine

    real = engine._run_one
    seen: list[int] = []

    def spy(c, check, params, present):
        seen.append(int(c.execute("SELECT current_setting('threads')").fetchall()[0][0]))
        return real(c, check, params, present)

    con.execute("SET threads = 3")
    monkeypatch.setattr(engine, "_run_one", spy)
    sid = build_snapshot(con, valid_province())
    run_checks(con, sid)
    assert set(seen) == {3 - (engine.WORKERS - 1)}
    assert con.execute("SELECT current_setting('threads')").fetchall() == [(3,)]

    def broken(c, check, params, present):
        raise ZeroDivisionError("worker bug")

    monkeypatch.setattr(engine, "_run_one", broken)
    with pytest.raises(ZeroDivisionError):
        run_checks(con, sid)
    assert con.execute("SELECT current_setting('threads')").fetchall() == [(3,)]
