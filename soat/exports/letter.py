"""The reminder letter (công văn đôn đốc) as a `.docx`, in the layout of Decree
30/2020/NĐ-CP (Phụ lục I), with the late and missing schools in an appendix.

    letter = build(con, snapshot, scope, unit="79760", period="dau_nam")
    letter.save("cong_van_don_doc.docx")

The appendix lists exactly the `missing` and `late` rows of the `late` export for the same
scope and filters (soat.exports.late.frame: unit and every unit below it, level, period),
optionally one target (Sở or Bộ), in that export's order (most overdue first).

The letter is a draft for the office to number, date and sign: the number (Số), the day
of the date line, the completion date asked of the schools and the signer's name are left
as dotted placeholders. Everything else comes from the snapshot:

- the issuing body is the unit given (`--unit`), else the account's one unit, else the
  province (the unit without a parent). Its lines follow the unit's name: "Sở GD&ĐT X"
  gives "UBND TỈNH X / SỞ GIÁO DỤC VÀ ĐÀO TẠO" (ký hiệu SGDĐT, signed GIÁM ĐỐC, place
  "X"); "Phòng GD&ĐT huyện Y" gives "UBND HUYỆN Y / PHÒNG GIÁO DỤC VÀ ĐÀO TẠO" (PGDĐT,
  TRƯỞNG PHÒNG, place "Y"); "UBND xã Z" gives "ỦY BAN NHÂN DÂN XÃ Z" (UBND, TM. ỦY BAN
  NHÂN DÂN / CHỦ TỊCH); any other name is written as it is, in capitals.
- "Kính gửi": a school whose managing unit is the issuer is addressed through its
  principal, one under a lower unit through that unit; up to six addressees are named,
  more are "các trường/đơn vị có tên tại Phụ lục kèm theo".
- the body cites each deadline's letter (`deadlines.reference`) with its due date, the
  snapshot's date, how many schools and how many items are missing or late.

Layout (Decree 30): A4, margins top 20 mm, bottom 20 mm, left 30 mm, right 15 mm; Times
New Roman; issuing body (13 pt, its name bold) and national motto (12 pt bold capitals,
then 13 pt bold) side by side, each with a short rule under it; "Số:" (13 pt) and the
subject line "V/v …" (12 pt) under the body, the place and date (14 pt italic) under the
motto; "Kính gửi:" and the body in 14 pt, justified, first line indented 1.27 cm, 6 pt
between paragraphs; "Nơi nhận:" (12 pt bold italic, recipients 11 pt) beside the signer's
title (14 pt bold); page numbers at the top centre from page 2; the appendix on its own
page, its table's header repeated on every page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from soat.db import dicts
from soat.exports import late as late_export
from soat.exports.late import period_label
from soat.scope import Scope, scope_sql
from soat.vocab import LEVEL_NAMES

FONT = "Times New Roman"
STATUSES = ("missing", "late")
PLACEHOLDER = "……"
MAX_NAMED = 6  # addressees named in "Kính gửi"; more are "… có tên tại Phụ lục"

MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
PAGE_MM = (210, 297)
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]  # 165
# the heading's two blocks: a little wider than the text (5 mm into each margin, centred),
# as office templates lay them out, so the motto and a long place name keep to one line
HEAD_LEFT_MM, HEAD_RIGHT_MM = 75, 100
LANDSCAPE_TEXT_MM = PAGE_MM[1] - MARGINS_MM["left"] - MARGINS_MM["right"]  # 252
BLANK = "\u00a0" * 5  # left for the hand that numbers and dates the letter, as the seeds show

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"
APPENDIX_TITLE = "DANH SÁCH TRƯỜNG CHƯA NỘP, NỘP TRỄ HẠN DỮ LIỆU"

REFS_SQL = """
SELECT st.reference, st.due_date, count(*) AS n
FROM submission_status st
WHERE st.snapshot_id = $snapshot_id
  AND {scope}
  AND st.status IN ('missing', 'late')
  AND ($unit IS NULL OR st.unit_code IN (
        SELECT uc.unit_code FROM unit_closure uc
        WHERE uc.snapshot_id = $snapshot_id AND uc.ancestor_code = $unit))
  AND ($level IS NULL OR st.level = $level)
  AND ($period IS NULL OR st.period = $period)
  AND ($target IS NULL OR st.target = $target)
GROUP BY st.reference, st.due_date
ORDER BY st.due_date, st.reference
"""


# ---- who writes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """The issuing body's lines, as the decree sets them out."""

    code: str | None
    parent_line: str  # cơ quan chủ quản ("UBND TỈNH VĨNH LONG"), may be empty
    name_line: str  # cơ quan ban hành ("SỞ GIÁO DỤC VÀ ĐÀO TẠO")
    short: str  # in sentences ("Sở Giáo dục và Đào tạo")
    symbol: str  # ký hiệu in "Số: …/SGDĐT-…"
    place: str  # địa danh of the date line
    signer_lines: tuple[str, ...]  # "GIÁM ĐỐC" / ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH")
    leaders: str  # "Lãnh đạo Sở" in Nơi nhận


_EDU = r"(?:GD\s*&\s*ĐT|GD\s*-\s*ĐT|GDĐT|Giáo\s+dục\s+(?:và|&)\s+Đào\s+tạo)"
_SO = re.compile(rf"^Sở\s+{_EDU}\s*(.*)$", re.IGNORECASE)
_PHONG = re.compile(rf"^Phòng\s+{_EDU}\s*(.*)$", re.IGNORECASE)
_UBND = re.compile(r"^(?:UBND|Ủy\s+ban\s+nhân\s+dân|Uỷ\s+ban\s+nhân\s+dân)\s+(.*)$", re.IGNORECASE)
_TP = re.compile(r"^(?:TP\.?|Tp\.?)\s+", re.IGNORECASE)
_KIND = re.compile(
    r"^(tỉnh|thành phố|quận|huyện|thị xã|thị trấn|xã|phường|đặc khu)\s+(.+)$", re.IGNORECASE
)


def _expand_tp(text: str) -> str:
    return _TP.sub("Thành phố ", text.strip())


def _place(area: str) -> str:
    """Địa danh from an area's name: 'huyện Cẩm Giàng' -> 'Cẩm Giàng', 'Quận 1' -> 'Quận 1',
    'TP Hồ Chí Minh' -> 'Thành phố Hồ Chí Minh' (Decree 30: the name of the place; a
    numbered ward or district keeps its kind)."""
    area = _expand_tp(area)
    m = _KIND.match(area)
    if not m:
        return area
    kind, name = m.group(1), m.group(2).strip()
    if name.isdigit():
        return f"{kind.capitalize()} {name}"
    if kind.casefold() == "thành phố" and "hồ chí minh" in name.casefold():
        return f"Thành phố {name}"
    return name


def issuer_of(code: str | None, name: str | None) -> Issuer:
    name = " ".join((name or "").split())
    if m := _SO.match(name):
        area = _expand_tp(m.group(1)) or PLACEHOLDER
        province = area if _KIND.match(area) else f"tỉnh {area}"
        return Issuer(
            code,
            f"UBND {province.upper()}" if m.group(1) else "",
            "SỞ GIÁO DỤC VÀ ĐÀO TẠO",
            "Sở Giáo dục và Đào tạo",
            "SGDĐT",
            _place(area),
            ("GIÁM ĐỐC",),
            "Lãnh đạo Sở",
        )
    if m := _PHONG.match(name):
        area = _expand_tp(m.group(1)) or PLACEHOLDER
        return Issuer(
            code,
            f"UBND {area.upper()}" if m.group(1) else "",
            "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
            "Phòng Giáo dục và Đào tạo",
            "PGDĐT",
            _place(area),
            ("TRƯỞNG PHÒNG",),
            "Lãnh đạo Phòng",
        )
    if m := _UBND.match(name):
        area = _expand_tp(m.group(1))
        return Issuer(
            code,
            "",
            f"ỦY BAN NHÂN DÂN {area.upper()}",
            f"Ủy ban nhân dân {area}",
            "UBND",
            _place(area),
            ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
            "Lãnh đạo UBND",
        )
    return Issuer(
        code,
        "",
        (name or PLACEHOLDER).upper(),
        name or "đơn vị",
        PLACEHOLDER,
        PLACEHOLDER,
        ("THỦ TRƯỞNG ĐƠN VỊ",),
        "Lãnh đạo đơn vị",
    )


def _issuer_code(con, sid: int, scope: Scope, unit: str | None) -> str | None:
    if unit:
        return unit
    if scope.units and len(scope.units) == 1:
        return scope.units[0]
    if scope.school:
        rows = dicts(
            con,
            "SELECT any_value(unit_code) AS u FROM schools WHERE snapshot_id = $s "
            "AND school_code = $c",
            {"s": sid, "c": scope.school},
        )
        return rows[0]["u"] if rows else None
    rows = dicts(
        con,
        "SELECT unit_code FROM units WHERE snapshot_id = $s AND (parent_code IS NULL "
        "OR parent_code = '') ORDER BY unit_tier = 'Sở' DESC, unit_code LIMIT 1",
        {"s": sid},
    )
    return rows[0]["unit_code"] if rows else None


def _unit_names(con, sid: int) -> dict[str, str]:
    rows = dicts(
        con,
        "SELECT unit_code, any_value(unit_name) AS unit_name FROM units "
        "WHERE snapshot_id = $s GROUP BY unit_code",
        {"s": sid},
    )
    return {r["unit_code"]: r["unit_name"] for r in rows}


# ---- what it says ----------------------------------------------------------------------


def rows(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    scope: Scope,
    unit: str | None = None,
    level: str | None = None,
    period: str | None = None,
    target: str | None = None,
) -> pl.DataFrame:
    """The appendix: the `late` export's rows whose status is missing or late."""
    df = late_export.frame(
        con, snapshot_id, scope, unit=unit, level=level, period=period, statuses=STATUSES
    )
    if target:
        df = df.filter(pl.col("target") == target)
    return df


# the appendix under the name every export module's rows have (tests sweep
# soat.exports.*.frame for every role's scope)
frame = rows


def _d(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def _vn_date_line(place: str, today: dt.date) -> str:
    """'Quận 1, ngày      tháng 10 năm 2024': the day left blank for the signing date; months 1
    and 2 written 01 and 02 (Decree 30)."""
    month = f"{today.month:02d}" if today.month < 3 else str(today.month)
    return f"{place}, ngày{BLANK}tháng {month} năm {today.year}"


def _period_phrase(df: pl.DataFrame, period: str | None) -> str:
    periods = [period] if period else df.get_column("period").unique().drop_nulls().to_list()
    if len(periods) == 1:
        return f"kỳ {period_label(periods[0]).lower()}, "
    return ""


def _target_phrase(target: str | None, short: bool = False) -> str:
    if target == "Bộ":
        return (
            "lên CSDL ngành của Bộ"
            if short
            else "lên cơ sở dữ liệu ngành của Bộ Giáo dục và Đào tạo"
        )
    return "lên CSDL ngành" if short else "lên cơ sở dữ liệu ngành giáo dục (CSDL ngành)"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " và " + items[-1]


def _deadline_sentence(refs: list[dict], what: str) -> str:
    by_ref: dict[str | None, list[dt.date]] = {}
    for r in refs:
        by_ref.setdefault((r["reference"] or "").strip() or None, []).append(r["due_date"])

    def dates(ds: list[dt.date]) -> str:
        ds = sorted({d for d in ds if d is not None})
        word = "ngày" if len(ds) == 1 else "các ngày"
        return f"hạn nộp {word} {_join([_d(d) for d in ds])}"

    cited = [f"{ref} ({dates(ds)})" for ref, ds in by_ref.items() if ref]
    if cited:
        text = f"Thực hiện {_join(cited)} về việc cập nhật, nộp dữ liệu {what}"
        if None in by_ref:
            text += f"; theo lịch báo cáo của ngành, {dates(by_ref[None])}"
        return text + "."
    if None in by_ref:
        return f"Theo lịch báo cáo của ngành, {dates(by_ref[None])} cho việc cập nhật, nộp dữ liệu {what}."
    return ""


@dataclass(frozen=True)
class Addressees:
    lines: list[str]  # what "Kính gửi:" lists
    request: str  # whom the body asks: "Hiệu trưởng các trường có tên tại Phụ lục"
    via_units: bool  # some schools are reached through a lower unit


def _head_of(unit_name: str) -> str:
    """Who answers for a unit: 'Trưởng phòng Phòng GD&ĐT Quận 1', 'Chủ tịch UBND …'."""
    if _SO.match(unit_name):
        return f"Giám đốc {unit_name}"
    if _PHONG.match(unit_name):
        return f"Trưởng phòng {unit_name}"
    if _UBND.match(unit_name):
        return f"Chủ tịch {unit_name}"
    return f"Thủ trưởng {unit_name}"


def _child_of_issuer(con, sid: int, issuer_code: str | None) -> dict[str, str]:
    """Each unit under the issuer -> the issuer's direct sub-unit on its path (a school
    under a commune of a district is reached through the district)."""
    if not issuer_code:
        return {}
    rows = dicts(
        con,
        """SELECT uc.unit_code, any_value(uc.ancestor_code) AS child
           FROM unit_closure uc
           JOIN units ch ON ch.snapshot_id = uc.snapshot_id AND ch.unit_code = uc.ancestor_code
           WHERE uc.snapshot_id = $s AND ch.parent_code = $issuer
           GROUP BY uc.unit_code""",
        {"s": sid, "issuer": issuer_code},
    )
    return {r["unit_code"]: r["child"] for r in rows}


def _addressees(
    df: pl.DataFrame, issuer: Issuer, unit_names: dict[str, str], via: dict[str, str]
) -> Addressees:
    """A school the issuer manages itself is addressed through its principal; a school under
    a lower unit through the issuer's sub-unit above it. Up to MAX_NAMED are named."""
    direct = df.filter(pl.col("unit_code") == issuer.code) if issuer.code else df.clear()
    below = df.filter(pl.col("unit_code") != issuer.code) if issuer.code else df
    schools = sorted(
        set(direct.get_column("school_name").fill_null(direct["school_code"]).to_list())
    )
    unit_codes = {via.get(u, u) for u in below.get_column("unit_code").to_list()}
    units = sorted(
        unit_names.get(u) or (f"Đơn vị {u}" if u else "Đơn vị chưa rõ") for u in unit_codes
    )
    school_lines = [f"Hiệu trưởng {s}" for s in schools]
    whom = []
    if units:
        whom.append(_head_of(units[0]) if len(units) == 1 else "Thủ trưởng các đơn vị")
    if schools:
        whom.append(school_lines[0] if len(schools) == 1 else "Hiệu trưởng các trường")
    request = " và ".join(whom)
    if len(units) > 1 or len(schools) > 1:
        request += " có tên tại Phụ lục"
    if len(units) + len(schools) <= MAX_NAMED:
        lines = units + school_lines
    else:
        lines = []
        if units:
            lines.append(units[0] if len(units) == 1 else "Các đơn vị có tên tại Phụ lục kèm theo")
        if schools:
            lines.append(
                school_lines[0]
                if len(schools) == 1
                else "Hiệu trưởng các trường có tên tại Phụ lục kèm theo"
            )
    return Addressees(lines, request, bool(units))


def _count(n: int, what: str) -> str:
    return f"{n:,}".replace(",", ".") + f" {what}"


@dataclass(frozen=True)
class Text:
    """What the letter says, before layout."""

    rows: pl.DataFrame
    issuer: Issuer
    subject: str
    addressees: Addressees
    body: list[str]  # paragraphs
    requests: list[str]  # the bullets asked of the addressees
    closing: str


@dataclass
class Letter:
    text: Text
    document: object = field(repr=False)

    @property
    def rows(self) -> pl.DataFrame:
        """The appendix: the late export's missing and late rows."""
        return self.text.rows

    def save(self, path: str | Path) -> None:
        self.document.save(str(path))


def compose(
    con: duckdb.DuckDBPyConnection,
    snapshot: dict,
    scope: Scope,
    unit: str | None = None,
    level: str | None = None,
    period: str | None = None,
    target: str | None = None,
) -> Text:
    sid = snapshot["snapshot_id"]
    df = rows(con, sid, scope, unit, level, period, target)
    names = _unit_names(con, sid)
    code = _issuer_code(con, sid, scope, unit)
    issuer = issuer_of(code, names.get(code) if code else None)
    year = snapshot.get("school_year") or PLACEHOLDER
    pphrase = _period_phrase(df, period)
    subject = (
        f"V/v đôn đốc cập nhật, nộp dữ liệu {pphrase}năm học {year} "
        f"{_target_phrase(target, short=True)}"
    )
    params = {
        **scope.params(),
        "snapshot_id": sid,
        "unit": unit,
        "level": level,
        "period": period,
        "target": target,
    }
    refs = dicts(con, REFS_SQL.format(scope=scope_sql("st")), params)
    what = f"{pphrase}năm học {year} {_target_phrase(target)}"
    n_missing = df.filter(pl.col("status") == "missing").height
    n_late = df.filter(pl.col("status") == "late").height
    counts = []
    if n_missing:
        counts.append(_count(n_missing, "lượt chưa nộp"))
    if n_late:
        counts.append(_count(n_late, "lượt nộp trễ hạn"))
    as_of = snapshot.get("as_of")
    as_of_text = _d(as_of) if isinstance(as_of, dt.date) else PLACEHOLDER
    schools = df.get_column("school_code").n_unique()
    body = [
        s
        for s in (
            _deadline_sentence(refs, what),
            f"Theo số liệu trên CSDL ngành đến ngày {as_of_text}, còn "
            f"{_count(schools, 'trường')} chưa nộp hoặc nộp trễ hạn dữ liệu "
            f"({'; '.join(counts)}), danh sách chi tiết tại Phụ lục kèm theo.",
        )
        if s
    ]
    to = _addressees(df, issuer, names, _child_of_issuer(con, sid, issuer.code))
    body.append(
        "Để bảo đảm dữ liệu ngành “đúng, đủ, sạch, sống” và số liệu báo cáo đúng thời hạn, "
        f"{issuer.short} đề nghị {to.request}:"
    )
    by_date = f"{PLACEHOLDER}/{PLACEHOLDER}/{PLACEHOLDER}"
    requests = []
    if to.via_units:
        requests.append(
            "Đôn đốc các trường trực thuộc thực hiện các nội dung dưới đây; kiểm tra, tổng "
            f"hợp kết quả và báo cáo về {issuer.short} trước ngày {by_date};"
        )
    if n_missing:
        requests.append(
            "Khẩn trương cập nhật đầy đủ, chính xác dữ liệu trên phần mềm quản lý nhà trường "
            "(SMAS, VnEDU) và nộp các loại dữ liệu còn thiếu lên CSDL ngành; hoàn thành "
            f"trước ngày {by_date};"
        )
        requests.append(
            "Kiểm tra kết quả trong lịch sử tiếp nhận dữ liệu; loại dữ liệu nộp không thành "
            "công phải cập nhật lại trên phần mềm và nộp lại;"
        )
    if n_late:
        requests.append(
            "Đối với dữ liệu đã nộp trễ hạn: rà soát nguyên nhân, bảo đảm nộp đúng thời hạn "
            "ở các kỳ báo cáo tiếp theo;"
        )
    if requests:
        requests[-1] = requests[-1].rstrip(";") + "."
    closing = (
        f"Trong quá trình thực hiện, nếu có vướng mắc, đề nghị liên hệ {issuer.short} "
        "để được hỗ trợ kịp thời./."
    )
    return Text(df, issuer, subject, to, body, requests, closing)


# ---- layout ------------------------------------------------------------------------------


# Characters XML 1.0 cannot hold (python-docx refuses them: "All strings must be XML
# compatible"): C0 controls other than tab and line breaks, e.g. the vertical tab a cell
# pasted from Word carries. The loader keeps them as they were typed; the letter shows a
# space in their place (docs/outreach.md).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text) -> str:
    """`text` as a .docx run can hold it: see _NOT_XML."""
    return _NOT_XML.sub(" ", str(text))


def _font(run, size: float, bold: bool = False, italic: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _para(
    container,
    text: str = "",
    size: float = 14,
    *,
    bold: bool = False,
    italic: bool = False,
    align=WD_ALIGN_PARAGRAPH.CENTER,
    after: float = 0,
    before: float = 0,
    first_line: Cm | None = None,
    left: Cm | None = None,
    line: float = 1.0,
):
    p = container.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_after = Pt(after)
    fmt.space_before = Pt(before)
    fmt.line_spacing = line
    if first_line is not None:
        fmt.first_line_indent = first_line
    if left is not None:
        fmt.left_indent = left
    if text:
        _font(p.add_run(_xml(text)), size, bold, italic)
    return p


def _rule(cell, length_mm: float, cell_mm: float) -> None:
    """A centred horizontal line of `length_mm` (the decree's rule under the motto and the
    issuing body): an empty paragraph's bottom border, indented to that length."""
    side = max(0.0, (cell_mm - length_mm) / 2)
    p = _para(cell, "", 2)
    p.paragraph_format.left_indent = Mm(side)
    p.paragraph_format.right_indent = Mm(side)
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    borders.append(bottom)
    ppr.append(borders)
    mark = OxmlElement("w:rPr")  # the paragraph mark's size sets the empty line's height
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "4")
    mark.append(size)
    ppr.append(mark)


def _cell_text(cell, text: str, size: float, **kw):
    """A line in a table cell: the cell's own empty first paragraph, then new ones."""
    first = cell.paragraphs[0]
    if len(cell.paragraphs) > 1 or first.runs:
        return _para(cell, text, size, **kw)
    first.alignment = kw.get("align", WD_ALIGN_PARAGRAPH.CENTER)
    fmt = first.paragraph_format
    fmt.space_after = Pt(kw.get("after", 0))
    fmt.space_before = Pt(kw.get("before", 0))
    fmt.line_spacing = 1.0
    _font(first.add_run(_xml(text)), size, kw.get("bold", False), kw.get("italic", False))
    return first


def _widths(table, widths_mm: list[float]) -> None:
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_mm, strict=False):
        col.set(qn("w:w"), str(int(Mm(w).twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_mm, strict=False):
            cell.width = Mm(w)


def _no_cell_margins(table) -> None:
    tbl_pr = table._tbl.tblPr
    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), "0")
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tbl_pr.append(mar)


def _page_number_header(section) -> None:
    """Page numbers at the top centre, none on the first page (Decree 30)."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    _font(run, 14)
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _keep_row_together(row) -> None:
    """A row stays on one page (Nơi nhận and the signature; an appendix row)."""
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(el)


def _landscape_section(doc) -> None:
    """A new page in landscape for the appendix; its first page is numbered too."""
    from docx.enum.section import WD_SECTION

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(PAGE_MM[1]), Mm(PAGE_MM[0])
    section.different_first_page_header_footer = False


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _setup(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    section.header_distance = Mm(10)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(14)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "vi-VN")
    rpr.append(lang)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    _page_number_header(section)


APPENDIX_COLUMNS = [
    # (column, header, width mm)
    ("stt", "STT", 12),
    ("school_name", "Trường", 62),
    ("unit_name", "Đơn vị quản lý", 46),
    ("level", "Cấp học", 17),
    ("data_type", "Loại dữ liệu", 25),
    ("due_date", "Hạn nộp", 25),
    ("status", "Tình trạng", 23),
    ("days_late", "Số ngày trễ", 18),
]


def appendix_table(df: pl.DataFrame) -> tuple[list[str], list[list[str]]]:
    """The appendix's header and rows as text, in the late export's order. A period (or
    target) column is added when the rows span more than one."""
    cols = list(APPENDIX_COLUMNS)
    if df.get_column("period").n_unique() > 1:
        cols.insert(5, ("period", "Kỳ báo cáo", 24))
    if df.get_column("target").n_unique() > 1:
        cols.insert(-3, ("target", "Nộp lên", 18))
    shown = late_export.vietnamese(df).with_columns(
        pl.col("school_name").fill_null(pl.col("school_code")),
        pl.col("unit_name").fill_null(pl.col("unit_code")).fill_null(""),
        pl.col("due_date").dt.strftime("%d/%m/%Y").fill_null(""),
        pl.col("days_late").cast(pl.String).fill_null(""),
        pl.col("level").fill_null(""),
        pl.col("target").fill_null(""),
        pl.col("period").fill_null(""),
        pl.int_range(1, pl.len() + 1).cast(pl.String).alias("stt"),
    )
    names = [c for c, _, _ in cols]
    return [h for _, h, _ in cols], [list(r) for r in shown.select(names).iter_rows()]


def _fill_rows(table, headers: list[str], values: list[list[str]]) -> None:
    """The appendix's rows: the second row of `table` is laid out once (font, alignment)
    and copied for each row with its texts set, in the XML: python-docx's cell access
    walks the table, which took 30 s for 2,000 rows."""
    import copy

    left_cols = {"Trường", "Đơn vị quản lý"}
    template = table.rows[1]
    for j, cell in enumerate(template.cells):
        align = WD_ALIGN_PARAGRAPH.LEFT if headers[j] in left_cols else WD_ALIGN_PARAGRAPH.CENTER
        _cell_text(cell, "x", 12, align=align)
    _keep_row_together(template)  # a school's row is not split over two pages
    tr = template._tr
    tbl = table._tbl
    for row in values:
        new = copy.deepcopy(tr)
        for t, v in zip(new.iter(qn("w:t")), row, strict=True):
            t.text = _xml(v)
            t.set(qn("xml:space"), "preserve")
        tbl.append(new)
    tbl.remove(tr)


def _widths_for(headers: list[str]) -> list[float]:
    known = {h: w for _, h, w in APPENDIX_COLUMNS}
    known.update({"Kỳ báo cáo": 24, "Nộp lên": 18})
    widths = [known[h] for h in headers]
    scale = LANDSCAPE_TEXT_MM / sum(widths)
    return [w * scale for w in widths]


def build(
    con: duckdb.DuckDBPyConnection,
    snapshot: dict,
    scope: Scope,
    unit: str | None = None,
    level: str | None = None,
    period: str | None = None,
    target: str | None = None,
    today: dt.date | None = None,
) -> Letter:
    """The letter for a checked snapshot (a dict with snapshot_id, school_year, as_of)."""
    text = compose(con, snapshot, scope, unit, level, period, target)
    df, issuer, subject = text.rows, text.issuer, text.subject
    addressees = text.addressees.lines
    today = today or (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).date()
    doc = Document()
    _setup(doc)
    doc.core_properties.title = subject
    doc.core_properties.author = issuer.short
    doc.core_properties.language = "vi-VN"

    # issuing body and national motto, number and subject, place and date
    head = doc.add_table(rows=2, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_cell_margins(head)
    _widths(head, [HEAD_LEFT_MM, HEAD_RIGHT_MM])
    left, right = head.cell(0, 0), head.cell(0, 1)
    if issuer.parent_line:
        _cell_text(left, issuer.parent_line, 12)
    _cell_text(left, issuer.name_line, 12, bold=True)
    _rule(left, 22, HEAD_LEFT_MM)
    _cell_text(right, MOTTO, 12, bold=True)
    _cell_text(right, MOTTO_2, 13, bold=True)
    _rule(right, 58, HEAD_RIGHT_MM)
    left2, right2 = head.cell(1, 0), head.cell(1, 1)
    _cell_text(left2, f"Số:{BLANK}/{issuer.symbol}-{PLACEHOLDER}", 13, before=6)
    _cell_text(left2, subject, 12, before=3)
    _cell_text(right2, _vn_date_line(issuer.place, today), 13, italic=True, before=6)
    for cell in (left, right, left2, right2):
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP

    # Kính gửi
    if len(addressees) == 1:
        p = _para(doc, "", 14, before=18, after=6)
        _font(p.add_run("Kính gửi: "), 14)
        _font(p.add_run(_xml(addressees[0] + ".")), 14)
    else:
        _para(doc, "Kính gửi:", 14, before=18, after=0, left=Cm(3.0), align=WD_ALIGN_PARAGRAPH.LEFT)
        for i, a in enumerate(addressees):
            end = "." if i == len(addressees) - 1 else ";"
            _para(
                doc,
                f"- {a}{end}",
                14,
                left=Cm(5.0),
                align=WD_ALIGN_PARAGRAPH.LEFT,
                after=6 if end == "." else 0,
            )

    # body
    lines = [*text.body, *(f"- {r}" for r in text.requests), text.closing]
    for line in lines:
        _para(
            doc,
            line,
            14,
            align=WD_ALIGN_PARAGRAPH.JUSTIFY,
            after=6,
            first_line=Cm(1.27),
        )

    # Nơi nhận and the signature block
    sign = doc.add_table(rows=1, cols=2)
    _keep_row_together(sign.rows[0])
    _no_cell_margins(sign)
    _widths(sign, [80, TEXT_WIDTH_MM - 80])
    recv, signer = sign.cell(0, 0), sign.cell(0, 1)
    _cell_text(
        recv, "Nơi nhận:", 12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, before=6
    )
    for line in ("Như trên;", f"{issuer.leaders} (để b/c);", f"Lưu: VT, {PLACEHOLDER}."):
        _para(recv, f"- {line}", 11, align=WD_ALIGN_PARAGRAPH.LEFT)
    for i, line in enumerate(issuer.signer_lines):
        _cell_text(signer, line, 14, bold=True, before=6 if i == 0 else 0)
    for _ in range(4):
        _para(signer, "", 14)
    _para(signer, PLACEHOLDER * 6, 14, bold=True)

    # appendix: its own landscape section (a wide table), page numbers going on
    headers, body_rows = appendix_table(df)
    _landscape_section(doc)
    _para(doc, "Phụ lục", 14, bold=True)
    _para(doc, APPENDIX_TITLE, 14, bold=True)
    _para(
        doc,
        f"(Kèm theo Công văn số{BLANK}/{issuer.symbol}-{PLACEHOLDER} ngày{BLANK}"
        f"tháng{BLANK}năm {today.year} của {issuer.short})",
        14,
        italic=True,
    )
    as_of = snapshot.get("as_of")
    _para(
        doc,
        f"Số liệu trên CSDL ngành đến ngày {_d(as_of) if isinstance(as_of, dt.date) else PLACEHOLDER}",
        13,
        italic=True,
        after=6,
    )
    table = doc.add_table(rows=2, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, _widths_for(headers))
    _repeat_header(table.rows[0])
    for j, h in enumerate(headers):
        cell = table.cell(0, j)
        _cell_text(cell, h, 12, bold=True)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    _fill_rows(table, headers, body_rows)
    _para(
        doc,
        "Ghi chú: với trường chưa nộp, số ngày trễ tính đến ngày số liệu; "
        f"cấp học: {', '.join(f'{k} – {v}' for k, v in LEVEL_NAMES.items())}.",
        11,
        italic=True,
        align=WD_ALIGN_PARAGRAPH.LEFT,
        before=6,
    )
    return Letter(text=text, document=doc)
