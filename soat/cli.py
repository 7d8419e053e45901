"""The `soat` command. Each subcommand lives in soat/commands/<name>.py with
`register(subparsers)` adding its parser and setting `func(args) -> int`.

Exit status: 0 success, 1 bad input (one-line message), 2 usage error. No traceback
reaches a user: unexpected errors print one line (set SOAT_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback

from soat.errors import (
    Interrupted,
    SoatError,
    UsageError,
    forget_ctrl_c,
    is_interrupt,
    known_condition,
    noting_ctrl_c,
)

COMMANDS = (
    "load",
    "check",
    "snapshots",
    "export",
    "serve",
    "demo",
    "sample",
    "users",
    "changes",
    "notify",
)

# argparse's own words (help headings, usage errors), in Vietnamese like the rest of the
# command line. argparse looks each up through its module-level `_` (gettext) when it
# builds a parser or prints; main() swaps in this table meanwhile (_vietnamese_argparse),
# so other argparse users in the process are not touched. Unlisted strings stay as they are.
ARGPARSE_VI = {
    "usage: ": "cách dùng: ",
    "positional arguments": "tham số",
    "options": "tùy chọn",
    "show this help message and exit": "in hướng dẫn này rồi thoát",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "giá trị %(value)r không hợp lệ (chọn một trong: %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "giá trị %(value)r không hợp lệ (cần kiểu %(type)s)",
    "the following arguments are required: %s": "thiếu tham số bắt buộc: %s",
    "unrecognized arguments: %s": "không hiểu tham số: %s",
    "expected one argument": "cần một giá trị",
    "expected at least one argument": "cần ít nhất một giá trị",
    "expected at most one argument": "cần nhiều nhất một giá trị",
    "ambiguous option: %(option)s could match %(matches)s": (
        "tùy chọn %(option)s không rõ: có thể là %(matches)s"
    ),
    "not allowed with argument %s": "không dùng cùng tham số %s",
    "one of the arguments %s is required": "cần một trong các tham số %s",
}


@contextlib.contextmanager
def _vietnamese_argparse():
    english = argparse._  # type: ignore[attr-defined]
    argparse._ = lambda text: ARGPARSE_VI.get(text, text)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = english  # type: ignore[attr-defined]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with one line
        for english, vi in (
            ("(cần kiểu int)", "(cần một số nguyên)"),
            ("(cần kiểu float)", "(cần một số)"),
        ):
            message = message.replace(english, vi)
        self.print_usage(sys.stderr)
        print(f"soat: lỗi cú pháp lệnh: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="soat", description="Soát: rà soát dữ liệu ngành giáo dục")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"soat.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"soat.commands.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def add_db_option(parser: argparse.ArgumentParser, nested: bool = False) -> None:
    """--db; `nested` for a sub-action's parser (`soat snapshots delete … --db X`), which
    must not overwrite the value given before the action with its own default."""
    parser.add_argument(
        "--db",
        help="thư mục kho dữ liệu (mặc định: $SOAT_DB, nếu không có thì data/store)",
        **({"default": argparse.SUPPRESS} if nested else {}),
    )


def main(argv: list[str] | None = None) -> int:
    # Windows consoles and pipes: always write UTF-8 so Vietnamese survives.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    with _vietnamese_argparse():  # headings are set when a parser is built, errors when parsing
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
    try:
        return _run(args)
    finally:
        forget_ctrl_c()  # a later command in this process starts afresh


def run() -> None:
    """The `soat` process: the console script and `python -m soat` (tests call `main`).

    A stopped command has already told the officer and cleaned up when `main` returns 130,
    so the process ends there, with 130. Left to `sys.exit`, `python -m soat` could
    instead end by SIGINT (status -2 to the caller): CPython marks a KeyboardInterrupt
    that escaped any exec()/eval() of source text as "unhandled" even after our handler
    caught it, and the end of a `-m` run obeys that mark (bpo-1054041, gh-128130). A
    Ctrl-C can land in such code (dataclasses and namedtuples build their methods that way,
    during lazy imports): on a busy machine, 2 of 120 stopped loads, and CI failed on one."""
    status = main()
    if status == 130:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed pipe: nothing more to tell
                stream.flush()
        os._exit(status)
    sys.exit(status)


def _run(args) -> int:
    try:
        with noting_ctrl_c():
            return int(args.func(args) or 0)
    except SoatError as exc:
        if is_interrupt(exc):  # what the stop left behind ("thiếu bảng …") is not the news
            print("soat: đã dừng (Ctrl-C)", file=sys.stderr)
            return 130
        print(f"soat: {exc}", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"soat: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(f"soat: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("soat: đã dừng (Ctrl-C)", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        if os.environ.get("SOAT_DEBUG"):
            traceback.print_exc()
        if is_interrupt(exc):
            print("soat: đã dừng (Ctrl-C)", file=sys.stderr)
            return 130
        known = known_condition(exc)
        if known:
            print(f"soat: {known}", file=sys.stderr)
            return 1
        print(f"soat: lỗi không mong đợi: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
