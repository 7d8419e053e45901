"""Upload files and load them as a new snapshot, in this process, with the CLI's loader.

The uploaded files are streamed to <db folder>/uploads/<timestamp>/ (git-ignored) within
the size limit `$SOAT_MAX_UPLOAD_MB` (soat.uploads), and deleted after the load, whether
it succeeded or not, unless the admin ticks "keep" (docs/access.md: retention). One
workbook whose name is not a table of the contract is loaded as a workbook (one sheet per
table), anything else as a folder (one file per table), exactly as `soat load` would.
The load writes a new snapshot file and publishes it (soat.snapshot_store), as `soat load`
does: other sessions go on reading meanwhile and see the new snapshot on their next run.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import streamlit as st

from dashboard import db, labels
from soat import audit, uploads
from soat.errors import SoatError, known_condition

PENDING_SNAPSHOT = "f_snapshot_pending"
SUFFIXES = ["xlsx", "xlsm", "csv", "tsv", "txt"]


def uploads_root() -> Path:
    return Path(db.path()).resolve().parent / "uploads"


def save(files: list, root: Path | None = None) -> str:
    """Stream the uploaded files to a new folder (soat.uploads.save: size-checked, 1 MB at a
    time); return what load_source should read (the folder, or its one workbook)."""
    from loaders.contract import table_for_name

    folder = uploads.save(files, root or uploads_root())
    paths = [folder / uploads.safe_name(f.name) for f in files]
    if (
        len(paths) == 1
        and paths[0].suffix.lower() in (".xlsx", ".xlsm")
        and table_for_name(paths[0].stem, pieces=True) is None  # not one school's file
    ):
        return str(paths[0])
    return str(folder)


def load(
    source: str,
    year: str | None,
    as_of: dt.date | None,
    name: str | None,
    on_step=None,
    on_check=None,
) -> tuple[int, dict, int, int]:
    """Load `source` into a new snapshot, run the catalogue and publish it. Returns
    (snapshot_id, rows per table, rejected rows, findings). Another load running (say the
    weekly `soat load`) is waited for, with a message through `on_step`."""
    from loaders.load import load_source
    from soat.engine import discover, run_checks

    checks = discover()
    done = [0]

    def tick(check_id: str) -> None:
        done[0] += 1
        if on_check:
            on_check(check_id, done[0], len(checks))

    with db.store().writing(on_wait=on_step) as writer, writer.draft() as draft:
        sid = draft.snapshot_id
        res = load_source(
            draft.con,
            source,
            year=year,
            as_of=as_of,
            name=name,
            progress=on_step,
            snapshot_id=sid,
            history=draft.history,
            draft=True,
        )
        results = run_checks(draft.con, sid, checks, progress=tick, history=draft.history)
        draft.publish()
    return sid, res.rows, res.rejected, sum(r.findings for r in results)


def folder_of(source: str) -> Path:
    p = Path(source)
    return p if p.is_dir() else p.parent


def form(scope) -> None:
    limit = uploads.max_upload_mb()
    with st.form("upload_form", clear_on_submit=False):
        files = st.file_uploader(
            "Tệp dữ liệu: mỗi bảng một tệp .xlsx/.csv (truong.xlsx, hoc_sinh.csv …) "
            "hoặc một workbook nhiều sheet",
            # no `type=`: Streamlit's own refusal of another kind of file is English text in
            # the browser; the kinds are checked below, in Vietnamese
            accept_multiple_files=True,
            key="upload_files",
            max_upload_size=limit,
            help=f"Tối đa {limit} MB mỗi lần tải lên; dữ liệu lớn hơn: nạp bằng `soat load`.",
        )
        c1, c2, c3 = st.columns(3)
        name = c1.text_input(
            "Tên bản chụp", key="upload_name", placeholder="ví dụ: Đầu năm 2024-2025"
        )
        year = c2.text_input("Năm học", key="upload_year", placeholder="2024-2025 (tự nhận)")
        as_of = c3.date_input(
            "Ngày số liệu",
            value=None,
            key="upload_as_of",
            format="DD/MM/YYYY",
            help="Mặc định: lần đẩy dữ liệu mới nhất",
        )
        keep = st.checkbox(
            "Giữ lại tệp đã tải lên trên máy chủ",
            value=False,
            key="upload_keep",
            help="Mặc định các tệp (có dữ liệu cá nhân) bị xoá ngay sau khi nạp. Tệp giữ lại "
            "nằm trong thư mục uploads/ cạnh cơ sở dữ liệu cho đến khi quản trị xoá.",
        )
        submitted = st.form_submit_button("Nạp dữ liệu", type="primary")
    if not submitted:
        return
    if not files:
        st.warning("Hãy chọn ít nhất một tệp.")
        return
    other = [f.name for f in files if Path(f.name).suffix.lower().lstrip(".") not in SUFFIXES]
    if other:
        st.error(
            labels.md(
                f"Không nạp được tệp {', '.join(other)}: chỉ nhận tệp "
                f"{', '.join('.' + s for s in SUFFIXES)} (Excel hoặc CSV); hãy mở tệp bằng Excel "
                "và lưu lại dạng .xlsx hoặc CSV UTF-8."
            )
        )
        return
    year = (year or "").strip() or None
    if year and not re.fullmatch(r"\d{4}-\d{4}", year):
        st.error("Năm học phải có dạng 2024-2025.")
        return
    root = uploads_root()
    uploads.sweep(root)  # folders a crash left behind, a day old
    try:
        source = save(files, root)
    except SoatError as exc:
        st.error(labels.md(exc))
        return
    except OSError as exc:  # a full disk, no permission: told, never a traceback
        known = known_condition(exc)
        st.error(labels.md(f"Không lưu được tệp tải lên: {known or type(exc).__name__}"))
        return
    try:
        _load(scope, source, year, as_of, name, keep)
    finally:
        if keep:
            uploads.keep(folder_of(source))
        else:
            uploads.discard(folder_of(source))


def _load(scope, source: str, year, as_of, name, keep: bool) -> None:
    bar = st.progress(0.0, text="Chuẩn bị…")
    with st.status("Đang nạp dữ liệu…", expanded=True) as status:

        def step(msg: str) -> None:
            status.write(labels.md(msg))  # names files and sheets: escaped

        def check(check_id: str, done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Kiểm tra {done}/{total}: {check_id}")

        try:
            sid, rows, rejected, findings = load(source, year, as_of, name or None, step, check)
        except SoatError as exc:
            bar.empty()  # no "Chuẩn bị…" left standing under the error
            status.update(label="Không nạp được dữ liệu", state="error")
            # the server's upload folder means nothing to the officer: "các tệp tải lên"
            text = str(exc).replace(str(folder_of(source)), "các tệp tải lên")
            st.error(labels.md(text))
            return
        except Exception as exc:  # noqa: BLE001 - one line for the user, no traceback
            bar.empty()
            status.update(label="Không nạp được dữ liệu", state="error")
            known = known_condition(exc)
            st.error(known or labels.md(f"Lỗi không mong đợi: {type(exc).__name__}: {exc}"))
            return
        status.update(label=f"Đã nạp bản chụp #{sid}", state="complete", expanded=False)
    bar.progress(1.0, text="Xong")
    try:
        audit.record(
            "upload", scope, {"snapshot_id": sid, "source": source, "rows": rows, "kept": keep}
        )
    except Exception:  # noqa: BLE001 - the audit log must not undo a committed load
        pass
    st.success(
        f"Đã nạp bản chụp #{sid}: "
        + ", ".join(f"{labels.table_name(t)} {labels.number(n)}" for t, n in rows.items())
        + f"; {labels.number(rejected)} dòng bị loại; {labels.number(findings)} phát hiện."
    )
    st.session_state[PENDING_SNAPSHOT] = sid  # the sidebar selects it on the next run
    if st.button("Xem bản chụp mới", key="upload_view"):
        st.rerun()
