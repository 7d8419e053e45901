"""Reading sources: the query of each table's rows as cleaned text with row numbers.

CSV      DuckDB read_csv (explicit delim/skip/columns, all VARCHAR, store_rejects), run
         inside the snapshot's INSERT (one pass); lines that cannot be read become
         row-level rejects with their line number; rows are numbered after the INSERT.
.xlsx    fastexcel (calamine) -> Arrow, all cells as text (dates come as ISO text,
         integral numbers without '.0'); the sheet's first used row is taken from the
         sheet XML so `_row` is the row Excel shows.
SQL      SQLAlchemy + polars.read_database in batches -> Arrow, registered in DuckDB;
         numeric columns are turned into text in SQL (integral values without '.0').
Nothing here loops over data rows in Python.
"""

from __future__ import annotations

import codecs
import csv
import mmap
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from loaders.headers import (
    HEADER_SCAN_ROWS,
    count_known,
    find_header_row,
    map_headers,
)
from loaders.normalise import (
    EMPTY_MARKERS_RE,
    TRIM_CHARS,
    CsvRead,
    StagedPart,
    lazy_columns,
)
from soat.errors import SoatError
from soat.vocab import EMPTY_MARKERS

if TYPE_CHECKING:  # polars is imported where used (.xlsx, SQL): a CSV load needs none
    import numpy as np  # imported by the functions that use it (a load: on its scan thread)
    import polars as pl

SEPARATORS = ("\t", ";", ",")
SNIFF_BYTES = 256 * 1024


@dataclass
class Message:
    severity: str  # info | warning
    source: str | None
    sheet: str | None
    row: int | None
    column: str | None
    message: str


@dataclass
class Staging:
    """What reading produced, before anything is written to the store."""

    con: duckdb.DuckDBPyConnection
    parts: list[StagedPart] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    rejects_tables: list[tuple[str, str, str | None, str, int]] = field(default_factory=list)
    views: list[str] = field(default_factory=list)  # registered Arrow frames
    tmpdir: str | None = None
    _n: int = 0

    def new_stage(self) -> str:
        self._n += 1
        return f"_soat_stage_{self._n}"

    def warn(self, message: str, source=None, sheet=None, row=None, column=None) -> None:
        self.messages.append(Message("warning", source, sheet, row, column, message))

    def info(self, message: str, source=None, sheet=None, row=None, column=None) -> None:
        self.messages.append(Message("info", source, sheet, row, column, message))

    def tmp(self) -> str:
        if self.tmpdir is None:
            self.tmpdir = tempfile.mkdtemp(prefix="soat-load-")
        return self.tmpdir


# 4 bytes: 'null', the longest marker (all are ASCII, so one byte a character)
EMPTY_MARKER_MAX = max(len(m.encode()) for m in EMPTY_MARKERS)


def _clean_query(
    n: int,
    row_expr: str,
    from_sql: str,
    numeric: set[int] | None = None,
    src_cols: list[str] | None = None,
    no_nfc: set[int] | None = None,
    lazy: set[int] | None = None,
) -> str:
    """SELECT <row_expr>, c0..c<n-1> cleaned: NFC, trimmed, empty markers -> NULL; the
    `lazy` columns as read (their typed expression cleans only what its fast path misses:
    normalise.LAZY_KINDS).

    One projection level per step, so each value is computed once per cell (a macro or an
    expression using its argument twice would evaluate it twice). Trimming only runs when
    the first or last character (ord() decodes one) is a trimmed one; the test is plain
    comparisons, because DuckDB turns `IN (five or more values)` into a join per column."""
    text, ends, trimmed, cleaned = [], [], [], []
    for i in range(n):
        src = f'"{src_cols[i]}"' if src_cols else f"c{i}"
        if numeric and i in numeric:
            # integral numbers as integer text ('123', not '123.0'), others as DuckDB prints them
            src = (
                f"CASE WHEN TRY_CAST({src} AS DOUBLE) = trunc(TRY_CAST({src} AS DOUBLE)) "
                f"AND abs(TRY_CAST({src} AS DOUBLE)) < 1e18 "
                f"THEN CAST(CAST({src} AS HUGEINT) AS VARCHAR) ELSE CAST({src} AS VARCHAR) END"
            )
        else:
            src = f"CAST({src} AS VARCHAR)"
        text.append(f"{src} AS v{i}")
        if lazy and i in lazy:
            ends.append(f"v{i}")
            trimmed.append(f"v{i} AS t{i}")
            cleaned.append(f"t{i} AS c{i}")
            continue
        ends.append(f"v{i}, ord(v{i}) AS f{i}, ord(v{i}[-1]) AS l{i}")
        # below 33: space, tab, line breaks (other control characters call trim() for nothing)
        blank = " OR ".join(f"{e}{i} < 33 OR {e}{i} = 160 OR {e}{i} = 65279" for e in "fl")
        t = f"CASE WHEN {blank} THEN trim(v{i}, {TRIM_CHARS}) ELSE v{i} END"
        trimmed.append(f"{t} AS t{i}" if no_nfc and i in no_nfc else f"nfc_normalize({t}) AS t{i}")
        # one RE2 full match instead of lower() + IN; every marker is ASCII of at most
        # EMPTY_MARKER_MAX bytes, so longer cells skip the regex
        cleaned.append(
            f"CASE WHEN strlen(t{i}) <= {EMPTY_MARKER_MAX} "
            f"AND regexp_full_match(t{i}, '{EMPTY_MARKERS_RE}') THEN NULL "
            f"ELSE t{i} END AS c{i}"
        )
    return (
        f"SELECT _row, {', '.join(cleaned)} FROM ("
        f"SELECT _row, {', '.join(trimmed)} FROM ("
        f"SELECT _row, {', '.join(ends)} FROM ("
        f"SELECT {row_expr} AS _row, {', '.join(text)} FROM {from_sql})))"
    )


# Columns not NFC-normalised while staging: digits-and-separators kinds (NFC changes nothing
# their parsers read) and vocabulary kinds (normalised per DISTINCT value in
# normalise.insert_sql instead of per row). On 1 M students this skips 8 of 13 columns.
NO_NFC_KINDS = ("date", "timestamp", "int", "number", "citizen_id", "school_year")


def _no_nfc(table: str, hm) -> set[int]:
    from loaders.contract import TABLES
    from loaders.normalise import vocab_name

    t = TABLES[table]
    return {
        i
        for i, name in hm.mapping.items()
        if t.column(name).kind in NO_NFC_KINDS or vocab_name(t.column(name).kind)
    }


SCAN_CHUNK = 1 << 24
FAST_BLOCK = 1 << 20


def _fast_safe(a: np.ndarray, carry: bool) -> bool:
    """The fast path's byte test, on a block of a UTF-8 file (numpy, no Python per byte).

    Safe bytes start no character outside U+0000-U+02FF and U+1E00-U+1EFF (plus the
    continuation bytes): every character of those ranges has NFC quick-check "Yes" and
    combining class 0 (none decomposes, none is the second of a composition), so text made
    of them only is NFC. That is every byte below 0xCC, and lead byte 0xE1 when followed
    by 0xB8-0xBB (U+1E00-U+1EFF, the precomposed Vietnamese letters). `carry`: the block
    before ended with 0xE1, so this block's first byte must follow it; a 0xE1 ending this
    block is left to the caller (the next block's first byte, or the end of the text)."""
    import numpy as np

    e1 = a == 0xE1
    n_e1 = int(np.count_nonzero(e1))
    if int(np.count_nonzero(a >= 0xCC)) != n_e1:
        return False  # a lead byte outside the safe ranges
    if carry and not 0xB8 <= a[0] <= 0xBB:
        return False
    low = np.uint8(0xB8)  # uint8 arrays wrap: a - low < 4 is 0xB8 <= a <= 0xBB
    followed = int(np.count_nonzero(e1[:-1] & (a[1:] - low < 4)))
    return followed == n_e1 - bool(e1[-1])  # every 0xE1 but a last one is followed well


def _chunk_is_nfc(chunk: bytes) -> bool:
    """Fast path at numpy speed for precomposed Vietnamese text (_fast_safe); anything else
    (other scripts, combining marks, typographic dashes) takes the exact
    unicodedata.is_normalized."""
    import numpy as np

    a = np.frombuffer(chunk, dtype=np.uint8)
    if len(a) and a[-1] != 0xE1 and _fast_safe(a, carry=False):
        return True
    return unicodedata.is_normalized("NFC", chunk.decode("utf-8", errors="replace"))


def frame_is_nfc(frame: pl.DataFrame) -> bool:
    """True when every text cell of an .xlsx / SQL frame is NFC: each text column joined
    with newlines (C speed) and checked like a CSV chunk. Numbers, dates and booleans turn
    into ASCII text; any other type (binary, nested) is not vouched for."""
    import polars as pl

    text = []
    for name, dtype in frame.schema.items():
        if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
            text.append(name)
        elif not (dtype.is_numeric() or dtype.is_temporal() or dtype == pl.Boolean):
            return False
    if not text or frame.height == 0:
        return True
    joined = frame.select(pl.col(text).cast(pl.String).str.join("\n")).row(0)
    return all(_chunk_is_nfc(v.encode("utf-8") + b"\n") for v in joined if v)


@dataclass
class FileScan:
    nfc: bool  # every cell of the file is NFC already
    lines: int  # physical lines (a last line without a newline counts)


def scan_file(path: Path) -> FileScan:
    """One pass over a UTF-8 file: is it NFC, and how many lines does it have.

    A substring of NFC text is NFC, and cells are substrings (CSV unquoting and trimming only
    remove ASCII characters), so an NFC file needs no per-cell nfc_normalize. The usual file
    (precomposed Vietnamese) passes the vectorised test of _scan_fast; any other (other
    scripts, combining marks, typographic dashes) is read again by the exact _scan_exact."""
    return _scan_fast(path) or _scan_exact(path)


def _skip_bom(f) -> None:
    if f.read(3) != codecs.BOM_UTF8:
        f.seek(0)


def _scan_fast(path: Path) -> FileScan | None:
    """The file's line count when every byte passes _fast_safe, else None. numpy over 1 MB
    blocks read into one buffer (cache-sized, no copies): ~0.15 s CPU per 400 MB, a sixth
    of a per-chunk translate + index pass; it runs beside the file's INSERT on a 2-core
    machine, so its CPU is the load's."""
    import numpy as np  # on the load's scan thread, beside the first INSERT (≈ 0.1 s)

    buf = np.empty(FAST_BLOCK, dtype=np.uint8)
    lines, last, carry = 0, 10, False  # carry: the previous block ended with 0xE1
    with open(path, "rb", buffering=0) as f:
        _skip_bom(f)
        while n := f.readinto(buf):
            a = buf[:n]
            if not _fast_safe(a, carry):
                return None
            lines += int(np.count_nonzero(a == 10))
            last = int(a[-1])
            carry = last == 0xE1
    if carry:
        return None  # the file ends inside a character
    return FileScan(nfc=True, lines=lines + (last != 10))


def _scan_exact(path: Path) -> FileScan:
    """Chunks cut after a newline, which neither composes nor reorders with its neighbours,
    so the chunks' results add up; each takes _chunk_is_nfc (the exact check where the
    fast test fails)."""
    nfc, lines, rest, last = True, 0, b"", b"\n"
    with open(path, "rb") as f:
        _skip_bom(f)
        while chunk := f.read(SCAN_CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            if not nfc:
                continue
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            rest = chunk[cut:]
            if cut and not _chunk_is_nfc(chunk[:cut]):
                nfc = False
    if nfc and rest:
        nfc = _chunk_is_nfc(rest)
    return FileScan(nfc=nfc, lines=lines + (last != b"\n"))


def _not_all_empty(n: int, prefix: str = "", lazy: set[int] | None = None) -> str:
    """Some cell of the row is not empty. Lazy (uncleaned) cells are cleaned here, last:
    coalesce() only reaches them on rows whose other cells are all empty."""
    if n == 0:
        return "false"
    lazy = lazy or set()
    cells = [f"{prefix}c{i}" for i in range(n) if i not in lazy]
    cells += [f"soat_cell({prefix}c{i})" for i in sorted(lazy)]
    return "coalesce(" + ", ".join(cells) + ") IS NOT NULL"


# ---------------------------------------------------------------- CSV


def _detect_encoding(head: bytes, table: str) -> str:
    """utf-8 / utf-8-sig / utf-16 variants / cp1258 (Windows Vietnamese).

    A file without BOM is UTF-8 when its header line is valid UTF-8 (lines with bad bytes
    further down are rejected one by one); it is cp1258 when only that reading finds a
    header."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le-bom"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be-bom"
    sample = head[:200]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        return "utf-16-le"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4 and len(head) >= SNIFF_BYTES:
            return "utf-8"  # a character cut at the end of the sample
    lines = head.decode("utf-8", errors="replace").splitlines()
    found = _sniff_header(table, lines)
    if found and "\ufffd" not in lines[found[0]]:
        return "utf-8"
    if _sniff_header(table, head.decode("cp1258", errors="replace").splitlines()):
        return "cp1258"
    return "utf-8"


def _transcode(path: Path, encoding: str, staging: Staging) -> Path:
    """Write a UTF-8 copy (streamed in 1 MB chunks) for DuckDB to read."""
    out = Path(staging.tmp()) / f"{staging.new_stage()}.csv"
    py_enc = {"utf-16-le-bom": "utf-16", "utf-16-be-bom": "utf-16", "utf-16-le": "utf-16-le"}.get(
        encoding, encoding
    )
    dec = codecs.getincrementaldecoder(py_enc)(errors="replace")
    with open(path, "rb") as fin, open(out, "w", encoding="utf-8", newline="") as fout:
        while chunk := fin.read(1 << 20):
            fout.write(dec.decode(chunk))
        fout.write(dec.decode(b"", final=True))
    return out


def _sniff_header(table: str, lines: list[str]) -> tuple[int, str, list[str]] | None:
    """(line index, separator, header cells) of the header line, or None."""
    for i, line in enumerate(lines[:HEADER_SCAN_ROWS]):
        best = None
        for sep in SEPARATORS:
            try:
                cells = next(csv.reader([line], delimiter=sep))
            except (csv.Error, StopIteration):
                continue
            k = count_known(table, cells)
            if k >= 2 and (best is None or k > best[0]):
                best = (k, sep, cells)
        if best:
            return i, best[1], best[2]
    return None


def _blank_lines(path: Path, start_line: int) -> list[int]:
    """1-based numbers of empty lines after `start_line` (DuckDB skips them but counts them)."""
    out: list[int] = []
    if path.stat().st_size == 0:
        return out
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for pat in (b"\n\n", b"\n\r\n"):
            pos, line, last = 0, 1, 0
            while (pos := mm.find(pat, pos)) >= 0:
                line += mm[last : pos + 1].count(b"\n")
                last = pos + 1
                if line > start_line:
                    out.append(line)
                pos += 1
    return sorted(set(out))


CSV_REASONS = {
    "TOO MANY COLUMNS": "dòng có nhiều trường hơn số cột của dòng tiêu đề",
    "MISSING COLUMNS": "dòng có ít trường hơn số cột của dòng tiêu đề",
    "INVALID ENCODING": "dòng chứa ký tự không đọc được (không phải UTF-8)",
    "UNQUOTED VALUE": "dấu ngoặc kép không đúng quy cách",
    "LINE SIZE OVER MAXIMUM": "dòng quá dài",
}


def stage_csv(staging: Staging, path: Path, table: str, label: str) -> StagedPart | None:
    if path.stat().st_size == 0:
        staging.warn("tệp rỗng (0 byte), bỏ qua", source=label)
        return None
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    encoding = _detect_encoding(head, table)
    read_path = path
    if encoding not in ("utf-8", "utf-8-sig"):
        if encoding == "cp1258":
            staging.warn("tệp không phải UTF-8, đọc theo bảng mã Windows-1258", source=label)
        read_path = _transcode(path, encoding, staging)
        with open(read_path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if len(head) >= SNIFF_BYTES:
        lines = lines[:-1]  # the last line may be cut
    found = _sniff_header(table, lines)
    if found is None:
        staging.warn(
            f"không tìm thấy dòng tiêu đề trong {HEADER_SCAN_ROWS} dòng đầu "
            "(cần ít nhất 2 tiêu đề cột đã biết), bỏ qua",
            source=label,
        )
        return None
    idx, sep, cells = found
    header_line = idx + 1
    hm = map_headers(table, cells)
    n = len(cells)
    stage = staging.new_stage()
    csv = CsvRead(
        path=read_path,
        header_line=header_line,
        ncols=n,
        rejects=f"{stage}_rej",
        rejects_scan=f"{stage}_scan",
        text_cols=sorted(set(range(n)) - _no_nfc(table, hm)),
        lazy=lazy_columns(table, hm),
    )
    staging.rejects_tables.append((csv.rejects, table, None, label, n))
    return StagedPart(
        table=table,
        source=label,
        sheet=None,
        stage=stage,
        header_row=header_line,
        headers=hm,
        from_sql=csv_from_sql(csv, nfc=False),
        params={"src_path": str(read_path), "src_skip": header_line, "src_delim": sep},
        csv=csv,
        lazy=csv.lazy,
    )


def csv_from_sql(csv: CsvRead, *, nfc: bool) -> str:
    """The cleaned rows of a CSV file as DuckDB reads it (in parallel, in file order), each
    with `_row` = -1 when every cell is empty, else 0 (numbered by number_csv_rows).

    Lines that cannot be read become row-level rejects with their line number. An NFC file
    (the usual case, found by scan_file while the INSERT runs) needs no nfc_normalize, the
    costliest step; `nfc=True` normalises the text columns for a file that is not NFC."""
    n = csv.ncols
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n)) + "}"
    scan = (
        "read_csv($src_path, header = false, skip = $src_skip, delim = $src_delim, "
        f"quote = '\"', escape = '\"', columns = {columns}, auto_detect = false, "
        f"store_rejects = true, rejects_table = '{csv.rejects}', "
        f"rejects_scan = '{csv.rejects_scan}', max_line_size = 10000000)"
    )
    no_nfc = set(range(n)) - set(csv.text_cols) if nfc else set(range(n))
    query = _clean_query(n, "0", scan, no_nfc=no_nfc, lazy=csv.lazy)
    return (
        f"SELECT CASE WHEN {_not_all_empty(n, lazy=csv.lazy)} THEN 0 ELSE -1 END AS _row, "
        f"* EXCLUDE (_row) FROM ({query})"
    )


def number_csv_rows(con: duckdb.DuckDBPyConnection, part: StagedPart, sid: int, fscan) -> None:
    """After a CSV part's INSERT (same transaction): drop its all-empty rows and give every
    row the line number the user sees in the file.

    DuckDB's INSERT keeps the file's order, so a row's position in the file is its position
    among the rows this INSERT appended: its rowid less the first one's. Lines DuckDB
    skipped (rejected, or blank) make the following rows' line numbers step over them."""
    csv = part.csv
    t, h = part.table, csv.header_line
    base, records, empty = con.execute(
        f"""SELECT min(rowid), count(*), count(*) FILTER (WHERE _row = -1)
            FROM "{t}" WHERE snapshot_id = $s""",
        {"s": sid},
    ).fetchall()[0]
    if empty:
        con.execute(f'DELETE FROM "{t}" WHERE snapshot_id = $s AND _row = -1', {"s": sid})
    if not records:
        return
    rejected = con.execute(f'SELECT count(DISTINCT line) FROM "{csv.rejects}"').fetchall()
    rejected_lines = rejected[0][0]
    # Every line after the header gave a record or a reject: no blank line, no multi-line
    # record (either makes lines > records + rejected lines), so no search for blank lines.
    blanks = [] if fscan.lines == h + records + rejected_lines else _blank_lines(csv.path, h)
    skip = f"{part.stage}_skip"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE "{skip}" AS
        WITH s AS (
            SELECT DISTINCT line FROM "{csv.rejects}"
            UNION SELECT unnest(CAST($blanks AS BIGINT[]))
        ), j AS (SELECT line, row_number() OVER (ORDER BY line) AS j FROM s)
        SELECT line - $h - j AS g, max(j) AS j FROM j GROUP BY ALL""",
        {"blanks": blanks, "h": h},
    )
    params = {"s": sid, "h": h, "base": base}
    if not con.execute(f'SELECT count(*) FROM "{skip}"').fetchall()[0][0]:
        con.execute(
            f'UPDATE "{t}" SET _row = $h + (rowid - $base) + 1 WHERE snapshot_id = $s', params
        )
        return
    # Lines skipped (rare): the k-th record after the j-th skipped line (g = that line - h - j)
    # is on line h + k + j.
    con.execute(
        f"""UPDATE "{t}" SET _row = m.r FROM (
                SELECT o.rid, $h + o.k + coalesce(k.j, 0) AS r
                FROM (SELECT rowid AS rid, rowid - $base + 1 AS k
                      FROM "{t}" WHERE snapshot_id = $s) o
                ASOF LEFT JOIN "{skip}" k ON o.k > k.g) m
            WHERE "{t}".rowid = m.rid""",
        params,
    )


def csv_rejects_sql(rej_table: str) -> str:
    """Row-level rejects of one CSV scan (whitespace-only lines are not reported)."""
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in CSV_REASONS.items())
    return f"""INSERT INTO rejects
        SELECT $snapshot_id, $table, $source, NULL, line, NULL,
               left(regexp_replace(csv_line, '^[\\r\\n]+|[\\r\\n]+$', '', 'g'), 500),
               CASE error_type {cases} ELSE 'không đọc được dòng: ' || error_message END
               || CASE WHEN error_type = 'TOO MANY COLUMNS' THEN ' (' || $ncols || ' cột)' ELSE '' END,
               true
        FROM (SELECT line, any_value(csv_line) AS csv_line, any_value(error_type) AS error_type,
                     any_value(error_message) AS error_message
              FROM "{rej_table}" GROUP BY line)
        WHERE trim(coalesce(csv_line, ''), ' ' || chr(9) || chr(13) || chr(10)) <> ''"""


# ---------------------------------------------------------------- XLSX


def open_workbook(path: Path, label: str):
    import fastexcel

    try:
        return fastexcel.read_excel(str(path))
    except Exception as exc:  # noqa: BLE001 - calamine raises several kinds for broken files
        try:
            with open(path, "rb") as f:
                head = f.read(8)
        except OSError:
            head = b""
        if head.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE container: encrypted, or a real .xls
            why = (
                "tệp được đặt mật khẩu hoặc là tệp Excel cũ (.xls); hãy bỏ mật khẩu và lưu lại "
                "dạng .xlsx"
            )
        elif path.suffix.lower() == ".xlsx" and head and not head.startswith(b"PK"):
            why = (  # not a zip at all
                "tệp không phải định dạng .xlsx (có thể là tệp CSV hoặc HTML được đổi đuôi); "
                "hãy mở bằng Excel và lưu lại dạng .xlsx, hoặc xuất lại từ phần mềm"
            )
        else:
            why = "tệp bị hỏng hoặc chưa tải về hết; hãy xuất lại từ phần mềm"
        first = (str(exc).splitlines() or [""])[0][:200]
        raise SoatError(
            f"không mở được tệp Excel: {why} (chi tiết: {type(exc).__name__}: {first})",
            source=label,
        ) from exc


def _frame_source(
    staging: Staging,
    stage: str,
    frame: pl.DataFrame,
    n: int,
    *,
    first_row: int,
    numeric: set[int] | None = None,
    src_cols: list[str] | None = None,
    no_nfc: set[int] | None = None,
    lazy: set[int] | None = None,
) -> tuple[str, dict]:
    """An in-memory frame (an .xlsx sheet, a SQL table) registered as Arrow, and the query of
    its cleaned rows: its i-th row gets row number first_row + i; rows with every cell empty
    are left out. The INSERT reads it straight from Arrow (no temp table)."""
    view = f"{stage}_arrow"
    staging.con.register(view, frame.with_row_index("_soat_i").to_arrow())
    staging.views.append(view)
    query = _clean_query(
        n, "CAST(_soat_i AS BIGINT) + $src_first", f'"{view}"', numeric, src_cols, no_nfc, lazy
    )
    where = _not_all_empty(n, lazy=lazy)
    return f"SELECT * FROM ({query}) WHERE {where}", {"src_first": first_row}


def stage_xlsx_sheet(
    staging: Staging, reader, sheet_name: str, table: str, label: str
) -> StagedPart | None:
    """One sheet. fastexcel counts `skip_rows` from the sheet's row 1 (while without it the
    range starts at the first used row), so skip_rows is always given: row i of the result
    is Excel row i + 1 + skip."""
    import polars as pl

    try:
        top = reader.load_sheet(
            sheet_name, header_row=None, skip_rows=0, n_rows=HEADER_SCAN_ROWS, dtypes="string"
        ).to_polars()
    except Exception as exc:  # noqa: BLE001
        staging.warn(
            f"không đọc được sheet ({str(exc).splitlines()[0][:200]}), bỏ qua",
            source=label,
            sheet=sheet_name,
        )
        return None
    rows = [list(r) for r in top.rows()]
    idx = find_header_row(table, rows)
    if idx is None:
        staging.warn(
            f"không tìm thấy dòng tiêu đề trong {HEADER_SCAN_ROWS} dòng đầu "
            "(cần ít nhất 2 tiêu đề cột đã biết), bỏ qua",
            source=label,
            sheet=sheet_name,
        )
        return None
    cells = rows[idx]
    hm = map_headers(table, cells)
    n = len(cells)
    header_row = idx + 1
    data = reader.load_sheet(
        sheet_name, header_row=None, skip_rows=idx + 1, dtypes="string"
    ).to_polars()
    data = data.rename({c: f"c{i}" for i, c in enumerate(data.columns)})
    data = data.select([f"c{i}" for i in range(min(n, data.width))])
    for i in range(data.width, n):
        data = data.with_columns(pl.lit(None, dtype=pl.String).alias(f"c{i}"))
    no_nfc = set(range(n)) if frame_is_nfc(data) else _no_nfc(table, hm)
    stage = staging.new_stage()
    lazy = lazy_columns(table, hm)
    from_sql, params = _frame_source(
        staging, stage, data, n, first_row=header_row + 1, no_nfc=no_nfc, lazy=lazy
    )
    return StagedPart(
        table=table,
        source=label,
        sheet=sheet_name,
        stage=stage,
        header_row=header_row,
        headers=hm,
        from_sql=from_sql,
        params=params,
        lazy=lazy,
        pad_ids=True,
    )


# ---------------------------------------------------------------- SQL


def redact_url(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def stage_sql_table(
    staging: Staging, engine, schema: str | None, table_name: str, table: str, label: str
) -> StagedPart | None:
    import polars as pl
    import sqlalchemy as sa

    query = sa.select(sa.text("*")).select_from(sa.table(table_name, schema=schema))
    with engine.connect() as conn:
        compiled = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        batches = pl.read_database(compiled, connection=conn, iter_batches=True, batch_size=100_000)
        frames = list(batches)
    if frames:
        frame = pl.concat(frames, how="vertical_relaxed")
    else:  # an empty table yields no batch: take its columns from the catalogue
        names = [c["name"] for c in sa.inspect(engine).get_columns(table_name, schema=schema)]
        frame = pl.DataFrame({n: pl.Series([], dtype=pl.String) for n in names})
    cols = list(frame.columns)
    hm = map_headers(table, cols)
    if len(hm.mapping) < 1:
        staging.warn(
            "bảng không có cột nào khớp với hợp đồng dữ liệu, bỏ qua",
            source=label,
            sheet=table_name,
        )
        return None
    numeric = {i for i, c in enumerate(cols) if frame.schema[c].is_numeric()}
    no_nfc = set(range(len(cols))) if frame_is_nfc(frame) else None
    stage = staging.new_stage()
    lazy = lazy_columns(table, hm)
    from_sql, params = _frame_source(
        staging,
        stage,
        frame,
        len(cols),
        first_row=1,
        numeric=numeric,
        src_cols=cols,
        no_nfc=no_nfc,
        lazy=lazy,
    )
    return StagedPart(
        table=table,
        source=label,
        sheet=table_name,
        stage=stage,
        header_row=None,
        headers=hm,
        from_sql=from_sql,
        params=params,
        numeric_cols=numeric,
        lazy=lazy,
    )


def list_sql_tables(engine, schema: str | None) -> list[str]:
    import sqlalchemy as sa

    insp = sa.inspect(engine)
    names = list(insp.get_table_names(schema=schema))
    try:
        names += list(insp.get_view_names(schema=schema))
    except NotImplementedError:
        pass
    return names


def cleanup(staging: Staging) -> None:
    con = staging.con
    for view in staging.views:
        con.unregister(view)
    for part in staging.parts:
        con.execute(f'DROP TABLE IF EXISTS "{part.stage}_skip"')
    for rej_t, *_ in staging.rejects_tables:
        con.execute(f'DROP TABLE IF EXISTS "{rej_t}"')
        con.execute(f'DROP TABLE IF EXISTS "{rej_t.replace("_rej", "_scan")}"')
    if staging.tmpdir:
        import shutil

        shutil.rmtree(staging.tmpdir, ignore_errors=True)
