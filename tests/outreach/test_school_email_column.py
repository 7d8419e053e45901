"""The schools table accepts an optional e-mail column ("Email", "Thư điện tử")."""

from __future__ import annotations

import pytest

from loaders.load import load_source
from tests.loaders.loader_helpers import folder


@pytest.mark.parametrize("header", ["Email", "Thư điện tử", "E-mail", "thu dien tu"])
def test_email_column_is_loaded(con, tmp_path, header):
    rows = [
        ["Mã trường", "Tên trường", "Mã đơn vị quản lý", "Cấp học", header],
        ["S1", "Trường Tiểu học Lê Lợi", "79760", "TH", " c1leloi@hcm.edu.vn "],
        ["S2", "Trường B", "79760", "THCS", ""],
    ]
    src = folder(tmp_path, {"truong.csv": rows}, schools=False)
    sid = load_source(con, str(src)).snapshot_id
    got = con.execute(
        "SELECT school_code, email FROM schools WHERE snapshot_id = $s ORDER BY 1", {"s": sid}
    ).fetchall()
    assert got == [("S1", "c1leloi@hcm.edu.vn"), ("S2", None)]
    extra = con.execute(
        "SELECT extra_columns FROM snapshot_tables WHERE snapshot_id = $s AND table_name = 'schools'",
        {"s": sid},
    ).fetchall()[0][0]
    assert not extra  # a known column, not kept as an extra one


def test_schools_without_the_column_still_load(con, tmp_path):
    src = folder(tmp_path, {})
    sid = load_source(con, str(src)).snapshot_id
    assert con.execute(
        "SELECT count(*), count(email) FROM schools WHERE snapshot_id = $s", {"s": sid}
    ).fetchall() == [(2, 0)]
