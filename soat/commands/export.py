"""`soat export findings|schools|late`: write an export of a checked snapshot.

Default csv to stdout; `--format xlsx` needs `-o PATH` (a workbook on a terminal is a
usage error, exit 2). The command line runs as Scope.admin(). Only snapshots whose
catalogue has run (`checked_at` set) are exported.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

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
    p.add_argument(
        "--change",
        choices=("new", "persisting", "resolved"),
        help="chỉ findings: new (mới) | persisting (còn tồn tại) | resolved (đã khắc phục), "
        "so với bản chụp trước",
    )
    p.add_argument(
        "--from",
        dest="from_id",
        type=int,
        metavar="ID",
        help="chỉ findings: so sánh với bản chụp này (mặc định: bản chụp liền trước)",
    )
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


def comparison(con, snap: dict, change: str | None, from_id: int | None) -> dict | None:
    """The snapshot a `findings --change/--from` export compares with ({snapshot_id, as_of,
    name}), checked: --from must be an earlier checked snapshot; without it the snapshot
    must have been compared with a previous one when it was checked. None: no comparison."""
    from soat.db import dicts

    if change is None and from_id is None:
        return None
    sid = snap["snapshot_id"]
    if from_id is not None:
        rows = dicts(
            con,
            "SELECT snapshot_id, name, as_of, checked_at FROM snapshots WHERE snapshot_id = $s",
            {"s": from_id},
        )
        if not rows or rows[0]["checked_at"] is None:
            raise SoatError(f"không có bản chụp {from_id} đã kiểm tra", column="--from")
        r = rows[0]
        if (r["as_of"], r["snapshot_id"]) >= (snap["as_of"], sid):
            raise SoatError(
                f"bản chụp {from_id} (ngày {r['as_of']:%d/%m/%Y}) không có trước bản chụp "
                f"{sid} (ngày {snap['as_of']:%d/%m/%Y}); --from cần một bản chụp trước",
                column="--from",
            )
        return r
    rows = dicts(
        con,
        """SELECT b.previous_id AS snapshot_id, b.previous_as_of AS as_of, s.name
           FROM history_baselines b LEFT JOIN snapshots s ON s.snapshot_id = b.previous_id
           WHERE b.snapshot_id = $s""",
        {"s": sid},
    )
    if not rows:
        raise SoatError(
            f"bản chụp {sid} được kiểm tra trước khi có so sánh giữa các bản chụp; chạy lại "
            f"'soat check --snapshot {sid}' hoặc chọn bản chụp so sánh bằng --from",
            column="--change",
        )
    if rows[0]["snapshot_id"] is None:
        raise SoatError(
            f"bản chụp {sid} không có bản chụp nào trước nó để so sánh", column="--change"
        )
    return rows[0]


def run(args) -> int:
    from soat import store
    from soat.db import scalar
    from soat.exports.xlsx import title_text, write_xlsx
    from soat.scope import Scope

    if args.format == "xlsx" and not args.output:
        raise UsageError("--format xlsx cần -o TỆP (không ghi bảng tính ra màn hình)")
    change = getattr(args, "change", None)
    from_id = getattr(args, "from_id", None)
    if args.kind != "findings" and (change or from_id is not None):
        raise UsageError("--change và --from chỉ dùng với 'soat export findings'")
    # The dashboard's downloads call run() with the user's Scope and its own read-only
    # connection (args.scope, args.con), so a download is byte for byte this command's output.
    scope = getattr(args, "scope", None) or Scope.admin()
    con = getattr(args, "con", None)
    borrowed = con is not None
    if not borrowed:
        path = store.db_path(args.db)
        if path != ":memory:" and not Path(path).exists():
            raise SoatError(f"không tìm thấy cơ sở dữ liệu {path}", column="--db")
        con = store.connect(path, read_only=path != ":memory:")
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
        against = comparison(con, snap, change, from_id)
        module = export_module(args.kind)
        over_time = {"change": change, "from_id": from_id} if against else {}
        df = module.frame(
            con,
            sid,
            scope,
            unit=args.unit,
            level=args.level,
            period=args.period,
            check=args.check,
            **over_time,
        )
    finally:
        if not borrowed:
            con.close()

    if args.format == "csv":
        if args.output:
            # a file is for Excel users: the BOM makes Excel read the UTF-8 Vietnamese right
            df.write_csv(args.output, include_bom=True)
        else:
            sys.stdout.write(df.write_csv())
            sys.stdout.flush()
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
    if against:
        from soat.exports.findings import CHANGE_VI

        what = CHANGE_VI[change].lower() if change else "thay đổi"
        report += (
            f" — {what} so với bản chụp {against['snapshot_id']} (ngày {against['as_of']:%d/%m/%Y})"
        )
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
        for key, attr in (("change", "change"), ("from", "from_id")):
            if getattr(args, attr, None) is not None:
                filters[key] = getattr(args, attr)
        if args.output:
            filters["output"] = str(args.output)
        audit.log_export(scope, args.kind, filters, rows=rows, fmt=args.format)
    except Exception as exc:  # noqa: BLE001
        print(f"soat: cảnh báo: không ghi được nhật ký truy cập: {exc}", file=sys.stderr)
