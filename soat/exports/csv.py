"""The one place a CSV file is written (command line, dashboard downloads, follow-ups).

A spreadsheet program runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and
tab or carriage return may hide one), so a school name `=HYPERLINK("http://…","x")` or a
note `@SUM(1+1)*cmd|' /C calc'!A0` in a file an officer opens in Excel would run. Every
text cell that starts with one of those characters gets a leading `'` (OWASP's advice for
CSV injection); Excel shows it as text. Numbers stay numbers: numeric columns are written
as they are, and a text cell that is a plain number (`-3`, `+84`, `-1,5`) cannot be a
formula and is kept too. Header names are neutralised the same way.

    csv_bytes(df)                  # bytes, with the UTF-8 BOM Excel needs for Vietnamese
    write(df, "out.csv")           # a file (BOM)
    write(df, sys.stdout, bom=False)  # a pipe: no BOM

Text columns are rewritten with polars string expressions (no Python per cell).
"""

from __future__ import annotations

import io
import os
import re
from typing import IO

import polars as pl

BOM = "\ufeff"
# a text cell starting with one of these is prefixed with QUOTE
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_STARTS = r"^[=+\-@\t\r]"
# kept as they are: an optional sign and digits with at most one decimal mark
_PLAIN_NUMBER = r"^[+-]?[0-9]+([.,][0-9]+)?$"


def neutral_text(value: str | None) -> str | None:
    """One text value as a CSV cell holds it (the rule of `neutralise`, for one string)."""
    if value is None or not value.startswith(FORMULA_START):
        return value
    if re.fullmatch(_PLAIN_NUMBER, value):
        return value
    return QUOTE + value


def _neutral_expr(col: str) -> pl.Expr:
    c = pl.col(col)
    risky = c.str.contains(_STARTS) & ~c.str.contains(_PLAIN_NUMBER)
    return pl.when(risky).then(pl.lit(QUOTE) + c).otherwise(c).alias(col)


def neutralise(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with every text cell (and column name) that could start a formula prefixed
    with `'`; other columns untouched."""
    text = [c for c, t in df.schema.items() if t == pl.String]
    out = df.with_columns(_neutral_expr(c) for c in text) if text else df
    renames = {c: neutral_text(c) for c in out.columns if neutral_text(c) != c}
    return out.rename(renames) if renames else out


def _csv_text(df: pl.DataFrame) -> str:
    return neutralise(df).write_csv()


def csv_bytes(df: pl.DataFrame, *, bom: bool = True) -> bytes:
    """The CSV file of `df` as bytes (UTF-8, with a BOM unless bom=False)."""
    return ((BOM if bom else "") + _csv_text(df)).encode("utf-8")


def write(df: pl.DataFrame, target: str | os.PathLike | IO, *, bom: bool = True) -> None:
    """Write `df` as CSV to a path, a binary file or a text stream (sys.stdout)."""
    if isinstance(target, str | os.PathLike):
        with open(target, "wb") as f:
            f.write(csv_bytes(df, bom=bom))
        return
    if isinstance(target, io.TextIOBase) or hasattr(target, "encoding"):
        target.write((BOM if bom else "") + _csv_text(df))
        target.flush()
        return
    target.write(csv_bytes(df, bom=bom))
