"""soat sample: determinism, sizes, truth coverage, names, citizen IDs, the CLI."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pytest

from soat.cli import main
from soat.sample import generate
from soat.sample import names as N
from soat.vocab import PROVINCE_CODES

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"

# every check id of shared/spec/checks.md, plus the two peer outliers
SPEC_IDS = {
    *(
        f"student.{c}"
        for c in (
            "missing_field",
            "invalid_value",
            "dob_invalid",
            "id_format",
            "id_province",
            "id_mismatch",
            "unverified",
            "duplicate_id",
            "duplicate_code",
            "age_grade",
            "class_unknown",
            "school_unknown",
        )
    ),
    *(
        f"staff.{c}"
        for c in (
            "missing_field",
            "invalid_value",
            "dob_invalid",
            "id_format",
            "id_province",
            "id_mismatch",
            "unverified",
            "duplicate_code",
            "duplicate_payroll",
            "retired_on_payroll",
            "school_unknown",
        )
    ),
    *(
        f"class.{c}"
        for c in (
            "missing_field",
            "homeroom_unknown",
            "size_mismatch",
            "grade_level",
            "empty",
            "size_outlier",
        )
    ),
    "school.missing_field",
    "school.unit_unknown",
    "school.no_records",
    "school.ptr_outlier",
    "report.age_total_mismatch",
    "report.records_mismatch",
    "source.count_mismatch",
    "submission.late",
    "submission.missing",
    "submission.last_failed",
    "submission.after_lock",
}


def _digest(folder: Path, skip: str | None = None) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not (skip and p.relative_to(folder).parts[0] == skip)
    }


def _rows(path: Path, sep: str = ",") -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=sep))


def _truth(folder: Path = SAMPLE) -> list[dict]:
    return _rows(folder / "ground_truth.csv")


def test_same_seed_same_bytes(tmp_path):
    generate(tmp_path / "a" / "province", schools=24, seed=7)
    generate(tmp_path / "b" / "province", schools=24, seed=7)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b
    assert any(k.endswith(".xlsx") for k in a)


def test_other_seed_other_data(tmp_path):
    generate(tmp_path / "a" / "province", schools=24, seed=7)
    generate(tmp_path / "b" / "province", schools=24, seed=8)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a["province/hoc_sinh.csv"] != b["province/hoc_sinh.csv"]


def test_committed_sample_is_the_default_output(tmp_path):
    """Everything committed in data/sample/ is what `soat sample` writes; the province a week
    later (province_week2/, not committed: `soat sample` and `soat demo` make it) too when
    present."""
    s = generate(tmp_path / "province")
    assert s.week2_dir == tmp_path / "province_week2" and s.week2_dir.is_dir()
    assert _digest(tmp_path, skip="province_week2") == _digest(SAMPLE, skip="province_week2")
    if (SAMPLE / "province_week2").is_dir():
        assert _digest(s.week2_dir) == _digest(SAMPLE / "province_week2")


def test_one_week_writes_one_province(tmp_path):
    s = generate(tmp_path / "province", schools=24, seed=7, weeks=1)
    assert s.week2_dir is None and not (tmp_path / "province_week2").exists()
    assert not (tmp_path / "ground_truth_week2.csv").exists()


def test_week_later_of_a_small_province_moves_the_date_only(tmp_path):
    s = generate(tmp_path / "province", schools=6, seed=3, formats="csv")
    assert (s.week2_as_of - s.as_of).days == 7
    ids = {r["check_id"] for r in _rows(tmp_path / "ground_truth_week2.csv")}
    assert {i for i in ids if not i.startswith("submission.")} == set()


def test_computed_truth_agrees_with_the_listed_defects():
    """The report, software and submission findings computed from what was written (used
    for the week after) are the ones the first week's defects listed."""
    from soat.sample import build
    from soat.sample import truth as T

    prov = build()
    listed = {
        (r["check_id"], r["record_key"], r["field"])
        for r in prov.truth
        if r["check_id"].startswith(("report.", "source.", "submission."))
    }
    computed = {(c, sc, f) for c, sc, f, _p in T.report_findings(prov)}
    computed |= set(T.source_findings(prov))
    computed |= {(c, sc, f) for c, sc, f, _p in T.submission_findings(prov)}
    assert computed == listed


def test_week_later_design():
    """The week after: fixed and made record defects, the four trend defects, the push log."""
    rows = _rows(SAMPLE / "expected_changes.csv")
    new = [r for r in rows if r["change"] == "new"]
    resolved = [r for r in rows if r["change"] == "resolved"]
    assert sum(r["note"] == "đã sửa" for r in resolved) == 7
    made = [r for r in new if r["check_id"].split(".")[0] in ("student", "staff", "class")]
    assert len(made) >= 6
    assert {r["check_id"] for r in new if r["check_id"].startswith("trend.")} == {
        "trend.enrolment_change",
        "trend.staff_change",
        "trend.school_vanished",
        "trend.class_count_change",
    }
    assert {r["check_id"] for r in new} >= {"submission.late", "submission.missing"}
    assert "submission.missing" in {r["check_id"] for r in resolved}
    vanished = next(r["school_code"] for r in new if r["check_id"] == "trend.school_vanished")
    assert all(
        r["note"] == "trường không còn trong bản xuất"
        for r in resolved
        if r["school_code"] == vanished
    )
    truth2 = {r["check_id"] for r in _truth()} | {
        r["check_id"] for r in _rows(SAMPLE / "ground_truth_week2.csv")
    }
    assert SPEC_IDS | {r["check_id"] for r in new if r["check_id"].startswith("trend.")} <= truth2


def test_sizes_follow_options(tmp_path):
    s = generate(tmp_path / "province", schools=20, students=3000, seed=2, formats="csv")
    assert s.schools == 20 and s.students == 3000
    assert len(_rows(tmp_path / "province" / "truong.csv")) == 20
    assert len(_rows(tmp_path / "province" / "hoc_sinh.csv")) == 3000
    s = generate(tmp_path / "p2", schools=5, seed=2, formats="csv")
    assert s.schools == 5
    assert len(_rows(tmp_path / "p2" / "truong.csv")) == 5


def test_every_check_id_has_truth():
    ids = {r["check_id"] for r in _truth()}
    assert SPEC_IDS - ids == set()


def test_outliers_are_only_the_designed_ones():
    rows = [r for r in _truth() if r["check_id"].endswith("_outlier")]
    assert len(rows) == 2
    assert all("thiết kế là ngoại lai" in r["defect"] for r in rows)


def test_small_province_has_no_record_defects(tmp_path):
    generate(tmp_path / "province", schools=6, seed=3, formats="csv")
    ids = {r["check_id"] for r in _truth(tmp_path)}
    assert {i for i in ids if not i.startswith("submission.")} == set()


def test_names_are_ho_dem_ten():
    rows = _rows(SAMPLE / "province" / "hoc_sinh.csv")
    checked = 0
    for r in rows:
        name, gender = r["Họ và tên"], r["Giới tính"]
        if not name:
            continue
        parts = name.split(" ")
        assert len(parts) == 3, name
        assert parts[0] in N.FAMILY_NAMES, name
        assert parts[1] in N.MIDDLE[gender], (name, gender)
        assert parts[2] in N.GIVEN[gender], (name, gender)
        checked += 1
    assert checked > 1000


def test_citizen_ids_valid_on_clean_records():
    flagged = {r["record_key"] for r in _truth() if r["check_id"].startswith("student.")}
    rows = _rows(SAMPLE / "province" / "hoc_sinh.csv")
    seen: dict[str, int] = {}
    n = 0
    for r in rows:
        if r["Mã học sinh"] in flagged or r["Trạng thái"] != "Đang học":
            continue
        cid, dob, gender = r["Số định danh cá nhân"], r["Ngày sinh"], r["Giới tính"]
        assert re.fullmatch(r"\d{12}", cid), cid
        assert cid[:3] in PROVINCE_CODES
        year = int(dob[-4:])
        g = int(cid[3])
        assert g % 2 == (1 if gender == "Nữ" else 0)
        assert g // 2 == year // 100 - 19
        assert cid[4:6] == f"{year % 100:02d}"
        seen[cid] = seen.get(cid, 0) + 1
        n += 1
    assert n > 1000
    assert max(seen.values()) == 1  # no accidental duplicate among clean active pupils


def test_truth_files_shape():
    truth = _truth()
    assert list(truth[0].keys())[:3] == ["check_id", "record_key", "field"]
    late = _rows(SAMPLE / "expected_late.csv")
    assert list(late[0].keys()) == [
        "school_code",
        "school_name",
        "unit_code",
        "unit_name",
        "level",
        "period",
        "data_type",
        "target",
        "due_date",
        "first_success_at",
        "status",
        "days_late",
    ]
    assert {r["status"] for r in late} == {"on_time", "late", "missing", "pending"}


def test_cli_writes_csv_province(tmp_path, capsys):
    out = tmp_path / "p" / "province"
    rc = main(["sample", "-o", str(out), "--schools", "24", "--seed", "2", "--format", "csv"])
    assert rc == 0
    files = sorted(p.name for p in out.iterdir())
    assert files and all(f.endswith(".csv") for f in files)
    assert (tmp_path / "p" / "ground_truth.csv").exists()
    assert (tmp_path / "p" / "expected_late.csv").exists()
    assert "ground_truth.csv" in capsys.readouterr().out


def test_cli_xlsx_format(tmp_path):
    out = tmp_path / "province"
    assert main(["sample", "-o", str(out), "--schools", "24", "--format", "xlsx"]) == 0
    assert all(p.suffix == ".xlsx" for p in out.iterdir())


@pytest.mark.parametrize(
    "argv", [["--schools", "0"], ["--students", "-3"], ["--year", "2024"], ["--format", "ods"]]
)
def test_cli_usage_errors(tmp_path, argv, capsys):
    with pytest.raises(SystemExit) as e:
        rc = main(["sample", "-o", str(tmp_path / "x"), *argv])
        raise SystemExit(rc)
    assert e.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_week_later_of_big_schools_names_new_classes_past_j(tmp_path):
    """Week 2 opens two classes in a school's last primary grade: in schools of ≈ 2 500
    pupils that grade already has ten or more classes, and the names went past 'J' (the
    generator crashed for 100 000 students and more); they follow the generator's own
    naming (1K, …, 1Z, 1A1 …), each name once per school."""
    s = generate(tmp_path / "province", schools=24, students=60_000, seed=1, formats="csv")
    classes = _rows(s.week2_dir / "lop.csv")
    names = [(r["Mã trường"], r["Tên lớp"]) for r in classes]
    assert len(names) == len(set(names))
