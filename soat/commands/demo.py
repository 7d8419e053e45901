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

SAMPLE = Path("data/sample/province")
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-soat-2025"


def register(sub) -> None:
    p = sub.add_parser("demo", help="tạo tỉnh mẫu, nạp vào cơ sở dữ liệu và mở bảng điều khiển")
    p.add_argument("--port", type=int, default=8501, help="cổng (mặc định 8501)")
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
    from soat import store
    from soat.cli import main as cli

    con = store.connect(db)
    try:
        n = con.execute("SELECT count(*) FROM snapshots WHERE checked_at IS NOT NULL").fetchall()[
            0
        ][0]
    finally:
        con.close()
    if n:
        print(f"Cơ sở dữ liệu {db}: đã có {n} bản chụp, không nạp lại")
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
        print(
            f"Đăng nhập: tên '{DEMO_USER}', mật khẩu '{DEMO_PASSWORD}' "
            "(tài khoản demo — đổi mật khẩu bằng 'soat users passwd demo' nếu dùng lâu dài)"
        )
    else:
        print("Đăng nhập bằng tài khoản đã có (soat users list).")


def run(args) -> int:
    from soat import store
    from soat.commands.serve import serve

    db = store.db_path(args.db)
    folder = Path(args.sample)
    ensure_sample(folder)
    ensure_loaded(db, folder)
    ensure_account()
    if args.no_serve:
        return 0
    return serve(db, args.port, "127.0.0.1", open_browser=True)
