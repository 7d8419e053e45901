"""`soat export letter`: the reminder letter (công văn đôn đốc) in Decree 30's layout, its
appendix exactly the late and missing rows of `soat export late`, and a rendering of its
first page when LibreOffice is installed."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import shutil
import subprocess

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from soat import audit, store
from soat.cli import main
from soat.exports import letter
from soat.exports.late import STATUS_VI, period_label
from soat.scope import Scope
from soat.testing import cli
from soat.vocab import DATA_TYPES
from tests.conftest import require

from .fixtures import AS_OF, REFERENCE


def late_rows(db, *args: str) -> list[dict]:
    """`soat export late …` (csv), its missing and late rows."""
    code, out, err = cli("export", "late", "--db", str(db), *args)
    assert code == 0, err
    return [r for r in csv.DictReader(io.StringIO(out)) if r["status"] in ("missing", "late")]


def appendix(doc) -> tuple[list[str], list[list[str]]]:
    table = doc.tables[-1]
    rows = [[c.text for c in r.cells] for r in table.rows]
    return rows[0], rows[1:]


def expected(rows: list[dict], with_period=False, with_target=False) -> list[list[str]]:
    out = []
    for i, r in enumerate(rows, start=1):
        due = dt.date.fromisoformat(r["due_date"])
        line = [
            str(i),
            r["school_name"],
            r["unit_name"],
            r["level"],
            DATA_TYPES[r["data_type"]][0],
        ]
        if with_period:
            line.append(period_label(r["period"]))
        if with_target:
            line.append(r["target"])
        line += [f"{due:%d/%m/%Y}", STATUS_VI[r["status"]], r["days_late"]]
        out.append(line)
    return out


def all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            for c in row.cells:
                parts.append(c.text)
    return "\n".join(parts)


def test_appendix_is_exactly_the_late_export_rows(duck, tmp_path):
    out = tmp_path / "cv.docx"
    code, msg, err = cli(
        "export",
        "letter",
        "--db",
        str(duck),
        "--unit",
        "79760",
        "--period",
        "dau_nam",
        "-o",
        str(out),
    )
    assert code == 0, err
    assert "2 trường, 4 dòng" in msg
    rows = late_rows(duck, "--unit", "79760", "--period", "dau_nam")
    assert len(rows) == 4 and {r["school_code"] for r in rows} == {"S1", "S3"}
    header, got = appendix(Document(str(out)))
    assert header == [
        "STT",
        "Trường",
        "Đơn vị quản lý",
        "Cấp học",
        "Loại dữ liệu",
        "Nộp lên",
        "Hạn nộp",
        "Tình trạng",
        "Số ngày trễ",
    ]
    assert got == expected(rows, with_target=True)


def test_province_letter_and_target(duck, tmp_path):
    out = tmp_path / "so.docx"
    assert cli("export", "letter", "--db", str(duck), "--target", "Bộ", "-o", str(out))[0] == 0
    rows = [r for r in late_rows(duck) if r["target"] == "Bộ"]
    doc = Document(str(out))
    header, got = appendix(doc)
    assert "Nộp lên" not in header and got == expected(rows)
    text = all_text(doc)
    assert "lên CSDL ngành của Bộ" in text
    # the Sở writes: to the district offices, and to its own school's principal
    assert "UBND THÀNH PHỐ HỒ CHÍ MINH" in text and "SỞ GIÁO DỤC VÀ ĐÀO TẠO" in text
    assert "Số:\u00a0\u00a0\u00a0\u00a0\u00a0/SGDĐT-……" in text
    for line in ("- Phòng GD&ĐT Quận 1;", "- Phòng GD&ĐT Quận 3;"):
        assert line in text
    assert "- Hiệu trưởng Trường THPT Trưng Vương." in text
    assert "Thành phố Hồ Chí Minh, ngày" in text and "GIÁM ĐỐC" in text


def test_the_decree_layout(duck, tmp_path):
    out = tmp_path / "cv.docx"
    cli(
        "export",
        "letter",
        "--db",
        str(duck),
        "--unit",
        "79760",
        "--period",
        "dau_nam",
        "-o",
        str(out),
    )
    doc = Document(str(out))
    first, appendix_section = doc.sections[0], doc.sections[-1]

    # A4; margins top/bottom 20, left 30, right 15 mm
    def mm(length) -> float:
        return round(length.mm, 1)

    assert (mm(first.page_width), mm(first.page_height)) == (210, 297)
    margins = [first.top_margin, first.bottom_margin, first.left_margin, first.right_margin]
    assert [mm(m) for m in margins] == [20, 20, 30, 15]
    assert appendix_section.orientation == WD_ORIENT.LANDSCAPE
    assert mm(appendix_section.left_margin) == 30
    assert (mm(appendix_section.page_width), mm(appendix_section.page_height)) == (297, 210)
    # Times New Roman everywhere, 14 pt for the body
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size == Pt(14)
    runs = [r for p in doc.paragraphs for r in p.runs]
    runs += [
        r
        for t in doc.tables
        for row in t.rows
        for c in row.cells
        for p in c.paragraphs
        for r in p.runs
    ]
    assert runs and {r.font.name for r in runs} == {"Times New Roman"}
    assert all(Pt(11) <= r.font.size <= Pt(14) for r in runs if r.text.strip())
    # issuing body | national motto; number and subject | place and date (italic)
    head = doc.tables[0]
    left, right = head.cell(0, 0), head.cell(0, 1)
    assert [p.text for p in left.paragraphs if p.text] == [
        "UBND QUẬN 1",
        "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
    ]
    assert left.paragraphs[1].runs[0].font.bold and not left.paragraphs[0].runs[0].font.bold
    assert [p.text for p in right.paragraphs if p.text] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert all(p.runs[0].font.bold for p in right.paragraphs if p.text)
    rules = [
        p
        for c in (left, right)
        for p in c.paragraphs
        if p._p.find(f".//{qn('w:pBdr')}") is not None
    ]
    assert len(rules) == 2  # the short rules under the issuer and under the motto
    number, subject = [p for p in head.cell(1, 0).paragraphs if p.text]
    assert number.text.startswith("Số:") and number.text.endswith("/PGDĐT-……")
    assert subject.text == (
        "V/v đôn đốc cập nhật, nộp dữ liệu kỳ đầu năm, năm học 2024-2025 lên CSDL ngành"
    )
    date_line = head.cell(1, 1).paragraphs[0]
    assert re.fullmatch(r"Quận 1, ngày\xa0+tháng \d\d? năm \d{4}", date_line.text)
    assert date_line.runs[0].font.italic
    # Kính gửi: the commune for its school, the principal of the office's own school
    text = [p.text for p in doc.paragraphs]
    i = text.index("Kính gửi:")
    assert text[i + 1 : i + 3] == [
        "- UBND Phường Bến Nghé;",
        "- Hiệu trưởng Trường Tiểu học Lê Lợi.",
    ]
    body = [p for p in doc.paragraphs if p.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY]
    assert body and all(
        p.paragraph_format.first_line_indent.mm == pytest.approx(12.7, abs=0.05) for p in body
    )
    joined = " ".join(p.text for p in body)
    assert f"Thực hiện {REFERENCE} (hạn nộp ngày 30/09/2024)" in joined
    assert f"đến ngày {AS_OF:%d/%m/%Y}, còn 2 trường" in joined
    assert "3 lượt chưa nộp; 1 lượt nộp trễ hạn" in joined
    assert body[-1].text.endswith("./.")
    # Nơi nhận and the signer
    sign = doc.tables[1]
    recv = [p.text for p in sign.cell(0, 0).paragraphs if p.text]
    assert recv[0] == "Nơi nhận:" and recv[1] == "- Như trên;" and recv[-1].startswith("- Lưu: VT")
    assert sign.cell(0, 0).paragraphs[0].runs[0].font.italic
    assert "TRƯỞNG PHÒNG" in [p.text for p in sign.cell(0, 1).paragraphs]
    assert sign.rows[0]._tr.trPr.find(qn("w:cantSplit")) is not None
    # page numbers from page 2; the appendix's header row repeats
    assert first.different_first_page_header_footer
    assert "PAGE" in first.header._element.xml
    assert doc.tables[-1].rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    titles = [p.text for p in doc.paragraphs]
    assert "Phụ lục" in titles and letter.APPENDIX_TITLE in titles


def test_scope_limits_the_letter(duck):
    con = store.connect(str(duck), read_only=True)
    try:
        snap = {"snapshot_id": 1, "school_year": "2024-2025", "as_of": AS_OF}
        officer = Scope(units=("79761",), user="quan3", role="unit_officer")
        doc = letter.build(con, snap, officer)
        assert set(doc.rows["school_code"]) == {"S4"}
        assert doc.text.issuer.name_line == "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"  # the officer's unit
        assert "Trưng Vương" not in all_text(doc.document)
        school = Scope(school="S1", unmasked=True, user="s1", role="school")
        assert set(letter.build(con, snap, school).rows["school_code"]) == {"S1"}
    finally:
        con.close()


def test_nothing_late_no_letter_and_audit(duck, tmp_path):
    code, _, err = cli(
        "export", "letter", "--db", str(duck), "--level", "MN", "-o", str(tmp_path / "x.docx")
    )
    assert code == 1 and "không có trường nào chưa nộp hoặc nộp trễ hạn" in err
    assert not (tmp_path / "x.docx").exists()
    assert cli("export", "letter", "--db", str(duck))[0] == 2  # no -o
    assert cli("export", "letter", "--db", str(duck), "--format", "xlsx", "-o", "x")[0] == 2
    out = tmp_path / "cv.docx"
    assert cli("export", "letter", "--db", str(duck), "--unit", "79760", "-o", str(out))[0] == 0
    ev = [e for e in audit.read(action="export") if e["detail"]["kind"] == "letter"]
    assert len(ev) == 1 and ev[0]["rows"] == 4
    assert ev[0]["detail"]["filters"] == {"snapshot": 1, "unit": "79760", "output": str(out)}
    assert ev[0]["detail"]["format"] == "docx"


@pytest.mark.parametrize(
    "name, lines",
    [
        (
            "Sở GD&ĐT Vĩnh Long",
            ("UBND TỈNH VĨNH LONG", "SỞ GIÁO DỤC VÀ ĐÀO TẠO", "SGDĐT", "Vĩnh Long", "GIÁM ĐỐC"),
        ),
        (
            "Sở Giáo dục và Đào tạo TP Hồ Chí Minh",
            (
                "UBND THÀNH PHỐ HỒ CHÍ MINH",
                "SỞ GIÁO DỤC VÀ ĐÀO TẠO",
                "SGDĐT",
                "Thành phố Hồ Chí Minh",
                "GIÁM ĐỐC",
            ),
        ),
        (
            "Phòng GD&ĐT huyện Cẩm Giàng",
            (
                "UBND HUYỆN CẨM GIÀNG",
                "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
                "PGDĐT",
                "Cẩm Giàng",
                "TRƯỞNG PHÒNG",
            ),
        ),
        (
            "UBND Phường Bến Nghé",
            ("", "ỦY BAN NHÂN DÂN PHƯỜNG BẾN NGHÉ", "UBND", "Bến Nghé", "CHỦ TỊCH"),
        ),
        ("Trung tâm GDTX tỉnh", ("", "TRUNG TÂM GDTX TỈNH", "……", "……", "THỦ TRƯỞNG ĐƠN VỊ")),
    ],
)
def test_issuer_lines_follow_the_unit_name(name, lines):
    i = letter.issuer_of("X", name)
    assert (i.parent_line, i.name_line, i.symbol, i.place, i.signer_lines[-1]) == lines


def test_first_page_renders(duck, tmp_path):
    """LibreOffice → PDF → PNG of page 1 (what was looked at); required in CI."""
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    require(
        bool(soffice and pdftoppm), "LibreOffice (soffice) and poppler (pdftoppm) not installed"
    )
    out = tmp_path / "cv.docx"
    cli(
        "export",
        "letter",
        "--db",
        str(duck),
        "--unit",
        "79760",
        "--period",
        "dau_nam",
        "-o",
        str(out),
    )
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "cv.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(ln for ln in info.splitlines() if ln.startswith("Pages:")).split()[1])
    assert pages == 2  # the letter on one page, the appendix on the next
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for words in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
        "Kính gửi",
        "Nơi nhận",
        "TRƯỞNG PHÒNG",
    ):
        assert words in first
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_target_accepts_the_name_without_diacritics(duck, tmp_path):
    out = tmp_path / "bo.docx"
    assert cli("export", "letter", "--db", str(duck), "--target", "bo", "-o", str(out))[0] == 0
    assert {r[-3] for r in appendix(Document(str(out)))[1]} == {"05/10/2024"}  # the Bộ's date
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc, contextlib.redirect_stderr(err):
        main(["export", "letter", "--db", str(duck), "--target", "xx", "-o", str(out)])
    assert exc.value.code == 2
    assert "tham số --target: 'xx' không hợp lệ: chọn Sở hoặc Bộ" in err.getvalue()


def test_control_characters_from_data_become_spaces(tmp_path, sqlite_db):
    """A name pasted from Word keeps its vertical tab (U+000B) in the snapshot; XML 1.0
    cannot hold it, and the letter (appendix, addressee, issuer) shows a space instead
    of failing the whole selection."""
    from soat import testing as T

    from .fixtures import tables

    t = tables()
    for s in t["schools"]:
        if s["school_code"] == "S1":
            s["school_name"] = "Trường Tiểu học\x0bLê Lợi"
    for u in t["units"]:
        if u["unit_code"] == "79760":
            u["unit_name"] = "Phòng GD&ĐT\x0cQuận 1"
    path = tmp_path / "ctl.duckdb"
    con = store.connect(str(path))
    T.run(con, t, as_of=AS_OF)
    con.close()
    out = tmp_path / "ctl.docx"
    code, _out, err = cli("export", "letter", "--db", str(path), "--unit", "79760", "-o", str(out))
    assert code == 0, err
    doc = Document(str(out))
    text = all_text(doc)
    assert "Trường Tiểu học Lê Lợi" in text
    assert "\x0b" not in text and "\x0c" not in text
    con = store.connect(str(path), read_only=True)
    kept = con.execute("SELECT school_name FROM schools WHERE school_code = 'S1'").fetchall()
    con.close()
    assert kept == [("Trường Tiểu học\x0bLê Lợi",)]  # the snapshot keeps what was typed
