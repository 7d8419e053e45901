"""`soat users add|edit|list|disable|enable|passwd`: manage dashboard accounts (app database
$SOAT_APP_DB, default sqlite:///data/app.sqlite). Changes are audited as the local admin.
An account's optional e-mail address (`--email`) is where `soat notify` sends its digest.

Like every command, each takes `--db PATH` (the snapshot store): `add` checks the new
account's unit and school codes against its latest checked snapshot and names the unknown
ones (the account is still created: the unit may come with a later snapshot, as on the
dashboard's accounts page)."""

from __future__ import annotations

import getpass
import sys

from soat import terminal
from soat.cli import add_db_option
from soat.errors import SoatError, UsageError

ACTOR = "local"


def register(sub) -> None:
    p = sub.add_parser("users", help="quản lý tài khoản bảng điều khiển")
    p.add_argument(
        "--app-db",
        help="CSDL ứng dụng (mặc định: $SOAT_APP_DB, nếu không có thì sqlite:///data/app.sqlite)",
    )
    usub = p.add_subparsers(dest="users_command")  # same parser class as p: usage errors exit 2

    def _sp(name, help_):
        sp = usub.add_parser(name, help=help_, description=help_)
        add_db_option(sp)
        return sp

    add = _sp("add", "tạo tài khoản (mật khẩu nhập từ bàn phím hoặc --password-stdin)")
    add.add_argument("username")
    add.add_argument(
        "--role",
        required=True,
        choices=("province_admin", "province_staff", "unit_officer", "school"),
    )
    add.add_argument("--unit", action="append", default=[], help="mã đơn vị (lặp lại được)")
    add.add_argument(
        "--level", action="append", default=[], help="cấp học MN|TH|THCS|THPT|GDTX (lặp lại được)"
    )
    add.add_argument("--school", help="mã trường (vai trò school)")
    add.add_argument("--email", help="địa chỉ thư điện tử nhận thư nhắc (soat notify)")
    add.add_argument(
        "--password-stdin", action="store_true", help="đọc mật khẩu từ dòng đầu của stdin"
    )
    add.set_defaults(func=run_add)

    ed = _sp("edit", "sửa tài khoản: địa chỉ thư điện tử nhận thư nhắc")
    ed.add_argument("username")
    email = ed.add_mutually_exclusive_group(required=True)
    email.add_argument("--email", help="địa chỉ thư điện tử mới")
    email.add_argument("--no-email", action="store_true", help="bỏ địa chỉ thư (không nhận thư)")
    ed.set_defaults(func=run_edit)

    ls = _sp("list", "liệt kê tài khoản")
    ls.set_defaults(func=run_list)

    dis = _sp("disable", "vô hiệu hoá tài khoản (đăng xuất mọi phiên)")
    dis.add_argument("username")
    dis.set_defaults(func=run_disable)

    en = _sp("enable", "mở lại tài khoản đã vô hiệu hoá")
    en.add_argument("username")
    en.set_defaults(func=run_enable)

    pw = _sp("passwd", "đặt lại mật khẩu (đăng xuất mọi phiên, gỡ khoá tạm)")
    pw.add_argument("username")
    pw.add_argument(
        "--password-stdin", action="store_true", help="đọc mật khẩu từ dòng đầu của stdin"
    )
    pw.set_defaults(func=run_passwd)

    p.set_defaults(func=_no_subcommand)


def _no_subcommand(args) -> int:
    raise UsageError("thiếu lệnh con: soat users add|edit|list|disable|enable|passwd")


def _read_password(args) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        pw = line.rstrip("\r\n")
        if not pw:
            raise SoatError("không đọc được mật khẩu từ stdin")
        return pw
    if not sys.stdin.isatty():
        raise UsageError("không có bàn phím để nhập mật khẩu: dùng --password-stdin")
    pw = getpass.getpass("Mật khẩu: ")
    if getpass.getpass("Nhập lại mật khẩu: ") != pw:
        raise SoatError("hai lần nhập mật khẩu không khớp")
    return pw


def run_add(args) -> int:
    from soat import accounts

    password = _read_password(args)
    u = accounts.create_user(
        args.username,
        password,
        args.role,
        units=args.unit or None,
        levels=args.level or None,
        school=args.school,
        app_db=args.app_db,
        by=ACTOR,
        email=args.email,
    )
    print(f"Đã tạo tài khoản {u.username} ({accounts.ROLE_LABELS[u.role]})")
    _warn_unknown_codes(args, list(u.units or ()), u.school)
    return 0


def _warn_unknown_codes(args, units: list[str], school: str | None) -> None:
    """Name the unit and school codes the latest checked snapshot of --db does not know
    (a typo would leave an account that sees no school); say so when it cannot tell."""
    if not units and not school:
        return
    from pathlib import Path

    import duckdb

    from soat import store
    from soat.commands.export import checked_snapshot
    from soat.db import dicts
    from soat.snapshot_store import resolve

    path = resolve(args.db)
    if path != ":memory:" and not Path(path).exists():
        print(
            f"soat: lưu ý: chưa có kho dữ liệu {path}: chưa kiểm tra được mã đơn vị/trường",
            file=sys.stderr,
        )
        return
    try:
        con = store.connect(path, read_only=True)
    except duckdb.Error:
        print(
            f"soat: lưu ý: không mở được {path} (đang được ghi?): chưa kiểm tra được mã "
            "đơn vị/trường",
            file=sys.stderr,
        )
        return
    try:
        try:
            sid = checked_snapshot(con, None)["snapshot_id"]
        except SoatError:
            print("soat: lưu ý: chưa có bản chụp nào để kiểm tra mã đơn vị/trường", file=sys.stderr)
            return
        rows = dicts(
            con,
            """SELECT code FROM (
                   SELECT u AS code, 0 AS pos FROM unnest(CAST($units AS VARCHAR[])) AS t(u)
                   WHERE u NOT IN (SELECT unit_code FROM unit_closure
                                   WHERE snapshot_id = $s AND unit_code IS NOT NULL)
                   UNION ALL
                   SELECT $school, 1 WHERE $school IS NOT NULL
                     AND $school NOT IN (SELECT school_code FROM schools
                                         WHERE snapshot_id = $s AND school_code IS NOT NULL))
               ORDER BY pos""",
            {"s": sid, "units": units, "school": school},
        )
    finally:
        con.close()
    unknown = [r["code"] for r in rows]
    if unknown:
        print(
            f"soat: cảnh báo: bản chụp {sid} không có mã {', '.join(unknown)}: tài khoản này "
            "chưa thấy trường nào cho đến khi dữ liệu có mã đó. Nếu gõ nhầm, hãy vô hiệu hoá "
            "tài khoản và tạo lại.",
            file=sys.stderr,
        )


def run_edit(args) -> int:
    from soat import accounts

    email = None if args.no_email else args.email
    accounts.set_email(args.username, email, app_db=args.app_db, by=ACTOR)
    address = accounts.valid_email(email)
    if address:
        print(f"Tài khoản {args.username}: thư nhắc gửi tới {address}")
    else:
        print(f"Tài khoản {args.username}: không còn địa chỉ thư (không nhận thư nhắc)")
    return 0


def run_list(args) -> int:
    """The accounts as a table in Vietnamese; each role with its code for --role, the
    creation time in Vietnam's time (stored as UTC)."""
    from rich.table import Table

    from soat import accounts, vntime

    console = terminal.console()
    rows = accounts.list_users(app_db=args.app_db)
    if not rows:
        console.print("Chưa có tài khoản nào.")
        return 0
    table = Table(title="Tài khoản")
    for h in (
        "Tên đăng nhập",
        "Vai trò",
        "Đơn vị",
        "Cấp học",
        "Trường",
        "Trạng thái",
        "Khoá đến",
        "Tạo lúc",
        "Thư điện tử",
    ):
        table.add_column(h)
    for u in rows:
        table.add_row(
            u.username,
            f"{accounts.ROLE_LABELS.get(u.role, u.role)} ({u.role})",
            ", ".join(u.units or ()),
            ", ".join(u.levels or ()) or "Tất cả",
            u.school or "",
            u.status_label(),
            u.lock_text(),
            f"{vntime.vn(u.created_at):%d/%m/%Y %H:%M}" if u.created_at else "",
            u.email or "",
        )
    console.print(table)
    return 0


def run_disable(args) -> int:
    from soat import accounts

    accounts.set_disabled(args.username, True, app_db=args.app_db, by=ACTOR)
    print(f"Đã vô hiệu hoá tài khoản {args.username}")
    return 0


def run_enable(args) -> int:
    from soat import accounts

    accounts.set_disabled(args.username, False, app_db=args.app_db, by=ACTOR)
    print(f"Đã mở lại tài khoản {args.username}")
    return 0


def run_passwd(args) -> int:
    from soat import accounts

    if accounts.get_user(args.username, app_db=args.app_db) is None:
        raise SoatError(f"không có tài khoản '{args.username}'")
    accounts.set_password(args.username, _read_password(args), app_db=args.app_db, by=ACTOR)
    print(f"Đã đổi mật khẩu tài khoản {args.username}")
    return 0
