"""Truth computed from what was written: submission statuses (the `late` export and the
submission.* findings) and the peer outliers (class.size_outlier, school.ptr_outlier).

These follow shared/spec/checks.md; where the spec is silent they follow docs/deadlines.md
(which deadline row wins, the lock date of a period, pushes under a previous code):
- one status per active school x school level x (period, data type, target);
- the winning row: the school's extension, then the nearest unit's, then a level row,
  then the province row; within a tier a row for the data type beats an all-types row,
  fewer levels beat more, then the later due date, then the earlier row;
- the lock date is the winning row's, else that of the first level/province row;
- a push under a merged school's previous code counts for the merged school.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from soat.vocab import DATA_TYPE_ORDER


def _closure(prov) -> dict[str, dict[str, int]]:
    parent = {u["unit_code"]: u["parent_code"] or None for u in prov.units}
    out: dict[str, dict[str, int]] = {}
    for s in prov.schools:
        u, depth, seen = s.unit_code, 0, {}
        while u is not None and u not in seen and depth < 10:
            seen[u] = depth
            u = parent.get(u)
            depth += 1
        out[s.code] = seen
    return out


def applicable(prov, rows: list[dict]) -> dict[tuple, dict]:
    """(school, level, period, data_type, target) -> the winning deadline (with `lock`)."""
    closure = _closure(prov)
    out: dict[tuple, dict] = {}
    for s in prov.schools:
        if not s.active:
            continue
        for lv in s.levels:
            cands: dict[tuple, list] = {}
            for order, r in enumerate(rows):
                if r["school_year"] not in (None, prov.school_year):
                    continue
                levels = r["level"] or []
                if levels and lv not in levels:
                    continue
                if r["school_code"]:
                    if r["school_code"] != s.code:
                        continue
                    tier, depth = 1, 0
                elif r["unit_code"]:
                    if r["unit_code"] not in closure[s.code]:
                        continue
                    tier, depth = 2, closure[s.code][r["unit_code"]]
                else:
                    tier, depth = (3 if levels else 4), 0
                types = [r["data_type"]] if r["data_type"] else list(DATA_TYPE_ORDER)
                for dtype in types:
                    rank = (
                        tier,
                        depth,
                        r["data_type"] is None,
                        len(levels) == 0,
                        len(levels),
                        -r["due_date"].toordinal(),
                        order,
                    )
                    cands.setdefault((r["period"], dtype, r["target"] or "Sở"), []).append(
                        (rank, r)
                    )
            for (period, dtype, target), lst in cands.items():
                lst.sort(key=lambda x: x[0])
                win = lst[0][1]
                base = [r for rank, r in lst if rank[0] >= 3]
                lock = win["lock_date"] or (base[0]["lock_date"] if base else None)
                out[(s.code, lv, period, dtype, target)] = {**win, "lock": lock}
    return out


def statuses(prov) -> list[dict]:
    items = applicable(prov, prov.deadlines)
    owner: dict[str, str] = {}
    for s in prov.schools:
        if s.active:
            owner[s.code] = s.code
    for s in sorted(prov.schools, key=lambda s: s.code):
        if s.active:
            for c in s.previous_codes:
                owner.setdefault(c, s.code)
    pushes: dict[tuple, list[tuple[dt.datetime, int, dict]]] = {}
    for i, p in enumerate(prov.submissions):
        sc = owner.get(p["school_code"])
        if sc is None or p["school_year"] != prov.school_year:
            continue
        pushes.setdefault((sc, p["period"], p["data_type"], p["target"]), []).append(
            (p["pushed_at"], i, p)
        )
    school = {s.code: s for s in prov.schools}
    unit_name = {u["unit_code"]: u["unit_name"] for u in prov.units}
    out = []
    for (sc, lv, period, dtype, target), w in sorted(items.items()):
        ps = sorted(pushes.get((sc, period, dtype, target), []), key=lambda x: (x[0], x[1]))
        ok = [t for t, _, p in ps if p["result"] == "Thành công"]
        first = min(ok) if ok else None
        due = w["due_date"]
        if first is not None:
            status = "on_time" if first.date() <= due else "late"
            days = (first.date() - due).days if status == "late" else None
        elif due < prov.as_of:
            status, days = "missing", (prov.as_of - due).days
        else:
            status, days = "pending", None
        lock = w["lock"]
        out.append(
            {
                "school_code": sc,
                "school_name": school[sc].name,
                "unit_code": school[sc].unit_code,
                "unit_name": unit_name.get(school[sc].unit_code),
                "level": lv,
                "period": period,
                "data_type": dtype,
                "target": target,
                "due_date": due,
                "first_success_at": first,
                "status": status,
                "days_late": days,
                "_last_failed": bool(ps) and ps[-1][2]["result"] == "Thất bại",
                "_after_lock": lock is not None and any(t.date() > lock for t, _, _ in ps),
                "_lock": lock,
                "_n_levels": len(school[sc].levels),
            }
        )
    return out


def _modified_z_flags(values: dict) -> set:
    """Keys whose modified Z-score 0.6745·|x − median| / MAD exceeds 3.5 (MAD > 0)."""
    if not values:
        return set()
    v = np.array(list(values.values()), dtype=float)
    med = float(np.median(v))
    mad = float(np.median(np.abs(v - med)))
    if mad <= 0:
        return set()
    return {k for k, x in values.items() if 0.6745 * abs(x - med) / mad > 3.5}


def grade_level(grade: str, levels: tuple[str, ...]) -> str | None:
    from soat.vocab import grade_level as nat

    lv = nat(grade)
    if lv is None or lv in levels:
        return lv
    if "GDTX" in levels and grade.isdigit() and 6 <= int(grade) <= 12:
        return "GDTX"
    return lv


def outliers(prov) -> list[tuple[str, str, str]]:
    """(check_id, school_code, level or '') of the peer outliers."""
    cl, st, sf = prov.classes, prov.students, prov.staff
    school = {s.code: s for s in prov.schools}
    found = []
    by_level: dict[str, dict[str, list[int]]] = {}
    for sc, g, n in zip(cl["school_code"], cl["grade"], cl["_count"], strict=True):
        s = school.get(sc)
        if s is None or not s.active or n <= 0:
            continue
        lv = grade_level(g, s.levels)
        if lv:
            by_level.setdefault(lv, {}).setdefault(sc, []).append(int(n))
    for lv, per in by_level.items():
        for sc in _modified_z_flags({sc: float(np.mean(v)) for sc, v in per.items()}):
            found.append(("class.size_outlier", sc, lv))
    act = st["status"] == "Đang học"
    stu = dict(zip(*np.unique(st["school_code"][act], return_counts=True), strict=True))
    teach = (sf["status"] == "Đang làm việc") & (sf["position"] == "Giáo viên")
    tea = dict(zip(*np.unique(sf["school_code"][teach], return_counts=True), strict=True))
    peers: dict[str, dict[str, float]] = {}
    for s in prov.schools:
        if s.active and stu.get(s.code) and tea.get(s.code):
            peers.setdefault("&".join(sorted(s.levels)), {})[s.code] = stu[s.code] / tea[s.code]
    for _peer, vals in peers.items():
        for sc in _modified_z_flags(vals):
            found.append(("school.ptr_outlier", sc, ""))
    return found


def computed(prov) -> None:
    """Add the computed findings to prov.truth and fill prov.late."""
    for check_id, sc, _lv in sorted(outliers(prov)):
        role = prov.school(sc).role
        prov.add_truth(
            check_id,
            sc,
            "",
            sc,
            "trường được thiết kế là ngoại lai"
            if role in ("size_outlier", "ptr_outlier")
            else "ngoại lai phát sinh ngoài thiết kế",
        )
    rows = statuses(prov)
    prov.late = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    seen: set[tuple] = set()
    for r in rows:
        for check_id, cond in (
            ("submission.late", r["status"] == "late"),
            ("submission.missing", r["status"] == "missing"),
            ("submission.last_failed", r["_last_failed"]),
            ("submission.after_lock", r["_after_lock"]),
        ):
            key = (check_id, r["school_code"], r["data_type"])
            if cond and key not in seen:
                seen.add(key)
                prov.add_truth(
                    check_id,
                    r["school_code"],
                    r["data_type"],
                    r["school_code"],
                    f"{r['period']} {r['target']}: {r['status']}",
                )


# ---- findings as the catalogue writes them (one per finding, with its period) -------------
# For the second snapshot and the changes between the two (soat.sample.week2): the truth
# files list (check, record, field) sets; a finding's identity over time also has its
# school and period, and one key may hold several findings (docs/checks.md).

COMPUTED = {
    "class.size_outlier",
    "school.ptr_outlier",
    "report.age_total_mismatch",
    "report.records_mismatch",
    "source.count_mismatch",
    "submission.late",
    "submission.missing",
    "submission.last_failed",
    "submission.after_lock",
}


def report_findings(prov) -> list[tuple[str, str, str, str]]:
    """(check_id, school_code, field, period) of report.age_total_mismatch (sum of hs_tuoi_*
    vs hs_tong in one report) and report.records_mismatch (a filed total vs the records now:
    active students, classes of the year, active teachers), one per report (period)."""
    from soat.sample.defects import _counts

    stu, _, _, teachers, classes = _counts(prov)
    filed: dict[tuple, dict[str, int]] = {}
    for r in prov.reports:
        if r["school_year"] != prov.school_year:
            continue
        d = filed.setdefault((r["school_code"], r["period"]), {})
        ind = r["indicator"]
        key = "hs_tuoi" if ind.startswith("hs_tuoi_") else ind
        d[key] = d.get(key, 0) + int(r["value"])
    db = {"hs_tong": stu, "lop_tong": classes, "gv_tong": teachers}
    out = []
    for (sc, period), d in sorted(filed.items()):
        if "hs_tong" in d and "hs_tuoi" in d and d["hs_tong"] != d["hs_tuoi"]:
            out.append(("report.age_total_mismatch", sc, "hs_tong", period))
        for ind, counts in db.items():
            if ind in d and d[ind] != int(counts.get(sc, 0)):
                out.append(("report.records_mismatch", sc, ind, period))
    return out


def source_findings(prov) -> list[tuple[str, str, str]]:
    """(check_id, school_code, data type) of source.count_mismatch: the software's count vs
    the database's (active students and staff, classes of the year, rooms, budget rows)."""
    from soat.sample.defects import _counts

    stu, _, staff_n, _, classes = _counts(prov)
    rooms: dict[str, int] = {}
    for r in prov.rooms:
        rooms[r["school_code"]] = rooms.get(r["school_code"], 0) + int(r["count"])
    budget: dict[str, int] = {}
    for r in prov.budget:
        budget[r["school_code"]] = budget.get(r["school_code"], 0) + 1
    db = {"students": stu, "staff": staff_n, "classes": classes, "rooms": rooms, "budget": budget}
    return sorted(
        ("source.count_mismatch", r["school_code"], r["data_type"])
        for r in prov.source_counts
        if r["school_year"] == prov.school_year
        and int(r["record_count"]) != int(db[r["data_type"]].get(r["school_code"], 0))
    )


def submission_findings(prov) -> list[tuple[str, str, str, str]]:
    """(check_id, school_code, data type, period), one per finding: a late or missing row per
    level collapsed into one school-wide finding when every level of the school has it with
    the same due date and days late; last_failed and after_lock once per school, period,
    data type and target (and lock date)."""
    rows = statuses(prov)
    out: list[tuple[str, str, str, str]] = []
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["status"] in ("late", "missing"):
            key = (
                r["status"],
                r["school_code"],
                r["period"],
                r["data_type"],
                r["target"],
                r["due_date"],
                r["days_late"],
            )
            groups.setdefault(key, []).append(r)
    for (status, sc, period, dtype, *_), g in sorted(groups.items(), key=lambda x: str(x[0])):
        n = 1 if len(g) == g[0]["_n_levels"] else len(g)
        out += [(f"submission.{status}", sc, dtype, period)] * n
    seen: set[tuple] = set()
    for r in rows:
        base = (r["school_code"], r["period"], r["data_type"], r["target"])
        for check, cond, extra in (
            ("submission.last_failed", r["_last_failed"], None),
            ("submission.after_lock", r["_after_lock"], r["_lock"]),
        ):
            if cond and (check, *base, extra) not in seen:
                seen.add((check, *base, extra))
                out.append((check, r["school_code"], r["data_type"], r["period"]))
    return out


def finding_keys(prov):
    """A Counter of (check_id, school_code, record_key, field, period) over the findings the
    catalogue must write: the listed ones, and the computed ones one per finding."""
    from collections import Counter

    keys: Counter = Counter()
    for r in prov.truth:
        if r["check_id"] not in COMPUTED:
            keys[(r["check_id"], r["school_code"], r["record_key"], r["field"], "")] += 1
    for check, sc, field, period in report_findings(prov):
        keys[(check, sc, sc, field, period)] += 1
    for check, sc, dtype in source_findings(prov):
        keys[(check, sc, sc, dtype, "")] += 1
    for check, sc, _lv in outliers(prov):
        keys[(check, sc, sc, "", "")] += 1
    for check, sc, dtype, period in submission_findings(prov):
        keys[(check, sc, sc, dtype, period)] += 1
    return keys
