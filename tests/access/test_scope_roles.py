"""Each role's Scope, applied through soat.scope.scope_sql on findings, schools and
submission_status; and the masking rules per role."""

from __future__ import annotations

import pytest

from soat import accounts
from soat.scope import Scope, masked_value_sql, scope_sql

from .fixtures import CITIZEN_ID, DISTRICT_A, DISTRICT_B, SCHOOL_LEVELS, build

PW = "Bi-mat-2024!"


@pytest.fixture
def sid(con):
    return build(con)


def _schools(con, sid, scope: Scope, table: str, level_col: str | None = "level") -> set[str]:
    rows = con.execute(
        f"SELECT DISTINCT t.school_code FROM {table} t WHERE t.snapshot_id = $snapshot_id "
        f"AND {scope_sql('t', level_col=level_col)}",
        {**scope.params(), "snapshot_id": sid},
    ).fetchall()
    return {r[0] for r in rows}


def _levels(con, sid, scope: Scope) -> set:
    rows = con.execute(
        f"SELECT DISTINCT t.school_code, t.level FROM findings t WHERE t.snapshot_id = $snapshot_id "
        f"AND {scope_sql('t')}",
        {**scope.params(), "snapshot_id": sid},
    ).fetchall()
    return set(rows)


def _scope(role: str, **kw) -> Scope:
    return accounts.scope_for(
        accounts.User(
            username="u",
            role=role,
            units=kw.get("units"),
            levels=kw.get("levels"),
            school=kw.get("school"),
            disabled=False,
        )
    )


ALL = DISTRICT_A | DISTRICT_B
CASES = [
    # (role, kwargs, schools seen in findings / schools / submission_status)
    ("province_admin", {}, ALL),
    ("province_staff", {}, ALL),
    ("province_staff", {"levels": ("THCS",)}, {"S3", "S4"}),
    ("province_staff", {"levels": ("TH",)}, {"S1", "S2", "S4"}),
    ("unit_officer", {"units": ("79760",)}, DISTRICT_A),
    ("unit_officer", {"units": ("79760",), "levels": ("TH",)}, {"S1", "S4"}),
    ("unit_officer", {"units": ("79761",)}, DISTRICT_B),
    ("unit_officer", {"units": ("26734",)}, {"S3"}),
    ("unit_officer", {"units": ("79761", "26734")}, {"S2", "S3"}),
    ("school", {"school": "S2"}, {"S2"}),
    ("unit_officer", {}, set()),  # an officer without units sees nothing (fails closed)
    ("school", {}, set()),
    ("mystery", {}, set()),
]


@pytest.mark.parametrize("role, kw, expected", CASES)
def test_role_scope_on_every_table(con, sid, role, kw, expected):
    scope = _scope(role, **kw)
    assert _schools(con, sid, scope, "findings") == expected
    assert _schools(con, sid, scope, "submission_status") == expected
    assert _schools(con, sid, scope, "schools", level_col=None) == expected


def test_level_filter_keeps_own_level_and_school_wide_rows(con, sid):
    got = _levels(con, sid, _scope("province_staff", levels=("THCS",)))
    assert got == {("S3", "THCS"), ("S3", None), ("S4", "THCS"), ("S4", None)}


def test_officer_of_district_a_gets_nothing_of_district_b(con, sid):
    scope = _scope("unit_officer", units=("79760",))
    for table, lc in (("findings", "level"), ("submission_status", "level"), ("schools", None)):
        rows = con.execute(
            f"SELECT count(*) FROM {table} t WHERE t.snapshot_id = $snapshot_id AND t.school_code = 'S2' "
            f"AND {scope_sql('t', level_col=lc)}",
            {**scope.params(), "snapshot_id": sid},
        ).fetchall()
        assert rows[0][0] == 0, table


def test_scope_objects_per_role():
    admin = _scope("province_admin")
    assert (admin.units, admin.levels, admin.school, admin.unmasked) == (None, None, None, True)
    assert accounts.is_admin(admin) and accounts.is_admin(Scope.admin())
    staff = _scope("province_staff", levels=("TH",))
    assert (staff.units, staff.levels, staff.unmasked) == (None, ("TH",), False)
    officer = _scope("unit_officer", units=("79760",), levels=("TH",))
    assert (officer.units, officer.levels, officer.school, officer.unmasked) == (
        ("79760",),
        ("TH",),
        None,
        False,
    )
    school = _scope("school", school="S1")
    assert (school.units, school.levels, school.school, school.unmasked) == (None, None, "S1", True)
    for s in (staff, officer, school):
        assert not accounts.is_admin(s)


def test_created_users_get_their_scope(sqlite_db):
    accounts.create_user("cb", PW, "unit_officer", units=["79760"], levels=["TH", "THCS"])
    user = accounts.authenticate("cb", PW)
    assert user.scope == Scope(
        units=("79760",), levels=("TH", "THCS"), unmasked=False, user="cb", role="unit_officer"
    )


@pytest.mark.parametrize(
    "role, kw, unmasked",
    [
        ("province_admin", {}, True),
        ("school", {"school": "S1"}, True),
        ("province_staff", {}, False),
        ("unit_officer", {"units": ("79760",)}, False),
    ],
)
def test_masking_by_role(con, sid, role, kw, unmasked):
    scope = _scope(role, **kw)
    assert scope.unmasked is unmasked
    rows = con.execute(
        f"SELECT t.field, {masked_value_sql('t.field', 't.value')} FROM findings t "
        f"WHERE t.snapshot_id = $snapshot_id AND {scope_sql('t')}",
        {**scope.params(), "snapshot_id": sid, "unmasked": scope.unmasked},
    ).fetchall()
    values = {f: v for f, v in rows}
    assert values["class_code"] == "1A"  # not personal: never masked
    if unmasked:
        assert values["citizen_id"] == CITIZEN_ID
        assert values["birth_date"] == "02/03/2018"
        assert values["permanent_address"] == "12 Lê Lợi"
    else:
        assert values["citizen_id"] == "0793******23"
        assert values["birth_date"] == "**/**/2018"
        assert values["permanent_address"] == "***"
        assert all(CITIZEN_ID not in str(v) for _, v in rows)


def test_fixture_levels_are_consistent():
    assert set(SCHOOL_LEVELS) == DISTRICT_A | DISTRICT_B
