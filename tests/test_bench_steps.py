"""benchmarks/step.py on the committed sample province: the `soat_load` step (the one
command `soat load`, whose time is the target's figure) ends with the same snapshot and
findings as the `load` and `checks` steps run apart, and every step reports its time."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks import step

PROVINCE = Path(__file__).resolve().parents[1] / "data" / "sample" / "province"


def test_soat_load_step_is_load_then_checks(tmp_path):
    t0 = time.perf_counter()
    one = step.soat_load(PROVINCE, str(tmp_path / "one.duckdb"), t0=t0)
    assert 0 < one["seconds"] <= time.perf_counter() - t0

    two_db = str(tmp_path / "two.duckdb")
    loaded = step.load(PROVINCE, two_db)
    checked = step.checks(PROVINCE, two_db)

    assert one["rows"] == checked["rows"] > 0  # students of the snapshot
    assert one["findings"] == checked["findings"] > 0
    assert loaded["rows"] > one["rows"]  # every table's rows
    assert set(checked["phases"]) == {"prelude", "checks", "history", "derived"}
