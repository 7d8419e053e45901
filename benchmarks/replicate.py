"""A country's files from one province's: `copies` copies of every CSV file of a folder made
by `soat sample`, copy k under the k-th province code of soat.vocab.PROVINCE_CODES, so every
code and citizen ID stays unique across the copies and valid. DuckDB streams each file
(COPY … TO from read_csv joined to the list of codes): no Python over rows, little memory.
`soat sample` builds each table in memory and cannot make 12 M students on this machine;
twelve copies of a 2 M-student province make the country's 24 M.

    python -m benchmarks.replicate --src DIR --out DIR --copies 12

Which columns hold codes: a header that starts with "Mã" or ends with "_code" (the sample's
school, unit, class, student, staff and homeroom codes start with the province's two digits,
staff codes after "CB"; only that leading part is replaced, so a list of several previous
codes keeps the province of its later codes). "Số định danh cá nhân" holds citizen IDs,
whose first three digits (PPP) name the province of birth, the sample's own for nine in
ten: in copy k the PPP moves k - 1 places along the list of valid codes (a one-to-one
change within a copy, and IDs of different copies differ), the rest of the ID is kept;
an ID whose PPP is not a valid code (the sample's defects) is kept as it is, and repeats
across copies. Calendar rows that name no unit and no school are kept once: the copies
share one calendar.
"""

from __future__ import annotations

import argparse
from pathlib import Path

CITIZEN_ID = "Số định danh cá nhân"
CALENDAR = "lich_bao_cao.csv"


def province_of(src: Path) -> str:
    """The province's two digits: the first unit code's (don_vi.csv: the Sở comes first)."""
    import duckdb

    row = duckdb.execute(
        "SELECT unit_code FROM read_csv($f, all_varchar = true, header = true) LIMIT 1",
        {"f": str(src / "don_vi.csv")},
    ).fetchall()
    code = row[0][0] if row else ""
    if len(code) < 2 or not code[:2].isdigit():
        raise ValueError(f"{src / 'don_vi.csv'}: no province code in its first unit_code")
    return code[:2]


def province_codes(home: str, copies: int) -> list[str]:
    """`home` first, then other provinces' two digits in soat.vocab's order."""
    from soat.vocab import PROVINCE_CODES

    others = [c[1:] for c in PROVINCE_CODES if c[1:] != home]
    if copies < 1 or copies > len(others) + 1:
        raise ValueError(f"copies must be 1..{len(others) + 1}")
    return [home, *others[: copies - 1]]


def _select(columns: list[str]) -> str:
    out = []
    for c in columns:
        q = '"' + c.replace('"', '""') + '"'
        if c == CITIZEN_ID:
            at = f"coalesce(list_position($ppp, left({q}, 3)), 0)"
            expr = (
                f"CASE WHEN {at} > 0 THEN $ppp[({at} - 1 + p.k - 1) % len($ppp) + 1] "
                f"|| substr({q}, 4) ELSE {q} END"
            )
        elif c.startswith("Mã") or c.endswith("_code"):
            expr = f"regexp_replace({q}, '^(CB)?' || $home, '\\1' || p.code)"
        else:
            expr = q
        out.append(f"{expr} AS {q}")
    return ", ".join(out)


def replicate(src: Path, out: Path, copies: int) -> dict[str, int]:
    """Write the copies of every CSV file of `src` into `out`; rows written per file."""
    import duckdb

    from soat.engine import params_for
    from soat.vocab import PROVINCE_CODES

    home = province_of(src)
    values = {"home": home, "codes": province_codes(home, copies), "ppp": sorted(PROVINCE_CODES)}
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    rows: dict[str, int] = {}
    for f in sorted(src.glob("*.csv")):
        described = con.execute(
            "DESCRIBE SELECT * FROM read_csv($f, all_varchar = true, header = true)",
            {"f": str(f)},
        ).fetchall()
        columns = [r[0] for r in described]
        where = ""
        if f.name == CALENDAR:
            where = 'WHERE p.k = 1 OR coalesce("Mã đơn vị", "Mã trường") IS NOT NULL'
        sql = (
            f"COPY (SELECT {_select(columns)} "
            "FROM read_csv($f, all_varchar = true, header = true) "
            "CROSS JOIN (SELECT unnest($codes) AS code, "
            "generate_subscripts($codes, 1) AS k) p "
            f"{where}) TO $o (HEADER, DELIMITER ',')"
        )
        params = {**values, "f": str(f), "o": str(out / f.name)}
        rows[f.name] = con.execute(sql, params_for(sql, params)).fetchall()[0][0]
    con.close()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--src", required=True, help="a folder made by `soat sample --format csv`")
    p.add_argument("--out", required=True)
    p.add_argument("--copies", type=int, required=True)
    a = p.parse_args()
    for name, n in replicate(Path(a.src), Path(a.out), a.copies).items():
        print(f"{name}: {n:,} rows")


if __name__ == "__main__":
    main()
