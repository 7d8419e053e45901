"""The deadline calendars of the official letters (shared/seeds), as rows of `deadlines`.

Each letter is kept as the rows it implies (day and month; the year follows the school
year: September–December in its first year, January–August in its second).
`seed_deadline_rows(school_year)` returns a coherent calendar for one school year built
from those letters (the sample province's calendar; the sample generator adds unit and
school extensions itself). docs/deadlines.md has the same rows as a table, with how each
was read from its letter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

ALL_LEVELS = None  # empty level = every level


@dataclass(frozen=True)
class SeedRow:
    period: str
    level: tuple[str, ...] | None
    data_type: str | None  # None = every data type
    target: str  # 'Sở' | 'Bộ'
    due: tuple[int, int]  # (day, month)
    lock: tuple[int, int] | None = None


@dataclass(frozen=True)
class Letter:
    key: str
    reference: str  # what the `reference` column cites
    school_year: str  # the year the letter was written for
    rows: tuple[SeedRow, ...]


R = SeedRow
MN_TH_THCS = ("MN", "TH", "THCS")
# Months of the school year with a monthly report (Vĩnh Long): September to May.
SCHOOL_MONTHS = (9, 10, 11, 12, 1, 2, 3, 4, 5)

LETTERS: dict[str, Letter] = {
    letter.key: letter
    for letter in (
        Letter(
            "thai_nguyen_2020",
            "CV 2197/SGDĐT-KTKĐCL ngày 20/10/2020 (Sở GD&ĐT Thái Nguyên)",
            "2020-2021",
            (
                # push from QLNT into the shared database and check it: 21/10
                R("dau_nam", ALL_LEVELS, None, "Sở", (21, 10), (26, 10)),
                # request the push to MOET 22/10, verify the push on MOET by 23/10
                R("dau_nam", ALL_LEVELS, None, "Bộ", (23, 10), (26, 10)),
                # reports filed 26/10, after which the system locks the data (lock date)
            ),
        ),
        Letter(
            "binh_phuoc_2021",
            "CV …/SGDĐT-GDTHMN tháng 9/2021 (Sở GD&ĐT Bình Phước), báo cáo tiểu học",
            "2021-2022",
            (
                # vnedu periodic reports into the sector database
                R("dau_nam", ("TH",), None, "Sở", (13, 9)),
                R("giua_nam", ("TH",), None, "Sở", (14, 1)),
                R("cuoi_nam", ("TH",), None, "Sở", (20, 5)),
                # EQMS to the ministry, at most 5 days later (the letter's own dates)
                R("dau_nam", ("TH",), None, "Bộ", (20, 9)),
                R("giua_nam", ("TH",), None, "Bộ", (21, 1)),
                R("cuoi_nam", ("TH",), None, "Bộ", (27, 5)),
            ),
        ),
        Letter(
            "vinh_long_2019",
            "KH 1648/SGDĐT-VP ngày 30/09/2019 (Sở GD&ĐT Vĩnh Long)",
            "2019-2020",
            (
                # entry window ends = due date, the lock day = lock date
                R("dau_nam", ALL_LEVELS, None, "Sở", (6, 9), (9, 9)),
                R("giua_nam", ALL_LEVELS, None, "Sở", (30, 12), (31, 12)),
                R("cuoi_nam", ALL_LEVELS, None, "Sở", (30, 5), (31, 5)),
                # sync to the ministry
                R("dau_nam", ALL_LEVELS, None, "Bộ", (10, 10)),
                R("giua_nam", ALL_LEVELS, None, "Bộ", (10, 1)),
                R("cuoi_nam", ALL_LEVELS, None, "Bộ", (31, 5)),
                # monthly report (absences, marks): entry on the 15th, lock on the 17th
                *(
                    R(f"thang_{m:02d}", ALL_LEVELS, "students", "Sở", (15, m), (17, m))
                    for m in SCHOOL_MONTHS
                ),
            ),
        ),
        Letter(
            "hai_phong_2023",
            "CV …/SGDĐT-GDĐT&ĐH năm 2023 (Sở GD&ĐT Hải Phòng), gia hạn dữ liệu giáo viên",
            "2022-2023",
            (
                R("cuoi_nam", MN_TH_THCS, "staff", "Sở", (8, 6)),
                R("cuoi_nam", ("THPT", "GDTX"), "staff", "Sở", (15, 6)),
            ),
        ),
        Letter(
            "cam_giang_2024",
            "CV 42/PGDĐT-CNTT ngày 29/08/2024 (Phòng GD&ĐT Cẩm Giàng, theo CV 1732/SGDĐT-KHTC)",
            "2024-2025",
            (R("dau_nam", MN_TH_THCS, None, "Sở", (15, 9)),),
        ),
    )
}

# The sample province's calendar: letters that do not contradict each other at the same
# tier (Thái Nguyên's province-wide start-of-year rows would clash with Vĩnh Long's).
DEFAULT_LETTERS = ("vinh_long_2019", "binh_phuoc_2021", "hai_phong_2023", "cam_giang_2024")

_YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")


def date_in_year(school_year: str, day: int, month: int) -> dt.date:
    """A day/month of a school year: September–December in its first year, else its second."""
    m = _YEAR_RE.match(school_year)
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise ValueError(f"school year must look like 2024-2025, got {school_year!r}")
    start = int(m.group(1))
    return dt.date(start if month >= 9 else start + 1, month, day)


def letter_rows(letter: Letter, school_year: str | None = None, monthly: bool = True) -> list[dict]:
    """The letter's rows as `deadlines` rows for a school year (default: the letter's own)."""
    year = school_year or letter.school_year
    out = []
    for r in letter.rows:
        if not monthly and r.period.startswith("thang_"):
            continue
        out.append(
            {
                "school_year": year,
                "period": r.period,
                "level": list(r.level) if r.level else None,
                "data_type": r.data_type,
                "target": r.target,
                "due_date": date_in_year(year, *r.due),
                "lock_date": date_in_year(year, *r.lock) if r.lock else None,
                "unit_code": None,
                "school_code": None,
                "reference": letter.reference,
            }
        )
    return out


def seed_deadline_rows(
    school_year: str, letters: Iterable[str] | None = None, monthly: bool = False
) -> list[dict]:
    """Deadline rows (canonical columns of `deadlines`) for `school_year`, from the letters
    (default DEFAULT_LETTERS), same day and month as each letter, citing it in `reference`.
    Monthly rows (Vĩnh Long's report on the 15th, lock on the 17th) only with monthly=True."""
    keys = DEFAULT_LETTERS if letters is None else tuple(letters)
    rows: list[dict] = []
    for key in keys:
        rows.extend(letter_rows(LETTERS[key], school_year, monthly=monthly))
    return rows
