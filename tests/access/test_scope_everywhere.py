"""Every query-layer function and every export frame, for every role, returns only rows in
scope; an officer of district A gets nothing of district B's school (S2) even when asking
for it by code; masked roles never see a citizen ID in clear; and the dashboard's pages
show nothing outside the scope (AppTest, logged in through the real form).

Generic on purpose: functions are found by introspection (a `scope` parameter), so a new
query or export is covered without editing this file."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
from pathlib import Path

import polars as pl
import pytest
import streamlit as st

from soat import accounts, store
from soat.scope import Scope

from .apptest_helpers import login
from .fixtures import B_MARKERS, build_full, full_tables

ROOT = Path(__file__).resolve().parents[2]
PW = "Bi-mat-2024!"

ROLES = {
    "admin": dict(role="province_admin"),
    "staff_thcs": dict(role="province_staff", levels=("THCS",)),
    "officer_a": dict(role="unit_officer", units=("79760",)),
    "officer_commune": dict(role="unit_officer", units=("26734",)),
    "school_s1": dict(role="school", school="S1"),
}
# Schools each role may see (tests/access/fixtures.py: S2 alone is in district B).
ALLOWED = {
    "admin": {"S1", "S2", "S3", "S4"},
    "staff_thcs": {"S3", "S4"},
    "officer_a": {"S1", "S3", "S4"},
    "officer_commune": {"S3"},
    "school_s1": {"S1"},
}
OUTSIDE_B = ("officer_a", "officer_commune", "school_s1")  # may not see anything of S2
ALL_CIDS = {s["citizen_id"] for s in full_tables()["students"]} | {
    s["citizen_id"] for s in full_tables()["staff"]
}


def _scope(name: str) -> Scope:
    kw = ROLES[name]
    return accounts.scope_for(
        accounts.User(
            username=name,
            role=kw["role"],
            units=kw.get("units"),
            levels=kw.get("levels"),
            school=kw.get("school"),
            disabled=False,
        )
    )


def _fill_metrics(con, sid) -> None:
    """The dashboard tests' fallback metrics, while the metrics catalogue is not there."""
    n = con.execute(
        "SELECT count(*) FROM metrics_school_level WHERE snapshot_id = $s", {"s": sid}
    ).fetchall()[0][0]
    if n:
        return
    path = ROOT / "tests" / "dashboard" / "province.py"
    if not path.exists():
        return
    spec = importlib.util.spec_from_file_location("_dash_province", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sql = getattr(mod, "_FALLBACK_METRICS", None)
    if sql:
        con.execute(sql, {"s": sid})


@pytest.fixture(scope="module")
def dbfile(tmp_path_factory):
    path = tmp_path_factory.mktemp("scope") / "soat.duckdb"
    con = store.connect(str(path))
    sid = build_full(con)
    _fill_metrics(con, sid)
    con.close()
    return str(path), sid


@pytest.fixture
def env(dbfile, monkeypatch):
    monkeypatch.setenv("SOAT_DB", dbfile[0])
    st.cache_data.clear()
    st.cache_resource.clear()
    yield dbfile[1]
    try:
        from dashboard import db

        db.close()
    except ImportError:
        pass
    st.cache_data.clear()
    st.cache_resource.clear()


# ---- values a function's parameters take ------------------------------------------------


def _arg_values(name: str, param: inspect.Parameter, sid: int, scope: Scope):
    from dashboard import query

    if name in ("snapshot_id", "to_id", "sid"):
        return [sid]
    if name == "from_id":
        return [None, sid]
    if name == "scope":
        return [scope]
    if name == "filters":
        return [query.Filters(), query.Filters(unit="79761"), query.Filters(level="TH")]
    if name == "school_code":
        return ["S2", "S1", None]
    if name in ("unit_code", "unit"):
        return ["79761", None]
    if name == "check_id":
        return [None, "student.id_format"]
    if name in ("page", "offset"):
        return [0]
    if param.default is not inspect.Parameter.empty:
        return [param.default]
    pytest.fail(f"test_scope_everywhere: no test value for parameter '{name}'")


def _calls(fn, sid, scope):
    sig = inspect.signature(fn)
    combos: list[dict] = [{}]
    for name, param in sig.parameters.items():
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        combos = [{**c, name: v} for c in combos for v in _arg_values(name, param, sid, scope)]
    return combos


def _flatten(result) -> tuple[str, set[str]]:
    """(text of every value, school codes in a school_code column)."""
    if isinstance(result, pl.DataFrame):
        schools = (
            set(result["school_code"].drop_nulls().to_list())
            if "school_code" in result.columns
            else set()
        )
        return repr(result.to_dicts()), schools
    return repr(result), set()


def _query_functions():
    from dashboard import query

    out = []
    for name, fn in inspect.getmembers(query, inspect.isfunction):
        if name.startswith("_") or fn.__module__ != query.__name__:
            continue
        if "scope" in inspect.signature(fn).parameters:
            out.append((name, fn))
    return out


def _export_frames():
    import soat.exports as ex

    out = []
    for m in pkgutil.iter_modules(ex.__path__):
        mod = importlib.import_module(f"soat.exports.{m.name}")
        fn = getattr(mod, "frame", None)
        if callable(fn) and "scope" in inspect.signature(fn).parameters:
            out.append((m.name, fn))
    return out


def _check(role: str, label: str, result, sees_unmasked: bool) -> str:
    text, schools = _flatten(result)
    assert schools <= ALLOWED[role], (
        f"{label}: {role} got schools {sorted(schools - ALLOWED[role])}"
    )
    if role in OUTSIDE_B:
        leaked = [m for m in B_MARKERS if m in text]
        assert not leaked, f"{label}: {role} saw district B values {leaked}"
    if not sees_unmasked:
        clear = [c for c in ALL_CIDS if c in text]
        assert not clear, f"{label}: {role} saw citizen IDs in clear {clear}"
    return text


@pytest.mark.parametrize("role", list(ROLES))
def test_every_query_function_is_scoped(env, role):
    sid, scope = env, _scope(role)
    funcs = _query_functions()
    assert funcs, "no query function found"
    seen = []
    for name, fn in funcs:
        for kw in _calls(fn, sid, scope):
            seen.append(_check(role, f"query.{name}({kw})", fn(**kw), scope.unmasked))
    if role == "admin":  # the test has teeth: the admin does see district B
        assert any("S2" in t for t in seen) and any("0793180022" in t for t in seen)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_export_frame_is_scoped(env, dbfile, role):
    frames = _export_frames()
    assert frames, "no soat.exports.*.frame found"
    con = store.connect(dbfile[0], read_only=True)
    try:
        sid, scope = dbfile[1], _scope(role)
        seen = []
        for name, fn in frames:
            params = inspect.signature(fn).parameters
            variants = [{}]
            if "unit" in params:
                variants.append({"unit": "79761"})
            if "school" in params:
                variants.append({"school": "S2"})
            for kw in variants:
                seen.append(
                    _check(
                        role,
                        f"exports.{name}.frame({kw})",
                        fn(con, sid, scope, **kw),
                        scope.unmasked,
                    )
                )
        if role == "admin":
            assert any("S2" in t for t in seen)
    finally:
        con.close()


def test_officer_asking_for_another_districts_school_by_code_gets_nothing(env):
    from dashboard import query

    scope = _scope("officer_a")
    for name, fn in _query_functions():
        params = inspect.signature(fn).parameters
        if "school_code" not in params:
            continue
        kw = {
            k: v[0]
            for k, v in (
                (n, _arg_values(n, p, env, scope))
                for n, p in params.items()
                if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            )
        }
        kw["school_code"] = "S2"
        res = fn(**kw)
        if isinstance(res, pl.DataFrame):
            assert res.height == 0, f"query.{name}"
        elif isinstance(res, int):
            assert res == 0, f"query.{name}"
    assert query.school_list(env, _scope("admin"), query.Filters()).height == 4


# ---- pages (AppTest through the real login form) ----------------------------------------


def _page_files() -> list[str]:
    pages = ROOT / "dashboard" / "pages"
    return sorted(p.name for p in pages.glob("*.py") if not p.name.startswith(("admin", "_")))


def _all_text(at) -> str:
    parts = []
    for node in at.main:  # every element of the main area and the sidebar
        parts.append(repr(getattr(node, "value", "")))
    for node in at.sidebar:
        parts.append(repr(getattr(node, "value", "")))
    parts += [
        repr(d.value.to_dict()) if hasattr(d.value, "to_dict") else repr(d.value)
        for d in at.dataframe
    ]
    parts += [repr(t.value) for t in at.table]
    parts += [repr(m.value) for m in at.metric]
    parts += [repr(s.options) for s in at.selectbox]
    parts += [repr(s.options) for s in at.multiselect]
    return "\n".join(parts)


@pytest.fixture
def app_users(sqlite_db):
    accounts.create_user("canbo_a", PW, "unit_officer", units=["79760"])
    accounts.create_user("quantri", PW, "province_admin")
    return sqlite_db


@pytest.mark.parametrize("page", _page_files())
def test_pages_show_nothing_outside_scope(env, app_users, page):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    at = login(at, "canbo_a", PW)
    assert not at.exception, at.exception
    at.switch_page(f"pages/{page}").run()
    assert not at.exception, at.exception
    text = _all_text(at)
    leaked = [m for m in B_MARKERS if m in text]
    assert not leaked, f"{page}: officer of district A saw {leaked}"
    assert not [c for c in ALL_CIDS if c in text], f"{page}: citizen ID in clear"


def test_admin_page_not_reachable_by_officer(env, app_users):
    from streamlit.testing.v1 import AppTest

    at = login(
        AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run(),
        "canbo_a",
        PW,
    )
    assert not at.exception, at.exception
    # hidden from the officer's menu; a link to one shows only its error
    at.switch_page("pages/admin_users.py").run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Trang này chỉ dành cho quản trị Sở"]
    assert "quantri" not in _all_text(at)
    # an admin gets them
    adm = login(
        AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run(),
        "quantri",
        PW,
    )
    adm.switch_page("pages/admin_users.py").run()
    assert not adm.exception, adm.exception
    assert "canbo_a" in _all_text(adm)


def test_dates_fixture_sane():
    assert dt.date(2024, 9, 30) < dt.date(2024, 10, 15)


def test_pages_do_show_district_b_to_the_admin(env, app_users):
    """The page test has teeth: the same pages, for an admin, do show school S2."""
    from streamlit.testing.v1 import AppTest

    assert _page_files(), "no dashboard page found"
    at = login(
        AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run(),
        "quantri",
        PW,
    )
    seen = []
    for page in _page_files():
        at.switch_page(f"pages/{page}").run()
        assert not at.exception, (page, at.exception)
        seen.append(_all_text(at))
    assert any("S2" in t or "Quận 3" in t for t in seen)
