"""Soát dashboard: `streamlit run dashboard/app.py` (or `soat serve`).

Login first (dashboard.auth.require_login renders the form and stops the run until a user
logs in), then the navigation, the sidebar filters (dashboard.state) and the page.
Pages render; dashboard.query answers.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project root.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.runtime.scriptrunner import RerunException  # noqa: E402

from dashboard import auth, db, labels, state  # noqa: E402

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"

st.set_page_config(
    page_title="Soát – rà soát dữ liệu ngành giáo dục", page_icon="📋", layout="wide"
)
# Streamlit writes "Press Enter to submit form" / "Press Enter to apply" under a focused text
# field, in English; Enter still submits, the hint is hidden.
st.html("<style>[data-testid='InputInstructions'] {display: none;}</style>")

REVIEW_PAGES = [
    # No page's url_path may be its file's name: Streamlit's legacy pages/ mode gives that
    # path the same hash, and a request for it (or AppTest's switch_page) then runs the file
    # alone, without app.py: no sidebar, no session check. So Trường (/truong, the address
    # e-mails link to) is pages/truong_hoc.py, and the admin pages' paths are not
    # admin_users & co. (tests/dashboard/test_pages.py holds every page to this).
    # The default page is served at / whatever its url_path; that path only names it inside
    # Streamlit (its hash). Not "tong-quan" (the hidden page below answers that path) nor
    # "tong_quan" (what Streamlit would infer from the file name, the same hash as its legacy
    # pages/ mode gives pages/tong_quan.py, which then runs that file without app.py).
    st.Page(
        PAGES / "tong_quan.py",
        title="Tổng quan",
        icon=":material/dashboard:",
        url_path="trang-chu",
        default=True,
    ),
    st.Page(
        PAGES / "tien_do.py",
        title="Tiến độ nộp",
        icon=":material/schedule:",
        url_path="tien-do-nop",
    ),
    st.Page(
        PAGES / "sai_lech.py",
        title="Sai lệch",
        icon=":material/troubleshoot:",
        url_path="sai-lech",
    ),
    st.Page(PAGES / "truong_hoc.py", title="Trường", icon=":material/school:", url_path="truong"),
    st.Page(
        PAGES / "xu_huong.py",
        title="Xu hướng",
        icon=":material/trending_up:",
        url_path="xu-huong",
    ),
    st.Page(PAGES / "du_lieu.py", title="Dữ liệu", icon=":material/database:", url_path="du-lieu"),
]


def _moved(target: st.Page, old: str) -> st.Page:
    """A hidden page at an address that names `target` without being its own: Streamlit
    answers any path that is no page's with an English "Page not found" dialog (over the
    login form too), and it serves the default page at / only. On arrival it moves to
    `target` with the link's query parameters; reached with the browser's Back button, it
    only says where the page is (moving on again would keep the user from going further
    back)."""

    def moved() -> None:
        if state._back_or_forward():
            st.info(f"Địa chỉ /{old} dẫn tới trang {target.title}.")
            st.page_link(target, label=f"Mở trang {target.title}", icon=":material/east:")
            return
        st.switch_page(target, query_params=st.query_params.to_dict())

    return st.Page(moved, title=target.title, url_path=old, visibility="hidden")


def _aliases(admin_pages: list) -> dict:
    """{hidden page: the page it moves to}: /tong-quan, the overview's own name
    (docs/dashboard.md), and the pages' file names, their addresses before each page had
    its own url_path (old links and bookmarks: /sai_lech, /truong_hoc, /admin_users …). A
    callable page may have its file's name as url_path (the file itself must not: see
    REVIEW_PAGES). Any other unknown path still opens Streamlit's dialog."""
    files = ["tong_quan", "tien_do", "sai_lech", "truong_hoc", "xu_huong", "du_lieu"]
    files += ["admin_users", "admin_audit", "admin_notify"]
    targets = [(REVIEW_PAGES[0], "tong-quan")]
    targets += zip([*REVIEW_PAGES, *admin_pages], files, strict=True)
    return {_moved(t, old): t for t, old in targets}


# until a login, the form (and every page registered, hidden: a link to one survives it)
all_admin = auth.all_admin_pages()
scope = auth.require_login([*REVIEW_PAGES, *all_admin, *_aliases(all_admin)])

admin = auth.admin_pages(scope)  # hidden from non-admins: a link says they are for admins
aliases = _aliases(admin)
pages = {"Rà soát": [*REVIEW_PAGES, *aliases]}
if all(p.visibility == "hidden" for p in admin):
    pages["Rà soát"] += admin
else:
    pages["Quản trị"] = admin
MOVED_TO = {a.url_path: t.url_path for a, t in aliases.items()}

# Query parameters each page keeps in the URL besides the sidebar filters; others are
# dropped on arrival (a drill-down path does not follow the user to another page).
PAGE_PARAMS = {
    "sai-lech": ("d_unit", "d_school", "d_check", "d_page", "d_new"),
    "truong": ("school", "new"),
}

page = st.navigation(pages)


def _store_problem(exc: Exception) -> None:
    """A condition of the store (dashboard.db.problem) told in Vietnamese, never a
    traceback; anything else is raised as it is."""
    told = db.problem(exc)
    if told is None:
        raise exc
    if not auth.accounts.is_admin(scope):  # the server's paths and commands: admins only
        st.error("Không đọc được kho dữ liệu. Hãy báo quản trị Sở.")
        return
    st.error(
        labels.md(f"Không đọc được kho dữ liệu: {told}") + "\n\nHãy báo quản trị viên hệ thống."
    )


# The address is written once, when the run ends (state.write_url): one history entry per
# step, so the browser's Back button goes back one step.
own = PAGE_PARAMS.get(MOVED_TO.get(page.url_path, page.url_path), ())
state.begin_url(set(state.FILTER_PARAMS) | set(own))
try:
    try:
        state.sidebar(scope)
    except db.DatabaseBusy:
        auth.logout_button()
        st.warning(
            "Cơ sở dữ liệu đang được một tiến trình khác ghi (ví dụ lệnh `soat load`). "
            "Hãy thử lại sau ít phút."
        )
        state.stop()
    except Exception as exc:  # noqa: BLE001 - a store condition is told; a bug is re-raised
        auth.logout_button()
        _store_problem(exc)
        state.stop()
    auth.logout_button()
    try:
        page.run()
    except Exception as exc:  # noqa: BLE001 - as above
        _store_problem(exc)
except RerunException:
    raise  # st.rerun(), st.switch_page(): the next run writes the address
else:
    state.write_url()  # a page that stops writes it first (state.stop)
