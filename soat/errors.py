"""Errors a user sees: one line, naming the file, sheet, row or option at fault."""

from __future__ import annotations


class SoatError(Exception):
    """Bad input: the CLI prints the message and exits with status 1."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ):
        self.source, self.sheet, self.row, self.column = source, sheet, row, column
        where = []
        if source:
            where.append(source)
        if sheet:
            where.append(f"sheet '{sheet}'")
        if row is not None:
            where.append(f"dòng {row}")
        if column and column.startswith("--"):
            where.append(f"tùy chọn {column}")  # a command-line option, not a column
        elif column:
            where.append(f"cột '{column}'")
        self.plain = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class UsageError(Exception):
    """Wrong use of the command line: exit status 2."""
