"""The sample province a week later: the second snapshot of the demo and of the tests of
findings over time (docs/sample.md, "A week later").

From the first week's province (soat.sample.generate.build), deterministically:
- the snapshot date moves a week (the latest push is on the new date);
- defects fixed: the empty ethnicity, ethnicity `Việt`, the 11-digit citizen ID, a staff
  member's empty qualification, the class without a name, the school without a principal,
  one staff member not verified;
- defects made: a pupil's gender emptied, a citizen ID cut to 11 digits, a pupil not
  verified, a staff member's address emptied, a class whose homeroom code matches no staff,
  a contract written `HĐ ngắn hạn`;
- a primary school loses a third of its pupils (whole classes, one per grade: the software
  still counts them), a school vanishes from the export (every table), a school enters four
  new staff, a school opens two classes of a grade with no pupil;
- the push log: two items due in the week are pushed (one on time, one late), the third is
  now missing; a school's missing end-of-year push to the province arrives late, and one
  to the ministry on the new snapshot date.
Its truth: the first week's minus what was fixed or vanished, plus what was made, with the
report and software comparisons, outliers, submission statuses and trend.* findings computed
from what was written; and the changes between the two snapshots, one row per finding
(`expected_changes.csv`).
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from collections import Counter

import numpy as np

from soat.sample import people as P
from soat.sample import truth as T
from soat.sample.defects import _append, _counts, _Ids
from soat.sample.generate import LEVEL_GRADES, primary_class_name

WEEK = dt.timedelta(days=7)


def _trend_params() -> dict[str, dict]:
    """The trend.* checks' thresholds, from their metadata (thresholds are data)."""
    from queries import ROOT

    out = {}
    for path in sorted((ROOT / "checks" / "trend").glob("*.toml")):
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
        out[meta["id"]] = meta.get("params", {})
    return out


# ---- trend findings from what was written -----------------------------------------------


def _level_students(prov) -> dict[tuple[str, str], int]:
    """Active pupils per active school x level, as metrics_school_level counts them: at the
    level of the class's grade when the school has it, else at the school's first level."""
    cl, st = prov.classes, prov.students
    grade_of = dict(
        zip(P.concat(cl["school_code"], "|", cl["class_code"]), cl["grade"], strict=True)
    )
    out: dict[tuple[str, str], int] = {}
    schools = {s.code: s for s in prov.schools if s.active}
    for s in schools.values():
        for lv in s.levels:
            out[(s.code, lv)] = 0
    keys = P.concat(st["school_code"], "|", st["class_code"])
    for sc, key, status in zip(st["school_code"], keys, st["status"], strict=True):
        s = schools.get(sc)
        if s is None or status != "Đang học":
            continue
        g = grade_of.get(key)
        lv = T.grade_level(g, s.levels) if g else None
        out[(sc, lv if lv in s.levels else s.levels[0])] += 1
    return out


def _class_counts(prov) -> Counter:
    """Classes per school x grade, one per school and class code (as p_class_key)."""
    grade: dict[tuple[str, str], str] = {}
    cl = prov.classes
    for sc, code, g in zip(cl["school_code"], cl["class_code"], cl["grade"], strict=True):
        grade.setdefault((sc, code), g)
    return Counter((sc, g) for (sc, _code), g in grade.items())


def _changed(a: int, b: int, min_n: int, min_percent: int) -> bool:
    return a > 0 and abs(b - a) >= min_n and abs(b - a) * 100 >= min_percent * a


def trend_findings(before, after) -> list[tuple[str, str, str, str, str | None, str]]:
    """(check_id, record_key, field, school_code, level, note) of the trend.* checks of the
    later province against the earlier (same school year)."""
    params = _trend_params()
    out = []
    was = {s.code: s for s in before.schools}
    now = {s.code: s for s in after.schools}
    both = {c for c, s in now.items() if s.active and c in was and was[c].active}
    p = params["trend.enrolment_change"]
    b, a = _level_students(before), _level_students(after)
    for (sc, lv), n in sorted(b.items()):
        if sc in both and _changed(n, a.get((sc, lv), 0), p["min_students"], p["min_percent"]):
            out.append(
                (
                    "trend.enrolment_change",
                    sc,
                    "students",
                    sc,
                    lv,
                    f"cấp {lv}: {n} → {a.get((sc, lv), 0)} học sinh",
                )
            )
    p = params["trend.staff_change"]
    sb, sa = _counts(before)[2], _counts(after)[2]
    for sc in sorted(both):
        n, m = int(sb.get(sc, 0)), int(sa.get(sc, 0))
        if _changed(n, m, p["min_people"], p["min_percent"]):
            out.append(("trend.staff_change", sc, "staff", sc, None, f"{n} → {m} cán bộ"))
    previous = {c.strip() for s in after.schools for c in s.previous_codes}
    for sc, s in sorted(was.items()):
        if s.active and sc not in now and sc not in previous:
            # once per level of a multi-level school (one level: the runner fills it in)
            for lv in sorted(set(s.levels)) if len(set(s.levels)) > 1 else [None]:
                out.append(("trend.school_vanished", sc, "school_code", sc, lv, "trường biến mất"))
    p = params["trend.class_count_change"]
    cb, ca = _class_counts(before), _class_counts(after)
    for sc, g in sorted(set(cb) | set(ca)):
        if sc in both and abs(ca.get((sc, g), 0) - cb.get((sc, g), 0)) >= p["min_classes"]:
            lv = T.grade_level(g, now[sc].levels)
            out.append(
                (
                    "trend.class_count_change",
                    f"{sc} khối {g}",
                    "grade",
                    sc,
                    lv,
                    f"khối {g}: {cb.get((sc, g), 0)} → {ca.get((sc, g), 0)} lớp",
                )
            )
    return out


# ---- choosing schools and records --------------------------------------------------------


def _unlinked(prov) -> list:
    """Ordinary active schools that no record of another school refers to (class codes,
    homerooms, shared codes or citizen IDs): removing or changing their records changes no
    other school's findings."""
    cross: set[str] = set()
    st, sf, cl = prov.students, prov.staff, prov.classes
    for sc, cc in zip(st["school_code"], st["class_code"], strict=True):
        owner = str(cc).split("-", 1)[0]
        if owner != sc:
            cross |= {owner, sc}
    for sc, home in zip(cl["school_code"], cl["homeroom_code"], strict=True):
        owner = str(home)[2:10]
        if owner != sc:
            cross |= {owner, sc}
    for table, cols in ((st, ("student_code", "citizen_id")), (sf, ("staff_code", "citizen_id"))):
        for col in cols:
            seen: dict[str, set[str]] = {}
            for v, sc in zip(table[col], table["school_code"], strict=True):
                seen.setdefault(v, set()).add(sc)
            for schools in seen.values():
                if len(schools) > 1:
                    cross |= schools
    return [s for s in prov.schools if s.active and s.role is None and s.code not in cross]


def _drop_rows(table: dict[str, np.ndarray], keep: np.ndarray) -> None:
    for col in list(table):
        table[col] = table[col][keep]


def _clean_pick(rng, codes: np.ndarray, schools: np.ndarray, ok_schools: set, flagged: set, n=1):
    """Indices of records of `ok_schools` that no finding names (random, deterministic)."""
    idx = [
        int(i)
        for i in rng.permutation(len(codes))
        if schools[i] in ok_schools and (schools[i], codes[i]) not in flagged
    ]
    return idx[:n]


# ---- the week ------------------------------------------------------------------------------


# columns the week changes value by value (the others are replaced whole, or shared)
MUTATED = {
    "students": ("ethnicity", "citizen_id", "gender", "id_verified"),
    "staff": ("qualification", "id_verified", "permanent_address", "contract"),
    "classes": ("class_name", "homeroom_code"),
}


def _copy(prov1):
    """A copy of the province that shares the big arrays it does not change value by value
    (a 2 M-pupil province is not held twice)."""
    prov = copy.copy(prov1)
    prov.__dict__.pop("_index", None)
    for table, cols in MUTATED.items():
        arrays = dict(getattr(prov1, table))
        for c in cols:
            arrays[c] = arrays[c].copy()
        setattr(prov, table, arrays)
    prov.schools = copy.deepcopy(prov1.schools)
    for name in ("units", "rooms", "budget", "reports", "source_counts", "deadlines"):
        setattr(prov, name, [dict(r) for r in getattr(prov1, name)])
    prov.submissions = [dict(r) for r in prov1.submissions]
    prov.truth, prov.late = [], []
    return prov


def build(prov1):
    """The province a week after `prov1` (which is left as it was), with its truth, its late
    list and `changes`: one dict per finding new or resolved between the two."""
    prov = _copy(prov1)
    prov.as_of = prov1.as_of + WEEK
    prov.week = 2
    rng = np.random.default_rng(prov.seed + 700)
    truth = [dict(r) for r in prov1.truth if r["check_id"] not in T.COMPUTED]
    notes: dict[tuple, str] = {}
    if any(s.role for s in prov.schools):
        truth = _record_changes(rng, prov, truth, notes)
    _pushes(prov, prov1.as_of)
    prov.truth = truth
    for check, key, field, sc, _lv, note in trend_findings(prov1, prov):
        prov.add_truth(check, key, field, sc, f"tuần sau: {note}")
    _computed_truth(prov, prov1)
    T.computed(prov)
    before, after = T.finding_keys(prov1), T.finding_keys(prov)
    said = {
        change: {(r["check_id"], r["record_key"], r["field"]): r["defect"] for r in p.truth}
        for change, p in (("new", prov), ("resolved", prov1))
    }
    gone = getattr(prov, "vanished", None)

    def note(k: tuple, change: str) -> str:
        if k[:4] in notes:
            return notes[k[:4]]
        if change == "resolved" and k[1] == gone:
            return "trường không còn trong bản xuất"
        return said[change].get((k[0], k[2], k[3]), "")

    prov.changes = [
        {
            "check_id": k[0],
            "school_code": k[1],
            "record_key": k[2],
            "field": k[3],
            "period": k[4],
            "change": change,
            "note": note(k, change),
        }
        for change, diff in (("new", after - before), ("resolved", before - after))
        for k in sorted(diff.elements())
    ]
    return prov


def _computed_truth(prov, prov1) -> None:
    """Report and software comparisons of the second week, computed from what was written
    (the first week's notes kept where the finding persists)."""
    old = {(r["check_id"], r["record_key"], r["field"]): r for r in prov1.truth}
    rows = {(c, sc, f) for c, sc, f, _p in T.report_findings(prov)}
    rows |= set(T.source_findings(prov))
    for check, sc, field in sorted(rows):
        r = old.get((check, sc, field))
        fresh = {
            "report.age_total_mismatch": "tuần sau: tổng theo độ tuổi lệch tổng số",
            "report.records_mismatch": "tuần sau: báo cáo đã nộp lệch số hồ sơ hiện có",
            "source.count_mismatch": "tuần sau: số bản ghi của phần mềm QLNT lệch CSDL ngành",
        }[check]
        prov.add_truth(check, sc, field, sc, r["defect"] if r else fresh)


def _record_changes(rng, prov, truth: list[dict], notes: dict) -> list[dict]:
    st, sf, cl = prov.students, prov.staff, prov.classes
    ids = _Ids()
    ids.serial = 950_000  # week 1's altered people are 900001…
    candidates = _unlinked(prov)
    designed: set[str] = set()

    # ---- a school vanishes (every table): one no other school's record refers to --------
    gone = candidates.pop(0) if candidates else None
    if gone is not None:
        designed.add(gone.code)
        prov.schools = [s for s in prov.schools if s.code != gone.code]
        prov.__dict__.pop("_index", None)
        for table in (st, sf, cl):
            _drop_rows(table, table["school_code"] != gone.code)
        for name in ("rooms", "budget", "reports", "source_counts", "submissions"):
            setattr(prov, name, [r for r in getattr(prov, name) if r["school_code"] != gone.code])
        prov.vanished = gone.code
        truth = [r for r in truth if r["school_code"] != gone.code]  # its findings went too

    # ---- a school loses about a third of its pupils: whole classes, at most one of
    # each grade (so no grade's class count moves by 2); the school and the classes whose
    # share of its pupils is nearest a third
    def third(s) -> tuple[float, list[int]] | None:
        if len(s.levels) != 1:
            return None
        mine = np.flatnonzero(cl["school_code"] == s.code)
        total = max(int(cl["_count"][mine].sum()), 1)
        last = [
            [int(j) for j in mine if cl["grade"][j] == g][-1]
            for g in LEVEL_GRADES[s.levels[0]]
            if (cl["grade"][mine] == g).any()
        ]
        best = None
        for mask in range(1, 2 ** len(last)):
            drop = [j for k, j in enumerate(last) if mask >> k & 1]
            share = sum(int(cl["_count"][j]) for j in drop) / total
            if best is None or abs(share - 1 / 3) < best[0]:
                best = (abs(share - 1 / 3), drop)
        return best

    options = [(o, s) for o, s in ((third(s), s) for s in candidates) if o is not None]
    if options:
        (_, dropped), shrink = min(options, key=lambda x: (x[0][0], x[1].code))
        designed.add(shrink.code)
        codes = set(cl["class_code"][dropped])
        gone_pupils = (st["school_code"] == shrink.code) & P.isin(st["class_code"], codes)
        names = codes | set(st["student_code"][gone_pupils])
        truth = [
            r for r in truth if not (r["school_code"] == shrink.code and r["record_key"] in names)
        ]
        _drop_rows(st, ~gone_pupils)
        keep = np.ones(len(cl["class_code"]), dtype=bool)
        keep[dropped] = False
        _drop_rows(cl, keep)

    # ---- a school enters new staff, a quarter more (its software too): the smallest ------
    n_staff = _counts(prov)[2]
    ordinary = [s for s in prov.schools if s.active and s.role is None]
    grow = min(
        (s for s in ordinary if s.code not in designed and int(n_staff.get(s.code, 0)) >= 5),
        key=lambda s: (int(n_staff.get(s.code, 0)), s.code),
    )
    designed.add(grow.code)
    new_staff = []
    for k in range(max(4, -(-int(n_staff[grow.code]) * 25 // 100))):
        male = bool(rng.random() < 0.4)
        year = prov.as_of.year - int(rng.integers(24, 45))
        new_staff.append(
            {
                "staff_code": f"CB{grow.code}7{k + 1:03d}",
                "school_code": grow.code,
                "full_name": P.full_names(rng, np.array([male]))[0],
                "birth_date": f"{int(rng.integers(1, 28)):02d}/{int(rng.integers(1, 13)):02d}/{year}",
                "gender": "Nam" if male else "Nữ",
                "ethnicity": "Kinh",
                "citizen_id": ids.make(male, year),
                "id_verified": "Đã xác thực",
                "permanent_address": "Ấp Phước Hòa, Xã Long Phước, tỉnh Vĩnh Long",
                "position": "Nhân viên",
                "contract": "Hợp đồng lao động",
                "qualification": "Trung cấp",
                "subject": "",
                "status": "Đang làm việc",
                "_year": year,
                "_level": grow.levels[0],
            }
        )
    _append(sf, new_staff)
    for r in prov.source_counts:
        if r["school_code"] == grow.code and r["data_type"] == "staff":
            r["record_count"] += len(new_staff)

    # ---- a school opens two classes of a grade with no pupil (its software too) --------
    def last_grade(s) -> np.ndarray:
        g = LEVEL_GRADES[s.levels[0]][-1]
        return np.flatnonzero((cl["school_code"] == s.code) & (cl["grade"] == g))

    opened = next(
        s
        for s in ordinary
        if s.code not in designed
        and s.levels in (("TH",), ("THCS",), ("THPT",))
        and len(last_grade(s))
    )
    designed.add(opened.code)
    lv = opened.levels[0]
    g = LEVEL_GRADES[lv][-1]
    mine = last_grade(opened)
    home = cl["homeroom_code"][mine[0]]
    new_classes = []
    for k in range(2):
        j = len(mine) + k
        name = primary_class_name(g, j) if lv == "TH" else f"{g}A{j + 1}"
        new_classes.append(
            {
                "class_code": f"{opened.code}-{name}",
                "school_code": opened.code,
                "class_name": name,
                "grade": g,
                "_level": lv,
                "_size": 0,
                "_count": 0,
                "declared_size": 0,
                "homeroom_code": home,
                "language_programme": "Tiếng Anh 10 năm",
                "language_periods": "4" if lv == "TH" else "3",
                "school_year": prov.school_year,
                "note": "Lớp mở thêm",
            }
        )
        truth.append(
            {
                "check_id": "class.empty",
                "record_key": f"{opened.code}-{name}",
                "field": "class_code",
                "school_code": opened.code,
                "defect": "tuần sau: lớp mở thêm, chưa có học sinh",
            }
        )
    _append(cl, new_classes)
    for r in prov.source_counts:
        if r["school_code"] == opened.code and r["data_type"] == "classes":
            r["record_count"] += len(new_classes)

    # ---- defects fixed ------------------------------------------------------------------
    # Each fix takes the first finding of its kind left; in a small province the school
    # that vanished or shrank above may have held the only one, and then that fix is not
    # made (the ground truth says what is left either way).
    def fixed(check: str, field: str, where=None) -> dict | None:
        for r in truth:
            if r["check_id"] == check and r["field"] == field and (where is None or where(r)):
                truth.remove(r)
                notes[(check, r["school_code"], r["record_key"], field)] = "đã sửa"
                return r
        return None

    def student_at(r) -> int:
        return int(
            np.flatnonzero(
                (st["student_code"] == r["record_key"]) & (st["school_code"] == r["school_code"])
            )[0]
        )

    def staff_at(r) -> int:
        return int(
            np.flatnonzero(
                (sf["staff_code"] == r["record_key"]) & (sf["school_code"] == r["school_code"])
            )[0]
        )

    if r := fixed("student.missing_field", "ethnicity"):
        st["ethnicity"][student_at(r)] = "Kinh"
    if r := fixed("student.invalid_value", "ethnicity"):
        st["ethnicity"][student_at(r)] = "Kinh"
    r = fixed(
        "student.id_format",
        "citizen_id",
        lambda r: len(st["citizen_id"][student_at(r)]) == 11,
    )
    if r:
        i = student_at(r)
        st["citizen_id"][i] = ids.make(st["gender"][i] == "Nam", int(st["_year"][i]))
    if r := fixed("staff.missing_field", "qualification"):
        sf["qualification"][staff_at(r)] = "Đại học"
    if r := fixed("class.missing_field", "class_name"):
        j = int(np.flatnonzero(cl["class_code"] == r["record_key"])[0])
        cl["class_name"][j] = r["record_key"].split("-", 1)[1]
    if r := fixed("school.missing_field", "principal"):
        head = np.flatnonzero(
            (sf["school_code"] == r["school_code"]) & (sf["position"] == "Hiệu trưởng")
        )
        prov.school(r["school_code"]).principal = sf["full_name"][int(head[0])]
    r = fixed(
        "staff.unverified",
        "id_verified",
        lambda r: sf["id_verified"][staff_at(r)] == "Chưa xác thực",
    )
    if r:
        sf["id_verified"][staff_at(r)] = "Đã xác thực"

    # ---- defects made -------------------------------------------------------------------
    ok = {s.code for s in ordinary} - designed
    flagged = {(r["school_code"], r["record_key"]) for r in truth}
    active = st["status"] == "Đang học"

    def made(check, table, i, key_col, field, note):
        truth.append(
            {
                "check_id": check,
                "record_key": table[key_col][i],
                "field": field,
                "school_code": table["school_code"][i],
                "defect": f"tuần sau: {note}",
            }
        )
        flagged.add((table["school_code"][i], table[key_col][i]))

    pick_st = [
        i
        for i in _clean_pick(rng, st["student_code"], st["school_code"], ok, flagged, 10)
        if active[i]
    ]
    i = pick_st[0]
    st["gender"][i] = ""
    made("student.missing_field", st, i, "student_code", "gender", "giới tính bị xóa")
    i = pick_st[1]
    st["citizen_id"][i] = st["citizen_id"][i][:11]
    made("student.id_format", st, i, "student_code", "citizen_id", "số định danh còn 11 chữ số")
    i = pick_st[2]
    st["id_verified"][i] = "Chưa xác thực"
    made("student.unverified", st, i, "student_code", "id_verified", "chưa xác thực lại")
    tactive = (sf["status"] == "Đang làm việc") & (sf["position"] == "Giáo viên")
    pick_sf = [
        i
        for i in _clean_pick(rng, sf["staff_code"], sf["school_code"], ok, flagged, 10)
        if tactive[i] and sf["contract"][i] == "Biên chế"
    ]
    i = pick_sf[0]
    sf["permanent_address"][i] = ""
    made("staff.missing_field", sf, i, "staff_code", "permanent_address", "địa chỉ bị xóa")
    i = pick_sf[1]
    sf["contract"][i] = "HĐ ngắn hạn"
    made("staff.invalid_value", sf, i, "staff_code", "contract", "hợp đồng 'HĐ ngắn hạn'")
    (j,) = _clean_pick(rng, cl["class_code"], cl["school_code"], ok, flagged, 1)
    cl["homeroom_code"][j] = f"CB{cl['school_code'][j]}9999"
    made("class.homeroom_unknown", cl, j, "class_code", "homeroom_code", "GVCN không có hồ sơ")
    return truth


def _pushes(prov, as_of1: dt.date) -> None:
    """The week's pushes: two items due in the week pushed (on time, late), a third left
    missing; a missing end-of-year push to the province arrives late, one to the ministry
    on the new snapshot date (the latest push: the snapshot date)."""
    rows = T.statuses(prov)
    done = set()
    for p in prov.submissions:
        if p["result"] == "Thành công":
            done.add((p["school_code"], p["period"], p["data_type"], p["target"]))
    due_in_week = sorted(
        {
            (r["school_code"], r["period"], r["data_type"], r["target"], r["due_date"])
            for r in rows
            if as_of1 < r["due_date"] <= prov.as_of
            and (r["school_code"], r["period"], r["data_type"], r["target"]) not in done
        }
    )
    missing = sorted(
        {
            (r["school_code"], r["period"], r["data_type"], r["target"])
            for r in rows
            if r["status"] == "missing" and r["period"] == "cuoi_nam"
        }
    )

    def push(key, when: dt.datetime) -> None:
        sc, period, dtype, target = key
        prov.submissions.append(
            {
                "school_code": sc,
                "school_year": prov.school_year,
                "period": period,
                "data_type": dtype,
                "target": target,
                "pushed_at": when,
                "result": "Thành công",
                "error": "",
            }
        )

    def at(day: dt.date, h: int, m: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, h, m)

    if len(due_in_week) >= 2:
        k, due = due_in_week[0][:4], due_in_week[0][4]
        push(k, at(due - dt.timedelta(days=1), 10, 15))  # on time
        k, due = due_in_week[1][:4], due_in_week[1][4]
        push(k, at(due + dt.timedelta(days=2), 14, 30))  # late
    to_province = [k for k in missing if k[3] == "Sở"]
    to_ministry = [k for k in missing if k[3] == "Bộ"]
    if to_province:
        push(to_province[0], at(prov.as_of - dt.timedelta(days=3), 9, 40))
    last = to_ministry[0] if to_ministry else None
    if last is not None:
        push(last, at(prov.as_of, 16, 30))
    else:
        push(
            (prov.schools[0].code, "cuoi_nam", "budget", "Bộ"),
            at(prov.as_of, 16, 30),
        )
    prov.submissions.sort(key=lambda p: (p["pushed_at"], p["school_code"], p["data_type"]))
