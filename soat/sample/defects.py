"""Known defects: each one changes a few records and adds to the truth every finding it
causes (by the words of shared/spec/checks.md). Then the aggregates that must agree with
the records (declared class sizes, filed reports, the software's counts) are computed
from the final records, and a few are made to disagree on purpose.

Defects are injected only in a province of 24 schools or more (smaller ones are clean).
"""

from __future__ import annotations

import numpy as np

from soat.sample import people as P
from soat.sample.generate import groups

# students appended by `inject` (copies, collisions, unknown school, inactive ones)
EXTRA_STUDENTS = 9


def extra_student_rows(prov) -> int:
    return EXTRA_STUDENTS if _special(prov) else 0


def _special(prov) -> bool:
    return any(s.role for s in prov.schools)


class _Ids:
    """Citizen IDs for altered people, with serials 9xxxxx (clean ones are < 900000)."""

    def __init__(self):
        self.serial = 900_000

    def make(self, male: bool, year: int, ppp: str = "086") -> str:
        self.serial += 1
        return f"{ppp}{P.gender_digit(male, year)}{year % 100:02d}{self.serial:06d}"


def _append(table: dict[str, np.ndarray], rows: list[dict]) -> None:
    if not rows:
        return
    for col, arr in table.items():
        extra = [r.get(col, "" if arr.dtype == object else 0) for r in rows]
        if arr.dtype == object:
            table[col] = np.concatenate([arr, P.obj(extra)])
        else:
            table[col] = np.concatenate([arr, np.array(extra, dtype=arr.dtype)])


def _row(table: dict[str, np.ndarray], i: int) -> dict:
    return {k: v[i] for k, v in table.items()}


def _dmy(day: int, month: int, year: int) -> str:
    return f"{day:02d}/{month:02d}/{year}"


def inject(rng: np.random.Generator, prov) -> None:
    if not _special(prov):
        return
    ids = _Ids()
    normal = {s.code for s in prov.schools if s.active and s.role is None}
    st, sf, cl = prov.students, prov.staff, prov.classes
    T = prov.add_truth
    ys = prov.year_start

    # ---- students -----------------------------------------------------------------
    used: set[int] = set()
    pool = rng.permutation(len(st["student_code"]))
    in_normal = P.isin(st["school_code"], list(normal))

    def pick(grade=None, not_school=None, school=None) -> int:
        for i in pool:
            i = int(i)
            if i in used or not in_normal[i]:
                continue
            if grade is not None and st["_grade"][i] not in grade:
                continue
            if not_school is not None and st["school_code"][i] == not_school:
                continue
            if school is not None and st["school_code"][i] != school:
                continue
            used.add(i)
            return i
        raise RuntimeError(f"no student for grade {grade}")

    def skey(i):
        return st["student_code"][i], st["school_code"][i]

    def male(i, table=st):
        return table["gender"][i] == "Nam"

    def rebirth(i, year, table=st, day=None):
        d = day or (int(rng.integers(1, 28)), int(rng.integers(1, 13)))
        table["birth_date"][i] = _dmy(d[0], d[1], year)
        table["_year"][i] = year
        table["citizen_id"][i] = ids.make(male(i, table), year)

    i = pick()
    st["full_name"][i] = ""
    st["permanent_address"][i] = ""
    k, sc = skey(i)
    T("student.missing_field", k, "full_name", sc, "họ tên để trống")
    T("student.missing_field", k, "permanent_address", sc, "địa chỉ thường trú để trống")

    i = pick()
    st["ethnicity"][i] = ""
    T("student.missing_field", *skey(i)[:1], "ethnicity", skey(i)[1], "dân tộc để trống")

    i = pick()
    st["citizen_id"][i] = ""
    st["id_verified"][i] = "Chưa xác thực"
    k, sc = skey(i)
    T("student.missing_field", k, "citizen_id", sc, "chưa có số định danh, chưa xác thực")
    T("student.unverified", k, "id_verified", sc, "chưa có số định danh, chưa xác thực")

    i = pick()
    st["ethnicity"][i] = "Việt"
    T("student.invalid_value", *skey(i)[:1], "ethnicity", skey(i)[1], "dân tộc 'Việt' (cần 'Kinh')")

    i = pick()
    st["id_verified"][i] = "Đã xác minh"
    k, sc = skey(i)
    T("student.invalid_value", k, "id_verified", sc, "xác thực 'Đã xác minh' ngoài danh mục")
    T("student.unverified", k, "id_verified", sc, "xác thực 'Đã xác minh' ngoài danh mục")

    i = pick(grade={"3"})
    st["birth_date"][i] = _dmy(31, 2, ys - 8)
    st["_year"][i] = -1
    T(
        "student.dob_invalid",
        *skey(i)[:1],
        "birth_date",
        skey(i)[1],
        "ngày sinh 31/02 không có thật",
    )

    i = pick(grade={"1", "2"})
    rebirth(i, prov.as_of.year + 1, day=(15, 3))
    st["_year"][i] = -1
    k, sc = skey(i)
    T("student.dob_invalid", k, "birth_date", sc, "ngày sinh trong tương lai (tuổi âm)")
    T(
        "student.age_grade",
        k,
        "birth_date",
        sc,
        "ngày sinh trong tương lai: tuổi âm, ngoài khoảng của khối",
    )

    i = pick(grade={"11", "12"})
    rebirth(i, ys - 34)
    st["_year"][i] = -1
    k, sc = skey(i)
    T("student.dob_invalid", k, "birth_date", sc, "34 tuổi (quá 30)")
    T("student.age_grade", k, "birth_date", sc, "34 tuổi, ngoài khoảng của khối")

    i = pick()
    st["citizen_id"][i] = st["citizen_id"][i][:11]
    T("student.id_format", *skey(i)[:1], "citizen_id", skey(i)[1], "số định danh 11 chữ số")

    i = pick()
    cid = st["citizen_id"][i]
    st["citizen_id"][i] = cid[:8] + "A" + cid[9:]
    T("student.id_format", *skey(i)[:1], "citizen_id", skey(i)[1], "số định danh có chữ cái")

    i = pick()
    st["citizen_id"][i] = "003" + st["citizen_id"][i][3:]
    T("student.id_province", *skey(i)[:1], "citizen_id", skey(i)[1], "mã tỉnh 003 không tồn tại")

    i = pick()
    cid = st["citizen_id"][i]
    st["citizen_id"][i] = cid[:3] + str(int(cid[3]) ^ 1) + cid[4:]
    T("student.id_mismatch", *skey(i)[:1], "citizen_id", skey(i)[1], "chữ số giới tính sai")

    i = pick()
    cid = st["citizen_id"][i]
    st["citizen_id"][i] = cid[:4] + f"{(int(cid[4:6]) + 1) % 100:02d}" + cid[6:]
    T("student.id_mismatch", *skey(i)[:1], "citizen_id", skey(i)[1], "hai chữ số năm sinh sai")

    for v in ("Chưa xác thực", "Chưa xác thực", "Sai thông tin"):
        i = pick()
        st["id_verified"][i] = v
        T("student.unverified", *skey(i)[:1], "id_verified", skey(i)[1], f"xác thực: {v}")

    i = pick(grade={"3"})
    rebirth(i, ys - 12)
    T("student.age_grade", *skey(i)[:1], "birth_date", skey(i)[1], "12 tuổi học khối 3 (8-11)")

    i = pick(grade={"MG5"})
    rebirth(i, ys - 4)
    T("student.age_grade", *skey(i)[:1], "birth_date", skey(i)[1], "4 tuổi học lớp Lá MG5 (5-6)")

    i = pick(grade={"5"})
    rebirth(i, ys - 13)  # edge: grade 5 at 13 (= 5 + 8) is allowed

    i = pick()
    sc = st["school_code"][i]
    st["class_code"][i] = f"{sc}-9Z"
    T(
        "student.class_unknown",
        st["student_code"][i],
        "class_code",
        sc,
        "mã lớp 9Z không có ở trường",
    )

    i = pick()
    sc = st["school_code"][i]
    other = next(
        c
        for c, s in zip(cl["class_code"], cl["school_code"], strict=True)
        if s != sc and s in normal
    )
    st["class_code"][i] = other
    T("student.class_unknown", st["student_code"][i], "class_code", sc, "mã lớp của trường khác")

    def class_in(school: str, grade: str) -> str | None:
        m = (cl["school_code"] == school) & (cl["grade"] == grade)
        return cl["class_code"][np.flatnonzero(m)[0]] if m.any() else None

    def other_school_with(grade: str, not_school: str) -> str:
        for s in sorted(normal):
            if s != not_school and class_in(s, grade):
                return s
        raise RuntimeError(grade)

    seq = {"n": 0}

    def new_code(school: str) -> str:
        seq["n"] += 1
        return f"{school}9{seq['n']:04d}"

    extra: list[dict] = []
    # the same child enrolled in two schools: both active records share the ID
    i = pick(grade={"4"})
    dst = other_school_with("4", st["school_code"][i])
    r = _row(st, i)
    r.update(student_code=new_code(dst), school_code=dst, class_code=class_in(dst, "4"))
    extra.append(r)
    for k, sc in ((st["student_code"][i], st["school_code"][i]), (r["student_code"], dst)):
        T("student.duplicate_id", k, "citizen_id", sc, "cùng số định danh ở hai trường (đang học)")
    # a transfer: the old record is 'Chuyển đi', the ID is shared with an inactive record only
    i = pick(grade={"7"})
    dst = other_school_with("7", st["school_code"][i])
    r = _row(st, i)
    r.update(
        student_code=new_code(dst),
        school_code=dst,
        class_code=class_in(dst, "7"),
        status="Chuyển đi",
        note="Chuyển đến trường khác",
    )
    extra.append(r)
    # two different children with the same student code (in two schools)
    i = pick(grade={"2"})
    dst = other_school_with("2", st["school_code"][i])
    m = bool(rng.random() < 0.5)
    yr = ys - 7
    extra.append(
        {
            **_row(st, i),
            "student_code": st["student_code"][i],
            "school_code": dst,
            "class_code": class_in(dst, "2"),
            "full_name": P.full_names(rng, np.array([m]))[0],
            "birth_date": _dmy(12, 5, yr),
            "_year": yr,
            "gender": "Nam" if m else "Nữ",
            "citizen_id": ids.make(m, yr),
            "ethnicity": "Kinh",
        }
    )
    for sc in (dst, st["school_code"][i]):  # both records (the truth file keeps the last)
        T(
            "student.duplicate_code",
            st["student_code"][i],
            "student_code",
            sc,
            "mã học sinh trùng ở hai trường",
        )
    # a pupil of a school that is not in the list of schools
    yr = ys - 10
    from soat.sample.generate import UNKNOWN_SCHOOL

    code = f"{UNKNOWN_SCHOOL}00001"
    extra.append(
        {
            **_row(st, pick()),
            "student_code": code,
            "school_code": UNKNOWN_SCHOOL,
            "class_code": f"{UNKNOWN_SCHOOL}-5A",
            "birth_date": _dmy(2, 9, yr),
            "_year": yr,
            "_grade": "5",
            "citizen_id": None,
        }
    )
    extra[-1]["citizen_id"] = ids.make(extra[-1]["gender"] == "Nam", yr)
    T(
        "student.school_unknown",
        code,
        "school_code",
        UNKNOWN_SCHOOL,
        "mã trường không có trong danh sách",
    )
    T(
        "student.class_unknown",
        code,
        "class_code",
        UNKNOWN_SCHOOL,
        "mã trường không có: lớp cũng không có",
    )
    # inactive pupils (clean: every check skips them)
    for status in ("Chuyển đi", "Thôi học", "Bảo lưu"):
        i = pick()
        r = _row(st, i)
        sc = r["school_code"]
        yr = int(r["_year"]) if r["_year"] > 0 else ys - 8
        mm = bool(rng.random() < 0.5)
        r.update(
            student_code=new_code(sc),
            status=status,
            gender="Nam" if mm else "Nữ",
            full_name=P.full_names(rng, np.array([mm]))[0],
            citizen_id=ids.make(mm, yr),
        )
        extra.append(r)
        used.discard(i)  # the record itself was not changed

    # ---- classes ------------------------------------------------------------------
    cdelta = np.zeros(len(cl["class_code"]), dtype=np.int64)
    cused: set[int] = set()
    cpool = rng.permutation(len(cl["class_code"]))

    def cpick(grades=None, not_school=None) -> int:
        for j in cpool:
            j = int(j)
            if j in cused or cl["school_code"][j] not in normal:
                continue
            if grades is not None and cl["grade"][j] not in grades:
                continue
            if not_school is not None and cl["school_code"][j] == not_school:
                continue
            cused.add(j)
            return j
        raise RuntimeError("no class")

    def ckey(j):
        return cl["class_code"][j], cl["school_code"][j]

    j = cpick()
    cl["class_name"][j] = ""
    T("class.missing_field", *ckey(j)[:1], "class_name", ckey(j)[1], "tên lớp để trống")
    j = cpick(grades={"4"})
    cl["language_programme"][j] = ""
    T(
        "class.missing_field",
        *ckey(j)[:1],
        "language_programme",
        ckey(j)[1],
        "khối 4 chưa khai báo chương trình NN1",
    )
    j = cpick(grades={"7"})
    cl["language_periods"][j] = ""
    T(
        "class.missing_field",
        *ckey(j)[:1],
        "language_periods",
        ckey(j)[1],
        "khối 7 chưa khai báo số tiết NN1",
    )
    j = cpick()
    sc = cl["school_code"][j]
    other_staff = sf["staff_code"][
        np.flatnonzero((sf["school_code"] != sc) & (sf["position"] == "Giáo viên"))[0]
    ]
    cl["homeroom_code"][j] = other_staff
    T("class.homeroom_unknown", *ckey(j)[:1], "homeroom_code", sc, "GVCN là giáo viên trường khác")
    j = cpick()
    sc = cl["school_code"][j]
    yr = prov.as_of.year - 64
    retired = {
        "staff_code": f"CB{sc}9001",
        "school_code": sc,
        "full_name": P.full_names(rng, np.array([True]))[0],
        "birth_date": _dmy(4, 4, yr),
        "gender": "Nam",
        "ethnicity": "Kinh",
        "citizen_id": ids.make(True, yr),
        "id_verified": "Đã xác thực",
        "permanent_address": "Ấp Tân Thuận, Xã Tân Hạnh, tỉnh Vĩnh Long",
        "position": "Giáo viên",
        "contract": "Biên chế",
        "qualification": "Đại học",
        "subject": "Toán",
        "status": "Nghỉ hưu",
        "_year": yr,
        "_level": "TH",
    }
    cl["homeroom_code"][j] = retired["staff_code"]
    T("class.homeroom_unknown", *ckey(j)[:1], "homeroom_code", sc, "GVCN đã nghỉ hưu")
    for d in (2, -1):
        j = cpick()
        cdelta[j] = d
        T(
            "class.size_mismatch",
            *ckey(j)[:1],
            "declared_size",
            ckey(j)[1],
            f"sĩ số khai báo lệch {d:+d}",
        )
    # classes appended: an empty class and a class whose pupils all left
    n_classes = {k: len(v) for k, v in groups(cl["school_code"]).items()}
    big = max(sorted(normal), key=lambda s: n_classes.get(s, 0))
    second = max((s for s in sorted(normal) if s != big), key=lambda s: n_classes.get(s, 0))
    new_classes = []
    for sc, g, nm in ((big, "2", "2Z"), (second, "3", "3Z")):
        home = cl["homeroom_code"][np.flatnonzero(cl["school_code"] == sc)[0]]
        lv = "TH" if g in ("2", "3") else "THCS"
        new_classes.append(
            {
                "class_code": f"{sc}-{nm}",
                "school_code": sc,
                "class_name": nm,
                "grade": g,
                "_level": lv,
                "_size": 0,
                "homeroom_code": home,
                "language_programme": "Tiếng Anh 10 năm" if g == "3" else "",
                "language_periods": "4" if g == "3" else "",
                "school_year": prov.school_year,
                "note": "Lớp mới mở",
            }
        )
        T("class.empty", f"{sc}-{nm}", "class_code", sc, "lớp không có học sinh đang học")
    # the second appended class holds two pupils who left
    for status in ("Thôi học", "Chuyển đi"):
        r = _row(st, pick(grade={"3"}))
        yr = ys - 8
        mm = bool(rng.random() < 0.5)
        r.update(
            student_code=new_code(second),
            school_code=second,
            class_code=f"{second}-3Z",
            status=status,
            gender="Nam" if mm else "Nữ",
            full_name=P.full_names(rng, np.array([mm]))[0],
            citizen_id=ids.make(mm, yr),
            birth_date=_dmy(20, 10, yr),
            _year=yr,
        )
        extra.append(r)
    _append(cl, new_classes)
    cdelta = np.concatenate([cdelta, np.zeros(len(new_classes), dtype=np.int64)])
    for s in prov.schools:
        if s.role == "grade_level":
            for j in np.flatnonzero((cl["school_code"] == s.code) & (cl["grade"] == "6")):
                T(
                    "class.grade_level",
                    cl["class_code"][j],
                    "grade",
                    s.code,
                    "trường tiểu học có lớp khối 6",
                )
        if s.role == "no_staff":
            for j in np.flatnonzero(cl["school_code"] == s.code):
                T(
                    "class.homeroom_unknown",
                    cl["class_code"][j],
                    "homeroom_code",
                    s.code,
                    "trường chưa nhập hồ sơ cán bộ: GVCN không có",
                )
    prov.class_delta = cdelta

    assert len(extra) == EXTRA_STUDENTS, len(extra)
    _append(st, extra)

    # ---- staff --------------------------------------------------------------------
    tused: set[int] = set()
    tpool = rng.permutation(len(sf["staff_code"]))
    t_normal = P.isin(sf["school_code"], list(normal))

    def tpick(position=None, gender=None, contract=None, not_school=None) -> int:
        for i in tpool:
            i = int(i)
            if i in tused or not t_normal[i]:
                continue
            if position and sf["position"][i] != position:
                continue
            if gender and sf["gender"][i] != gender:
                continue
            if contract and sf["contract"][i] != contract:
                continue
            if not_school and sf["school_code"][i] == not_school:
                continue
            tused.add(i)
            return i
        raise RuntimeError("no staff")

    def tkey(i):
        return sf["staff_code"][i], sf["school_code"][i]

    i = tpick()
    sf["qualification"][i] = ""
    T("staff.missing_field", *tkey(i)[:1], "qualification", tkey(i)[1], "trình độ đào tạo để trống")
    i = tpick(position="Giáo viên")
    sf["subject"][i] = ""
    T("staff.missing_field", *tkey(i)[:1], "subject", tkey(i)[1], "giáo viên chưa có môn dạy")
    i = tpick()
    sf["permanent_address"][i] = ""
    T(
        "staff.missing_field",
        *tkey(i)[:1],
        "permanent_address",
        tkey(i)[1],
        "địa chỉ thường trú để trống",
    )
    i = tpick(position="Giáo viên")
    sf["contract"][i] = "HĐLĐ"
    T("staff.invalid_value", *tkey(i)[:1], "contract", tkey(i)[1], "hợp đồng viết tắt 'HĐLĐ'")
    i = tpick()
    sf["qualification"][i] = "Cử nhân"
    T(
        "staff.invalid_value",
        *tkey(i)[:1],
        "qualification",
        tkey(i)[1],
        "trình độ 'Cử nhân' ngoài danh mục",
    )
    i = tpick()
    sf["birth_date"][i] = "30/02/1985"
    sf["_year"][i] = -1
    T("staff.dob_invalid", *tkey(i)[:1], "birth_date", tkey(i)[1], "ngày sinh 30/02 không có thật")
    i = tpick(position="Nhân viên")
    rebirth(i, prov.as_of.year - 16, table=sf)
    T("staff.dob_invalid", *tkey(i)[:1], "birth_date", tkey(i)[1], "15 tuổi (dưới 18)")
    i = tpick(position="Giáo viên", gender="Nam")
    rebirth(i, 1945, table=sf)
    sf["contract"][i] = "Thỉnh giảng"
    T("staff.dob_invalid", *tkey(i)[:1], "birth_date", tkey(i)[1], "79 tuổi (quá 75), thỉnh giảng")
    i = tpick()
    sf["citizen_id"][i] = sf["citizen_id"][i] + "7"
    T("staff.id_format", *tkey(i)[:1], "citizen_id", tkey(i)[1], "số định danh 13 chữ số")
    i = tpick()
    sf["citizen_id"][i] = "099" + sf["citizen_id"][i][3:]
    T("staff.id_province", *tkey(i)[:1], "citizen_id", tkey(i)[1], "mã tỉnh 099 không tồn tại")
    i = tpick()
    cid = sf["citizen_id"][i]
    sf["citizen_id"][i] = cid[:3] + str(int(cid[3]) ^ 1) + cid[4:]
    T("staff.id_mismatch", *tkey(i)[:1], "citizen_id", tkey(i)[1], "chữ số giới tính sai")
    for v in ("Chưa xác thực", "Sai thông tin"):
        i = tpick()
        sf["id_verified"][i] = v
        T("staff.unverified", *tkey(i)[:1], "id_verified", tkey(i)[1], f"xác thực: {v}")
    i = tpick(position="Giáo viên", gender="Nam", contract="Biên chế")
    rebirth(i, prov.as_of.year - 66, table=sf)
    T("staff.retired_on_payroll", *tkey(i)[:1], "contract", tkey(i)[1], "66 tuổi, vẫn biên chế")
    i = tpick(position="Nhân viên", gender="Nữ")
    rebirth(i, prov.as_of.year - 59, table=sf)
    sf["contract"][i] = "Hợp đồng lao động"
    T(
        "staff.retired_on_payroll",
        *tkey(i)[:1],
        "contract",
        tkey(i)[1],
        "nữ 59 tuổi, hợp đồng lao động",
    )
    i = tpick(position="Giáo viên", gender="Nam")
    rebirth(i, prov.as_of.year - 63, table=sf)  # edge: re-hired retiree as Thỉnh giảng
    sf["contract"][i] = "Thỉnh giảng"

    textra: list[dict] = [retired]
    tseq = {"n": 0}

    def new_tcode(school: str) -> str:
        tseq["n"] += 1
        return f"CB{school}8{tseq['n']:03d}"

    i = tpick()
    dst = next(s for s in sorted(normal) if s != sf["school_code"][i])
    m = bool(rng.random() < 0.5)
    yr = prov.as_of.year - 35
    textra.append(
        {
            **_row(sf, i),
            "school_code": dst,
            "position": "Nhân viên",
            "subject": "",
            "full_name": P.full_names(rng, np.array([m]))[0],
            "gender": "Nam" if m else "Nữ",
            "birth_date": _dmy(9, 9, yr),
            "_year": yr,
            "citizen_id": ids.make(m, yr),
            "contract": "Hợp đồng lao động",
            "qualification": "Trung cấp",
        }
    )
    for sc in (dst, sf["school_code"][i]):  # both records (the truth file keeps the last)
        T(
            "staff.duplicate_code",
            sf["staff_code"][i],
            "staff_code",
            sc,
            "mã cán bộ trùng ở hai trường",
        )
    i = tpick(position="Giáo viên", contract="Biên chế")
    dst = next(s for s in sorted(normal, reverse=True) if s != sf["school_code"][i])
    r = {**_row(sf, i), "school_code": dst, "staff_code": new_tcode(dst)}
    textra.append(r)
    T(
        "staff.duplicate_payroll",
        sf["staff_code"][i],
        "citizen_id",
        sf["school_code"][i],
        "biên chế ở hai trường",
    )
    T("staff.duplicate_payroll", r["staff_code"], "citizen_id", dst, "biên chế ở hai trường")
    i = tpick(position="Giáo viên", contract="Biên chế")
    dst = next(s for s in sorted(normal)[1:] if s != sf["school_code"][i])
    textra.append(
        {**_row(sf, i), "school_code": dst, "staff_code": new_tcode(dst), "contract": "Thỉnh giảng"}
    )  # edge: visiting at a second school is right
    from soat.sample.generate import UNKNOWN_SCHOOL

    r = {
        **_row(sf, tpick()),
        "school_code": UNKNOWN_SCHOOL,
        "staff_code": f"CB{UNKNOWN_SCHOOL}0001",
    }
    r["citizen_id"] = ids.make(r["gender"] == "Nam", int(r["_year"]))
    textra.append(r)
    T(
        "staff.school_unknown",
        r["staff_code"],
        "school_code",
        UNKNOWN_SCHOOL,
        "mã trường không có trong danh sách",
    )
    for status in ("Chuyển công tác", "Nghỉ việc"):
        r = {**_row(sf, tpick()), "status": status}
        r["staff_code"] = new_tcode(r["school_code"])
        r["citizen_id"] = ids.make(r["gender"] == "Nam", int(r["_year"]))
        textra.append(r)
    _append(sf, textra)

    # ---- schools ------------------------------------------------------------------
    ordinary = [s for s in prov.schools if s.active and s.role is None]
    s = ordinary[int(rng.integers(0, len(ordinary)))]
    s.principal = ""
    T("school.missing_field", s.code, "principal", s.code, "chưa khai báo hiệu trưởng")
    s2 = next(x for x in ordinary if x is not s and x.levels != s.levels)
    s2.internet = ""
    s2.accreditation = ""
    T("school.missing_field", s2.code, "internet", s2.code, "chưa khai báo kết nối internet")
    T("school.missing_field", s2.code, "accreditation", s2.code, "chưa khai báo kiểm định")
    for s in prov.schools:
        if s.role == "unit_unknown":
            T(
                "school.unit_unknown",
                s.code,
                "unit_code",
                s.code,
                f"mã đơn vị {s.unit_code} không có",
            )
        if s.role == "no_students":
            T("school.no_records", s.code, "students", s.code, "trường mới, chưa có học sinh")
        if s.role == "no_staff":
            T("school.no_records", s.code, "staff", s.code, "chưa nhập hồ sơ cán bộ")


# ---- aggregates ---------------------------------------------------------------------


def _counts(prov):
    st, sf, cl = prov.students, prov.staff, prov.classes
    act = st["status"] == "Đang học"
    stu_by_school: dict[str, int] = {}
    for sc, n in zip(*np.unique(st["school_code"][act], return_counts=True), strict=True):
        stu_by_school[sc] = int(n)
    keys = P.concat(st["school_code"][act], "|", st["class_code"][act])
    per_class = dict(zip(*np.unique(keys, return_counts=True), strict=True))
    tact = sf["status"] == "Đang làm việc" if len(sf) else np.zeros(0, bool)
    staff_by_school = (
        dict(zip(*np.unique(sf["school_code"][tact], return_counts=True), strict=True))
        if len(sf)
        else {}
    )
    teach = tact & (sf["position"] == "Giáo viên") if len(sf) else np.zeros(0, bool)
    teachers = (
        dict(zip(*np.unique(sf["school_code"][teach], return_counts=True), strict=True))
        if len(sf)
        else {}
    )
    classes = dict(zip(*np.unique(cl["school_code"], return_counts=True), strict=True))
    return stu_by_school, per_class, staff_by_school, teachers, classes


def aggregates(rng: np.random.Generator, prov) -> None:
    st, cl = prov.students, prov.classes
    stu, per_class, staff_n, teachers, classes = _counts(prov)
    keys = P.concat(cl["school_code"], "|", cl["class_code"])
    actual = np.array([int(per_class.get(k, 0)) for k in keys], dtype=np.int64)
    delta = getattr(prov, "class_delta", np.zeros(len(keys), dtype=np.int64))
    cl["declared_size"] = actual + delta
    cl["_count"] = actual

    # ages for the filed reports: actual age when readable and 0..25, else the grade's age
    act = st["status"] == "Đang học"
    age = prov.year_start - st["_year"]
    from soat.sample.generate import _base_age

    nominal = _base_age(st["_grade"])
    age = np.where((st["_year"] > 0) & (age >= 0) & (age <= 25), age, nominal)
    pairs = P.concat(st["school_code"][act], "|", P.zfill(age[act], 2))
    by_age: dict[str, dict[int, int]] = {}
    for key, n in zip(*np.unique(pairs, return_counts=True), strict=True):
        sc, a = key.split("|")
        by_age.setdefault(sc, {})[int(a)] = int(n)

    active = [s for s in prov.schools if s.active]
    special = _special(prov)
    ordinary = [s for s in active if s.role is None and stu.get(s.code)]
    pick = list(rng.permutation(len(ordinary)))
    defect_school = (
        {
            name: ordinary[int(pick[k % len(ordinary)])].code
            for k, name in enumerate(
                (
                    "age",
                    "hs_tong",
                    "lop_tong",
                    "gv_tong",
                    "src_students",
                    "src_staff",
                    "src_classes",
                )
            )
        }
        if special and ordinary
        else {}
    )

    periods = ("dau_nam", "giua_nam", "cuoi_nam")
    for s in active:
        filed = periods if rng.random() < 0.5 else periods[:2]
        for period in filed:
            ages = dict(by_age.get(s.code, {}))
            vals = {
                "hs_tong": stu.get(s.code, 0),
                "lop_tong": int(classes.get(s.code, 0)),
                "gv_tong": int(teachers.get(s.code, 0)),
            }
            if special:
                if s.code == defect_school["age"] and period == "giua_nam":
                    a = max(ages, key=ages.get)
                    ages[a] += 2
                    prov.add_truth(
                        "report.age_total_mismatch",
                        s.code,
                        "hs_tong",
                        s.code,
                        "giữa năm: tổng theo độ tuổi lớn hơn tổng số 2 em",
                    )
                if s.code == defect_school["hs_tong"] and period == "dau_nam":
                    a = max(ages, key=ages.get)
                    ages[a] += 3
                    vals["hs_tong"] += 3
                    prov.add_truth(
                        "report.records_mismatch",
                        s.code,
                        "hs_tong",
                        s.code,
                        "đầu năm: báo cáo nhiều hơn CSDL 3 học sinh",
                    )
                if s.code == defect_school["lop_tong"] and period == "giua_nam":
                    vals["lop_tong"] -= 1
                    prov.add_truth(
                        "report.records_mismatch",
                        s.code,
                        "lop_tong",
                        s.code,
                        "giữa năm: báo cáo ít hơn CSDL 1 lớp",
                    )
                if s.code == defect_school["gv_tong"] and period == "dau_nam":
                    vals["gv_tong"] += 2
                    prov.add_truth(
                        "report.records_mismatch",
                        s.code,
                        "gv_tong",
                        s.code,
                        "đầu năm: báo cáo nhiều hơn CSDL 2 giáo viên",
                    )
            for ind in ("hs_tong", "lop_tong", "gv_tong"):
                prov.reports.append(
                    {
                        "school_code": s.code,
                        "school_year": prov.school_year,
                        "period": period,
                        "indicator": ind,
                        "value": vals[ind],
                    }
                )
            for a in sorted(ages):
                prov.reports.append(
                    {
                        "school_code": s.code,
                        "school_year": prov.school_year,
                        "period": period,
                        "indicator": f"hs_tuoi_{a}",
                        "value": ages[a],
                    }
                )
        counts = {
            "staff": int(staff_n.get(s.code, 0)),
            "students": stu.get(s.code, 0),
            "classes": int(classes.get(s.code, 0)),
        }
        if special:
            for dt_, d in (("students", 5), ("staff", -1), ("classes", 1)):
                if s.code == defect_school[f"src_{dt_}"]:
                    counts[dt_] += d
                    prov.add_truth(
                        "source.count_mismatch",
                        s.code,
                        dt_,
                        s.code,
                        f"{s.software} có {d:+d} bản ghi {dt_} so với CSDL",
                    )
        for dt_, n in counts.items():
            prov.source_counts.append(
                {
                    "school_code": s.code,
                    "school_year": prov.school_year,
                    "software": s.software,
                    "data_type": dt_,
                    "record_count": n,
                }
            )
