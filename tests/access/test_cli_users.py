"""`soat users add|list|disable|enable|passwd`."""

from __future__ import annotations

import io

import pytest

from soat import accounts, audit
from soat.cli import main

PW = "Bi-mat-2024!"


@pytest.fixture
def stdin(monkeypatch):
    def feed(text: str):
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    return feed


def test_add_list_disable_enable_passwd(sqlite_db, stdin, capsys):
    stdin(PW + "\n")
    assert (
        main(
            [
                "users",
                "add",
                "canbo",
                "--role",
                "unit_officer",
                "--unit",
                "79760",
                "--unit",
                "79761",
                "--level",
                "TH",
                "--password-stdin",
            ]
        )
        == 0
    )
    u = accounts.get_user("canbo")
    assert u.units == ("79760", "79761") and u.levels == ("TH",)
    assert accounts.authenticate("canbo", PW)
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "canbo" in ln)
    cells = [c.strip() for c in line.strip("│ ").split("│")]
    assert cells[:6] == [
        "canbo",
        "Cán bộ Phòng/Xã (unit_officer)",
        "79760, 79761",
        "TH",
        "",
        "Hoạt động",
    ]
    assert "Tạo lúc" in out and "active" not in out
    assert PW not in out
    assert main(["users", "disable", "canbo"]) == 0
    assert accounts.get_user("canbo").disabled
    assert main(["users", "enable", "canbo"]) == 0
    stdin("Mat-khau-khac-99\n")
    assert main(["users", "passwd", "canbo", "--password-stdin"]) == 0
    assert accounts.authenticate("canbo", "Mat-khau-khac-99")
    actions = [e["action"] for e in audit.read(user="local")]
    assert {"user_add", "user_disable", "user_enable", "user_passwd"} <= set(actions)
    assert PW not in str(audit.read())


@pytest.mark.parametrize(
    "argv, feed, code, msg",
    [
        (["users", "add", "x", "--role", "boss", "--password-stdin"], PW, 2, "không hợp lệ"),
        (["users", "add", "x", "--password-stdin"], PW, 2, "--role"),
        (["users", "add", "x", "--role", "school", "--password-stdin"], PW, 1, "--school"),
        (
            ["users", "add", "x", "--role", "school", "--school", "S1", "--password-stdin"],
            "ngan",
            1,
            "ít nhất",
        ),
        (
            ["users", "add", "x", "--role", "school", "--school", "S1", "--password-stdin"],
            "",
            1,
            "stdin",
        ),
        (
            [
                "users",
                "add",
                "x",
                "--role",
                "unit_officer",
                "--unit",
                "1",
                "--level",
                "XX",
                "--password-stdin",
            ],
            PW,
            1,
            "cấp học",
        ),
        (
            ["users", "add", "x", "--role", "school", "--school", "S1"],
            PW,
            2,
            "--password-stdin",
        ),  # no tty
        (["users", "disable", "nobody"], "", 1, "không có tài khoản"),
        (["users", "passwd", "nobody", "--password-stdin"], PW, 1, "không có tài khoản"),
        (["users"], "", 2, "thiếu lệnh con"),
    ],
)
def test_errors_exit_codes(sqlite_db, stdin, capsys, argv, feed, code, msg):
    stdin(feed + "\n" if feed else "")
    assert _run(argv) == code
    err = capsys.readouterr().err
    assert msg in err
    assert "Traceback" not in err and PW not in err


def test_duplicate_user(sqlite_db, stdin, capsys):
    stdin(PW + "\n")
    assert (
        main(["users", "add", "t", "--role", "school", "--school", "S1", "--password-stdin"]) == 0
    )
    stdin(PW + "\n")
    assert (
        main(["users", "add", "t", "--role", "school", "--school", "S1", "--password-stdin"]) == 1
    )
    assert "đã tồn tại" in capsys.readouterr().err


def _run(argv: list[str]) -> int:
    """Exit status as the shell sees it (argparse errors raise SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


def test_status_label_follows_the_lock_until_it_ends():
    import datetime as dt

    now = dt.datetime(2026, 12, 2, 12, 0)
    base = {"role": "school", "units": None, "levels": None, "school": "S1"}
    user = accounts.User("a", disabled=False, **base)
    assert user.status_label(now) == "Hoạt động"
    locked = accounts.User("b", disabled=False, locked_until=now + dt.timedelta(minutes=5), **base)
    assert locked.status_label(now) == "Tạm khoá"
    assert locked.status_label(now + dt.timedelta(minutes=6)) == "Hoạt động"  # lock ended
    assert accounts.User("c", disabled=True, **base).status_label(now) == "Vô hiệu"
