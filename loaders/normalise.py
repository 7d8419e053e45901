"""Normalisation in DuckDB SQL: staged text columns -> the canonical, typed snapshot table.

Everything here is set-based. Python only builds SQL text from the contract (identifiers
and our own vocabulary constants) and the mapping tables from soat.vocab; data values
always travel as columns or named parameters.

Temporary objects created by `install` (per connection, idempotent):
  macros  soat_trim(x)    NFC, trim (spaces, tabs, NBSP, line breaks, BOM)
          soat_cell(x)    trim, empty markers -> NULL (a cell of a lazily read column)
          soat_key(x)     vocabulary key: lower-case, spaces / '-' / '_' / apostrophes / dots dropped
          soat_key2(x)    soat_key without diacritics (đ -> d), the fallback key
          soat_date(x), soat_ts(x), soat_num(x), soat_int(x)
  table   _soat_vmap(vocab, k, canonical)   exact keys
          _soat_vmap2(vocab, k, canonical)  diacritics-free keys that are unambiguous
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from loaders.contract import RAW_KINDS, TABLES, VOCABS
from loaders.headers import HeaderMap
from soat import vocab

# Empty markers ('', '-', '--', 'n/a', 'null', any case) as one RE2 full-match pattern,
# and the characters trimmed from both ends of a cell (space, tab, line breaks, NBSP, BOM);
# loaders.read cleans cells with the same two.
EMPTY_MARKERS_RE = "(?i)|-|--|n/a|null"
# Trimmed from both ends of every text cell: spaces, tabs, line breaks, NBSP, narrow NBSP, and
# the invisible characters pasted from the web or Word (soft hyphen, zero-width space,
# non-joiner and joiner, word joiner, BOM): 'S1\u200b' would otherwise be a code no school
# has, shown as 'S1'. TRIM_ORDS: the same as code points, for read._clean_query's test.
TRIM_ORDS = (9, 10, 13, 32, 160, 173, 8203, 8204, 8205, 8239, 8288, 65279)
TRIM_CHARS = "'" + "".join(map(chr, TRIM_ORDS)) + "'"  # a literal: chr() calls cost binding time

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]
TS_FORMATS = [
    f"{d} {t}"
    for d in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
    for t in ("%H:%M:%S", "%H:%M", "%H:%M:%S.%f")
] + ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M"]
# The same, month first (English-locale Excel): only for a column whose values say so
# (loaders.fixups.date_orders).
DATE_FORMATS_MDY = [
    f.replace("%d/%m", "%m/%d").replace("%d-%m", "%m-%d").replace("%d.%m", "%m.%d")
    for f in DATE_FORMATS
]
TS_FORMATS_MDY = [
    f.replace("%d/%m", "%m/%d").replace("%d-%m", "%m-%d").replace("%d.%m", "%m.%d")
    for f in TS_FORMATS
]
# A date written day and month first or month and day first, with a 4-digit year:
# the two leading numbers (loaders.fixups.date_orders tells the orders apart by them).
DM_RE = "^(\\d{1,2})[/.-](\\d{1,2})[/.-]\\d{4}($|[ T])"
# The earliest date a value may be: a year written with two digits ('05/03/24') parses as
# year 0024 (or 0005), never a real date here; it is rejected, not guessed.
MIN_DATE = "DATE '1000-01-01'"
TWO_DIGIT_YEAR_RE = "\\d{1,2}[/.-]\\d{1,2}[/.-]\\d{2}( .*)?"


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + s.replace("'", "''") + "'" for s in items) + "]"


MACROS = f"""
CREATE OR REPLACE TEMP MACRO soat_trim(x) AS trim(nfc_normalize(x), {TRIM_CHARS});
-- A cell cleaned as loaders.read cleans it (trimmed, empty markers -> NULL, no NFC): for
-- the columns read lazily (LAZY_KINDS), on the rows their fast path does not read. In a
-- lambda, so DuckDB cannot hoist it out of the coalesce that guards it.
CREATE OR REPLACE TEMP MACRO soat_cell(x) AS list_transform([x], lambda v:
    CASE WHEN regexp_full_match(trim(v, {TRIM_CHARS}), '{EMPTY_MARKERS_RE}') THEN NULL
         ELSE trim(v, {TRIM_CHARS}) END)[1];
CREATE OR REPLACE TEMP MACRO soat_key(x) AS
    lower(regexp_replace(x, '[\\s\\-_''’.]+', '', 'g'));
CREATE OR REPLACE TEMP MACRO soat_key2(x) AS
    replace(strip_accents(soat_key(x)), 'đ', 'd');
-- Excel serial day numbers (5 digits: 1927-05-18 … 2173-10-14), 4-digit values are years, not dates
CREATE OR REPLACE TEMP MACRO soat_is_serial(x) AS
    regexp_full_match(x, '\\d{{5}}(\\.\\d+)?');
-- A serial number of a workbook in the 1904 date system (old Mac Excel) as the 1900
-- system's serial of the same day (1462 days later), other text as it is.
CREATE OR REPLACE TEMP MACRO soat_1904(x) AS list_transform([trim(x, {TRIM_CHARS})],
    lambda t: CASE WHEN soat_is_serial(t) THEN CAST(CAST(t AS DOUBLE) + 1462 AS VARCHAR)
                   ELSE x END)[1];
CREATE OR REPLACE TEMP MACRO soat_date(x) AS coalesce(
    CAST(try_strptime(x, {_sql_list(DATE_FORMATS)}) AS DATE),
    CAST(try_strptime(x, {_sql_list(TS_FORMATS)}) AS DATE),
    CASE WHEN soat_is_serial(x)
         THEN CAST(DATE '1899-12-30' + CAST(floor(CAST(x AS DOUBLE)) AS INTEGER) AS DATE) END);
CREATE OR REPLACE TEMP MACRO soat_ts_any(x) AS coalesce(
    try_strptime(x, {_sql_list(TS_FORMATS)}),
    try_strptime(x, {_sql_list(DATE_FORMATS)}),
    CASE WHEN soat_is_serial(x)
         THEN TIMESTAMP '1899-12-30 00:00:00'
              + to_microseconds(CAST(round(CAST(x AS DOUBLE) * 86400000000) AS BIGINT)) END);
-- The usual shape first: a failed try_strptime costs ~0.5 us, and the list above starts with
-- seconds. The formats exclude each other (each must match the whole text), so trying one
-- first gives the same result as the list.
-- (Each expression written once: DuckDB computes a repeated one for every row, first.)
CREATE OR REPLACE TEMP MACRO soat_ts(x) AS coalesce(
    CASE WHEN strlen(x) <= 16 THEN try_strptime(x, '%d/%m/%Y %H:%M') END, soat_ts_any(x));
-- Month first: for a column written by English-locale Excel (3/25/2018).
CREATE OR REPLACE TEMP MACRO soat_date_mdy(x) AS coalesce(
    CAST(try_strptime(x, {_sql_list(DATE_FORMATS_MDY)}) AS DATE),
    CAST(try_strptime(x, {_sql_list(TS_FORMATS_MDY)}) AS DATE),
    CASE WHEN soat_is_serial(x)
         THEN CAST(DATE '1899-12-30' + CAST(floor(CAST(x AS DOUBLE)) AS INTEGER) AS DATE) END);
CREATE OR REPLACE TEMP MACRO soat_ts_mdy(x) AS coalesce(
    try_strptime(x, {_sql_list(TS_FORMATS_MDY)}),
    try_strptime(x, {_sql_list(DATE_FORMATS_MDY)}),
    CASE WHEN soat_is_serial(x)
         THEN TIMESTAMP '1899-12-30 00:00:00'
              + to_microseconds(CAST(round(CAST(x AS DOUBLE) * 86400000000) AS BIGINT)) END);
-- The two leading numbers of a d/m/yyyy or m/d/yyyy value ([NULL, NULL] for other text).
CREATE OR REPLACE TEMP MACRO soat_dm(x) AS list_transform(
    [regexp_extract(x, '{DM_RE}', ['a', 'b'])],
    lambda s: [TRY_CAST(s.a AS INTEGER), TRY_CAST(s.b AS INTEGER)])[1];
-- Readable both ways and meaning two different days (03/07/2018): for a column that mixes
-- both orders, such a value cannot be read without a guess.
CREATE OR REPLACE TEMP MACRO soat_dm_ambiguous(x) AS list_transform([soat_dm(x)],
    lambda p: p[1] BETWEEN 1 AND 12 AND p[2] BETWEEN 1 AND 12 AND p[1] <> p[2])[1];
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
-- soat_num and soat_int hand their argument on through a lambda: a macro's argument is
-- pasted in at every use, soat_num0 uses its ten times and soat_int0 its four, so
-- soat_int(x) written plainly held forty copies of the regexp_replace, ≈ 15 ms of
-- binding a column on every load (4 ms through the lambdas).
-- Spaces (also NBSP, narrow NBSP) inside a number are read only as thousands groups
-- ('1 250 000'), so '3 5' is not a number.
CREATE OR REPLACE TEMP MACRO soat_num(x) AS list_transform(
    [trim(regexp_replace(lower(x), '(vnđ|vnd|đồng|đ)\\s*$', ''), ' \u00a0\u202f')],
    lambda s: soat_num0(CASE WHEN regexp_full_match(s, '[-+]?\\d{{1,3}}([ \u00a0\u202f]\\d{{3}})+([,.]\\d+)?')
                             THEN regexp_replace(s, '[ \u00a0\u202f]', '', 'g') ELSE s END))[1];
CREATE OR REPLACE TEMP MACRO soat_int0(n) AS
    CASE WHEN n = trunc(n) AND abs(n) < 9e18 THEN CAST(n AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO soat_int(x) AS list_transform([soat_num(x)], lambda n: soat_int0(n))[1];
"""


def vocab_pairs() -> list[tuple[str, str, str]]:
    """(vocabulary, accepted spelling, canonical value) for every mapped kind."""
    pairs: list[tuple[str, str, str]] = []
    for name, attr in VOCABS.items():
        for v in getattr(vocab, attr):
            pairs.append((name, v, v))
    for alias, canon in vocab.ETHNICITY_VARIANTS.items():
        pairs.append(("ethnicity", alias, canon))
    for alias, canon in vocab.SCHOOL_STATUS_ALIASES.items():
        pairs.append(("school_status", alias, canon))
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
    vocabs, aliases, canonicals = (list(col) for col in zip(*vocab_pairs(), strict=True))
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _soat_vpairs AS
           SELECT unnest($v) AS vocab, unnest($a) AS alias, unnest($c) AS canonical""",
        {"v": vocabs, "a": aliases, "c": canonicals},
    )
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
    # Per vocabulary, one macro soat_v_<name>(x) that maps a cleaned cell to its canonical
    # value row by row, without a join: the spellings listed in soat.vocab are looked up as
    # they are (soat_vx_<name>: one CASE, the usual case); anything else goes through the
    # keys above (NFC, lower-case, separators and then diacritics dropped) and is kept as
    # its NFC text when no key matches. The entries are read back from the tables above, so
    # both paths give what the keyed lookup gives.
    exact = con.execute(
        """SELECT p.vocab, p.alias, coalesce(a.canonical, b.canonical, p.alias)
           FROM (SELECT DISTINCT vocab, soat_trim(alias) AS alias FROM _soat_vpairs) p
           LEFT JOIN _soat_vmap a ON a.vocab = p.vocab AND a.k = soat_key(p.alias)
           LEFT JOIN _soat_vmap2 b ON b.vocab = p.vocab AND b.k = soat_key2(p.alias)
           ORDER BY ALL"""
    ).fetchall()
    keyed = con.execute("SELECT vocab, k, canonical FROM _soat_vmap ORDER BY ALL").fetchall()
    keyed2 = con.execute("SELECT vocab, k, canonical FROM _soat_vmap2 ORDER BY ALL").fetchall()
    con.execute("DROP TABLE _soat_vpairs")
    # soat.vocab's order (canonical values first, the commonest first: "Kinh", "Nam",
    # "Đang học", "Đã xác thực"), for the CASE of soat_vx_<name> to stop early
    rank = {(v, a.strip()): i for i, (v, a, _c) in enumerate(vocab_pairs())}
    exact.sort(key=lambda r: (r[0], rank.get((r[0], r[1]), len(rank)), r[1]))
    for name in sorted({v for v, *_ in exact}):
        for statement in _vocab_macro(name, exact, keyed, keyed2).split(";\n"):
            con.execute(statement)


def _map_literal(rows: list[tuple[str, str, str]], name: str) -> str | None:
    """MAP {key: value, ...} of our own vocabulary constants (never data values)."""
    body = ", ".join(f"{_quote(k)}: {_quote(v)}" for vocab_, k, v in rows if vocab_ == name)
    return "MAP {" + body + "}" if body else None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case_literal(rows: list[tuple[str, str, str]], name: str) -> str:
    """CASE x WHEN key THEN value … END of our own vocabulary constants, in `rows`' order.
    On 2 M students it costs a third of a constant MAP's lookup (DuckDB builds the MAP
    value for every chunk); IN lists are avoided on purpose (five constants or more become
    a join, which loses the file order the CSV loader needs)."""
    body = " ".join(f"WHEN {_quote(k)} THEN {_quote(v)}" for vocab_, k, v in rows if vocab_ == name)
    return f"CASE x {body} END"


def _vocab_macro(name: str, exact, keyed, keyed2) -> str:
    """The keyed path is a lambda over the cell's NFC text: written inline, the repeated
    nfc_normalize(x) would be hoisted by DuckDB and computed for every row, not just for
    the rows the exact lookup misses."""
    slow = [
        f"{m}[{key}]"
        for m, key in (
            (_map_literal(keyed, name), "soat_key(n)"),
            (_map_literal(keyed2, name), "soat_key2(n)"),
        )
        if m
    ]
    keyed_path = f"list_transform([nfc_normalize(x)], lambda n: coalesce({', '.join(slow)}, n))[1]"
    return (
        f"CREATE OR REPLACE TEMP MACRO soat_vx_{name}(x) AS {_case_literal(exact, name)};\n"
        f"CREATE OR REPLACE TEMP MACRO soat_vk_{name}(x) AS {keyed_path};\n"
        f"CREATE OR REPLACE TEMP MACRO soat_v_{name}(x) AS coalesce(soat_vx_{name}(x), soat_vk_{name}(x))"
    )


def _plain_first(x: str, sql_type: str) -> str:
    """A number cell as text: plain digits (the usual cell: '35', '1250000') cast at once,
    anything else read the Vietnamese way (soat_num, soat_int: five regular expressions,
    ≈ 0.7 µs a cell). Fifteen digits or fewer are exact as a DOUBLE, so the two paths agree
    on every plain value."""
    slow = "soat_int" if sql_type == "BIGINT" else "soat_num"
    return (
        f"CASE WHEN regexp_full_match({x}, '[0-9]{{1,15}}') THEN CAST({x} AS {sql_type}) "
        f"ELSE {slow}({x}) END"
    )


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
class CsvRead:
    """What numbering a CSV part's rows after its INSERT needs (loaders.read.number_csv_rows)."""

    path: object  # Path of the UTF-8 file DuckDB reads
    header_line: int
    ncols: int
    rejects: str  # DuckDB's store_rejects tables of this scan
    rejects_scan: str
    text_cols: list[int] = field(default_factory=list)  # NFC-normalised if the file is not NFC
    lazy: set[int] = field(default_factory=set)  # read uncleaned (lazy_columns)
    # columns whose cells a repeated header row holds: (index, spellings of its header)
    probe: list[tuple[int, list[str]]] = field(default_factory=list)
    padding: bool = False  # a line short of fields is read with its last fields empty
    padded: list[int] = field(default_factory=list)  # lines read so (line numbers)
    staged_path: object = None  # `path` as reading chose it (a write attempt starts from it)
    nfc: bool = False  # the file is not NFC: its text columns are normalised
    transcoded: bool = False  # read from a UTF-8 copy of a legacy 8-bit file
    normalised: bool = False  # read from a copy with LF line endings


@dataclass
class StagedPart:
    """One table read from one file/sheet/SQL table: a query over the source, not yet run.

    `from_sql` is a subquery with `_row` (the row number the user sees) and `c<i>` text
    columns cleaned (NFC, trimmed, empty markers -> NULL); `params` are its named parameters.
    Frames (.xlsx sheets, SQL tables) are registered Arrow tables with their row numbers and
    without their empty rows. A CSV file is read by DuckDB inside the INSERT itself; its rows
    carry -1 (every cell empty) or 0 in `_row`, numbered after the INSERT (see `csv`)."""

    table: str
    source: str
    sheet: str | None
    stage: str
    header_row: int | None
    headers: HeaderMap
    from_sql: str = ""
    params: dict = field(default_factory=dict)
    numeric_cols: set[int] = field(default_factory=set)  # SQL numeric-typed columns
    lazy: set[int] = field(default_factory=set)  # columns left uncleaned (lazy_columns)
    rows: int = 0
    rejected: int = 0
    csv: CsvRead | None = None
    # canonical date/timestamp column -> 'mdy' (written month first) or 'mixed' (both
    # orders: ambiguous values rejected), decided by loaders.fixups.date_orders (or, for
    # an .xlsx whose date cells contradict its text dates, by read._swapped_dates)
    date_orders: dict[str, str] = field(default_factory=dict)
    shared: bool = False  # another part feeds the same table: statements filter on this one
    legacy: str | None = None  # 'tcvn3' / 'vni': text cells in that font encoding converted
    date1904: bool = False  # an .xlsx in the 1904 date system: its serials read so (soat_1904)
    # value-level rejects found while reading (.xlsx error cells, formulas without a value):
    # (row, column as headed, value, reason)
    found_rejects: list[tuple[int, str, str | None, str]] = field(default_factory=list)
    digest: str = ""  # of the source's bytes (or rows), for loaders.digest
    # made-up _extra keys (headers.HeaderMap.made_up) whose column held no value: not
    # listed as kept columns (loaders.fixups.made_up_columns)
    empty_made_up: set[int] = field(default_factory=set)
    named_by: str = "name"  # how the table was told: name | piece (name + suffix) | folder

    _staged: tuple | None = field(default=None, repr=False)

    def reset(self) -> None:
        """Back to what reading decided, before a write attempt (the first one records it):
        what a failed attempt's fix-ups changed is undone, they run again."""
        if self._staged is None:
            # date orders decided while reading (an .xlsx column whose date cells Excel may
            # have swapped: read._swapped_dates) stay; fixups decide the others again
            self._staged = (dict(self.params), self.legacy, self.from_sql, dict(self.date_orders))
            if self.csv is not None:
                self.csv.staged_path = self.csv.path
            return
        params, self.legacy, self.from_sql, orders = self._staged
        self.params = dict(params)
        self.date_orders = dict(orders)
        if self.csv is not None:
            c = self.csv
            c.path = c.staged_path
            c.nfc = c.padding = c.transcoded = False
            c.padded = []
            self.digest = ""

    def restage_path(self, path) -> None:
        """Read the CSV file from `path` (a copy) from now on, in every attempt."""
        self.csv.path = self.csv.staged_path = path
        self.params["src_path"] = str(path)
        if self._staged is not None:
            self._staged[0]["src_path"] = str(path)

    def where(self) -> str:
        """The SQL predicate of this part's rows in its snapshot table (the snapshot id is
        $snapshot_id); with pieces, also its source and sheet ($source, $sheet)."""
        if not self.shared:
            return "snapshot_id = $snapshot_id"
        return (
            "snapshot_id = $snapshot_id AND _source = $source "
            "AND _sheet IS NOT DISTINCT FROM $sheet"
        )


# Kinds whose usual values are read straight from the source text, uncleaned: the fast path
# (the exact spelling of a vocabulary, the usual date / timestamp / school-year shape)
# only accepts text that cleaning leaves as it is (no blank at either end, not an empty
# marker), so it gives what the cleaned cell would; the other rows are cleaned
# (soat_cell) and read by the general rule. This spares trimming and the empty-marker test
# on most cells of a file (the students file: 8 of 14 columns).
LAZY_KINDS = ("date", "timestamp", "school_year")


def lazy_columns(table: str, headers: HeaderMap) -> set[int]:
    """Not the columns naming a field another column names (headers.HeaderMap.same_field):
    which one is used may change once read, and the one left in _extra must be cleaned."""
    t = TABLES[table]
    return {
        i
        for i, name in headers.mapping.items()
        if (t.column(name).kind in LAZY_KINDS or vocab_name(t.column(name).kind))
        and name not in headers.same_field
    }


def _cleaned(x: str, expr: str) -> str:
    """`expr` (over `c`, the cleaned cell) for cell `x`, as a lambda so the cleaned cell,
    used more than once, is not hoisted by DuckDB and computed for every row."""
    return f"list_transform([soat_cell({x})], lambda c: {expr})[1]"


# Per-row expressions of kinds parsed from text ({x} = the cleaned cell). Each starts with
# the usual shape and falls back to the general rule, with the same result.
PER_ROW = {
    "date": "soat_date({x})",
    "timestamp": "soat_ts({x})",
    "school_year": (
        "CASE WHEN regexp_full_match({x}, '\\d{{4}}-\\d{{4}}') THEN {x} "
        "WHEN regexp_full_match({x}, '(\\d{{4}})\\s*[-/–—]\\s*(\\d{{4}})') "
        "THEN regexp_replace({x}, '^(\\d{{4}})\\s*[-/–—]\\s*(\\d{{4}})$', '\\1-\\2') "
        "ELSE {x} END"
    ),
}


# The fast path of a lazy column ({x} = the cell as read), then {rest} = PER_ROW over the
# cleaned cell. Each fast format is the one the general rule tries first for that shape.
LAZY_ROW = {
    "date": "coalesce(CAST(try_strptime({x}, ['%d/%m/%Y', '%Y-%m-%d']) AS DATE), {rest})",
    "timestamp": (
        "coalesce(CASE WHEN strlen({x}) <= 16 THEN try_strptime({x}, '%d/%m/%Y %H:%M') "
        "ELSE try_strptime({x}, '%d/%m/%Y %H:%M:%S') END, {rest})"
    ),
    "school_year": "CASE WHEN regexp_full_match({x}, '\\d{{4}}-\\d{{4}}') THEN {x} ELSE {rest} END",
}


# A date column in an order other than day first (part.date_orders): every cell is
# cleaned first (a slow path, for the few columns that need it). 'mixed': a value readable
# both ways as two different days is not read (rejected); the others by the one order
# they can be read in.
ORDERED_ROW = {
    "date": {
        "mdy": "soat_date_mdy({x})",
        "mixed": "CASE WHEN soat_dm_ambiguous({x}) THEN NULL "
        "ELSE coalesce(soat_date({x}), soat_date_mdy({x})) END",
    },
    "timestamp": {
        "mdy": "soat_ts_mdy({x})",
        "mixed": "CASE WHEN soat_dm_ambiguous({x}) THEN NULL "
        "ELSE coalesce(soat_ts({x}), soat_ts_mdy({x})) END",
    },
}


def _strip_apostrophe(x: str) -> str:
    """One leading apostrophe removed (Excel's "store as text" mark). ord() reads the first
    character only: 3x cheaper than the regexp_replace it replaces."""
    return f"CASE WHEN ord({x}) = 39 THEN substr({x}, 2) ELSE {x} END"


def insert_sql(part: StagedPart) -> tuple[str, dict]:
    """INSERT of a staged part into its snapshot table, canonical and typed, in one pass
    over the source: every expression is per row (vocabularies by MAP lookup, dates by
    their usual format first), so nothing is read twice.

    `<name>_raw` keeps the source text only where the value could not be read (the typed
    column is NULL, or a levels list is empty): that is all the checks and the rejects read,
    and it spares writing a second copy of every date."""
    table = TABLES[part.table]
    present = {canon: idx for idx, canon in part.headers.mapping.items()}
    select: list[str] = [
        "$snapshot_id AS snapshot_id",
        "$source AS _source",
        "$sheet AS _sheet",
        "s._row AS _row",
    ]
    raw_kept: list[str] = []
    for col in table.columns:
        name = col.name
        if name not in present:
            if col.default is not None:
                select.append(f"'{col.default}' AS \"{name}\"")
            continue
        idx = present[name]
        x = f"s.c{idx}"
        cell = x  # the source text (kept in _raw)
        if part.date1904 and col.kind in PER_ROW and col.kind != "school_year":
            x = f"soat_1904({x})"
        numeric = idx in part.numeric_cols
        kind = col.kind
        vname = vocab_name(kind)
        lazy = idx in part.lazy
        if vname:
            expr = f"soat_v_{vname}({x})"
            if lazy:
                # the keyed path alone on the cleaned cell: it gives what soat_vx gives for
                # every spelling soat_vx knows, and DuckDB binds the CASE only once
                rest = _cleaned(x, f"soat_vk_{vname}(c)")
                expr = f"coalesce(soat_vx_{vname}({x}), {rest})"
            if col.default is not None:
                expr = f"coalesce({expr}, '{col.default}')"
        elif kind == "code":
            expr = _strip_apostrophe(x)
        elif kind == "citizen_id":
            stripped = _strip_apostrophe(x)
            if numeric:
                # a number lost its leading zeros: a 12-digit ID starts with 0 and a province
                # code (001-096), so 10 or 11 digits are padded; 9 digits or fewer (an old
                # CMND number) are kept for *.id_format to name
                expr = (
                    f"CASE WHEN regexp_full_match({stripped}, '\\d{{10,11}}') "
                    f"THEN lpad({stripped}, 12, '0') ELSE {stripped} END"
                )
            else:
                expr = stripped
        elif kind in PER_ROW and name in part.date_orders:
            expr = _cleaned(x, ORDERED_ROW[kind][part.date_orders[name]].format(x="c"))
        elif kind in PER_ROW:
            expr = PER_ROW[kind].format(x=x)
            if lazy:
                rest = _cleaned(x, PER_ROW[kind].format(x="c"))
                expr = LAZY_ROW[kind].format(x=x, rest=rest)
        elif kind == "int":
            expr = f"soat_int0(TRY_CAST({x} AS DOUBLE))" if numeric else _plain_first(x, "BIGINT")
        elif kind == "number":
            expr = f"TRY_CAST({x} AS DOUBLE)" if numeric else _plain_first(x, "DOUBLE")
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
            select.append(f'{cell} AS "{name}_raw"')
            unread = f'len(coalesce("{name}", [])) = 0' if kind == "levels" else f'"{name}" IS NULL'
            if kind in ("date", "timestamp"):
                # a two-digit year parses as year 0024: not read (rejected), never kept
                unread = f'("{name}" IS NULL OR "{name}" < {MIN_DATE})'
                raw_kept.append(f'CASE WHEN "{name}" >= {MIN_DATE} THEN "{name}" END AS "{name}"')
            raw = f'soat_cell("{name}_raw")' if lazy else f'"{name}_raw"'
            raw_kept.append(f'CASE WHEN {unread} THEN {raw} END AS "{name}_raw"')
    extra_idx = sorted(part.headers.extra)
    params: dict = {"source": part.source, "sheet": part.sheet, **part.params}
    if extra_idx:
        cells = ", ".join(f"s.c{i}" for i in extra_idx)
        # no MAP at all for a row whose extra cells are all empty (a MAP per row costs)
        select.append(
            f"CASE WHEN coalesce({cells}) IS NULL THEN NULL "
            f"ELSE map($extra_keys, [{cells}]) END AS _extra"
        )
        params["extra_keys"] = [part.headers.extra[i] for i in extra_idx]
    typed = f"SELECT {', '.join(select)} FROM ({part.from_sql}) s"
    if raw_kept:
        typed = f"SELECT * REPLACE ({', '.join(raw_kept)}) FROM ({typed})"
    return f'INSERT INTO "{part.table}" BY NAME {typed}', params


REJECT_REASONS = {
    "date": "không đọc được ngày (cần dạng dd/mm/yyyy)",
    "timestamp": "không đọc được thời điểm (cần dạng dd/mm/yyyy HH:MM)",
    "int": "không phải số nguyên",
    "number": "không phải số",
}
TWO_DIGIT_YEAR = "năm chỉ có 2 chữ số: cần ghi đủ 4 chữ số (dd/mm/yyyy)"
AMBIGUOUS_DATE = (
    "không rõ là ngày/tháng hay tháng/ngày (cột ghi lẫn cả hai thứ tự); sửa thành dd/mm/yyyy"
)
EXCEL_ERRORS_RE = "#(N/A|VALUE!|REF!|DIV/0!|NAME\\?|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA)"
EXCEL_ERROR = "ô lỗi công thức Excel, không có giá trị"


def _reason_sql(kind: str, raw: str, mixed: bool) -> str:
    """The reject reason of an unread value, told apart by its text."""
    whens = [f"WHEN regexp_full_match({raw}, '{EXCEL_ERRORS_RE}') THEN '{EXCEL_ERROR}'"]
    if kind in ("date", "timestamp"):
        whens.append(
            f"WHEN regexp_full_match({raw}, '{TWO_DIGIT_YEAR_RE}') THEN '{TWO_DIGIT_YEAR}'"
        )
        if mixed:
            whens.append(f"WHEN soat_dm_ambiguous({raw}) THEN '{AMBIGUOUS_DATE}'")
    return f"CASE {' '.join(whens)} ELSE $reason END"


def value_rejects_sql(part: StagedPart) -> list[tuple[str, dict]]:
    """INSERTs into rejects (row_dropped = false) for unreadable dates and numbers."""
    out = []
    table = TABLES[part.table]
    for col in table.columns:
        if col.kind not in REJECT_REASONS or col.name not in part.headers.columns:
            continue
        raw = f'"{col.name}_raw"'
        reason = _reason_sql(col.kind, raw, part.date_orders.get(col.name) == "mixed")
        out.append(
            (
                f"""INSERT INTO rejects
                SELECT $snapshot_id, $table, _source, _sheet, _row, $column, {raw},
                       {reason}, false
                FROM "{part.table}"
                WHERE {part.where()} AND "{col.name}" IS NULL AND {raw} IS NOT NULL""",
                {
                    "table": part.table,
                    "column": part.headers.header_of(col.name),
                    "reason": REJECT_REASONS[col.kind],
                    **({"source": part.source, "sheet": part.sheet} if part.shared else {}),
                },
            )
        )
    return out
