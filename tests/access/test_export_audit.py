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
