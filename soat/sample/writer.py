"""Writing the province as an officer's export folder, with the real-world quirks:

- `.xlsx` files with a title row and a date line above the header (schools, staff,
  deadlines), dates as Excel date cells, some as serial numbers, citizen IDs that Excel
  turned into numbers (leading zero lost);
- Vietnamese headers for some tables, English canonical names for others;
- CSV with `;` (classes) or tab (rooms) separators, a UTF-8 BOM (students);
- dates dd/mm/yyyy and timestamps dd/mm/yyyy HH:MM:SS in CSV;
- an extra column kept (Ghi chú, Địa chỉ);
- Vietnamese file names (`hoc_sinh.csv`, `Danh sách trường.xlsx`, …), long level and
  grade names, Vietnamese period and data-type labels, ethnicity variants (Khơ-me).
Output is byte-for-byte the same for the same seed (fixed xlsx metadata).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import polars as pl

from loaders.contract import TABLES
from soat.exports import late as late_export
from soat.sample import people as P
from soat.vocab import LEVEL_NAMES

FIXED_TIME = dt.datetime(2025, 1, 1, 0, 0, 0)
LARGE = 200_000  # above this many students, student/staff/class files are always CSV
PERIOD_VI = {"dau_nam": "Đầu năm", "giua_nam": "Giữa năm", "cuoi_nam": "Cuối năm"}
DATA_TYPE_VI = {
    "staff": "Hồ sơ CBGV",
    "students": "Học sinh",
    "classes": "Lớp học",
    "rooms": "Phòng học",
    "budget": "Ngân sách",
}

# table -> (mixed-format file, vietnamese headers?, csv separator, bom)
LAYOUT = {
    "units": ("don_vi.csv", False, ",", False),
    "schools": ("Danh sách trường.xlsx", True, ",", False),
    "classes": ("lop.csv", True, ";", False),
    "students": ("hoc_sinh.csv", True, ",", True),
    "staff": ("cán bộ.xlsx", True, ",", False),
    "rooms": ("phong_hoc.csv", False, "\t", False),
    "budget": ("ngân sách.xlsx", False, ",", False),
    "reports": ("bao_cao.csv", False, ",", False),
    "source_counts": ("so_lieu_phan_mem.csv", True, ",", False),
    "submissions": ("lich_su_tiep_nhan.csv", True, ",", False),
    "deadlines": ("lịch báo cáo.xlsx", True, ",", False),
}
CSV_NAMES = {
    "schools": "truong.csv",
    "staff": "can_bo.csv",
    "budget": "ngan_sach.csv",
    "deadlines": "lich_bao_cao.csv",
}
EXTRA = {"students": "Ghi chú", "classes": "Ghi chú", "schools": "Địa chỉ"}


def header(table: str, col: str, vietnamese: bool) -> str:
    c = TABLES[table].column(col)
    return c.headers[0] if vietnamese and c.headers else c.name


def _ddmmyyyy(d) -> str:
    return "" if d is None else d.strftime("%d/%m/%Y")


def _stamp(t) -> str:
    return "" if t is None else t.strftime("%d/%m/%Y %H:%M:%S")


# ---- row builders: table -> (columns, list of rows or dict of arrays) -----------------


def _units(prov):
    return [[u["unit_code"], u["unit_name"], u["unit_tier"], u["parent_code"]] for u in prov.units]


def _schools(prov, rng):
    rows = []
    for s in prov.schools:
        if s.levels == ("TH",) and rng.random() < 0.5:
            levels = LEVEL_NAMES["TH"]  # long name
        elif len(s.levels) == 2 and rng.random() < 0.5:
            levels = f"{s.levels[0]}, {s.levels[1]}"
        else:
            levels = s.levels_text
        rows.append(
            [
                s.code,
                s.name,
                s.unit_code,
                levels,
                s.ownership,
                s.software,
                s.principal,
                s.national_standard,
                s.accreditation,
                s.internet,
                ",".join(s.previous_codes),
                s.status,
                f"{s.name.split(' ', 2)[-1]}, tỉnh Vĩnh Long",
            ]
        )
    return rows


SCHOOL_COLS = [
    "school_code",
    "school_name",
    "unit_code",
    "levels",
    "ownership",
    "software",
    "principal",
    "national_standard",
    "accreditation",
    "internet",
    "previous_codes",
    "status",
]
CLASS_COLS = [
    "class_code",
    "school_code",
    "school_year",
    "class_name",
    "grade",
    "homeroom_code",
    "language_programme",
    "language_periods",
    "declared_size",
]
STUDENT_COLS = [
    "student_code",
    "school_code",
    "class_code",
    "school_year",
    "full_name",
    "birth_date",
    "gender",
    "ethnicity",
    "citizen_id",
    "id_verified",
    "permanent_address",
    "status",
    "updated_at",
]
STAFF_COLS = [
    "staff_code",
    "school_code",
    "full_name",
    "birth_date",
    "gender",
    "ethnicity",
    "citizen_id",
    "id_verified",
    "permanent_address",
    "position",
    "contract",
    "qualification",
    "subject",
    "status",
]


def _frame(arrays: dict[str, np.ndarray], cols: list[str]) -> pl.DataFrame:
    data = {}
    for c in cols:
        a = arrays[c]
        vals = a.tolist() if a.dtype == object else [str(x) for x in a.tolist()]
        data[c] = pl.Series(c, ["" if v is None else str(v) for v in vals], dtype=pl.String)
    return pl.DataFrame(data)


def _classes_frame(prov, rng) -> pl.DataFrame:
    c = dict(prov.classes)
    grade = c["grade"].copy()
    long = P.isin(grade, ["NT", "MG3", "MG4", "MG5"]) & (rng.random(len(grade)) < 0.5)
    from soat.sample.generate import MN_GRADE_LONG

    grade[long] = [MN_GRADE_LONG[g] for g in grade[long]]
    c["grade"] = grade
    c["declared_size"] = c["declared_size"].astype(object)
    df = _frame(c, CLASS_COLS)
    return df.with_columns(pl.Series("note", c["note"].tolist(), dtype=pl.String))


def _students_frame(prov) -> pl.DataFrame:
    df = _frame(prov.students, STUDENT_COLS)
    return df.with_columns(pl.Series("note", prov.students["note"].tolist(), dtype=pl.String))


def _staff_frame(prov) -> pl.DataFrame:
    return _frame(prov.staff, STAFF_COLS)


def _simple(rows: list[dict], cols: list[str], fmt=None) -> pl.DataFrame:
    out = {c: [] for c in cols}
    for r in rows:
        for c in cols:
            v = r.get(c)
            if fmt and c in fmt:
                v = fmt[c](v)
            out[c].append("" if v is None else str(v))
    return pl.DataFrame({c: pl.Series(c, v, dtype=pl.String) for c, v in out.items()})


def _levels_text(v):
    return ", ".join(v) if v else ""


# ---- writers ------------------------------------------------------------------------


def _write_csv(df: pl.DataFrame, path: Path, table: str, vietnamese: bool, sep: str, bom: bool):
    names = {c: (EXTRA[table] if c == "note" else header(table, c, vietnamese)) for c in df.columns}
    df = df.rename(names)
    buf = io.StringIO()
    df.write_csv(
        buf,
        separator=sep,
        quote_style="necessary",
        line_terminator="\r\n" if table == "students" else "\n",
    )
    data = buf.getvalue().encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def _write_xlsx(
    path: Path,
    headers: list[str],
    rows: list[list],
    title: list[str] | None,
    kinds: dict[int, str] | None = None,
    sheet: str = "Sheet1",
) -> None:
    import xlsxwriter

    kinds = kinds or {}
    wb = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    wb.set_properties({"title": sheet, "author": "Soát", "created": FIXED_TIME})
    ws = wb.add_worksheet(sheet[:31])
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    r0 = 0
    for line in title or []:
        if line:
            ws.write_string(r0, 0, line, bold)
        r0 += 1
    for j, h in enumerate(headers):
        ws.write_string(r0, j, h, bold)
    for i, row in enumerate(rows, start=r0 + 1):
        for j, v in enumerate(row):
            if v is None or v == "":
                continue
            kind = kinds.get(j)
            if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
                ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), date_fmt)
            elif isinstance(v, dt.datetime):
                ws.write_datetime(i, j, v, date_fmt)
            elif isinstance(v, int | float) and not isinstance(v, bool):
                ws.write_number(i, j, v, date_fmt if kind == "serial" else None)
            else:
                ws.write_string(i, j, str(v))
    ws.set_column(0, len(headers) - 1, 18)
    wb.close()


def _parse_dmy(text: str) -> dt.date | None:
    try:
        d, m, y = (int(x) for x in text.split("/"))
        return dt.date(y, m, d)
    except (ValueError, AttributeError):
        return None


def _excel_serial(d: dt.date) -> int:
    return (d - dt.date(1899, 12, 30)).days


def _title(prov, what: str) -> list[str]:
    return [
        "SỞ GIÁO DỤC VÀ ĐÀO TẠO VĨNH LONG",
        f"{what} - NĂM HỌC {prov.school_year}",
        f"Ngày xuất dữ liệu: {prov.as_of.strftime('%d/%m/%Y')}",
        "",
    ]


def _df_to_xlsx(
    df: pl.DataFrame,
    path: Path,
    table: str,
    vietnamese: bool,
    title,
    date_cols=(),
    prov=None,
    rng=None,
) -> None:
    headers = [EXTRA[table] if c == "note" else header(table, c, vietnamese) for c in df.columns]
    rows = [list(r) for r in df.iter_rows()]
    idx = {c: i for i, c in enumerate(df.columns)}
    kinds: dict[int, str] = {}
    for c in date_cols:
        j = idx[c]
        for k, r in enumerate(rows):
            d = _parse_dmy(r[j])
            if d is None:
                continue  # unreadable dates stay text, as the school typed them
            if rng is not None and k % 10 == 3:
                r[j] = _excel_serial(d)  # a serial number, as a pasted value shows
                kinds[j] = "serial"
            else:
                r[j] = d
    if "citizen_id" in idx and rng is not None:
        j = idx["citizen_id"]
        for k, r in enumerate(rows):
            v = r[j]
            if k % 7 == 2 and isinstance(v, str) and len(v) == 12 and v.isdigit():
                r[j] = int(v)  # Excel turned it into a number: the leading zero is lost
    for c in ("declared_size", "language_periods", "count", "amount", "value", "record_count"):
        if c in idx:
            j = idx[c]
            for r in rows:
                if isinstance(r[j], str) and r[j].lstrip("-").isdigit():
                    r[j] = int(r[j])
    _write_xlsx(path, headers, rows, title, kinds)


def write_province(prov, out: Path, formats: str = "mixed") -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("*.csv")) + list(out.glob("*.xlsx")):
        old.unlink()
    rng = np.random.default_rng(prov.seed + 400)
    large = len(prov.students["student_code"]) > LARGE
    frames: dict[str, pl.DataFrame] = {}
    frames["units"] = pl.DataFrame(
        {
            c: pl.Series(c, [str(r[k] or "") for r in _units(prov)], dtype=pl.String)
            for k, c in enumerate(["unit_code", "unit_name", "unit_tier", "parent_code"])
        }
    )
    srows = _schools(prov, rng)
    frames["schools"] = pl.DataFrame(
        {
            c: pl.Series(c, [r[k] for r in srows], dtype=pl.String)
            for k, c in enumerate([*SCHOOL_COLS, "note"])
        }
    )
    frames["classes"] = _classes_frame(prov, rng)
    frames["students"] = _students_frame(prov)
    frames["staff"] = _staff_frame(prov)
    frames["rooms"] = _simple(prov.rooms, ["school_code", "school_year", "room_type", "count"])
    frames["budget"] = _simple(prov.budget, ["school_code", "school_year", "source", "amount"])
    frames["reports"] = _simple(
        prov.reports,
        ["school_code", "school_year", "period", "indicator", "value"],
        {"period": lambda p: PERIOD_VI.get(p, p)},
    )
    frames["source_counts"] = _simple(
        prov.source_counts,
        ["school_code", "school_year", "software", "data_type", "record_count"],
        {"data_type": lambda d: DATA_TYPE_VI.get(d, d)},
    )
    frames["submissions"] = _simple(
        prov.submissions,
        [
            "school_code",
            "school_year",
            "period",
            "data_type",
            "pushed_at",
            "result",
            "error",
            "target",
        ],
        {"pushed_at": _stamp, "data_type": lambda d: DATA_TYPE_VI.get(d, d)},
    )
    frames["deadlines"] = _simple(
        prov.deadlines,
        [
            "school_year",
            "period",
            "level",
            "data_type",
            "target",
            "due_date",
            "lock_date",
            "unit_code",
            "school_code",
            "reference",
        ],
        {
            "level": _levels_text,
            "due_date": _ddmmyyyy,
            "lock_date": _ddmmyyyy,
            "period": lambda p: PERIOD_VI.get(p, p),
        },
    )
    titles = {
        "schools": "DANH SÁCH TRƯỜNG",
        "staff": "DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN",
        "deadlines": "LỊCH BÁO CÁO, NỘP DỮ LIỆU",
    }
    dates = {
        "staff": ("birth_date",),
        "students": ("birth_date",),
        "deadlines": ("due_date", "lock_date"),
    }
    files: dict[str, str] = {}
    for table, df in frames.items():
        name, vi, sep, bom = LAYOUT[table]
        as_xlsx = name.endswith(".xlsx") if formats == "mixed" else formats == "xlsx"
        if large and table in ("students", "staff", "classes"):
            as_xlsx = False
        if as_xlsx:
            if not name.endswith(".xlsx"):
                name = name.rsplit(".", 1)[0] + ".xlsx"
            _df_to_xlsx(
                df,
                out / name,
                table,
                vi,
                _title(prov, titles[table]) if table in titles else None,
                dates.get(table, ()),
                prov,
                rng if table == "staff" else None,
            )
        else:
            if name.endswith(".xlsx"):
                name = CSV_NAMES[table]
            _write_csv(df, out / name, table, vi, sep if formats == "mixed" else ",", bom)
        files[table] = name
    return files


TRUTH_COLUMNS = ["check_id", "record_key", "field", "school_code", "defect"]
# the columns of `soat export late` (interface.md): one definition, in the export
LATE_COLUMNS = late_export.COLUMNS


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


CHANGE_COLUMNS = ["check_id", "school_code", "record_key", "field", "period", "change", "note"]


def write_truth(prov, folder: Path, suffix: str = "", late: bool = True) -> None:
    """ground_truth<suffix>.csv and, with `late`, expected_late<suffix>.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = sorted(
        {(r["check_id"], r["record_key"], r["field"]): r for r in prov.truth}.values(),
        key=lambda r: (r["check_id"], r["record_key"], r["field"]),
    )
    with open(folder / f"ground_truth{suffix}.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(TRUTH_COLUMNS)
        for r in rows:
            w.writerow([r[c] for c in TRUTH_COLUMNS])
    if late:
        write_late(prov, folder / f"expected_late{suffix}.csv")


def write_changes(prov, path: Path) -> None:
    """expected_changes.csv: one row per finding new or resolved in the second week."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CHANGE_COLUMNS)
        for r in prov.changes:
            w.writerow([r[c] for c in CHANGE_COLUMNS])


def write_late(prov, path: Path) -> None:
    late = sorted(
        prov.late,
        key=lambda r: (r["school_code"], r["level"], r["period"], r["data_type"], r["target"]),
    )
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(LATE_COLUMNS)
        for r in late:
            w.writerow([_cell(r[c]) for c in LATE_COLUMNS])
