"""`soat sample [-o DIR] [--schools N] [--seed S] [--students N] [--format mixed|csv|xlsx]`:
write a synthetic province export with known defects, and its truth files next to it."""

from __future__ import annotations

from soat.errors import UsageError

DEFAULT_OUT = "data/sample/province"


def register(sub) -> None:
    p = sub.add_parser("sample", help="tạo dữ liệu mẫu một tỉnh (có lỗi đã biết)")
    p.add_argument(
        "-o",
        "--out",
        default=DEFAULT_OUT,
        help=f"thư mục ghi dữ liệu (mặc định {DEFAULT_OUT}); ground_truth.csv và "
        "expected_late.csv ghi vào thư mục cha",
    )
    p.add_argument("--schools", type=int, default=40, help="số trường (mặc định 40)")
    p.add_argument("--seed", type=int, default=1, help="hạt giống ngẫu nhiên (mặc định 1)")
    p.add_argument(
        "--students", type=int, default=None, help="tổng số học sinh (mặc định: theo số trường)"
    )
    p.add_argument("--year", default="2024-2025", help="năm học (mặc định 2024-2025)")
    p.add_argument(
        "--weeks",
        type=int,
        choices=(1, 2),
        default=2,
        help="2 (mặc định): thêm bản xuất một tuần sau vào <thư mục>_week2 (có lỗi đã sửa, "
        "lỗi mới, biến động); 1: chỉ một bản",
    )
    p.add_argument(
        "--format",
        default="mixed",
        choices=("mixed", "csv", "xlsx"),
        help="định dạng tệp: mixed (CSV và .xlsx như thực tế), csv, xlsx",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    import re

    from soat.report import number, seconds_text
    from soat.sample import generate

    if args.schools < 1:
        raise UsageError("--schools phải từ 1 trở lên")
    if args.students is not None and args.students < 1:
        raise UsageError("--students phải từ 1 trở lên")
    m = re.fullmatch(r"(\d{4})-(\d{4})", args.year)
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise UsageError("--year phải có dạng 2024-2025")
    s = generate(
        args.out,
        schools=args.schools,
        seed=args.seed,
        students=args.students,
        school_year=args.year,
        formats=args.format,
        weeks=args.weeks,
    )
    print(
        f"Đã tạo tỉnh mẫu trong {s.out_dir} ({seconds_text(s.seconds)}): "
        f"{number(s.schools)} trường, {number(s.classes)} lớp, {number(s.students)} học sinh, "
        f"{number(s.staff)} cán bộ; ngày chốt {s.as_of:%d/%m/%Y}"
    )
    for table, name in s.files.items():
        print(f"  {table:<14} {name}")
    print(
        f"Kết quả mong đợi: {s.out_dir.parent / 'ground_truth.csv'} ({s.truth_rows} dòng, "
        f"{len(s.checks)} mã kiểm tra), {s.out_dir.parent / 'expected_late.csv'} ({s.late_rows} dòng)"
    )
    if s.week2_dir is not None:
        print(
            f"Một tuần sau (ngày chốt {s.week2_as_of:%d/%m/%Y}): {s.week2_dir}; "
            f"{number(s.changes['new'])} phát hiện mới, {number(s.changes['resolved'])} đã "
            f"khắc phục ({s.out_dir.parent / 'expected_changes.csv'}, "
            f"{s.out_dir.parent / 'ground_truth_week2.csv'})"
        )
    return 0
