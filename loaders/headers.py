"""Header matching and header-row detection (data-contract.md, "General rules for reading").

Headers are compared after NFC, trimming, collapsing inner whitespace and case-folding
(`soat.vocab.fold`), against the column's Vietnamese headers and its canonical English
name; a diacritics-free comparison ("Ma truong") is the fallback. This works on the
header cells only (a handful of strings), never on data rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loaders.contract import TABLES
from soat.vocab import fold, strip_diacritics

HEADER_SCAN_ROWS = 15  # the header is the first of the first 15 rows with >= 2 known headers
MIN_KNOWN_HEADERS = 2


def _keys(table_name: str) -> tuple[dict[str, str], dict[str, str]]:
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for col in TABLES[table_name].columns:
        for h in col.all_headers:
            exact.setdefault(fold(h), col.name)
            loose.setdefault(strip_diacritics(fold(h)), col.name)
            # canonical names written with spaces ("school code") also match
            exact.setdefault(fold(h).replace("_", " "), col.name)
    return exact, loose


_CACHE: dict[str, tuple[dict[str, str], dict[str, str]]] = {}


def match_header(table_name: str, header: object) -> str | None:
    """Canonical column a header cell names, or None."""
    if header is None:
        return None
    if table_name not in _CACHE:
        _CACHE[table_name] = _keys(table_name)
    exact, loose = _CACHE[table_name]
    key = fold(str(header))
    if not key:
        return None
    return exact.get(key) or loose.get(strip_diacritics(key))


def count_known(table_name: str, cells: list) -> int:
    return len({m for m in (match_header(table_name, c) for c in cells) if m})


def find_header_row(table_name: str, rows: list[list]) -> int | None:
    """Index (0-based) of the first of the first 15 rows holding >= 2 known headers."""
    for i, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        if count_known(table_name, list(cells)) >= MIN_KNOWN_HEADERS:
            return i
    return None


@dataclass
class HeaderMap:
    """How the source's columns map to the table's canonical columns."""

    headers: list[str]  # source header text per source column (cleaned)
    mapping: dict[int, str] = field(default_factory=dict)  # source index -> canonical name
    extra: dict[int, str] = field(default_factory=dict)  # source index -> header kept in _extra
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (canon, kept, dropped)

    @property
    def columns(self) -> list[str]:
        return list(self.mapping.values())

    def header_of(self, canonical: str) -> str:
        for i, name in self.mapping.items():
            if name == canonical:
                return self.headers[i]
        return canonical


def map_headers(table_name: str, cells: list) -> HeaderMap:
    """Map header cells: first match wins on duplicates; unknown named columns go to _extra;
    columns with an empty header are ignored."""
    headers = [" ".join(str(c).split()) if c is not None else "" for c in cells]
    hm = HeaderMap(headers=headers)
    seen: dict[str, int] = {}
    extra_seen: set[str] = set()
    for i, h in enumerate(headers):
        if not h:
            continue
        canon = match_header(table_name, h)
        if canon is None:
            if fold(h) in extra_seen:
                continue  # a repeated unknown header: keep the first in _extra
            extra_seen.add(fold(h))
            hm.extra[i] = h
        elif canon in seen:
            hm.duplicates.append((canon, headers[seen[canon]], h))
        else:
            seen[canon] = i
            hm.mapping[i] = canon
    return hm


def excel_column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out
