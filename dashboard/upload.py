"""Upload files and load them as a new snapshot, in this process, with the CLI's loader.

The uploaded files are saved under <db folder>/uploads/<timestamp>/ (git-ignored); one
workbook whose name is not a table of the contract is loaded as a workbook (one sheet per
table), anything else as a folder (one file per table), exactly as `soat load` would.
The load needs the database writable: dashboard.db.write_connection() closes the shared
read-only connection, and clears every cache afterwards.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import streamlit as st

from dashboard import db, labels
from soat import audit
from soat.errors import SoatError

PENDING_SNAPSHOT = "f_snapshot_pending"
SUFFIXES = ["xlsx", "xlsm", "csv", "tsv", "txt"]


def _safe_name(name: str) -> str:
    name = Path(name).name
    return re.sub(r"[^\w.\- ]", "_", name, flags=re.UNICODE) or "file"


def save(files: list, root: Path | None = None) -> str:
    """Write the uploaded files to a new folder; return what load_source should read."""
    from loaders.contract import table_for_name

    root = root or Path(db.path()).resolve().parent / "uploads"
    folder = root / dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in files:
        p = folder / _safe_name(f.name)
        p.write_bytes(f.getvalue())
        paths.append(p)
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
    """Load `source` into a new snapshot and run the catalogue. Returns
    (snapshot_id, rows per table, rejected rows, findings)."""
    from loaders.load import load_source
    from soat.engine import discover, run_checks

    checks = discover()
    with db.write_connection() as con:
        res = load_source(con, source, year=year, as_of=as_of, name=name, progress=on_step)
        done = [0]

        def tick(check_id: str) -> None:
            done[0] += 1
            if on_check:
                on_check(check_id, done[0], len(checks))

        results = run_checks(con, res.snapshot_id, checks, progress=tick)
    return res.snapshot_id, res.rows, res.rejected, sum(r.findings for r in results)


def form(scope) -> None:
    with st.form("upload_form", clear_on_submit=False):
        files = st.file_uploader(
            "Tệp dữ liệu: mỗi bảng một tệp .xlsx/.csv (truong.xlsx, hoc_sinh.csv …) "
            "hoặc một workbook nhiều sheet",
            type=SUFFIXES,
            accept_multiple_files=True,
            key="upload_files",
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
        submitted = st.form_submit_button("Nạp dữ liệu", type="primary")
    if not submitted:
        return
    if not files:
        st.warning("Hãy chọn ít nhất một tệp.")
        return
    year = (year or "").strip() or None
    if year and not re.fullmatch(r"\d{4}-\d{4}", year):
        st.error("Năm học phải có dạng 2024-2025.")
        return
    source = save(files)
    bar = st.progress(0.0, text="Chuẩn bị…")
    with st.status("Đang nạp dữ liệu…", expanded=True) as status:

        def step(msg: str) -> None:
            status.write(msg)

        def check(check_id: str, done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Kiểm tra {done}/{total}: {check_id}")

        try:
            sid, rows, rejected, findings = load(source, year, as_of, name or None, step, check)
        except SoatError as exc:
            status.update(label="Không nạp được dữ liệu", state="error")
            st.error(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - one line for the user, no traceback
            status.update(label="Không nạp được dữ liệu", state="error")
            st.error(f"Lỗi không mong đợi: {type(exc).__name__}: {exc}")
            return
        status.update(label=f"Đã nạp bản chụp #{sid}", state="complete", expanded=False)
    bar.progress(1.0, text="Xong")
    try:
        audit.record("upload", scope, {"snapshot_id": sid, "source": source, "rows": rows})
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
