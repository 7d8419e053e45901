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
   snapshots are never touched.

Checks are not run here: `soat load` calls soat.engine.run_checks after the commit.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from loaders import normalise, read
from loaders.contract import REQUIRED_TABLES, TABLES, table_for_name
from loaders.read import Message, Staging
from soat.errors import SoatError
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


def _add_part(staging: Staging, part, seen: dict[str, str]) -> None:
    if part is None:
        return
    staging.parts.append(part)
    seen[part.table] = part.source + (f" / {part.sheet}" if part.sheet else "")
    for canon, kept, dropped in part.headers.duplicates:
        staging.warn(
            f"cột '{dropped}' trùng với cột '{kept}' (cùng là '{canon}'); dùng cột '{kept}', "
            f"bỏ cột '{dropped}'",
            source=part.source,
            sheet=part.sheet,
            row=part.header_row,
            column=dropped,
        )
    extra = list(part.headers.extra.values())
    if extra:
        staging.info(
            "cột không thuộc hợp đồng dữ liệu, giữ lại trong _extra: " + ", ".join(extra),
            source=part.source,
            sheet=part.sheet,
            row=part.header_row,
        )


def _duplicate(staging: Staging, table: str, label: str, sheet: str | None, seen) -> bool:
    if table in seen:
        staging.warn(
            f"bảng '{table}' đã được đọc từ {seen[table]}; bỏ qua nguồn này",
            source=label,
            sheet=sheet,
        )
        return True
    return False


def _stage_folder(staging: Staging, folder: Path, progress: Progress | None) -> list[str]:
    skipped: list[str] = []
    seen: dict[str, str] = {}
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))
    )
    for path in files:
        label = path.name
        suffix = path.suffix.lower()
        table = table_for_name(path.stem) if suffix in CSV_SUFFIXES + XLSX_SUFFIXES else None
        if table is None:
            skipped.append(label)
            staging.info(
                "bỏ qua: tên tệp không khớp với bảng nào của hợp đồng dữ liệu", source=label
            )
            continue
        if _duplicate(staging, table, label, None, seen):
            skipped.append(label)
            continue
        if progress:
            progress(f"đọc {label}")
        if suffix in CSV_SUFFIXES:
            part = read.stage_csv(staging, path, table, label)
        else:
            try:
                reader = read.open_workbook(path, label)
                names = reader.sheet_names
                if not names:
                    raise SoatError("tệp Excel không có sheet nào", source=label)
            except SoatError as exc:
                if table in REQUIRED_TABLES:
                    raise
                staging.warn(exc.plain + ", bỏ qua", source=label)
                skipped.append(label)
                continue
            part = read.stage_xlsx_sheet(staging, reader, names[0], table, label)
        if part is None:
            skipped.append(label)
        _add_part(staging, part, seen)
    return skipped


def _stage_workbook(staging: Staging, path: Path, progress: Progress | None) -> list[str]:
    label = path.name
    reader = read.open_workbook(path, label)
    skipped: list[str] = []
    seen: dict[str, str] = {}
    for sheet in reader.sheet_names:
        table = table_for_name(sheet)
        if table is None:
            skipped.append(f"{label} / {sheet}")
            staging.info(
                "bỏ qua: tên sheet không khớp với bảng nào của hợp đồng dữ liệu",
                source=label,
                sheet=sheet,
            )
            continue
        if _duplicate(staging, table, label, sheet, seen):
            skipped.append(f"{label} / {sheet}")
            continue
        if progress:
            progress(f"đọc sheet {sheet}")
        part = read.stage_xlsx_sheet(staging, reader, sheet, table, label)
        if part is None:
            skipped.append(f"{label} / {sheet}")
        _add_part(staging, part, seen)
    return skipped


def _stage_sql(staging: Staging, url: str, progress: Progress | None) -> list[str]:
    import sqlalchemy as sa

    label = read.redact_url(url)
    try:
        engine = sa.create_engine(url)
        with engine.connect():
            pass
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
            if _duplicate(staging, table, label, name, seen):
                skipped.append(name)
                continue
            if progress:
                progress(f"đọc bảng {name}")
            part = read.stage_sql_table(staging, engine, None, name, table, label)
            if part is None:
                skipped.append(name)
            _add_part(staging, part, seen)
    finally:
        engine.dispose()
    return skipped


def load_source(
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    year: str | None = None,
    as_of: dt.date | None = None,
    name: str | None = None,
    progress: Progress | None = None,
    snapshot_id: int | None = None,
) -> LoadResult:
    """Read `source` into a new snapshot (atomically) and return what was loaded. The
    snapshot's id is `snapshot_id` (the snapshot store allocates it), else the database's
    next one."""
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
            table = table_for_name(path.stem)
            if table is None:
                raise SoatError(
                    "tên tệp không khớp với bảng nào của hợp đồng dữ liệu", source=path.name
                )
            skipped = []
            _add_part(staging, read.stage_csv(staging, path, table, path.name), {})
        elif kind == "workbook":
            skipped = _stage_workbook(staging, Path(source), progress)
        else:
            skipped = _stage_sql(staging, source, progress)
        present = {p.table for p in staging.parts}
        for required in REQUIRED_TABLES:
            if required not in present:
                aliases = ", ".join((required, *TABLES[required].aliases))
                problems = [
                    m
                    for m in staging.messages
                    if m.severity == "warning"
                    and m.source
                    and table_for_name(Path(m.source).stem if m.sheet is None else m.sheet)
                    == required
                ]
                why = f" ({problems[0].source}: {problems[0].message})" if problems else ""
                raise SoatError(
                    f"thiếu bảng trường '{required}' (tên tệp/sheet/bảng chấp nhận: {aliases})"
                    + why,
                    source=read.redact_url(source) if kind == "sql" else source,
                )
        if progress:
            progress("ghi bản chụp")
        read_seconds = time.perf_counter() - t0
        result = _write_snapshot(con, staging, source, kind, year, as_of, name, t0, snapshot_id)
        result.skipped = skipped
        result.read_seconds = read_seconds
        return result
    finally:
        read.cleanup(staging)


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


def _insert_part(con: duckdb.DuckDBPyConnection, part, sid: int, scan) -> None:
    """One part's rows, typed, into its snapshot table (inside the load's transaction).

    A CSV file is read by this INSERT (one pass: read, clean, type, write) while a thread
    checks that the file is NFC (`scan`: the future of read.scan_file, started by
    _write_snapshot; DuckDB releases the GIL). The INSERT assumes it is; a file that is not
    (rare) has its rows deleted and inserted again with its text NFC-normalised. Then its
    rows are numbered (read.number_csv_rows)."""
    sql, params = normalise.insert_sql(part)
    if part.csv is None:
        con.execute(sql, {"snapshot_id": sid, **params})
        return
    _insert_in_file_order(con, sql, {"snapshot_id": sid, **params})
    fscan = scan.result()
    if not fscan.nfc:
        con.execute(f'DELETE FROM "{part.table}" WHERE snapshot_id = $s', {"s": sid})
        con.execute(f'DROP TABLE IF EXISTS "{part.csv.rejects}"')
        con.execute(f'DROP TABLE IF EXISTS "{part.csv.rejects_scan}"')
        part.from_sql = read.csv_from_sql(part.csv, nfc=True)
        sql, params = normalise.insert_sql(part)
        _insert_in_file_order(con, sql, {"snapshot_id": sid, **params})
    read.number_csv_rows(con, part, sid, fscan)


def _count_and_reject_values(con: duckdb.DuckDBPyConnection, part, sid: int, rows: dict) -> None:
    n = con.execute(
        f'SELECT count(*) FROM "{part.table}" WHERE snapshot_id = $s', {"s": sid}
    ).fetchall()[0][0]
    rows[part.table] = n
    part.rows = n
    for rsql, rparams in normalise.value_rejects_sql(part):
        con.execute(rsql, {"snapshot_id": sid, **rparams})


def _write_snapshot(
    con, staging: Staging, source, kind, year, as_of, name, t0, snapshot_id=None
) -> LoadResult:
    label = read.redact_url(source) if kind == "sql" else source
    con.execute("BEGIN TRANSACTION")
    try:
        sid = snapshot_id or next_snapshot_id(con)
        rows: dict[str, int] = {}
        rejected_total = 0
        # every CSV file's scan, in order, on one thread from the start: a file's scan runs
        # during the INSERTs before it (a small file's INSERT leaves a core idle)
        with ThreadPoolExecutor(max_workers=1) as pool:
            scans = [
                pool.submit(read.scan_file, p.csv.path) if p.csv is not None else None
                for p in staging.parts
            ]
            try:
                for part, scan in zip(staging.parts, scans, strict=True):
                    _insert_part(con, part, sid, scan)
                    _count_and_reject_values(con, part, sid, rows)
            except BaseException:
                for scan in scans:
                    if scan is not None:
                        scan.cancel()  # the files not reached yet are not read
                raise
        for rej_t, table, _sheet, src, ncols in staging.rejects_tables:
            con.execute(
                read.csv_rejects_sql(rej_t),
                {"snapshot_id": sid, "table": table, "source": src, "ncols": str(ncols)},
            )
        per_table = dict(
            con.execute(
                "SELECT table_name, count(*) FROM rejects WHERE snapshot_id = $s GROUP BY ALL",
                {"s": sid},
            ).fetchall()
        )
        rejected_total = int(sum(per_table.values()))
        for part in staging.parts:
            part.rejected = int(per_table.get(part.table, 0))
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
                    "extra": list(part.headers.extra.values()),
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
                                      loaded_at, load_seconds, row_counts, rejected)
               VALUES ($s, $name, $src, $kind, $y, $a, timezone('UTC', now()), $sec,
                       map($k, $v), $rej)""",
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
