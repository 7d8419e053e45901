"""Normalisation in DuckDB SQL: staged text columns -> the canonical, typed snapshot table.

Everything here is set-based. Python only builds SQL text from the contract (identifiers
and our own vocabulary constants) and the mapping tables from soat.vocab; data values
always travel as columns or named parameters.

Temporary objects created by `install` (per connection, idempotent):
  macros  soat_clean(x)   NFC, trim (spaces, tabs, NBSP, line breaks), empty markers -> NULL
          soat_key(x)     vocabulary key: lower-case, spaces / '-' / '_' / apostrophes / dots dropped
          soat_key2(x)    soat_key without diacritics (đ -> d), the fallback key
          soat_date(x), soat_ts(x), soat_num(x), soat_int(x)
  table   _soat_vmap(vocab, k, canonical)   exact keys
          _soat_vmap2(vocab, k, canonical)  diacritics-free keys that are unambiguous
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from loaders.contract import RAW_KINDS, TABLES, VOCABS
from loaders.headers import HeaderMap
from soat import vocab

EMPTY_MARKERS_SQL = "('', '-', '--', 'n/a', 'null')"  # compared lower-cased

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]
TS_FORMATS = [
    f"{d} {t}"
    for d in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
    for t in ("%H:%M:%S", "%H:%M", "%H:%M:%S.%f")
] + ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M"]


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + s.replace("'", "''") + "'" for s in items) + "]"


MACROS = f"""
CREATE OR REPLACE TEMP MACRO soat_trim(x) AS
    trim(nfc_normalize(x), ' ' || chr(9) || chr(10) || chr(13) || chr(160) || chr(65279));
CREATE OR REPLACE TEMP MACRO soat_clean0(t) AS
    CASE WHEN lower(t) IN {EMPTY_MARKERS_SQL} THEN NULL ELSE t END;
CREATE OR REPLACE TEMP MACRO soat_clean(x) AS soat_clean0(soat_trim(CAST(x AS VARCHAR)));
CREATE OR REPLACE TEMP MACRO soat_key(x) AS
    lower(regexp_replace(x, '[\\s\\-_''’.]+', '', 'g'));
CREATE OR REPLACE TEMP MACRO soat_key2(x) AS
    replace(strip_accents(soat_key(x)), 'đ', 'd');
-- Excel serial day numbers (5 digits: 1927-05-18 … 2173-10-14), 4-digit values are years, not dates
CREATE OR REPLACE TEMP MACRO soat_is_serial(x) AS
    regexp_full_match(x, '\\d{{5}}(\\.\\d+)?');
CREATE OR REPLACE TEMP MACRO soat_date(x) AS coalesce(
    CAST(try_strptime(x, {_sql_list(DATE_FORMATS)}) AS DATE),
    CAST(try_strptime(x, {_sql_list(TS_FORMATS)}) AS DATE),
    CASE WHEN soat_is_serial(x)
         THEN CAST(DATE '1899-12-30' + CAST(floor(CAST(x AS DOUBLE)) AS INTEGER) AS DATE) END);
CREATE OR REPLACE TEMP MACRO soat_ts(x) AS coalesce(
    try_strptime(x, {_sql_list(TS_FORMATS)}),
    try_strptime(x, {_sql_list(DATE_FORMATS)}),
    CASE WHEN soat_is_serial(x)
         THEN TIMESTAMP '1899-12-30 00:00:00'
              + to_microseconds(CAST(round(CAST(x AS DOUBLE) * 86400000000) AS BIGINT)) END);
-- Numbers written the Vietnamese way: '.' groups thousands, ',' is the decimal mark.
-- '1.250.000' = 1250000, '1.250' = 1250, '1,5' = 1.5, '1.250,5' = 1250.5.
-- English grouping with two or more groups ('1,250,000') is accepted too.
CREATE OR REPLACE TEMP MACRO soat_num0(s) AS CASE
    WHEN regexp_full_match(s, '[-+]?\\d{{1,3}}(\\.\\d{{3}})+') THEN TRY_CAST(replace(s, '.', '') AS DOUBLE)
    WHEN regexp_full_match(s, '[-+]?\\d{{1,3}}(\\.\\d{{3}})*,\\d+')
         THEN TRY_CAST(replace(replace(s, '.', ''), ',', '.') AS DOUBLE)
    WHEN regexp_full_match(s, '[-+]?\\d+,\\d+') THEN TRY_CAST(replace(s, ',', '.') AS DOUBLE)
    WHEN regexp_full_match(s, '[-+]?\\d{{1,3}}(,\\d{{3}}){{2,}}(\\.\\d+)?') THEN TRY_CAST(replace(s, ',', '') AS DOUBLE)
    WHEN regexp_full_match(s, '[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?') THEN TRY_CAST(s AS DOUBLE)
    END;
CREATE OR REPLACE TEMP MACRO soat_num(x) AS
    soat_num0(regexp_replace(lower(x), '\\s+|(vnđ|vnd|đồng|đ)$', '', 'g'));
CREATE OR REPLACE TEMP MACRO soat_int0(n) AS
    CASE WHEN n = trunc(n) AND abs(n) < 9e18 THEN CAST(n AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO soat_int(x) AS soat_int0(soat_num(x));
"""


def vocab_pairs() -> list[tuple[str, str, str]]:
    """(vocabulary, accepted spelling, canonical value) for every mapped kind."""
    pairs: list[tuple[str, str, str]] = []
    for name, attr in VOCABS.items():
        for v in getattr(vocab, attr):
            pairs.append((name, v, v))
    for alias, canon in vocab.ETHNICITY_VARIANTS.items():
        pairs.append(("ethnicity", alias, canon))
    # grades
    for g in vocab.GRADES:
        pairs.append(("grade", g, g))
    for alias, canon in vocab.GRADE_ALIASES.items():
        pairs.append(("grade", alias, canon))
    for alias, canon in {
        "Nhóm trẻ": "NT",
        "Mẫu giáo bé": "MG3",
        "Mẫu giáo nhỡ": "MG4",
        "Mẫu giáo lớn": "MG5",
        "Mẫu giáo 3 tuổi": "MG3",
        "Mẫu giáo 4 tuổi": "MG4",
        "Mẫu giáo 5 tuổi": "MG5",
    }.items():
        pairs.append(("grade", alias, canon))
    for g in range(1, 13):
        for alias in (f"Lớp {g}", f"Khối {g}", f"{g:02d}"):
            pairs.append(("grade", alias, str(g)))
    # periods
    for code, (label, aliases) in vocab.PERIODS.items():
        for alias in (code, label, *aliases):
            pairs.append(("period", alias, code))
    for m in range(1, 13):
        code = f"{vocab.MONTHLY_PERIOD_PREFIX}{m:02d}"
        for alias in (code, f"Tháng {m}", f"Tháng {m:02d}", f"thang_{m}", f"T{m}", f"T{m:02d}"):
            pairs.append(("period", alias, code))
    # data types, targets, levels
    for code, (label, aliases) in vocab.DATA_TYPES.items():
        for alias in (code, label, *aliases):
            pairs.append(("data_type", alias, code))
    for code, aliases in vocab.TARGETS.items():
        for alias in (code, *aliases):
            pairs.append(("target", alias, code))
    for code in vocab.LEVELS:
        for alias in (code, vocab.LEVEL_NAMES[code]):
            pairs.append(("level", alias, code))
    pairs.append(("level", "Mẫu giáo", "MN"))
    pairs.append(("level", "Nhà trẻ", "MN"))
    return pairs


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros and the vocabulary mapping tables on this connection."""
    for stmt in MACROS.split(";"):
        if stmt.strip():
            con.execute(stmt)
    frame = pl.DataFrame(vocab_pairs(), schema=["vocab", "alias", "canonical"], orient="row")
    con.register("_soat_vpairs", frame.to_arrow())
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _soat_vmap AS
           SELECT vocab, soat_key(soat_trim(alias)) AS k, min(canonical) AS canonical
           FROM _soat_vpairs GROUP BY ALL"""
    )
    # diacritics-free keys, kept only where they name one canonical value of the vocabulary
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _soat_vmap2 AS
           SELECT vocab, soat_key2(soat_trim(alias)) AS k, min(canonical) AS canonical
           FROM _soat_vpairs GROUP BY ALL HAVING count(DISTINCT canonical) = 1"""
    )
    con.unregister("_soat_vpairs")


def level_map_sql() -> str:
    """A constant MAP key -> level code (keys from soat_key, computed in Python identically)."""
    pairs = {}
    for name, alias, canon in vocab_pairs():
        if name == "level":
            for key in (_py_key(alias), _py_key2(alias)):
                pairs.setdefault(key, canon)
    body = ", ".join(
        "'" + k.replace("'", "''") + "': '" + v + "'" for k, v in sorted(pairs.items())
    )
    return "MAP {" + body + "}"


def _py_key(text: str) -> str:
    import re
    import unicodedata

    t = unicodedata.normalize("NFC", text).strip()
    return re.sub(r"[\s\-_'’.]+", "", t).lower()


def _py_key2(text: str) -> str:
    return vocab.strip_diacritics(_py_key(text)).replace("đ", "d")


def vocab_name(kind: str) -> str | None:
    if kind.startswith("vocab:"):
        return kind.split(":", 1)[1]
    if kind in ("grade", "period", "data_type", "target"):
        return kind
    return None


@dataclass
class StagedPart:
    """One table read from one file/sheet/SQL table, staged in a temp table.

    The stage holds `_row` (the row number the user sees) and `c<i>` text columns already
    cleaned by soat_clean (NFC, trimmed, empty markers -> NULL); fully empty rows are gone."""

    table: str
    source: str
    sheet: str | None
    stage: str
    header_row: int | None
    headers: HeaderMap
    numeric_cols: set[int] = field(default_factory=set)  # SQL numeric-typed columns
    pad_ids: bool = False  # .xlsx: digit-only citizen IDs shorter than 12 lost their zeros
    rows: int = 0
    rejected: int = 0
    # CSV stages keep the scan ordinal `_ord`; the row number is computed on insert
    row_expr: str = "s._row"
    row_join: str = ""
    where: str = ""


# Kinds whose expression is evaluated per DISTINCT value of the column ({x} = the value).
# Dates and school years have few distinct values by nature; on a column of all-distinct
# values the DISTINCT + join adds ~0.1 s CPU per 1 M rows to the expression's own cost.
PER_DISTINCT = {
    "date": "soat_date({x})",
    "timestamp": "soat_ts({x})",
    "school_year": (
        "CASE WHEN regexp_full_match({x}, '(\\d{{4}})\\s*[-/–—]\\s*(\\d{{4}})') "
        "THEN regexp_replace({x}, '^(\\d{{4}})\\s*[-/–—]\\s*(\\d{{4}})$', '\\1-\\2') "
        "ELSE {x} END"
    ),
}


def _strip_apostrophe(x: str) -> str:
    """One leading apostrophe removed (Excel's "store as text" mark). ord() reads the first
    character only: 3x cheaper than the regexp_replace it replaces."""
    return f"CASE WHEN ord({x}) = 39 THEN substr({x}, 2) ELSE {x} END"


def insert_sql(part: StagedPart) -> tuple[str, dict]:
    """INSERT of a staged part into its snapshot table, canonical and typed."""
    table = TABLES[part.table]
    present = {canon: idx for idx, canon in part.headers.mapping.items()}
    select: list[str] = [
        "$snapshot_id AS snapshot_id",
        "$source AS _source",
        "$sheet AS _sheet",
        f"{part.row_expr} AS _row",
    ]
    ctes: list[str] = []
    joins: list[str] = []
    for col in table.columns:
        name = col.name
        if name not in present:
            if col.default is not None:
                select.append(f"'{col.default}' AS \"{name}\"")
            continue
        idx = present[name]
        x = f"s.c{idx}"
        numeric = idx in part.numeric_cols
        kind = col.kind
        vname = vocab_name(kind)
        if vname:
            cte = f"m{idx}"
            ctes.append(
                f"""{cte} AS (
                SELECT d.v, coalesce(a.canonical, b.canonical, d.n) AS out
                FROM (SELECT v, nfc_normalize(v) AS n FROM (
                        SELECT DISTINCT c{idx} AS v FROM "{part.stage}" WHERE c{idx} IS NOT NULL)) d
                LEFT JOIN _soat_vmap a ON a.vocab = '{vname}' AND a.k = soat_key(d.n)
                LEFT JOIN _soat_vmap2 b ON b.vocab = '{vname}' AND b.k = soat_key2(d.n))"""
            )
            joins.append(f"LEFT JOIN {cte} ON {cte}.v = {x}")
            expr = f"{cte}.out"
            if col.default is not None:
                expr = f"coalesce({expr}, '{col.default}')"
        elif kind == "code":
            expr = _strip_apostrophe(x)
        elif kind == "citizen_id":
            stripped = _strip_apostrophe(x)
            if part.pad_ids or numeric:
                expr = (
                    f"CASE WHEN regexp_full_match({stripped}, '\\d{{1,11}}') "
                    f"THEN lpad({stripped}, 12, '0') ELSE {stripped} END"
                )
            else:
                expr = stripped
        elif kind in PER_DISTINCT:
            # parsed once per DISTINCT value, joined back: a failed try_strptime costs
            # ~0.5 us, so 1 M timestamps written without seconds took 0.6 s CPU per row
            cte = f"p{idx}"
            ctes.append(
                f"""{cte} AS (
                SELECT v, {PER_DISTINCT[kind].format(x="v")} AS out FROM (
                    SELECT DISTINCT c{idx} AS v FROM "{part.stage}" WHERE c{idx} IS NOT NULL))"""
            )
            joins.append(f"LEFT JOIN {cte} ON {cte}.v = {x}")
            expr = f"{cte}.out"
        elif kind == "int":
            expr = f"soat_int0(TRY_CAST({x} AS DOUBLE))" if numeric else f"soat_int({x})"
        elif kind == "number":
            expr = f"TRY_CAST({x} AS DOUBLE)" if numeric else f"soat_num({x})"
        elif kind == "levels":
            expr = (
                f"list_filter(list_transform(string_split_regex({x}, '\\s*[,;&+/-]\\s*'), "
                f"lambda p: coalesce({level_map_sql()}[soat_key(p)], "
                f"{level_map_sql()}[soat_key2(p)], p)), lambda p: p <> '')"
            )
        elif kind == "codes":
            expr = (
                f"list_filter(list_transform(string_split_regex({x}, '\\s*[,;]\\s*'), "
                f"lambda p: trim(p)), lambda p: p <> '')"
            )
        else:  # text
            expr = x
        select.append(f'{expr} AS "{name}"')
        if kind in RAW_KINDS:
            select.append(f'{x} AS "{name}_raw"')
    extra_idx = sorted(part.headers.extra)
    params: dict = {"source": part.source, "sheet": part.sheet}
    if extra_idx:
        select.append(
            "map($extra_keys, [" + ", ".join(f"s.c{i}" for i in extra_idx) + "]) AS _extra"
        )
        params["extra_keys"] = [part.headers.extra[i] for i in extra_idx]
    with_clause = ("WITH " + ",\n".join(ctes)) if ctes else ""
    sql = f"""INSERT INTO "{part.table}" BY NAME
    {with_clause}
    SELECT {", ".join(select)}
    FROM "{part.stage}" s
    {part.row_join}
    {" ".join(joins)}
    {"WHERE " + part.where if part.where else ""}"""
    return sql, params


REJECT_REASONS = {
    "date": "không đọc được ngày (cần dạng dd/mm/yyyy)",
    "timestamp": "không đọc được thời điểm (cần dạng dd/mm/yyyy HH:MM)",
    "int": "không phải số nguyên",
    "number": "không phải số",
}


def value_rejects_sql(part: StagedPart) -> list[tuple[str, dict]]:
    """INSERTs into rejects (row_dropped = false) for unreadable dates and numbers."""
    out = []
    table = TABLES[part.table]
    for col in table.columns:
        if col.kind not in REJECT_REASONS or col.name not in part.headers.columns:
            continue
        out.append(
            (
                f"""INSERT INTO rejects
                SELECT $snapshot_id, $table, _source, _sheet, _row, $column, "{col.name}_raw",
                       $reason, false
                FROM "{part.table}"
                WHERE snapshot_id = $snapshot_id AND "{col.name}" IS NULL
                  AND "{col.name}_raw" IS NOT NULL""",
                {
                    "table": part.table,
                    "column": part.headers.header_of(col.name),
                    "reason": REJECT_REASONS[col.kind],
                },
            )
        )
    return out
