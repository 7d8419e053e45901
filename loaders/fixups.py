"""After a part's INSERT (inside the load's transaction): what the rows just written tell
about how they should have been read, and the part read again when it matters.

The INSERT reads every file the usual way (UTF-8 and NFC, day-first dates, every line
with all its fields). These checks cost little on that usual file, since each looks only
at what the INSERT could not read (rejected lines, unread dates) or at what the file scan
already counted; a file they find otherwise (rare) is read again, its rows deleted and
inserted anew, so nothing read the wrong way stays:
- text that is not NFC (read.scan_file) -> NFC-normalised;
- lines short of fields (rejected "MISSING COLUMNS") -> read with their last fields empty,
  one warning naming the lines;
- lines rejected for bytes that are not UTF-8 in a file with no UTF-8 letter at all -> the
  file is in a legacy 8-bit code page: transcoded (warning);
- TCVN3/VNI text (read.scan_file counts its marks) -> converted (warning);
- a date column whose unread values are month-first (3/25/2018) -> read month-first when
  no value is day-first, else the values readable both ways are rejected (warning);
- rows repeating the header (a title and header block pasted into the data) -> dropped
  with the title rows right above them, never a record (warning);
- the total and signature block under the list -> dropped (warning, footer_rows);
- a column with no header, or a second column with an unknown header already seen, that
  holds values -> kept in _extra under a made-up key (warning, made_up_columns);
- several columns naming one field: an empty one used while another holds values -> the
  other used (prefer_filled, read again); each kept in _extra, with a warning
  (same_field_columns).
"""

from __future__ import annotations

import duckdb

from loaders import legacy, read
from loaders.contract import RAW_KINDS, TABLES
from loaders.headers import CODE_RE, FOOTER_RE, FOOTER_SCAN, identifying_columns
from loaders.normalise import StagedPart
from loaders.read import Staging

MD_ONLY = (
    "list_transform([soat_dm({x})], lambda p: p[1] BETWEEN 1 AND 12 AND p[2] BETWEEN 13 AND 31)[1]"
)
DM_ONLY = (
    "list_transform([soat_dm({x})], lambda p: p[1] BETWEEN 13 AND 31 AND p[2] BETWEEN 1 AND 12)[1]"
)


def _who(part: StagedPart, sid: int) -> dict:
    return {
        "snapshot_id": sid,
        **({"source": part.source, "sheet": part.sheet} if part.shared else {}),
    }


def delete_rows(con: duckdb.DuckDBPyConnection, part: StagedPart, sid: int) -> None:
    con.execute(f'DELETE FROM "{part.table}" WHERE {part.where()}', _who(part, sid))
    if part.csv is not None:
        con.execute(f'DROP TABLE IF EXISTS "{part.csv.rejects}"')
        con.execute(f'DROP TABLE IF EXISTS "{part.csv.rejects_scan}"')


def csv_reread_needs(
    con: duckdb.DuckDBPyConnection, staging: Staging, part: StagedPart, sid: int, fscan
):
    """For a CSV part just inserted: sets what the next read must do differently (NFC,
    padding, legacy code page or font encoding); returns (whether there is any, the scan
    of the file the next read reads)."""
    csv = part.csv
    again = False
    errors = dict(
        con.execute(
            f"""SELECT error_type, list(DISTINCT line ORDER BY line)
                FROM "{csv.rejects}" GROUP BY ALL"""
        ).fetchall()
    )
    short = errors.get("MISSING COLUMNS") or []
    if short and not csv.padding:
        csv.padding = again = True
        csv.padded = list(short)
    if errors.get("INVALID ENCODING") and not csv.transcoded and read.file_is_legacy(csv.path):
        codec, lost = legacy.eight_bit(_non_ascii_sample(csv.path))
        csv.path = read.utf8_copy(csv.path, codec, staging)
        csv.transcoded = again = True
        part.params["src_path"] = str(csv.path)
        read._encoding_warning(staging, read.Encoding(codec, lost), part.source)
        fscan = read.scan_file(csv.path)
    if not fscan.nfc and not csv.nfc:
        csv.nfc = again = True
    if fscan.legacy and part.legacy is None:
        kind, example = _legacy_kind(con, part, sid)
        if kind:
            part.legacy = kind
            again = True
            conv = legacy.from_tcvn3 if kind == "tcvn3" else legacy.from_vni
            shown = f"'{example}' → '{conv(example)}'" if example else ""
            read._legacy_warning(staging, part, "tệp có chữ", shown)
        elif example:
            staging.warn(
                f"tệp có chữ không đọc được như tiếng Việt Unicode (ví dụ '{example}'): có "
                "thể gõ bằng bảng mã cũ; đã giữ nguyên",
                source=part.source,
            )
    if again:
        part.from_sql = read.csv_from_sql(csv, nfc=csv.nfc, legacy=part.legacy)
    return again, fscan


def _non_ascii_sample(path, size: int = 1 << 18) -> bytes:
    """256 KB of the file from just before its first byte beyond ASCII (the first 256 KB
    were plain ASCII, or the INSERT would have been told the file's code page)."""
    import re

    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            m = re.search(rb"[\x80-\xff]", chunk)
            if m:
                start = max(0, m.start() - 1000)
                tail = chunk[start:]
                return tail[:size] if len(tail) >= size else tail + f.read(size - len(tail))
    return b""


def _text_columns(part: StagedPart) -> list[str]:
    t = TABLES[part.table]
    return [
        name
        for name in part.headers.columns
        if t.column(name).kind not in read.NO_NFC_KINDS
        and t.column(name).kind not in ("levels", "codes")
    ]


def _legacy_kind(con, part: StagedPart, sid: int) -> tuple[str | None, str | None]:
    """Which legacy font encoding the part's suspect text cells are in (legacy.decide on up
    to 200 of them per column), and an example cell: never one of a personal field (an
    address), which the load message would show to roles that see personal data masked."""
    from soat.scope import PERSONAL_FIELDS

    samples: list[str] = []
    example = None
    for name in _text_columns(part):
        found = [
            r[0]
            for r in con.execute(
                f"""SELECT DISTINCT "{name}" FROM "{part.table}"
                    WHERE {part.where()} AND regexp_matches("{name}", $sus)
                      AND NOT regexp_matches("{name}", $wide) LIMIT 200""",
                {**_who(part, sid), "sus": legacy.SUSPECT_RE, "wide": legacy.WIDE_RE},
            ).fetchall()
        ]
        samples += found
        if found and example is None and name not in PERSONAL_FIELDS:
            example = found[0]
    if not samples:
        return None, None
    return legacy.decide(samples), example


def date_orders(
    con: duckdb.DuckDBPyConnection, staging: Staging, part: StagedPart, sid: int
) -> bool:
    """Dates are never guessed. A date column whose values could not be read day-first
    but can month-first (3/25/2018: English-locale Excel) is read month-first when none of
    its values is day-first only (25/03/2018); when both kinds are there, the column
    contradicts itself: each value is read the one way it can be, and a value readable
    both ways as two different days (03/07/2018) is rejected. Says whether the part must
    be read again."""
    t = TABLES[part.table]
    cols = [
        n
        for n in part.headers.columns
        if t.column(n).kind in ("date", "timestamp") and n not in part.date_orders
    ]
    if not cols:
        return False
    # the values no format could read, first (few rows), then the month-first ones among them
    unread = " OR ".join(f'("{n}" IS NULL AND "{n}_raw" IS NOT NULL)' for n in cols)
    raws = ", ".join(
        f'CASE WHEN "{n}" IS NULL THEN "{n}_raw" END AS r{k}' for k, n in enumerate(cols)
    )
    counts = con.execute(
        "SELECT "
        + ", ".join(
            f"count(*) FILTER (WHERE {MD_ONLY.format(x=f'r{k}')}), "
            f"any_value(r{k}) FILTER (WHERE {MD_ONLY.format(x=f'r{k}')})"
            for k in range(len(cols))
        )
        + f' FROM (SELECT {raws} FROM "{part.table}" WHERE {part.where()} AND ({unread}))',
        _who(part, sid),
    ).fetchall()[0]
    month_first = {
        n: (counts[2 * k], counts[2 * k + 1]) for k, n in enumerate(cols) if counts[2 * k]
    }
    if not month_first:
        return False
    index = {name: i for i, name in part.headers.mapping.items()}
    day_first = _day_first_counts(con, part, [index[n] for n in month_first])
    for n, (count, example) in month_first.items():
        header = part.headers.header_of(n)
        if day_first.get(index[n], (0, None))[0] == 0:
            part.date_orders[n] = "mdy"
            staging.warn_part(
                part,
                f"cột '{header}' ghi ngày theo thứ tự tháng/ngày (như Excel tiếng Anh; "
                f"{count} giá trị như '{example}' chỉ đọc được như vậy): đã đọc cả cột theo "
                "tháng/ngày; nên sửa thành dd/mm/yyyy",
                column=header,
            )
        else:
            part.date_orders[n] = "mixed"
            other = day_first[index[n]][1]
            staging.warn_part(
                part,
                f"cột '{header}' ghi lẫn ngày/tháng ('{other}') và tháng/ngày ('{example}'): "
                "mỗi giá trị đọc theo cách duy nhất đọc được; giá trị đọc được cả hai cách "
                "(như 03/07/2018) không rõ ngày nào nên bị loại",
                column=header,
            )
    return True


def _day_first_counts(con, part: StagedPart, indexes: list[int]) -> dict[int, tuple[int, str]]:
    """(values readable day-first only, an example) per source column, counted on the
    source again (read once more, only for a column with month-first values)."""
    src_sql, params = part.from_sql, dict(part.params)
    probe_tables: list[str] = []
    if part.csv is not None:
        from dataclasses import replace

        csv = replace(
            part.csv, rejects=f"{part.stage}_rej_dm", rejects_scan=f"{part.stage}_scan_dm"
        )
        probe_tables = [csv.rejects, csv.rejects_scan]
        src_sql = read.csv_from_sql(csv, nfc=False, legacy=part.legacy)
    cells = {i: f"soat_cell(c{i})" if i in part.lazy else f"c{i}" for i in indexes}
    try:
        row = con.execute(
            "SELECT "
            + ", ".join(
                f"count(*) FILTER (WHERE {DM_ONLY.format(x=cells[i])}), "
                f"any_value({cells[i]}) FILTER (WHERE {DM_ONLY.format(x=cells[i])})"
                for i in indexes
            )
            + f" FROM ({src_sql})",
            params,
        ).fetchall()[0]
    finally:
        for t in probe_tables:
            con.execute(f'DROP TABLE IF EXISTS "{t}"')
    return {i: (row[2 * k], row[2 * k + 1]) for k, i in enumerate(indexes)}


def _filled_sql(part: StagedPart) -> str:
    """How many of the row's contract columns hold a value (status columns, which take
    their default, left out)."""
    t = TABLES[part.table]
    filled = []
    for name in part.headers.columns:
        col = t.column(name)
        if col.default is not None:
            continue
        cond = f'"{name}" IS NOT NULL'
        if col.kind in RAW_KINDS:
            cond = f'({cond} AND len(CAST("{name}" AS VARCHAR)) > 0 OR "{name}_raw" IS NOT NULL)'
        filled.append(f"CAST({cond} AS INTEGER)")
    return "(" + (" + ".join(filled) or "0") + ")"


def _record_sql(part: StagedPart, filled_sql: str) -> str:
    """The row is a record (headers.identifying_columns): a code in a key column
    (headers.CODE_RE, parameter $code_re), or a name beside another value."""
    keys, names = identifying_columns(part.table, part.headers.columns)
    conds = [f'coalesce(regexp_matches("{k}", $code_re), false)' for k in keys]
    conds += [f'("{n}" IS NOT NULL AND {filled_sql} >= 2)' for n in names]
    return "(" + (" OR ".join(conds) or "false") + ")"


def repeated_headers(
    con: duckdb.DuckDBPyConnection, staging: Staging, part: StagedPart, sid: int, lines: list[int]
) -> set[int]:
    """Drop the CSV rows on `lines` (they repeat the header) and the title rows right above
    each (at most 5 lines up, each with at most a quarter of the columns filled, none a
    record: headers.identifying_columns); one warning per block. Returns every line
    dropped."""
    if not lines:
        return set()
    filled_sql = _filled_sql(part)
    record_sql = _record_sql(part, filled_sql)
    limit = max(1, part.csv.ncols // 4)
    who = _who(part, sid)
    dropped: set[int] = set()
    for line in lines:
        near = {
            row: (filled, record)
            for row, filled, record in con.execute(
                f"""SELECT _row, {filled_sql}, {record_sql} FROM "{part.table}"
                    WHERE {part.where()} AND _row BETWEEN $lo AND $hi""",
                {**who, "lo": line - 5, "hi": line - 1, "code_re": CODE_RE},
            ).fetchall()
        }
        block = [line]
        k = line - 1
        while (
            k >= line - 5
            and k not in dropped
            and not near.get(k, (0, False))[1]
            and near.get(k, (0, False))[0] <= limit
        ):
            if k in near:
                block.append(k)
            k -= 1
        dropped.update(block)
        block.sort()
        span = f"dòng {block[0]}" if len(block) == 1 else f"dòng {block[0]}–{block[-1]}"
        staging.warn_part(
            part,
            f"{span}: tiêu đề bảng lặp lại giữa dữ liệu (dòng tiêu đề"
            + (" và tiêu đề phía trên" if len(block) > 1 else "")
            + "), đã bỏ qua, không phải bản ghi",
            row=line,
        )
    con.execute(
        f'DELETE FROM "{part.table}" WHERE {part.where()} AND list_contains($rows, _row)',
        {**who, "rows": sorted(dropped)},
    )
    return dropped


def footer_rows(
    con: duckdb.DuckDBPyConnection, staging: Staging, part: StagedPart, sid: int
) -> set[int]:
    """The total and signature block under the list (read._drop_footer for a sheet): among
    the CSV part's last FOOTER_SCAN lines, from the first row whose first non-empty cell
    is a footer line (headers.FOOTER_RE) with no record after it to the end, deleted with a
    warning naming the lines. One query over those few lines; returns the lines dropped."""
    t = TABLES[part.table]
    hm = part.headers
    if not any(identifying_columns(part.table, hm.columns)):
        return set()  # no column tells a record: nothing is known to follow the last one
    cells, params = [], {}
    for i in sorted(set(hm.mapping) | set(hm.extra)):
        if i in hm.extra:
            params[f"x{i}"] = hm.extra[i]
            cells.append(f"_extra[$x{i}]")
            continue
        col = t.column(hm.mapping[i])
        if col.default is not None:
            continue  # a status column: its default fills an empty cell
        text = f'CAST("{col.name}" AS VARCHAR)'
        cells.append(f'coalesce("{col.name}_raw", {text})' if col.kind in RAW_KINDS else text)
    if not cells:
        return set()
    filled_sql = _filled_sql(part)
    who = {**_who(part, sid), **params, "code_re": CODE_RE, "footer_re": FOOTER_RE}
    start, last, count, example = con.execute(
        f"""WITH w AS (
                SELECT _row, nfc_normalize(coalesce({", ".join(cells)})) AS first,
                       {_record_sql(part, filled_sql)} AS record
                FROM "{part.table}"
                WHERE {part.where()} AND _row > (
                    SELECT max(_row) FROM "{part.table}" WHERE {part.where()}) - {FOOTER_SCAN}
            ), m AS (
                SELECT _row, first, coalesce(regexp_matches(first, $footer_re), false) AS footer,
                       record FROM w
            ), l AS (
                SELECT coalesce(max(_row) FILTER (WHERE record AND NOT footer), -1) AS last
                FROM m
            ), s AS (SELECT min(_row) AS start FROM m, l WHERE footer AND _row > l.last)
            SELECT s.start, max(_row), count(*), arg_min(first, _row)
            FROM m, s WHERE _row >= s.start GROUP BY s.start""",
        who,
    ).fetchone() or (None, None, 0, None)
    if start is None:
        return set()
    dropped = con.execute(
        f"""DELETE FROM "{part.table}" WHERE {part.where()} AND _row >= $start
            RETURNING _row""",
        {**_who(part, sid), "start": start},
    ).fetchall()
    read._footer_warning(staging, part, start, last, count, example)
    return {r[0] for r in dropped}


def _has_value_sql(part: StagedPart, canonical: str) -> str | None:
    """SQL: the row holds a value in a canonical column (None for a status column, whose
    default fills an empty cell)."""
    col = TABLES[part.table].column(canonical)
    c = f'"{canonical}"'
    if col.default is not None:
        return None
    if col.kind in ("levels", "codes"):
        raw = f' OR "{canonical}_raw" IS NOT NULL' if col.kind in RAW_KINDS else ""
        return f"(len(coalesce({c}, [])) > 0{raw})"
    if col.kind in RAW_KINDS:
        return f'({c} IS NOT NULL OR "{canonical}_raw" IS NOT NULL)'
    return f"{c} IS NOT NULL"


def _in_extra_sql(k: str) -> str:
    return f"nullif(trim(_extra[${k}]), '') IS NOT NULL"


def prefer_filled(con: duckdb.DuckDBPyConnection, part: StagedPart, sid: int) -> bool:
    """Several columns naming one field (headers.HeaderMap.same_field): when the one used is
    empty on every row and another holds values, that one (the contract's preferred among
    those with values) is used instead. Says whether the part must be read again (CSV and
    SQL parts, after their first INSERT; a sheet decides while staging, read._prefer_filled)."""
    hm = part.headers
    groups, exprs, params = [], [], {}
    for canon, order in hm.same_field.items():
        has = _has_value_sql(part, canon)
        if has is None:
            continue
        others = [i for i in order if i != hm.index_of(canon)]
        groups.append((canon, others))
        exprs.append(f"count(*) FILTER (WHERE {has})")
        for i in others:
            params[f"k{i}"] = hm.extra[i]
            exprs.append(f"count(*) FILTER (WHERE {_in_extra_sql(f'k{i}')})")
    if not groups:
        return False
    counts = iter(
        con.execute(
            f'SELECT {", ".join(exprs)} FROM "{part.table}" WHERE {part.where()}',
            {**_who(part, sid), **params},
        ).fetchone()
    )
    again = False
    for canon, others in groups:
        used = next(counts)
        filled = [i for i in others if next(counts)]
        if not used and filled:
            hm.use_column(canon, filled[0])
            again = True
    return again


def same_field_columns(
    con: duckdb.DuckDBPyConnection, staging: Staging, part: StagedPart, sid: int
) -> None:
    """One warning for each column naming a field another column names: which one is used
    (and, when it is not the contract's preferred, that the preferred one is empty), where
    the other is kept (_extra), and how many rows hold a value only in the other (the
    first of them), counted in one query."""
    from loaders.contract import field_labels

    hm = part.headers
    pairs, exprs, params = [], [], {}
    for canon, order in hm.same_field.items():
        used = hm.index_of(canon)
        has = _has_value_sql(part, canon)
        for i in order:
            if i == used:
                continue
            pairs.append((canon, used, i, has is not None))
            if has is None:
                continue
            params[f"k{i}"] = hm.extra[i]
            only = f"NOT {has} AND {_in_extra_sql(f'k{i}')}"
            exprs.append(f"count(*) FILTER (WHERE {only}), min(_row) FILTER (WHERE {only})")
    if not pairs:
        return
    found = iter(
        con.execute(
            f'SELECT {", ".join(exprs)} FROM "{part.table}" WHERE {part.where()}',
            {**_who(part, sid), **params},
        ).fetchone()
        if exprs
        else ()
    )
    labels = field_labels()
    for canon, used, i, counted in pairs:
        n, first = (next(found), next(found)) if counted else (0, None)
        u, o = hm.headers[used], hm.headers[i]
        why = ""
        if i == hm.same_field[canon][0]:
            why = f" vì cột '{o}' để trống trên mọi dòng"
        only = ""
        if n:
            only = (
                f"; {n} dòng để trống cột '{u}' nhưng có giá trị ở cột '{o}' (dòng đầu "
                f"{first}): hãy gộp hai cột thành một"
            )
        staging.warn_part(
            part,
            f"cột '{o}' trùng với cột '{u}' (cùng là '{labels.get(canon, canon)}'); dùng cột "
            f"'{u}'{why}, cột '{o}' giữ trong cột thêm '{hm.extra[i]}' (_extra){only}",
            row=part.header_row,
            column=o,
        )


def padded_warning(staging: Staging, part: StagedPart, dropped: set[int]) -> None:
    lines = [x for x in part.csv.padded if x not in dropped]
    if not lines:
        return
    shown = ", ".join(str(x) for x in lines[:10]) + (" …" if len(lines) > 10 else "")
    staging.warn(
        f"{len(lines)} dòng có ít trường hơn dòng tiêu đề (dòng {shown}): đã đọc, các trường "
        "cuối bị thiếu coi là để trống",
        source=part.source,
        row=lines[0],
    )


def found_rejects(con: duckdb.DuckDBPyConnection, part: StagedPart, sid: int) -> None:
    """Value-level rejects found while reading (.xlsx error cells, formulas without a
    cached value): the value is empty in the snapshot, the reject says why."""
    if not part.found_rejects:
        return
    # one INSERT from Arrow: executemany runs a statement per row (≈ 5 000 rows a second,
    # and a formula column of a program-written workbook is a reject on every row)
    import pyarrow as pa

    rows, columns, values, reasons = (list(x) for x in zip(*part.found_rejects, strict=True))
    found = pa.table(
        {
            "row": pa.array(rows, pa.int64()),
            "column": pa.array(columns, pa.string()),
            "value": pa.array(values, pa.string()),
            "reason": pa.array(reasons, pa.string()),
        }
    )
    con.register("_soat_found_rejects", found)
    try:
        con.execute(
            """INSERT INTO rejects SELECT $sid, $table, $source, $sheet, "row", "column", value,
                      reason, false FROM _soat_found_rejects""",
            {"sid": sid, "table": part.table, "source": part.source, "sheet": part.sheet},
        )
    finally:
        con.unregister("_soat_found_rejects")


def made_up_columns(con: duckdb.DuckDBPyConnection, staging: Staging, part: StagedPart, sid: int):
    """The part's columns kept under a made-up _extra key (headers.map_headers: an empty
    header, a repeated unknown header): one warning for each that holds values, saying how
    many and where they are kept; one that holds none is not listed as kept (a trailing
    separator, an empty column beside the table). One scan of the part's _extra."""
    made = sorted(part.headers.made_up)
    if not made:
        return
    keys = [part.headers.extra[i] for i in made]
    counts = con.execute(
        "SELECT "
        + ", ".join(
            f"count(*) FILTER (WHERE nullif(trim(_extra[$k{j}]), '') IS NOT NULL)"
            for j in range(len(keys))
        )
        + f' FROM "{part.table}" WHERE {part.where()}',
        {**_who(part, sid), **{f"k{j}": k for j, k in enumerate(keys)}},
    ).fetchall()[0]
    part.empty_made_up = set()
    for i, key, n in zip(made, keys, counts, strict=True):
        if not n:
            part.empty_made_up.add(i)
            continue
        letter = key.rsplit("(cột ", 1)[1].rstrip(")")
        if part.headers.made_up[i] == "unnamed":
            what = f"cột {letter} không có tiêu đề nhưng có dữ liệu ({n} ô)"
        else:
            what = f"tiêu đề '{part.headers.headers[i]}' lặp lại ở cột {letter} ({n} ô có dữ liệu)"
        staging.warn_part(
            part,
            f"{what}: đã giữ trong cột thêm '{key}' (_extra), không thuộc cột nào của hợp "
            "đồng dữ liệu; hãy đặt tiêu đề riêng cho cột này (có thể là ô tiêu đề bị gộp "
            "qua hai cột)",
            row=part.header_row,
            column=key,
        )
