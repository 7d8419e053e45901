"""What an .xlsx file says beyond its cells' text: which sheets are hidden, which cells are
Excel errors or formulas without a cached value, and which cells are numbers.

fastexcel (calamine) gives every cell as text; these are read from the workbook's own
parts, and only when they can matter:
- sheet visibility and the "recalculate on open" flag: xl/workbook.xml (a few KB);
- error cells (#N/A, #DIV/0! …): fastexcel reports them beside the sheet it loads
  (`to_arrow_with_errors`), one entry per error cell;
- formulas without a cached value: files written by programs (openpyxl, exporters) leave
  the values for Excel to compute and say so (`fullCalcOnLoad`); only then is the sheet's
  XML scanned for `<f>` elements without a value (Excel and LibreOffice always store one);
- number cells vs text cells: calamine shows the number 79318000123 and the text
  "79318000123" alike, so a column whose values need the difference (an ID short of 12
  digits, a number like 1.125, codes of unequal length) is loaded once more, typed
  `boolean`: number cells come back filled, text cells empty (`number_cells`);
- number formats (xl/styles.xml, once per workbook): a code kept as a number formatted
  '00000000' shows its leading zeros (`zero_styles`, `zero_format_cells`); a date cell's
  format tells how Excel shows it (`cell_formats`); the type and style of a few cells near
  the top of a sheet are read from its first KBs only (`cell_attributes`).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

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


@dataclass
class SheetInfo:
    name: str
    visible: bool = True
    part: str | None = None  # its XML inside the zip, e.g. xl/worksheets/sheet1.xml


@dataclass
class WorkbookInfo:
    sheets: list[SheetInfo] = field(default_factory=list)
    recalc: bool = False  # formulas may have no cached value (fullCalcOnLoad)

    def sheet(self, name: str) -> SheetInfo:
        for s in self.sheets:
            if s.name == name:
                return s
        return SheetInfo(name)


def workbook_info(path: Path, names: list[str]) -> WorkbookInfo:
    """Visibility and XML part of each sheet; on any surprise every sheet is visible."""
    try:
        with zipfile.ZipFile(path) as z:
            wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
            try:
                rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
                targets = {
                    r.get("Id"): r.get("Target") for r in rels.iter(f"{{{REL_NS}}}Relationship")
                }
            except KeyError:
                targets = {}
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return WorkbookInfo([SheetInfo(n) for n in names])
    info = WorkbookInfo()
    calc = wb.find("m:calcPr", NS)
    info.recalc = calc is not None and calc.get("fullCalcOnLoad") in ("1", "true")
    found = {}
    for el in wb.iterfind("m:sheets/m:sheet", NS):
        target = targets.get(el.get(f"{{{NS['r']}}}id"))
        if target:
            target = target.lstrip("/")
            target = target if target.startswith("xl/") else "xl/" + target
        found[el.get("name")] = SheetInfo(
            el.get("name"), el.get("state", "visible") == "visible", target
        )
    info.sheets = [found.get(n, SheetInfo(n)) for n in names]
    return info


def column_index(letters: str) -> int:
    """'A' -> 0, 'AB' -> 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


_NO_VALUE = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"[^>]*>\s*<f\b[^>]*?(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>'
)


_DIMENSION = re.compile(rb'<dimension\s+ref="[A-Z]*[0-9]*:?([A-Z]+)([0-9]+)"')


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
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError):
        return None
    m = _DIMENSION.search(head)
    if not m:
        return None
    return int(m.group(2)), column_index(m.group(1).decode()) + 1


_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]+)([0-9]+):([A-Z]+)([0-9]+)"')


def merged_ranges(path: Path, part: str | None) -> list[tuple[int, int, int, int]]:
    """(first row, first column, last row, last column) of each merged range of a sheet:
    Excel rows 1-based, columns 0-based. They follow the cells in the sheet's XML, which is
    decompressed in 1 MB pieces (≈ 0.1 s per 100 000 rows) keeping only what follows
    `</sheetData>`."""
    if not part:
        return []
    tail = b""
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as f:
            carry = b""
            while chunk := f.read(1 << 20):
                if tail:
                    tail += chunk
                    continue
                both = carry + chunk
                at = both.find(b"</sheetData>")
                if at >= 0:
                    tail = both[at:]
                carry = both[-16:]
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError):
        return []
    return [
        (int(r1), column_index(c1.decode()), int(r2), column_index(c2.decode()))
        for c1, r1, c2, r2 in _MERGE.findall(tail)
    ]


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
        except (OSError, KeyError, zipfile.BadZipFile):
            return None
        _XML.clear()
        _XML[key] = data
    return _XML[key]


def forget_xml() -> None:
    _XML.clear()


def formulas_without_value(path: Path, part: str | None) -> list[tuple[int, int]]:
    """(Excel row, 0-based column) of every formula cell without a cached value."""
    data = sheet_xml(path, part)
    if data is None or b"<f" not in data:
        return []
    return [(int(m.group(2)), column_index(m.group(1).decode())) for m in _NO_VALUE.finditer(data)]


_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')


def cells_are_numbers(path: Path, part: str | None, cells: list[tuple[int, str]]) -> list | None:
    """For a few cells (Excel row, column letters) in row order: is each a number cell? Read
    from the sheet's XML, each cell found by its reference (`<c r="I57"`, a fast byte search
    from the previous one): a cell without a type, or `t="n"`, holds a number; `s`,
    `inlineStr`, `str` (and `b`, `e`, `d`) do not. None when the XML cannot be read or a
    cell is not found (the caller then loads the sheet typed)."""
    data = sheet_xml(path, part)
    if data is None:
        return None
    out, pos = [], 0
    for row, letters in cells:
        ref = f'<c r="{letters}{row}"'.encode()
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
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, RuntimeError):
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
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError):
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
