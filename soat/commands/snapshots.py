"""`soat snapshots [list]`: the published snapshots (id, name, source, as-of, loaded at,
row counts, disk use). `soat snapshots delete ID` and `soat snapshots prune --keep N` remove
old ones (never the newest, unless its file is lost), audit-logged before anything is
unlisted; safe while the dashboard reads (soat.snapshot_store). `soat snapshots repair`
lists again the snapshot files the catalog does not account for (all of them when
catalog.json is missing or damaged).
"""

from __future__ import annotations

import sys

from soat import terminal
from soat.cli import add_db_option
from soat.errors import SoatError


def register(sub) -> None:
    p = sub.add_parser("snapshots", help="liệt kê, xoá, dọn các bản chụp")
    add_db_option(p)
    p.set_defaults(func=run_list)
    actions = p.add_subparsers(dest="action", metavar="VIỆC")
    ls = actions.add_parser("list", help="liệt kê các bản chụp (mặc định)")
    add_db_option(ls, nested=True)
    ls.set_defaults(func=run_list)
    rm = actions.add_parser(
        "delete", help="xoá một bản chụp (không xoá bản mới nhất, trừ khi tệp của nó bị mất)"
    )
    rm.add_argument("snapshot_id", type=int, metavar="ID", help="mã bản chụp")
    add_db_option(rm, nested=True)
    rm.set_defaults(func=run_delete)
    pr = actions.add_parser("prune", help="chỉ giữ N bản chụp mới nhất, xoá các bản cũ hơn")
    pr.add_argument("--keep", type=int, required=True, metavar="N", help="số bản chụp giữ lại")
    add_db_option(pr, nested=True)
    pr.set_defaults(func=run_prune)
    fix = actions.add_parser(
        "repair", help="dựng lại danh mục (catalog.json) từ các tệp bản chụp trong kho"
    )
    add_db_option(fix, nested=True)
    fix.set_defaults(func=run_repair)


def _console():
    return terminal.console()


def megabytes(n: int) -> str:
    """'12,3 MB' (decimal comma, as the dashboard writes numbers)."""
    return f"{n / 1_000_000:.1f}".replace(".", ",") + " MB"


def run_list(args) -> int:
    from rich.table import Table

    from loaders.contract import table_label
    from soat import vntime
    from soat.report import number
    from soat.snapshot_store import SnapshotStore

    target = SnapshotStore.open(args.db)
    con = target.reader()
    try:
        rows = con.execute(
            """SELECT snapshot_id, name, source, as_of, loaded_at, school_year, row_counts,
                      checked_at IS NOT NULL
               FROM snapshots ORDER BY snapshot_id"""
        ).fetchall()
    finally:
        con.close()
    sizes = {} if target.legacy else target.disk_use()
    console = _console()
    for p in [] if target.legacy else target.unlisted():
        print(
            f"! {p}: tệp bản chụp không có trong danh mục (catalog.json), không bản chụp nào "
            "dùng nó; chạy 'soat snapshots repair' để đưa lại vào danh mục, hoặc xoá tệp nếu "
            "không cần",
            file=sys.stderr,
        )
    if not rows:
        console.print("Chưa có bản chụp nào; hãy chạy 'soat load'.")
        return 0
    table = Table(title="Các bản chụp")
    heads = ["Mã", "Tên", "Nguồn", "Ngày chốt", "Nạp lúc", "Năm học", "Số dòng", "Đã kiểm tra"]
    if sizes:
        heads.append("Dung lượng")
    for h in heads:
        table.add_column(h, justify="right" if h == "Dung lượng" else "left")
    for sid, name, source, as_of, loaded_at, year, counts, checked in rows:
        counts_text = ", ".join(  # "Học sinh: 8.343", as `soat load` names the tables
            f"{label}: {number(v)}"
            for label, v in sorted((table_label(k), v) for k, v in (counts or {}).items())
        )
        cells = [
            str(sid),
            name or "",
            source or "",
            f"{as_of:%d/%m/%Y}" if as_of else "",
            f"{vntime.vn(loaded_at):%d/%m/%Y %H:%M}" if loaded_at else "",  # Vietnam's time
            year or "",
            counts_text,
            "có" if checked else "chưa",
        ]
        if sizes:
            cells.append(megabytes(sizes.get(sid, 0)))
        table.add_row(*cells)
    console.print(table)
    if sizes:
        console.print(f"Tổng dung lượng: {megabytes(sum(sizes.values()))} ({target.path})")
    return 0


def _audit(action: str, detail: dict) -> None:
    from soat import audit
    from soat.scope import Scope

    try:
        audit.record(action, Scope.admin(), detail)
    except Exception as exc:  # noqa: BLE001 - the removal is done; say the log failed
        print(f"soat: cảnh báo: không ghi được nhật ký truy cập: {exc}", file=sys.stderr)


def run_delete(args) -> int:
    from soat.snapshot_store import SnapshotStore

    target = SnapshotStore.open(args.db)
    with target.writing(on_wait=print) as writer:
        size = target.disk_use().get(args.snapshot_id, 0)
        newest = writer.newest() == args.snapshot_id
        (entry,) = _audited_delete(
            writer,
            [args.snapshot_id],
            "snapshot_delete",
            lambda entries: {
                "snapshot_id": entries[0].snapshot_id,
                "name": entries[0].name,
                "as_of": entries[0].as_of,
            },
        )
    print(f"Đã xoá bản chụp {entry.snapshot_id} ({entry.name or ''}), giải phóng {megabytes(size)}")
    if newest:  # allowed only because its file was lost
        print(
            f"Bản chụp {entry.snapshot_id} là bản mới nhất nhưng tệp của nó không có hoặc bị "
            "hỏng; lần nạp tiếp theo sẽ so sánh với bản chụp trước nó."
        )
    return 0


def _audited_delete(writer, ids: list[int], action: str, detail) -> list:
    """Delete, with the audit record written once the deletion is checked and before
    anything is unlisted (a delete killed after unlisting is never unrecorded); a failure
    after that is recorded too."""

    recorded = []

    def record(entries) -> None:
        _audit(action, detail(entries))
        recorded.append(True)

    try:
        return writer.delete(ids, before=record)
    except Exception as exc:
        if recorded:
            _audit(f"{action}_failed", {"snapshot_ids": ids, "error": str(exc)})
        raise


def run_prune(args) -> int:
    from soat.snapshot_store import SnapshotStore, probe_file

    if args.keep < 1:
        raise SoatError(
            "--keep phải từ 1 trở lên (bản chụp mới nhất luôn được giữ)", column="--keep"
        )
    target = SnapshotStore.open(args.db)
    with target.writing(on_wait=print) as writer:
        sizes = target.disk_use()
        ids = sorted(writer.catalog.ids(), reverse=True)
        kept, drop = ids[: args.keep], ids[args.keep :]
        for sid in kept if drop else []:
            # never keep a lost file in place of good ones (the newest lost, `--keep 1`
            # removed every readable snapshot)
            trouble = probe_file(target.file_of(writer.entry(sid)), sid)
            if trouble is not None and trouble.broken:
                raise SoatError(
                    f"không dọn: bản chụp {sid} nằm trong {args.keep} bản giữ lại nhưng "
                    f"{trouble}; sau đó chạy lại lệnh dọn"
                )
        removed = []
        if drop:
            removed = _audited_delete(
                writer,
                drop,
                "snapshot_prune",
                lambda entries: {"keep": args.keep, "deleted": [e.snapshot_id for e in entries]},
            )
    if not removed:
        print(f"Không có bản chụp nào cần xoá ({len(ids)} bản, giữ {args.keep}).")
        return 0
    freed = sum(sizes.get(e.snapshot_id, 0) for e in removed)
    print(
        f"Đã xoá {len(removed)} bản chụp ("
        + ", ".join(str(e.snapshot_id) for e in removed)
        + f"), giải phóng {megabytes(freed)}; còn {args.keep} bản mới nhất."
    )
    return 0


def run_repair(args) -> int:
    from soat.snapshot_store import SnapshotStore

    target = SnapshotStore.open(args.db)
    said = target.repair(on_wait=print)
    _audit("snapshot_repair", {"said": said[0]})
    for line in said:
        print(line)
    return 1 if any(line.startswith("!") for line in said) else 0  # something still to do
