"""`soat serve [--port 8501] [--db PATH] [--address ADDR] [--open]`: the dashboard.

Runs `streamlit run dashboard/app.py` headless (through soat.commands.serve_app, which
first imports what every page needs) with SOAT_DB set to the database, waits
until /_stcore/health answers, prints the address (and opens a browser with --open), then
stays until Ctrl-C or the server ends.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from soat.cli import add_db_option
from soat.errors import SoatError

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def register(sub) -> None:
    p = sub.add_parser("serve", help="chạy bảng điều khiển (dashboard) trên cơ sở dữ liệu")
    add_arguments(p)
    p.set_defaults(func=run)


def port_number(text: str) -> int:
    """--port: a TCP port, 1–65535 (argparse's type: anything else is a usage error)."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"cổng phải là số từ 1 đến 65535, không phải '{text}'")
    return port


def add_arguments(p) -> None:
    p.add_argument("--port", type=port_number, default=8501, help="cổng (mặc định 8501)")
    p.add_argument(
        "--address",
        default=None,
        help="địa chỉ lắng nghe (mặc định: mọi địa chỉ; 127.0.0.1 chỉ máy này)",
    )
    p.add_argument("--open", action="store_true", help="mở trình duyệt khi máy chủ sẵn sàng")
    add_db_option(p)


def port_free(port: int, address: str | None = None) -> bool:
    """Whether the server can listen on the port (bind_problem says why not)."""
    return bind_problem(port, address) is None


def bind_problem(port: int, address: str | None = None) -> str | None:
    """Why the server could not listen on the port, in Vietnamese, or None. SO_REUSEADDR as
    the server's own socket has it (Tornado sets it): without it the connections of a
    server just stopped, in TIME_WAIT for up to a minute, made a restart of `soat serve`
    say the port was taken. Not on Windows, where the option lets a socket take a port
    another one listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if os.name != "nt":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address or "0.0.0.0", port))
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                return f"không có quyền mở cổng {port} (cổng dưới 1024 cần quyền quản trị)"
            if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
                return f"địa chỉ '{address}' không thuộc máy này; bỏ --address hoặc sửa lại"
            return f"cổng {port} đang được dùng; chọn cổng khác với --port"
    return None


def free_port() -> int:
    """A port nothing listens on now (the OS picks it): for tests and benchmarks."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(port: int, address: str | None = None) -> list[str]:
    from soat.uploads import max_upload_mb

    cmd = [
        sys.executable,
        "-m",
        "soat.commands.serve_app",  # Streamlit's command line, after a warm-up
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.maxUploadSize",  # the dashboard's upload limit, $SOAT_MAX_UPLOAD_MB
        str(max_upload_mb()),
        # no main menu (⋮), whose items are English (System / Light / Dark / Print / Record
        # screen …): "minimal" shows only the app's own items, and it sets none
        "--client.toolbarMode",
        "minimal",
        # no "Download as CSV" (nor copy) on the data grids: its CSV would carry formulas
        # from the data as they are; the pages' own downloads go through soat.exports.csv
        "--client.disableDataExport",
        "true",
        # dashboard/static/: the charts' drawing code (Plotly's basic bundle, dashboard.charts)
        "--server.enableStaticServing",
        "true",
    ]
    if address:
        cmd += ["--server.address", address]
    return cmd


def environment(db: str) -> dict:
    env = dict(os.environ)
    env["SOAT_DB"] = str(Path(db).resolve())
    root = str(APP.parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def wait_healthy(port: int, proc: subprocess.Popen | None = None, timeout: float = 60.0) -> bool:
    import urllib.request  # here: every command builds the parser (≈ 25 ms at import)

    url = f"http://127.0.0.1:{port}/_stcore/health"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def serve(db: str, port: int = 8501, address: str | None = None, open_browser: bool = False) -> int:
    from soat.snapshot_store import SnapshotStore, resolve

    db = resolve(db)
    SnapshotStore.open(db, create=True)  # a file that is not a store: refused, as elsewhere
    problem = bind_problem(port, address)
    if problem:
        raise SoatError(problem, column="--address" if "địa chỉ" in problem else "--port")
    if not Path(db).exists():  # a typo, or a province starting afresh (upload on Dữ liệu)
        print(
            f"soat: chưa có kho dữ liệu ở {db}: bảng điều khiển mở trống; nạp dữ liệu bằng "
            "'soat load' hoặc ở trang Dữ liệu",
            file=sys.stderr,
        )
    proc = subprocess.Popen(command(port, address), env=environment(db))
    # `kill <pid>` of this process must stop the server too: SIGTERM unwinds like Ctrl-C.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if not wait_healthy(port, proc):
            code = proc.poll()
            raise SoatError(
                "không khởi động được máy chủ Streamlit"
                + (f" (mã thoát {code})" if code is not None else "")
            )
        host = "localhost" if address in (None, "0.0.0.0", "127.0.0.1") else address
        url = f"http://{host}:{port}"
        print(f"Soát đang chạy tại {url}  (cơ sở dữ liệu: {db}) — Ctrl-C để dừng", flush=True)
        if open_browser:
            _open(url)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _raise_interrupt(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt


def _open(url: str) -> None:
    import webbrowser

    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return  # no screen: the address printed above is enough
    try:
        webbrowser.open(url)
    except Exception:  # noqa: BLE001 - opening a browser is a convenience
        pass


def run(args) -> int:
    return serve(args.db, args.port, args.address, args.open)
