"""`load_source`: a folder, an .xlsx workbook or a SQLAlchemy URL -> one new snapshot.

Two phases:
1. **Read** (no write to the store): every table's header is found and the query of its
   cleaned rows prepared (loaders.read): a CSV file's header only, an .xlsx sheet or a
   SQL table into Arrow. A missing `schools` table stops here with a SoatError naming the
   source: nothing is written.
2. **Write**, in ONE DuckDB transaction: the canonical typed rows (loaders.normalise, all
   set-based SQL; a CSV file is read by its INSERT), value-level and row-level rejects,
   snapshot_tables, load_messages, the unit closure and the snapshots row. Any error rolls
   back; a killed process leaves an uncommitted WAL that DuckDB discards. Earlier
   snapshots are never touched. In a snapshot store's draft (`draft=True`: a file of this
   load alone, discarded unless published) the rows are committed as read and the rest
   (row numbers, dropped rows, rejects, the snapshots row) is written in a second
   transaction: DuckDB rewrites the row groups a transaction wrote when the same
   transaction updates them. Tables are written smallest first (_write_order).

Checks are not run here: `soat load` calls soat.engine.run_checks after the commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from loaders import digest, fixups, normalise, read, workbook
from loaders.contract import (
    REQUIRED_TABLES,
    TABLES,
    missing_column_text,
    table_for_name,
    table_label,
)
from loaders.headers import count_known
from loaders.read import Message, Staging
from soat.errors import SoatError, redact_url
from soat.snapshot import (
    compute_unit_closure,
    default_as_of,
    default_school_year,
    next_snapshot_id,
)

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass
class LoadResult:
    snapshot_id: int
    rows: dict[str, int]
    rejected: int
    messages: list[Message]
    seconds: float
    source_kind: str = ""
    as_of: dt.date | None = None
    school_year: str | None = None
    skipped: list[str] = field(default_factory=list)
    read_seconds: float = 0.0  # phase 1: headers (CSV), .xlsx sheets and SQL tables read
    identical_to: int | None = None  # an earlier snapshot loaded from the same bytes


Progress = Callable[[str], None]


def _source_kind(source: str) -> str:
    if "://" in source:
        return "sql"
    p = Path(source)
    if p.is_dir():
        return "folder"
    if p.is_file():
        if p.suffix.lower() in XLSX_SUFFIXES:
            return "workbook"
        if p.suffix.lower() in CSV_SUFFIXES:
            return "file"
        raise SoatError(
            "nguồn phải là một thư mục, một tệp .xlsx hoặc một URL cơ sở dữ liệu", source=source
        )
    raise SoatError("không tìm thấy nguồn dữ liệu (thư mục hoặc tệp không tồn tại)", source=source)


def _add_part(staging: Staging, part) -> None:
    if part is None:
        return
    staging.parts.append(part)
    if part.csv is not None:
        staging.scan(part.csv.path)  # starts now, beside the staging of the next files
    hm = part.headers
    # columns naming a field another column names are warned about once read
    # (fixups.same_field_columns)
    extra = [h for i, h in hm.extra.items() if i not in hm.made_up and i not in hm.same_field_keys]
    if extra:
        staging.info(
            "cột không thuộc hợp đồng dữ liệu, giữ lại trong _extra: " + ", ".join(extra),
            source=part.source,
            sheet=part.sheet,
            row=part.header_row,
        )


def _header_names_another_table(staging: Staging, part) -> bool:
    """A table told by a name with a suffix (or by its folder) whose header names another
    table's columns better (`lop_6a.xlsx` holding a class's student list): not read, with a
    warning, rather than loaded into the wrong table."""
    if part is None or part.named_by == "name":
        return False
    cells = part.headers.headers
    mine = count_known(part.table, cells)
    best = max(TABLES, key=lambda t: count_known(t, cells))
    if best == part.table or count_known(best, cells) <= mine:
        return False
    staging.warn_part(
        part,
        f"tên tệp gợi ý bảng {table_label(part.table)} nhưng dòng tiêu đề giống bảng "
        f"{table_label(best)} hơn; bỏ qua: hãy đặt tên tệp theo bảng (ví dụ "
        f"'{TABLES[best].aliases[0]}_….xlsx')",
    )
    return True


def _folder_files(folder: Path) -> list[Path]:
    """Every file under the folder (sub-folders too), hidden files, Excel lock files and
    hidden folders left out, in path order."""
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).parts
        if p.is_file() and not any(x.startswith(".") for x in rel) and not p.name.startswith("~$"):
            out.append(p)
    return out


def _table_of(path: Path, folder: Path) -> tuple[str | None, str]:
    """(table, how it was told) of a file: its name; else the nearest folder between it
    and the source's folder named after a table (`hoc_sinh/truong3.csv`: per-school files
    of one table); else its name with a suffix (`hoc_sinh_truong1.xlsx`, one file per
    school). A per-school folder (`truong4/hoc_sinh.csv`) names no table itself."""
    table = table_for_name(path.stem)
    if table:
        return table, "name"
    for parent in path.relative_to(folder).parents:
        if str(parent) != ".":
            table = table_for_name(parent.name)
            if table:
                return table, "folder"
    table = table_for_name(path.stem, pieces=True)
    if table:
        return table, "piece"
    return None, ""


def _same_content(path: Path, seen: dict[tuple, list[Path]], table: str) -> Path | None:
    """An earlier file of the same table with the same content (a school's file sent twice,
    'hoc_sinh (2).xlsx'): a CSV with exactly these bytes (sizes first, bytes only when two
    sizes are equal); an .xlsx whose sheets and shared strings are the same (each save
    writes a new creation time into docProps, so two saves of one export differ in bytes:
    the parts are compared by the CRC-32 and size the zip's directory holds for each)."""
    import hashlib

    parts = _xlsx_data_parts(path) if path.suffix.lower() in XLSX_SUFFIXES else None
    key = (table, "xlsx", parts) if parts else (table, path.stat().st_size)
    earlier = seen.setdefault(key, [])
    if earlier and parts:
        return earlier[0]
    if earlier:
        digest = hashlib.sha1(path.read_bytes()).digest()
        for other in earlier:
            if hashlib.sha1(other.read_bytes()).digest() == digest:
                return other
    earlier.append(path)
    return None


def _xlsx_data_parts(path: Path) -> tuple | None:
    """(name, CRC-32, size) of an .xlsx file's worksheets and shared strings, from the zip's
    directory (nothing is decompressed), or None when the file is not a readable zip (its
    reading says why, later)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            found = tuple(
                sorted(
                    (i.filename, i.CRC, i.file_size)
                    for i in z.infolist()
                    if i.filename.startswith("xl/worksheets/")
                    or i.filename == "xl/sharedStrings.xml"
                )
            )
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    return found or None


# spreadsheet formats offices save in that are not read, and what to do about each
OTHER_SPREADSHEETS = {
    ".xls": "tệp Excel cũ (.xls, Excel 97–2003)",
    ".xlsb": "tệp Excel nhị phân (.xlsb)",
    ".ods": "tệp OpenDocument (.ods)",
    ".numbers": "tệp Numbers",
    ".htm": "trang HTML",
    ".html": "trang HTML",
}


def _other_spreadsheet(path: Path, folder: Path) -> str | None:
    """The warning for a file named after a table in a spreadsheet format not read (.xls,
    .xlsb, .ods; an .xls that is really HTML, as some school software exports), else None:
    skipped with a word naming it and saying how to resave it, not just an info line."""
    kind = OTHER_SPREADSHEETS.get(path.suffix.lower())
    if kind is None or _table_of(path, folder)[0] is None:
        return None
    if path.suffix.lower() == ".xls":
        try:
            with open(path, "rb") as f:
                head = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        except OSError:
            head = b""
        if head.startswith((b"<", b"\xff\xfe<", b"\xfe\xff")):
            kind = "trang HTML đặt đuôi .xls (phần mềm xuất ra dạng 'Excel' kiểu HTML)"
    return (
        f"không đọc được {kind}: hãy mở tệp bằng Excel (hoặc LibreOffice) và lưu lại dạng "
        "'Excel Workbook (.xlsx)' hoặc 'CSV UTF-8', rồi nạp lại; bỏ qua"
    )


def _stage_folder(staging: Staging, folder: Path, progress: Progress | None) -> list[str]:
    skipped: list[str] = []
    seen: dict[tuple, list[Path]] = {}
    for path in _folder_files(folder):
        label = path.relative_to(folder).as_posix()
        suffix = path.suffix.lower()
        if suffix not in CSV_SUFFIXES + XLSX_SUFFIXES:
            skipped.append(label)
            other = _other_spreadsheet(path, folder)
            if other:  # a table's data in a format not read: the officer must resave it
                staging.warn(other, source=label)
            else:
                staging.info("bỏ qua: không phải tệp .csv hoặc .xlsx", source=label)
            continue
        table, named_by = _table_of(path, folder)
        if table is None:
            skipped.append(label)
            staging.info(
                "bỏ qua: tên tệp (và thư mục) không khớp với bảng nào của hợp đồng dữ liệu",
                source=label,
            )
            continue
        twin = _same_content(path, seen, table)
        if twin is not None:
            skipped.append(label)
            staging.warn(
                f"tệp giống hệt tệp '{twin.relative_to(folder).as_posix()}' (cùng nội dung), "
                "bỏ qua để không nạp trùng",
                source=label,
            )
            continue
        if progress:
            progress(f"đọc {label}")
        if suffix in CSV_SUFFIXES:
            part = read.stage_csv(staging, path, table, label)
            if part is not None:
                part.named_by = named_by
            if part is None or _header_names_another_table(staging, part):
                skipped.append(label)
                continue
            _add_part(staging, part)
            continue
        parts = _stage_table_workbook(staging, path, table, label)
        if parts is None:
            skipped.append(label)
            continue
        for part in parts:
            part.named_by = named_by
            if _header_names_another_table(staging, part):
                skipped.append(f"{label} / {part.sheet}")
                continue
            _add_part(staging, part)
    return skipped


def _stage_table_workbook(staging: Staging, path: Path, table: str, label: str):
    """A workbook file of one table: every visible sheet holding the table's header (one
    sheet per school is common); hidden sheets (lookup lists) and sheets without the
    header are listed as skipped. None when nothing could be read."""
    try:
        reader = read.open_workbook(path, label)
        names = reader.sheet_names
        if not names:
            raise SoatError("tệp Excel không có sheet nào", source=label)
    except SoatError as exc:
        if table in REQUIRED_TABLES:
            raise
        staging.warn(exc.plain + ", bỏ qua", source=label)
        return None
    info = workbook.workbook_info(path, names)
    digest = _file_digest(path)
    parts = []
    visible = [s for s in info.sheets if s.visible]
    for sheet in info.sheets:
        if not sheet.visible:
            staging.info("bỏ qua sheet ẩn", source=label, sheet=sheet.name)
            continue
        part = read.stage_xlsx_sheet(
            staging,
            reader,
            sheet.name,
            table,
            label,
            path=path,
            recalc=info.recalc,
            date1904=info.date1904,
            part_xml=sheet.part,
            quiet=len(visible) > 1,
        )
        if part is not None:
            part.digest = f"{digest}/{sheet.name}"
            parts.append(part)
    if not parts:
        if len(visible) > 1:
            staging.warn(
                f"không sheet nào có dòng tiêu đề của bảng {table_label(table)}, bỏ qua tệp",
                source=label,
            )
        return None
    return parts


def _file_digest(path: Path) -> str:
    import hashlib

    h = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _stage_workbook(staging: Staging, path: Path, progress: Progress | None) -> list[str]:
    label = path.name
    reader = read.open_workbook(path, label)
    info = workbook.workbook_info(path, reader.sheet_names)
    digest = _file_digest(path)
    skipped: list[str] = []
    for sheet in info.sheets:
        table = table_for_name(sheet.name, pieces=True)
        named_by = "name" if table_for_name(sheet.name) else "piece"
        if not sheet.visible:
            skipped.append(f"{label} / {sheet.name}")
            if table:
                staging.warn(
                    f"sheet ẩn (tên khớp bảng {table_label(table)}) không được đọc; hãy bỏ ẩn "
                    "sheet nếu cần nạp",
                    source=label,
                    sheet=sheet.name,
                )
            else:
                staging.info("bỏ qua sheet ẩn", source=label, sheet=sheet.name)
            continue
        if table is None:
            skipped.append(f"{label} / {sheet.name}")
            staging.info(
                "bỏ qua: tên sheet không khớp với bảng nào của hợp đồng dữ liệu",
                source=label,
                sheet=sheet.name,
            )
            continue
        if progress:
            progress(f"đọc sheet {sheet.name}")
        part = read.stage_xlsx_sheet(
            staging,
            reader,
            sheet.name,
            table,
            label,
            path=path,
            recalc=info.recalc,
            date1904=info.date1904,
            part_xml=sheet.part,
        )
        if part is not None:
            part.named_by = named_by
            part.digest = f"{digest}/{sheet.name}"
        if part is None or _header_names_another_table(staging, part):
            skipped.append(f"{label} / {sheet.name}")
            continue
        _add_part(staging, part)
    return skipped


def _stage_sql(staging: Staging, url: str, progress: Progress | None) -> list[str]:
    import sqlalchemy as sa

    label = redact_url(url)
    try:
        u = sa.engine.make_url(url)
        if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:"):
            # SQLite creates a missing file on connect: a typo would leave an empty database
            if not Path(u.database).is_file():
                raise SoatError("không tìm thấy tệp cơ sở dữ liệu SQLite", source=u.database)
        engine = sa.create_engine(url)
        with engine.connect():
            pass
    except SoatError:
        raise
    except Exception as exc:  # noqa: BLE001 - driver errors vary
        raise SoatError(
            f"không kết nối được cơ sở dữ liệu ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]})",
            source=label,
        ) from exc
    skipped: list[str] = []
    seen: dict[str, str] = {}
    try:
        for name in sorted(read.list_sql_tables(engine, None)):
            table = table_for_name(name)
            if table is None:
                skipped.append(name)
                staging.info(
                    "bỏ qua: tên bảng không khớp với bảng nào của hợp đồng dữ liệu",
                    source=label,
                    sheet=name,
                )
                continue
            if table in seen:
                skipped.append(name)
                staging.warn(
                    f"bảng '{table}' đã được đọc từ bảng {seen[table]}; bỏ qua bảng này",
                    source=label,
                    sheet=name,
                )
                continue
            if progress:
                progress(f"đọc bảng {name}")
            part = read.stage_sql_table(staging, engine, None, name, table, label)
            if part is None:
                skipped.append(name)
            else:
                seen[table] = name
            _add_part(staging, part)
    finally:
        engine.dispose()
    return skipped


def _columns_read(present: set[str] | None = None) -> dict[str, dict[str, list[str]]]:
    """table -> column -> ids of the checks that read it (their `reads` metadata), of the
    checks whose tables are all `present` (others do not run anyway); nothing when the
    catalogue cannot be read (`soat check` says why; the load goes on)."""
    from soat.engine import CatalogueError, discover

    out: dict[str, dict[str, list[str]]] = {}
    try:
        checks = discover()
    except (CatalogueError, OSError, ValueError):
        return out
    for check in checks:
        if present is not None and not set(check.requires) <= present:
            continue
        for r in check.reads:
            table, _, column = r.partition(".")
            if column:
                out.setdefault(table, {}).setdefault(column, []).append(check.id)
    return out


def _missing_columns(staging: Staging) -> None:
    """A table without a column that checks read: one warning per column, naming it, the
    headers accepted for it and the checks that will not run; a piece of a table without
    a column the other pieces have: one warning per piece and column (its rows have it
    empty)."""
    by_table: dict[str, list] = {}
    for part in staging.parts:
        by_table.setdefault(part.table, []).append(part)
    reads = _columns_read(set(by_table))
    for table, parts in by_table.items():
        have = set().union(*(set(p.headers.columns) for p in parts))
        for column, checks in sorted(reads.get(table, {}).items()):
            if TABLES[table].column(column).default is not None:
                continue
            if column not in have:
                first = parts[0]
                staging.warn(
                    f"{missing_column_text(table, column)}: các kiểm tra "
                    f"{', '.join(sorted(set(checks)))} không chạy",
                    source=first.source if len(parts) == 1 else None,
                    sheet=first.sheet if len(parts) == 1 else None,
                    row=first.header_row if len(parts) == 1 else None,
                )
            elif len(parts) > 1:
                for p in parts:
                    if column not in p.headers.columns:
                        staging.warn(
                            f"{missing_column_text(table, column)}: các dòng của nguồn này "
                            "để trống cột đó",
                            source=p.source,
                            sheet=p.sheet,
                            row=p.header_row,
                        )


def load_source(
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    year: str | None = None,
    as_of: dt.date | None = None,
    name: str | None = None,
    progress: Progress | None = None,
    snapshot_id: int | None = None,
    history: str | None = None,
    draft: bool = False,
) -> LoadResult:
    """Read `source` into a new snapshot (atomically) and return what was loaded. The
    snapshot's id is `snapshot_id` (the snapshot store allocates it), else the database's
    next one; `history` names the attached catalog holding the earlier snapshots (the
    store's drafts), else they are in the same database. `draft`: `con` is a snapshot
    store's draft, a file of this load alone that is discarded unless published; the rows
    are then committed as read, before they are numbered (see _write_snapshot)."""
    t0 = time.perf_counter()
    source = str(source)
    kind = _source_kind(source)
    normalise.install(con)
    staging = Staging(con)
    try:
        if kind == "folder":
            skipped = _stage_folder(staging, Path(source), progress)
        elif kind == "file":
            path = Path(source)
            table = table_for_name(path.stem) or table_for_name(path.stem, pieces=True)
            if table is None:
                raise SoatError(
                    "tên tệp không khớp với bảng nào của hợp đồng dữ liệu", source=path.name
                )
            skipped = []
            _add_part(staging, read.stage_csv(staging, path, table, path.name))
        elif kind == "workbook":
            skipped = _stage_workbook(staging, Path(source), progress)
        else:
            skipped = _stage_sql(staging, source, progress)
        _require_schools(staging, source, kind, skipped)
        _mark_pieces(staging)
        _missing_columns(staging)
        if progress:
            progress("ghi bản chụp")
        read_seconds = time.perf_counter() - t0
        result = _write_with_retries(
            con, staging, source, kind, year, as_of, name, t0, snapshot_id, draft
        )
        result.skipped = skipped
        result.read_seconds = read_seconds
        result.identical_to = digest.identical_snapshot(con, result.snapshot_id, history)
        return result
    finally:
        read.cleanup(staging)


def _require_schools(
    staging: Staging, source: str, kind: str, skipped: list[str] | None = None
) -> None:
    present = {p.table for p in staging.parts}
    for required in REQUIRED_TABLES:
        if required in present:
            continue
        aliases = ", ".join((required, *TABLES[required].aliases))
        problems = [
            m
            for m in staging.messages
            if m.severity == "warning"
            and m.source
            and (
                table_for_name(Path(m.source).stem if m.sheet is None else m.sheet, pieces=True)
                == required
                or table_for_name(Path(m.source).stem, pieces=True) == required
            )
        ]
        why = f" ({problems[0].source}: {problems[0].message})" if problems else ""
        if not problems and skipped:  # the schools may be in a file named after no table
            shown = ", ".join(skipped[:5]) + (
                f" và {len(skipped) - 5} tệp khác" if len(skipped) > 5 else ""
            )
            why = (
                f"; không nhận ra bảng nào trong: {shown} (tên tệp/sheet phải là tên bảng, "
                "ví dụ 'truong.xlsx', 'hoc_sinh.csv')"
            )
        raise SoatError(
            f"thiếu bảng trường '{required}' (tên tệp/sheet/bảng chấp nhận: {aliases})" + why,
            source=redact_url(source) if kind == "sql" else source,
        )


def _mark_pieces(staging: Staging) -> None:
    """Parts of a table read from several files or sheets: each filters its own rows in
    the write phase, and one info line says the table was put together."""
    by_table: dict[str, list] = {}
    for part in staging.parts:
        by_table.setdefault(part.table, []).append(part)
    for table, parts in by_table.items():
        if len(parts) < 2:
            continue
        for p in parts:
            p.shared = True
        staging.info(
            f"bảng {table_label(table)} ghép từ {len(parts)} tệp/sheet: "
            + ", ".join(p.source + (f" / {p.sheet}" if p.sheet else "") for p in parts[:10])
            + (" …" if len(parts) > 10 else "")
        )


class CsvReadFailed(Exception):
    """DuckDB could not read a CSV part (its transaction is rolled back)."""

    def __init__(self, part, error: duckdb.Error) -> None:
        super().__init__(str(error))
        self.part = part
        self.error = error


def _write_with_retries(
    con, staging: Staging, source, kind, year, as_of, name, t0, snapshot_id=None, draft=False
) -> LoadResult:
    """The write phase; a CSV file DuckDB's reader stops on (line endings mixed by an
    editor: CRLF with a bare LF, or CR alone) rolls it back, and it is written again with
    that file read from a copy with LF line endings; a file still unreadable is left out
    with a warning (fatal for schools)."""
    kept = len(staging.messages)
    for _ in range(len(staging.parts) + 2):
        del staging.messages[kept:]
        for part in staging.parts:
            part.reset()
        try:
            return _write_snapshot(
                con, staging, source, kind, year, as_of, name, t0, snapshot_id, draft
            )
        except CsvReadFailed as failed:
            part = failed.part
            if not part.csv.normalised:
                part.restage_path(read.utf8_copy(part.csv.staged_path, "utf-8", staging))
                part.csv.normalised = True
                continue
            staging.parts.remove(part)
            staging.warn(
                "không đọc được tệp CSV (dòng hoặc dấu ngoặc kép không đúng quy cách); hãy mở "
                "bằng Excel và lưu lại dạng 'CSV UTF-8', bỏ qua",
                source=part.source,
            )
            kept = len(staging.messages)
            if part.table in REQUIRED_TABLES and not any(
                p.table == part.table for p in staging.parts
            ):
                raise SoatError(
                    "không đọc được tệp CSV của bảng trường (dòng hoặc dấu ngoặc kép không "
                    "đúng quy cách); hãy lưu lại dạng 'CSV UTF-8'",
                    source=part.source,
                ) from None
            _mark_pieces_again(staging)
    raise RuntimeError("internal: the load was retried too often")


def _mark_pieces_again(staging: Staging) -> None:
    counts: dict[str, int] = {}
    for p in staging.parts:
        counts[p.table] = counts.get(p.table, 0) + 1
    for p in staging.parts:
        p.shared = counts[p.table] > 1


def _insert_in_file_order(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> None:
    """Run a CSV INSERT and refuse it (an internal error: the caller rolls the load back)
    when its plan did not keep the file's order, as its rows' line numbers need. DuckDB
    keeps it only through order-preserving operators, into its order-preserving "Batch
    Insert"; a join anywhere in the pipeline loses it, and so does an `IN` list of five or
    more constants, which DuckDB rewrites into a join (duckdb/duckdb#24398). The last
    session's loader lost the order that way at 2 M rows. `EXPLAIN ANALYZE` runs the INSERT
    and returns the plan it ran, so the SQL is planned once (a plain EXPLAIN first cost
    ≈ 0.05 s per file: the loader's SQL is long)."""
    plan = "\n".join(r[1] for r in con.execute("EXPLAIN ANALYZE " + sql, params).fetchall())
    if "Batch Insert" not in plan or "JOIN" in plan.upper():
        raise RuntimeError(
            "internal: the CSV INSERT's plan does not keep the file's order "
            "(a join or a long IN list in the loader's SQL?)"
        )


def _insert_rows(con: duckdb.DuckDBPyConnection, part, sid: int) -> None:
    sql, params = normalise.insert_sql(part)
    params = {"snapshot_id": sid, **params}
    if part.csv is None:
        con.execute(sql, params)
        return
    try:
        _insert_in_file_order(con, sql, params)
    except duckdb.InvalidInputException as exc:
        # DuckDB's CSV reader stopped on the file ("CSV Parser state machine reached an
        # invalid state", …); any other error is the loader's own and stays one
        if "CSV" not in str(exc):
            raise
        raise CsvReadFailed(part, exc) from exc


def _insert_part(con: duckdb.DuckDBPyConnection, staging: Staging, part, sid: int, scan):
    """One part's rows, typed, into its snapshot table (inside the load's transaction);
    returns the scan of its file (a CSV part), for _number_part.

    A CSV file is read by this INSERT (one pass: read, clean, type, write) while a thread
    scans it (`scan`: the future of read.scan_file, started as it was staged; DuckDB
    releases the GIL): is it NFC, its lines, its digest, hints of legacy text. The INSERT
    assumes the usual file; loaders.fixups looks at what the rows and the scan say, and a
    file that needs it (rare) has its rows deleted and inserted again, read the way it
    needs."""
    _insert_rows(con, part, sid)
    if (part.csv is not None or part.header_row is None) and fixups.prefer_filled(
        con, part, sid
    ):  # a CSV file or SQL table using an empty column where another names the field
        fixups.delete_rows(con, part, sid)
        _insert_rows(con, part, sid)
    fscan = scan.result() if scan is not None else None
    again = False
    if part.csv is not None:
        again, fscan = fixups.csv_reread_needs(con, staging, part, sid, fscan)
    again = fixups.date_orders(con, staging, part, sid) or again
    if again:
        fixups.delete_rows(con, part, sid)
        _insert_rows(con, part, sid)
    return fscan


def _number_part(con: duckdb.DuckDBPyConnection, staging: Staging, part, sid: int, fscan) -> None:
    """A CSV part's rows numbered (read.number_csv_rows: the line each came from), and the
    rows repeating its header, and the total and signature block under it, dropped; a SQL
    table's digest of its rows."""
    if part.csv is not None:
        part.digest = fscan.digest
        lines = read.number_csv_rows(con, part, sid, fscan)
        dropped = fixups.repeated_headers(con, staging, part, sid, lines)
        dropped |= fixups.footer_rows(con, staging, part, sid)
        fixups.padded_warning(staging, part, dropped)
    elif not part.digest:  # a SQL table: its rows
        part.digest = digest.frame_digest(con, part)


def _count_and_reject_values(
    con: duckdb.DuckDBPyConnection, staging: Staging, part, sid: int, rows: dict
) -> None:
    who = {
        "snapshot_id": sid,
        **({"source": part.source, "sheet": part.sheet} if part.shared else {}),
    }
    n = con.execute(f'SELECT count(*) FROM "{part.table}" WHERE {part.where()}', who).fetchall()[0][
        0
    ]
    rows[part.table] = rows.get(part.table, 0) + n
    part.rows = n
    fixups.made_up_columns(con, staging, part, sid)
    fixups.same_field_columns(con, staging, part, sid)
    for rsql, rparams in normalise.value_rejects_sql(part):
        con.execute(rsql, {"snapshot_id": sid, **rparams})
    fixups.found_rejects(con, part, sid)


def _write_order(parts: list) -> list:
    """The order parts are written in: tables by the bytes of their CSV files, fewest first
    (the students, at a province, last), a table's parts in the order staged (its rows are
    numbered and deduplicated in that order). Each file's scan (its NFC test, lines and
    digest: ≈ 0.45 s of CPU for 2 M students) starts on its own thread as the file is
    staged (Staging.scan); the small files' INSERTs run on one core each (DuckDB reads a
    file of a few MB in one piece), so the big file's scan runs beside the staging and
    them, instead of taking a core from the big file's parallel INSERT."""
    size: dict[str, int] = {}
    for p in parts:
        if p.csv is not None:
            with contextlib.suppress(OSError):
                size[p.table] = size.get(p.table, 0) + os.path.getsize(p.csv.path)
    return sorted(parts, key=lambda p: size.get(p.table, 0))  # stable: staged order kept


LANE_MIN_BYTES = 16 << 20  # the biggest table's CSV bytes from which a draft writes in lanes


def _lane_bytes(order: list) -> int:
    """The bytes of the table written last (_write_order: the biggest) when it is read from
    CSV files only, else -1 (an .xlsx sheet or SQL table is an Arrow frame registered on
    the load's connection, which a second connection does not see)."""
    parts = [p for p in order if p.table == order[-1].table] if order else []
    if not parts or any(p.csv is None for p in parts):
        return -1
    return sum(os.path.getsize(p.csv.path) for p in parts)


def _scan_files(staging: Staging, order: list) -> dict:
    """Every CSV part's scan (Staging.scan: started as it was staged; a file read again
    from a copy is scanned now, in write order)."""
    return {id(p): staging.scan(p.csv.path) for p in order if p.csv is not None}


def _number_and_count(con, staging: Staging, part, sid: int, fscan, rows: dict) -> None:
    """After a part's rows are written: numbered (_number_part), then counted into `rows`
    and their unreadable values rejected (_count_and_reject_values)."""
    _number_part(con, staging, part, sid, fscan)
    _count_and_reject_values(con, staging, part, sid, rows)


def _csv_rejects(con, staging: Staging, part, sid: int) -> None:
    """The lines DuckDB's reader could not read of a CSV part, into `rejects` (from the
    store_rejects table of the connection that read the file)."""
    if part.csv is None:
        return
    for rej_t, table, _sheet, src, ncols in staging.rejects_tables:
        if rej_t == part.csv.rejects:
            con.execute(
                read.csv_rejects_sql(rej_t),
                {"snapshot_id": sid, "table": table, "source": src, "ncols": str(ncols)},
            )


def _write_in_order(con, staging: Staging, order: list, sid: int, rows: dict, draft: bool):
    """Every part's rows, in `order`, on `con` in its transaction; in a draft committed as
    read, then numbered in a second transaction (see the module's docstring)."""
    scans = _scan_files(staging, order)
    fscans = {
        id(part): _insert_part(con, staging, part, sid, scans.get(id(part))) for part in order
    }
    if draft:
        # DuckDB rewrites every row group a transaction wrote when the same transaction
        # then updates them (number_csv_rows sets _row), ≈ 0.65 s at 2 M students;
        # updating committed rows costs ≈ 0.05 s. Only in a draft: nothing reads it before
        # it is published, and a load that fails from here on discards the whole file.
        con.execute("COMMIT")
        con.execute("BEGIN TRANSACTION")
    for part in staging.parts:
        _number_and_count(con, staging, part, sid, fscans[id(part)], rows)
    for part in staging.parts:
        _csv_rejects(con, staging, part, sid)


def _write_in_lanes(con, staging: Staging, order: list, sid: int, rows: dict) -> None:
    """A draft's rows written in two lanes at once, each on its own connection: the
    biggest table's parts (one big CSV file, read by DuckDB on every core) on a second
    connection, the other tables' (small files, each read on one core) on `con`. The
    small files then fill the core the big INSERT leaves idle at its start and end,
    instead of running alone after it. Each lane commits its rows as read, then numbers
    them in a second transaction, without waiting for the other: the small tables'
    COMMIT (≈ 0.25 s on one core: DuckDB compresses them then) and numbering run while
    the big INSERT does. A file that must be read again (CsvReadFailed, for
    _write_with_retries) rolls its lane back and undoes what the other lane committed,
    so the next attempt starts from an empty draft. `con` is left in a new transaction
    that sees both lanes. Messages and row counts are added in the order an in-order
    write gives."""
    big = order[-1].table
    lanes = [[p for p in order if p.table != big], [p for p in order if p.table == big]]
    cur = con.cursor()  # its own transaction, its own TEMP macros and rejects tables
    cons = [con, cur]
    said_a = {id(p): read.PartStaging(staging) for p in order}
    said_b = {id(p): read.PartStaging(staging) for p in order}
    counted: dict[int, dict[str, int]] = {}
    fscans: dict[int, object] = {}
    open_txn = [True, False]
    committed = [False, False]
    try:
        scans = _scan_files(staging, order)

        def lane(i: int) -> None:
            c = cons[i]
            if i == 1:
                normalise.install(cur)
                cur.execute("BEGIN TRANSACTION")
                open_txn[1] = True
            for part in lanes[i]:
                fscans[id(part)] = _insert_part(c, said_a[id(part)], part, sid, scans.get(id(part)))
            c.execute("COMMIT")
            open_txn[i], committed[i] = False, True
            c.execute("BEGIN TRANSACTION")
            open_txn[i] = True
            mine = {id(p) for p in lanes[i]}
            for part in [p for p in staging.parts if id(p) in mine]:
                counted[id(part)] = {}
                _number_and_count(
                    c, said_b[id(part)], part, sid, fscans[id(part)], counted[id(part)]
                )
                _csv_rejects(c, staging, part, sid)
            c.execute("COMMIT")
            open_txn[i] = False

        try:
            _two_lanes(lane, cur)
        except CsvReadFailed:
            for i, c in enumerate(cons):
                if open_txn[i]:
                    with contextlib.suppress(duckdb.Error):
                        c.execute("ROLLBACK")
                    open_txn[i] = False
            if any(committed):
                _undo_rows(con, lanes[0], sid)
            raise
    finally:
        if open_txn[1]:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
        cur.close()
    con.execute("BEGIN TRANSACTION")  # sees both lanes' rows (_write_snapshot commits it)
    for part in order:
        staging.messages.extend(said_a[id(part)].messages)
    for part in staging.parts:
        staging.messages.extend(said_b[id(part)].messages)
        for table, n in counted[id(part)].items():
            rows[table] = rows.get(table, 0) + n


def _undo_rows(con, parts_of_con: list, sid: int) -> None:
    """What a lane committed before the other stopped on a file to read again: every row
    of the snapshot in the draft (it holds no other), and the reader's tables of the parts
    `con` read (DuckDB's store_rejects appends to a table that is there)."""
    tables = [
        t
        for (t,) in con.execute(
            """SELECT t.table_name FROM duckdb_tables() t
               WHERE t.database_name = current_database() AND t.schema_name = 'main'
                 AND NOT t.temporary
                 AND EXISTS (SELECT 1 FROM duckdb_columns() c
                             WHERE c.table_oid = t.table_oid AND c.column_name = 'snapshot_id')"""
        ).fetchall()
    ]
    con.execute("BEGIN TRANSACTION")
    for t in tables:
        con.execute(f'DELETE FROM "{t}" WHERE snapshot_id = $s', {"s": sid})
    for part in parts_of_con:
        if part.csv is not None:
            for temp in (part.csv.rejects, part.csv.rejects_scan, f"{part.stage}_skip"):
                con.execute(f'DROP TABLE IF EXISTS "{temp}"')
    con.execute("COMMIT")


def _two_lanes(lane: Callable[[int], None], other) -> None:
    """lane(0) here and lane(1) on a thread, at once; the first error is raised once both
    have stopped (an error or Ctrl-C here interrupts the other lane's query first)."""
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            lane(1)
        except BaseException as exc:  # noqa: BLE001 - raised below, in this thread
            errors.append(exc)

    thread = threading.Thread(target=guarded, name="soat-load-lane")
    thread.start()
    try:
        lane(0)
    except BaseException:
        other.interrupt()
        raise
    finally:
        thread.join()
    if errors:
        raise errors[0]


def _write_snapshot(
    con, staging: Staging, source, kind, year, as_of, name, t0, snapshot_id=None, draft=False
) -> LoadResult:
    label = redact_url(source) if kind == "sql" else source
    con.execute("BEGIN TRANSACTION")
    try:
        sid = snapshot_id or next_snapshot_id(con)
        rows: dict[str, int] = {}
        rejected_total = 0
        order = _write_order(staging.parts)
        if draft and _lane_bytes(order) >= LANE_MIN_BYTES:
            _write_in_lanes(con, staging, order, sid, rows)
        else:
            _write_in_order(con, staging, order, sid, rows, draft)
        per_part = {
            (t, src, sh): n
            for t, src, sh, n in con.execute(
                """SELECT table_name, source, sheet, count(*) FROM rejects
                   WHERE snapshot_id = $s GROUP BY ALL""",
                {"s": sid},
            ).fetchall()
        }
        rejected_total = int(sum(per_part.values()))
        for part in staging.parts:
            part.rejected = int(per_part.get((part.table, part.source, part.sheet), 0))
            con.execute(
                """INSERT INTO snapshot_tables VALUES ($s, $t, $src, $sheet, $h, $n, $r, $cols,
                                                      $extra)""",
                {
                    "s": sid,
                    "t": part.table,
                    "src": part.source,
                    "sheet": part.sheet,
                    "h": part.header_row,
                    "n": part.rows,
                    "r": part.rejected,
                    "cols": part.headers.columns,
                    "extra": [
                        h for i, h in part.headers.extra.items() if i not in part.empty_made_up
                    ],
                },
            )
        if staging.messages:
            con.executemany(
                "INSERT INTO load_messages VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (sid, m.severity, m.source, m.sheet, m.row, m.column, m.message)
                    for m in staging.messages
                ],
            )
        as_of = as_of or default_as_of(con, sid)
        year = year or default_school_year(con, sid, as_of)
        con.execute(
            """INSERT INTO snapshots (snapshot_id, name, source, source_kind, school_year, as_of,
                                      loaded_at, load_seconds, row_counts, rejected,
                                      source_digest)
               VALUES ($s, $name, $src, $kind, $y, $a, timezone('UTC', now()), $sec,
                       map($k, $v), $rej, $digest)""",
            {
                "s": sid,
                "name": name or Path(str(label)).name or str(label),
                "src": label,
                "kind": kind if kind != "file" else "folder",
                "y": year,
                "a": as_of,
                "sec": time.perf_counter() - t0,
                "k": list(rows),
                "v": list(rows.values()),
                "rej": rejected_total,
                "digest": digest.combine(kind, staging.parts),
            },
        )
        compute_unit_closure(con, sid)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise
    seconds = time.perf_counter() - t0
    con.execute(
        "UPDATE snapshots SET load_seconds = $sec WHERE snapshot_id = $s",
        {"sec": seconds, "s": sid},
    )
    return LoadResult(
        snapshot_id=sid,
        rows=rows,
        rejected=rejected_total,
        messages=staging.messages,
        seconds=seconds,
        source_kind=kind,
        as_of=as_of,
        school_year=year,
    )
