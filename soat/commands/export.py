"""`soat export findings|schools|late`: write an export of a checked snapshot.

Default csv to stdout; `--format xlsx` needs `-o PATH` (a workbook on a terminal is a
usage error, exit 2). The command line runs as Scope.admin(). Only snapshots whose
catalogue has run (`checked_at` set) are exported.
"""

from __future__ import annotations

import importlib
import sys

from soat.cli import add_db_option
from soat.errors import SoatError, UsageError
from soat.vocab import LEVELS

KINDS = ("findings", "schools", "late")


def register(sub) -> None:
    p = sub.add_parser("export", help="xuất danh sách lỗi, danh sách trường, danh sách trễ hạn")
    p.add_argument("kind", choices=KINDS, help="findings | schools | late")
    add_db_option(p)
    p.add_argument("--snapshot", type=int, help="mã bản chụp (mặc định: bản đã kiểm tra mới nhất)")
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="csv (mặc định) | xlsx")
    p.add_argument("-o", "--output", help="tệp ghi ra (mặc định: màn hình, chỉ với csv)")
    p.add_argument("--unit", help="mã đơn vị (gồm mọi đơn vị trực thuộc)")
    p.add_argument("--level", choices=LEVELS, help="cấp học")
    p.add_argument("--period", help="kỳ báo cáo, ví dụ dau_nam")
    p.add_argument("--check", help="mã kiểm tra, ví dụ student.id_format (hoặc student)")
    p.set_defaults(func=run)


def export_module(kind: str):
    """soat.exports.<kind>, imported only when asked for (late comes from another module)."""
    try:
        return importlib.import_module(f"soat.exports.{kind}")
    except ModuleNotFoundError as exc:
        if exc.name == f"soat.exports.{kind}":
            raise SoatError(f"chưa có chức năng xuất '{kind}'") from exc
        raise


def checked_snapshot(con, requested: int | None) -> dict:
    from soat.db import dicts

    if requested is None:
        rows = dicts(
            con,
            """SELECT snapshot_id, name, school_year, as_of FROM snapshots
               WHERE checked_at IS NOT NULL ORDER BY snapshot_id DESC LIMIT 1""",
        )
        if not rows:
            raise SoatError("chưa có bản chụp nào đã kiểm tra; hãy chạy 'soat load' trước")
        return rows[0]
    rows = dicts(
        con,
        "SELECT snapshot_id, name, school_year, as_of, checked_at FROM snapshots "
        "WHERE snapshot_id = $s",
        {"s": requested},
    )
    if not rows:
        raise SoatError(f"không có bản chụp {requested}", column="--snapshot")
    if rows[0]["checked_at"] is None:
        raise SoatError(
            f"bản chụp {requested} chưa được kiểm tra; hãy chạy 'soat check --snapshot "
            f"{requested}'",
            column="--snapshot",
        )
    return rows[0]


def known_check(check: str) -> None:
    """--check names a check of the catalogue (`student.id_format`) or an entity whose
    checks are meant (`student`); anything else is a typo that would export nothing."""
    from soat.engine import discover

    checks = discover()
    if check in {c.id for c in checks} | {c.entity for c in checks}:
        return
    raise SoatError(
        f"không có kiểm tra '{check}'; ví dụ: student.id_format, hoặc student cho mọi kiểm "
        "tra học sinh (danh sách: docs/checks.md)",
        column="--check",
    )


def scope_label(con, snapshot_id: int, scope, unit_label: str | None) -> str | None:
    """What an export covers, for its title: a school account's school (or the school the
    Trường page's download is narrowed to), else the --unit, else the account's own units,
    with its levels; None is the whole province."""
    from soat.db import dicts

    label = unit_label
    if scope.school:
        rows = dicts(
            con,
            "SELECT any_value(school_name) AS name FROM schools "
            "WHERE snapshot_id = $s AND school_code = $c",
            {"s": snapshot_id, "c": scope.school},
        )
        name = rows[0]["name"] if rows else None
        label = f"{name} ({scope.school})" if name else f"trường {scope.school}"
    elif not label and scope.units:
        rows = dicts(
            con,
            "SELECT unit_code, any_value(unit_name) AS name FROM units "
            "WHERE snapshot_id = $s AND list_contains($u, unit_code) GROUP BY unit_code",
            {"s": snapshot_id, "u": list(scope.units)},
        )
        names = {r["unit_code"]: r["name"] for r in rows}
        label = ", ".join(f"{u} {names[u]}" if names.get(u) else u for u in scope.units)
    if scope.levels:
        label = f"{label or 'Toàn tỉnh'} (cấp {', '.join(scope.levels)})"
    return label


def run(args) -> int:
    from soat.db import scalar
    from soat.exports.xlsx import title_text, write_xlsx
    from soat.scope import Scope
    from soat.snapshot_store import read_connection

    if args.format == "xlsx" and not args.output:
        raise UsageError("--format xlsx cần -o TỆP (không ghi bảng tính ra màn hình)")
    # The dashboard's downloads call run() with the user's Scope and its own read-only
    # connection (args.scope, args.con), so a download is byte for byte this command's output.
    scope = getattr(args, "scope", None) or Scope.admin()
    con = getattr(args, "con", None)
    borrowed = con is not None
    if not borrowed:
        con = read_connection(args.db)
    try:
        snap = checked_snapshot(con, args.snapshot)
        sid = snap["snapshot_id"]
        unit_label = None
        if args.unit:
            name = scalar(
                con,
                "SELECT any_value(unit_name) FROM units WHERE snapshot_id = $s AND unit_code = $u",
                {"s": sid, "u": args.unit},
            )
            known = scalar(
                con,
                "SELECT count(*) FROM unit_closure WHERE snapshot_id = $s AND ancestor_code = $u",
                {"s": sid, "u": args.unit},
            )
            if not known:
                raise SoatError(
                    f"không có đơn vị '{args.unit}' trong bản chụp {sid}", column="--unit"
                )
            unit_label = f"{args.unit} {name}" if name else args.unit
        if args.check:
            known_check(args.check)
        unit_label = scope_label(con, sid, scope, unit_label)
        module = export_module(args.kind)
        df = module.frame(
            con,
            sid,
            scope,
            unit=args.unit,
            level=args.level,
            period=args.period,
            check=args.check,
        )
    finally:
        if not borrowed:
            con.close()

    if args.format == "csv":
        from soat.exports import csv as csv_file

        # cells that could start a formula are neutralised (soat.exports.csv); a file is for
        # Excel users: the BOM makes Excel read the UTF-8 Vietnamese right
        if args.output:
            csv_file.write(df, args.output)
        else:
            csv_file.write(df, sys.stdout, bom=False)
        _audit(args, scope, sid, df.height, borrowed)
        return 0

    shown = module.vietnamese(df) if hasattr(module, "vietnamese") else df
    report = getattr(module, "TITLE_VI", args.kind)
    if args.level:
        report += f" — cấp {args.level}"
    if args.period:
        report += f" — kỳ {args.period}"
    if args.check:
        report += f" — kiểm tra {args.check}"
    write_xlsx(
        shown,
        args.output,
        title=title_text(report, snap, unit_label),
        headers=getattr(module, "HEADERS_VI", {}),
        percent=getattr(module, "PERCENT_COLUMNS", ()),
    )
    _audit(args, scope, sid, df.height, borrowed)
    return 0


def _audit(args, scope, snapshot_id: int, rows: int, borrowed: bool) -> None:
    """Audit log (soat.audit, added by the access helper): who exported what, with which
    filters, how many rows. The dashboard's downloads (borrowed connection) log their own;
    a failing audit write warns but does not undo the export."""
    args.rows = rows  # for callers that log themselves
    if borrowed:
        return
    try:
        from soat import audit

        filters = {
            "snapshot": snapshot_id,
            "unit": args.unit,
            "level": args.level,
            "period": args.period,
            "check": args.check,
        }
        if args.output:
            filters["output"] = str(args.output)
        audit.log_export(scope, args.kind, filters, rows=rows, fmt=args.format)
    except Exception as exc:  # noqa: BLE001
        print(f"soat: cảnh báo: không ghi được nhật ký truy cập: {exc}", file=sys.stderr)
