"""benchmarks.replicate: a country's files as copies of one province's, every code and
citizen ID kept unique across the copies (the national benchmark loads 12 copies)."""

from __future__ import annotations

import duckdb

from benchmarks import replicate


def _write(path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _rows(path) -> list[dict]:
    rel = duckdb.execute(
        "SELECT * FROM read_csv($f, all_varchar = true, header = true)", {"f": str(path)}
    )
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def test_copies_get_other_province_codes_and_unique_ids(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    _write(
        src / "don_vi.csv",
        "unit_code,unit_name,unit_tier,parent_code\n86,Sở,Sở,\n86859,Phòng,Phòng,86\n",
    )
    _write(src / "truong.csv", "Mã trường,Tên trường,Mã đơn vị quản lý\n86000001,Trường A,86859\n")
    _write(
        src / "hoc_sinh.csv",
        "\ufeffMã học sinh,Mã trường,Họ và tên,Số định danh cá nhân\n"
        "8600000100001,86000001,Nguyễn Văn An,086220019221\n"
        "8600000100002,86000001,Lê Thị Bình,034220019222\n"  # born in another province
        "8600000100003,86000001,Trần Văn Cường,999220019223\n",  # not a province: kept
    )
    _write(src / "can_bo.csv", "Mã cán bộ,Mã trường\nCB860000010001,86000001\n")
    _write(
        src / "lich_bao_cao.csv",
        "Năm học,Kỳ báo cáo,Hạn,Mã đơn vị,Mã trường\n"
        "2024-2025,Đầu năm,06/09/2024,,\n"
        "2024-2025,Đầu năm,10/09/2024,86859,\n",
    )
    codes = replicate.province_codes("86", 3)
    assert codes[0] == "86" and len(set(codes)) == 3

    rows = replicate.replicate(src, out, 3)
    assert rows["hoc_sinh.csv"] == 9 and rows["truong.csv"] == 3 and rows["don_vi.csv"] == 6

    students = _rows(out / "hoc_sinh.csv")
    assert len({s["Mã học sinh"] for s in students}) == 9
    assert {s["Mã trường"] for s in students} == {c + "000001" for c in codes}
    assert {s["Họ và tên"] for s in students} == {"Nguyễn Văn An", "Lê Thị Bình", "Trần Văn Cường"}
    ids = [s["Số định danh cá nhân"] for s in students]
    valid = [i for i in ids if not i.startswith("999")]
    assert len(set(valid)) == 6  # unique across copies
    assert all(i[3:] in ("220019221", "220019222") for i in valid)  # sex, year, serial kept
    assert ids.count("999220019223") == 3  # an invalid PPP is left as it was
    assert {s["Mã cán bộ"] for s in _rows(out / "can_bo.csv")} == {
        f"CB{c}0000010001" for c in codes
    }
    units = _rows(out / "don_vi.csv")
    assert {(u["unit_code"], u["parent_code"]) for u in units} == {(c, None) for c in codes} | {
        (c + "859", c) for c in codes
    }
    calendar = _rows(out / "lich_bao_cao.csv")
    assert sorted((r["Hạn"], r["Mã đơn vị"]) for r in calendar) == [
        ("06/09/2024", None),  # the province-wide row, once
        *sorted(("10/09/2024", c + "859") for c in codes),
    ]


def test_the_province_is_read_from_the_first_unit(tmp_path):
    _write(tmp_path / "don_vi.csv", "unit_code,unit_name\n79,Sở\n")
    assert replicate.province_of(tmp_path) == "79"
