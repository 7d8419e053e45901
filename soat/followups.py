"""Follow-ups (biên bản): who marked which school's issue for a period, in which state, when.

Snapshot-independent (kept in the app database, keyed by school code, period and issue),
with full history: every change is a new row, nothing is updated or deleted. The current
state of an issue is its latest row.

    set_state("S1", "Đầu năm", "submission", "notified", "Đã gọi điện", scope, con=con)
    history("S1", "Đầu năm")
    current(school_code="S1")                 # latest row per (school, period, issue)
    export_frame(con, sid, scope)             # polars, only schools in scope

Who may mark: any account, for schools in its scope (checked in DuckDB through
soat.scope.scope_sql on `schools`). A school account may only set "fixing" or
"resolved" (it reports its own progress); notifying and accepting an exception are the
supervising officer's.
"""

from __future__ import annotations

import duckdb
import polars as pl
from sqlalchemy import and_, func, select

from soat import audit, vntime
from soat.appdb import AppDB, followups, get_app_db, utcnow
from soat.errors import SoatError
from soat.exports.late import period_label
from soat.scope import Scope, scope_sql

STATES = {
    "notified": "Đã thông báo",
    "fixing": "Đang khắc phục",
    "resolved": "Đã khắc phục",
    "accepted": "Chấp nhận",
}
SCHOOL_STATES = ("fixing", "resolved")
ISSUE_LABELS = {"submission": "Nộp báo cáo", "data": "Dữ liệu (chung)"}
EXPORT_HEADERS = {
    "school_code": "Mã trường",
    "school_name": "Tên trường",
    "unit_code": "Mã đơn vị",
    "period_label": "Kỳ báo cáo",  # "Giữa năm", not the code giua_nam
    "issue_label": "Nội dung",  # as the panel shows it, not the code
    "state_label": "Trạng thái",
    "note": "Ghi chú",
    "by_user": "Người cập nhật",
    "at": "Thời điểm (giờ Việt Nam)",
}


def is_unrestricted(scope: Scope) -> bool:
    return scope.units is None and scope.levels is None and scope.school is None


def latest_snapshot_id(con: duckdb.DuckDBPyConnection) -> int | None:
    """The latest checked snapshot (what readers see), else the latest one."""
    rows = con.execute(
        "SELECT coalesce(max(snapshot_id) FILTER (WHERE checked_at IS NOT NULL), max(snapshot_id)) "
        "FROM snapshots"
    ).fetchall()
    return rows[0][0] if rows else None


def schools_in_scope(
    con: duckdb.DuckDBPyConnection, snapshot_id: int | None, scope: Scope
) -> list[dict]:
    """The schools (code, name, unit) of a snapshot a Scope may see."""
    if snapshot_id is None:
        snapshot_id = latest_snapshot_id(con)
        if snapshot_id is None:
            return []
    cur = con.execute(
        f"""SELECT t.school_code, t.school_name, t.unit_code FROM schools t
            WHERE t.snapshot_id = $snapshot_id AND {scope_sql("t", level_col=None)}
            ORDER BY t.school_code""",
        {**scope.params(), "snapshot_id": snapshot_id},
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def school_in_scope(
    con: duckdb.DuckDBPyConnection, snapshot_id: int | None, school_code: str, scope: Scope
) -> bool:
    if snapshot_id is None:
        snapshot_id = latest_snapshot_id(con)
        if snapshot_id is None:
            return False
    rows = con.execute(
        f"""SELECT count(*) FROM schools t
            WHERE t.snapshot_id = $snapshot_id AND t.school_code = $code
              AND {scope_sql("t", level_col=None)}""",
        {**scope.params(), "snapshot_id": snapshot_id, "code": school_code},
    ).fetchall()
    return bool(rows and rows[0][0])


def set_state(
    school_code: str,
    period: str,
    issue: str,
    state: str,
    note: str | None,
    user: Scope | str,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    snapshot_id: int | None = None,
    app_db: AppDB | str | None = None,
) -> dict:
    """Record a new state. `user` is a Scope (checked: the school must be in it, which needs
    `con`) or a plain username (trusted callers: the command line). Returns the row."""
    if state not in STATES:
        raise SoatError(f"trạng thái '{state}' không hợp lệ; chọn trong: {', '.join(STATES)}")
    school_code = (school_code or "").strip()
    period = (period or "").strip()
    issue = (issue or "").strip()
    if not school_code or not period or not issue:
        raise SoatError("cần mã trường, kỳ báo cáo và nội dung")
    if isinstance(user, Scope):
        username = user.user
        if user.role == "school" and state not in SCHOOL_STATES:
            raise SoatError("tài khoản trường chỉ ghi được 'Đang khắc phục' hoặc 'Đã khắc phục'")
        if not is_unrestricted(user):
            if con is None:
                raise SoatError("không kiểm tra được phạm vi (thiếu CSDL)")
            if not school_in_scope(con, snapshot_id, school_code, user):
                raise SoatError(f"trường {school_code} ngoài phạm vi của tài khoản {username}")
        elif con is not None and not school_in_scope(con, snapshot_id, school_code, user):
            # a whole-province account too: a record for a school the snapshot does not
            # have would be stored, then left out of every export of the record
            raise SoatError(f"không có trường {school_code} trong bản chụp dữ liệu")
    else:
        username = str(user)
    row = {
        "school_code": school_code,
        "period": period,
        "issue": issue,
        "state": state,
        "note": (note or "").strip() or None,
        "by_user": username,
        "at": utcnow(),
    }
    db = get_app_db(app_db)
    with db.begin() as conn:
        conn.execute(followups.insert().values(**row))
    audit.record(
        "followup",
        username,
        {"school_code": school_code, "period": period, "issue": issue, "state": state},
        app_db=db,
    )
    return row


def _rows(q, app_db) -> list[dict]:
    db = get_app_db(app_db)
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings().all()]


def history(
    school_code: str,
    period: str | None = None,
    issue: str | None = None,
    app_db: AppDB | str | None = None,
) -> list[dict]:
    """Every change, oldest first."""
    c = followups.c
    q = select(followups).where(c.school_code == school_code)
    if period is not None:
        q = q.where(c.period == period)
    if issue is not None:
        q = q.where(c.issue == issue)
    return _rows(q.order_by(c.at, c.id), app_db)


def current(
    school_code: str | None = None,
    period: str | None = None,
    schools: list[str] | set[str] | None = None,
    app_db: AppDB | str | None = None,
) -> list[dict]:
    """The latest row per (school, period, issue), optionally for one school/period or a set
    of schools."""
    c = followups.c
    latest = select(func.max(c.id).label("id")).group_by(c.school_code, c.period, c.issue)
    if school_code is not None:
        latest = latest.where(c.school_code == school_code)
    if period is not None:
        latest = latest.where(c.period == period)
    if schools is not None:
        if not schools:
            return []
        latest = latest.where(c.school_code.in_(list(schools)))
    sub = latest.subquery()
    q = (
        select(followups)
        .join(sub, and_(followups.c.id == sub.c.id))
        .order_by(c.school_code, c.period, c.issue)
    )
    return _rows(q, app_db)


def current_state(
    school_code: str, period: str, issue: str, app_db: AppDB | str | None = None
) -> str | None:
    rows = [r for r in current(school_code, period, app_db=app_db) if r["issue"] == issue]
    return rows[0]["state"] if rows else None


_SCHEMA = {
    "school_code": pl.String,
    "school_name": pl.String,
    "unit_code": pl.String,
    "period": pl.String,
    "period_label": pl.String,
    "issue": pl.String,
    "issue_label": pl.String,
    "state": pl.String,
    "state_label": pl.String,
    "note": pl.String,
    "by_user": pl.String,
    "at": pl.Datetime("us"),
}


def export_frame(
    con: duckdb.DuckDBPyConnection | None,
    snapshot_id: int | None,
    scope: Scope,
    period: str | None = None,
    app_db: AppDB | str | None = None,
    history_rows: bool = False,
) -> pl.DataFrame:
    """The current state (or with history_rows, every change) of the follow-ups of schools
    in scope, with school name and unit from the snapshot. Canonical column names; see
    EXPORT_HEADERS for Vietnamese ones."""
    schools: dict[str, dict] | None = None
    if con is not None:
        schools = {s["school_code"]: s for s in schools_in_scope(con, snapshot_id, scope)}
    elif not is_unrestricted(scope):
        return pl.DataFrame(schema=_SCHEMA)  # cannot check scope: nothing
    if history_rows:
        c = followups.c
        q = select(followups).order_by(c.school_code, c.period, c.issue, c.at, c.id)
        if schools is not None:
            q = q.where(c.school_code.in_(list(schools)))
        if period is not None:
            q = q.where(c.period == period)
        rows = _rows(q, app_db) if schools is None or schools else []
    else:
        rows = current(
            period=period, schools=None if schools is None else set(schools), app_db=app_db
        )
    out = []
    for r in rows:
        s = (schools or {}).get(r["school_code"], {})
        out.append(
            {
                "school_code": r["school_code"],
                "school_name": s.get("school_name"),
                "unit_code": s.get("unit_code"),
                "period": r["period"],
                "period_label": period_label(r["period"]),
                "issue": r["issue"],
                "issue_label": ISSUE_LABELS.get(r["issue"], r["issue"]),
                "state": r["state"],
                "state_label": STATES.get(r["state"], r["state"]),
                "note": r["note"],
                "by_user": r["by_user"],
                "at": vntime.vn(r["at"]),
            }
        )
    return pl.DataFrame(out, schema=_SCHEMA)
