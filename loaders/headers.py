"""Header matching and header-row detection (data-contract.md, "General rules for reading").

Headers are compared after NFC, trimming, collapsing inner whitespace and case-folding
(`soat.vocab.fold`), against the column's Vietnamese headers and its canonical English
name; a diacritics-free comparison ("Ma truong") is the fallback. A required-column mark
("Họ và tên (*)") is ignored. This works on the
header cells only (a handful of strings), never on data rows.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from loaders.contract import TABLES
from soat.vocab import fold, strip_diacritics

HEADER_SCAN_ROWS = 15  # the header is the row of the first 15 naming the most known headers
MIN_KNOWN_HEADERS = 2


# A required-column mark at the end of a header, as import templates (MOET's, the school
# software's) write it: "Họ và tên (*)", "Ngày sinh*", "Ngày sinh(*)".
REQUIRED_MARK_RE = re.compile(r"\s*(\(\s*\*+\s*\)|\*+)$")
# A header made of parts ("Mã định danh/CCCD", "Mã định danh (CCCD)"): split here
_PARTS_RE = re.compile(r"\s*/\s*|\s*\(\s*|\s*\)\s*")


def _keys(table_name: str) -> tuple[dict[str, tuple[str, int]], dict[str, tuple[str, int]]]:
    """Folded header -> (column, rank): the rank is the header's place in the column's
    accepted headers (contract.Column.all_headers), which decides between two columns
    naming one field (map_headers)."""
    exact: dict[str, tuple[str, int]] = {}
    loose: dict[str, tuple[str, int]] = {}
    for col in TABLES[table_name].columns:
        for rank, h in enumerate(col.all_headers):
            exact.setdefault(fold(h), (col.name, rank))
            loose.setdefault(strip_diacritics(fold(h)), (col.name, rank))
            # canonical names written with spaces ("school code") also match
            exact.setdefault(fold(h).replace("_", " "), (col.name, rank))
    return exact, loose


_CACHE: dict[str, tuple[dict[str, tuple[str, int]], dict[str, tuple[str, int]]]] = {}


def header_match(table_name: str, header: object) -> tuple[str, int] | None:
    """(canonical column, rank of the header among the column's accepted headers) a header
    cell names, or None. A trailing required-column mark ("(*)", "*") is ignored. A header
    made of parts that each name the same column ("Mã định danh/CCCD", "Mã định danh
    (CCCD)") names that column, ranked after its listed headers; parts naming two columns,
    or a part naming none ("Mã trường (cũ)"), name nothing."""
    if header is None:
        return None
    text = str(header)
    if len(text) > 200:  # no header is that long: not kept in the cache
        return _header_match.__wrapped__(table_name, text)
    return _header_match(table_name, text)


@functools.lru_cache(maxsize=4096)
def _header_match(table_name: str, header: str) -> tuple[str, int] | None:
    """header_match of a header's text, once per table and text: a folder's files are each
    matched against every table (load._header_names_another_table), ≈ 35 µs a cell."""
    if table_name not in _CACHE:
        _CACHE[table_name] = _keys(table_name)
    exact, loose = _CACHE[table_name]
    key = REQUIRED_MARK_RE.sub("", fold(header))
    if not key:
        return None
    found = exact.get(key) or loose.get(strip_diacritics(key))
    if found is None and _PARTS_RE.search(key):
        parts = [p for p in _PARTS_RE.split(key) if p]
        hits = [exact.get(p) or loose.get(strip_diacritics(p)) for p in parts]
        names = {h[0] for h in hits if h}
        if len(parts) > 1 and None not in hits and len(names) == 1:
            col = TABLES[table_name].column(names.pop())
            found = (col.name, len(col.all_headers) + min(h[1] for h in hits if h))
    return found


def match_header(table_name: str, header: object) -> str | None:
    """Canonical column a header cell names, or None (header_match)."""
    found = header_match(table_name, header)
    return found[0] if found else None


def count_known(table_name: str, cells: list) -> int:
    return len({m for m in (match_header(table_name, c) for c in cells) if m})


# Which rows are records: a row with a code in one of the table's key columns, or a name
# beside another value, is a record, never a title row (above a repeated header) nor part
# of the signature block under the list. A code is a value without a space (a title
# typed in the code column, "DANH SÁCH HỌC SINH TRƯỜNG S2", has spaces). Both RE2 (DuckDB)
# and Rust's regex (polars) read this pattern alike.
CODE_RE = r"^[^\s\p{Z}]+$"
NAME_COLUMNS = ("full_name", "school_name", "class_name", "unit_name")


def identifying_columns(table_name: str, mapped) -> tuple[list[str], list[str]]:
    """(key columns holding codes, name columns) of the table among the `mapped` canonical
    columns (see CODE_RE)."""
    t = TABLES[table_name]
    keys = [k for k in t.keys if k in mapped and t.column(k).kind == "code"]
    names = [n for n in NAME_COLUMNS if n in mapped and n in t.column_names]
    return keys, names


# The total and signature block under a list, as administrative documents end
# (Nghị định 30/2020): a row whose first non-empty cell starts with these words ("Tổng
# cộng", "Người lập biểu", "HIỆU TRƯỞNG", "KT. HIỆU TRƯỞNG", "(Ký, ghi rõ họ tên)", "Nơi
# nhận:") or ends with a date in words ("Lê Lợi, ngày 15 tháng 10 năm 2024", "ngày ...
# tháng ... năm 20..") starts it, when no record follows (loaders.fixups.footer_rows,
# loaders.read._drop_footer). RE2 and Rust's regex read it alike.
FOOTER_RE = (
    r"(?i)^((tm|t/m|kt|k/t|tl|tuq|q)\.?\s+)?"
    r"(tổng(\s+cộng|\s+số|\s*:|$)|cộng(\s|:|$)|người\s+(lập|ký|duyệt|kiểm\s+tra)"
    r"|(phó\s+)?hiệu\s+trưởng|thủ\s+trưởng|kế\s+toán|giám\s+đốc|trưởng\s+phòng"
    r"|xác\s+nhận|nơi\s+nhận|\(\s*ký|ký\s+tên)"
    r"|ngày\s*[0-9.…_ ]*\s*tháng\s*[0-9.…_ ]*\s*năm\s*[0-9.…_ ]*$"
)
FOOTER_SCAN = 40  # the block is looked for in the table's last 40 rows (lines)


@dataclass
class HeaderFound:
    """Where a table's header is: `index` (0-based) of its first row, `rows` (1, or 2 for a
    header split over two rows) and the header `cells` to map."""

    index: int
    rows: int
    cells: list

    @property
    def last(self) -> int:
        """1-based number of the header's last row (the data starts after it)."""
        return self.index + self.rows


def is_empty_cell(cell: object) -> bool:
    return cell is None or not str(cell).strip()


def two_row_header(table_name: str, upper: list, lower: list) -> list | None:
    """The header cells of a header split over two rows (SMAS-style exports: group titles
    merged above the real headers, columns without a group merged down), or None when
    `lower` is not such a second row.

    `lower` is a second header row when it is empty under every known header of `upper`
    (a merged cell keeps its text in its top cell) and names at least one known header
    where `upper` names none (under a group title, or under the empty cells a merged
    group title leaves). The header of a column is then its lower cell, else its upper."""
    width = max(len(upper), len(lower))
    upper = list(upper) + [None] * (width - len(upper))
    lower = list(lower) + [None] * (width - len(lower))
    sub = 0
    for u, lo in zip(upper, lower, strict=True):
        known_u = match_header(table_name, u) is not None
        if known_u and not is_empty_cell(lo):
            return None  # a value under a known header: a data row
        if not known_u and match_header(table_name, lo) is not None:
            sub += 1
    if not sub:
        return None
    return [u if is_empty_cell(lo) else lo for u, lo in zip(upper, lower, strict=True)]


def header_at(table_name: str, rows: list[list], index: int) -> HeaderFound:
    """The header whose first row is `rows[index]`: with the row below it when that one
    completes a two-row header (two_row_header)."""
    cells = list(rows[index])
    if index + 1 < len(rows):
        both = two_row_header(table_name, cells, list(rows[index + 1]))
        if both is not None:
            return HeaderFound(index, 2, both)
    return HeaderFound(index, 1, cells)


def find_header(table_name: str, rows: list[list]) -> HeaderFound | None:
    """The table's header in the first 15 rows: of the rows holding >= 2 known headers, the
    one naming the most (with the row below it when that completes a two-row header, whose
    headers count together); on a tie the first. An information block above the list
    ('Mã trường | S1 | Năm học | 2024-2025') names two headers, the list's header more:
    taking the first such row read the pupils' codes as school codes."""
    best: tuple[int, HeaderFound] | None = None
    for i, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        if count_known(table_name, list(cells)) < MIN_KNOWN_HEADERS:
            continue
        found = header_at(table_name, rows, i)
        k = count_known(table_name, found.cells)
        if best is None or k > best[0]:
            best = (k, found)
    return best[1] if best else None


def header_spellings(
    table_name: str, canonical: str, source_header: str | None = None
) -> list[str]:
    """The texts a repeated header cell of a column may hold: the source's own header and
    every accepted header of the column, as written, upper-case and lower-case (a header
    pasted from another office's file is spelled its way)."""
    out: list[str] = []
    col = TABLES[table_name].column(canonical)
    for h in ([source_header] if source_header else []) + list(col.all_headers):
        for v in (h, h.upper(), h.lower()):
            if v not in out:
                out.append(v)
    return out


@dataclass
class HeaderMap:
    """How the source's columns map to the table's canonical columns."""

    headers: list[str]  # source header text per source column (cleaned)
    mapping: dict[int, str] = field(default_factory=dict)  # source index -> canonical name
    extra: dict[int, str] = field(default_factory=dict)  # source index -> header kept in _extra
    # source index -> why its _extra key is made up: "unnamed" (an empty header) or
    # "repeated" (an unknown header a column to its left already has)
    made_up: dict[int, str] = field(default_factory=dict)
    # a canonical column several source columns name -> their indices, the contract's
    # preferred first (the rank of their header among the column's accepted headers, then
    # the leftmost); the one in `mapping` is used, the others are kept in `extra`
    same_field: dict[str, list[int]] = field(default_factory=dict)
    # _extra key of each column of `same_field` while it is not the one used
    same_field_keys: dict[int, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return list(self.mapping.values())

    def header_of(self, canonical: str) -> str:
        for i, name in self.mapping.items():
            if name == canonical:
                return self.headers[i]
        return canonical

    def index_of(self, canonical: str) -> int | None:
        return next((i for i, name in self.mapping.items() if name == canonical), None)

    def use_column(self, canonical: str, index: int) -> None:
        """Column `index` of same_field[canonical] is the one used; the one used before goes
        to _extra (both dicts kept in source order)."""
        old = self.index_of(canonical)
        if old is None or old == index:
            return
        self.mapping.pop(old)
        self.extra.pop(index)
        self.mapping[index] = canonical
        self.extra[old] = self.same_field_keys[old]
        self.mapping = dict(sorted(self.mapping.items()))
        self.extra = dict(sorted(self.extra.items()))


def map_headers(table_name: str, cells: list, first_col: int = 0) -> HeaderMap:
    """Map header cells; unknown named columns go to _extra.
    A column with an empty header (a header merged over two columns, a column added without
    a title) and a second column with the same unknown header are kept in _extra too, under
    a made-up key naming the column ("(cột F)", "Ghi chú (cột G)"): their values are never
    dropped unseen (the loader warns when they hold any, loaders.fixups.made_up_columns).
    Several columns naming one canonical column ("Số CMND/CCCD" and "Số định danh cá
    nhân"): the one whose header comes first among the column's accepted headers is used
    (the leftmost on a tie), the others are kept in _extra under their header (with the
    column's letter when another column has that text); loaders.fixups.same_field_columns
    uses one with values instead of an empty one and warns.
    `first_col`: the sheet column of cells[0] (an .xlsx table starting right of column A),
    so a made-up key names the column the officer sees."""
    headers = [" ".join(str(c).split()) if c is not None else "" for c in cells]
    hm = HeaderMap(headers=headers)
    named: dict[str, list[tuple[int, int]]] = {}  # canonical -> [(rank, index)]
    extra_seen: set[str] = set()
    for i, h in enumerate(headers):
        if not h:
            hm.extra[i] = f"(cột {excel_column_letter(first_col + i)})"
            hm.made_up[i] = "unnamed"
            continue
        found = header_match(table_name, h)
        if found is None:
            if fold(h) in extra_seen:
                hm.extra[i] = f"{h} (cột {excel_column_letter(first_col + i)})"
                hm.made_up[i] = "repeated"
                continue
            extra_seen.add(fold(h))
            hm.extra[i] = h
        else:
            named.setdefault(found[0], []).append((found[1], i))
    for canon, members in named.items():
        order = [i for _rank, i in sorted(members)]
        hm.mapping[order[0]] = canon
        if len(order) == 1:
            continue
        hm.same_field[canon] = order
        for i in order:
            h = headers[i]
            clash = fold(h) in extra_seen or any(
                fold(h) == fold(headers[j]) for j in order if j != i
            )
            hm.same_field_keys[i] = (
                f"{h} (cột {excel_column_letter(first_col + i)})" if clash else h
            )
        extra_seen.update(fold(hm.same_field_keys[i]) for i in order)
        for i in order[1:]:
            hm.extra[i] = hm.same_field_keys[i]
    hm.mapping = dict(sorted(hm.mapping.items()))
    hm.extra = dict(sorted(hm.extra.items()))
    return hm


def excel_column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out
