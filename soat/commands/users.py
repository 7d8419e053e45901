"""`soat users add|edit|list|disable|enable|passwd`: manage dashboard accounts (app database
$SOAT_APP_DB, default sqlite:///data/app.sqlite). Changes are audited as the local admin.
An account's optional e-mail address (`--email`) is where `soat notify` sends its digest."""

from __future__ import annotations

import getpass
import sys

from soat.errors import SoatError, UsageError

ACTOR = "local"


def register(sub) -> None:
    p = sub.add_parser("users", help="quản lý tài khoản bảng điều khiển")
    p.add_argument(
        "--app-db", help="CSDL ứng dụng (mặc định: $SOAT_APP_DB, else sqlite:///data/app.sqlite)"
    )
    usub = p.add_subparsers(dest="users_command")  # same parser class as p: usage errors exit 2

    def _sp(name, help_):
        return usub.add_parser(name, help=help_, description=help_)

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
    return 0


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
    from rich.console import Console
    from rich.table import Table

    from soat import accounts, vntime

    console = Console() if sys.stdout.isatty() else Console(width=200)
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
