"""`soat export findings|schools|late|letter|school-sheets`: write an export of a checked
snapshot.

Default csv to stdout; `--format xlsx` needs `-o PATH` (a workbook on a terminal is a
usage error, exit 2). The command line runs as Scope.admin(). Only snapshots whose
catalogue has run (`checked_at` set) are exported.

`letter` writes the reminder letter (công văn đôn đốc, .docx) listing the late and missing
rows of `late` (`-o FILE.docx`, optional `--target Sở|Bộ`); `school-sheets` writes one
.xlsx per school (`-o FOLDER`, or `-o FILE.zip`; `--all-schools` also writes the schools
with nothing to fix). See docs/outreach.md.
"""

from __future__ import annotations

import importlib
import sys

from soat.cli import add_db_option
from soat.errors import SoatError, UsageError
from soat.vocab import LEVELS

KINDS = ("findings", "schools", "late", "letter", "school-sheets")
DOCUMENT_KINDS = ("letter", "school-sheets")


def register(sub) -> None:
    p = sub.add_parser("export", help="xuất danh sách lỗi, danh sách trường, danh sách trễ hạn")
    p.add_argument(
        "kind",
        metavar="LOẠI",
        choices=KINDS,
        help="findings | schools | late | letter | school-sheets",
    )
    add_db_option(p)
    p.add_argument("--snapshot", type=int, help="mã bản chụp (mặc định: bản đã kiểm tra mới nhất)")
    p.add_argument("--format", choices=("csv", "xlsx"), help="csv (mặc định) | xlsx")
    p.add_argument("-o", "--output", help="tệp ghi ra (mặc định: màn hình, chỉ với csv)")
    p.add_argument("--unit", help="mã đơn vị (gồm mọi đơn vị trực thuộc)")
    p.add_argument("--level", choices=LEVELS, help="cấp học")
    p.add_argument("--period", help="kỳ báo cáo, ví dụ dau_nam")
    p.add_argument("--check", help="mã kiểm tra, ví dụ student.id_format (hoặc student)")
    p.add_argument(
        "--target",
        type=_target,
        metavar="Sở|Bộ",
        help="letter: chỉ dữ liệu nộp lên Sở hoặc Bộ (cũng nhận So, Bo)",
    )
    p.add_argument(
        "--all-schools",
        action="store_true",
        help="school-sheets: ghi cả trường không có lỗi, không nộp chậm",
    )
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


def _target(value: str) -> str:
    """'Sở' or 'Bộ', as typed with or without diacritics (So, Bo) or as soat.vocab names them."""
    from soat.vocab import TARGETS, name_key

    for canonical, aliases in TARGETS.items():
        if name_key(value) in {name_key(canonical), *(name_key(a) for a in aliases)}:
            return canonical
    import argparse

    raise argparse.ArgumentTypeError(f"'{value}' không hợp lệ: chọn Sở hoặc Bộ")


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
    from soat.exports import output
    from soat.exports.xlsx import title_text, write_xlsx
    from soat.scope import Scope
    from soat.snapshot_store import read_connection

    if args.kind in DOCUMENT_KINDS:
        return run_document(args)
    args.format = args.format or "csv"
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
        con = read_connection(args.db)
    try:
        snap = checked_snapshot(con, args.snapshot)
        sid = snap["snapshot_id"]
        unit_label = _unit_label(con, sid, args.unit)
        args.period = _period(con, sid, args.period)
        if args.check:
            known_check(args.check)
        unit_label = scope_label(con, sid, scope, unit_label)
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
        from soat.exports import csv as csv_file

        # cells that could start a formula are neutralised (soat.exports.csv); a file is for
        # Excel users: the BOM makes Excel read the UTF-8 Vietnamese right
        if args.output:
            with output.file(args.output) as tmp:  # whole or not at all, audited first
                csv_file.write(df, tmp)
                _audit(args, scope, sid, df.height, borrowed)
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
    if against:
        from soat.exports.findings import CHANGE_VI

        what = CHANGE_VI[change].lower() if change else "thay đổi"
        report += (
            f" — {what} so với bản chụp {against['snapshot_id']} (ngày {against['as_of']:%d/%m/%Y})"
        )
    with output.file(args.output) as tmp:  # whole or not at all, audited first
        write_xlsx(
            shown,
            tmp,
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


# ---- letter, school-sheets ---------------------------------------------------------------


def _period(con, sid: int, period: str | None) -> str | None:
    """--period as the snapshot's code: the code ('dau_nam') or its label in any case, with
    or without diacritics ('Đầu năm', 'dau nam'); a period the snapshot does not have is a
    SoatError listing those it has (it once exported nothing, silently)."""
    if period is None:
        return None
    from soat.exports.late import period_label
    from soat.vocab import fold, strip_diacritics

    rows = con.execute(
        """SELECT DISTINCT period FROM submission_status WHERE snapshot_id = $s
           AND period IS NOT NULL UNION SELECT DISTINCT period FROM deadlines
           WHERE snapshot_id = $s AND period IS NOT NULL ORDER BY 1""",
        {"s": sid},
    ).fetchall()
    codes = [r[0] for r in rows]

    def key(text: str) -> str:
        return strip_diacritics(fold(text)).replace("_", " ").strip()

    for c in codes:
        if period == c or key(period) in (key(c), key(period_label(c) or "")):
            return c
    known = ", ".join(f"{c} ({period_label(c)})" for c in codes) or "không có kỳ nào"
    raise SoatError(
        f"không có kỳ báo cáo '{period}' trong bản chụp {sid}; các kỳ: {known}",
        column="--period",
    )


def _unit_label(con, sid: int, unit: str | None) -> str | None:
    """'79760 Phòng GD&ĐT Quận 1' for --unit, or SoatError naming an unknown unit."""
    from soat.db import scalar

    if unit is None:
        return None
    if not unit.strip():  # '--unit ""' once exported the whole province
        raise SoatError("mã đơn vị trống", column="--unit")
    known = scalar(
        con,
        "SELECT count(*) FROM unit_closure WHERE snapshot_id = $s AND ancestor_code = $u",
        {"s": sid, "u": unit},
    )
    if not known:
        raise SoatError(f"không có đơn vị '{unit}' trong bản chụp {sid}", column="--unit")
    name = scalar(
        con,
        "SELECT any_value(unit_name) FROM units WHERE snapshot_id = $s AND unit_code = $u",
        {"s": sid, "u": unit},
    )
    return f"{unit} {name}" if name else unit


def run_document(args) -> int:
    """`letter` (.docx) and `school-sheets` (a folder or a .zip of .xlsx). Like the other
    exports: scoped (the dashboard passes args.scope and args.con), audit-logged."""
    from soat.exports import output
    from soat.scope import Scope

    letter = args.kind == "letter"
    if getattr(args, "format", None) and (letter or args.format == "csv"):
        raise UsageError(
            "công văn luôn là tệp .docx: bỏ --format"
            if letter
            else "phiếu lỗi từng trường là tệp .xlsx: bỏ --format csv"
        )
    if not args.output:
        raise UsageError(
            "letter cần -o TỆP.docx" if letter else "school-sheets cần -o THƯ_MỤC (hoặc -o TỆP.zip)"
        )
    if not letter and getattr(args, "check", None):
        raise UsageError("school-sheets không nhận --check (mỗi phiếu có mọi lỗi của trường)")
    if letter and getattr(args, "check", None):
        raise UsageError("letter không nhận --check")
    scope = getattr(args, "scope", None) or Scope.admin()
    con = getattr(args, "con", None)
    borrowed = con is not None
    if not borrowed:
        from soat.snapshot_store import read_connection

        con = read_connection(args.db)
    try:
        snap = checked_snapshot(con, args.snapshot)
        sid = snap["snapshot_id"]
        _unit_label(con, sid, args.unit)
        if getattr(args, "period", None) is not None:
            args.period = _period(con, sid, args.period)
        filters = {"snapshot": sid, "unit": args.unit, "level": args.level}
        if letter:
            from soat.exports import letter as letter_export

            doc = letter_export.build(
                con,
                snap,
                scope,
                unit=args.unit,
                level=args.level,
                period=args.period,
                target=getattr(args, "target", None),
            )
            rows = doc.rows.height
            if rows == 0:
                raise SoatError(
                    "không có trường nào chưa nộp hoặc nộp trễ hạn trong phạm vi đã chọn: "
                    "không lập công văn"
                )
            filters.update(period=args.period, target=getattr(args, "target", None))
        else:
            from soat.exports import school_sheets

            sheets = school_sheets.build(
                con,
                sid,
                scope,
                unit=args.unit,
                level=args.level,
                all_schools=getattr(args, "all_schools", False),
            )
            rows = sum(s.findings.height for s in sheets)
            clean = len(
                school_sheets.schools(con, sid, scope, unit=args.unit, level=args.level)
            ) - sum(1 for s in sheets if s.findings.height or s.late.height)
    finally:
        if not borrowed:
            con.close()

    def audit_it(files: list[str] | None = None) -> None:
        if borrowed:
            return
        filters["output"] = str(args.output)
        if files is not None:
            filters["files"] = len(files)
        try:
            from soat import audit

            audit.log_export(scope, args.kind, filters, rows=rows, fmt="docx" if letter else "xlsx")
        except Exception as exc:  # noqa: BLE001
            print(f"soat: cảnh báo: không ghi được nhật ký truy cập: {exc}", file=sys.stderr)

    if letter:
        with output.file(args.output) as tmp:  # whole or not at all, audited first
            doc.save(tmp)
            audit_it()
        message = (
            f"Đã ghi công văn đôn đốc {args.output}: {doc.rows['school_code'].n_unique()} "
            f"trường, {rows} dòng trong phụ lục."
        )
    else:
        files = school_sheets.write(
            sheets, snap, args.output, progress=_progress(borrowed), before_publish=audit_it
        )
        args.files = files
        message = f"Đã ghi {len(files)} phiếu lỗi (mỗi trường một tệp .xlsx) vào {args.output}."
        if clean > 0 and not getattr(args, "all_schools", False):
            message += (
                f" {clean} trường không có lỗi, không nộp chậm: không ghi phiếu "
                "(thêm --all-schools để ghi cả các trường này)."
            )
    args.rows = rows
    if not borrowed:
        print(message)
    return 0


def _progress(borrowed: bool):
    """A line on a terminal counting the workbooks written (a district has hundreds)."""
    if borrowed or not sys.stderr.isatty():
        return None

    def show(i: int, n: int) -> None:
        end = "\n" if i == n else ""
        print(f"\rĐang ghi phiếu lỗi: {i}/{n}", end=end, file=sys.stderr, flush=True)

    return show
