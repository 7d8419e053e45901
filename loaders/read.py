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
import io
import mmap
import re
import tempfile
import threading
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from loaders.contract import TABLES
from loaders.headers import (
    CODE_RE,
    FOOTER_RE,
    FOOTER_SCAN,
    HEADER_SCAN_ROWS,
    MIN_KNOWN_HEADERS,
    HeaderFound,
    count_known,
    find_header,
    header_at,
    header_spellings,
    identifying_columns,
    is_empty_cell,
    map_headers,
)
from loaders.normalise import (
    EMPTY_MARKERS_RE,
    TRIM_CHARS,
    TRIM_ORDS,
    CsvRead,
    StagedPart,
    lazy_columns,
)
from soat.errors import SoatError, is_interrupt
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
    # the write phase may run two lanes at once (loaders.load._write_in_lanes)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    # CSV files' scans (scan_file), each started as its file is staged, on one thread
    _scan_pool: ThreadPoolExecutor | None = field(default=None, repr=False, compare=False)
    _scans: dict[str, Future] = field(default_factory=dict, repr=False, compare=False)

    def new_stage(self) -> str:
        with self._lock:
            self._n += 1
            return f"_soat_stage_{self._n}"

    def warn(self, message: str, source=None, sheet=None, row=None, column=None) -> None:
        self.messages.append(Message("warning", source, sheet, row, column, message))

    def warn_part(self, part: StagedPart, message: str, row=None, column=None) -> None:
        """A warning about one staged part: its file and sheet named."""
        self.warn(message, source=part.source, sheet=part.sheet, row=row, column=column)

    def info(self, message: str, source=None, sheet=None, row=None, column=None) -> None:
        self.messages.append(Message("info", source, sheet, row, column, message))

    def scan(self, path) -> Future:
        """The scan of a CSV file (scan_file: NFC or not, lines, digest, hints of legacy
        text), started on the load's scan thread the first time it is asked for: as the
        file is staged, so that it runs while the other files are staged and the small
        ones written (one core each), not beside the big file's INSERT (every core)."""
        key = str(path)
        with self._lock:
            scan = self._scans.get(key)
            if scan is None or scan.cancelled():
                if self._scan_pool is None:
                    self._scan_pool = ThreadPoolExecutor(1, thread_name_prefix="soat-scan")
                scan = self._scans[key] = self._scan_pool.submit(scan_file, Path(path))
            return scan

    def stop_scans(self) -> None:
        """The scans not started are dropped; one running is waited for."""
        if self._scan_pool is not None:
            self._scan_pool.shutdown(wait=True, cancel_futures=True)
            self._scan_pool = None

    def tmp(self) -> str:
        with self._lock:
            if self.tmpdir is None:
                self.tmpdir = tempfile.mkdtemp(prefix="soat-load-")
            return self.tmpdir


class PartStaging:
    """The staging as one part's write sees it in a lane (loaders.load._write_in_lanes):
    everything is the load's, but its messages are kept apart, to be added in the parts'
    order once the lanes are done (they run at the same time)."""

    def __init__(self, staging: Staging) -> None:
        self._staging = staging
        self.messages: list[Message] = []

    def __getattr__(self, name: str):
        return getattr(self._staging, name)

    warn = Staging.warn
    warn_part = Staging.warn_part
    info = Staging.info


# 4 bytes: 'null', the longest marker (all are ASCII, so one byte a character)
EMPTY_MARKER_MAX = max(len(m.encode()) for m in EMPTY_MARKERS)


_WIDE_TRIM_ORDS = ", ".join(str(o) for o in TRIM_ORDS if o >= 160)


def _clean_query(
    n: int,
    row_expr: str,
    from_sql: str,
    numeric: set[int] | None = None,
    src_cols: list[str] | None = None,
    no_nfc: set[int] | None = None,
    lazy: set[int] | None = None,
    legacy: str | None = None,
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
            if legacy:  # TCVN3/VNI text cells converted (loaders.legacy), before cleaning
                from loaders import legacy as legacy_enc

                src = legacy_enc.sql(legacy, src)
        text.append(f"{src} AS v{i}")
        if lazy and i in lazy:
            ends.append(f"v{i}")
            trimmed.append(f"v{i} AS t{i}")
            cleaned.append(f"t{i} AS c{i}")
            continue
        ends.append(f"v{i}, ord(v{i}) AS f{i}, ord(v{i}[-1]) AS l{i}")
        # below 33: space, tab, line breaks (other control characters call trim() for nothing);
        # from 160 the rest of TRIM_ORDS (most text starts and ends below 160: one test)
        blank = " OR ".join(
            f"{e}{i} < 33 OR ({e}{i} >= 160 AND {e}{i} IN ({_WIDE_TRIM_ORDS}))" for e in "fl"
        )
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

    if carry and not 0xB8 <= a[0] <= 0xBB:
        return False
    # the few high lead bytes' positions (one compare and one pass), then only they are
    # looked at: half the CPU of testing every byte for 0xE1 and every pair (0.5 against
    # 1.0 s per 400 MB here)
    high = np.flatnonzero(a >= 0xCC)
    if not len(high):
        return True
    if not bool((a[high] == 0xE1).all()):
        return False  # a lead byte outside the safe ranges
    if high[-1] == len(a) - 1:
        high = high[:-1]  # a last 0xE1 is the caller's (carry)
    low = np.uint8(0xB8)  # uint8 arrays wrap: b - low < 4 is 0xB8 <= b <= 0xBB
    return bool(((a[high + 1] - low) < 4).all())  # every other 0xE1 is followed well


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
    # of the file's bytes (loaders.digest: "this source was loaded before")
    digest: str = field(default="", compare=False)
    # bytes hinting at TCVN3 / VNI text inside the UTF-8 (loaders.legacy): Latin-1 symbols
    # (C2 A1-BE) in the whole file, letters Vietnamese Unicode text never has (C3 xx) in
    # its first block
    legacy: int = field(default=0, compare=False)


DIGEST_BLOCK = 1 << 20


class Digest:
    """A 64-bit position-weighted checksum of a byte stream, computed with numpy over
    1 MB blocks (≈ 0.04 s per 400 MB, a tenth of sha1's CPU, which the INSERT beside the
    scan would lose): each block's 8-byte words times fixed odd random weights, summed
    modulo 2^64, chained block after block with the block's length. Any change of one
    word changes it; two changes cancel with probability 2^-64. It tells "the same file
    again", not tampering."""

    _weights = None

    def __init__(self) -> None:
        self.h = 0
        self.n = 0
        self.pending = bytearray()

    @classmethod
    def weights(cls):
        import numpy as np

        if cls._weights is None:
            rng = np.random.default_rng(20251206)
            w = rng.integers(0, 2**63, DIGEST_BLOCK // 8, dtype=np.uint64)
            cls._weights = w * np.uint64(2) + np.uint64(1)
        return cls._weights

    def _block(self, a) -> None:
        import numpy as np

        n = len(a)
        if n % 8:
            a = np.concatenate([a, np.zeros(8 - n % 8, dtype=np.uint8)])
        words = a.view(np.uint64)
        s = int(np.sum(words * self.weights()[: len(words)], dtype=np.uint64))
        self.h = (self.h * 0x9E3779B97F4A7C15 + s + n) % (1 << 64)
        self.n += n

    def update(self, a) -> None:
        """Feed bytes (a uint8 numpy array); blocks are cut every DIGEST_BLOCK bytes."""
        import numpy as np

        if not self.pending and len(a) == DIGEST_BLOCK:
            self._block(a)
            return
        self.pending += a.tobytes()
        while len(self.pending) >= DIGEST_BLOCK:
            self._block(np.frombuffer(bytes(self.pending[:DIGEST_BLOCK]), dtype=np.uint8))
            del self.pending[:DIGEST_BLOCK]

    def hexdigest(self) -> str:
        import numpy as np

        if self.pending:
            self._block(np.frombuffer(bytes(self.pending), dtype=np.uint8))
            self.pending.clear()
        return f"{self.h:016x}-{self.n}"


# second bytes after C3 of the Latin-1 letters Vietnamese Unicode never has (legacy.py)
_LEGACY_C3 = sorted({ord(c.encode("utf-8")[1:]) for c in "ÄÅÆÇËÎÏÐÑÖ×ØÛÜÞßäåæçëîïñö÷øûüþ"})


def _legacy_bytes(a, first: bool) -> int:
    """Hints of TCVN3/VNI text in a UTF-8 block: C2 followed by A1-BE (Latin-1 symbols,
    TCVN3's letters; rare in Vietnamese Unicode text, so the positions are few), and in the
    first block also C3 followed by a letter Vietnamese never has."""
    import numpy as np

    n = 0
    c2 = np.flatnonzero(a[:-1] == 0xC2)
    if c2.size:
        nxt = a[c2 + 1]
        n += int(np.count_nonzero((nxt >= 0xA1) & (nxt <= 0xBE)))
    if first:
        c3 = np.flatnonzero(a[:-1] == 0xC3)
        if c3.size:
            n += int(np.count_nonzero(np.isin(a[c3 + 1], _LEGACY_C3)))
    return n


def scan_file(path: Path) -> FileScan:
    """One pass over a UTF-8 file: is it NFC, how many lines does it have, its digest and
    hints of legacy font encodings.

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
    blocks read into one buffer (cache-sized, no copies): ≈ 0.5 s CPU per 400 MB, the byte
    test ≈ 0.23 of it (measured on round 8's last Intel Xeon machine); it runs beside the
    file's INSERT on a 2-core machine, so its CPU is the load's."""
    import numpy as np  # on the load's scan thread, beside the first INSERT (≈ 0.1 s)

    buf = np.empty(FAST_BLOCK, dtype=np.uint8)
    lines, last, carry = 0, 10, False  # carry: the previous block ended with 0xE1
    digest, legacy, first = Digest(), 0, True
    with open(path, "rb", buffering=0) as f:
        _skip_bom(f)
        while n := f.readinto(buf):
            a = buf[:n]
            if not _fast_safe(a, carry):
                return None
            lines += int(np.count_nonzero(a == 10))
            digest.update(a)
            legacy += _legacy_bytes(a, first)
            first = False
            last = int(a[-1])
            carry = last == 0xE1
    if carry:
        return None  # the file ends inside a character
    return FileScan(nfc=True, lines=lines + (last != 10), digest=digest.hexdigest(), legacy=legacy)


def _scan_exact(path: Path) -> FileScan:
    """Chunks cut after a newline, which neither composes nor reorders with its neighbours,
    so the chunks' results add up; each takes _chunk_is_nfc (the exact check where the
    fast test fails)."""
    import numpy as np

    nfc, lines, rest, last = True, 0, b"", b"\n"
    digest, legacy, first = Digest(), 0, True
    with open(path, "rb") as f:
        _skip_bom(f)
        while chunk := f.read(SCAN_CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            a = np.frombuffer(chunk, dtype=np.uint8)
            for i in range(0, len(a), FAST_BLOCK):
                digest.update(a[i : i + FAST_BLOCK])
            legacy += _legacy_bytes(a, first)
            first = False
            if not nfc:
                continue
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            rest = chunk[cut:]
            if cut and not _chunk_is_nfc(chunk[:cut]):
                nfc = False
    if nfc and rest:
        nfc = _chunk_is_nfc(rest)
    return FileScan(
        nfc=nfc, lines=lines + (last != b"\n"), digest=digest.hexdigest(), legacy=legacy
    )


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

UTF16 = {"utf-16-le-bom": "utf-16", "utf-16-be-bom": "utf-16", "utf-16-le": "utf-16-le"}
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


@dataclass
class Encoding:
    """How a CSV file's bytes are read: `codec` (utf-8, utf-8-sig, utf-16 variants, cp1258,
    cp1252) and, for cp1252, whether Vietnamese letters were lost as '?'."""

    codec: str
    lost: bool = False

    @property
    def utf8(self) -> bool:
        return self.codec in ("utf-8", "utf-8-sig")


def _detect_encoding(head: bytes, table: str) -> Encoding:
    """From the file's first 256 KB. Without a BOM, bytes that are not UTF-8 are a legacy
    8-bit code page (legacy.eight_bit: Windows-1258 or Windows-1252) when no line of the
    sample holds a valid UTF-8 letter beyond ASCII (plain-ASCII headers included); a file
    with valid UTF-8 letters is UTF-8, its lines with bad bytes rejected one by one."""
    from loaders import legacy

    if head.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig")
    if head.startswith(codecs.BOM_UTF16_LE):
        return Encoding("utf-16-le-bom")
    if head.startswith(codecs.BOM_UTF16_BE):
        return Encoding("utf-16-be-bom")
    sample = head[:200]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        return Encoding("utf-16-le")
    try:
        head.decode("utf-8")
        return Encoding("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4 and len(head) >= SNIFF_BYTES:
            try:
                head[: exc.start].decode("utf-8")
                return Encoding("utf-8")  # a character cut at the end of the sample
            except UnicodeDecodeError:
                pass
    if _UTF8_MULTIBYTE.search(head) and _mostly_utf8(head):
        return Encoding("utf-8")
    codec, lost = legacy.eight_bit(head)
    return Encoding(codec, lost)


def _mostly_utf8(data: bytes) -> bool:
    """More lines of the sample are valid UTF-8 with a letter beyond ASCII than lines with
    bytes UTF-8 cannot read."""
    good = bad = 0
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return good >= bad


def file_is_legacy(path: Path) -> bool:
    """The whole file holds no valid UTF-8 letter beyond ASCII but bytes UTF-8 cannot
    read: an 8-bit code page whose first 256 KB were plain ASCII (read only when the
    INSERT rejected lines for their bytes)."""
    multibyte = bad = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            multibyte += len(_UTF8_MULTIBYTE.findall(chunk))
            bad += chunk.decode("utf-8", errors="replace").count("\ufffd")
    return bad > 0 and multibyte == 0


def _line_endings_mixed(head: bytes) -> bool:
    """CRLF and LF in one file (one line edited in a text editor), or CR alone (old Mac):
    DuckDB's reader stops on them, so such a file is read from a copy with LF endings."""
    crlf = head.count(b"\r\n")
    return bool((crlf and head.count(b"\n") > crlf) or head.count(b"\r") > crlf)


def utf8_copy(path: Path, codec: str, staging: Staging) -> Path:
    """A UTF-8 copy of a file (streamed in 1 MB chunks) with every line ending LF (CRLF and
    CR alike; a line break inside a quoted cell too), for DuckDB to read."""
    out = Path(staging.tmp()) / f"{staging.new_stage()}.csv"
    dec = codecs.getincrementaldecoder(UTF16.get(codec, codec))(errors="replace")
    with open(path, "rb") as fin, open(out, "w", encoding="utf-8", newline="") as fout:
        cr = False  # the previous chunk ended with CR
        while True:
            chunk = fin.read(1 << 20)
            text = dec.decode(chunk, final=not chunk)
            if cr:
                text = "\r" + text
            cr = bool(chunk) and text.endswith("\r")
            if cr:
                text = text[:-1]
            fout.write(text.replace("\r\n", "\n").replace("\r", "\n"))
            if not chunk:
                break
    return out


def _records(text: str, sep: str, limit: int) -> list[tuple[list[str], int]]:
    """The first `limit` CSV records of `text` (quote-aware, as DuckDB reads them), each
    with the physical line it ends on (1-based): a title cell with a line break in it
    ("DANH SÁCH HỌC SINH⏎Năm học 2024-2025") is one record over two lines. Spaces after a
    separator are skipped, so `"HS1", "S1"` (scripts, hand edits) has its quoted cells,
    as DuckDB reads them."""
    out: list[tuple[list[str], int]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True)
    try:
        for cells in reader:
            out.append((cells, reader.line_num))
            if len(out) >= limit:
                break
    except csv.Error:  # a quote left open in the sniffed head: what was read stands
        pass
    return out


def _sniff_header(table: str, text: str) -> tuple[HeaderFound, str, str | None, int] | None:
    """(header, separator, legacy font encoding, the physical line the header ends on) of
    the header record(s), or None. `HeaderFound` counts CSV records (what DuckDB's `skip`
    counts: a record can span lines, and a header cell can hold a line break typed with
    Alt+Enter); the line is for the row numbers the user sees. A header typed in a legacy
    font (TCVN3, VNI) is found on the lines converted."""
    from loaders import legacy

    lines = text.splitlines(keepends=True)
    for kind in (None, "tcvn3", "vni"):
        t = text
        if kind:
            conv = legacy.from_tcvn3 if kind == "tcvn3" else legacy.from_vni
            t = "".join(conv(line) if legacy.is_suspect(line) else line for line in lines)
        parsed = {sep: _records(t, sep, HEADER_SCAN_ROWS + 1) for sep in SEPARATORS}
        # as headers.find_header: the record naming the most known headers (a two-row
        # header counted whole), the first on a tie, each separator tried on each record
        best: tuple[int, HeaderFound, str] | None = None
        for i in range(HEADER_SCAN_ROWS):
            for sep in SEPARATORS:
                recs = parsed[sep]
                if i >= len(recs) or count_known(table, recs[i][0]) < MIN_KNOWN_HEADERS:
                    continue
                found = header_at(table, [r[0] for r in recs], i)
                k = count_known(table, found.cells)
                if best is None or k > best[0]:
                    best = (k, found, sep)
        if best:
            _, found, sep = best
            return found, sep, kind, parsed[sep][found.last - 1][1]
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


def _eof_marks(path: Path) -> int:
    """How many Ctrl-Z bytes (0x1A, the end-of-file mark of DOS and FoxPro-era exporters)
    end the file: not data; read as a last record of one field, it became a pupil."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - 16))
        tail = f.read()
    return len(tail) - len(tail.rstrip(b"\x1a"))


def _copy_head(path: Path, size: int, staging: Staging) -> Path:
    """A copy of the first `size` bytes of a file (streamed in 1 MB chunks), for DuckDB."""
    out = Path(staging.tmp()) / f"{staging.new_stage()}.csv"
    with open(path, "rb") as fin, open(out, "wb") as fout:
        left = size
        while left > 0 and (chunk := fin.read(min(left, 1 << 20))):
            fout.write(chunk)
            left -= len(chunk)
    return out


def stage_csv(staging: Staging, path: Path, table: str, label: str) -> StagedPart | None:
    if path.stat().st_size == 0:
        staging.warn("tệp rỗng (0 byte), bỏ qua", source=label)
        return None
    read_path = path
    eof_marks = _eof_marks(path)
    if eof_marks:
        if eof_marks == path.stat().st_size:
            staging.warn("tệp rỗng (chỉ có ký tự kết thúc tệp Ctrl-Z), bỏ qua", source=label)
            return None
        read_path = _copy_head(path, path.stat().st_size - eof_marks, staging)
    with open(read_path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    enc = _detect_encoding(head, table)
    if not enc.utf8 or _line_endings_mixed(head):
        read_path = utf8_copy(read_path, enc.codec, staging)
        with open(read_path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if len(head) >= SNIFF_BYTES:
        text = text[: text.rfind("\n") + 1]  # the last line may be cut
    found = _sniff_header(table, text)
    if found is None:
        other = next((t for t in TABLES if t != table and _sniff_header(t, text)), None)
        staging.warn(_no_header(table, other), source=label)
        return None
    header, sep, kind, header_line = found
    _encoding_warning(staging, enc, label)
    return _csv_part(staging, table, label, read_path, header, sep, kind, header_line)


def _no_header(table: str, other: str | None) -> str:
    """No header of `table` in the first rows; when they hold another table's header, say
    which (a file named after the wrong table)."""
    from loaders.contract import table_label

    text = (
        f"không tìm thấy dòng tiêu đề trong {HEADER_SCAN_ROWS} dòng đầu "
        "(cần ít nhất 2 tiêu đề cột đã biết)"
    )
    if other:
        text += (
            f"; dòng tiêu đề giống bảng {table_label(other)} hơn bảng {table_label(table)}: "
            f"hãy đặt tên tệp/sheet theo bảng đó (ví dụ '{TABLES[other].aliases[0]}')"
        )
    return text + ", bỏ qua"


def _encoding_warning(staging: Staging, enc: Encoding, label: str) -> None:
    if enc.codec == "cp1258":
        staging.warn(
            "tệp không phải UTF-8: đã đọc theo bảng mã Windows-1258 (tiếng Việt); nên lưu lại "
            "dạng 'CSV UTF-8'",
            source=label,
        )
    elif enc.codec == "cp1252":
        staging.warn(
            "tệp không phải UTF-8: đã đọc theo bảng mã Windows-1252"
            + (
                "; các chữ tiếng Việt bảng mã này không có đã bị Excel thay bằng '?' "
                "(ví dụ 'Nguy?n') và không khôi phục được"
                if enc.lost
                else ""
            )
            + ": hãy lưu lại tệp dạng 'CSV UTF-8' rồi nạp lại",
            source=label,
        )


def _csv_part(
    staging: Staging,
    table: str,
    label: str,
    read_path: Path,
    header: HeaderFound,
    sep: str,
    kind: str | None,
    header_line: int,
) -> StagedPart:
    """`header` counts records (DuckDB skips `header.last` of them); `header_line` is the
    physical line the header ends on, which the rows' line numbers count from."""
    cells = header.cells
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
        probe=_header_probe(table, hm),
    )
    staging.rejects_tables.append((csv.rejects, table, None, label, n))
    part = StagedPart(
        table=table,
        source=label,
        sheet=None,
        stage=stage,
        header_row=header_line,
        headers=hm,
        params={
            "src_path": str(read_path),
            "src_skip": header.last,
            "src_delim": sep,
            **_probe_params(csv.probe),
        },
        csv=csv,
        lazy=csv.lazy,
        legacy=kind,
    )
    if kind:
        _legacy_warning(staging, part, "dòng tiêu đề")
    part.from_sql = csv_from_sql(csv, nfc=False, legacy=kind)
    return part


def _legacy_warning(staging: Staging, part: StagedPart, where: str, example: str = "") -> None:
    name = {"tcvn3": "TCVN3 (ABC, phông .Vn)", "vni": "VNI (phông VNI-)"}[part.legacy]
    staging.warn_part(
        part,
        f"{where} gõ bằng bảng mã {name}: các ô chữ mã này đã được chuyển sang Unicode"
        + (f" (ví dụ {example})" if example else "")
        + "; nên chuyển mã cả tệp sang Unicode (Unikey: Công cụ chuyển mã)",
    )


PROBE_KINDS = ("code", "text", "citizen_id")


def _header_probe(table: str, hm) -> list[tuple[int, list[str]]]:
    """Up to two columns (read cleaned, not lazily) whose cells a repeated header row
    holds: (index, the spellings of its header)."""
    t = TABLES[table]
    out = []
    for i, name in sorted(hm.mapping.items()):
        if t.column(name).kind in PROBE_KINDS:
            out.append((i, header_spellings(table, name, hm.headers[i])))
        if len(out) == 2:
            break
    return out


def _probe_params(probe) -> dict:
    """The file's own header text of each probe column (spellings[0]): a header block pasted
    from the same export repeats it exactly."""
    return {
        f"probe_{k}": unicodedata.normalize("NFC", spellings[0])
        for k, (_i, spellings) in enumerate(probe)
    }


def _probe_sql(probe) -> str:
    """A row repeating the header (a title and header block pasted into the data): its
    probe columns hold the file's header text. One equality per row on the first column
    (the second only where it matched): no IN list (a join would lose the file order), no
    list lookup per row (≈ 0.1 s on 2 M students)."""
    if not probe:
        return "false"
    return " AND ".join(f"c{i} = $probe_{k}" for k, (i, _s) in enumerate(probe))


def csv_from_sql(csv: CsvRead, *, nfc: bool, legacy: str | None = None) -> str:
    """The cleaned rows of a CSV file as DuckDB reads it (in parallel, in file order), each
    with `_row` = -1 when every cell is empty, -2 when it repeats the header, else 0
    (numbered by number_csv_rows).

    Lines that cannot be read become row-level rejects with their line number. An NFC file
    (the usual case, found by scan_file while the INSERT runs) needs no nfc_normalize, the
    costliest step; `nfc=True` normalises the text columns for a file that is not NFC.
    `csv.padding` reads a line short of fields with its last fields empty; `legacy`
    converts TCVN3/VNI text cells."""
    n = csv.ncols
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n)) + "}"
    padding = ", null_padding = true" if csv.padding else ""
    scan = (
        "read_csv($src_path, header = false, skip = $src_skip, delim = $src_delim, "
        f"quote = '\"', escape = '\"', columns = {columns}, auto_detect = false, "
        f"store_rejects = true, rejects_table = '{csv.rejects}', "
        f"rejects_scan = '{csv.rejects_scan}', max_line_size = 10000000{padding})"
    )
    no_nfc = set(range(n)) - set(csv.text_cols) if nfc else set(range(n))
    query = _clean_query(n, "0", scan, no_nfc=no_nfc, lazy=csv.lazy, legacy=legacy)
    return (
        f"SELECT CASE WHEN {_probe_sql(csv.probe)} THEN -2 "
        f"WHEN {_not_all_empty(n, lazy=csv.lazy)} THEN 0 ELSE -1 END AS _row, "
        f"* EXCLUDE (_row) FROM ({query})"
    )


def number_csv_rows(con: duckdb.DuckDBPyConnection, part: StagedPart, sid: int, fscan) -> list[int]:
    """After a CSV part's INSERT (same transaction): drop its all-empty rows and give every
    row the line number the user sees in the file; returns the line numbers of the rows
    that repeat the header (marked -2 by csv_from_sql; loaders.fixups drops them).

    DuckDB's INSERT keeps the file's order, so a row's position in the file is its position
    among the rows this INSERT appended: its rowid less the first one's. Lines DuckDB
    skipped (rejected, or blank) make the following rows' line numbers step over them."""
    csv = part.csv
    t, h = part.table, csv.header_line
    mine = "snapshot_id = $s" + (" AND _source = $src AND _sheet IS NULL" if part.shared else "")
    who = {"s": sid, **({"src": part.source} if part.shared else {})}
    base, records, empty, repeated = con.execute(
        f"""SELECT min(rowid), count(*), count(*) FILTER (WHERE _row = -1),
                   list(rowid) FILTER (WHERE _row = -2)
            FROM "{t}" WHERE {mine}""",
        who,
    ).fetchall()[0]
    if empty:
        con.execute(f'DELETE FROM "{t}" WHERE {mine} AND _row = -1', who)
    if not records:
        return []
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
    params = {**who, "h": h, "base": base}
    if not con.execute(f'SELECT count(*) FROM "{skip}"').fetchall()[0][0]:
        con.execute(f'UPDATE "{t}" SET _row = $h + (rowid - $base) + 1 WHERE {mine}', params)
    else:
        # Lines skipped (rare): the k-th record after the j-th skipped line (g = that line
        # - h - j) is on line h + k + j.
        con.execute(
            f"""UPDATE "{t}" SET _row = m.r FROM (
                    SELECT o.rid, $h + o.k + coalesce(k.j, 0) AS r
                    FROM (SELECT rowid AS rid, rowid - $base + 1 AS k
                          FROM "{t}" WHERE {mine}) o
                    ASOF LEFT JOIN "{skip}" k ON o.k > k.g) m
                WHERE "{t}".rowid = m.rid""",
            params,
        )
    if not repeated:
        return []
    got = con.execute(
        f'SELECT _row FROM "{t}" WHERE {mine} AND list_contains($ids, rowid) ORDER BY 1',
        {**who, "ids": repeated},
    ).fetchall()
    return [r[0] for r in got]


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
        if is_interrupt(exc):  # Ctrl-C inside calamine: the stop, not a broken file
            raise
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
        # calamine's own (English) words stay out of what the officer reads; the chained
        # exception keeps them for whoever debugs
        raise SoatError(f"không mở được tệp Excel: {why}", source=label) from exc


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
    legacy: str | None = None,
) -> tuple[str, dict]:
    """An in-memory frame (an .xlsx sheet, a SQL table) registered as Arrow, and the query of
    its cleaned rows: its row with index i (`_soat_i`, added here unless the frame has it)
    gets row number first_row + i; rows with every cell empty are left out. The INSERT
    reads it straight from Arrow (no temp table)."""
    view = f"{stage}_arrow"
    if "_soat_i" not in frame.columns:
        frame = frame.with_row_index("_soat_i")
    staging.con.register(view, frame.to_arrow())
    staging.views.append(view)
    query = _clean_query(
        n,
        "CAST(_soat_i AS BIGINT) + $src_first",
        f'"{view}"',
        numeric,
        src_cols,
        no_nfc,
        lazy,
        legacy,
    )
    where = _not_all_empty(n, lazy=lazy)
    return f"SELECT * FROM ({query}) WHERE {where}", {"src_first": first_row}


def _xlsx_header(table: str, rows: list[list]) -> tuple[HeaderFound, str | None] | None:
    """The header in a sheet's first rows, also when typed in a legacy font."""
    from loaders import legacy

    found = find_header(table, rows)
    if found:
        return found, None
    for kind, conv in (("tcvn3", legacy.from_tcvn3), ("vni", legacy.from_vni)):
        converted = [
            [conv(c) if isinstance(c, str) and legacy.is_suspect(c) else c for c in r] for r in rows
        ]
        found = find_header(table, converted)
        if found:
            return found, kind
    return None


# a sheet's used range beyond this many cells is not read (workbook.dimension): calamine
# keeps the range in memory, ≈ 32 bytes a cell; Excel's 1,048,576 rows × 60 columns fit
MAX_SHEET_CELLS = 64_000_000
BROKEN_SHEET = (
    "không đọc được sheet (sheet bị hỏng); hãy mở tệp bằng Excel, lưu lại rồi nạp lại, bỏ qua"
)


def stage_xlsx_sheet(staging: Staging, reader, sheet_name: str, table: str, label: str, **kw):
    """`_stage_xlsx_sheet`; a sheet whose XML cannot be decompressed (a damaged file:
    workbook.BrokenPart) is skipped with the warning of a sheet calamine cannot read."""
    from loaders import workbook

    try:
        return _stage_xlsx_sheet(staging, reader, sheet_name, table, label, **kw)
    except workbook.BrokenPart:
        staging.warn(BROKEN_SHEET, source=label, sheet=sheet_name)
        return None


def _stage_xlsx_sheet(
    staging: Staging,
    reader,
    sheet_name: str,
    table: str,
    label: str,
    path: Path | None = None,
    recalc: bool = False,
    part_xml: str | None = None,
    quiet: bool = False,
    date1904: bool = False,
) -> StagedPart | None:
    """One sheet, loaded once (every cell as text; the first rows give the header).
    fastexcel counts `skip_rows` from the sheet's row 1 (while without it the range starts
    at the first used row), so skip_rows=0 is given: row i of the load is Excel row i + 1.
    Columns are not so: the load starts at the first used column (a table pasted at B2,
    column A left empty as a margin), so column i of the load is Excel's column
    first_col + i, which every position read from the sheet's XML (merged ranges, formulas,
    cell types; all absolute) is mapped through.
    `quiet`: a sheet without the header is info (a workbook of one table may hold other
    sheets), else a warning."""
    import polars as pl

    from loaders import workbook
    from loaders.headers import excel_column_letter

    size = workbook.dimension(path, part_xml) if path is not None else None
    if size is not None and size[0] * size[1] > MAX_SHEET_CELLS:
        rows_, cols_ = size
        area = f"{rows_:,} dòng × {cols_:,} cột".replace(",", ".")
        staging.warn(
            f"sheet có ô dữ liệu ở tận ô {excel_column_letter(cols_ - 1)}{rows_} (vùng {area}, "
            "quá lớn để đọc): thường là một ô thừa nằm xa bảng; hãy xoá các cột, dòng trống "
            "bên phải và bên dưới bảng rồi lưu lại, bỏ qua",
            source=label,
            sheet=sheet_name,
        )
        return None
    try:
        loaded = reader.load_sheet(sheet_name, header_row=None, skip_rows=0, dtypes="string")
        batch, errors = loaded.to_arrow_with_errors()
        full = pl.from_arrow(batch)
    except Exception as exc:  # noqa: BLE001 - calamine's errors vary; its English is not shown
        if is_interrupt(exc):  # Ctrl-C inside calamine: the stop, not a broken sheet
            raise
        staging.warn(BROKEN_SHEET, source=label, sheet=sheet_name)
        return None
    if isinstance(full, pl.Series):
        full = full.to_frame()
    first_col = _first_column(loaded)
    rows = [list(r) for r in full.head(HEADER_SCAN_ROWS + 1).rows()]
    found = _xlsx_header(table, rows)
    if found is None:
        other = next((t for t in TABLES if t != table and find_header(t, rows)), None)
        say = staging.info if quiet and other is None else staging.warn
        say(_no_header(table, other), source=label, sheet=sheet_name)
        return None
    header, kind = found
    cells = list(header.cells)
    while cells and is_empty_cell(cells[-1]):  # the sheet's used range, not the table, ends there
        cells.pop()
    hm = map_headers(table, cells, first_col=first_col)
    n = len(cells)
    header_row = header.last
    _values_right_of_header(staging, full, n, header_row, label, sheet_name, first_col)
    data = full.slice(header_row)
    data = data.rename({c: f"c{i}" for i, c in enumerate(data.columns)})
    data = data.select([f"c{i}" for i in range(min(n, data.width))])
    for i in range(data.width, n):
        data = data.with_columns(pl.lit(None, dtype=pl.String).alias(f"c{i}"))
    named = set(hm.mapping) | set(hm.extra)
    error_at = {(row0 + 1, col): text for row0, col, text in workbook.error_cells(errors)}
    found = [
        (row, hm.headers[col], text, "ô lỗi công thức Excel, không có giá trị")
        for (row, col), text in error_at.items()
        if row > header_row and col in named
    ]
    if path is not None:
        data = _formulas(data, hm, header_row, path, part_xml, recalc, found, error_at, first_col)
        data = _fill_merged(
            staging, data, hm, header_row, path, part_xml, label, sheet_name, first_col
        )
    data = data.with_row_index("_soat_i")
    stage = staging.new_stage()
    part = StagedPart(
        table=table,
        source=label,
        sheet=sheet_name,
        stage=stage,
        header_row=header_row,
        headers=hm,
        legacy=kind,
        date1904=date1904,
    )
    part.found_rejects.extend(found)
    data = _drop_repeated_headers(staging, part, data, n)
    data = _drop_footer(staging, part, data, n)
    _prefer_filled(table, hm, data)
    zero_cols: set[int] = set()
    if path is not None:
        data, zero_cols = _zero_formats(staging, part, data, path, part_xml, first_col)
    data = _date_cells(staging, part, data, path, part_xml, first_col)
    data = _swapped_dates(staging, part, data)
    data = _cell_types(staging, part, reader, data, n, path, part_xml, first_col, zero_cols)
    if part.legacy is None:
        part.legacy = _legacy_text(staging, part, data, n)
    elif kind:
        _legacy_warning(staging, part, "dòng tiêu đề")
    no_nfc = set(range(n)) if frame_is_nfc(data) else _no_nfc(table, hm)
    lazy = lazy_columns(table, hm)
    part.from_sql, part.params = _frame_source(
        staging,
        stage,
        data,
        n,
        first_row=header_row + 1,
        no_nfc=no_nfc,
        lazy=lazy,
        legacy=part.legacy,
    )
    part.lazy = lazy
    return part


def _first_column(loaded) -> int:
    """Excel's 0-based column of the load's first column (fastexcel's `absolute_index`):
    calamine starts a sheet's range at its first used column."""
    try:
        cols = loaded.available_columns()
        return int(cols[0].absolute_index) - int(cols[0].index) if cols else 0
    except (AttributeError, IndexError, TypeError):  # an older fastexcel: none such
        return 0


NOT_COMPUTED = (
    "ô có công thức nhưng không có giá trị đã tính (tệp chưa được Excel tính lại): mở tệp "
    "bằng Excel, lưu lại rồi nạp lại"
)
NOT_RECALCULATED = (
    "ô có công thức, giá trị lưu trong tệp không phải giá trị Excel đã tính (tệp do phần mềm "
    "ghi ra, chưa được Excel tính lại): mở tệp bằng Excel, lưu lại rồi nạp lại"
)


def _formulas(
    data, hm, header_row: int, path, part_xml, recalc: bool, found: list, error_at, first_col=0
):
    """Formula cells whose value Excel never computed (only a sheet with formulas is
    looked at: workbook.formula_cells), in the loaded columns of the data rows, each a
    value reject in `found` (beside the error cells already there):
    - no value stored at all (`<f>` without `<v>`): never computed, whatever the workbook
      says (Excel and LibreOffice always store one);
    - a workbook that says `fullCalcOnLoad` (a program wrote it and left the computing to
      Excel: xlsxwriter stores 0 as every formula's value, openpyxl none): no stored value
      is Excel's, so every formula cell is rejected and left empty; the reject quotes the
      stored value.
    A value computed by Excel (no fullCalcOnLoad) is loaded as it is. `first_col`: the
    sheet's column of the load's first (calamine starts at the first used column)."""
    import numpy as np
    import polars as pl

    from loaders import workbook

    named = set(hm.mapping) | set(hm.extra)
    cells: dict[int, list[tuple[int, str]]] = {}  # column -> (index in data, reason)
    for row, xml_col, held in workbook.formula_cells(path, part_xml, every=recalc):
        col = xml_col - first_col  # the sheet's column -> the load's (a table right of A)
        if row <= header_row or col not in named or (row, col) in error_at:
            continue  # an error cell has its reject already
        if held == workbook.NO_VALUE or (recalc and held == workbook.EMPTY_VALUE):
            why = NOT_COMPUTED
        elif recalc:
            why = NOT_RECALCULATED
        else:
            continue
        if row - header_row - 1 < data.height:
            cells.setdefault(col, []).append((row - header_row - 1, why))
        else:  # a row calamine did not give (no value in it)
            found.append((row, hm.headers[col], None, why))
    out = []
    for col, hits in cells.items():
        idx = [i for i, _ in hits]
        stored = data[f"c{col}"].gather(idx).to_list()  # the value quoted, then left empty
        found.extend(
            (header_row + 1 + i, hm.headers[col], v, why)
            for (i, why), v in zip(hits, stored, strict=True)
        )
        mask = np.zeros(data.height, dtype=bool)
        mask[idx] = True
        c = pl.col(f"c{col}")
        out.append(pl.when(pl.lit(pl.Series(mask))).then(None).otherwise(c).alias(f"c{col}"))
    return data.with_columns(out) if out else data


def _fill_merged(
    staging: Staging, data, hm, header_row: int, path, part_xml, label, sheet, first_col: int = 0
):
    """Cells merged down a column in the data (a school code, a class, a year merged over
    the rows it is for, very common in office sheets): Excel shows the value on every row
    of the range, calamine gives it to the first only. Each row of the range takes the
    first row's value, and one warning per column says how many cells and which range
    first, rather than leaving the rows empty (once: "thiếu mã trường" on every row but
    the first). Only the range's first column is filled (a range over several columns
    shows one value). The ranges' columns are Excel's: column c of `data` is Excel's
    first_col + c."""
    import numpy as np
    import polars as pl

    from loaders import workbook
    from loaders.headers import excel_column_letter as letter

    ranges = [
        (r1, c1 - first_col, r2)
        for r1, c1, r2, _c2 in workbook.merged_ranges(path, part_xml)
        if r2 > r1
        and r1 > header_row
        and 0 <= c1 - first_col < data.width
        and (c1 - first_col in hm.mapping or c1 - first_col in hm.extra)
    ]
    if not ranges:
        return data
    by_col: dict[int, list[tuple[int, int]]] = {}
    for r1, c1, r2 in sorted(ranges):
        by_col.setdefault(c1, []).append((r1, r2))
    fills = []
    for c, spans in by_col.items():
        src = np.arange(data.height)
        filled = 0
        for r1, r2 in spans:
            a = r1 - header_row - 1  # the range's first row, as an index of `data`
            b = min(r2 - header_row - 1, data.height - 1)
            if b > a:
                src[a + 1 : b + 1] = a
                filled += b - a
        if not filled:
            continue
        fills.append(data[f"c{c}"].gather(pl.Series(src)).alias(f"c{c}"))
        r1, r2 = spans[0]
        staging.warn(
            f"{filled} ô của cột '{hm.headers[c]}' nằm trong vùng ô gộp (ví dụ "
            f"{letter(c + first_col)}{r1}:{letter(c + first_col)}{r2}): mỗi dòng của vùng gộp đã lấy giá trị của ô "
            "đầu vùng, như Excel hiển thị; nên bỏ gộp ô và ghi giá trị trên từng dòng",
            source=label,
            sheet=sheet,
            column=hm.headers[c],
        )
    return data.with_columns(fills) if fills else data


def _values_right_of_header(
    staging: Staging, full, n: int, header_row: int, label, sheet, first_col: int = 0
) -> None:
    """Cells with values right of the header's last titled column (a note typed beside a
    row, a stray value far off in column XFD) belong to no column: they are not loaded, and
    one warning says how many, in which columns, from which row (never their values: they
    may be personal)."""
    import polars as pl

    if full.width <= n:
        return
    below = full.slice(header_row).select(full.columns[n:])
    filled = below.select(
        pl.col(c).str.strip_chars().fill_null("").str.len_chars().gt(0).sum() for c in below.columns
    ).row(0)
    used = [(n + j, k) for j, k in enumerate(filled) if k]
    if not used:
        return
    from loaders.headers import excel_column_letter as letter

    count = sum(k for _, k in used)
    first = used[0][0]
    first_row = (
        below.with_row_index("_i").filter(
            pl.col(full.columns[first]).str.strip_chars().fill_null("") != ""
        )["_i"][0]
        + header_row
        + 1
    )
    cols = letter(used[0][0] + first_col) + (
        f"–{letter(used[-1][0] + first_col)}" if len(used) > 1 else ""
    )
    staging.warn(
        f"{count} ô có dữ liệu nằm bên phải cột có tiêu đề cuối cùng (cột {cols}, không có "
        f"tiêu đề; ô đầu tiên {letter(first + first_col)}{first_row}): không thuộc cột nào, không "
        "được nạp; hãy đặt tiêu đề cho cột đó, hoặc xoá các ô thừa ngoài bảng",
        source=label,
        sheet=sheet,
    )


def _filled(i: int) -> pl.Expr:
    """1 when cell c<i> holds a value, else 0 (polars)."""
    import polars as pl

    c = pl.col(f"c{i}")
    return (c.is_not_null() & (c.str.strip_chars() != "")).cast(pl.Int32)


def _is_record(table: str, hm) -> pl.Expr:
    """The row is a record (headers.identifying_columns): a code in a key column, or a
    name beside another value of the contract's columns (polars, on the cells as read)."""
    import polars as pl

    keys, names = identifying_columns(table, hm.mapping.values())
    index = {name: i for i, name in hm.mapping.items()}
    record = pl.lit(False)
    for k in keys:
        record = record | pl.col(f"c{index[k]}").str.strip_chars().str.contains(CODE_RE)
    if names:
        beside = pl.sum_horizontal([_filled(i) for i in hm.mapping]) >= 2
        for name in names:
            record = record | (_filled(index[name]).cast(pl.Boolean) & beside)
    return record.fill_null(False)


def _drop_footer(staging: Staging, part: StagedPart, data, n: int):
    """The total and signature block under the list ("Tổng cộng", the place and date, "Người
    lập biểu | HIỆU TRƯỞNG", the signers' names): among the sheet's last FOOTER_SCAN rows,
    from the first whose first non-empty cell is a footer line (headers.FOOTER_RE) with no
    record after it (headers.identifying_columns; a footer line is no record) to the end,
    dropped with a warning naming the rows. A total line amid the data stays a row."""
    import polars as pl

    if data.height == 0 or not any(identifying_columns(part.table, part.headers.columns)):
        return data  # no column tells a record: nothing is known to follow the last one
    cells = []
    for i in range(n):
        c = pl.col(f"c{i}").str.strip_chars()
        cells.append(pl.when((c != "") & ~c.str.contains(f"^({EMPTY_MARKERS_RE})$")).then(c))
    first = pl.coalesce(cells).str.normalize("NFC")
    footer = first.str.contains(FOOTER_RE).fill_null(False)
    tail = data.tail(FOOTER_SCAN).select(
        "_soat_i",
        first.alias("first"),
        footer.alias("footer"),
        (~footer & _is_record(part.table, part.headers)).alias("record"),
    )
    after = tail.filter(pl.col("record")).select(pl.col("_soat_i").max()).item()
    start = tail.filter(pl.col("footer") & (pl.col("_soat_i") > (-1 if after is None else after)))
    if start.height == 0:
        return data
    i0, example = start["_soat_i"][0], start["first"][0]
    shown = tail.filter((pl.col("_soat_i") >= i0) & pl.col("first").is_not_null())["_soat_i"]
    rows = [part.header_row + 1 + int(i) for i in (shown.min(), shown.max())]
    _footer_warning(staging, part, rows[0], rows[1], shown.len(), example)
    part.found_rejects = [f for f in part.found_rejects if f[0] < rows[0]]
    return data.filter(pl.col("_soat_i") < i0)


def _footer_warning(staging, part, first: int, last: int, count: int, example: str) -> None:
    span = f"dòng {first}" if first == last else f"dòng {first}–{last}"
    staging.warn_part(
        part,
        f"{span}: dòng tổng cộng và phần ký tên dưới danh sách (bắt đầu bằng "
        f"'{example[:60]}'; {count} dòng), đã bỏ qua, không phải bản ghi",
        row=first,
    )


def _prefer_filled(table: str, hm, data) -> None:
    """A sheet's columns naming one field (headers.HeaderMap.same_field): when the one used
    is empty on every row and another holds values, that one is used (as fixups.
    prefer_filled after a CSV file's INSERT; here before the cell types are read for it)."""
    import polars as pl

    if not hm.same_field or data.height == 0:
        return
    t = TABLES[table]
    groups = [(c, o) for c, o in hm.same_field.items() if t.column(c).default is None]
    if not groups:
        return

    def has(i: int) -> pl.Expr:
        c = pl.col(f"c{i}").str.strip_chars()
        return ((c != "") & ~c.str.contains(f"^({EMPTY_MARKERS_RE})$")).fill_null(False).any()

    counts = data.select(has(i).alias(f"h{i}") for _c, order in groups for i in order).row(
        0, named=True
    )
    for canon, order in groups:
        if not counts[f"h{hm.index_of(canon)}"]:
            filled = [i for i in order if counts[f"h{i}"]]
            if filled:
                hm.use_column(canon, filled[0])


def _drop_repeated_headers(staging: Staging, part: StagedPart, data, n: int):
    """Rows that repeat the header (a title and header block pasted into the data) are
    dropped, with the title rows right above them (at most 5, each with at most a quarter
    of the columns filled, none a record: headers.identifying_columns), one warning per
    block."""
    import polars as pl

    hm = part.headers
    if len(hm.mapping) < 2 or data.height == 0:
        return data
    # the probe columns' cells as they are, against the header's spellings (as written,
    # upper and lower case): a cheap look at every row; the full count only if one matches
    probe = _header_probe(part.table, hm) or [
        (i, header_spellings(part.table, name, hm.headers[i]))
        for i, name in sorted(hm.mapping.items())[:2]
    ]
    seen = pl.lit(True)
    for i, spellings in probe:
        seen = seen & pl.col(f"c{i}").str.strip_chars().is_in(spellings).fill_null(False)
    if not data.select(seen.any()).item():
        return data
    hits = []
    for i, name in hm.mapping.items():
        spellings = {
            " ".join(h.split()).casefold()
            for h in header_spellings(part.table, name, hm.headers[i])
        }
        hits.append(
            pl.col(f"c{i}")
            .str.replace_all(r"\s+", " ")
            .str.strip_chars()
            .str.to_lowercase()
            .is_in(list(spellings))
            .fill_null(False)
            .cast(pl.Int32)
        )
    need = min(2, len(hits))
    repeated = data.filter(pl.sum_horizontal(hits) >= need)["_soat_i"].to_list()
    if not repeated:
        return data
    # the rows up to 5 above each: how many cells they fill, and whether they are records
    # (headers.CODE_RE: a code in a key column, or a name beside another value)
    above = sorted({k for idx in repeated for k in range(max(0, idx - 5), idx)})
    near = data.filter(pl.col("_soat_i").is_in(above)).select(
        "_soat_i",
        pl.sum_horizontal([_filled(i) for i in range(n)]).alias("filled"),
        _is_record(part.table, hm).alias("record"),
    )
    filled = dict(zip(near["_soat_i"].to_list(), near["filled"].to_list(), strict=True))
    records = set(near.filter("record")["_soat_i"].to_list())
    drop: set[int] = set()
    limit = max(1, n // 4)
    first_row = part.header_row + 1
    for idx in repeated:
        block = [idx]
        k = idx - 1
        while (
            k >= 0
            and idx - k <= 5
            and k not in drop
            and k not in records
            and filled.get(k, 0) <= limit
        ):
            if filled.get(k, 0):
                block.append(k)
            k -= 1
        drop.update(block)
        rows = sorted(first_row + b for b in block)
        span = f"dòng {rows[0]}" if len(rows) == 1 else f"dòng {rows[0]}–{rows[-1]}"
        staging.warn_part(
            part,
            f"{span}: tiêu đề bảng lặp lại giữa dữ liệu (dòng tiêu đề"
            + (" và tiêu đề phía trên" if len(rows) > 1 else "")
            + "), đã bỏ qua, không phải bản ghi",
            row=first_row + idx,
        )
    return data.filter(~pl.col("_soat_i").is_in(sorted(drop)))


# a text and a number cell read differently only for IDs of 10 or 11 digits (padded when a
# number); shorter ones are kept either way
ID_SHORT_RE = r"^\d{10,11}$"
VN_THOUSANDS_RE = r"^[-+]?\d{1,3}(\.\d{3})+$"


FEW_CELLS = 20000  # more ambiguous cells than this: the sheet is loaded again, typed


def _cell_types(
    staging: Staging,
    part: StagedPart,
    reader,
    data,
    n: int,
    path: Path | None = None,
    part_xml: str | None = None,
    first_col: int = 0,
    zero_cols: set[int] = frozenset(),
):
    """Where a cell's type changes its meaning, read it, only for the values it changes:
    - citizen ID: a number cell of 10 or 11 digits lost the leading zeros Excel does not
      keep: padded to 12; a text cell is kept as typed (*.id_format names it);
    - number columns: a number cell shown as 1.125 is the number 1.125 (written 1,125 for
      the Vietnamese reading of the SQL); a text cell '1.125' is read the Vietnamese way
      (1125);
    - code columns: number cells cannot hold leading zeros; when the column's digit-only
      codes are of unequal lengths and some start with 0, the number cells shorter than
      the longest are named in a warning (Excel dropped their zeros). When they are all of
      one length (a column that lost its zeros all alike, or codes without any), the first
      PROBE_CELLS digit-only codes are looked up at the top of the sheet's XML: number
      cells there get a warning that the column's codes may have lost their zeros
      (`zero_cols`, whose number cells show their zeros and were loaded so, are not).
    A few such cells (an ID typed with 11 digits here and there) are looked up in the
    sheet's XML (workbook.cells_are_numbers); many (a column of IDs in number cells) make
    the sheet load again typed (workbook.number_cells). Column i of `data` is the sheet's
    column first_col + i (both lookups take the sheet's columns)."""
    import polars as pl

    from loaders import workbook
    from loaders.headers import excel_column_letter

    t = TABLES[part.table]
    ambiguous: dict[int, tuple[str, pl.Series]] = {}  # column -> (kind, rows that need it)
    probe: dict[int, list[int]] = {}  # code column -> its first digit-only codes' rows
    for i, name in part.headers.mapping.items():
        kind = t.column(name).kind
        if kind not in ("citizen_id", "int", "number", "code"):
            continue
        col = data[f"c{i}"].str.strip_chars()
        if kind == "citizen_id":
            hit = col.str.contains(ID_SHORT_RE).fill_null(False)
        elif kind in ("int", "number"):
            hit = col.str.contains(VN_THOUSANDS_RE).fill_null(False)
        else:
            digits = col.str.contains(r"^\d+$").fill_null(False)
            lengths = col.filter(digits).str.len_chars()
            if not (
                lengths.len()
                and lengths.n_unique() > 1
                and col.filter(digits).str.starts_with("0").any()
            ):
                if lengths.len() and i not in zero_cols and path is not None:
                    probe[i] = data["_soat_i"].filter(digits).head(PROBE_CELLS).to_list()
                continue
            hit = digits & (col.str.len_chars() < lengths.max())
        if hit.any():
            ambiguous[i] = (kind, data["_soat_i"].filter(hit))
    if probe:
        _number_codes(staging, part, data, probe, path, part_xml, first_col)
    if not ambiguous:
        return data
    numbers: dict[int, set[int]] = {}
    cells = sorted(
        (int(k) + part.header_row + 1, i) for i, (_kind, ks) in ambiguous.items() for k in ks
    )
    found = None
    if len(cells) <= FEW_CELLS and path is not None:
        found = workbook.cells_are_numbers(
            path, part_xml, [(row, excel_column_letter(first_col + i)) for row, i in cells]
        )
    if found is not None:
        for (row, i), is_number in zip(cells, found, strict=True):
            if is_number:
                numbers.setdefault(i, set()).add(row - part.header_row - 1)
    else:
        idx = data["_soat_i"]
        try:
            masks = workbook.number_cells(
                reader,
                part.sheet,
                part.header_row,
                [first_col + i for i in sorted(ambiguous)],
                int(idx.max()) + 1,
            )
        except Exception as exc:  # noqa: BLE001 - then the text is read as it is
            if is_interrupt(exc):
                raise
            return data
        for i in ambiguous:
            numbers[i] = set(idx.filter(masks[first_col + i].gather(idx)).to_list())
    out = []
    for i, (kind, _rows) in ambiguous.items():
        mask = data["_soat_i"].is_in(sorted(numbers.get(i, ())))
        c = pl.col(f"c{i}")
        m = pl.lit(mask)
        if kind == "citizen_id":
            out.append(
                pl.when(m & c.str.strip_chars().str.contains(r"^\d{10,11}$"))
                .then(c.str.strip_chars().str.zfill(12))
                .otherwise(c)
                .alias(f"c{i}")
            )
        elif kind in ("int", "number"):
            out.append(
                pl.when(m & c.str.strip_chars().str.contains(VN_THOUSANDS_RE))
                .then(c.str.strip_chars().str.replace(".", ",", literal=True))
                .otherwise(c)
                .alias(f"c{i}")
            )
        else:
            col = data[f"c{i}"].str.strip_chars()
            longest = col.filter(col.str.contains(r"^\d+$")).str.len_chars().max()
            short = data.filter(mask & col.str.contains(r"^\d+$") & (col.str.len_chars() < longest))
            if short.height:
                first = int(short["_soat_i"][0]) + part.header_row + 1
                staging.warn_part(
                    part,
                    f"{short.height} ô là ô kiểu số, ngắn hơn các mã khác ({longest} chữ số; "
                    f"ví dụ dòng {first}: '{short[f'c{i}'][0]}'): Excel bỏ mất số 0 ở đầu của "
                    "ô số; hãy định dạng cột là Văn bản (Text) và nhập lại các mã này",
                    row=first,
                    column=part.headers.headers[i],
                )
    return data.with_columns(out) if out else data


PROBE_CELLS = 20  # digit-only codes of a column looked up at the top of the sheet's XML


def _number_codes(staging: Staging, part: StagedPart, data, probe, path, part_xml, first_col):
    """Code columns whose first digit-only codes (`probe`: column -> row indexes) are number
    cells: a number cell keeps no leading zero, so a column that lost its zeros all alike
    (school codes 01000001 typed as numbers, all 1000001) looks like any other; one
    warning per column names it and an example cell. The cells are few and near the top
    of the sheet: its XML is read only that far (workbook.cell_attributes)."""
    from loaders import workbook
    from loaders.headers import excel_column_letter as letter

    cells = [(int(k) + part.header_row + 1, first_col + i) for i, ks in probe.items() for k in ks]
    attrs = workbook.cell_attributes(path, part_xml, cells)
    if attrs is None:
        return
    numbers: dict[int, list[int]] = {}
    for (row, col), a in zip(cells, attrs, strict=True):
        if a is not None and a.get("t", "n") == "n":
            numbers.setdefault(col - first_col, []).append(row)
    for i, found in numbers.items():
        row = found[0]
        value = data.filter(data["_soat_i"] == row - part.header_row - 1)[f"c{i}"][0]
        staging.warn_part(
            part,
            f"cột mã có ô kiểu số (ví dụ ô {letter(first_col + i)}{row}: {value}): mã là văn "
            "bản, ô kiểu số không giữ được số 0 ở đầu, nên các mã của cột có thể đã mất số 0 "
            "ở đầu (như mã trường 01000001 thành 1000001); hãy kiểm tra, định dạng cột là "
            "Văn bản (Text) và nhập lại các mã",
            row=row,
            column=part.headers.headers[i],
        )


# kinds whose values are text, where a number format's look is the value the officer sees
# (citizen IDs keep the contract's own rule: read._cell_types)
SHOWN_KINDS = ("code", "codes", "text")


def _zero_formats(staging: Staging, part: StagedPart, data, path, part_xml, first_col: int):
    """Number cells of code and text columns whose number format shows leading zeros
    ('00000000', the usual way officers make Excel "keep" the zeros of school codes): the
    cell holds 1000001, Excel shows 01000001, and the officer reads and compares the
    latter. The value loaded is what Excel shows (the digits left-padded to the format's
    width), with one warning per column. Only a workbook whose styles hold such a format
    (workbook.zero_styles, a few KB) has its sheet's XML scanned for the cells. Returns the
    frame and the columns that had such cells."""
    import polars as pl

    from loaders import workbook
    from loaders.headers import excel_column_letter as letter

    t = TABLES[part.table]
    cols = {i for i, name in part.headers.mapping.items() if t.column(name).kind in SHOWN_KINDS}
    styles = workbook.zero_styles(path) if cols else {}
    if not styles:
        return data, set()
    by_col: dict[int, dict[int, list[int]]] = {}  # column -> width -> row indexes
    for row, col, width in workbook.zero_format_cells(path, part_xml, styles):
        i = col - first_col
        if i in cols and row > part.header_row:
            by_col.setdefault(i, {}).setdefault(width, []).append(row - part.header_row - 1)
    out = []
    for i, widths in by_col.items():
        c = pl.col(f"c{i}").str.strip_chars()
        expr = None
        for width, ks in widths.items():
            hit = (
                pl.col("_soat_i").is_in(ks) & c.str.contains(r"^\d+$") & (c.str.len_chars() < width)
            )
            step = (pl.when(hit) if expr is None else expr.when(hit)).then(c.str.zfill(width))
            expr = step
        padded = data.select(pl.col("_soat_i"), pl.col(f"c{i}"), expr.alias("_soat_v")).filter(
            pl.col("_soat_v").is_not_null()
        )
        if not padded.height:
            continue
        out.append(expr.otherwise(pl.col(f"c{i}")).alias(f"c{i}"))
        k, was, now = padded.row(0)
        row = int(k) + part.header_row + 1
        staging.warn_part(
            part,
            f"{padded.height} ô là ô kiểu số có định dạng hiện số 0 ở đầu ('{'0' * len(now)}'; "
            f"ví dụ ô {letter(first_col + i)}{row}: ô chứa số {was.strip()}, Excel hiển thị "
            f"'{now}'): đã nạp như Excel hiển thị; mã nên lưu dạng văn bản: hãy định dạng cột "
            "là Văn bản (Text) rồi nhập lại các mã (kèm số 0 ở đầu)",
            row=row,
            column=part.headers.headers[i],
        )
    return (data.with_columns(out) if out else data), set(by_col)


# a date cell as calamine writes it when every cell is read as text
DATE_CELL_RE = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$"
_DATE_TOKEN = re.compile(r'(?i)yyyy|yy|dd|d|mm|m|"[^"]*"|\\.|[/\-. ,]')


def _excel_shows(iso: str, code: str | None) -> str | None:
    """How Excel shows a date cell (calamine's `YYYY-MM-DD HH:MM:SS`) under a custom date
    format made of day, month and year only ('d/m', 'dd/mm/yyyy', 'dd\\-mm'); None for any
    other format (built-in ones follow the reader's locale)."""
    code = re.sub(r"^\[\$-[0-9A-Fa-f]+\]", "", code or "")
    if not code:
        return None
    y, mo, d = int(iso[:4]), int(iso[5:7]), int(iso[8:10])
    shown = {"yyyy": f"{y:04}", "yy": f"{y % 100:02}", "dd": f"{d:02}", "d": str(d)}
    shown |= {"mm": f"{mo:02}", "m": str(mo)}
    out, pos = [], 0
    for m in _DATE_TOKEN.finditer(code):
        if m.start() != pos:
            return None
        tok = m.group(0)
        pos = m.end()
        if tok.lower() in shown:
            out.append(shown[tok.lower()])
        elif tok.startswith('"'):
            out.append(tok[1:-1])
        else:
            out.append(tok[-1])
    return "".join(out) if pos == len(code) else None


def _date_cells(staging: Staging, part: StagedPart, data, path, part_xml, first_col: int):
    """Date cells in code and text columns: class codes typed 6/1, 10/3 into a column not
    formatted as Text became dates (6 January), which calamine writes as
    '2024-01-06 00:00:00'. What was typed cannot be told from a date (6/1, 06/01, 6-1 …),
    so it is not guessed: the cell is loaded as the date it holds, written dd/mm/yyyy (the
    time added when not midnight), and one warning per column names an example cell, the
    date and how Excel shows it (its number format, when that is a plain day-month-year
    one)."""
    import polars as pl

    from loaders import workbook
    from loaders.headers import excel_column_letter as letter

    t = TABLES[part.table]
    out = []
    for i, name in part.headers.mapping.items():
        kind = t.column(name).kind
        if kind not in SHOWN_KINDS:
            continue
        c = pl.col(f"c{i}")
        hit = data[f"c{i}"].str.contains(DATE_CELL_RE).fill_null(False)
        if not hit.any():
            continue
        dmy = c.str.slice(8, 2) + "/" + c.str.slice(5, 2) + "/" + c.str.slice(0, 4)
        clock = c.str.slice(11)
        written = pl.when(clock.str.starts_with("00:00:00")).then(dmy).otherwise(dmy + " " + clock)
        out.append(pl.when(pl.lit(hit)).then(written).otherwise(c).alias(f"c{i}"))
        example = data.filter(hit).head(1)
        iso = example[f"c{i}"][0]
        row = int(example["_soat_i"][0]) + part.header_row + 1
        shown = None
        if path is not None:
            attrs = workbook.cell_attributes(path, part_xml, [(row, first_col + i)])
            style = (attrs or [None])[0] or {}
            formats = workbook.cell_formats(path)
            k = int(style["s"]) if style.get("s", "").isdigit() else -1
            shown = _excel_shows(iso, formats[k] if 0 <= k < len(formats) else None)
        what = "mã" if kind in ("code", "codes") else "chữ"
        day = f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"
        staging.warn_part(
            part,
            f"{int(hit.sum())} ô là ô ngày tháng của Excel, không phải {what} (ví dụ ô "
            f"{letter(first_col + i)}{row}: ngày {day}"
            + (f", Excel hiển thị '{shown}'" if shown else "")
            + "): Excel tự đổi giá trị gõ vào thành ngày khi cột chưa định dạng Văn bản, chữ "
            "đã gõ không còn; đã nạp ngày dạng dd/mm/yyyy, không đoán lại; hãy định dạng cột "
            "là Văn bản (Text) và nhập lại các ô này",
            row=row,
            column=part.headers.headers[i],
        )
    return data.with_columns(out) if out else data


def _swapped_dates(staging: Staging, part: StagedPart, data):
    """Dates are never guessed (fixups.date_orders), and an .xlsx date column says more than
    its text: English-locale Excel reads dd/mm typed with a day ≤ 12 month first and keeps
    it as a date cell with day and month swapped (02/03/2018 → 3 February), while a day
    > 12 cannot be a month and stays text (15/07/2018). So such a column's date cells all
    have a day and a month ≤ 12, and its text dates are valid only day first. A column
    with that fingerprint (or the same the other way round: mm/dd typed into day-first
    Excel, its text dates valid only month first) contradicts itself: its date cells whose
    day and month differ are written as the text the other order gives (what was typed:
    02/03/2018) and the column is read as 'mixed', so they are rejected "không rõ là
    ngày/tháng hay tháng/ngày" with that text kept in `_raw`; the other values are read the
    one way they can be. One warning per column. A date cell with a day > 12 (Excel read
    the column's order right at least there) or text that is no valid date (30/02/1985,
    text in any Excel) is no such evidence."""
    import polars as pl

    t = TABLES[part.table]
    out = []
    for i, name in part.headers.mapping.items():
        if t.column(name).kind not in ("date", "timestamp") or name in part.date_orders:
            continue
        col = data[f"c{i}"].str.strip_chars()
        cell = col.str.contains(DATE_CELL_RE).fill_null(False)
        if not cell.any():
            continue
        month = col.str.slice(5, 2).cast(pl.Int32, strict=False)
        day = col.str.slice(8, 2).cast(pl.Int32, strict=False)
        if (cell & (day > 12)).any():
            continue
        swappable = cell & (day != month)
        if not swappable.any():
            continue
        parts = col.str.extract_groups(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})($|[ T])")
        a, b, y = (parts.struct.field(k) for k in ("1", "2", "3"))

        def valid(d, m, y=y):  # a real day (no 30/02)
            iso = y + "-" + m.str.zfill(2) + "-" + d.str.zfill(2)
            return iso.str.to_date("%Y-%m-%d", strict=False).is_not_null()

        big_a = a.cast(pl.Int32, strict=False) > 12
        big_b = b.cast(pl.Int32, strict=False) > 12
        day_first = (big_a & valid(a, b)).fill_null(False)
        month_first = (big_b & valid(b, a)).fill_null(False)
        if not (day_first.any() or month_first.any()):
            continue
        text = col.filter(day_first if day_first.any() else month_first)[0]
        # what was typed: month first when the text says Excel read it so (and the reverse)
        typed = "month" if day_first.any() and not month_first.any() else "day"
        c = pl.col(f"c{i}").str.strip_chars()
        dd, mm, yy = c.str.slice(8, 2), c.str.slice(5, 2), c.str.slice(0, 4)
        first = (mm + "/" + dd) if typed == "month" else (dd + "/" + mm)
        clock = c.str.slice(11)
        written = pl.when(clock.str.starts_with("00:00:00"))
        written = written.then(first + "/" + yy).otherwise(first + "/" + yy + " " + clock)
        out.append(
            pl.when(pl.lit(swappable)).then(written).otherwise(pl.col(f"c{i}")).alias(f"c{i}")
        )
        part.date_orders[name] = "mixed"
        k = int(data["_soat_i"].filter(swappable)[0])
        iso = col.filter(swappable)[0]
        was = (
            f"{iso[5:7]}/{iso[8:10]}/{iso[:4]}"
            if typed == "month"
            else f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"
        )
        header = part.headers.headers[i]
        if day_first.any() and month_first.any():
            why = f"ngày ghi dạng chữ của cột có cả hai thứ tự ('{text}')"
        elif typed == "month":
            why = (
                f"ngày ghi dạng chữ của cột chỉ đọc được theo ngày/tháng ('{text}'), còn Excel "
                "đã đọc giá trị gõ vào theo tháng/ngày (Excel cài đặt tiếng Anh)"
            )
        else:
            why = (
                f"ngày ghi dạng chữ của cột chỉ đọc được theo tháng/ngày ('{text}'), còn Excel "
                "đã đọc giá trị gõ vào theo ngày/tháng"
            )
        staging.warn_part(
            part,
            f"cột '{header}': {int(swappable.sum())} ô kiểu ngày có thể đã bị Excel đảo ngày "
            f"và tháng: {why}; các ô ngày đọc được cả hai cách (ví dụ dòng "
            f"{k + part.header_row + 1}: '{was}') không rõ là ngày nào nên bị loại, không "
            "đoán; hãy định dạng cột là Văn bản (Text) và nhập lại dạng dd/mm/yyyy",
            row=k + part.header_row + 1,
            column=header,
        )
    return data.with_columns(out) if out else data


def _legacy_text(staging: Staging, part: StagedPart, data, n: int) -> str | None:
    """'tcvn3'/'vni' when text cells of the sheet are typed in that legacy font encoding
    (loaders.legacy; the conversion is done in SQL), with a warning; None otherwise (also
    when suspect cells read as neither: a warning names the column)."""
    import polars as pl

    from loaders import legacy

    hm = part.headers
    t = TABLES[part.table]
    from soat.scope import PERSONAL_FIELDS

    samples: list[str] = []
    columns: list[str] = []
    example = None  # a load message is read by roles that see personal data masked
    text = [i for i, name in hm.mapping.items() if t.column(name).kind not in NO_NFC_KINDS]
    if not text:
        return None
    # each text column joined into one string (C speed), searched once; only a column with
    # a suspect character is looked at cell by cell (in polars)
    import numpy as np

    joined = data.select(pl.col(f"c{i}").str.join("\n") for i in text).row(0)
    for i, whole in zip(text, joined, strict=True):
        # the scan's byte test (Latin-1 symbols and letters Vietnamese never has), at numpy
        # speed; a regex over the column's text took 0.3 s per 100 000 students
        if not whole or not _legacy_bytes(np.frombuffer(whole.encode(), dtype=np.uint8), True):
            continue
        col = data[f"c{i}"]
        sus = col.filter(
            col.str.contains(legacy.SUSPECT_RE).fill_null(False)
            & ~col.str.contains(legacy.WIDE_RE).fill_null(False)
        )
        if sus.len():
            columns.append(hm.headers[i])
            found = sus.unique(maintain_order=True).head(200).to_list()
            samples += found
            if example is None and hm.mapping[i] not in PERSONAL_FIELDS:
                example = found[0]  # never a personal field's (an address)
    if not samples:
        return None
    kind = legacy.decide(samples)
    if kind is None:
        staging.warn_part(
            part,
            f"cột {', '.join(repr(c) for c in columns)} có chữ không đọc được như tiếng Việt "
            + (f"Unicode (ví dụ '{example}')" if example else "Unicode")
            + ": có thể gõ bằng bảng mã cũ; đã giữ nguyên",
        )
        return None
    part.legacy = kind
    conv = legacy.from_tcvn3 if kind == "tcvn3" else legacy.from_vni
    _legacy_warning(
        staging,
        part,
        "cột " + ", ".join(repr(c) for c in columns),
        f"'{example}' → '{conv(example)}'" if example else "",
    )
    return kind


# ---------------------------------------------------------------- SQL


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
    from loaders import workbook

    staging.stop_scans()

    workbook.forget_xml()
    workbook.forget_formats()
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
