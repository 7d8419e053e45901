"""`soat demo` (prepared without serving) and `soat serve`'s checks."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from soat import accounts, appdb
from soat.testing import cli

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "province"


run = cli  # `soat ARGV…` in this process: (status, stdout, stderr)


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SOAT_APP_DB", f"sqlite:///{tmp_path / 'app.sqlite'}")
    monkeypatch.setenv("SOAT_BCRYPT_ROUNDS", "4")
    appdb.reset_cache()
    yield tmp_path
    appdb.reset_cache()


def test_demo_prepares_sample_snapshot_and_account_once(app_env):
    """The committed sample (a copy): the week after it is made beside it, both are loaded."""
    import shutil

    assert SAMPLE.is_dir(), f"the committed sample province {SAMPLE} is missing"
    sample = app_env / "sample" / "province"
    shutil.copytree(SAMPLE, sample)
    db = str(app_env / "demo.duckdb")
    code, out, _ = run("demo", "--no-serve", "--db", db, "--sample", str(sample))
    assert (app_env / "sample" / "province_week2").is_dir()
    assert code == 0
    assert "xem-thu-soat-2025" in out
    assert [u.username for u in accounts.list_users()] == ["demo"]
    assert accounts.authenticate("demo", "xem-thu-soat-2025").role == "province_admin"
    from soat import store

    con = store.connect(db, read_only=True)
    try:
        snaps = con.execute("SELECT name, as_of FROM snapshots ORDER BY snapshot_id").fetchall()
        new = con.execute("SELECT count(*) FROM findings WHERE change = 'new'").fetchall()[0][0]
        fixed = con.execute("SELECT count(*) FROM findings_resolved").fetchall()[0][0]
    finally:
        con.close()
    assert [n for n, _ in snaps] == ["Tỉnh mẫu", "Tỉnh mẫu, một tuần sau"]
    assert (snaps[1][1] - snaps[0][1]).days == 7
    assert new > 0 and fixed > 0  # the demo shows history at once
    code, out, _ = run("demo", "--no-serve", "--db", db, "--sample", str(sample))
    assert code == 0
    assert "đã có 2 bản chụp" in out  # not loaded twice


def test_demo_leaves_existing_accounts_alone(app_env):
    assert SAMPLE.is_dir(), f"the committed sample province {SAMPLE} is missing"
    import shutil

    accounts.create_user("chuyenvien", "mat-khau-rat-dai", "province_admin")
    db = str(app_env / "demo.duckdb")
    sample = app_env / "sample" / "province"  # a copy: the week after is made beside it
    shutil.copytree(SAMPLE, sample)
    code, out, _ = run("demo", "--no-serve", "--db", db, "--sample", str(sample))
    assert code == 0
    assert [u.username for u in accounts.list_users()] == ["chuyenvien"]
    assert "tài khoản đã có" in out


def test_serve_refuses_a_busy_port(app_env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code, _, err = run(
            "serve",
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
            "--db",
            str(app_env / "x.duckdb"),
        )
    assert code == 1
    assert f"cổng {port}" in err


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEADDR") or os.name == "nt", reason="POSIX")
def test_a_port_whose_server_just_stopped_is_free():
    """A restart of `soat serve` right after stopping it: the old server's connections are
    in TIME_WAIT on the port (the side that closes first keeps it), nothing listens."""
    from soat.commands.serve import port_free

    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        conn, _ = listener.accept()
        conn.close()  # the server closes first: its side goes to TIME_WAIT
        client.close()
        assert not port_free(port, "127.0.0.1")  # still listening
    assert port_free(port, "127.0.0.1")


def test_serve_command_line(tmp_path):
    from soat.commands import serve

    cmd = serve.command(8765, "127.0.0.1")
    # Streamlit's own command line, through the warm-up entry (soat.commands.serve_app)
    assert cmd[1:4] == ["-m", "soat.commands.serve_app", "run"]
    assert cmd[4].endswith("dashboard/app.py")
    assert "--server.headless" in cmd and "8765" in cmd
    env = serve.environment(str(tmp_path / "a.duckdb"))
    assert env["SOAT_DB"] == str((tmp_path / "a.duckdb").resolve())


def test_serve_app_warms_up_and_hands_over_to_streamlit(monkeypatch):
    """The server process imports what every first page needs, then runs Streamlit's own
    command line with the same arguments."""
    import sys

    from soat.commands import serve_app

    seen = {}

    def fake_main():
        seen["argv"] = list(sys.argv)
        return 0

    import streamlit.web.cli as cli

    monkeypatch.setattr(cli, "main", fake_main)
    monkeypatch.setattr(sys, "argv", ["serve_app", "run", "dashboard/app.py", "--x", "1"])
    try:
        serve_app.main()
    except SystemExit as exc:
        assert exc.code == 0
    assert seen["argv"] == ["streamlit", "run", "dashboard/app.py", "--x", "1"]
    assert "plotly.io" in sys.modules and "dashboard.query" in sys.modules


def test_streamlit_run_from_the_root_has_the_serve_settings():
    """`streamlit run dashboard/app.py` (from the project's root) reads .streamlit/config.toml:
    the grids' own CSV download stays off there too, as `soat serve` turns it off."""
    import tomllib
    from pathlib import Path

    from soat.commands import serve

    root = Path(__file__).resolve().parents[2]
    cfg = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert cfg["client"]["disableDataExport"] is True
    # no main menu: its items are English (UI review D4.3); both ways of serving agree below
    assert cfg["client"]["toolbarMode"] == "minimal"
    cmd = serve.command(8501)
    for key, value in cfg["client"].items():
        flag = cmd[cmd.index(f"--client.{key}") + 1]
        assert flag == (str(value).lower() if isinstance(value, bool) else value)
