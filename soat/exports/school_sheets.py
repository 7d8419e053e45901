"""Per-school error sheets: one `.xlsx` per school, ready to forward to it.

Each workbook holds the school's rows of the `findings` export (the same frame, scope and
filters as `soat export findings --unit … --level …`, so the same rows and masking), with a
column saying where in the school software each one is fixed, and a second sheet with the
school's late and missing submissions (rows of the `late` export). The title rows name
the school, its unit and the snapshot's date.

    sheets = build(con, snapshot_id, scope, unit="79760")
    paths = write(sheets, snapshot, "out/")        # a folder of .xlsx files
    write(sheets, snapshot, "phieu_loi.zip")       # or one zip of them

By default a school gets a workbook only when it has something to fix (a finding or a
late/missing submission); `all_schools=True` writes one for every school of the scope
(a clean school's says there is nothing to fix).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from soat.exports import findings as findings_export
from soat.exports import late as late_export
from soat.exports.xlsx import Sheet, title_text, write_workbook
from soat.scope import Scope, scope_sql
from soat.vocab import strip_diacritics

TITLE_FINDINGS = "Phiếu lỗi dữ liệu cần sửa"
TITLE_LATE = "Dữ liệu chưa nộp, nộp trễ hạn"
SHEET_FINDINGS = "Lỗi cần sửa"
SHEET_LATE = "Nộp dữ liệu"
LATE_STATUSES = ("missing", "late")

# Where a finding is fixed in the school software (SMAS, VnEDU), by the finding's entity.
WHERE_VI = {
    "student": "Hồ sơ học sinh",
    "staff": "Hồ sơ cán bộ",
    "class": "Hồ sơ lớp học",
    "school": "Thông tin trường",
    "report": "Báo cáo thống kê",
    "source": "Đồng bộ phần mềm QLNT với CSDL ngành",
    "submission": "Nộp dữ liệu lên CSDL ngành",
}
WHERE_HEADER = {"where": "Sửa ở đâu"}

SCHOOLS_SQL = """
SELECT s.school_code, any_value(s.school_name) AS school_name,
       any_value(s.unit_code) AS unit_code, any_value(u.unit_name) AS unit_name
FROM schools s
LEFT JOIN units u ON u.snapshot_id = s.snapshot_id AND u.unit_code = s.unit_code
WHERE s.snapshot_id = $snapshot_id
  AND {scope}
  AND ($unit IS NULL OR s.unit_code IN (
        SELECT uc.unit_code FROM unit_closure uc
        WHERE uc.snapshot_id = $snapshot_id AND uc.ancestor_code = $unit))
  AND ($level IS NULL OR list_contains(s.levels, $level))
  AND ($codes IS NULL OR list_contains($codes, s.school_code))
GROUP BY s.school_code
ORDER BY s.school_code
"""

SCHOOLS_SCHEMA = {
    "school_code": pl.String,
    "school_name": pl.String,
    "unit_code": pl.String,
    "unit_name": pl.String,
}


@dataclass(frozen=True)
class SchoolSheet:
    school_code: str
    school_name: str | None
    unit_code: str | None
    unit_name: str | None
    findings: pl.DataFrame  # the findings export's rows and columns (codes)
    late: pl.DataFrame  # the late export's missing and late rows (codes)
    # the same rows as the workbook shows them (Vietnamese labels, where to fix), made for
    # every school at once by build(); computed from the codes when absent
    shown_findings: pl.DataFrame | None = None
    shown_late: pl.DataFrame | None = None

    @property
    def file_name(self) -> str:
        return sheet_file_name(self.school_code, self.school_name)


def schools(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    scope: Scope,
    unit: str | None = None,
    level: str | None = None,
    codes: list[str] | None = None,
) -> pl.DataFrame:
    """The schools of the scope and filters (and of `codes`, when given), with their unit's
    name."""
    params = {
        **scope.params(),
        "snapshot_id": snapshot_id,
        "unit": unit,
        "level": level,
        "codes": codes,
    }
    sql = SCHOOLS_SQL.format(scope=scope_sql("s", level_col=None))
    rows = con.execute(sql, params).fetchall()
    return pl.DataFrame(rows, schema=SCHOOLS_SCHEMA, orient="row")


def build(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: int,
    scope: Scope,
    unit: str | None = None,
    level: str | None = None,
    all_schools: bool = False,
) -> list[SchoolSheet]:
    """One SchoolSheet per school with a finding or a late/missing submission in the
    scope and filters (every school of the scope with all_schools), by school code. A
    finding whose school code names no school of the snapshot (`*.school_unknown`) gets a
    sheet under that code."""
    found = findings_export.frame(con, snapshot_id, scope, unit=unit, level=level)
    late = late_export.frame(
        con, snapshot_id, scope, unit=unit, level=level, statuses=LATE_STATUSES
    )
    known = schools(con, snapshot_id, scope, unit=unit, level=level)
    codes = set(found.get_column("school_code").drop_nulls().to_list())
    codes |= set(late.get_column("school_code").drop_nulls().to_list())
    if all_schools:
        codes |= set(known.get_column("school_code").to_list())
    info = {r["school_code"]: r for r in known.iter_rows(named=True)}
    # a school outside the scope's levels with an in-scope finding (a primary-level class
    # in a school listed as kindergarten only): its name from the school list, so its sheet
    # does not say "Mã trường không có trong danh sách trường" of a school that is there
    # (the code comes from rows the scope may see)
    missing = sorted(codes - set(info))
    if missing:
        named = schools(con, snapshot_id, Scope.admin(), codes=missing)
        info.update((r["school_code"], r) for r in named.iter_rows(named=True))

    def per_school(df: pl.DataFrame) -> dict:
        return {k[0]: v for k, v in df.partition_by("school_code", as_dict=True).items()}

    shown_f = findings_export.vietnamese(with_where(found))
    shown_l = late_export.vietnamese(late)
    by_school_f, by_school_l = per_school(found), per_school(late)
    shown_by_f, shown_by_l = per_school(shown_f), per_school(shown_l)
    out = []
    for code in sorted(codes):
        f = by_school_f.get(code, found.clear())
        lt = by_school_l.get(code, late.clear())
        meta = info.get(code) or {}
        unit_code = meta.get("unit_code") or (f["unit_code"][0] if f.height else None)
        unit_name = meta.get("unit_name") or (lt["unit_name"][0] if lt.height else None)
        out.append(
            SchoolSheet(
                school_code=code,
                school_name=meta.get("school_name")
                or (lt["school_name"][0] if lt.height else None),
                unit_code=unit_code,
                unit_name=unit_name,
                findings=f,
                late=lt,
                shown_findings=shown_by_f.get(code, shown_f.clear()),
                shown_late=shown_by_l.get(code, shown_l.clear()),
            )
        )
    return out


def with_where(df: pl.DataFrame) -> pl.DataFrame:
    """The findings (codes) with a 'where' column: the school-software screen, the record
    and the field, e.g. 'Hồ sơ học sinh HS001 › Số định danh cá nhân'."""
    fields = {f: findings_export.field_label(f) for f in df.get_column("field").unique() if f}
    screen = pl.col("entity").replace_strict(WHERE_VI, default=pl.col("entity"))
    field = pl.col("field").replace_strict(fields, default=pl.col("field"))
    # a school-, report-, source- or submission-level finding's record is the school itself
    record = (
        pl.when(pl.col("record_key").is_null() | (pl.col("record_key") == pl.col("school_code")))
        .then(pl.lit(""))
        .otherwise(pl.lit(" ") + pl.col("record_key"))
    )
    where = pl.concat_str(
        [
            screen,
            record,
            pl.when(pl.col("field").is_not_null())
            .then(pl.lit(" › ") + field)
            .otherwise(pl.lit("")),
        ]
    )
    return df.with_columns(where.alias("where"))


def workbook_bytes(sheet: SchoolSheet, snapshot: dict) -> bytes:
    """The school's workbook: its findings (Vietnamese, with where to fix them) and its late
    and missing submissions, each under a title naming the school, unit and snapshot date."""
    school = f"{sheet.school_name or 'Mã trường không có trong danh sách trường'}"
    school += f" ({sheet.school_code})"
    unit_label = " ".join(v for v in (sheet.unit_code, sheet.unit_name) if v) or None
    findings = sheet.shown_findings
    if findings is None:
        findings = findings_export.vietnamese(with_where(sheet.findings))
    if sheet.findings.height == 0:
        note = "không có lỗi cần sửa"
    else:
        note = f"{sheet.findings.height} dòng"
    late = sheet.shown_late if sheet.shown_late is not None else late_export.vietnamese(sheet.late)
    late_note = "không có" if sheet.late.height == 0 else f"{sheet.late.height} dòng"
    buf = io.BytesIO()
    write_workbook(
        [
            Sheet(
                findings,
                title_text(f"{TITLE_FINDINGS}: {school} — {note}", snapshot, unit_label),
                {**findings_export.HEADERS_VI, **WHERE_HEADER},
                SHEET_FINDINGS,
            ),
            Sheet(
                late,
                title_text(f"{TITLE_LATE}: {school} — {late_note}", snapshot, unit_label),
                late_export.HEADERS_VI,
                SHEET_LATE,
            ),
        ],
        buf,
    )
    return buf.getvalue()


# names Windows keeps for devices, whatever the extension ("CON.xlsx" cannot be created)
_RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com[0-9]|lpt[0-9])")


def sheet_file_name(code: str, name: str | None) -> str:
    """'S1_Truong_Tieu_hoc_Le_Loi.xlsx': the code (its first 40 characters) and the name
    (its first 60) without diacritics, safe on every file system: letters, digits and
    '_' only, at most 106 characters, never a Windows device name."""

    def safe(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "_", strip_diacritics(text)).strip("_")

    stem = "_".join(p for p in (safe(code)[:40].strip("_") or "truong", safe(name or "")[:60]) if p)
    if _RESERVED.fullmatch(stem):
        stem = f"truong_{stem}"
    return f"{stem}.xlsx"


def _unique(name: str, seen: set[str], i: int) -> str:
    """`name`, or `<stem>_<i>.xlsx` (then `_<i>_2`, …) when a file of that name (in any
    case) is already written: two codes that differ only by unsafe characters ("S-", "S.")
    must not overwrite each other's workbook."""
    stem, k = Path(name).stem, 1
    while name.lower() in seen:
        name = f"{stem}_{i}.xlsx" if k == 1 else f"{stem}_{i}_{k}.xlsx"
        k += 1
    seen.add(name.lower())
    return name


def write(
    sheets: list[SchoolSheet],
    snapshot: dict,
    output: str | Path,
    progress: Callable[[int, int], None] | None = None,
    before_publish: Callable[[list[str]], None] | None = None,
) -> list[str]:
    """Write the workbooks into a folder (created if needed), or into one zip file when
    `output` ends with .zip. Returns the file names written. Whole or not at all
    (soat.exports.output): the files move into place once all are written, after
    `before_publish(names)` (the audit row)."""
    from soat.exports import output as out

    output = Path(output)
    names: list[str] = []
    seen: set[str] = set()
    as_zip = output.suffix.lower() == ".zip"
    place = out.file(output) if as_zip else out.folder(output)
    with place as tmp:
        target = zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) if as_zip else None
        try:
            for i, sheet in enumerate(sheets, start=1):
                name = _unique(sheet.file_name, seen, i)
                data = workbook_bytes(sheet, snapshot)
                if target is not None:
                    target.writestr(name, data)
                else:
                    (tmp / name).write_bytes(data)
                names.append(name)
                if progress:
                    progress(i, len(sheets))
        finally:
            if target is not None:
                target.close()
        if before_publish:
            before_publish(names)
    return names
