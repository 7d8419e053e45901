"""Vietnamese labels for codes shown on the dashboard (levels, periods, statuses, checks, fields),
and the escaping of values from data wherever Streamlit or Plotly interpret markup:

    st.subheader(labels.md(school_name))     # Markdown: titles, captions, labels, st.table
    labels.md_expr("reference")               # the same, on a polars column
    labels.plain_expr("unit_name")            # Plotly text (axis, hover, legend)

A school named `[bấm](http://…)`, `<b>x</b>`, `*x*` or `$x$` is then shown as those
characters, not as a link, bold text, italics or a formula.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import textwrap

from loaders.contract import table_label
from soat import vntime
from soat.exports import findings as findings_export
from soat.exports import late as late_export
from soat.vocab import DATA_TYPES, LEVEL_NAMES

# The words of the exported lists, so the screen and the file an officer forwards agree.
STATUS = late_export.STATUS_VI
SEVERITY = findings_export.SEVERITY_VI
RULE = {
    "school": "Gia hạn riêng trường",
    "unit": "Gia hạn của đơn vị",
    "level": "Theo cấp học",
    "province": "Toàn tỉnh",
}

CHECK_NAMES = {
    "student.missing_field": "Học sinh: thiếu thông tin bắt buộc",
    "student.invalid_value": "Học sinh: giá trị ngoài danh mục",
    "student.dob_invalid": "Học sinh: ngày sinh không hợp lệ",
    "student.id_format": "Học sinh: số định danh sai định dạng",
    "student.id_province": "Học sinh: mã tỉnh trong số định danh sai",
    "student.id_mismatch": "Học sinh: số định danh không khớp giới tính/năm sinh",
    "student.unverified": "Học sinh: chưa xác thực định danh",
    "student.duplicate_id": "Học sinh: trùng số định danh",
    "student.duplicate_code": "Học sinh: trùng mã học sinh",
    "student.age_grade": "Học sinh: tuổi không phù hợp khối lớp",
    "student.class_unknown": "Học sinh: mã lớp không tồn tại",
    "student.school_unknown": "Học sinh: mã trường không tồn tại",
    "staff.missing_field": "Cán bộ: thiếu thông tin bắt buộc",
    "staff.invalid_value": "Cán bộ: giá trị ngoài danh mục",
    "staff.dob_invalid": "Cán bộ: ngày sinh không hợp lệ",
    "staff.id_format": "Cán bộ: số định danh sai định dạng",
    "staff.id_province": "Cán bộ: mã tỉnh trong số định danh sai",
    "staff.id_mismatch": "Cán bộ: số định danh không khớp giới tính/năm sinh",
    "staff.unverified": "Cán bộ: chưa xác thực định danh",
    "staff.duplicate_code": "Cán bộ: trùng mã cán bộ",
    "staff.duplicate_payroll": "Cán bộ: biên chế ở nhiều trường",
    "staff.retired_on_payroll": "Cán bộ: quá tuổi nghỉ hưu vẫn trong biên chế",
    "staff.school_unknown": "Cán bộ: mã trường không tồn tại",
    "class.missing_field": "Lớp: thiếu thông tin bắt buộc",
    "class.homeroom_unknown": "Lớp: giáo viên chủ nhiệm không hợp lệ",
    "class.size_mismatch": "Lớp: sĩ số khác số học sinh",
    "class.grade_level": "Lớp: khối không thuộc cấp học của trường",
    "class.empty": "Lớp: không có học sinh",
    "class.size_outlier": "Lớp: sĩ số trung bình khác xa các trường cùng cấp",
    "school.missing_field": "Trường: thiếu thông tin hồ sơ",
    "school.unit_unknown": "Trường: mã đơn vị quản lý không tồn tại",
    "school.no_records": "Trường: không có hồ sơ học sinh hoặc cán bộ",
    "school.ptr_outlier": "Trường: tỉ lệ học sinh/giáo viên khác xa các trường cùng cấp",
    "report.age_total_mismatch": "Báo cáo: tổng theo độ tuổi lệch tổng số",
    "report.records_mismatch": "Báo cáo: số liệu lệch số hồ sơ",
    "source.count_mismatch": "Phần mềm: số bản ghi lệch CSDL",
    "submission.late": "Nộp dữ liệu muộn",
    "submission.missing": "Chưa nộp dữ liệu",
    "submission.last_failed": "Lần đẩy dữ liệu gần nhất thất bại",
    "submission.after_lock": "Đẩy dữ liệu sau ngày khóa sổ",
    "trend.enrolment_change": "Biến động: số học sinh thay đổi bất thường",
    "trend.staff_change": "Biến động: số cán bộ thay đổi bất thường",
    "trend.school_vanished": "Biến động: trường biến mất khỏi danh sách",
    "trend.class_count_change": "Biến động: số lớp thay đổi trong năm học",
}


def level(code: str | None) -> str:
    if code is None:
        return "Toàn trường"
    return f"{code} – {LEVEL_NAMES[code]}" if code in LEVEL_NAMES else str(code)


def period(code: str | None) -> str:
    """'giua_nam' -> 'Giữa năm', 'thang_09' -> 'Tháng 9' (as every export writes it)."""
    return late_export.period_label(code) or ""


def data_type(code: str | None) -> str:
    if code is None:
        return ""
    return DATA_TYPES[code][0] if code in DATA_TYPES else code


def table_name(name: str | None) -> str:
    """A snapshot table's Vietnamese name (the data contract's label): "Học sinh"."""
    return "" if name is None else table_label(name)


LOAD_SEVERITY = {"info": "Thông tin", "warning": "Cảnh báo"}
# snapshots.source_kind (loaders.load._source_kind)
SOURCE_KIND = {"folder": "Thư mục", "workbook": "Tệp Excel", "sql": "Cơ sở dữ liệu (SQL)"}


def check(check_id: str | None) -> str:
    if check_id is None:
        return ""
    return CHECK_NAMES.get(check_id, check_id)


field = findings_export.field_label  # as in the findings export's xlsx


# Stored times are naive UTC (the app database, the snapshots' load and check times);
# officers read Vietnam's time (UTC+7 all year): soat.vntime.
VN_OFFSET = vntime.VN_OFFSET


def vn_time(utc: dt.datetime | None) -> str:
    """A naive UTC time of the app database as an officer reads it: '02/12/2026 17:27:50'
    (Vietnam time)."""
    return "" if utc is None else (utc + VN_OFFSET).strftime("%d/%m/%Y %H:%M:%S")


def utc_range(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The naive UTC times [start, end] of Vietnam's days since … until (both whole days)."""
    start = dt.datetime.combine(since, dt.time.min) - VN_OFFSET
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min) - VN_OFFSET
    return start, end - dt.timedelta(microseconds=1)


def percent(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "–"
    return f"{x * 100:.{digits}f}".replace(".", ",") + " %"


def number(n: int | float | None) -> str:
    if n is None:
        return "–"
    return f"{int(n):,}".replace(",", ".")


def for_display(df):
    """A frame as a table shows it to officers: Streamlit prints a missing value as 'None',
    so empty text becomes '' and timestamps become 'dd/mm/yyyy HH:MM' text ('—' when there
    is none). Dates and numbers keep their types (sortable)."""
    import polars as pl

    return df.with_columns(
        [pl.col(c).fill_null("") for c, t in df.schema.items() if t == pl.Utf8]
        + [
            pl.col(c).dt.strftime("%d/%m/%Y %H:%M").fill_null("—")
            for c, t in df.schema.items()
            if isinstance(t, pl.Datetime)
        ]
    )


def mapped(df, column: str, fn):
    """`pl.col(column)` of `df` through one of the label functions above: a lookup
    (`replace_strict` with a dict built here, one call of `fn` per distinct value), never a
    Python callback inside a polars expression. A callback runs on polars' thread pool and
    needs the GIL, while another session's script thread may hold the GIL waiting for that
    pool: under a dozen sessions the server froze for good (issue 17). Nulls stay null."""
    import polars as pl

    values = df.get_column(column).cast(pl.Utf8).drop_nulls().unique().to_list()
    table = {v: fn(v) for v in values}
    return pl.col(column).cast(pl.Utf8).replace_strict(table, default=None, return_dtype=pl.Utf8)


# ---- escaping values from data ---------------------------------------------------------

# Every ASCII punctuation character may be backslash-escaped in CommonMark (and Streamlit's
# Markdown: GitHub-flavoured, math `$…$`, directives `:red[…]`); escaped, it is shown as
# itself. Line breaks would start a new block (a heading, a list): they become spaces.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
_MD_SPECIAL_POLARS = r"([!-/:-@\[-`{-~])"
_LINE_BREAKS = re.compile(r"[\r\n]+")


def md(value) -> str:
    """A value from data as literal text inside Markdown (st.markdown, st.caption,
    st.title/subheader, st.info/…, widget labels, st.page_link, st.table cells)."""
    if value is None:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(value)))


def md_expr(column: str):
    """`md()` of a text column, as a polars expression (no Python per row)."""
    import polars as pl

    return (
        pl.col(column)
        .str.replace_all(r"[\r\n]+", " ")
        .str.replace_all(_MD_SPECIAL_POLARS, r"\${1}")
        .alias(column)
    )


def md_frame(df):
    """Every text column of `df` through `md_expr`: for st.table, whose cells are Markdown."""
    import polars as pl

    text = [c for c, t in df.schema.items() if t == pl.String]
    return df.with_columns(md_expr(c) for c in text) if text else df


# Plotly draws a subset of HTML in every text (<b>, <a href>, <br>, <span style>) and
# decodes entities; `$…$` is LaTeX when MathJax is loaded. Entities make them literal.
_PLAIN = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("$", "&#36;"))


def plain(value) -> str:
    """A value from data as literal text in a Plotly figure (axis labels, hover, legend)."""
    if value is None:
        return ""
    s = str(value)
    for a, b in _PLAIN:
        s = s.replace(a, b)
    return s


def plain_lines(value, width: int) -> str:
    """`plain()` of a value broken at spaces into lines of at most `width` characters (Plotly's
    `<br>`, put between lines already escaped): a long name on a chart's axis takes two short
    lines instead of a phone's whole width. As few lines as `width` allows, of even lengths
    ('Phòng GD&ĐT thành / phố Vĩnh Long', not '… thành phố Vĩnh / Long'); a word longer than
    `width` stays whole."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    if len(text) <= width:
        return plain(text)
    lines = _wrap(text, width)
    for w in range(math.ceil(len(text) / len(lines)), width):  # the narrowest as few lines
        even = _wrap(text, w)
        if len(even) == len(lines):
            lines = even
            break
    return "<br>".join(plain(line) for line in lines)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def plain_expr(column: str):
    """`plain()` of a text column, as a polars expression."""
    import polars as pl

    e = pl.col(column).cast(pl.String)
    for a, b in _PLAIN:
        e = e.str.replace_all(a, b, literal=True)
    return e.alias(column)


CHANGE = findings_export.CHANGE_VI  # new / persisting / resolved, as the export writes them


def change_status(change: str = "change", since: str = "since"):
    """A finding's state against the previous snapshot as officers read it: 'Mới', 'Còn tồn
    tại (từ 12/06/2025)', or '' when the snapshot was compared with none (a polars
    expression; no Python callback)."""
    import polars as pl

    return (
        pl.when(pl.col(change) == "new")
        .then(pl.lit(CHANGE["new"]))
        .when(pl.col(change) == "persisting")
        .then(
            pl.concat_str(
                [
                    pl.lit(CHANGE["persisting"] + " (từ "),
                    pl.col(since).dt.strftime("%d/%m/%Y"),
                    pl.lit(")"),
                ]
            )
        )
        .otherwise(pl.lit(""))
    )
