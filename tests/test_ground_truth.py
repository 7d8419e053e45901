"""The committed sample province against its truth files: every check id finds exactly the
findings listed in data/sample/ground_truth.csv (recall = precision = 1.0 per check id),
and the `late` export equals data/sample/expected_late.csv row for row."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from soat import store

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
PROVINCE = SAMPLE / "province"

from loaders import load as load_mod  # noqa: E402


def _truth() -> set[tuple[str, str, str]]:
    with open(SAMPLE / "ground_truth.csv", encoding="utf-8") as f:
        return {(r["check_id"], r["record_key"], r["field"]) for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def loaded():
    from soat.engine import run_checks

    con = store.connect(":memory:")
    res = load_mod.load_source(con, str(PROVINCE))
    sid = res.snapshot_id
    checked = con.execute(
        "SELECT checked_at FROM snapshots WHERE snapshot_id = $s", {"s": sid}
    ).fetchall()[0][0]
    if checked is None:
        run_checks(con, sid)
    yield con, sid, res
    con.close()


def _found(con, sid) -> set[tuple[str, str, str]]:
    rows = con.execute(
        "SELECT check_id, record_key, coalesce(field, '') FROM findings WHERE snapshot_id = $s",
        {"s": sid},
    ).fetchall()
    return {(a, b or "", c) for a, b, c in rows}


def test_load_rejects_nothing(loaded):
    con, sid, res = loaded
    rejects = con.execute(
        'SELECT table_name, source, "row", "column", value, reason FROM rejects '
        "WHERE snapshot_id = $s AND row_dropped",
        {"s": sid},
    ).fetchall()
    assert rejects == []
    assert res.as_of.isoformat() == "2025-06-12"
    assert res.school_year == "2024-2025"


def test_every_check_ran(loaded):
    con, sid, _ = loaded
    rows = con.execute(
        "SELECT check_id, status, detail FROM check_runs WHERE snapshot_id = $s AND status <> 'ran'",
        {"s": sid},
    ).fetchall()
    assert rows == []


def _check_ids(con, sid) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT check_id FROM check_runs WHERE snapshot_id = $s ORDER BY 1", {"s": sid}
        ).fetchall()
    ]


def test_recall_and_precision_per_check(loaded):
    con, sid, _ = loaded
    truth = _truth()
    found = _found(con, sid)
    report = []
    for cid in sorted({t[0] for t in truth} | set(_check_ids(con, sid))):
        t = {x for x in truth if x[0] == cid}
        f = {x for x in found if x[0] == cid}
        missed, extra = sorted(t - f), sorted(f - t)
        if missed or extra:
            report.append(
                f"{cid}: recall {len(t & f)}/{len(t)}, precision {len(t & f)}/{len(f)}"
                f"\n  missed {missed[:10]}\n  extra  {extra[:10]}"
            )
    assert not report, "\n".join(report)


def test_truth_covers_every_check_of_the_catalogue(loaded):
    con, sid, _ = loaded
    truth_ids = {t[0] for t in _truth()}
    assert set(_check_ids(con, sid)) - truth_ids == set()


def test_late_export_matches_expected(loaded):
    from soat.exports import late
    from soat.scope import Scope

    con, sid, _ = loaded
    df = late.frame(con, sid, Scope.admin())

    def cell(v) -> str:
        if v is None:
            return ""
        if hasattr(v, "strftime") and hasattr(v, "hour"):
            return v.strftime("%Y-%m-%d %H:%M:%S")
        if hasattr(v, "isoformat"):
            return v.isoformat()
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    key = ("school_code", "level", "period", "data_type", "target")
    got = sorted(
        ({c: cell(v) for c, v in r.items()} for r in df.iter_rows(named=True)),
        key=lambda r: tuple(r[k] for k in key),
    )
    with open(SAMPLE / "expected_late.csv", encoding="utf-8") as f:
        want = sorted(csv.DictReader(f), key=lambda r: tuple(r[k] for k in key))
    assert list(df.columns)[:12] == list(want[0].keys())
    diffs = [(w, g) for w, g in zip(want, got, strict=False) if {k: g[k] for k in w} != w]
    assert len(got) == len(want)
    assert diffs[:5] == []
