"""`soat export` writes an audit record: who (local), which export, filters, row count."""

from __future__ import annotations

import csv
import io

from soat import audit, store
from soat.cli import main

from .fixtures import build_full


def test_cli_export_is_audited(sqlite_db, tmp_path, capsys):
    path = str(tmp_path / "soat.duckdb")
    con = store.connect(path)
    sid = build_full(con)
    con.close()
    capsys.readouterr()
    assert main(["export", "late", "--db", path]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    out = tmp_path / "f.xlsx"
    assert (
        main(
            [
                "export",
                "findings",
                "--db",
                path,
                "--unit",
                "79760",
                "--format",
                "xlsx",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    ev = audit.read(action="export")
    assert [e["detail"]["kind"] for e in ev] == ["findings", "late"]
    late, findings = ev[1], ev[0]
    assert late["username"] == "local" and late["rows"] == len(rows) > 0
    assert late["detail"]["filters"] == {"snapshot": sid}
    assert late["detail"]["format"] == "csv" and late["detail"]["unmasked"] is True
    assert findings["detail"]["filters"] == {"snapshot": sid, "unit": "79760", "output": str(out)}
    assert findings["rows"] > 0


def test_unknown_check_is_bad_input_like_an_unknown_unit(sqlite_db, tmp_path, capsys):
    """Issue 19, finding 6: `--check UNKNOWN` exported an empty file and exited 0."""
    path = str(tmp_path / "soat.duckdb")
    con = store.connect(path)
    build_full(con)
    con.close()
    out = tmp_path / "x.csv"
    for kind in ("findings", "schools", "late"):
        capsys.readouterr()
        code = main(["export", kind, "--db", path, "--check", "student.khong_co", "-o", str(out)])
        err = capsys.readouterr().err
        assert code == 1 and "--check" in err and "student.khong_co" in err, err
        assert not out.exists()
    assert main(["export", "findings", "--db", path, "--unit", "99999"]) == 1  # as before
    assert audit.read(action="export") == []  # nothing exported, nothing logged
    for check in ("student.id_format", "student"):  # a check, or an entity's checks
        capsys.readouterr()
        assert main(["export", "findings", "--db", path, "--check", check]) == 0
        rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
        assert rows and all(r["check_id"].startswith(check) for r in rows)
    ev = audit.read(action="export")[0]
    assert ev["detail"]["filters"]["check"] == "student"
    assert ev["detail"]["scope"] == {"role": "admin"} and ev["rows"] == len(rows)
