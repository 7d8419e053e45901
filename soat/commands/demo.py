"""`soat demo [--port 8501] [--db PATH]`: the dashboard on the sample province.

1. makes the sample province (data/sample/province, and the same province a week later in
   data/sample/province_week2) if either is absent;
2. loads both into the database if the database has no snapshot yet (as `soat load` does,
   one after the other: the second is compared with the first, so the dashboard shows new
   and fixed findings and the trend checks at once);
3. creates the demo account if the app database has no account at all, and prints the login;
4. serves the dashboard on 127.0.0.1 and opens a browser when there is a screen.
"""

from __future__ import annotations

from pathlib import Path

from soat.cli import add_db_option
from soat.commands.serve import port_number

SAMPLE = Path("data/sample/province")
DEMO_USER = "demo"
DEMO_PASSWORD = "xem-thu-soat-2025"


def register(sub) -> None:
    p = sub.add_parser("demo", help="tạo tỉnh mẫu, nạp vào cơ sở dữ liệu và mở bảng điều khiển")
    p.add_argument("--port", type=port_number, default=8501, help="cổng (mặc định 8501)")
    p.add_argument("--sample", default=str(SAMPLE), help="thư mục tỉnh mẫu")
    p.add_argument("--no-serve", action="store_true", help="chỉ chuẩn bị, không chạy máy chủ")
    add_db_option(p)
    p.set_defaults(func=run)


def ensure_sample(folder: Path) -> None:
    from soat.sample.generate import generate, week2_dir

    later = week2_dir(folder)
    if all(f.is_dir() and any(f.iterdir()) for f in (folder, later)):
        print(f"Tỉnh mẫu: {folder}, một tuần sau: {later}")
        return
    print(f"Tạo tỉnh mẫu tại {folder} và {later} …", flush=True)
    s = generate(out_dir=str(folder))
    print(f"  {s.schools} trường, {s.students:,} học sinh, {s.staff:,} cán bộ".replace(",", "."))


def ensure_loaded(db: str, folder: Path) -> None:
    from soat.cli import main as cli
    from soat.snapshot_store import SnapshotStore

    target = SnapshotStore(db)
    if target.path.exists():
        con = target.reader()
        try:
            n = con.execute(
                "SELECT count(*) FROM snapshots WHERE checked_at IS NOT NULL"
            ).fetchall()[0][0]
        finally:
            con.close()
        if n:
            print(f"Kho dữ liệu {db}: đã có {n} bản chụp, không nạp lại")
            return
    from soat.sample.generate import week2_dir

    for source, name in ((folder, "Tỉnh mẫu"), (week2_dir(folder), "Tỉnh mẫu, một tuần sau")):
        print(f"Nạp {source} vào {db} …", flush=True)
        code = cli(["load", str(source), "--db", db, "--name", name])
        if code:
            raise SystemExit(code)


def ensure_account() -> None:
    from soat import accounts

    users = accounts.list_users()
    if not users:
        accounts.create_user(DEMO_USER, DEMO_PASSWORD, "province_admin", by="soat demo")
        print("Đã tạo tài khoản quản trị demo.")
    if any(u.username == DEMO_USER for u in accounts.list_users()):
        if _demo_password_works():
            print(
                f"Đăng nhập: tên '{DEMO_USER}', mật khẩu '{DEMO_PASSWORD}' "
                "(tài khoản demo — đổi mật khẩu bằng 'soat users passwd demo' nếu dùng lâu dài)"
            )
        else:  # created by an older version (another password), or changed since
            print(
                f"Đăng nhập: tên '{DEMO_USER}' với mật khẩu đã đặt trước đây (đặt lại bằng "
                "'soat users passwd demo')."
            )
    else:
        print("Đăng nhập bằng tài khoản đã có (soat users list).")


def _demo_password_works() -> bool:
    """Whether the demo account still has DEMO_PASSWORD (read from its hash: no login, so
    nothing is audited and no failed attempt counted)."""
    from sqlalchemy import select

    from soat.accounts import verify_password
    from soat.appdb import get_app_db, users

    with get_app_db().connect() as conn:
        h = conn.execute(
            select(users.c.password_hash).where(users.c.username == DEMO_USER)
        ).scalar()
    return bool(h) and verify_password(DEMO_PASSWORD, h)


def run(args) -> int:
    from soat.commands.serve import serve
    from soat.snapshot_store import resolve

    db = resolve(args.db)
    folder = Path(args.sample)
    ensure_sample(folder)
    ensure_loaded(db, folder)
    ensure_account()
    if args.no_serve:
        return 0
    return serve(db, args.port, "127.0.0.1", open_browser=True)
