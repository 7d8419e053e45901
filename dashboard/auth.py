"""Login for the dashboard.

    scope = require_login(pages)  # first thing in app.py: the login form until logged in
    logout_button()               # in the sidebar
    pages += admin_pages(scope)   # accounts, audit log, digests: hidden from non-admins

The session token is random, kept server-side in st.session_state (never in the URL or a
cookie); the database stores only its hash. It is validated against the database on every
rerun: an expired session, a disabled account or an unknown token goes back to the login
form. Reloading the browser tab starts a new Streamlit session, so the user logs in again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from soat import accounts, audit
from soat.scope import Scope

TOKEN_KEY = "_soat_session_token"
SCOPE_KEY = "soat_scope"
ENDED_KEY = "_soat_session_ended"
SESSION_ENDED = (
    "Phiên làm việc đã kết thúc (hết hạn, đã đăng xuất hoặc tài khoản không còn hoạt "
    "động). Hãy đăng nhập lại."
)
PAGES = Path(__file__).parent / "pages"


def current_scope() -> Scope | None:
    """The logged-in user's Scope (re-validated against the database), else None."""
    token = st.session_state.get(TOKEN_KEY)
    user = accounts.validate_session(token) if token else None
    if user is None:
        if token:
            st.session_state.pop(TOKEN_KEY, None)
            st.session_state[ENDED_KEY] = True  # said once, above the login form
        st.session_state.pop(SCOPE_KEY, None)
        return None
    scope = accounts.scope_for(user)
    st.session_state[SCOPE_KEY] = scope
    return scope


def _login_form() -> Scope | None:
    """The login form; on a successful login the form is taken down and the user's Scope
    returned, so the first page renders in this same run: an st.rerun() cost ≈ 0.15 s of
    the first page after a login here."""
    placeholder = st.empty()
    box = placeholder.container()
    box.title("Soát — Đăng nhập")
    if st.session_state.pop(ENDED_KEY, False):
        box.info(SESSION_ENDED)
    with box.form("soat_login", clear_on_submit=True):  # the password does not linger
        username = st.text_input("Tên đăng nhập", key="login_username")
        password = st.text_input("Mật khẩu", type="password", key="login_password")
        submitted = st.form_submit_button("Đăng nhập")
    with box:
        _prefetch_element_code()
    _open_database()
    accounts.warm_dummy_hash()  # the first unknown name costs what any failed login costs
    if not submitted:
        return None
    try:
        user = accounts.authenticate(username, password)
    except accounts.AuthError as exc:
        box.error(str(exc))
        return None
    except Exception:  # noqa: BLE001 - never show internals on the login page
        box.error("Không đăng nhập được: lỗi hệ thống, hãy báo quản trị")
        return None
    st.session_state[TOKEN_KEY] = accounts.create_session(user.username)
    placeholder.empty()
    return current_scope()


def _prefetch_element_code() -> None:
    """An empty chart, data grid, metric and static table in a 1-pixel box under the
    login form: the browser loads and compiles their code (Plotly's basic bundle, 1.2 MB,
    the data grid's ≈ 1 MB; Streamlit loads each element's code on its first use) while
    the user types, not after the login, when the first page needs them (measured on this
    machine's Chromium with Streamlit's full Plotly: about 1.7 s for it, 0.5 s for the
    grid, and Tổng quan's metrics and table came last without theirs). They hold no data.
    (The server's side is warmed when it starts: soat.commands.serve_app.)"""
    import polars as pl

    from dashboard import charts

    box = st.container(height=1, border=False)
    with box:
        charts.prefetch()
    box.dataframe(pl.DataFrame(), height=35)
    box.metric("prefetch", "", label_visibility="collapsed")
    box.table(pl.DataFrame())


def _open_database() -> None:
    """Open the dashboard's shared read-only DuckDB connection while the user types, so the
    first page after the login does not (0.04 s at 2 M students). Nothing is read; a
    database being written by a load, absent or unreadable, is left to the page, which
    says so."""
    from dashboard import db

    try:
        db.connection()
    except db.DatabaseBusy:
        pass
    except Exception as exc:  # noqa: BLE001 - a store condition: told after the login
        if db.problem(exc) is None:
            raise


def require_login(pages: Sequence[st.Page] = ()) -> Scope:
    """Return the logged-in user's Scope; otherwise render the login form and stop the run,
    so nothing below the call renders before a login.

    A run that stops at the login form still registers a navigation, hidden: `pages` (the
    app's pages, so that a link to one of them, e.g. a drill-down sent by e-mail, opens it
    after the login), or a login page alone. Without an st.navigation call in the run,
    Streamlit lists the files of dashboard/pages/ in the sidebar (and runs one directly
    when clicked, without app.py), and after a logout it keeps showing the user's previous
    navigation, admin pages included."""
    scope = current_scope()
    if scope is None:
        login = st.Page(_no_page, title="Đăng nhập", url_path="dang-nhap", default=True)
        st.navigation(list(pages) or [login], position="hidden")  # its page is not run
        scope = _login_form()
    if scope is not None:
        return scope
    st.stop()
    raise RuntimeError("unreachable")  # st.stop() raises; keeps type-checkers honest


def _no_page() -> None:
    """The login page of a logged-out run's navigation: the form is drawn by require_login."""


def require_admin() -> Scope:
    """For admin pages: a logged-in province admin, else an error and stop."""
    scope = require_login()
    if not accounts.is_admin(scope):
        st.error("Trang này chỉ dành cho quản trị Sở")
        from dashboard import state

        state.stop()
    return scope


def logout(scope: Scope | None = None) -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        user = accounts.validate_session(token)
        accounts.end_session(token)
        if user is not None:
            audit.record("logout", user.username)
    st.session_state.pop(SCOPE_KEY, None)
    st.session_state.pop(PERSONAL_SEEN_KEY, None)  # the next user's views are theirs


def logout_button() -> None:
    """A sidebar block naming the user and a 'Đăng xuất' button."""
    scope = st.session_state.get(SCOPE_KEY)
    with st.sidebar:
        if scope is not None:
            from dashboard.labels import md

            label = accounts.ROLE_LABELS.get(scope.role, scope.role)
            st.caption(f"Người dùng: **{md(scope.user)}** ({md(label)})")
        if st.button("Đăng xuất", key="soat_logout"):
            logout()
            st.rerun()


PERSONAL_SEEN_KEY = "_soat_personal_seen"


def note_personal_view(scope: Scope, what: str, frame=None, filters: dict | None = None) -> None:
    """Audit a page showing personal data in clear (`view_personal`). Only for unmasked
    scopes, only when the frame has a personal field (a `field` column naming one, a
    personal column, or a boolean `personal` column true on a row: rejected cells of a
    personal column), and once per (user, page, filters) per session so reruns do not
    flood the log: `filters` must hold everything that chose the rows (the sidebar's too),
    or a view of other rows would go unaudited."""
    if not getattr(scope, "unmasked", False) or frame is None:
        return
    from soat.scope import PERSONAL_FIELDS

    try:
        cols = list(frame.columns)
        personal = any(c in PERSONAL_FIELDS for c in cols)
        if not personal and "field" in cols and len(frame):
            personal = any(v in PERSONAL_FIELDS for v in frame["field"].to_list())
        if not personal and "personal" in cols and len(frame):
            personal = bool(frame["personal"].any())
        if not personal:
            return
        key = repr((scope.user, what, sorted((filters or {}).items(), key=str)))
        seen = st.session_state.setdefault(PERSONAL_SEEN_KEY, set())
        if key in seen:
            return
        seen.add(key)
        audit.log_personal_view(scope, what, filters, rows=len(frame))
    except Exception:  # noqa: BLE001 - auditing must not break the page
        pass


def admin_pages(scope: Scope | None) -> list:
    """The admin pages for st.navigation: in the menu of province admins, hidden for
    everyone else (a link to one opens it, and its require_admin says it is for admins;
    left out of the navigation, the link silently opened Tổng quan)."""
    if not accounts.is_admin(scope):
        return all_admin_pages(visibility="hidden")
    return all_admin_pages()


def all_admin_pages(visibility: str = "visible") -> list:
    """The admin pages, whoever asks: for the hidden navigation of the login form (each
    page checks require_admin itself)."""
    return [
        st.Page(
            PAGES / "admin_users.py",
            title="Tài khoản",
            icon=":material/group:",
            url_path="quan-tri-tai-khoan",
            visibility=visibility,
        ),
        st.Page(
            PAGES / "admin_audit.py",
            title="Nhật ký truy cập",
            icon=":material/history:",
            url_path="quan-tri-nhat-ky",
            visibility=visibility,
        ),
        st.Page(
            PAGES / "admin_notify.py",
            title="Thư nhắc",
            icon=":material/mail:",
            url_path="quan-tri-thu-nhac",
            visibility=visibility,
        ),
    ]
