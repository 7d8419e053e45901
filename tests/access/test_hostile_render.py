"""Issue 19, finding 3: values from data are shown as text on every page. A province whose
unit and school names, principal, deadline reference and snapshot name are Markdown or HTML
(`[bấm](http://…)`, `<b>…</b>`, `*…*`, `$…$`), and an account whose (old, unvalidated)
username is a Markdown link: every element Streamlit reads as Markdown, and every text of
every Plotly figure, must show them literally."""

from __future__ import annotations

import contextlib
import html
import re
from pathlib import Path

import pytest
import streamlit as st
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from soat import accounts, appdb, store
from soat import testing as T
from tests.plots import plots

from . import hostile

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
HOSTILE_USER = "[bấm](http://evil.example/user)"
PW = "Bi-mat-2024!"
MD = MarkdownIt("commonmark").enable(["strikethrough", "table"])


@contextlib.contextmanager
def _served_store(path, sqlite_db, monkeypatch):
    """The dashboard reading `path`, caches clear, and HOSTILE_USER: an account from
    before usernames were validated, created directly in the database."""
    monkeypatch.setenv("SOAT_DB", str(path))
    st.cache_data.clear()
    st.cache_resource.clear()
    with sqlite_db.begin() as conn:
        conn.execute(
            appdb.users.insert().values(
                username=HOSTILE_USER,
                password_hash=accounts.hash_password(PW),
                role="province_admin",
                disabled=False,
                failed_attempts=0,
                created_at=appdb.utcnow(),
            )
        )
    try:
        yield
    finally:
        from dashboard import db

        db.close()
        st.cache_data.clear()
        st.cache_resource.clear()


@pytest.fixture
def env(tmp_path, sqlite_db, monkeypatch):
    path = tmp_path / "soat.duckdb"
    con = store.connect(str(path))
    hostile.build(con, snapshots=2)
    con.close()
    with _served_store(path, sqlite_db, monkeypatch):
        accounts.create_user("nguoi_khac", PW, "unit_officer", units=["79761"])
        yield


def _app() -> AppTest:
    from dashboard import auth

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[auth.TOKEN_KEY] = accounts.create_session(HOSTILE_USER)
    return at


def _open(page: str, query: dict | None = None) -> AppTest:
    """The page, opened as a link with `query` would open it (the entry point runs first:
    it registers the pages)."""
    at = _app()
    at.run()
    at.switch_page(page)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ---- what the browser would show --------------------------------------------------------


def markdown_sources(at: AppTest) -> list[str]:
    """Every string of the run that Streamlit renders as Markdown."""
    out: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "success",
                 "warning", "error", "toast"):  # fmt: skip
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in ("button", "download_button", "page_link", "expander", "selectbox",
                 "multiselect", "text_input", "number_input", "metric", "status", "tabs"):  # fmt: skip
        for e in getattr(at, kind):
            label = getattr(e, "label", None) or getattr(getattr(e, "proto", None), "label", "")
            out.append(str(label))
            helptext = getattr(e, "help", None)
            if helptext:
                out.append(str(helptext))
    for m in at.metric:
        out.append(str(m.value))
    for t in at.table:  # st.table: every cell is Markdown
        frame = t.value
        out += [str(v) for col in frame.columns for v in frame[col].tolist()]
    return out


def _flatten(tokens):
    for t in tokens:
        yield t
        if t.children:
            yield from _flatten(t.children)


def rendered_text(sources: list[str]) -> str:
    """The text a reader sees, after asserting no value turned into markup."""
    seen = []
    for s in sources:
        tokens = list(_flatten(MD.parse(s)))
        markup = [
            t.type
            for t in tokens
            if t.type in ("html_inline", "html_block", "em_open", "image")
            or (t.type == "link_open" and "evil.example" in str(t.attrs.get("href", "")))
        ]
        assert not markup, (markup, s)
        assert not re.search(r"(?<!\\)\$", s), f"math: {s!r}"  # $…$ is a formula
        assert "http://evil" not in s, f"autolink: {s!r}"  # GFM links a bare address
        seen.append(
            "".join(t.content for t in tokens if t.type in ("text", "code_inline"))
            + "".join(" " for t in tokens if t.type == "softbreak")
        )
    return "\n".join(seen)


def plotly_texts(at: AppTest) -> list[str]:
    """Every string in the run's Plotly figures (labels, categories, hover data)."""
    out: list[str] = []

    def walk(x):
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for chart in plots(at):
        walk(chart.spec)
    return out


def plotly_shown(at: AppTest) -> str:
    """What Plotly draws: no raw tag or `$` from data, entities decoded."""
    texts = plotly_texts(at)
    for t in texts:
        for bad in ("<b>trường", "<b>đơn vị", "$trường$", "$đơn vị$", "<a "):
            assert bad not in t, f"Plotly would draw markup: {t!r}"
    return "\n".join(html.unescape(t) for t in texts)


def check(at: AppTest, expect_text=(), expect_plot=(), sidebar=True, caption=True) -> None:
    text = rendered_text(markdown_sources(at))
    if sidebar:
        assert HOSTILE_USER in text  # the sidebar's user line
    if caption:
        assert hostile.LINK_S in text  # the snapshot's name, in the filter caption
    for h in expect_text:
        assert h in text, h
    shown = plotly_shown(at)
    for h in expect_plot:
        assert h in shown, h


# ---- the pages --------------------------------------------------------------------------


def test_overview(env):
    at = _open("pages/tong_quan.py")
    check(at, expect_text=[hostile.REFERENCE], expect_plot=hostile.MARKUP_UNITS.values())


def test_late_page_chart_and_school_link(env):
    at = _open("pages/tien_do.py")
    check(at, expect_plot=hostile.MARKUP_UNITS.values())
    frame = at.dataframe[0].value
    row = list(frame["Mã trường"]).index("S1")
    at.session_state[at.dataframe[0].key] = {
        "selection": {"rows": [row], "columns": [], "cells": []}
    }
    at.run()
    assert not at.exception
    check(at, expect_text=[f"Mở trang trường {hostile.LINK_S}"])


@pytest.mark.parametrize("school", ["S1", "S2", "S3", "S4"])
def test_drill_down_breadcrumbs(env, school):
    unit = hostile.SCHOOL_UNIT[school]
    at = _open("pages/sai_lech.py", {"d_unit": unit, "d_school": school})
    check(at, expect_text=[hostile.MARKUP_UNITS[unit], hostile.MARKUP_SCHOOLS[school]])


def test_drill_down_charts_and_a_hostile_check_in_the_link(env):
    at = _open("pages/sai_lech.py")
    check(at, expect_plot=hostile.MARKUP_UNITS.values())
    at = _open("pages/sai_lech.py", {"d_unit": "79761"})
    check(at, expect_plot=[hostile.MARKUP_SCHOOLS["S2"]])
    evil = "[xem](http://evil.example/c)"
    at = _open("pages/sai_lech.py", {"d_unit": "79762", "d_school": "S3", "d_check": evil})
    # a d_check naming no check of the catalogue is ignored: the school's checks, and the
    # hostile text nowhere
    check(at, expect_text=[hostile.MARKUP_SCHOOLS["S3"]])
    assert not any("evil.example/c" in s for s in markdown_sources(at))


@pytest.mark.parametrize("school", ["S1", "S2", "S3", "S4"])
def test_school_page(env, school):
    at = _open("pages/truong_hoc.py", {"school": school})
    unit = hostile.SCHOOL_UNIT[school]
    expect = [hostile.MARKUP_SCHOOLS[school], hostile.MARKUP_UNITS[unit]]
    if school == "S2":
        expect.append(hostile.LINK_S)  # its principal
    # (AppTest keeps no sidebar for this page's run: the user line is checked on the others)
    check(at, expect_text=expect, sidebar=False)


@pytest.mark.parametrize("page", ["pages/xu_huong.py", "pages/du_lieu.py"])
def test_other_pages(env, page):
    check(_open(page), caption=False)  # their captions leave the snapshot's name out


def test_accounts_page_messages(env):
    at = _app()
    at.run()
    at.switch_page("pages/admin_users.py").run()
    assert not at.exception
    at.selectbox(key="admin_target").set_value("nguoi_khac")
    next(b for b in at.button if b.label == "Vô hiệu hoá").click().run()
    assert not at.exception
    text = rendered_text(markdown_sources(at))
    assert "Đã vô hiệu hoá nguoi_khac" in text
    # a name typed into the form is quoted back escaped ('_x_' is italics in Markdown)
    at.text_input(key="admin_new_username").input("_nghieng_")
    at.text_input(key="admin_new_password").input("mot-mat-khau-dai-hon")
    at.selectbox(key="admin_new_role").set_value("province_staff")
    next(b for b in at.button if b.label == "Tạo tài khoản").click().run()
    assert not at.exception
    assert "Đã tạo tài khoản _nghieng_" in rendered_text(markdown_sources(at))
    at.text_input(key="admin_new_username").input("_NGHIENG_")  # the same name, other case
    at.text_input(key="admin_new_password").input("mot-mat-khau-dai-hon")
    next(b for b in at.button if b.label == "Tạo tài khoản").click().run()
    assert at.error
    assert "tài khoản '_nghieng_' đã tồn tại" in rendered_text(markdown_sources(at))


@pytest.fixture
def changed_env(tmp_path, sqlite_db, monkeypatch):
    """The hostile province twice, the first snapshot with one more bad citizen ID in S1
    (unit LINK_U) and in S2 (unit "<b>đơn vị</b>"): the second resolves them, so Xu hướng
    draws its per-unit chart and its caption names the unit chosen; the second snapshot's
    name is LINK_S."""
    path = tmp_path / "soat.duckdb"
    con = store.connect(str(path))
    first = hostile.tables()
    for school in ("S1", "S2"):
        extra = dict(next(s for s in first["students"] if s["school_code"] == school))
        extra.update(student_code=f"HS_EXTRA_{school}", citizen_id="0793180099")
        first["students"].append(extra)
    for tables in (first, hostile.tables()):
        sid = T.run(con, tables, name=hostile.LINK_S)
        con.execute("UPDATE snapshots SET checked_at = now() WHERE snapshot_id = $s", {"s": sid})
    con.close()
    with _served_store(path, sqlite_db, monkeypatch):
        yield


def _open_link(page: str, query: dict) -> AppTest:
    """The page opened from a link with `query`: the sidebar reads the URL on the
    session's first run."""
    at = _app()
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_trends_unit_caption_and_chart(changed_env):
    at = _open_link("pages/xu_huong.py", {"unit": "79760"})
    # the caption "… so với bản chụp #1 (…), <unit>." and the per-unit chart's categories
    check(at, expect_text=[hostile.LINK_U], expect_plot=[hostile.LINK_U], caption=False)
    assert any("evil.example/u" in t for t in plotly_texts(at))
    units = [hostile.LINK_U, hostile.MARKUP_UNITS["79761"]]
    check(_open("pages/xu_huong.py"), expect_plot=units, caption=False)


def test_older_snapshot_names_the_newer_one_as_text(changed_env):
    at = _open_link("pages/tong_quan.py", {"snapshot": "1"})
    sources = markdown_sources(at)
    newer = [s for s in sources if s.startswith("Có bản chụp mới hơn")]
    assert newer, sources
    assert hostile.LINK_S in rendered_text(newer)
