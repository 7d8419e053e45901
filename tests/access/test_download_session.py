"""Issue 19, finding 2: a download needs a live session when its file is built and when the
file is served; Streamlit's /media address of a generated file answers at most twice, for a
short time, and never after the session ended. Finding 6: every download is audited with
its row count and scope (the school of the Trường page's download)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard import downloads
from soat import accounts, audit, store

from .fixtures import build

PW = "Bi-mat-2024!"
APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture
def env(sqlite_db, tmp_path, monkeypatch):
    path = tmp_path / "soat.duckdb"
    con = store.connect(str(path))
    build(con)
    con.close()
    monkeypatch.setenv("SOAT_DB", str(path))
    monkeypatch.setattr(downloads, "REFUSED_DELAY", 0)
    st.cache_data.clear()
    st.cache_resource.clear()
    accounts.create_user("canbo", PW, "unit_officer", units=["79760"])
    accounts.create_user("quantri", PW, "province_admin")
    yield
    from dashboard import db

    db.close()


def _page(username: str, page: str, query: dict | None = None) -> tuple[AppTest, str]:
    from dashboard import auth

    at = AppTest.from_file(APP, default_timeout=60)
    token = accounts.create_session(username)
    at.session_state[auth.TOKEN_KEY] = token
    at.run()
    at.switch_page(page)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at, token


def test_download_buttons_are_deferred_and_rerun_the_page(env):
    at, _ = _page("canbo", "pages/tien_do.py")
    buttons = at.get("download_button")
    assert len(buttons) == 5  # late list xlsx/csv, the reminder letter, follow-up csv/xlsx
    for b in buttons:
        assert b.proto.deferred_file_id  # built when clicked, not when the page is drawn
        assert not b.proto.url  # no /media file exists before a click
        assert not b.proto.ignore_rerun  # a click reruns: an ended session shows the login


def test_a_user_disabled_mid_session_gets_no_file(env, captured_downloads):
    _page("canbo", "pages/tien_do.py")
    build_late = captured_downloads["late_dl_csv"]
    build_followups = captured_downloads["followup_dl_late_csv"]
    assert build_late().startswith(b"\xef\xbb\xbf")  # the session is live: a file
    exports = len(audit.read(action="export"))
    accounts.disable_user("canbo", by="quantri")  # `soat users disable canbo`
    for build_file in (build_late, build_followups):
        with pytest.raises(downloads.DownloadRefused):
            build_file()
    assert len(audit.read(action="export")) == exports  # nothing exported for the disabled user
    refused = audit.read(user="canbo", action="export_refused")
    assert len(refused) == 2 and refused[0]["detail"]["reason"] == "session_ended_before_build"


def test_an_expired_or_ended_session_gets_no_file(env, captured_downloads):
    at, token = _page("canbo", "pages/tien_do.py")
    build_late = captured_downloads["late_dl_xlsx"]
    accounts.end_session(token)  # logged out in another tab, or expired and cleaned up
    with pytest.raises(downloads.DownloadRefused):
        build_late()
    # the page itself goes back to the login form on its next run
    at.run()
    assert any("Phiên làm việc đã kết thúc" in i.value for i in at.info)
    assert not at.get("download_button")


def test_expired_session_by_the_clock(env):
    from soat.scope import Scope

    token = accounts.create_session("canbo", hours=-1)  # already expired
    scope = Scope(units=("79760",), user="canbo", role="unit_officer")
    build_file = downloads.guarded(lambda: (b"x", 1), scope, token, "late", "csv", {})
    with pytest.raises(downloads.DownloadRefused):
        build_file()


def _served_file(username: str, make=lambda: (b"du lieu ca nhan", 1)):
    """A download built and handed to Streamlit's own media manager as a click does;
    returns (storage, file name in the /media URL, token)."""
    from soat.scope import Scope

    storage = MemoryMediaFileStorage("/media")
    mgr = MediaFileManager(storage)
    storage.__class__ = downloads.GuardedMediaStorage
    token = accounts.create_session(username)
    scope = Scope(units=("79760",), user=username, role="unit_officer")
    file_id = mgr.add_deferred(
        downloads.guarded(make, scope, token, "late", "csv", {}),
        "text/csv",
        "coords",
        file_name="x.csv",
    )
    url = mgr.execute_deferred(file_id)  # the browser's click
    return storage, os.path.basename(url), token


def test_a_built_file_is_served_twice_at_most(env):
    storage, name, _ = _served_file("canbo")
    assert storage.get_file(name).content == b"du lieu ca nhan"  # the button checks the URL
    assert storage.get_file(name).content == b"du lieu ca nhan"  # the browser saves it
    with pytest.raises(MediaFileStorageError):
        storage.get_file(name)  # anyone else, later: 404


def test_a_built_file_is_not_served_after_the_session_ends(env):
    storage, name, token = _served_file("canbo")
    accounts.disable_user("canbo", by="quantri")
    with pytest.raises(MediaFileStorageError):
        storage.get_file(name)
    with pytest.raises(MediaFileStorageError):
        storage.get_file(name)  # and it is gone


def test_a_built_file_expires_unserved(env, monkeypatch):
    monkeypatch.setattr(downloads, "FILE_TTL", 0.2)
    storage, name, _ = _served_file("canbo")
    import time

    time.sleep(0.5)
    with pytest.raises(MediaFileStorageError):
        storage.get_file(name)


def test_other_media_is_served_as_before(env):
    storage = MemoryMediaFileStorage("/media")
    storage.__class__ = downloads.GuardedMediaStorage
    from streamlit.runtime.media_file_storage import MediaFileKind

    fid = storage.load_and_get_id(b"png", "image/png", MediaFileKind.MEDIA)
    for _ in range(3):
        assert storage.get_file(fid + ".png").content == b"png"


def test_the_guard_is_installed_in_the_running_app(env):
    """In a run (AppTest's runtime here; the server's in production) the media storage is
    the guarded one once a download button has been drawn."""
    _page("canbo", "pages/tien_do.py")
    from streamlit import runtime

    # AppTest restores its mock runtime after the run: install into a fresh one the same way
    mgr = MediaFileManager(MemoryMediaFileStorage("/media"))

    class _Runtime:
        media_file_mgr = mgr

    original = runtime.Runtime._instance
    runtime.Runtime._instance = _Runtime()
    try:
        assert downloads.install_guard()
        assert isinstance(mgr._storage, downloads.GuardedMediaStorage)
        assert downloads.install_guard()  # once
    finally:
        runtime.Runtime._instance = original


def test_school_page_download_is_audited_with_its_school_and_rows(env, captured_downloads):
    _page("quantri", "pages/truong_hoc.py", {"school": "S4"})
    data = captured_downloads["school_findings_csv"]()
    rows = data.decode("utf-8-sig").strip().splitlines()
    ev = audit.read(user="quantri", action="export")[0]
    assert ev["rows"] == len(rows) - 1 > 0
    assert ev["detail"]["kind"] == "findings" and ev["detail"]["format"] == "csv"
    assert ev["detail"]["scope"] == {"role": "province_admin", "school": "S4"}
    assert ev["detail"]["filters"]["snapshot"] == 1
    assert ev["detail"]["unmasked"] is True


def test_late_download_audit_names_the_officer_scope_and_filters(env, captured_downloads):
    at, _ = _page("canbo", "pages/tien_do.py")
    at.selectbox(key="f_level").select("TH").run()
    data = captured_downloads["late_dl_xlsx"]()
    assert data[:2] == b"PK"
    ev = audit.read(user="canbo", action="export")[0]
    assert ev["detail"]["scope"] == {"role": "unit_officer", "units": ["79760"]}
    assert ev["detail"]["filters"]["level"] == "TH" and ev["rows"] > 0
