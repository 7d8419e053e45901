"""Build tiny snapshots in code, for tests: rows given as dicts of canonical columns.

    con = store.connect(":memory:")
    sid = build_snapshot(con, {"schools": [school()], "students": [student(), ...]})

Only the tables given are 'present' (others make their checks 'not run'). Values are
stored as given (already canonical); a `<col>_raw` companion is filled from the value
when not given. Helpers `unit()`, `school()`, `klass()`, `student()`, `staff_member()`
return a valid record that fires no check, with keyword overrides.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from loaders.contract import RAW_KINDS, TABLES
from soat.snapshot import compute_unit_closure, next_snapshot_id

AS_OF = dt.date(2024, 10, 15)
YEAR = "2024-2025"


def cli(*argv: str) -> tuple[int, str, str]:
    """`soat ARGV…` in this process: (exit status, what it printed, what it told on stderr)."""
    import contextlib
    import io

    from soat.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _frame(table_name: str, rows: list[dict]) -> pl.DataFrame:
    table = TABLES[table_name]
    known = set(table.column_names) | {f"{c.name}_raw" for c in table.columns}
    out = []
    for row in rows:
        unknown = set(row) - known - {"_row", "_source", "_sheet"}
        if unknown:
            raise KeyError(f"{table_name}: unknown columns {sorted(unknown)}")
        r = dict(row)
        for c in table.columns:
            r.setdefault(c.name, None)
            if c.kind in RAW_KINDS:
                v = r[c.name]
                default_raw = (
                    None if v is None else ("&".join(v) if isinstance(v, list) else str(v))
                )
                r.setdefault(f"{c.name}_raw", default_raw)
        out.append(r)
    return pl.DataFrame(out, infer_schema_length=None) if out else pl.DataFrame()


def build_snapshot(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, list[dict]],
    as_of: dt.date = AS_OF,
    school_year: str = YEAR,
    name: str = "test",
    snapshot_id: int | None = None,
) -> int:
    sid = snapshot_id or next_snapshot_id(con)
    counts = {}
    for table_name, rows in tables.items():
        df = _frame(table_name, rows)
        counts[table_name] = len(rows)
        if len(rows):
            if "_row" not in df.columns:
                df = df.with_row_index("_row", offset=2).with_columns(pl.col("_row").cast(pl.Int64))
            if "_source" not in df.columns:
                df = df.with_columns(pl.lit(f"{table_name}.csv").alias("_source"))
            con.register("_rows", df.to_arrow())
            cols = ", ".join(f'"{c}"' for c in df.columns)
            con.execute(
                f'INSERT INTO "{table_name}" BY NAME SELECT $s AS snapshot_id, {cols} FROM _rows',
                {"s": sid},
            )
            con.unregister("_rows")
        con.execute(  # every column is there (empty where a row does not give it)
            "INSERT INTO snapshot_tables VALUES ($s, $t, $src, NULL, 1, $n, 0, $cols, [])",
            {
                "s": sid,
                "t": table_name,
                "src": f"{table_name}.csv",
                "n": len(rows),
                "cols": list(TABLES[table_name].column_names),
            },
        )
    con.execute(
        """INSERT INTO snapshots (snapshot_id, name, source, source_kind, school_year, as_of,
                                  loaded_at, load_seconds, row_counts, rejected)
           VALUES ($s, $name, 'test', 'test', $y, $a, timezone('UTC', now()), 0, MAP {}, 0)""",
        {"s": sid, "name": name, "y": school_year, "a": as_of},
    )
    compute_unit_closure(con, sid)
    return sid


def run(con: duckdb.DuckDBPyConnection, tables: dict[str, list[dict]], **kw) -> int:
    """Build a snapshot and run the whole catalogue on it."""
    from soat.engine import run_checks

    sid = build_snapshot(con, tables, **kw)
    run_checks(con, sid)
    return sid


def findings(con: duckdb.DuckDBPyConnection, sid: int, check_id: str | None = None) -> list[dict]:
    sql = "SELECT * FROM findings WHERE snapshot_id = $s"
    p: dict = {"s": sid}
    if check_id:
        sql += " AND check_id = $c"
        p["c"] = check_id
    cur = con.execute(sql + " ORDER BY check_id, record_key, field", p)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


# ---- valid records -------------------------------------------------------------------


def unit(**kw) -> dict:
    return {
        "unit_code": "79760",
        "unit_name": "Phòng GD&ĐT Quận 1",
        "unit_tier": "Phòng",
        "parent_code": "79",
        **kw,
    }


def province_unit(**kw) -> dict:
    return {
        "unit_code": "79",
        "unit_name": "Sở GD&ĐT TP Hồ Chí Minh",
        "unit_tier": "Sở",
        "parent_code": None,
        **kw,
    }


def school(**kw) -> dict:
    return {
        "school_code": "S1",
        "school_name": "Trường Tiểu học Lê Lợi",
        "unit_code": "79760",
        "levels": ["TH"],
        "ownership": "Công lập",
        "software": "SMAS",
        "principal": "Nguyễn Văn An",
        "national_standard": "Mức 1",
        "accreditation": "Cấp độ 2",
        "internet": "Có",
        "previous_codes": None,
        "status": "Hoạt động",
        **kw,
    }


def klass(**kw) -> dict:
    return {
        "class_code": "1A",
        "school_code": "S1",
        "school_year": YEAR,
        "class_name": "1A",
        "grade": "1",
        "homeroom_code": "GV1",
        "language_programme": "Tiếng Anh 10 năm",
        "language_periods": 4,
        "declared_size": 1,
        **kw,
    }


def student(**kw) -> dict:
    return {
        "student_code": "HS1",
        "school_code": "S1",
        "class_code": "1A",
        "school_year": YEAR,
        "full_name": "Trần Thị Bình",
        "birth_date": dt.date(2018, 3, 2),
        "gender": "Nữ",
        "ethnicity": "Kinh",
        "citizen_id": "079318000123",
        "id_verified": "Đã xác thực",
        "permanent_address": "12 Lê Lợi, Phường Bến Nghé",
        "status": "Đang học",
        "updated_at": dt.datetime(2024, 9, 10, 8, 0),
        **kw,
    }


def staff_member(**kw) -> dict:
    return {
        "staff_code": "GV1",
        "school_code": "S1",
        "full_name": "Lê Văn Cường",
        "birth_date": dt.date(1985, 5, 20),
        "gender": "Nam",
        "ethnicity": "Kinh",
        "citizen_id": "079085000456",
        "id_verified": "Đã xác thực",
        "permanent_address": "5 Hai Bà Trưng, Phường Bến Nghé",
        "position": "Giáo viên",
        "contract": "Biên chế",
        "qualification": "Đại học",
        "subject": "Toán",
        "status": "Đang làm việc",
        **kw,
    }


def valid_province(**overrides) -> dict[str, list[dict]]:
    """A one-school province that fires no check; override any table's rows."""
    tables = {
        "units": [province_unit(), unit()],
        "schools": [school()],
        "classes": [klass()],
        "students": [student()],
        "staff": [staff_member()],
    }
    tables.update(overrides)
    return tables
