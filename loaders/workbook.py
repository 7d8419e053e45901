"""What an .xlsx file says beyond its cells' text: which sheets are hidden, which cells are
Excel errors or formulas without a cached value, and which cells are numbers.

fastexcel (calamine) gives every cell as text; these are read from the workbook's own
parts, and only when they can matter:
- sheet visibility, the "recalculate on open" flag and the date system: xl/workbook.xml
  (a few KB), in the Transitional or the Strict namespaces;
- error cells (#N/A, #DIV/0! …): fastexcel reports them beside the sheet it loads
  (`to_arrow_with_errors`), one entry per error cell;
- formulas without a cached value: files written by programs (openpyxl, exporters) leave
  the values for Excel to compute and say so (`fullCalcOnLoad`); only then is the sheet's
  XML scanned for `<f>` elements without a value (Excel and LibreOffice always store one);
- number cells vs text cells: calamine shows the number 79318000123 and the text
  "79318000123" alike, so a column whose values need the difference (an ID short of 12
  digits, a number like 1.125, codes of unequal length) is loaded once more, typed
  `boolean`: number cells come back filled, text cells empty (`number_cells`).

A sheet's XML that cannot be decompressed (a broken deflate stream, a bad CRC) raises
`BrokenPart`.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
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
    except (OSError, KeyError):
        return None
    except DAMAGED as exc:
        raise BrokenPart(part) from exc
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
    except (OSError, KeyError):
        return []
    except DAMAGED as exc:
        raise BrokenPart(part) from exc
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
        except (OSError, KeyError):
            return None
        except DAMAGED as exc:
            raise BrokenPart(part) from exc
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
