"""Display helpers: what officers read in the tables."""

import datetime as dt

import polars as pl

from dashboard import labels


def test_for_display_blanks_missing_text_and_formats_timestamps():
    df = pl.DataFrame(
        {
            "school": ["S1", None],
            "at": [dt.datetime(2024, 9, 15, 23, 59), None],
            "due": [dt.date(2024, 9, 15), dt.date(2024, 9, 20)],
            "days": [None, 3],
        }
    )
    out = labels.for_display(df)
    assert out["school"].to_list() == ["S1", ""]
    assert out["at"].to_list() == ["15/09/2024 23:59", "—"]
    assert out.schema["due"] == pl.Date and out["days"].to_list() == [None, 3]


def test_mapped_equals_the_label_function_row_by_row_and_keeps_nulls():
    df = pl.DataFrame({"period": ["dau_nam", None, "thang_09", "dau_nam", "x"]})
    out = df.select(labels.mapped(df, "period", labels.period))["period"].to_list()
    assert out == ["Đầu năm", None, "Tháng 9", "Đầu năm", "x"]
    empty = pl.DataFrame({"period": pl.Series([], dtype=pl.Utf8)})
    assert empty.select(labels.mapped(empty, "period", labels.period)).height == 0


def test_no_python_callback_inside_polars_on_dashboard_paths():
    """A Python callback in a polars expression froze the threaded server under a dozen
    sessions (issue 17): none may come back under dashboard/."""
    from dash_helpers import dashboard_lines

    hits = dashboard_lines(r"\.(map_batches|map_elements|map_groups|apply)\(|to_pandas\(")
    assert hits == []


def test_vietnam_time_of_the_app_database():
    assert labels.vn_time(dt.datetime(2026, 12, 1, 23, 30)) == "02/12/2026 06:30:00"
    assert labels.vn_time(None) == ""
    start, end = labels.utc_range(dt.date(2026, 12, 2), dt.date(2026, 12, 2))
    assert start == dt.datetime(2026, 12, 1, 17, 0)
    assert end == dt.datetime(2026, 12, 2, 16, 59, 59, 999999)


def test_every_check_of_the_catalogue_has_a_vietnamese_name():
    """Pages, breadcrumbs and e-mails name checks by labels.CHECK_NAMES (and Sai lệch takes
    a link's d_check only when it names one): every check of queries/checks is there."""
    from dashboard import labels
    from soat.engine import discover

    assert {c.id for c in discover()} == set(labels.CHECK_NAMES)


def test_plain_lines_breaks_long_names_evenly_and_escapes_each_line():
    assert labels.plain_lines("Quận 1 (1/2)", 28) == "Quận 1 (1/2)"
    assert labels.plain_lines("Phòng GD&ĐT thành phố Vĩnh Long (1/2)", 28) == (
        "Phòng GD&amp;ĐT thành<br>phố Vĩnh Long (1/2)"  # not '… Vĩnh<br>Long (1/2)'
    )
    # markup from data stays text: the only <br> are the breaks
    assert labels.plain_lines("<b>Trường</b> <br> số 1 của xã An Bình", 20) == (
        "&lt;b&gt;Trường&lt;/b&gt; &lt;br&gt;<br>số 1 của xã An Bình"
    )
    assert labels.plain_lines("x" * 40, 28) == "x" * 40  # a word is never cut
    assert labels.plain_lines(None, 28) == "" and labels.plain_lines("", 28) == ""


def test_every_selectbox_has_a_vietnamese_placeholder():
    """Without `placeholder=`, Streamlit writes "Choose an option" (or "No options to
    select", "Choose options") in an empty select box (UI review D4.10)."""
    import ast

    from dash_helpers import dashboard_sources

    calls = [
        (path, node.lineno, node)
        for path, text in dashboard_sources()
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("selectbox", "multiselect")
    ]
    assert len(calls) >= 10  # the sidebar's four, the pages' and the admin pages'
    missing = [
        f"{path}:{line}"
        for path, line, node in calls
        if not any(
            k.arg == "placeholder"
            and isinstance(k.value, ast.Constant)
            and k.value.value.startswith(("Chọn", "Tất cả"))
            for k in node.keywords
        )
    ]
    assert missing == []
