"""Issue 19, findings 4 and 5: a failed login tells nothing about the account (same words,
same bcrypt work), the lock still holds and is audited and visible to an admin; the
password policy; usernames unique whatever their case; `soat users … --db`."""

from __future__ import annotations

import contextlib
import datetime as dt
import io

import bcrypt
import pytest

from soat import accounts, appdb, audit, store
from soat.cli import main
from soat.errors import SoatError

PW = "Bi-mat-2024!"


@pytest.fixture
def bcrypt_calls(monkeypatch):
    """Every bcrypt.checkpw call: (password, cost factor of the hash)."""
    calls: list[tuple[bytes, int]] = []
    real = bcrypt.checkpw

    def spy(pw: bytes, hashed: bytes) -> bool:
        calls.append((pw, int(hashed.split(b"$")[2])))
        return real(pw, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return calls


def _lock(username: str, now: dt.datetime) -> None:
    for _ in range(accounts.MAX_FAILED):
        with pytest.raises(accounts.AuthError):
            accounts.authenticate(username, "sai-mat-khau-roi", now=now)


def test_every_failed_login_answers_alike_after_the_same_bcrypt_work(db, bcrypt_calls):
    now = dt.datetime(2026, 12, 2, 8, 0)
    accounts.create_user("canbo", PW, "unit_officer", units=["79760"])
    accounts.create_user("nghi", PW, "unit_officer", units=["79760"])
    accounts.set_disabled("nghi", True)
    accounts.create_user("khoa", PW, "unit_officer", units=["79760"])
    _lock("khoa", now)
    accounts.warm_dummy_hash()
    cases = {
        "unknown": ("khong_co_ai", PW),
        "wrong password": ("canbo", "sai-mat-khau-roi"),
        "disabled, right password": ("nghi", PW),
        "locked, right password": ("khoa", PW),
        "locked, wrong password": ("khoa", "sai-mat-khau-roi"),
    }
    costs = set()
    for name, (user, pw) in cases.items():
        bcrypt_calls.clear()
        with pytest.raises(accounts.AuthError) as ev:
            accounts.authenticate(user, pw, now=now + dt.timedelta(minutes=1))
        assert str(ev.value) == accounts.BAD_LOGIN, name
        assert len(bcrypt_calls) == 1, f"{name}: {len(bcrypt_calls)} bcrypt checks"
        costs.add(bcrypt_calls[0][1])
    assert len(costs) == 1  # the stand-in hash has the real hashes' cost
    # the lock still holds (the right password did not open it) and ends on time
    later = now + dt.timedelta(minutes=accounts.LOCK_MINUTES + 1)
    assert accounts.authenticate("khoa", PW, now=later).username == "khoa"
    actions = [e["action"] for e in audit.read(user="khoa")]
    assert actions.count("login_locked") == 2 and "user_locked" in actions
    assert audit.read(user="khong_co_ai")[0]["detail"]["reason"] == "unknown_user"
    assert audit.read(user="nghi", action="login_failed")[0]["detail"]["reason"] == "disabled"


def test_wrong_passwords_sent_at_once_all_count(db, monkeypatch):
    """Every dashboard session runs in its own thread: wrong passwords sent at the same
    moment must each count towards the lock-out (they once read the same count and all
    wrote count + 1), on SQLite and on PostgreSQL."""
    import threading

    monkeypatch.setenv("SOAT_BCRYPT_ROUNDS", "6")  # each check ≈ 5 ms: the reads overlap
    accounts.create_user("nan_nhan", PW, "province_admin")
    accounts.warm_dummy_hash()
    n = 3 * accounts.MAX_FAILED
    start = threading.Barrier(n)
    errors: list[str] = []

    def attempt(i: int) -> None:
        start.wait()
        try:
            accounts.authenticate("nan_nhan", f"doan-sai-lan-thu-{i}")
        except accounts.AuthError:
            pass
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    user = accounts.get_user("nan_nhan")
    assert user.locked_until is not None and user.locked_until > appdb.utcnow()
    failed = audit.read(user="nan_nhan", action="login_failed")
    locked = audit.read(user="nan_nhan", action="login_locked")
    assert len(failed) + len(locked) == n  # every attempt audited
    # the attempts before the lock were numbered 1 … MAX_FAILED, each once
    assert sorted(e["detail"]["attempt"] for e in failed) == list(range(1, accounts.MAX_FAILED + 1))
    assert len(audit.read(user="nan_nhan", action="user_locked")) == 1
    with pytest.raises(accounts.AuthError):
        accounts.authenticate("nan_nhan", PW)  # the right password waits for the lock too


def test_an_admin_sees_a_lock_and_lifts_it(db, capsys):
    now = appdb.utcnow()
    accounts.create_user("khoa", PW, "school", school="S1")
    _lock("khoa", now)
    user = accounts.get_user("khoa")
    assert user.status_label() == "Tạm khoá" and user.lock_text()
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "Khoá đến" in out
    line = next(ln for ln in out.splitlines() if "khoa" in ln)
    assert "Tạm khoá" in line and user.lock_text()[:5] in line
    assert main(["users", "enable", "khoa"]) == 0  # re-enabling lifts the lock
    assert accounts.get_user("khoa").status_label() == "Hoạt động"
    assert accounts.authenticate("khoa", PW)


@pytest.mark.parametrize(
    "password, username, why",
    [
        ("password", "canbo", "ít nhất 12"),
        ("mat-khau", "canbo", "ít nhất 12"),
        ("ba con meo", "canbo", "ít nhất 12"),  # three words, 10 characters
        ("passwordpassword", "canbo", "phổ biến"),
        ("Password2024!!", "canbo", "phổ biến"),
        ("p@ssw0rd-12345", "canbo", "phổ biến"),
        ("Mật khẩu 123456", "canbo", "phổ biến"),  # 'matkhau' with digits and diacritics
        ("123456789012", "canbo", "phổ biến"),
        ("qwertyuiop12", "canbo", "phổ biến"),
        ("aaaaaaaaaaaaaaa", "canbo", "đơn điệu"),
        ("canbo-quan-1-2024", "canbo", "tên đăng nhập"),
        ("CANBO-rat-bi-mat", "canbo", "tên đăng nhập"),
        ("x" * 73, "canbo", "quá dài"),
    ],
)
def test_weak_passwords_are_refused(password, username, why):
    with pytest.raises(SoatError, match=why):
        accounts.check_password_policy(password, username)


@pytest.mark.parametrize(
    "password",
    ["Bi-mat-2024!", "xem-thu-soat-2025", "ba con mèo nhỏ", "an ca di ve", "tôi đi học sớm"],
)
def test_good_passwords_and_passphrases_pass(password):
    accounts.check_password_policy(password, "canbo")


def test_cli_refuses_password_and_the_username(sqlite_db, monkeypatch, capsys):
    for pw in ("password", "canbo-2024-abcdef"):
        monkeypatch.setattr("sys.stdin", io.StringIO(pw + "\n"))
        argv = ["users", "add", "canbo", "--role", "school", "--school", "S1"]
        assert main([*argv, "--password-stdin"]) == 1
    assert accounts.get_user("canbo") is None
    assert "mật khẩu" in capsys.readouterr().err


def test_usernames_are_unique_whatever_their_case(db):
    accounts.create_user("Admin1", PW, "province_admin")
    with pytest.raises(SoatError, match="đã tồn tại"):
        accounts.create_user("admin1", PW, "province_admin")
    with pytest.raises(SoatError, match="đã tồn tại"):
        accounts.create_user("ADMİN1".replace("İ", "I"), PW, "province_admin")
    assert [u.username for u in accounts.list_users()] == ["Admin1"]
    # one account: any case logs into it, under its own name
    assert accounts.authenticate("admin1", PW).username == "Admin1"
    accounts.set_disabled("ADMIN1", True)
    assert accounts.get_user("Admin1").disabled


def test_vietnamese_names_differing_in_case_are_one(db):
    accounts.create_user("Đào", PW, "school", school="S1")
    with pytest.raises(SoatError, match="đã tồn tại"):
        accounts.create_user("đào", PW, "school", school="S1")


def test_duplicates_of_an_old_database_stay_apart(db):
    """Two names differing only in case, from before the rule: each logs in with its own
    spelling; another spelling matches neither; no third one can be created."""
    with db.begin() as conn:
        conn.execute(appdb.text("DROP INDEX IF EXISTS ux_users_username_ci"))
    for name in ("Dup", "dup"):
        with db.begin() as conn:
            conn.execute(
                appdb.users.insert().values(
                    username=name,
                    password_hash=accounts.hash_password(PW),
                    role="province_admin",
                    disabled=False,
                    failed_attempts=0,
                    created_at=appdb.utcnow(),
                )
            )
    assert accounts.authenticate("Dup", PW).username == "Dup"
    assert accounts.authenticate("dup", PW).username == "dup"
    with pytest.raises(accounts.AuthError):
        accounts.authenticate("DUP", PW)
    with pytest.raises(SoatError, match="đã tồn tại"):
        accounts.create_user("DUP", PW, "province_admin")


def test_usernames_are_letters_digits_and_a_few_signs(db):
    accounts.create_user("nguyễn.văn-an_1@so", PW, "province_staff")
    for bad in ("[x](http://a)", "<b>x</b>", "a b", "x*y", ""):
        with pytest.raises(SoatError, match="tên đăng nhập không hợp lệ"):
            accounts.create_user(bad, PW, "province_staff")


@pytest.fixture
def duck(tmp_path):
    from tests.access.fixtures import build

    path = tmp_path / "soat.duckdb"
    con = store.connect(str(path))
    build(con)
    con.close()
    return path


def _run(argv, stdin_text=None, monkeypatch=None):
    if stdin_text is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin_text))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = int(exc.code)
    return code, out.getvalue(), err.getvalue()


def test_users_take_db_and_name_unknown_codes(sqlite_db, duck, monkeypatch):
    code, out, err = _run(
        [
            "users",
            "add",
            "canbo",
            "--role",
            "unit_officer",
            "--unit",
            "79760",
            "--unit",
            "99999",
            "--db",
            str(duck),
            "--password-stdin",
        ],
        PW + "\n",
        monkeypatch,
    )
    assert code == 0, err
    assert "Đã tạo tài khoản canbo" in out
    assert "99999" in err and "79760" not in err  # the known unit is not named
    code, _, err = _run(
        [
            "users",
            "add",
            "truong",
            "--role",
            "school",
            "--school",
            "S1",
            "--db",
            str(duck),
            "--password-stdin",
        ],
        PW + "\n",
        monkeypatch,
    )
    assert code == 0 and err == ""  # S1 is a school of the snapshot
    code, out, _ = _run(["users", "list", "--db", str(duck)])
    assert code == 0 and "canbo" in out
    for sub in (["disable", "canbo"], ["enable", "canbo"]):
        assert _run(["users", *sub, "--db", str(duck)])[0] == 0
