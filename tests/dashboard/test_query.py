"""The query layer: scope respected by every function, filters, masking, pagination."""

from __future__ import annotations

import dash_province as province
import polars as pl
import pytest

from dashboard import query
from dashboard.query import Filters
from soat.scope import Scope

ADMIN = Scope.admin()
PROVINCE_STAFF = Scope(user="so", role="province_staff")  # masked
QUAN1 = Scope(units=("79760",), user="q1", role="unit_officer")
QUAN2_TH = Scope(units=("79761",), levels=("TH",), user="q2", role="unit_officer")
SCHOOL_S2 = Scope(school="S2", unmasked=True, user="s2", role="school")
NOBODY = Scope(units=("\x00none",), school="\x00none", user="x", role="unknown")
ALL = Filters()

VISIBLE = {
    "admin": (ADMIN, {"S1", "S2", "S3", "S4"}),
    "quan1": (QUAN1, {"S1", "S2", "S4"}),  # S4 sits under a commune of Quận 1
    "quan2_th": (QUAN2_TH, {"S3"}),
    "school": (SCHOOL_S2, {"S2"}),
    "nobody": (NOBODY, set()),
}


@pytest.fixture
def sid(duck) -> int:
    return 1


def schools_in(df: pl.DataFrame, col: str = "school_code") -> set[str]:
    return set(df[col].drop_nulls().to_list()) if df.height else set()


@pytest.mark.parametrize("who", list(VISIBLE))
def test_every_query_stays_in_scope(sid, who):
    scope, visible = VISIBLE[who]
    assert schools_in(query.school_list(sid, scope, ALL)) == visible
    assert (
        schools_in(
            query.submission_rows(sid, scope, ALL, ("on_time", "late", "missing", "pending"))
        )
        <= visible
    )
    assert query.headline(sid, scope, ALL)["schools"] == len(visible)
    for s in ("S1", "S2", "S3", "S4"):
        inside = s in visible
        assert (query.school_profile(sid, scope, s).height > 0) == inside
        assert (query.count_school_findings(sid, scope, ALL, s) > 0) <= inside
        assert (query.school_submissions(sid, scope, ALL, s).height > 0) <= inside
        assert (query.school_metrics(sid, scope, s).height > 0) <= inside
        assert (query.drill_checks(sid, scope, ALL, s).height > 0) <= inside
    units = set(query.drill_units(sid, scope, ALL)["unit_code"].to_list())
    school_units = {"S1": "79760", "S2": "79760", "S3": "79761", "S4": "26734"}
    assert units <= {school_units[s] for s in visible}
    for u in ("79760", "79761", "26734"):
        assert schools_in(query.drill_schools(sid, scope, ALL, u)) <= visible
    assert schools_in(query.changes(2, 1, scope, ALL)) <= visible
    assert set(query.unit_compliance(sid, scope, ALL)["unit_code"].to_list()) <= set(
        school_units[s] for s in visible
    )


def test_level_scope_keeps_only_its_level(sid):
    lv = query.school_metrics(sid, QUAN2_TH, "S3")["level"].to_list()
    assert lv == ["TH"]
    assert set(query.submission_rows(sid, QUAN2_TH, ALL, ("missing",))["level"]) == {"TH"}
    assert query.levels(sid, QUAN2_TH) == ["TH"]


def test_units_list_is_hierarchy_aware(sid):
    units = query.units(sid, QUAN1)
    assert set(units["unit_code"]) == {"79760", "26734"}
    admin_units = query.units(sid, ADMIN)["unit_code"].to_list()
    assert admin_units[0] == "79"  # parents first
    assert admin_units.index("79760") < admin_units.index("26734")


def test_unit_filter_includes_units_below(sid):
    f = Filters(unit="79760")
    assert schools_in(query.school_list(sid, ADMIN, f)) == {"S1", "S2", "S4"}
    assert query.headline(sid, ADMIN, f)["schools"] == 3
    assert schools_in(query.school_list(sid, ADMIN, Filters(unit="26734"))) == {"S4"}


def test_level_and_period_filters(sid):
    assert schools_in(query.school_list(sid, ADMIN, Filters(level="THCS"))) == {"S2", "S3"}
    h = query.headline(sid, ADMIN, Filters(level="MN"))
    assert h["schools"] == 1 and h["students"] == 1
    rows = query.submission_rows(
        sid, ADMIN, Filters(period="giua_nam"), ("on_time", "late", "missing", "pending")
    )
    assert set(rows["period"]) == {"giua_nam"}
    late = query.submission_rows(sid, ADMIN, Filters(period="dau_nam"))
    assert {(r["school_code"], r["status"]) for r in late.iter_rows(named=True)} == {
        ("S2", "late"),
        ("S3", "missing"),
    }


def test_headline_figures(sid):
    h = query.headline(sid, ADMIN, ALL)
    assert h["schools"] == 4
    assert h["students"] == 156
    assert h["staff"] == 5  # S3's two staff count once, not once per level
    assert h["errors"] == query.drill_units(sid, ADMIN, ALL)["errors"].sum()  # each finding once
    assert h["compliant_schools"] == 2  # S2 and S4: no error, nothing missing
    assert h["compliance"] == pytest.approx(0.5)
    # due rows: S1 2, S2 2, S3 2×2 levels, S4 2 = 10, plus S1's early mid-year push (a
    # success is on time even before the due date): on time 8, late 1, missing 2
    assert (h["expected"], h["on_time"], h["late"], h["missing"]) == (11, 8, 1, 2)
    assert h["on_time_rate"] == pytest.approx(8 / 11)


def test_upcoming_deadlines_after_as_of(sid):
    up = query.upcoming_deadlines(sid, ADMIN, ALL)
    assert set(up["period"]) == {"giua_nam"}
    assert up["submitted"].sum() >= 1  # S1 pushed early


def test_drill_ranks_by_errors_and_reaches_records(sid):
    units = query.drill_units(sid, ADMIN, ALL)
    assert units["unit_code"][0] == "79760"  # S1's 130 bad IDs
    assert units["errors"].to_list() == sorted(units["errors"].to_list(), reverse=True)
    schools = query.drill_schools(sid, ADMIN, ALL, "79760")
    assert schools["school_code"][0] == "S1"
    checks = query.drill_checks(sid, ADMIN, ALL, "S1")
    assert checks["check_id"][0] == "student.id_format"
    assert checks["findings"][0] == province.BAD_S1
    n = query.count_records(sid, ADMIN, ALL, "S1", "student.id_format")
    assert n == province.BAD_S1
    p0 = query.drill_records(sid, ADMIN, ALL, "S1", "student.id_format", 0)
    p1 = query.drill_records(sid, ADMIN, ALL, "S1", "student.id_format", 1)
    assert p0.height == query.PAGE_SIZE and p1.height == province.BAD_S1 - query.PAGE_SIZE
    keys = p0["record_key"].to_list() + p1["record_key"].to_list()
    assert len(set(keys)) == province.BAD_S1  # no overlap, nothing hidden
    assert set(p0["field"]) == {"citizen_id"}


def test_personal_values_masked_unless_unmasked(sid):
    clear = query.drill_records(sid, ADMIN, ALL, "S1", "student.id_format", 0)
    masked = query.drill_records(sid, PROVINCE_STAFF, ALL, "S1", "student.id_format", 0)
    assert clear["value"][0] == "0793100000"
    assert masked["value"][0] == "0793****00"
    assert "0793100000" in clear["message"][0]
    for row in masked.iter_rows(named=True):
        assert "*" in row["value"]
        assert row["value"] in row["message"]
    raw = set(clear["value"].to_list())
    assert not any(v in m for v in raw for m in masked["message"].to_list())


def test_trend_across_snapshots(sid):
    tr = query.trend(ADMIN, ALL)
    assert tr["snapshot_id"].to_list() == [1, 2]
    assert tr["errors"][1] < tr["errors"][0]
    assert tr.filter(pl.col("snapshot_id") == 1)["schools"][0] == 4


def test_rejects_only_province_wide(sid):
    assert query.count_rejects(sid, QUAN1) == 0
    assert query.rejects(sid, QUAN1).height == 0


def test_no_database(tmp_path, monkeypatch):
    monkeypatch.setenv("SOAT_DB", str(tmp_path / "absent.duckdb"))
    assert not query.has_database()
    assert query.snapshots().height == 0
    assert query.drill_units(1, ADMIN, ALL).height == 0


def test_province_wide_figures_only_for_province_wide_scopes(sid):
    for scope in (QUAN1, SCHOOL_S2, NOBODY, None):
        assert query.snapshot_tables(sid, scope).height == 0
        assert query.check_runs(sid, scope).height == 0
        snaps = query.all_snapshots(scope)
        assert snaps.height == 2 and snaps["total_rows"].null_count() == 2
        # the source is a path (or address) on the server: a school account saw it
        assert snaps["source"].null_count() == 2
    for scope in (ADMIN, PROVINCE_STAFF):
        assert query.snapshot_tables(sid, scope).height > 0
        assert query.check_runs(sid, scope).height > 0
        assert query.all_snapshots(scope)["total_rows"].null_count() == 0
        assert query.all_snapshots(scope)["source"].null_count() == 0


def test_a_multi_level_school_counts_its_records_once(sid):
    # S3 (TH, THCS): 3 students + 2 classes + 2 staff + its profile = 8 records
    s3 = query.drill_schools(sid, ADMIN, ALL, "79761").row(0, named=True)
    assert s3["school_code"] == "S3" and s3["records"] == 8
    assert (
        query.drill_units(sid, ADMIN, ALL).filter(pl.col("unit_code") == "79761")["records"][0] == 8
    )


def test_rejected_personal_values_masked_for_masked_roles(duck, sid):
    """Rejects keep the source's header ('Ngày sinh', 'So CCCD', 'birth_date'), not the
    field: masking must recognise every accepted header of a personal field."""
    import duckdb
    from conftest import snapshot_file

    con = duckdb.connect(str(snapshot_file(duck, 1)))  # before any reader opened it
    con.execute(
        """INSERT INTO rejects VALUES
           (1, 'students', 'hoc_sinh.csv', NULL, 7, 'Ngày sinh', '31/02/2016', 'ngày sai', false),
           (1, 'staff', 'can_bo.xlsx', 'Sheet1', 9, 'So CCCD', '07908500045X', 'sai', false),
           (1, 'students', 'students.csv', NULL, 3, 'birth_date', '2016-02-31', 'ngày sai', false),
           (1, 'classes', 'lop.csv', NULL, 4, 'Sĩ số', 'ba mươi', 'không phải số', false)"""
    )
    con.close()
    masked = dict(zip(*query.rejects(sid, PROVINCE_STAFF)[["column", "value"]], strict=True))
    assert masked == {"Ngày sinh": "***", "So CCCD": "***", "birth_date": "***", "Sĩ số": "ba mươi"}
    clear = dict(zip(*query.rejects(sid, ADMIN)[["column", "value"]], strict=True))
    assert clear["Ngày sinh"] == "31/02/2016" and clear["So CCCD"] == "07908500045X"
