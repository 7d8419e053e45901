"""The synthetic province: clean data first, then known defects, then the truth files.

Steps (all deterministic for a seed):
1. plan: units, schools (every level, merged and dissolved schools, special roles);
2. classes per grade and their sizes (numpy), students per class (vectorised), staff per
   school (vectorised), rooms, budget;
3. record-level defects (soat.sample.defects), each adding the findings it causes;
4. aggregates from the final records: declared class sizes, reports, software counts
   (equal to the records, then a few deliberate differences);
5. deadlines (soat.calendar_seeds + a unit and a school extension) and a push log that
   realises a planned status per school, period, data type and target;
6. truth: the explicit findings + outliers and submission statuses computed from what
   was written (soat.sample.truth), written by soat.sample.writer;
7. (weeks=2) the same province a week later (soat.sample.week2), written beside the
   first as `<out_dir>_week2`, with its truth and the changes between the two.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from soat.sample import names as N
from soat.sample import people as P

YEAR_DEFAULT = "2024-2025"

PROVINCE = ("86", "Sở Giáo dục và Đào tạo Vĩnh Long")
DISTRICTS = (
    ("86855", "Phòng GD&ĐT thành phố Vĩnh Long"),
    ("86857", "Phòng GD&ĐT huyện Long Hồ"),
    ("86858", "Phòng GD&ĐT huyện Mang Thít"),
    ("86859", "Phòng GD&ĐT huyện Vũng Liêm"),
)
COMMUNES = (  # wards/communes managing schools after the 1 July 2025 reform
    ("29239", "UBND phường Thanh Đức"),
    ("29254", "UBND phường Long Châu"),
    ("29302", "UBND xã Tân Hạnh"),
)
UNKNOWN_UNIT = "86999"
UNKNOWN_SCHOOL = "86999901"
COMMUNE_NAMES = [
    "Phường 1",
    "Phường 2",
    "Phường 4",
    "Phường 8",
    "Xã Tân Hạnh",
    "Xã Long Phước",
    "Xã Phước Hậu",
    "Xã Tân Hòa",
    "Xã Trường An",
    "Xã Hòa Phú",
    "Xã Chánh An",
    "Thị trấn Cái Nhum",
    "Thị trấn Vũng Liêm",
    "Xã Trung Thành",
    "Xã Quới An",
]

KINDS = (("MN",), ("TH",), ("THCS",), ("TH", "THCS"), ("THPT",), ("THCS", "THPT"), ("GDTX",))
KIND_SHARE = (0.25, 0.28, 0.19, 0.05, 0.13, 0.03, 0.07)
LEVEL_GRADES = {
    "MN": ("NT", "MG3", "MG4", "MG5"),
    "TH": ("1", "2", "3", "4", "5"),
    "THCS": ("6", "7", "8", "9"),
    "THPT": ("10", "11", "12"),
    "GDTX": ("10", "11", "12"),
}
CLASSES_PER_GRADE = {"MN": 1.2, "TH": 1.6, "THCS": 1.6, "THPT": 2.0, "GDTX": 1.0}
CLASS_SIZE = {"MN": 25, "TH": 33, "THCS": 38, "THPT": 40, "GDTX": 32}
TEACHERS_PER_CLASS = {"MN": 2.0, "TH": 1.5, "THCS": 1.9, "THPT": 2.2, "GDTX": 1.6}
MN_CLASS_NAME = {"NT": "Nhà trẻ", "MG3": "Mầm", "MG4": "Chồi", "MG5": "Lá"}
MN_GRADE_LONG = {
    "NT": "Nhà trẻ",
    "MG3": "Mẫu giáo 3-4 tuổi",
    "MG4": "Mẫu giáo 4-5 tuổi",
    "MG5": "Mẫu giáo 5-6 tuổi",
}
LEVEL_PREFIX = {
    ("MN",): "Trường Mầm non",
    ("TH",): "Trường Tiểu học",
    ("THCS",): "Trường THCS",
    ("TH", "THCS"): "Trường TH&THCS",
    ("THPT",): "Trường THPT",
    ("THCS", "THPT"): "Trường THCS&THPT",
    ("GDTX",): "Trung tâm GDNN-GDTX",
}


@dataclass
class School:
    idx: int
    code: str
    name: str
    unit_code: str
    levels: tuple[str, ...]
    status: str = "Hoạt động"
    previous_codes: list[str] = field(default_factory=list)
    software: str = "SMAS"
    ownership: str = "Công lập"
    principal: str = ""
    national_standard: str = "Mức 1"
    accreditation: str = "Cấp độ 2"
    internet: str = "Có"
    role: str | None = None
    size: float = 1.0

    @property
    def active(self) -> bool:
        return self.status == "Hoạt động"

    @property
    def levels_text(self) -> str:
        return "&".join(self.levels)


@dataclass
class Summary:
    out_dir: Path
    seed: int
    school_year: str
    as_of: dt.date
    schools: int
    students: int
    staff: int
    classes: int
    files: dict[str, str]
    truth_rows: int
    late_rows: int
    seconds: float
    checks: dict[str, int] = field(default_factory=dict)
    week2_dir: Path | None = None
    week2_as_of: dt.date | None = None
    changes: dict[str, int] = field(default_factory=dict)  # new / resolved findings


@dataclass
class Province:
    """Everything generated, in memory (tables as dict of numpy arrays or lists of dicts)."""

    seed: int
    school_year: str
    year_start: int
    as_of: dt.date
    units: list[dict]
    schools: list[School]
    classes: dict[str, np.ndarray]
    students: dict[str, np.ndarray]
    staff: dict[str, np.ndarray]
    rooms: list[dict] = field(default_factory=list)
    budget: list[dict] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)
    source_counts: list[dict] = field(default_factory=list)
    deadlines: list[dict] = field(default_factory=list)
    submissions: list[dict] = field(default_factory=list)
    truth: list[dict] = field(default_factory=list)
    late: list[dict] = field(default_factory=list)

    def school(self, code: str) -> School:
        index = self.__dict__.get("_index")
        if index is None or len(index) != len(self.schools):
            index = self.__dict__["_index"] = {s.code: s for s in self.schools}
        return index[code]

    def add_truth(
        self, check_id: str, record_key: str, field: str | None, school_code: str, defect: str
    ) -> None:
        self.truth.append(
            {
                "check_id": check_id,
                "record_key": record_key,
                "field": field or "",
                "school_code": school_code or "",
                "defect": defect,
            }
        )


# ---- plan ---------------------------------------------------------------------------


def _kind_counts(k: int) -> list[int]:
    raw = [s * k for s in KIND_SHARE]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: -(raw[i] - counts[i]))
    for i in order[: k - sum(counts)]:
        counts[i] += 1
    if k >= len(KINDS):
        for i in range(len(counts)):
            while counts[i] < 1:
                j = max(range(len(counts)), key=lambda j: counts[j])
                counts[j] -= 1
                counts[i] += 1
    return counts


def plan_schools(rng: np.random.Generator, n: int) -> tuple[list[dict], list[School]]:
    units = [
        {"unit_code": PROVINCE[0], "unit_name": PROVINCE[1], "unit_tier": "Sở", "parent_code": ""}
    ]
    units += [
        {"unit_code": c, "unit_name": nm, "unit_tier": "Phòng", "parent_code": PROVINCE[0]}
        for c, nm in DISTRICTS
    ]
    units += [
        {"unit_code": c, "unit_name": nm, "unit_tier": "Xã", "parent_code": PROVINCE[0]}
        for c, nm in COMMUNES
    ]
    local_units = [c for c, _ in DISTRICTS] * 3 + [c for c, _ in COMMUNES]

    special = n >= 24  # enough schools of each kind for the designed cases
    n_inactive = 3 if special else 0
    k = n - n_inactive
    counts = _kind_counts(k)
    kinds: list[tuple[str, ...]] = []
    for kind, c in zip(KINDS, counts, strict=True):
        kinds += [kind] * c
    schools: list[School] = []
    places = list(N.PLACES)
    rng.shuffle(places)
    used_names: set[str] = set()
    for i, kind in enumerate(kinds):
        code = f"86{i + 1:06d}"
        if kind in (("THPT",), ("THCS", "THPT"), ("GDTX",)):
            unit = PROVINCE[0]
        else:
            unit = local_units[int(rng.integers(0, len(local_units)))]
        if kind == ("THPT",):
            base = f"{LEVEL_PREFIX[kind]} {N.PEOPLE[i % len(N.PEOPLE)]}"
        elif kind == ("GDTX",):
            base = f"{LEVEL_PREFIX[kind]} {places[i % len(places)]}"
        else:
            base = f"{LEVEL_PREFIX[kind]} {places[i % len(places)]}"
        name, suffix = base, 0
        while name in used_names:
            suffix += 1
            name = f"{base} {'ABCDEFGH'[suffix - 1] if suffix <= 8 else suffix}"
        used_names.add(name)
        s = School(
            idx=i,
            code=code,
            name=name,
            unit_code=unit,
            levels=kind,
            software="SMAS" if rng.random() < 0.6 else "VnEDU",
            ownership="Công lập" if rng.random() < 0.93 else "Tư thục",
            national_standard=str(rng.choice(["Chưa đạt", "Mức 1", "Mức 1", "Mức 2"])),
            accreditation=str(rng.choice(["Chưa", "Cấp độ 1", "Cấp độ 2", "Cấp độ 2", "Cấp độ 3"])),
            internet="Có" if rng.random() < 0.97 else "Không",
            size=float(np.clip(np.exp(rng.normal(0, 0.3)), 0.6, 1.8)),
        )
        schools.append(s)

    if special:
        by_kind: dict[tuple[str, ...], list[School]] = {}
        for s in schools:
            by_kind.setdefault(s.levels, []).append(s)

        def take(kind, role):
            for s in by_kind[kind]:
                if s.role is None:
                    s.role = role
                    return s
            raise RuntimeError(f"no school of kind {kind} left for {role}")

        merged = take(("TH", "THCS"), "merged_new")
        take(("MN",), "no_students")
        take(("MN",), "no_staff")
        take(("TH",), "unit_unknown").unit_code = UNKNOWN_UNIT
        take(("TH",), "size_outlier")
        take(("THCS",), "ptr_outlier")
        take(("TH",), "grade_level")
        # the two schools merged into `merged` and one dissolved preschool
        place = merged.name.split("TH&THCS ", 1)[1]
        old = [
            School(
                idx=k,
                code=f"86{k + 1:06d}",
                name=f"Trường Tiểu học {place}",
                unit_code=merged.unit_code,
                levels=("TH",),
                status="Sáp nhập",
                software="VnEDU",
                role="merged_old",
            ),
            School(
                idx=k + 1,
                code=f"86{k + 2:06d}",
                name=f"Trường THCS {place}",
                unit_code=merged.unit_code,
                levels=("THCS",),
                status="Sáp nhập",
                software="VnEDU",
                role="merged_old",
            ),
            School(
                idx=k + 2,
                code=f"86{k + 3:06d}",
                name="Trường Mầm non Hoa Sen",
                unit_code=DISTRICTS[1][0],
                levels=("MN",),
                status="Giải thể",
                software="SMAS",
                role="dissolved",
            ),
        ]
        merged.previous_codes = [old[0].code, old[1].code]
        schools += old
    return units, schools


# ---- classes, students, staff -------------------------------------------------------


def _class_counts(rng, schools: list[School], scale: float) -> list[tuple[School, str, str, int]]:
    """(school, level, grade, number of classes) for every active school with pupils."""
    out = []
    for s in schools:
        if not s.active or s.role == "no_students":
            continue
        for lv in s.levels:
            for g in LEVEL_GRADES[lv]:
                base = CLASSES_PER_GRADE[lv] * s.size * scale
                n = max(1, int(round(base + rng.normal(0, 0.3))))
                if s.role == "no_staff":
                    n = 1 if g in ("MG4", "MG5") else 0
                if n:
                    out.append((s, lv, g, n))
        if s.role == "grade_level":  # a primary school with a grade-6 class
            out.append((s, "THCS", "6", 1))
    return out


def groups(codes: np.ndarray) -> dict[str, np.ndarray]:
    """Indices of each distinct code (one pass, no per-code scan of the whole array)."""
    if len(codes) == 0:
        return {}
    uniq, inv = np.unique(codes, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.cumsum(np.bincount(inv, minlength=len(uniq)))[:-1]
    return dict(zip(uniq.tolist(), np.split(order, bounds), strict=True))


def _stratified(rng, schools: list[School], lo: float, hi: float) -> dict[str, float]:
    """A value per school, evenly spaced from lo to hi within each group of schools with the
    same levels (in random order): peers spread without tails, so the modified Z-score of a
    clean school stays far below 3.5 whatever the draw."""
    groups: dict[tuple, list[str]] = {}
    for s in schools:
        groups.setdefault(s.levels, []).append(s.code)
    out = {}
    for codes in groups.values():
        vals = np.linspace(lo, hi, len(codes)) if len(codes) > 1 else np.array([(lo + hi) / 2])
        for c, v in zip(codes, rng.permutation(vals), strict=True):
            out[c] = float(v)
    return out


def primary_class_name(grade, j: int) -> str:
    """The j-th (0-based) class of a primary grade: 1A … 1Z, then 1A1 … (a big school)."""
    return f"{grade}{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[j % 26]}{'' if j < 26 else j // 26}"


def build_classes(rng, prov: Province, target_students: int | None) -> None:
    plan = _class_counts(np.random.default_rng(prov.seed + 1), prov.schools, 1.0)
    expected = sum(n * CLASS_SIZE[lv] for _, lv, _, n in plan)
    if target_students:
        scale = target_students / max(expected, 1)
        plan = _class_counts(np.random.default_rng(prov.seed + 1), prov.schools, scale)
    school_code, level, grade, seq = [], [], [], []
    for s, lv, g, n in plan:
        for j in range(n):
            school_code.append(s.code)
            level.append(lv)
            grade.append(g)
            seq.append(j)
    n = len(grade)
    offsets = _stratified(rng, prov.schools, -2.5, 2.5)
    mean = np.array(
        [CLASS_SIZE[lv] + offsets[sc] for sc, lv in zip(school_code, level, strict=True)]
    )
    for i, sc in enumerate(school_code):
        if prov.school(sc).role == "size_outlier" and level[i] == "TH":
            mean[i] = 14.0
    size = np.maximum(np.rint(mean + rng.integers(-2, 3, n)), 5).astype(np.int64)
    if target_students:
        diff = int(target_students - size.sum())
        ok = np.array([prov.school(sc).role is None for sc in school_code])
        idx = np.flatnonzero(ok) if ok.any() else np.arange(n)
        if diff:
            picks = rng.choice(idx, abs(diff), replace=abs(diff) > len(idx))
            np.add.at(size, picks, 1 if diff > 0 else -1)
            size = np.maximum(size, 1)
            # a last exact fix on the largest classes (only when clipping interfered)
            rest = int(target_students - size.sum())
            if rest:
                big = idx[np.argsort(-size[idx])][: abs(rest)]
                size[big] += 1 if rest > 0 else -1
    names = []
    for _sc, lv, g, j in zip(school_code, level, grade, seq, strict=True):
        if lv == "MN":
            names.append(f"{MN_CLASS_NAME[g]} {j + 1}")
        elif lv in ("TH",):
            names.append(primary_class_name(g, j))
        elif lv == "GDTX":
            names.append(f"{g}GDTX{j + 1}")
        else:
            names.append(f"{g}A{j + 1}")
    codes = [f"{sc}-{nm.replace(' ', '')}" for sc, nm in zip(school_code, names, strict=True)]
    prov.classes = {
        "class_code": P.obj(codes),
        "school_code": P.obj(school_code),
        "class_name": P.obj(names),
        "grade": P.obj(grade),
        "_level": P.obj(level),
        "_size": size,
    }


# nominal age offset for a grade (age = grade + 5 for grades 1-12)
def _base_age(grade: np.ndarray) -> np.ndarray:
    out = np.zeros(len(grade), dtype=np.int64)
    for g, a in (("NT", 1), ("MG3", 3), ("MG4", 4), ("MG5", 5)):
        out[grade == g] = a
    num = P.isin(grade, [str(i) for i in range(1, 13)])
    out[num] = grade[num].astype(np.int64) + 5
    return out


def build_students(rng, prov: Province) -> None:
    c = prov.classes
    ci = np.repeat(np.arange(len(c["grade"])), c["_size"])
    n = len(ci)
    grade = c["grade"][ci]
    level = c["_level"][ci]
    base = _base_age(grade)
    r = rng.random(n)
    delta = np.where(r < 0.86, 0, np.where(r < 0.97, 1, 2))
    delta = np.where(P.isin(grade, ["MG3", "MG4", "MG5"]), np.where(r < 0.97, 0, 1), delta)
    delta = np.where(grade == "NT", np.where(r < 0.5, 0, 1), delta)
    delta = np.where(level == "GDTX", np.where(r < 0.6, 0, np.where(r < 0.85, 1, 2)), delta)
    year = prov.year_start - (base + delta)
    male = rng.random(n) < 0.51
    bdate = P.birth_dates(rng, year)
    school = c["school_code"][ci]
    # student code: school code + running number within the school
    first = np.r_[0, np.flatnonzero(school[1:] != school[:-1]) + 1]
    run = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))
    eth = P.choose(rng, n, N.ETHNICITY_MIX)
    variant = rng.random(n)
    eth = np.where((eth == "Khmer") & (variant < 0.3), "Khơ-me", eth)  # accepted variant
    upd_day = rng.integers(5, 28, n)
    prov.students = {
        "student_code": P.concat(school, P.zfill(run + 1, 5)),
        "school_code": school,
        "class_code": c["class_code"][ci],
        "school_year": np.full(n, prov.school_year, dtype=object),
        "full_name": P.full_names(rng, male),
        "birth_date": P.ddmmyyyy(bdate),
        "gender": np.where(male, "Nam", "Nữ").astype(object),
        "ethnicity": eth.astype(object),
        "citizen_id": P.citizen_ids(rng, male, year, salt=1),
        "id_verified": np.full(n, "Đã xác thực", dtype=object),
        "permanent_address": P.addresses(rng, n, COMMUNE_NAMES),
        "status": np.full(n, "Đang học", dtype=object),
        "updated_at": P.concat(P.zfill(upd_day, 2), f"/09/{prov.year_start} 08:30"),
        "note": np.full(n, "", dtype=object),
        "_year": year.astype(np.int64),
        "_grade": grade,
    }


def build_staff(rng, prov: Province) -> None:
    c = prov.classes
    rows_school, rows_pos, rows_level = [], [], []
    spreads = _stratified(rng, prov.schools, 0.87, 1.13)  # staffing: evenly spread, no tails
    by_school = groups(c["school_code"])
    empty = np.zeros(0, dtype=np.int64)
    for s in prov.schools:
        if not s.active or s.role == "no_staff":
            continue
        mine = by_school.get(s.code, empty)
        n_classes = len(mine)
        rows_school.append(s.code)
        rows_pos.append("Hiệu trưởng")
        rows_level.append(s.levels[0])
        for _ in range(1 if n_classes < 15 else 2):
            rows_school.append(s.code)
            rows_pos.append("Phó hiệu trưởng")
            rows_level.append(s.levels[0])
        spread = spreads[s.code]
        if s.role != "no_students":
            for lv in dict.fromkeys(c["_level"][mine]):
                at = mine[c["_level"][mine] == lv]
                k = len(at)
                if k == 0:
                    continue
                pupils = int(c["_size"][at].sum())
                if s.role == "size_outlier" and lv == "TH":
                    teachers = round(pupils / (CLASS_SIZE["TH"] / TEACHERS_PER_CLASS["TH"]))
                elif s.role == "ptr_outlier":
                    teachers = max(1, round(k * 0.55))
                else:
                    teachers = round(pupils / (CLASS_SIZE[lv] / TEACHERS_PER_CLASS[lv]) * spread)
                teachers = max(teachers, 1)
                rows_school += [s.code] * teachers
                rows_pos += ["Giáo viên"] * teachers
                rows_level += [lv] * teachers
        for _ in range(2 + n_classes // 8):
            rows_school.append(s.code)
            rows_pos.append("Nhân viên")
            rows_level.append(s.levels[0])
    n = len(rows_school)
    school = P.obj(rows_school)
    pos = P.obj(rows_pos)
    level = P.obj(rows_level)
    male = rng.random(n) < np.where(level == "MN", 0.05, 0.35)
    age = np.where(male, rng.integers(24, 58, n), rng.integers(23, 53, n))
    age = np.where(P.isin(pos, ["Hiệu trưởng", "Phó hiệu trưởng"]), np.maximum(age, 38), age)
    year = prov.as_of.year - 1 - age
    bdate = P.birth_dates(rng, year)
    first = np.r_[0, np.flatnonzero(school[1:] != school[:-1]) + 1]
    run = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))
    contract = P.choose(
        rng,
        n,
        (
            ("Biên chế", 0.82),
            ("Hợp đồng lao động", 0.1),
            ("Hợp đồng dưới 1 năm", 0.05),
            ("Thỉnh giảng", 0.03),
        ),
    )
    contract = np.where(
        pos == "Giáo viên",
        contract,
        np.where(
            pos == "Nhân viên",
            np.where(contract == "Thỉnh giảng", "Hợp đồng lao động", contract),
            "Biên chế",
        ),
    ).astype(object)
    qual_t = P.choose(rng, n, (("Đại học", 0.84), ("Thạc sĩ", 0.14), ("Tiến sĩ", 0.02)))
    qual_mn = P.choose(rng, n, (("Cao đẳng", 0.3), ("Đại học", 0.7)))
    qual_nv = P.choose(rng, n, (("Trung cấp", 0.4), ("Cao đẳng", 0.3), ("Đại học", 0.3)))
    qual = np.where(pos == "Nhân viên", qual_nv, np.where(level == "MN", qual_mn, qual_t))
    subject = np.full(n, "", dtype=object)
    for lv, subjects in N.SUBJECTS.items():
        m = (pos == "Giáo viên") & (level == lv)
        subject[m] = P.obj(subjects)[rng.integers(0, len(subjects), int(m.sum()))]
    eth = P.choose(rng, n, N.ETHNICITY_MIX)
    prov.staff = {
        "staff_code": P.concat("CB", school, P.zfill(run + 1, 4)),
        "school_code": school,
        "full_name": P.full_names(rng, male),
        "birth_date": P.ddmmyyyy(bdate),
        "gender": np.where(male, "Nam", "Nữ").astype(object),
        "ethnicity": eth.astype(object),
        "citizen_id": P.citizen_ids(rng, male, year, salt=2),
        "id_verified": np.full(n, "Đã xác thực", dtype=object),
        "permanent_address": P.addresses(rng, n, COMMUNE_NAMES),
        "position": pos,
        "contract": contract,
        "qualification": qual.astype(object),
        "subject": subject,
        "status": np.full(n, "Đang làm việc", dtype=object),
        "_year": year.astype(np.int64),
        "_level": level,
    }
    # the principal of the school profile is the Hiệu trưởng's name
    for i in np.flatnonzero(pos == "Hiệu trưởng"):
        prov.school(school[i]).principal = prov.staff["full_name"][i]
    for s in prov.schools:
        if not s.principal:
            s.principal = P.full_names(rng, np.array([rng.random() < 0.5]))[0]


def assign_homerooms(rng, prov: Province) -> None:
    c, t = prov.classes, prov.staff
    n = len(c["grade"])
    home = np.empty(n, dtype=object)
    teach = t["position"] == "Giáo viên"
    staff_by_school = groups(t["school_code"])
    empty = np.zeros(0, dtype=np.int64)
    for sc, idx in groups(c["school_code"]).items():
        mine = staff_by_school.get(sc, empty)
        cand_all = mine[teach[mine]]
        if prov.school(sc).role == "no_staff":
            home[idx] = [f"CB{sc}{k + 1:04d}" for k in range(len(idx))]  # staff never entered
            continue
        for lv in np.unique(c["_level"][idx]):
            sub = idx[c["_level"][idx] == lv]
            cand = cand_all[t["_level"][cand_all] == lv]
            if len(cand) == 0:
                cand = cand_all
            order = cand[np.arange(len(sub)) % len(cand)]
            home[sub] = t["staff_code"][order]
    c["homeroom_code"] = home
    grade = c["grade"]
    num = np.where(P.isin(grade, [str(i) for i in range(1, 13)]), grade, "0").astype(np.int64)
    prog = np.full(n, "", dtype=object)
    periods = np.full(n, "", dtype=object)
    prog[num >= 3] = "Tiếng Anh 10 năm"
    periods[(num >= 3) & (num <= 5)] = "4"
    periods[num >= 6] = "3"
    prog[c["_level"] == "GDTX"] = "Tiếng Anh 7 năm"
    early = (num >= 1) & (num <= 2) & (rng.random(n) < 0.5)  # optional English in grades 1-2
    prog[early] = "Tiếng Anh tự chọn"
    periods[early] = "2"
    c["language_programme"] = prog
    c["language_periods"] = periods
    c["school_year"] = np.full(n, prov.school_year, dtype=object)
    c["note"] = np.full(n, "", dtype=object)


def build_rooms_budget(rng, prov: Province) -> None:
    c = prov.classes
    by_school = groups(c["school_code"])
    empty = np.zeros(0, dtype=np.int64)
    for s in prov.schools:
        if not s.active:
            continue
        mine = by_school.get(s.code, empty)
        k = len(mine)
        secondary = any(lv in ("THCS", "THPT", "GDTX") for lv in s.levels)
        counts = {
            "Phòng học": max(k + int(rng.integers(0, 3)), 2),
            "Phòng bộ môn": int(rng.integers(4, 9)) if secondary else int(rng.integers(0, 3)),
            "Phòng hỗ trợ học tập": int(rng.integers(1, 4)),
            "Phòng khác": int(rng.integers(2, 5)),
        }
        for rt, cnt in counts.items():
            prov.rooms.append(
                {
                    "school_code": s.code,
                    "school_year": prov.school_year,
                    "room_type": rt,
                    "count": cnt,
                }
            )
        pupils = int(c["_size"][mine].sum())
        prov.budget.append(
            {
                "school_code": s.code,
                "school_year": prov.school_year,
                "source": "Ngân sách nhà nước - chi thường xuyên",
                "amount": int(round(max(pupils, 50) * rng.uniform(9, 12))) * 1_000_000,
            }
        )
        prov.budget.append(
            {
                "school_code": s.code,
                "school_year": prov.school_year,
                "source": "Ngân sách nhà nước - chi không thường xuyên",
                "amount": int(rng.integers(2, 30)) * 50_000_000,
            }
        )
        if s.ownership != "Công lập" or rng.random() < 0.5:
            prov.budget.append(
                {
                    "school_code": s.code,
                    "school_year": prov.school_year,
                    "source": "Học phí",
                    "amount": int(round(pupils * rng.uniform(0.5, 1.5))) * 1_000_000,
                }
            )


# ---- the whole province ---------------------------------------------------------------


def build(
    seed: int = 1, schools: int = 40, students: int | None = None, school_year: str = YEAR_DEFAULT
) -> Province:
    from soat.sample import defects, submissions, truth

    year_start = int(school_year[:4])
    rng = np.random.default_rng(seed)
    units, plan = plan_schools(rng, schools)
    prov = Province(
        seed=seed,
        school_year=school_year,
        year_start=year_start,
        as_of=dt.date(year_start + 1, 6, 12),
        units=units,
        schools=plan,
        classes={},
        students={},
        staff={},
    )
    core = None
    if students is not None:
        core = max(students - defects.extra_student_rows(prov), 1)
    build_classes(rng, prov, core)
    build_students(rng, prov)
    build_staff(rng, prov)
    assign_homerooms(rng, prov)
    build_rooms_budget(rng, prov)
    defects.inject(np.random.default_rng(seed + 100), prov)
    defects.aggregates(np.random.default_rng(seed + 200), prov)
    submissions.build(np.random.default_rng(seed + 300), prov)
    truth.computed(prov)
    return prov


def generate(
    out_dir="data/sample/province",
    schools: int = 40,
    seed: int = 1,
    students: int | None = None,
    school_year: str = YEAR_DEFAULT,
    formats: str = "mixed",
    weeks: int = 2,
) -> Summary:
    """Write a synthetic province export to `out_dir` and its truth files next to it
    (`ground_truth.csv`, `expected_late.csv` in out_dir's parent). With weeks=2 (the
    default) also the province a week later in `<out_dir>_week2`, with
    `ground_truth_week2.csv` and `expected_changes.csv` next to them."""
    from soat.sample import week2, writer

    if weeks not in (1, 2):
        raise ValueError("weeks must be 1 or 2")

    if schools < 1:
        raise ValueError("schools must be at least 1")
    if students is not None and students < 1:
        raise ValueError("students must be at least 1")
    if formats not in ("mixed", "csv", "xlsx"):
        raise ValueError("format must be mixed, csv or xlsx")
    t0 = time.perf_counter()
    prov = build(seed=seed, schools=schools, students=students, school_year=school_year)
    out = Path(out_dir)
    files = writer.write_province(prov, out, formats)
    writer.write_truth(prov, out.parent)
    checks: dict[str, int] = {}
    for r in prov.truth:
        checks[r["check_id"]] = checks.get(r["check_id"], 0) + 1
    second = None
    if weeks == 2:
        second = week2.build(prov)
        writer.write_province(second, week2_dir(out), formats)
        writer.write_truth(second, out.parent, suffix="_week2", late=False)
        writer.write_changes(second, out.parent / "expected_changes.csv")
    return Summary(
        out_dir=out,
        seed=seed,
        school_year=school_year,
        as_of=prov.as_of,
        schools=len(prov.schools),
        students=len(prov.students["student_code"]),
        staff=len(prov.staff["staff_code"]) if prov.staff else 0,
        classes=len(prov.classes["class_code"]),
        files=files,
        truth_rows=len(prov.truth),
        late_rows=len(prov.late),
        seconds=time.perf_counter() - t0,
        checks=checks,
        week2_dir=week2_dir(out) if second else None,
        week2_as_of=second.as_of if second else None,
        changes=(
            {c: sum(1 for r in second.changes if r["change"] == c) for c in ("new", "resolved")}
            if second
            else {}
        ),
    )


def week2_dir(out_dir) -> Path:
    """Where the province a week later is written: beside `out_dir`, named `<name>_week2`."""
    out = Path(out_dir)
    return out.parent / f"{out.name}_week2"
