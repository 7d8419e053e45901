"""How an .xlsx's own XML is read (loaders/workbook.py): sheets written with a namespace
prefix (the .NET Open XML SDK's `<x:c>`), Strict Open XML workbooks, the 1904 date system,
formulas whose stored value Excel did not compute, and parts too damaged to decompress.
The workbooks are written by hand (a zip of XML), as those programs write them."""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from loader_helpers import SCHOOLS, folder, load, messages, rejects, rows

from loaders import workbook
from soat.errors import SoatError

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT = {
    MAIN: "http://purl.oclc.org/ooxml/spreadsheetml/main",
    RELS: "http://purl.oclc.org/ooxml/officeDocument/relationships",
}
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
STYLES = f"""<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
</cellXfs></styleSheet>"""

HEAD = ["Mã học sinh", "Mã trường", "Họ và tên", "Ngày sinh", "Số định danh cá nhân"]


@dataclass
class Raw:
    """A cell written as given: {ref} is its reference, {p} the sheet's prefix."""

    xml: str


@dataclass
class Sheet:
    name: str
    rows: list[list]
    state: str | None = None
    merges: list[str] = field(default_factory=list)
    dimension: str | None = None


def _cell(ref: str, v, p: str) -> str:
    if v is None:
        return ""
    if isinstance(v, Raw):
        return v.xml.format(ref=ref, p=p)
    if isinstance(v, int | float):
        return f'<{p}c r="{ref}"><{p}v>{v}</{p}v></{p}c>'
    return f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t>{escape(v)}</{p}t></{p}is></{p}c>'


def _letter(j: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[j]


def _sheet_xml(s: Sheet, p: str) -> str:
    ns = f'xmlns:{p[:-1]}="{MAIN}"' if p else f'xmlns="{MAIN}"'
    out = [f'<?xml version="1.0" encoding="utf-8"?><{p}worksheet {ns} xmlns:r="{RELS}">']
    if s.dimension:
        out.append(f'<{p}dimension ref="{s.dimension}"/>')
    out.append(f"<{p}sheetData>")
    for i, row in enumerate(s.rows, start=1):
        cells = "".join(_cell(f"{_letter(j)}{i}", v, p) for j, v in enumerate(row))
        out.append(f'<{p}row r="{i}">{cells}</{p}row>')
    out.append(f"</{p}sheetData>")
    if s.merges:
        out.append(f'<{p}mergeCells count="{len(s.merges)}">')
        out += [f'<{p}mergeCell ref="{m}"/>' for m in s.merges]
        out.append(f"</{p}mergeCells>")
    out.append(f"</{p}worksheet>")
    return "".join(out)


def write_workbook(
    path: Path,
    sheets: list[Sheet],
    *,
    prefix: str = "",
    strict: bool = False,
    workbook_pr: str = "",
    calc_pr: str = "",
) -> Path:
    """An .xlsx as a program writes it: every element with `prefix` ('x:' as the Open XML
    SDK writes), or in the Strict namespaces; `workbook_pr`, `calc_pr`: attributes of
    <workbookPr>, <calcPr>."""
    p = prefix
    ns = f'xmlns:{p[:-1]}="{MAIN}"' if p else f'xmlns="{MAIN}"'
    types = [
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>',
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>',
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/>',
    ]
    book = [f'<?xml version="1.0" encoding="utf-8"?><{p}workbook {ns} xmlns:r="{RELS}">']
    if workbook_pr:
        book.append(f"<{p}workbookPr {workbook_pr}/>")
    book.append(f"<{p}sheets>")
    rels = [f'<Relationship Id="rIdS" Type="{RELS}/styles" Target="styles.xml"/>']
    parts = {"xl/styles.xml": STYLES}
    for i, s in enumerate(sheets, start=1):
        state = f' state="{s.state}"' if s.state else ""
        book.append(f'<{p}sheet name="{s.name}" sheetId="{i}"{state} r:id="rId{i}"/>')
        rels.append(
            f'<Relationship Id="rId{i}" Type="{RELS}/worksheet" '
            f'Target="/xl/worksheets/sheet{i}.xml"/>'
        )
        types.append(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        )
        parts[f"xl/worksheets/sheet{i}.xml"] = _sheet_xml(s, p)
    book.append(f"</{p}sheets>")
    if calc_pr:
        book.append(f"<{p}calcPr {calc_pr}/>")
    book.append(f"</{p}workbook>")
    parts["xl/workbook.xml"] = "".join(book)
    parts["_rels/.rels"] = (
        f'<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="{PKG}"><Relationship '
        f'Id="R1" Type="{RELS}/officeDocument" Target="/xl/workbook.xml"/></Relationships>'
    )
    parts["xl/_rels/workbook.xml.rels"] = (
        f'<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="{PKG}">'
        + "".join(rels)
        + "</Relationships>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.'
            'openxmlformats.org/package/2006/content-types">' + "".join(types) + "</Types>",
        )
        for name, text in parts.items():
            if strict:
                for old, new in STRICT.items():
                    text = text.replace(old, new)
            z.writestr(name, text)
    return path


def _warned(con, sid, text: str) -> list[dict]:
    return [m for m in messages(con, sid) if m["severity"] == "warning" and text in m["message"]]


def _students(con, sid, cols: str) -> list[tuple]:
    return [tuple(r.values()) for r in rows(con, "students", sid, cols)]


NOT_COMPUTED = "ô có công thức nhưng không có giá trị đã tính (tệp chưa được Excel tính lại)"
NOT_RECALCULATED = "ô có công thức, giá trị lưu trong tệp không phải giá trị Excel đã tính"

# ---- a namespace prefix (.NET Open XML SDK) -----------------------------------------------


def _pupils() -> list[list]:
    return [
        HEAD,
        ["HS1", "S1", "Nguyễn Văn An", "02/03/2018", "079218000101"],
        ["HS2", None, "Trần Thị Bình", "15/07/2018", 79318000102],  # a number cell
        ["HS3", "S2", "Lê Hoàng Cường", "28/11/2012", "79212000103"],  # a text cell
        ["HS4", None, "Phạm Thị Dung", "09/01/2012", Raw('<{p}c r="{ref}"><{p}f>X1</{p}f></{p}c>')],
    ]


@pytest.mark.parametrize("prefix", ["x:", ""])
def test_a_sheet_with_a_namespace_prefix_is_read_like_any_other(con, tmp_path, monkeypatch, prefix):
    """`<x:worksheet>`, `<x:c>`, `<x:mergeCell>`, `<x:f>`, as .NET exports write them (SMAS
    and VnEDU are .NET): every byte search of the sheet's XML found nothing, so merged
    school codes stayed empty, a formula without a value loaded as an empty ID with no
    word, and the number-cell lookup fell back on loading the sheet again. Now each reads
    the prefixed XML as the plain one (the control: the same sheet unprefixed). The
    workbook does not say fullCalcOnLoad: a formula without a value is rejected anyway."""
    d = folder(tmp_path, {})
    sheet = Sheet("HS", _pupils(), merges=["B2:B3", "B4:B5"])
    path = write_workbook(d / "hoc_sinh.xlsx", [sheet], prefix=prefix)

    def typed_load(*a, **k):  # the number cells must be read from the XML
        raise AssertionError("the sheet was loaded again to tell number cells")

    monkeypatch.setattr(workbook, "number_cells", typed_load)
    r = load(con, d)
    assert _students(con, r.snapshot_id, "_row, school_code, citizen_id") == [
        (2, "S1", "079218000101"),
        (3, "S1", "079318000102"),  # a number cell: its leading zero restored
        (4, "S2", "79212000103"),  # a text cell: kept as typed
        (5, "S2", None),
    ]
    (w,) = _warned(con, r.snapshot_id, "vùng ô gộp")
    assert w["message"].startswith("2 ô của cột 'Mã trường'") and "B2:B3" in w["message"]
    rej = [
        (x["row"], x["column"], x["reason"][: len(NOT_COMPUTED)])
        for x in rejects(con, r.snapshot_id)
    ]
    assert rej == [(5, "Số định danh cá nhân", NOT_COMPUTED)]
    part = "xl/worksheets/sheet1.xml"
    assert workbook.cells_are_numbers(path, part, [(3, "E"), (4, "E")]) == [True, False]


def test_a_prefixed_sheet_too_large_to_read_is_refused(con, tmp_path):
    """The used range of a prefixed sheet (`<x:dimension ref="A1:XFD1048576"/>`) is read
    too: the sheet is skipped with the warning, never handed to calamine."""
    d = folder(tmp_path, {})
    sheet = Sheet("HS", _pupils()[:3], dimension="A1:XFD1048576")
    write_workbook(d / "hoc_sinh.xlsx", [sheet], prefix="x:")
    r = load(con, d)
    (w,) = _warned(con, r.snapshot_id, "XFD1048576")
    assert "quá lớn để đọc" in w["message"] and w["sheet"] == "HS"
    assert r.rows.get("students", 0) == 0


def test_a_prefixed_workbook_that_says_recalculate(con, tmp_path):
    """A program's prefixed export with `fullCalcOnLoad` and a formula whose stored value is
    a placeholder: rejected, never loaded as the value."""
    d = folder(tmp_path, {})
    body = _pupils()
    body[4][4] = Raw('<{p}c r="{ref}"><{p}f>X1</{p}f><{p}v>0</{p}v></{p}c>')
    write_workbook(
        d / "hoc_sinh.xlsx", [Sheet("HS", body)], prefix="x:", calc_pr='fullCalcOnLoad="1"'
    )
    r = load(con, d)
    assert _students(con, r.snapshot_id, "_row, citizen_id")[-1] == (5, None)
    (rej,) = rejects(con, r.snapshot_id)
    assert (rej["row"], rej["value"]) == (5, "0")
    assert rej["reason"].startswith(NOT_RECALCULATED)


# ---- Strict Open XML ----------------------------------------------------------------------


def test_a_strict_open_xml_workbook(con, tmp_path):
    """Excel's 'Strict Open XML Spreadsheet' format names its elements in other namespaces:
    workbook_info found no sheet, so a hidden lookup sheet was loaded as pupils, merged
    codes were left empty and the date system unread. Now it is read as the Transitional
    one, in a folder and as a workbook source."""
    d = folder(tmp_path, {})
    lookup = Sheet("DanhMuc", [HEAD, ["X1", "S1", "Không phải học sinh"]], state="hidden")
    pupils = _pupils()[:4]
    pupils[1][3] = 41834  # HS1's birth date: 2018-07-15 in the 1904 system
    sheets = [lookup, Sheet("HS", pupils, merges=["B2:B3"])]
    write_workbook(d / "hoc_sinh.xlsx", sheets, strict=True, workbook_pr='date1904="1"')
    info = workbook.workbook_info(d / "hoc_sinh.xlsx", ["DanhMuc", "HS"])
    assert [(s.name, s.visible, s.part) for s in info.sheets] == [
        ("DanhMuc", False, "xl/worksheets/sheet1.xml"),
        ("HS", True, "xl/worksheets/sheet2.xml"),
    ]
    assert info.date1904
    r = load(con, d)
    got = _students(con, r.snapshot_id, "_sheet, _row, student_code, school_code, birth_date")
    assert got == [
        ("HS", 2, "HS1", "S1", dt.date(2018, 7, 15)),
        ("HS", 3, "HS2", "S1", dt.date(2018, 7, 15)),
        ("HS", 4, "HS3", "S2", dt.date(2012, 11, 28)),
    ]
    assert [m["sheet"] for m in messages(con, r.snapshot_id) if "sheet ẩn" in m["message"]] == [
        "DanhMuc"
    ]
    assert _warned(con, r.snapshot_id, "vùng ô gộp")

    sheets = [Sheet("truong", SCHOOLS), Sheet("hoc_sinh", pupils, "hidden")]
    source = write_workbook(tmp_path / "so.xlsx", sheets, strict=True)
    r = load(con, source)
    assert r.rows.get("students", 0) == 0 and r.rows["schools"] == 2
    (w,) = _warned(con, r.snapshot_id, "sheet ẩn")
    assert w["sheet"] == "hoc_sinh"


# ---- the 1904 date system -----------------------------------------------------------------


@pytest.mark.parametrize("date1904", [True, False])
def test_serial_numbers_of_a_1904_workbook(con, tmp_path, date1904):
    """A workbook in the 1904 date system (old Mac Excel; `<workbookPr date1904="1"/>`)
    counts days from 1904-01-01: a plain number (General format) in a date column was read
    from 1899-12-30, four years and a day early. Date cells were right (calamine converts
    them); a text date and the same numbers in a 1900 workbook are unchanged."""
    head = [*HEAD, "Ngày cập nhật"]
    body = [
        head,
        ["HS1", "S1", "A", 41834, "079218000101", 43296.5],
        ["HS2", "S1", "B", Raw('<{p}c r="{ref}" s="1"><{p}v>41699</{p}v></{p}c>'), None, None],
        # ISO: a day-first text date (28/11/2012) beside HS2's date cell (day 2) would be
        # the fingerprint of dates swapped by English-locale Excel (read._swapped_dates)
        ["HS3", "S1", "C", "2012-11-28", None, "15/07/2018 08:30"],
        ["HS4", "S1", "D", 2018, None, None],  # a year, not a date: rejected as it is
    ]
    d = folder(tmp_path, {})
    pr = 'date1904="1"' if date1904 else ""
    write_workbook(d / "hoc_sinh.xlsx", [Sheet("HS", body)], workbook_pr=pr)
    r = load(con, d)
    got = _students(con, r.snapshot_id, "student_code, birth_date, updated_at")
    shift = dt.timedelta(days=1462 if date1904 else 0)
    assert got == [
        ("HS1", dt.date(2014, 7, 14) + shift, dt.datetime(2018, 7, 15, 12) + shift),
        ("HS2", dt.date(2014, 3, 1) + shift, None),
        ("HS3", dt.date(2012, 11, 28), dt.datetime(2018, 7, 15, 8, 30)),
        ("HS4", None, None),
    ]
    (rej,) = rejects(con, r.snapshot_id)
    assert (rej["row"], rej["column"], rej["value"]) == (5, "Ngày sinh", "2018")


# ---- formulas -----------------------------------------------------------------------------


def _classes(tmp_path: Path, calc: str, sizes: list) -> Path:
    d = folder(tmp_path, {})
    head = ["Mã lớp", "Mã trường", "Năm học", "Tên lớp", "Khối", "Sĩ số"]
    body = [head]
    for code, size in zip(["1A", "1B", "2A"], sizes, strict=True):
        body.append([code, "S1", "2024-2025", f"Lớp {code}", code[0], size])
    write_workbook(d / "lop.xlsx", [Sheet("Lớp", body)], calc_pr=calc)
    return d


def _size(v: str) -> Raw:
    return Raw('<{p}c r="{ref}"><{p}f>COUNTIF(HS!B:B,A2)</{p}f>' + v + "</{p}c>")


def test_formula_values_of_a_workbook_that_says_recalculate_are_rejected(con, tmp_path):
    """xlsxwriter and rust_xlsxwriter store 0 as every formula's value and set
    fullCalcOnLoad, leaving the computing to Excel: every computed class size became 0,
    silently. In such a workbook no stored formula value is Excel's: each formula cell of
    the data is a reject quoting the stored value, and its value is left empty; a typed
    number beside them loads."""
    d = _classes(
        tmp_path,
        'calcId="124519" fullCalcOnLoad="1"',
        [_size("<{p}v>0</{p}v>"), _size("<{p}v>0</{p}v>"), 30],
    )
    r = load(con, d)
    got = [(c["_row"], c["declared_size"]) for c in rows(con, "classes", r.snapshot_id)]
    assert got == [(2, None), (3, None), (4, 30)]
    rej = [(x["row"], x["column"], x["value"], x["reason"]) for x in rejects(con, r.snapshot_id)]
    assert [x[:3] for x in rej] == [(2, "Sĩ số", "0"), (3, "Sĩ số", "0")]
    assert all(x[3].startswith(NOT_RECALCULATED) for x in rej)
    assert "mở tệp bằng Excel, lưu lại rồi nạp lại" in rej[0][3]


def test_formula_values_excel_computed_are_loaded(con, tmp_path):
    """A workbook Excel saved (no fullCalcOnLoad) stores the values it computed: they load
    as they are, with no reject. A formula with no value at all was never computed,
    whatever the workbook says (Apache POI writes them so): a reject, as before only for
    workbooks that said fullCalcOnLoad."""
    d = _classes(
        tmp_path, 'calcId="191029"', [_size("<{p}v>31</{p}v>"), _size("<{p}v>0</{p}v>"), _size("")]
    )
    r = load(con, d)
    got = [(c["_row"], c["declared_size"]) for c in rows(con, "classes", r.snapshot_id)]
    assert got == [(2, 31), (3, 0), (4, None)]
    (rej,) = rejects(con, r.snapshot_id)
    assert (rej["row"], rej["column"], rej["value"]) == (4, "Sĩ số", None)
    assert rej["reason"].startswith(NOT_COMPUTED)


def test_a_column_of_formulas_to_recalculate_is_rejected_in_one_go(con, tmp_path):
    """A program-written sheet with a formula on every row: one reject per cell, written in
    one INSERT (executemany took ≈ 4 s per 20 000 rejects)."""
    import xlsxwriter

    d = folder(tmp_path, {})
    wb = xlsxwriter.Workbook(str(d / "hoc_sinh.xlsx"))
    ws = wb.add_worksheet("HS")
    ws.write_row(0, 0, HEAD)
    n = 3000
    for i in range(1, n + 1):
        ws.write_row(i, 0, [f"HS{i}", "S1", f"Học sinh {i}", "01/03/2018"])
        ws.write_formula(i, 4, f'="0793180"&TEXT({i},"00000")')
    wb.close()
    r = load(con, d)
    assert r.rows["students"] == n
    got = con.execute(
        "SELECT count(*), count(DISTINCT reason), min(value), max(value) FROM rejects "
        "WHERE snapshot_id = $s",
        {"s": r.snapshot_id},
    ).fetchone()
    assert got == (n, 1, "0", "0")
    ids = con.execute(
        "SELECT count(citizen_id) FROM students WHERE snapshot_id = $s", {"s": r.snapshot_id}
    ).fetchone()
    assert ids == (0,)


# ---- damaged parts ------------------------------------------------------------------------


def _damage(path: Path, part: str, at: int = 5, n: int = 55, stored: bool = False) -> None:
    """Flip bytes of a part's compressed data (the zip's directory stays intact)."""
    if stored:  # the part stored uncompressed: the damage only shows in its CRC
        with zipfile.ZipFile(path) as zi:
            parts = {i.filename: zi.read(i) for i in zi.infolist()}
        with zipfile.ZipFile(path, "w") as zo:
            for name, data in parts.items():
                zo.writestr(name, data, zipfile.ZIP_STORED if name == part else 8)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(part)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    if stored:
        at = bytes(data[start : start + info.compress_size]).index(b"079218000101") + 11
        n = 1
    for k in range(at, min(at + n, info.compress_size - 2)):
        data[start + k] ^= 0x5A
    path.write_bytes(bytes(data))


BROKEN = "không đọc được sheet (sheet bị hỏng); hãy mở tệp bằng Excel, lưu lại rồi nạp lại"


@pytest.mark.parametrize("damage", ["deflate", "crc"])
def test_a_damaged_sheet_is_a_clear_warning(con, tmp_path, damage):
    """A sheet's compressed data damaged (a broken deflate stream; a byte changed in a part
    stored uncompressed, seen by its CRC): zlib's English error escaped as 'lỗi không mong
    đợi' and stopped the whole load (the CRC case loaded the changed byte). Now the sheet
    is skipped with the warning of a sheet that cannot be read, and the rest loads."""
    d = folder(tmp_path, {})
    body = _pupils()[:3]
    write_workbook(d / "hoc_sinh.xlsx", [Sheet("HS", body)])
    _damage(d / "hoc_sinh.xlsx", "xl/worksheets/sheet1.xml", stored=damage == "crc")
    r = load(con, d)
    (w,) = _warned(con, r.snapshot_id, "sheet bị hỏng")
    assert (w["source"], w["sheet"], w["message"][: len(BROKEN)]) == ("hoc_sinh.xlsx", "HS", BROKEN)
    assert r.rows.get("students", 0) == 0 and r.rows["schools"] == 2


def test_a_damaged_schools_sheet_is_fatal_with_a_clear_message(con, tmp_path):
    """The schools table is required: its damaged sheet stops the load, saying why."""
    d = tmp_path / "export"
    write_workbook(d / "truong.xlsx", [Sheet("DS", SCHOOLS)])
    _damage(d / "truong.xlsx", "xl/worksheets/sheet1.xml")
    with pytest.raises(SoatError) as ev:
        load(con, d)
    assert "thiếu bảng trường" in str(ev.value) and BROKEN in str(ev.value)
    assert "Error -3" not in str(ev.value)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_a_damaged_workbook_source(con, tmp_path, part):
    """A workbook source: a damaged students sheet is skipped with the warning; a damaged
    workbook.xml makes the file unopenable, fatal with the message of a broken file."""
    sheets = [Sheet("hoc_sinh", _pupils()[:3]), Sheet("truong", SCHOOLS)]
    source = write_workbook(tmp_path / "so.xlsx", sheets)
    _damage(source, part)
    if part == "xl/workbook.xml":
        with pytest.raises(SoatError) as ev:
            load(con, source)
        assert "không mở được tệp Excel: tệp bị hỏng" in str(ev.value)
        return
    r = load(con, source)
    (w,) = _warned(con, r.snapshot_id, "sheet bị hỏng")
    assert w["sheet"] == "hoc_sinh" and r.rows["schools"] == 2


def test_damaged_parts_raise_broken_part(tmp_path):
    """Every look at a sheet's XML (its used range, the scan for merges and formulas, the
    whole XML for number cells) says the part is broken, never zlib's error."""
    path = write_workbook(tmp_path / "a.xlsx", [Sheet("HS", _pupils())])
    _damage(path, "xl/worksheets/sheet1.xml", at=2, n=40)
    part = "xl/worksheets/sheet1.xml"
    for look in (
        lambda: workbook.dimension(path, part),
        lambda: workbook.scan_sheet(path, part),
        lambda: workbook.sheet_xml(path, part),
    ):
        workbook.forget_xml()
        with pytest.raises(workbook.BrokenPart):
            look()
    info = workbook.workbook_info(path, ["HS"])  # workbook.xml is fine
    assert info.sheets[0].part == part
