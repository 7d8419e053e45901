"""Deadlines and the push log.

The calendar is soat.calendar_seeds.seed_deadline_rows(school_year) plus one unit
extension and one school extension, each citing a letter. For every school, period, data
type and target a status is planned (on time, late by N days, missing, pending), then
pushes are written that realise it, with the real-world variants: a failure fixed by a
later success, a success followed by a failure (last push failed), a failure only, a
re-push after the lock date, pushes under a merged school's previous code.
What the pushes mean is then computed back by soat.sample.truth (the truth is what was
written, not what was planned).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from soat.vocab import DATA_TYPE_ORDER

ERRORS = (
    "Sai định dạng ngày sinh",
    "Thiếu số định danh cá nhân",
    "Mất kết nối đến máy chủ CSDL ngành",
    "Mã lớp không tồn tại",
)


def deadline_rows(prov) -> list[dict]:
    from soat.calendar_seeds import seed_deadline_rows

    rows = [dict(r) for r in seed_deadline_rows(prov.school_year)]
    y0, y1 = prov.year_start, prov.year_start + 1
    # a district extends the mid-year push (all levels, all data types, to the province)
    rows.append(
        {
            "school_year": prov.school_year,
            "period": "giua_nam",
            "level": None,
            "data_type": None,
            "target": "Sở",
            "due_date": dt.date(y1, 1, 20),
            "lock_date": dt.date(y1, 1, 22),
            "unit_code": "86857",
            "school_code": None,
            "reference": f"CV 25/PGDĐT ngày 27/12/{y0} (Phòng GD&ĐT huyện Long Hồ) gia hạn báo cáo giữa năm",
        }
    )
    return rows


def school_extension(prov, school_code: str) -> dict:
    y0 = prov.year_start
    return {
        "school_year": prov.school_year,
        "period": "dau_nam",
        "level": None,
        "data_type": None,
        "target": "Sở",
        "due_date": dt.date(y0, 9, 30),
        "lock_date": dt.date(y0, 10, 2),
        "unit_code": None,
        "school_code": school_code,
        "reference": f"CV 1890/SGDĐT-KHTC ngày 05/9/{y0} (Sở GD&ĐT) gia hạn cho trường {school_code}",
    }


def build(rng: np.random.Generator, prov) -> None:
    from soat.sample import truth

    active = [s for s in prov.schools if s.active]
    special = any(s.role for s in prov.schools)
    ordinary = [s for s in active if s.role is None]
    rows = deadline_rows(prov)
    ext_school = None
    if special:
        ext_school = next(s for s in ordinary if s.levels == ("THPT",))
        rows.append(school_extension(prov, ext_school.code))
    prov.deadlines = rows
    as_of = prov.as_of
    items = truth.applicable(prov, rows)  # (school, level, period, data_type, target) -> winner

    # one group of pushes per (school, period, data_type, target): its dues over the levels
    groups: dict[tuple, list[dict]] = {}
    for key, win in items.items():
        sc, _lv, period, dtype, target = key
        groups.setdefault((sc, period, dtype, target), []).append(win)

    # designed cases (school code, period, data type, target) -> kind
    design: dict[tuple, str] = {}
    if special and len(ordinary) >= 4:
        thpt = [s for s in ordinary if s.levels == ("THPT",) and s is not ext_school]
        a, b = ordinary[0], ordinary[1]
        design[(a.code, "giua_nam", "staff", "Sở")] = "success_then_failure"
        design[(b.code, "giua_nam", "budget", "Sở")] = "failure_only"
        design[(b.code, "giua_nam", "budget", "Bộ")] = "missing"
        if thpt:
            design[(thpt[0].code, "dau_nam", "students", "Sở")] = "repush_after_lock"
        design[(ordinary[2].code, "dau_nam", "classes", "Sở")] = "on_due_day"

    school_of = {s.code: s for s in prov.schools}
    merged_old = {s.code: s.previous_codes[0] for s in active if s.previous_codes}
    missing_periods: set[tuple] = set()
    for s in ordinary:
        for period in ("dau_nam", "giua_nam", "cuoi_nam"):
            if rng.random() < 0.03:
                missing_periods.add((s.code, period))
    pushes: list[dict] = []
    last_push_key = None
    # the final push of the log: a pending item pushed early on the snapshot date
    pend = sorted(
        k
        for k, ws in groups.items()
        if min(w["due_date"] for w in ws) > as_of
        and k not in design
        and school_of[k[0]].role is None
    )
    if pend:
        last_push_key = pend[0]

    def stamp(day: dt.date, hour: int | None = None) -> dt.datetime:
        h = int(rng.integers(7, 17)) if hour is None else hour
        return dt.datetime(
            day.year, day.month, day.day, h, int(rng.integers(0, 60)), int(rng.integers(0, 60))
        )

    for key in sorted(groups):
        sc, period, dtype, target = key
        wins = groups[key]
        due_min = min(w["due_date"] for w in wins)
        due_max = max(w["due_date"] for w in wins)
        code = merged_old.get(sc, sc) if period == "dau_nam" and target == "Sở" else sc
        kind = design.get(key)
        out: list[tuple[dt.datetime, str]] = []
        if key == last_push_key:
            out.append((dt.datetime(as_of.year, as_of.month, as_of.day, 16, 45, 0), "Thành công"))
        elif kind == "success_then_failure":
            t = stamp(due_min - dt.timedelta(days=2))
            out += [(t, "Thành công"), (t + dt.timedelta(days=3, hours=1), "Thất bại")]
        elif kind == "failure_only":
            out.append((stamp(due_min - dt.timedelta(days=1)), "Thất bại"))
        elif kind == "missing":
            pass
        elif kind == "repush_after_lock":
            lock = max(w["lock_date"] for w in wins if w["lock_date"])
            out += [
                (stamp(due_min - dt.timedelta(days=1)), "Thành công"),
                (stamp(lock + dt.timedelta(days=11)), "Thành công"),
            ]
        elif kind == "on_due_day":
            out.append((stamp(due_min, hour=16), "Thành công"))
        else:
            future = due_min > as_of
            if (sc, period) in missing_periods and not future:
                pass
            elif future:
                if rng.random() < 0.55:
                    out.append(
                        (
                            stamp(
                                min(due_min, as_of) - dt.timedelta(days=int(rng.integers(1, 10)))
                            ),
                            "Thành công",
                        )
                    )
            else:
                r = rng.random()
                room = (as_of - due_max).days - 1
                if target == "Bộ" and (sc, period) in missing_periods:
                    r = 1.0
                if r < 0.035 and room >= 2:
                    late = int(rng.integers(1, min(room, 25) + 1))
                    out.append((stamp(due_max + dt.timedelta(days=late)), "Thành công"))
                elif r < 0.045:
                    pass  # missing
                else:
                    out.append(
                        (stamp(due_min - dt.timedelta(days=int(rng.integers(0, 8)))), "Thành công")
                    )
                if out and rng.random() < 0.06:  # a failure fixed the same day or before
                    t0 = out[0][0]
                    out.insert(0, (t0 - dt.timedelta(hours=2), "Thất bại"))
        for t, res in out:
            if t.date() > as_of or (t.date() == as_of and key != last_push_key and t.hour >= 16):
                t = dt.datetime(as_of.year, as_of.month, as_of.day, 9, 0) - dt.timedelta(days=1)
            pushes.append(
                {
                    "school_code": code,
                    "school_year": prov.school_year,
                    "period": period,
                    "data_type": dtype,
                    "target": target,
                    "pushed_at": t,
                    "result": res,
                    "error": ERRORS[int(rng.integers(0, len(ERRORS)))] if res == "Thất bại" else "",
                }
            )
    # pushes of a dissolved school before it closed (it expects nothing: ignored)
    for s in prov.schools:
        if s.status == "Giải thể":
            for dtype in DATA_TYPE_ORDER:
                pushes.append(
                    {
                        "school_code": s.code,
                        "school_year": prov.school_year,
                        "period": "dau_nam",
                        "data_type": dtype,
                        "target": "Sở",
                        "pushed_at": dt.datetime(prov.year_start, 9, 3, 10, 0),
                        "result": "Thành công",
                        "error": "",
                    }
                )
    pushes.sort(key=lambda p: (p["pushed_at"], p["school_code"], p["data_type"]))
    if not pushes or max(p["pushed_at"] for p in pushes).date() != as_of:
        pushes.append(
            {
                "school_code": active[0].code if active else prov.schools[0].code,
                "school_year": prov.school_year,
                "period": "cuoi_nam",
                "data_type": "budget",
                "target": "Bộ",
                "pushed_at": dt.datetime(as_of.year, as_of.month, as_of.day, 17, 0),
                "result": "Thành công",
                "error": "",
            }
        )
    prov.submissions = pushes
