"""Accounts, roles, passwords, sessions, lock-out; a user's Scope.

Roles (see docs/access.md):
    province_admin  whole province, every level, personal data unmasked, manages accounts
    province_staff  whole province, its levels (none given = every level), masked
    unit_officer    its units (a district or commune and every unit/school below), its
                    levels (none given = every level), masked
    school          its own school, unmasked (it entered that data and is responsible for it)

Passwords are bcrypt hashes (cost $SOAT_BCRYPT_ROUNDS, default 12), at least 12
characters (or a passphrase of 4 words), not a common password, not the username
(check_password_policy). Usernames are unique whatever their case. A session is a random
token; only its sha256 is stored, with an expiry ($SOAT_SESSION_HOURS, default 8).
Five failed logins in a row lock the account for 15 minutes. A login that fails says the
same words and costs the same bcrypt work whatever the reason (unknown name, wrong
password, disabled or locked account), so an answer tells nothing about an account.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import bcrypt
from sqlalchemy import delete, func, or_, select, text, update

from soat import audit
from soat.appdb import AppDB, get_app_db, sessions, users, utcnow
from soat.errors import SoatError
from soat.scope import Scope
from soat.vocab import LEVELS

ROLES = ("province_admin", "province_staff", "unit_officer", "school")
ROLE_LABELS = {
    "province_admin": "Quản trị Sở",
    "province_staff": "Chuyên viên Sở",
    "unit_officer": "Cán bộ Phòng/Xã",
    "school": "Trường",
}
ADMIN_ROLES = ("admin", "province_admin")  # 'admin' is the local command line (Scope.admin())
UNMASKED_ROLES = ("province_admin", "school")

MAX_FAILED = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 12
MIN_PASSPHRASE_WORDS = 4  # or this many words (spaces, '-', '.', '_' between them) …
MIN_PASSPHRASE = 8  # … of at least this many characters in all
MIN_DISTINCT = 5  # different characters ('aaaaaaaaaaaa' is not a password)
DEFAULT_SESSION_HOURS = 8.0
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common_passwords.txt"
USERNAME_RE = re.compile(r"^[\w.@+-]{1,100}$")  # letters (Vietnamese too), digits, _ . @ + -

# The one answer to every failed login, whatever failed (docs/access.md).
BAD_LOGIN = (
    f"Sai tên đăng nhập hoặc mật khẩu. Sau {MAX_FAILED} lần sai liên tiếp, tài khoản bị "
    f"tạm khoá {LOCK_MINUTES} phút."
)


class AuthError(SoatError):
    """A login that failed; the message is safe to show (does not say which part was wrong)."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    units: tuple[str, ...] | None
    levels: tuple[str, ...] | None
    school: str | None
    disabled: bool
    created_at: datetime | None = None
    locked_until: datetime | None = None
    failed_attempts: int = 0
    email: str | None = None  # where `soat notify` sends this account's digest

    @property
    def scope(self) -> Scope:
        return scope_for(self)

    def status_label(self, now: datetime | None = None) -> str:
        """'Vô hiệu', 'Tạm khoá' (too many failed logins, until locked_until) or 'Hoạt
        động', for the accounts page and `soat users list`."""
        if self.disabled:
            return "Vô hiệu"
        return "Tạm khoá" if self.is_locked(now) else "Hoạt động"

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def lock_text(self, now: datetime | None = None) -> str:
        """Until when a locked account stays locked, in Vietnam's time ('14:35 02/12/2026'),
        else ''."""
        if not self.is_locked(now):
            return ""
        from soat import vntime

        return f"{vntime.vn(self.locked_until):%H:%M %d/%m/%Y}"


def _rounds() -> int:
    try:
        return max(4, min(16, int(os.environ.get("SOAT_BCRYPT_ROUNDS", "12"))))
    except ValueError:
        return 12


def session_hours() -> float:
    try:
        return float(os.environ.get("SOAT_SESSION_HOURS", DEFAULT_SESSION_HOURS))
    except ValueError:
        return DEFAULT_SESSION_HOURS


def hash_password(password: str, username: str | None = None) -> str:
    check_password_policy(password, username)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(_rounds())).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    pw = password.encode("utf-8")
    if len(pw) > 72:  # never set (policy), so never right; bcrypt itself would truncate
        return False
    try:
        return bcrypt.checkpw(pw, password_hash.encode("ascii"))
    except ValueError:
        return False


# Verified against for unknown usernames, so a wrong name costs as long as a wrong password
# (same cost factor as real hashes).
_DUMMY_HASHES: dict[int, str] = {}


def _dummy_hash() -> str:
    r = _rounds()
    if r not in _DUMMY_HASHES:
        _DUMMY_HASHES[r] = bcrypt.hashpw(b"soat-dummy-password", bcrypt.gensalt(r)).decode("ascii")
    return _DUMMY_HASHES[r]


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(_fold(ln) for ln in lines if ln.strip() and not ln.startswith("#"))


_LEET = str.maketrans(
    {
        "@": "a",
        "4": "a",
        "0": "o",
        "1": "i",
        "!": "i",
        "3": "e",
        "$": "s",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
    }
)


def _fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), no surrounding spaces."""
    text = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


def _common(password: str) -> bool:
    """The password, or its letters, or its letters with leetspeak undone, or the same
    without separators, is on the common list."""
    folded = _fold(password)
    common = common_passwords()
    squeezed = re.sub(r"[\s._-]+", "", folded)
    letters = re.sub(r"[^a-z]", "", folded)
    core = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", squeezed)  # digits and signs around it off
    unleet = re.sub(r"[^a-z]", "", core.translate(_LEET))
    return any(v and v in common for v in (folded, squeezed, letters, unleet))


def check_password_policy(password: str, username: str | None = None) -> None:
    """Refuse a weak password with a Vietnamese message (SoatError): shorter than 12
    characters unless a passphrase of 4 words; over bcrypt's 72 bytes; fewer than 5
    different characters; a common password (soat/data/common_passwords.txt, also with
    digits, symbols or leetspeak added); equal to or containing the username."""
    if not isinstance(password, str) or not password:
        raise SoatError(f"mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự")
    if len(password.encode("utf-8")) > 72:
        raise SoatError("mật khẩu quá dài (tối đa 72 byte)")
    words = [w for w in re.split(r"[\s._-]+", password) if w]
    passphrase = len(words) >= MIN_PASSPHRASE_WORDS and len(password) >= MIN_PASSPHRASE
    if len(password) < MIN_PASSWORD and not passphrase:
        raise SoatError(
            f"mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự, hoặc là một câu từ "
            f"{MIN_PASSPHRASE_WORDS} từ trở lên (ví dụ: 'ba con mèo nhỏ')"
        )
    if len(set(password)) < MIN_DISTINCT:
        raise SoatError(f"mật khẩu quá đơn điệu: cần ít nhất {MIN_DISTINCT} ký tự khác nhau")
    if _common(password):
        raise SoatError("mật khẩu quá phổ biến, dễ bị đoán: hãy chọn mật khẩu khác")
    if username and len(username.strip()) >= 3 and _fold(username) in _fold(password):
        raise SoatError("mật khẩu không được trùng hoặc chứa tên đăng nhập")


def warm_dummy_hash() -> None:
    """Compute the stand-in hash now (the login form calls it): otherwise the first login
    with an unknown name would cost one more bcrypt than any other."""
    _dummy_hash()


def _norm_list(values, what: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    out = tuple(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
    return out or None


def _validate(role: str, units, levels, school) -> tuple:
    if role not in ROLES:
        raise SoatError(
            f"vai trò '{role}' không hợp lệ; chọn một trong: {', '.join(ROLES)}", column="--role"
        )
    units = _norm_list(units, "units")
    levels = _norm_list(levels, "levels")
    school = (school or "").strip() or None
    if levels:
        bad = [lv for lv in levels if lv not in LEVELS]
        if bad:
            raise SoatError(
                f"cấp học '{bad[0]}' không hợp lệ; chọn trong: {', '.join(LEVELS)}",
                column="--level",
            )
    if role == "province_admin":
        if units or levels or school:
            raise SoatError(
                "tài khoản quản trị Sở thấy toàn tỉnh, mọi cấp học: không nhận đơn vị, cấp "
                "học hay mã trường",
                column="--unit" if units else "--level" if levels else "--school",
            )
    elif role == "province_staff":
        if units or school:
            raise SoatError(
                "chuyên viên Sở thấy toàn tỉnh: không nhận đơn vị hay mã trường (chỉ giới "
                "hạn được cấp học)",
                column="--unit" if units else "--school",
            )
    elif role == "unit_officer":
        if not units:
            raise SoatError("cán bộ Phòng/Xã cần ít nhất một đơn vị", column="--unit")
        if school:
            raise SoatError(
                "cán bộ Phòng/Xã thấy các trường của đơn vị mình: không nhận mã trường",
                column="--school",
            )
    elif role == "school":
        if not school:
            raise SoatError("tài khoản trường cần mã trường", column="--school")
        if units or levels:
            raise SoatError(
                "tài khoản trường chỉ nhận mã trường (không nhận đơn vị, cấp học)",
                column="--unit" if units else "--level",
            )
    return units, levels, school


def _valid_username(username: str) -> str:
    u = (username or "").strip()
    if not USERNAME_RE.fullmatch(u):
        raise SoatError(
            "tên đăng nhập không hợp lệ: 1–100 ký tự gồm chữ, số và . _ - @ + (không có "
            "khoảng trắng)"
        )
    return u


# Usernames are unique whatever their case: create_user compares them case-folded in
# Python (SQLite's lower() knows only ASCII: 'Đ' ≠ 'đ'), and this index guards against two
# creations at once where the database allows it. An old app database that already holds
# two names differing only in case keeps both, without the index (docs/access.md).
USERNAME_CI_INDEX = "ux_users_username_ci"


def _db(app_db: AppDB | str | None) -> AppDB:
    db = get_app_db(app_db)
    if not getattr(db, "_soat_username_index", False):
        table = f'"{db.schema}".users' if db.schema else "users"
        try:
            with db.begin() as conn:
                conn.execute(
                    text(
                        f"CREATE UNIQUE INDEX IF NOT EXISTS {USERNAME_CI_INDEX} "
                        f"ON {table} (lower(username))"
                    )
                )
        except Exception:  # noqa: BLE001 - duplicates from before: create_user's check stays
            pass
        db._soat_username_index = True  # type: ignore[attr-defined]
    return db


def _fold_name(username: str) -> str:
    return unicodedata.normalize("NFC", username).casefold()


def _same_names(conn, username: str) -> list[str]:
    """Existing usernames equal to `username` whatever their case (a small table)."""
    key = _fold_name(username)
    return [n for (n,) in conn.execute(select(users.c.username)) if _fold_name(n) == key]


def _find(conn, username: str):
    """The account row of `username`: its exact spelling, else the one account whose name
    differs only in case (none when two do: an old database's duplicates)."""
    r = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    if r is not None or not username:
        return r
    names = _same_names(conn, username)
    if len(names) != 1:
        return None
    return conn.execute(select(users).where(users.c.username == names[0])).mappings().first()


# An address as people type it: one '@', no spaces, a domain with a dot (no display name).
_EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]+")


def valid_email(address: str | None) -> str | None:
    """The address trimmed (None for empty), or SoatError naming what is wrong."""
    a = (address or "").strip()
    if not a:
        return None
    if len(a) > 320 or not _EMAIL.fullmatch(a):
        raise SoatError(f"địa chỉ thư điện tử '{a}' không hợp lệ (dạng ten@donvi.edu.vn)")
    return a


def _row_to_user(r) -> User:
    return User(
        username=r["username"],
        role=r["role"],
        units=tuple(r["units"]) if r["units"] else None,
        levels=tuple(r["levels"]) if r["levels"] else None,
        school=r["school"],
        disabled=bool(r["disabled"]),
        created_at=r["created_at"],
        locked_until=r["locked_until"],
        failed_attempts=r["failed_attempts"] or 0,
        email=r.get("email"),
    )


def create_user(
    username: str,
    password: str,
    role: str,
    units=None,
    levels=None,
    school=None,
    app_db: AppDB | str | None = None,
    by: str = "local",
    email: str | None = None,
) -> User:
    """Create an account. Raises SoatError on a bad role/scope, weak password, taken name
    or malformed e-mail address."""
    db = _db(app_db)
    username = _valid_username(username)
    units, levels, school = _validate(role, units, levels, school)
    email = valid_email(email)
    pw_hash = hash_password(password, username)
    with db.begin() as conn:
        taken = _same_names(conn, username)
        if taken:
            raise SoatError(
                f"tài khoản '{username}' đã tồn tại"
                if username in taken
                else f"tài khoản '{taken[0]}' đã tồn tại (tên đăng nhập không phân biệt chữ hoa, "
                "chữ thường)"
            )
        conn.execute(
            users.insert().values(
                username=username,
                password_hash=pw_hash,
                role=role,
                units=list(units) if units else None,
                levels=list(levels) if levels else None,
                school=school,
                disabled=False,
                failed_attempts=0,
                locked_until=None,
                created_at=utcnow(),
                created_by=by,
                email=email,
            )
        )
    detail = {"target": username, "role": role, "units": units, "levels": levels, "school": school}
    if email:
        detail["email"] = email
    audit.record("user_add", by, detail, app_db=db)
    return get_user(username, app_db=db)


def get_user(username: str, app_db: AppDB | str | None = None) -> User | None:
    """The account (its exact name, else the one differing only in case), or None."""
    db = _db(app_db)
    with db.connect() as conn:
        r = _find(conn, (username or "").strip())
    return _row_to_user(r) if r else None


def list_users(app_db: AppDB | str | None = None) -> list[User]:
    db = get_app_db(app_db)
    with db.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).mappings().all()
    return [_row_to_user(r) for r in rows]


def _require_user(conn, username: str):
    r = _find(conn, (username or "").strip())
    if not r:
        raise SoatError(f"không có tài khoản '{username}'")
    return r


def set_disabled(
    username: str, disabled: bool = True, app_db: AppDB | str | None = None, by: str = "local"
) -> None:
    """Disable (or re-enable) an account; disabling ends its sessions at once. Either way a
    lock-out is lifted (re-enabling is how an admin unlocks an account early)."""
    db = _db(app_db)
    with db.begin() as conn:
        username = _require_user(conn, username)["username"]
        conn.execute(
            update(users)
            .where(users.c.username == username)
            .values(disabled=disabled, failed_attempts=0, locked_until=None)
        )
        if disabled:
            conn.execute(delete(sessions).where(sessions.c.username == username))
    audit.record("user_disable" if disabled else "user_enable", by, {"target": username}, app_db=db)


def set_email(
    username: str, email: str | None, app_db: AppDB | str | None = None, by: str = "local"
) -> None:
    """Set (or, with None or '', remove) the address `soat notify` writes to."""
    db = get_app_db(app_db)
    email = valid_email(email)
    with db.begin() as conn:
        _require_user(conn, username)
        conn.execute(update(users).where(users.c.username == username).values(email=email))
    audit.record("user_email", by, {"target": username, "email": email}, app_db=db)


def disable_user(username: str, app_db: AppDB | str | None = None, by: str = "local") -> None:
    set_disabled(username, True, app_db=app_db, by=by)


def set_password(
    username: str, password: str, app_db: AppDB | str | None = None, by: str = "local"
) -> None:
    """Change a password; ends the account's sessions and clears a lock-out."""
    db = _db(app_db)
    with db.begin() as conn:
        username = _require_user(conn, username)["username"]
    pw_hash = hash_password(password, username)
    with db.begin() as conn:
        conn.execute(
            update(users)
            .where(users.c.username == username)
            .values(password_hash=pw_hash, failed_attempts=0, locked_until=None)
        )
        conn.execute(delete(sessions).where(sessions.c.username == username))
    audit.record("user_passwd", by, {"target": username}, app_db=db)


def _count_failure(conn, username: str, now: datetime) -> tuple[int, datetime | None]:
    """Add one to the account's failed attempts in the database (`failed_attempts + 1`,
    not a value computed from an earlier read: attempts sent at once, each session in its
    own thread, would all write the same count and never reach the lock-out), unless a
    concurrent attempt has locked the account meanwhile; then read back the count and the
    lock, inside the caller's transaction. PostgreSQL's row lock holds the concurrent
    attempts' UPDATEs until this one commits, then re-evaluates their WHERE on the new
    row; SQLite takes its write lock at the UPDATE."""
    conn.execute(
        update(users)
        .where(
            users.c.username == username,
            or_(users.c.locked_until.is_(None), users.c.locked_until <= now),
        )
        .values(failed_attempts=func.coalesce(users.c.failed_attempts, 0) + 1)
    )
    row = conn.execute(
        select(users.c.failed_attempts, users.c.locked_until).where(users.c.username == username)
    ).one()
    return row[0] or 0, row[1]


def authenticate(
    username: str, password: str, app_db: AppDB | str | None = None, now: datetime | None = None
) -> User:
    """Check a login. Returns the User, or raises AuthError (audited either way).

    Every refusal raises the same AuthError(BAD_LOGIN) after the same bcrypt work: an
    unknown name is checked against a stand-in hash, a locked account's password is
    checked (and ignored: the lock holds even for the right one), a disabled account's
    too. The audit log records the real reason (and `login_locked` for a locked account)."""
    db = _db(app_db)
    now = now or utcnow()
    username = (username or "").strip()
    with db.begin() as conn:
        r = _find(conn, username)
        if r is None:
            verify_password(password or "", _dummy_hash())
            outcome = ("login_failed", {"reason": "unknown_user"})
        else:
            username = r["username"]
            right = verify_password(password or "", r["password_hash"])
            if r["locked_until"] is not None and r["locked_until"] > now:
                outcome = ("login_locked", {"until": r["locked_until"]})
            elif not right:
                failed, locked = _count_failure(conn, username, now)
                reason = "wrong_password"
                if locked is not None and locked > now:  # a concurrent attempt locked it
                    outcome = ("login_locked", {"until": locked})
                else:
                    if failed >= MAX_FAILED:
                        conn.execute(
                            update(users)
                            .where(users.c.username == username)
                            .values(
                                failed_attempts=0,
                                locked_until=now + timedelta(minutes=LOCK_MINUTES),
                            )
                        )
                        reason = "wrong_password_locked"
                    outcome = ("login_failed", {"reason": reason, "attempt": failed})
            elif r["disabled"]:
                outcome = ("login_failed", {"reason": "disabled"})
            else:
                conn.execute(
                    update(users)
                    .where(users.c.username == username)
                    .values(failed_attempts=0, locked_until=None)
                )
                outcome = None
    if outcome is None:
        audit.record("login", username, None, app_db=db)
        return _row_to_user(r)
    action, detail = outcome
    audit.record(action, username or "?", detail, app_db=db)
    if detail.get("reason") == "wrong_password_locked":
        audit.record("user_locked", username, {"minutes": LOCK_MINUTES}, app_db=db)
    raise AuthError(BAD_LOGIN)


# ---- sessions ------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_session(
    username: str,
    app_db: AppDB | str | None = None,
    hours: float | None = None,
    now: datetime | None = None,
) -> str:
    """A new random session token for a user (only its hash is stored)."""
    db = get_app_db(app_db)
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with db.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.expires_at <= now))  # housekeeping
        conn.execute(
            sessions.insert().values(
                token_hash=_token_hash(token),
                username=username,
                created_at=now,
                expires_at=now + timedelta(hours=session_hours() if hours is None else hours),
            )
        )
    return token


def validate_session(
    token: str | None, app_db: AppDB | str | None = None, now: datetime | None = None
) -> User | None:
    """The session's user, or None if the token is unknown, expired, or the user is gone or
    disabled (fails closed on anything unexpected)."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    db = get_app_db(app_db)
    now = now or utcnow()
    try:
        with db.connect() as conn:
            s = (
                conn.execute(select(sessions).where(sessions.c.token_hash == _token_hash(token)))
                .mappings()
                .first()
            )
            if s is None or s["expires_at"] <= now:
                return None
            r = (
                conn.execute(select(users).where(users.c.username == s["username"]))
                .mappings()
                .first()
            )
    except Exception:  # noqa: BLE001 - fail closed
        return None
    if r is None or r["disabled"] or r["role"] not in ROLES:
        return None
    return _row_to_user(r)


def end_session(token: str | None, app_db: AppDB | str | None = None) -> None:
    if not token:
        return
    db = get_app_db(app_db)
    with db.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.token_hash == _token_hash(token)))


# ---- scope ---------------------------------------------------------------------------


def scope_for(user: User) -> Scope:
    """What a user may see. Fails closed: an unknown role or a scope-less officer/school
    sees nothing (a unit/school code that cannot exist)."""
    role = user.role
    unmasked = role in UNMASKED_ROLES
    if role == "province_admin":
        return Scope(
            units=None, levels=None, school=None, unmasked=True, user=user.username, role=role
        )
    if role == "province_staff":
        return Scope(
            units=None,
            levels=user.levels,
            school=None,
            unmasked=unmasked,
            user=user.username,
            role=role,
        )
    if role == "unit_officer" and user.units:
        return Scope(
            units=user.units,
            levels=user.levels,
            school=None,
            unmasked=unmasked,
            user=user.username,
            role=role,
        )
    if role == "school" and user.school:
        return Scope(
            units=None,
            levels=None,
            school=user.school,
            unmasked=unmasked,
            user=user.username,
            role=role,
        )
    return Scope(
        units=("\x00none",),
        levels=None,
        school="\x00none",
        unmasked=False,
        user=user.username,
        role=role,
    )


def is_admin(scope: Scope | User | None) -> bool:
    return scope is not None and getattr(scope, "role", None) in ADMIN_ROLES
