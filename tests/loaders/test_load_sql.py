"""SQL sources over real PostgreSQL and MariaDB: the snapshot equals the one from files.

Each test run creates its own PostgreSQL schema / MariaDB database `soat_test_<random>`
(parallel workers never collide) and drops it at the end. Locally the tests skip when a
server is unreachable; with CI=true they fail (tests.conftest.require)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from loader_helpers import load, write_csv

from loaders.contract import TABLES

try:
    from tests.conftest import reachable, require
except ImportError:  # tests/ is not a package: the rootdir conftest is importable as `conftest`
    from conftest import reachable, require

PG_URLS = [
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
]
MY_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


@pytest.fixture(params=["postgresql", "mariadb"])
def sql_source(request):
    """(url of a fresh, empty schema/database, kind); dropped afterwards."""
    name = f"soat_test_{uuid.uuid4().hex[:10]}"
    if request.param == "postgresql":
        base = next((u for u in PG_URLS if reachable(u)), None)
        require(base is not None, "PostgreSQL not reachable on 127.0.0.1:5432")
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        url = f"{base}?options=-csearch_path%3D{name}"
        try:
            yield url, "postgresql"
        finally:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
            admin.dispose()
    else:
        require(reachable(MY_URL), "MariaDB not reachable on 127.0.0.1:3306")
        admin = sa.create_engine(MY_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        try:
            yield MY_URL.rsplit("/", 1)[0] + f"/{name}?charset=utf8mb4", "mariadb"
        finally:
            with admin.connect() as c:
                c.execute(sa.text(f"DROP DATABASE `{name}`"))
            admin.dispose()


T = sa.Text
SCHEMA = {
    "truong": [
        ("school_code", sa.String(20)),
        ("Tên trường", T),
        ("unit_code", sa.Integer),
        ("levels", T),
        ("status", T),
    ],
    "hoc_sinh": [
        ("student_code", sa.String(20)),
        ("school_code", sa.String(20)),
        ("class_code", sa.String(20)),
        ("school_year", T),
        ("full_name", T),
        ("birth_date", sa.Date),
        ("gender", T),
        ("ethnicity", T),
        ("citizen_id", sa.BigInteger),
        ("updated_at", sa.DateTime),
        ("ghi_chu", T),
    ],
    "lop": [
        ("class_code", sa.String(20)),
        ("school_code", sa.String(20)),
        ("class_name", T),
        ("grade", sa.Integer),
        ("declared_size", sa.Integer),
        ("language_periods", sa.Integer),
    ],
    "ngan_sach": [
        ("school_code", sa.String(20)),
        ("school_year", T),
        ("source", T),
        ("amount", sa.Numeric(18, 2)),
    ],
    "lich_su_tiep_nhan": [
        ("school_code", sa.String(20)),
        ("period", T),
        ("data_type", T),
        ("pushed_at", sa.DateTime),
        ("result", T),
        ("target", T),
    ],
    "bang_khac": [("x", T)],
}
ROWS = {
    "truong": [
        ("S1", "Trường Tiểu học Lê Lợi", 79760, "TH&THCS", None),
        ("S2", "Trường THCS Nguyễn Du", 79760, "Trung học cơ sở", "Sáp nhập"),
    ],
    "hoc_sinh": [
        (
            "HS1",
            "S1",
            "1A",
            "2024 - 2025",
            "Nguyễn Thị Ánh",
            dt.date(2018, 3, 2),
            "nữ",
            "H'Mông",
            79318000123,
            dt.datetime(2024, 9, 10, 8, 30),
            "ghi chú 1",
        ),
        (
            "HS2",
            "S1",
            "1A",
            "2024-2025",
            "Trần Văn Bình",
            dt.date(2017, 12, 31),
            "Nam",
            "Kinh",
            None,
            None,
            None,
        ),
    ],
    "lop": [("1A", "S1", "1A", 1, 35, 4), ("6A", "S2", "6A", 6, 40, None)],
    "ngan_sach": [("S1", "2024-2025", "NSNN", 1250000), ("S2", "2024-2025", "NSNN", 99.5)],
    "lich_su_tiep_nhan": [
        ("S1", "Tháng 9", "Hồ sơ CBGV", dt.datetime(2024, 10, 20, 9, 0), "Thành công", "Sở")
    ],
    "bang_khac": [("y",)],
}
# The same export as files, written the way officers' files carry it.
FILES = {
    "truong.csv": [
        ["Mã trường", "Tên trường", "Mã đơn vị quản lý", "Cấp học", "Trạng thái"],
        ["S1", "Trường Tiểu học Lê Lợi", "79760", "TH&THCS", ""],
        ["S2", "Trường THCS Nguyễn Du", "79760", "Trung học cơ sở", "Sáp nhập"],
    ],
    "hoc_sinh.csv": [
        [
            "Mã học sinh",
            "Mã trường",
            "Mã lớp",
            "Năm học",
            "Họ và tên",
            "Ngày sinh",
            "Giới tính",
            "Dân tộc",
            "Số định danh cá nhân",
            "Ngày cập nhật",
            "ghi_chu",
        ],
        [
            "HS1",
            "S1",
            "1A",
            "2024 - 2025",
            "Nguyễn Thị Ánh",
            "02/03/2018",
            "nữ",
            "H'Mông",
            "079318000123",
            "10/09/2024 08:30",
            "ghi chú 1",
        ],
        ["HS2", "S1", "1A", "2024-2025", "Trần Văn Bình", "31/12/2017", "Nam", "Kinh", "", "", ""],
    ],
    "lop.csv": [
        ["Mã lớp", "Mã trường", "Tên lớp", "Khối", "Sĩ số", "Số tiết NN/tuần"],
        ["1A", "S1", "1A", "1", "35", "4"],
        ["6A", "S2", "6A", "6", "40", ""],
    ],
    "ngan_sach.csv": [
        ["Mã trường", "Năm học", "Nguồn", "Số tiền"],
        ["S1", "2024-2025", "NSNN", "1.250.000"],
        ["S2", "2024-2025", "NSNN", "99,5"],
    ],
    "lich_su_tiep_nhan.csv": [
        ["Mã trường", "Kỳ báo cáo", "Loại dữ liệu", "Thời điểm", "Kết quả", "Đích"],
        ["S1", "Tháng 9", "Hồ sơ CBGV", "20/10/2024 09:00", "Thành công", "Sở"],
    ],
}


def _canonical(con, table: str, sid: int) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in TABLES[table].column_names)
    return con.execute(
        f'SELECT {cols} FROM "{table}" WHERE snapshot_id = $s ORDER BY ALL', {"s": sid}
    ).fetchall()


@pytest.mark.db
def test_sql_source_equals_files(con, tmp_path, sql_source):
    url, kind = sql_source
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    tables = {
        name: sa.Table(name, meta, *[sa.Column(c, t) for c, t in cols])
        for name, cols in SCHEMA.items()
    }
    meta.create_all(engine)
    with engine.begin() as c:
        for name, rows_ in ROWS.items():
            cols = [col for col, _ in SCHEMA[name]]
            c.execute(tables[name].insert(), [dict(zip(cols, r, strict=True)) for r in rows_])
    engine.dispose()

    from_sql = load(con, url, as_of=dt.date(2024, 10, 25))
    d = tmp_path / "files"
    for name, rows_ in FILES.items():
        write_csv(d / name, rows_)
    from_files = load(con, d, as_of=dt.date(2024, 10, 25))

    assert from_sql.rows == from_files.rows
    assert from_sql.skipped == ["bang_khac"]
    assert from_sql.source_kind == "sql"
    for table in from_files.rows:
        assert _canonical(con, table, from_sql.snapshot_id) == _canonical(
            con, table, from_files.snapshot_id
        ), (kind, table)
    hs = con.execute(
        "SELECT citizen_id, _sheet, _row, _extra FROM students WHERE snapshot_id = $s ORDER BY _row",
        {"s": from_sql.snapshot_id},
    ).fetchall()
    assert hs[0] == ("079318000123", "hoc_sinh", 1, {"ghi_chu": "ghi chú 1"})
    src = con.execute(
        "SELECT source FROM snapshots WHERE snapshot_id = $s", {"s": from_sql.snapshot_id}
    ).fetchall()[0][0]
    assert "://" in src
