"""The audit log: who did what, when, on how many rows.

Recorded: logins (`login`), failed logins (`login_failed`, `login_locked`; the password
is never recorded), logouts, exports (`export`: which export, filters, row count), views
of unmasked personal data (`view_personal`), account changes (`user_add`, `user_disable`,
`user_enable`, `user_passwd`, `user_email`), follow-up changes (`followup`) and the
e-mail digests (`notify` for each message sent, `notify_dry_run` for each written to a
file; never the SMTP password).

    record("login", "nguyenvana")
    log_export(scope, "findings", {"unit": "79760"}, rows=120)
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from soat.appdb import AppDB, audit_log, get_app_db, utcnow

ACTIONS = {
    "login": "Đăng nhập",
    "login_failed": "Đăng nhập sai",
    "login_locked": "Đăng nhập khi bị khoá",
    "logout": "Đăng xuất",
    "export": "Xuất dữ liệu",
    "view_personal": "Xem dữ liệu cá nhân",
    "user_add": "Tạo tài khoản",
    "user_disable": "Vô hiệu hoá tài khoản",
    "user_enable": "Mở lại tài khoản",
    "user_passwd": "Đổi mật khẩu",
    "user_locked": "Khoá tạm thời (sai mật khẩu)",
    "followup": "Cập nhật biên bản",
    "upload": "Tải dữ liệu lên",
    "export_refused": "Từ chối tải tệp (phiên đã kết thúc)",
    "snapshot_delete": "Xoá bản chụp",
    "snapshot_prune": "Dọn bản chụp cũ",
    "user_email": "Đổi địa chỉ thư của tài khoản",
    "notify": "Gửi thư nhắc",
    "notify_dry_run": "Ghi thư nhắc ra tệp (chạy thử)",
}

# Keys never written to the log, whatever a caller passes.
_SECRET_KEYS = {"password", "passwd", "pwd", "mat_khau", "token", "secret", "password_hash"}


def _clean(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {k: _clean(v) for k, v in detail.items() if str(k).lower() not in _SECRET_KEYS}
    if isinstance(detail, list | tuple | set):
        return [_clean(v) for v in detail]
    if isinstance(detail, dt.date | dt.datetime):
        return detail.isoformat()
    return detail


def _user_of(scope_or_user: Any) -> str:
    if isinstance(scope_or_user, str):
        return scope_or_user
    return getattr(scope_or_user, "user", None) or "local"


def record(
    action: str,
    user: Any,
    detail: dict | str | None = None,
    rows: int | None = None,
    app_db: AppDB | str | None = None,
) -> None:
    """Append one event. `user` is a username or a Scope; `detail` a dict (stored as JSON)."""
    db = get_app_db(app_db)
    if detail is None:
        text = None
    elif isinstance(detail, str):
        text = json.dumps({"text": detail}, ensure_ascii=False)
    else:
        text = json.dumps(_clean(detail), ensure_ascii=False, default=str)
    with db.begin() as conn:
        conn.execute(
            audit_log.insert().values(
                at=utcnow(),
                username=_user_of(user),
                action=action,
                detail=text,
                row_count=None if rows is None else int(rows),
            )
        )


def log_export(
    scope_or_user: Any,
    kind: str,
    filters: dict | None = None,
    rows: int | None = None,
    app_db: AppDB | str | None = None,
    fmt: str | None = None,
) -> None:
    """An export was written: which one, with which filters, how many rows, and the scope
    it was cut to (role, units, levels, school: a school page's download names its school
    here). Also notes whether personal data went out unmasked."""
    detail: dict = {
        "kind": kind,
        "filters": {k: v for k, v in (filters or {}).items() if v not in (None, [], ())},
    }
    if fmt:
        detail["format"] = fmt
    scope = scope_detail(scope_or_user)
    if scope is not None:
        detail["scope"] = scope
    unmasked = getattr(scope_or_user, "unmasked", None)
    if unmasked is not None:
        detail["unmasked"] = bool(unmasked)
    record("export", scope_or_user, detail, rows=rows, app_db=app_db)


def scope_detail(scope: Any) -> dict | None:
    """A Scope as the audit log records it: role, and units/levels/school when restricted
    (absent = the whole province, every level)."""
    if isinstance(scope, str) or not hasattr(scope, "role"):
        return None
    out: dict = {"role": scope.role}
    for key in ("units", "levels", "school"):
        value = getattr(scope, key, None)
        if value:
            out[key] = list(value) if isinstance(value, tuple | list) else value
    return out


def log_personal_view(
    scope: Any,
    what: str,
    filters: dict | None = None,
    rows: int | None = None,
    app_db: AppDB | str | None = None,
) -> None:
    """A page showed personal data (citizen ID, birth date, address) in clear. Records only
    when the scope is unmasked (a masked view shows nothing personal)."""
    if not getattr(scope, "unmasked", False):
        return
    record(
        "view_personal", scope, {"what": what, "filters": filters or {}}, rows=rows, app_db=app_db
    )


def read(
    user: str | None = None,
    action: str | None = None,
    since: dt.datetime | dt.date | None = None,
    until: dt.datetime | dt.date | None = None,
    limit: int = 1000,
    app_db: AppDB | str | None = None,
    user_like: str | None = None,
) -> list[dict]:
    """Events, newest first. `until` as a date includes that whole day. `user` is a user
    name; `user_like` a part of one, any case (the audit page's search box)."""
    db = get_app_db(app_db)
    q = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
    if user:
        q = q.where(audit_log.c.username == user)
    if user_like:
        part = user_like.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(audit_log.c.username.ilike(f"%{part}%", escape="\\"))
    if action:
        q = q.where(audit_log.c.action == action)
    if since is not None:
        if not isinstance(since, dt.datetime):
            since = dt.datetime.combine(since, dt.time.min)
        q = q.where(audit_log.c.at >= since)
    if until is not None:
        if not isinstance(until, dt.datetime):
            until = dt.datetime.combine(until, dt.time.min) + dt.timedelta(days=1)
            q = q.where(audit_log.c.at < until)
        else:
            q = q.where(audit_log.c.at <= until)
    with db.connect() as conn:
        rows = conn.execute(q).mappings().all()
    out = []
    for r in rows:
        d = dict(r)
        try:
            d["detail"] = json.loads(d["detail"]) if d["detail"] else None
        except ValueError:
            pass
        d["rows"] = d.pop("row_count")
        out.append(d)
    return out


# What the audit page shows for each key of an event's detail (keys not listed are shown
# as they are: a detail is written by this program, so they are few and rare).
DETAIL_LABELS = {
    "kind": "loại",
    "format": "định dạng",
    "filters": "bộ lọc",
    "scope": "phạm vi",
    "role": "vai trò",
    "units": "đơn vị",
    "levels": "cấp học",
    "school": "trường",
    "school_code": "mã trường",
    "unmasked": "dữ liệu cá nhân không che",
    "what": "nội dung",
    "snapshot": "bản chụp",
    "snapshot_id": "bản chụp",
    "snapshots": "bản chụp",
    "page": "trang",
    "check": "mã kiểm tra",
    "period": "kỳ báo cáo",
    "issue": "nội dung theo dõi",
    "state": "trạng thái",
    "target": "tài khoản",
    "email": "địa chỉ thư",
    "minutes": "số phút",
    "reason": "lý do",
    "source": "nguồn",
    "rows": "số dòng",
    "kept": "giữ lại",
    "keep": "giữ lại",
    "file": "tệp",
    "files": "tệp",
    "recipient": "người nhận",
    "subject": "tiêu đề thư",
    "submissions": "lượt nộp",
    "findings": "phát hiện",
    "attachments": "tệp đính kèm",
    "change": "thay đổi",
    "from": "từ bản chụp",
    "to": "đến bản chụp",
    "unit": "đơn vị",
    "level": "cấp học",
    "f_unit": "đơn vị",
    "f_level": "cấp học",
    "f_period": "kỳ báo cáo",
    "f_new_only": "chỉ phát hiện mới",
}


# what was exported (the `kind` of an export event)
EXPORT_KINDS = {
    "findings": "danh sách lỗi",
    "schools": "danh sách trường",
    "late": "danh sách nộp muộn, chưa nộp",
    "letter": "công văn đôn đốc",
    "school-sheets": "phiếu lỗi từng trường",
    "followups": "biên bản theo dõi khắc phục",
    "changes": "thay đổi giữa hai bản chụp",
}


def describe(detail: Any) -> str:
    """An event's detail as one line of Vietnamese for the audit page: `khóa: giá trị` pairs,
    nested dicts in parentheses, lists joined by commas, yes/no for booleans; empty values
    left out. (The log keeps the JSON; this is only how it reads.)"""
    if detail is None:
        return ""
    if isinstance(detail, dict):
        parts = []
        for key, value in detail.items():
            shown = describe(value)
            if shown == "" or value is None:
                continue
            label = DETAIL_LABELS.get(key, key)
            if key == "role":
                from soat.accounts import ROLE_LABELS  # accounts imports this module

                shown = ROLE_LABELS.get(value, shown)
            elif key == "kind":
                shown = EXPORT_KINDS.get(value, shown)
            parts.append(f"{label}: ({shown})" if isinstance(value, dict) else f"{label}: {shown}")
        return "; ".join(parts)
    if isinstance(detail, bool):
        return "có" if detail else "không"
    if isinstance(detail, (list, tuple)):
        return ", ".join(describe(v) for v in detail)
    return str(detail)
