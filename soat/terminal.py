"""The console every command prints with (rich): tables and lines shown as they are.

Rich reads `[…]` as markup and `:name:` as an emoji in what it prints, table cells
included; names, codes and sources from data (a school code `[/b]86000005`, a snapshot
named `Tháng 10 [/x]`) would be changed or make rich raise. So markup and emoji are off;
the few lines that colour our own words pass `markup=True` and escape what they quote
(rich.markup.escape). A pipe or a file gets wide lines (no wrapping inside table cells)."""

from __future__ import annotations

import sys


def console():
    from rich.console import Console

    width = None if sys.stdout.isatty() else 200
    return Console(width=width, markup=False, emoji=False)
