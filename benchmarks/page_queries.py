"""Time the queries behind each dashboard page, uncached, as the dashboard runs them
(dashboard.query on the read-only connection), for a province admin and for a unit
officer of the largest unit at one level.

A page's figure is the sum of the queries it runs on first render (the drill-down pages:
the deepest view, which runs every level's query). Xu hướng compares two snapshots only when
the store has two; its comparison is also timed on its own ("Xu hướng, so sánh"), which on a
one-snapshot store is its worst case."""

from __future__ import annotations

import logging
import os
import time


def time_page_queries(db: str) -> dict:
    os.environ["SOAT_DB"] = db
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from dashboard import query as q
    from dashboard.query import Filters
    from soat import store
    from soat.scope import Scope

    con = store.connect(db, read_only=True)
    sid = store.latest_snapshot(con)
    unit, level = con.execute(
        """SELECT unit_code, level FROM metrics_school_level WHERE snapshot_id = $s
           GROUP BY ALL ORDER BY sum(students) DESC LIMIT 1""",
        {"s": sid},
    ).fetchall()[0]
    school, check = con.execute(
        """SELECT school_code, check_id FROM findings WHERE snapshot_id = $s
           GROUP BY ALL ORDER BY count(*) DESC LIMIT 1""",
        {"s": sid},
    ).fetchall()[0]
    checked = con.execute("SELECT count(*) FROM snapshots WHERE checked_at IS NOT NULL")
    checked = checked.fetchall()[0][0]
    con.close()

    f = Filters()
    new = Filters(new_only=True)
    pages = {
        "Tổng quan": lambda s: [
            q.headline(sid, s, f),
            q.change_summary(sid, s, f),
            q.unit_compliance(sid, s, f),
            q.upcoming_deadlines(sid, s, f),
        ],
        "Tiến độ nộp": lambda s: [q.submission_rows(sid, s, f), q.status_by_unit(sid, s, f)],
        "Sai lệch": lambda s: [
            q.change_summary(sid, s, f),
            q.drill_units(sid, s, f),
            q.drill_schools(sid, s, f, unit),
            q.drill_checks(sid, s, f, school),
            q.drill_records(sid, s, f, school, check),
        ],
        # the same drill-down with the "new findings only" toggle on
        "Sai lệch, chỉ phát hiện mới": lambda s: [
            q.drill_units(sid, s, new),
            q.drill_schools(sid, s, new, unit),
            q.drill_checks(sid, s, new, school),
            q.drill_records(sid, s, new, school, check),
        ],
        "Trường": lambda s: [
            q.school_list(sid, s, f),
            q.school_profile(sid, s, school),
            q.school_metrics(sid, s, school),
            q.school_submissions(sid, s, f, school),
            q.change_summary(sid, s, f),
            q.count_school_findings(sid, s, f, school),
            q.school_findings(sid, s, f, school),
        ],
        # the page compares two checked snapshots; with one it shows the trend only
        "Xu hướng": lambda s: (
            [
                q.trend(s, f),
                q.resolution_trend(s, f),
                q.change_summary(sid, s, f),
                q.unit_changes(s, f),
                q.all_snapshots(s),
            ]
            + ([q.changes(sid, None, s, f)] if checked > 1 else [])
        ),
        # the comparison on its own, in its worst case when the store has one snapshot:
        # every status row of the snapshot "changes" from nothing (≈ 97 k rows at 2 M)
        "Xu hướng, so sánh": lambda s: [q.changes(sid, None, s, f)],
        "Dữ liệu": lambda s: [
            q.all_snapshots(s),
            q.snapshot_tables(sid, s),
            q.rejects(sid, s),
            q.check_runs(sid, s),
        ],
    }
    scopes = {
        "admin": Scope.admin(),
        "unit officer": Scope(units=(unit,), levels=(level,), role="unit_officer", user="bench"),
    }
    out: dict = {}
    worst = 0.0
    for page, fn in pages.items():
        for who, scope in scopes.items():
            q._run.clear()
            q._changes.clear() if hasattr(q, "_changes") else None
            fn(scope)  # warm the connection and the OS file cache, not the result cache
            q._run.clear()
            q._changes.clear() if hasattr(q, "_changes") else None
            t0 = time.perf_counter()
            fn(scope)
            sec = time.perf_counter() - t0
            out[f"{page} ({who})"] = round(sec, 4)
            worst = max(worst, sec)
    return {"rows": None, "queries": out, "worst": round(worst, 4)}
