"""What an .xlsx file says beyond its cells' text: which sheets are hidden, which cells are
Excel errors or formulas whose value Excel has not computed, and which cells are numbers.

fastexcel (calamine) gives every cell as text; these are read from the workbook's own
parts, and only when they can matter:
- sheet visibility, the "recalculate on open" flag and the date system: xl/workbook.xml
  (a few KB), in the Transitional or the Strict namespaces;
- error cells (#N/A, #DIV/0! …): fastexcel reports them beside the sheet it loads
  (`to_arrow_with_errors`), one entry per error cell;
- formulas: found in the one pass over a sheet's XML that also reads its merged ranges
  (`scan_sheet`; a piece of XML without `<f` costs one byte search): a formula without a
  value was never computed; in a workbook that says `fullCalcOnLoad` (written by a
  program, which leaves the values for Excel to compute: xlsxwriter stores 0) no stored
  value is one Excel computed;
- number cells vs text cells: calamine shows the number 79318000123 and the text
  "79318000123" alike, so a column whose values need the difference (an ID short of 12
  digits, a number like 1.125, codes of unequal length) is loaded once more, typed
  `boolean`: number cells come back filled, text cells empty (`number_cells`);
- number formats (xl/styles.xml, once per workbook): a code kept as a number formatted
  '00000000' shows its leading zeros (`zero_styles`, `zero_format_cells`); a date cell's
  format tells how Excel shows it (`cell_formats`); the type and style of a few cells near
  the top of a sheet are read from its first KBs only (`cell_attributes`).

The sheet's XML is read with byte searches, its element names with the sheet's own
namespace prefix (`<x:c>`, as the .NET Open XML SDK writes it, or none). A part that
cannot be decompressed (a broken deflate stream, a bad CRC) raises `BrokenPart`.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree

# the relationship id of a sheet (r:id), in the Transitional and the Strict namespaces
REL_ID = (
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id",
)

# calamine's error names -> what Excel shows
EXCEL_ERRORS = {
    "NA": "#N/A",
    "Div0": "#DIV/0!",
    "Value": "#VALUE!",
    "Ref": "#REF!",
    "Name": "#NAME?",
    "Num": "#NUM!",
    "Null": "#NULL!",
    "GettingData": "#GETTING_DATA",
}

# what reading a damaged part of a zip raises (a missing part is KeyError): a broken deflate
# stream, a stream cut short, a bad CRC or header, a compression method zipfile lacks, an
# encrypted entry
DAMAGED = (zlib.error, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError)


class BrokenPart(Exception):
    """A sheet's XML cannot be decompressed: the sheet is broken."""


@dataclass
class SheetInfo:
    name: str
    visible: bool = True
    part: str | None = None  # its XML inside the zip, e.g. xl/worksheets/sheet1.xml


@dataclass
class WorkbookInfo:
    sheets: list[SheetInfo] = field(default_factory=list)
    recalc: bool = False  # cached formula values are not Excel's (fullCalcOnLoad)
    date1904: bool = False  # serial numbers count days from 1904-01-01 (old Mac Excel)

    def sheet(self, name: str) -> SheetInfo:
        for s in self.sheets:
            if s.name == name:
                return s
        return SheetInfo(name)


def _part_of(target: str, names: set[str]) -> str:
    """The zip part a relationship of xl/workbook.xml points at: absolute ('/xl/…') or
    relative to xl/ (also a writer's 'xl/worksheets/…')."""
    if target.startswith("/"):
        return target.lstrip("/")
    part = posixpath.normpath(posixpath.join("xl", target))
    if part not in names and target.startswith("xl/"):
        return target
    return part


def workbook_info(path: Path, names: list[str]) -> WorkbookInfo:
    """Visibility and XML part of each sheet, the recalculation flag and the date system;
    the workbook's namespace is its root element's (Transitional or Strict). On any
    surprise every sheet is visible."""
    try:
        with zipfile.ZipFile(path) as z:
            wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
            parts = set(z.namelist())
            try:
                rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
                targets = {
                    r.get("Id"): r.get("Target")
                    for r in rels.iter()
                    if r.tag.endswith("}Relationship") or r.tag == "Relationship"
                }
            except (KeyError, ElementTree.ParseError, *DAMAGED):
                targets = {}
    except (OSError, KeyError, ElementTree.ParseError, *DAMAGED):
        return WorkbookInfo([SheetInfo(n) for n in names])
    m = wb.tag[: wb.tag.index("}") + 1] if wb.tag.startswith("{") else ""
    info = WorkbookInfo()
    calc = wb.find(f"{m}calcPr")
    info.recalc = calc is not None and calc.get("fullCalcOnLoad") in ("1", "true")
    pr = wb.find(f"{m}workbookPr")
    info.date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    found = {}
    for el in wb.iterfind(f"{m}sheets/{m}sheet"):
        rid = next((el.get(k) for k in REL_ID if el.get(k) is not None), None)
        target = targets.get(rid)
        found[el.get("name")] = SheetInfo(
            el.get("name"),
            el.get("state", "visible") == "visible",
            _part_of(target, parts) if target else None,
        )
    info.sheets = [found.get(n, SheetInfo(n)) for n in names]
    return info


def column_index(letters: str) -> int:
    """'A' -> 0, 'AB' -> 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>/]")


def _prefix(head: bytes) -> bytes:
    """The namespace prefix of a sheet's elements, from its root element: b'' for
    `<worksheet>`, b'x:' for `<x:worksheet>` (the .NET Open XML SDK's way)."""
    m = _ROOT.search(head)
    return m.group(1) + b":" if m and m.group(1) else b""


@dataclass(frozen=True)
class _Patterns:
    dimension: re.Pattern
    merge: re.Pattern
    formula: re.Pattern
    unvalued: re.Pattern
    ref: re.Pattern
    cell: bytes
    end_of_row: bytes
    end_of_data: bytes
    formula_tags: tuple[bytes, ...]


@lru_cache(maxsize=8)
def _patterns(p: bytes) -> _Patterns:
    """The byte patterns of a sheet whose elements carry the prefix `p` (a literal in each,
    so the regex engine's fast search for it stays)."""
    q = re.escape(p)
    return _Patterns(
        dimension=re.compile(rb'<%bdimension\s+ref="[A-Z]*[0-9]*:?([A-Z]+)([0-9]+)"' % q),
        merge=re.compile(rb'<%bmergeCell\s+ref="([A-Z]+)([0-9]+):([A-Z]+)([0-9]+)"' % q),
        # a formula, and what follows it in its cell: no <v> (never computed), an empty one
        # (<v/>, <v></v>: groups 2, 3), or a value
        formula=re.compile(
            rb"<%bf\b[^>]*?(?:/>|>[^<]*</%bf>)\s*(<%bv\b[^>]*?(/?)>(\s*</%bv>)?)?" % ((q,) * 4)
        ),
        # a formula without a <v> after it (a regex over the formulas alone, no Python per
        # formula: 200 000 formulas with their value take ≈ 0.1 s)
        unvalued=re.compile(rb"<%bf\b[^>]*?(?:/>|>[^<]*</%bf>)(?!\s*<%bv[\s>/])" % ((q,) * 3)),
        ref=re.compile(rb'<%bc\s[^>]*?\br="([A-Z]+)([0-9]+)"' % q),
        cell=b"<" + p + b"c ",
        end_of_row=b"</" + p + b"row>",
        end_of_data=b"</" + p + b"sheetData>",
        formula_tags=(b"<" + p + b"f>", b"<" + p + b"f ", b"<" + p + b"f/"),
    )


def dimension(path: Path, part: str | None) -> tuple[int, int] | None:
    """(last row, last column), 1-based, of a sheet's used range as its `<dimension>` says
    (Excel keeps it, stray cells included), from the first 4 KB of the sheet's XML; None
    when absent. calamine builds the whole range in memory before a row is read: a stray
    value in XFD1048576 asks it for 17 billion cells, and the process aborts."""
    if not part:
        return None
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as f:
            head = f.read(4096)
    except (OSError, KeyError):
        return None
    except DAMAGED as exc:
        raise BrokenPart(part) from exc
    m = _patterns(_prefix(head)).dimension.search(head)
    if not m:
        return None
    return int(m.group(2)), column_index(m.group(1).decode()) + 1


NO_VALUE, EMPTY_VALUE, CACHED_VALUE = "none", "empty", "value"


@dataclass
class SheetScan:
    merges: list[tuple[int, int, int, int]]
    every: bool  # `formulas` holds every formula cell, else those with NO_VALUE only
    # (Excel row, 0-based column, what it holds) of the formula cells: NO_VALUE (no `<v>`:
    # never computed), EMPTY_VALUE (`<v></v>`: an empty text, or nothing), CACHED_VALUE
    formulas: list[tuple[int, int, str]]


_SCANS: dict[tuple[str, str], SheetScan] = {}  # the last sheet scanned


def _formulas_in(body: bytes, pat: _Patterns, every: bool, out: list) -> None:
    """The formula cells of a piece of sheetData made of whole rows (`every`: all, else those
    without a value): each `<f>` found, then its cell's reference just before it (a sheet
    of 200 000 rows with a formula on each takes ≈ 0.5 s for all)."""
    for m in (pat.formula if every else pat.unvalued).finditer(body):
        at = body.rfind(pat.cell, 0, m.start())
        ref = pat.ref.match(body, at) if at >= 0 else None
        if ref is None:
            continue
        if not every or m.group(1) is None:
            held = NO_VALUE
        else:
            held = EMPTY_VALUE if m.group(2) or m.group(3) else CACHED_VALUE
        out.append((int(ref.group(2)), column_index(ref.group(1).decode()), held))


def scan_sheet(path: Path, part: str | None, every: bool = False) -> SheetScan:
    """One pass over a sheet's XML, decompressed in 1 MB pieces (≈ 0.1 s per 100 000 rows),
    kept for the other looks at the same sheet: its formula cells (`every`: all of them,
    else those without a value; a piece without `<f` is only searched for it, at memchr
    speed) and its merged ranges, which follow the cells (only what follows `</sheetData>`
    is kept)."""
    if not part:
        return SheetScan([], every, [])
    key = (str(path), part)
    if key in _SCANS and (_SCANS[key].every or not every):
        return _SCANS[key]
    tail, pending, pat = None, b"", None
    formulas: list[tuple[int, int, str]] = []
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as f:
            while chunk := f.read(1 << 20):
                if tail is not None:
                    tail += chunk
                    continue
                if pat is None:
                    pat = _patterns(_prefix(chunk[:65536]))
                both = pending + chunk
                at = both.find(pat.end_of_data)
                if at >= 0:
                    body, tail, pending = both[:at], both[at:], b""
                else:  # whole rows now, the rest with the next piece
                    cut = both.rfind(pat.end_of_row)
                    cut = cut + len(pat.end_of_row) if cut >= 0 else 0
                    body, pending = both[:cut], both[cut:]
                if any(body.find(t) >= 0 for t in pat.formula_tags):
                    _formulas_in(body, pat, every, formulas)
    except (OSError, KeyError):
        return SheetScan([], every, [])
    except DAMAGED as exc:
        raise BrokenPart(part) from exc
    merges = [
        (int(r1), column_index(c1.decode()), int(r2), column_index(c2.decode()))
        for c1, r1, c2, r2 in (pat.merge.findall(tail) if pat and tail else [])
    ]
    _SCANS.clear()
    _SCANS[key] = SheetScan(merges, every, formulas)
    return _SCANS[key]


def merged_ranges(path: Path, part: str | None) -> list[tuple[int, int, int, int]]:
    """(first row, first column, last row, last column) of each merged range of a sheet:
    Excel rows 1-based, columns 0-based (`scan_sheet`)."""
    return scan_sheet(path, part).merges


def formula_cells(path: Path, part: str | None, every: bool) -> list[tuple[int, int, str]]:
    """The formula cells of a sheet (`scan_sheet`): all of them (`every`), else those without
    a value."""
    return scan_sheet(path, part, every).formulas


_XML: dict[tuple[str, str], bytes] = {}  # the last sheet XML read (one sheet at a time)


def sheet_xml(path: Path, part: str | None) -> bytes | None:
    """A sheet's XML, decompressed (≈ 0.1 s per 100 000 rows), kept for the next look at
    the same sheet."""
    if not part:
        return None
    key = (str(path), part)
    if key not in _XML:
        try:
            with zipfile.ZipFile(path) as z:
                data = z.read(part)
        except (OSError, KeyError):
            return None
        except DAMAGED as exc:
            raise BrokenPart(part) from exc
        _XML.clear()
        _XML[key] = data
    return _XML[key]


def forget_xml() -> None:
    _XML.clear()
    _SCANS.clear()


_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')


def cells_are_numbers(path: Path, part: str | None, cells: list[tuple[int, str]]) -> list | None:
    """For a few cells (Excel row, column letters) in row order: is each a number cell? Read
    from the sheet's XML, each cell found by its reference (`<c r="I57"`, with the sheet's
    prefix, a fast byte search from the previous one): a cell without a type, or `t="n"`,
    holds a number; `s`, `inlineStr`, `str` (and `b`, `e`, `d`) do not. None when the XML
    cannot be read or a cell is not found (the caller then loads the sheet typed)."""
    data = sheet_xml(path, part)
    if data is None:
        return None
    cell = _patterns(_prefix(data[:65536])).cell
    out, pos = [], 0
    for row, letters in cells:
        ref = cell + f'r="{letters}{row}"'.encode()
        at = data.find(ref, pos)
        if at < 0:
            at = data.find(ref)  # cells out of row order
            if at < 0:
                return None
        end = data.find(b">", at)
        m = _TYPE.search(data, at, end)
        out.append(m is None or m.group(1) == b"n")
        pos = end
    return out


def error_cells(errors) -> list[tuple[int, int, str]]:
    """(0-based row of the load, column, Excel's text) of the error cells fastexcel
    reported (other conversion errors are not errors of the file)."""
    out = []
    for e in getattr(errors, "errors", []) or []:
        m = re.search(r"Error\((\w+)\)", e.detail or "")
        if m:
            row, col = e.position
            out.append((row, col, EXCEL_ERRORS.get(m.group(1), "#" + m.group(1))))
    return out


def number_cells(reader, sheet: str, skip: int, columns: list[int], height: int):
    """For each column, a boolean polars Series over the sheet's rows after `skip`: True
    where the cell is a number (or a boolean), False for text, dates and empty cells."""
    import polars as pl

    loaded = reader.load_sheet(
        sheet,
        header_row=None,
        skip_rows=skip,
        use_columns=columns,
        dtypes={c: "boolean" for c in columns},
    ).to_arrow()
    out = {}
    for k, c in enumerate(columns):
        col = pl.Series(loaded.column(k)).is_not_null() if k < loaded.num_columns else None
        if col is None:
            col = pl.Series([False] * height)
        if len(col) < height:
            col = col.extend(pl.Series([False] * (height - len(col))))
        out[c] = col[:height]
    return out


# ---------------------------------------------------------------- number formats, cell heads

_FORMATS: dict[str, list[str | None]] = {}  # workbook path -> format code per cell style


def cell_formats(path: Path) -> list[str | None]:
    """The number format code of each cell style (`<c s="K">` -> index K of cellXfs) that has
    a custom one (`<numFmt formatCode=…>`, numFmtId 164 and up); None for built-in formats
    (their look depends on the reader's locale) or when styles.xml cannot be read. A few KB,
    read once per workbook."""
    try:
        st = Path(path).stat()
        key = f"{path}|{st.st_mtime_ns}|{st.st_size}"
    except OSError:
        return []
    if key in _FORMATS:
        return _FORMATS[key]
    out: list[str | None] = []
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            part = "xl/styles.xml" if "xl/styles.xml" in names else None
            part = part or next((n for n in names if n.lower().endswith("styles.xml")), None)
            root = ElementTree.fromstring(z.read(part)) if part else None
    except (OSError, KeyError, ElementTree.ParseError, *DAMAGED):
        root = None
    if root is not None:

        def local(el) -> str:  # any namespace (Transitional, Strict) or none
            return el.tag.rsplit("}", 1)[-1]

        codes = {
            el.get("numFmtId"): el.get("formatCode") for el in root.iter() if local(el) == "numFmt"
        }
        for block in root:
            if local(block) == "cellXfs":
                out = [codes.get(xf.get("numFmtId")) for xf in block if local(xf) == "xf"]
    _FORMATS.clear()
    _FORMATS[key] = out
    return out


_ZERO_FORMAT = re.compile(r"0{2,}")


def zero_styles(path: Path) -> dict[int, int]:
    """Cell style -> width, for the styles whose number format pads a number with leading
    zeros to that width ('00000000': Excel shows the number 1000001 as 01000001). The
    format's first section (numbers ≥ 0) is what counts."""
    out = {}
    for k, code in enumerate(cell_formats(path)):
        first = (code or "").split(";", 1)[0].strip()
        if _ZERO_FORMAT.fullmatch(first):
            out[k] = len(first)
    return out


def zero_format_cells(path: Path, part: str | None, styles: dict[int, int]):
    """(Excel row, 0-based column, width) of every number cell of a sheet styled with one of
    `styles` (zero_styles); one regex over the sheet's XML (C speed), run only for a
    workbook that has such a style."""
    data = sheet_xml(path, part)
    if data is None or not styles:
        return []
    alt = b"|".join(str(k).encode() for k in sorted(styles))
    # r first (every writer puts it there), then s and an optional t="n", in either order;
    # a cell of another type (t="s", "str", "inlineStr") does not match
    rx = re.compile(
        rb'<(?:\w+:)?c r="([A-Z]+)([0-9]+)"(?:\s+t="n")?\s+s="(' + alt + rb')"(?:\s+t="n")?\s*>'
    )
    return [
        (int(row), column_index(col.decode()), styles[int(s)]) for col, row, s in rx.findall(data)
    ]


def sheet_head(path: Path, part: str | None, last_row: int) -> bytes | None:
    """A sheet's XML up to (at least) Excel row `last_row`: decompressed in 64 KB pieces,
    stopping at the first piece that starts a later row, so a look at the first rows of a
    sheet of 100 000 rows reads a few KB (the whole XML when it is read already)."""
    if not part:
        return None
    key = (str(path), part)
    if key in _XML:
        return _XML[key]
    later = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]+)"')
    buf = bytearray()
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as f:
            while chunk := f.read(1 << 16):
                start = max(0, len(buf) - 64)
                buf += chunk
                rows = later.findall(buf, start)
                if rows and int(rows[-1]) > last_row:
                    break
    except (OSError, KeyError, *DAMAGED):  # a damaged sheet: its load says so
        return None
    return bytes(buf)


_ATTR = re.compile(rb'\b([ts])="([^"]*)"')


def cell_attributes(path: Path, part: str | None, cells: list[tuple[int, int]]):
    """For a few cells (Excel row, 0-based column) near the top of a sheet: each one's type
    and style ({'t': …, 's': …}, a missing one absent; a cell without `t` holds a number),
    or None for a cell not found; None for all when the XML cannot be read."""
    if not cells:
        return []
    from loaders.headers import excel_column_letter

    data = sheet_head(path, part, max(r for r, _ in cells))
    if data is None:
        return None
    out = []
    for row, col in cells:
        m = re.search(
            rb'<(?:\w+:)?c\b[^>]*?\br="'
            + f"{excel_column_letter(col)}{row}".encode()
            + rb'"[^>]*>',
            data,
        )
        if m is None:
            out.append(None)
            continue
        out.append({k.decode(): v.decode() for k, v in _ATTR.findall(m.group(0))})
    return out


def forget_formats() -> None:
    _FORMATS.clear()
