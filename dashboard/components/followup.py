"""The follow-up (biên bản) widget embedded by the school and late pages, and its export.

    followup_panel("S1", "Đầu năm", scope)          # current states, history, a form
    followup_panel("S1", period, scope, issues=["submission", "student.id_format"])
    followup_download(scope)                          # csv/xlsx buttons (audited)
    followup_export_frame(scope)                      # polars, schools in scope only

Every school shown or marked is checked against the Scope in DuckDB (soat.scope.scope_sql
on `schools` of the latest snapshot): an officer cannot see or mark a school outside it.
"""

from __future__ import annotations

import io

import polars as pl
import streamlit as st

from dashboard import labels
from dashboard.components.grid import dataframe
from soat import followups
from soat.errors import SoatError
from soat.scope import Scope


def _cursor():
    from dashboard import db

    return db.cursor()


def _in_scope(school_code: str, scope: Scope) -> bool:
    with _cursor() as cur:
        if cur is None:
            return False
        return followups.school_in_scope(cur, None, school_code, scope)


def _issue_label(issue: str) -> str:
    return followups.ISSUE_LABELS.get(issue, issue)


def followup_panel(
    school_code: str,
    period: str | None,
    scope: Scope,
    issues: list[str] | None = None,
    key: str | None = None,
) -> None:
    """Current follow-up state of a school for a period, its history, and a form to record a
    new state. Renders only a warning for a school outside the scope."""
    key = key or f"followup_{school_code}_{period}"
    st.subheader("Theo dõi khắc phục (biên bản)")
    if not school_code or not period:
        st.info("Chọn trường và kỳ báo cáo để ghi nhận theo dõi.")
        return
    if not _in_scope(school_code, scope):
        st.warning("Trường này nằm ngoài phạm vi tài khoản của bạn.")
        return
    rows = followups.current(school_code, period)
    if rows:
        dataframe(
            pl.DataFrame(
                {
                    "Nội dung": [_issue_label(r["issue"]) for r in rows],
                    "Trạng thái": [followups.STATES.get(r["state"], r["state"]) for r in rows],
                    "Ghi chú": [r["note"] or "" for r in rows],
                    "Người cập nhật": [r["by_user"] for r in rows],
                    "Thời điểm": [labels.vn_time(r["at"]) for r in rows],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        with st.expander("Lịch sử thay đổi"):
            hist = followups.history(school_code, period)
            dataframe(
                pl.DataFrame(
                    {
                        "Thời điểm": [labels.vn_time(r["at"]) for r in hist],
                        "Nội dung": [_issue_label(r["issue"]) for r in hist],
                        "Trạng thái": [followups.STATES.get(r["state"], r["state"]) for r in hist],
                        "Ghi chú": [r["note"] or "" for r in hist],
                        "Người cập nhật": [r["by_user"] for r in hist],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
    else:
        st.caption("Chưa có ghi nhận nào cho trường này trong kỳ.")

    states = list(followups.SCHOOL_STATES if scope.role == "school" else followups.STATES)
    issue_options = list(dict.fromkeys([*(issues or []), "submission", "data"]))
    with st.form(f"{key}_form", clear_on_submit=True):
        issue = st.selectbox(
            "Nội dung",
            issue_options,
            format_func=_issue_label,
            placeholder="Chọn nội dung",
            key=f"{key}_issue",
        )
        state = st.selectbox(
            "Trạng thái",
            states,
            format_func=lambda s: followups.STATES[s],
            placeholder="Chọn trạng thái",
            key=f"{key}_state",
        )
        note = st.text_area("Ghi chú", key=f"{key}_note")
        if st.form_submit_button("Lưu theo dõi"):
            try:
                with _cursor() as cur:
                    followups.set_state(school_code, period, issue, state, note, scope, con=cur)
            except SoatError as exc:
                st.error(labels.md(exc))
            else:
                st.success(f"Đã ghi: {labels.md(_issue_label(issue))} — {followups.STATES[state]}")
                st.rerun()


def followup_export_frame(
    scope: Scope, period: str | None = None, history_rows: bool = False
) -> pl.DataFrame:
    """Follow-ups of the schools in scope (current state, or every change), canonical columns."""
    with _cursor() as cur:
        if cur is None:
            return followups.export_frame(None, None, Scope(school="\x00none"))
        return followups.export_frame(cur, None, scope, period=period, history_rows=history_rows)


def _vietnamese(df: pl.DataFrame) -> pl.DataFrame:
    """Vietnamese headers, the time written as officers read it (dd/mm/yyyy HH:MM:SS, Vietnam's
    time: the frame's `at` is already), not ISO."""
    df = df.with_columns(pl.col("at").dt.strftime("%d/%m/%Y %H:%M:%S"))
    return df.select([pl.col(c).alias(h) for c, h in followups.EXPORT_HEADERS.items()])


def to_csv(df: pl.DataFrame) -> bytes:
    """The follow-up record as CSV (soat.exports.csv: cells that could start a formula, a
    school's note among them, are neutralised; BOM so Excel reads the Vietnamese)."""
    from soat.exports import csv as csv_file

    return csv_file.csv_bytes(_vietnamese(df))


def to_xlsx(df: pl.DataFrame) -> bytes:
    """The follow-up record as .xlsx, through the writer of every export
    (soat.exports.xlsx: every cell a value; a text that looks like a formula or an address
    — a school's name, a note typed in the panel — stays text, never a formula or a link)."""
    from soat import vntime
    from soat.appdb import utcnow
    from soat.exports import xlsx

    buf = io.BytesIO()
    today = vntime.vn(utcnow()).strftime("%d/%m/%Y")
    xlsx.write_xlsx(
        df.select(list(followups.EXPORT_HEADERS)),
        buf,
        title=f"Biên bản theo dõi khắc phục — lập ngày {today}",
        headers=followups.EXPORT_HEADERS,
        sheet="Theo dõi",
    )
    return buf.getvalue()


def followup_download(scope: Scope, period: str | None = None, key: str = "followup_dl") -> None:
    """Download buttons for the follow-up record (csv, xlsx): built when clicked, under the
    session check of dashboard.downloads (audited with the row count; no file once the
    session has ended)."""
    from dashboard import downloads

    def make(writer):
        def build() -> tuple[bytes, int]:
            df = followup_export_frame(scope, period)
            return writer(df), df.height

        return build

    c1, c2 = st.columns(2)
    for container, fmt, label, writer, mime in (
        (c1, "csv", "Tải biên bản (CSV)", to_csv, downloads.CSV_MIME),
        (c2, "xlsx", "Tải biên bản (Excel)", to_xlsx, downloads.XLSX_MIME),
    ):
        downloads.guarded_button(
            container,
            label,
            make(writer),
            scope=scope,
            kind="followups",
            fmt=fmt,
            filters={"period": period},
            file_name=f"theo_doi_khac_phuc.{fmt}",
            mime=mime,
            key=f"{key}_{fmt}",
        )
