"""Accounts' optional e-mail address: `soat users add|edit --email`, and the column added
to an app database created before it existed (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa

from soat import accounts, appdb, audit
from soat.cli import main
from soat.errors import SoatError

PW = "Bi-mat-2024!"


def test_create_and_edit_email(db):
    u = accounts.create_user(
        "quan1", PW, "unit_officer", units=["79760"], email=" canbo@quan1.edu.vn "
    )
    assert u.email == "canbo@quan1.edu.vn"
    accounts.set_email("quan1", "moi@quan1.edu.vn", by="admin")
    assert accounts.get_user("quan1").email == "moi@quan1.edu.vn"
    accounts.set_email("quan1", "")
    assert accounts.get_user("quan1").email is None
    ev = audit.read(action="user_email")
    assert [e["detail"]["email"] for e in ev] == [None, "moi@quan1.edu.vn"]
    assert ev[1]["username"] == "admin"


@pytest.mark.parametrize(
    "bad", ["canbo", "canbo@", "@quan1.edu.vn", "a b@x.vn", "a@b", "a@b.vn; c@d.vn", "a@@b.vn"]
)
def test_malformed_email_refused(db, bad):
    with pytest.raises(SoatError, match="địa chỉ thư điện tử .* không hợp lệ"):
        accounts.create_user("x", PW, "school", school="S1", email=bad)
    assert accounts.get_user("x") is None


def test_cli_add_edit_list(sqlite_db, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    argv = ["users", "add", "truong1", "--role", "school", "--school", "S1"]
    assert main([*argv, "--email", "hieutruong@s1.edu.vn", "--password-stdin"]) == 0
    assert accounts.get_user("truong1").email == "hieutruong@s1.edu.vn"
    assert main(["users", "edit", "truong1", "--email", "vanthu@s1.edu.vn"]) == 0
    assert "vanthu@s1.edu.vn" in capsys.readouterr().out
    assert main(["users", "list"]) == 0
    assert "vanthu@s1.edu.vn" in capsys.readouterr().out
    assert main(["users", "edit", "truong1", "--no-email"]) == 0
    assert accounts.get_user("truong1").email is None
    assert main(["users", "edit", "truong1", "--email", "khong-hop-le"]) == 1
    assert "không hợp lệ" in capsys.readouterr().err
    assert main(["users", "edit", "khongco", "--email", "a@b.vn"]) == 1
    with pytest.raises(SystemExit) as exc:
        main(["users", "edit", "truong1"])  # neither --email nor --no-email
    assert exc.value.code == 2
    assert "cần một trong các tham số" in capsys.readouterr().err


OLD_USERS = """CREATE TABLE {t} (
    id INTEGER PRIMARY KEY, username VARCHAR(100) NOT NULL UNIQUE,
    password_hash VARCHAR(200) NOT NULL, role VARCHAR(30) NOT NULL, units {json},
    levels {json}, school VARCHAR(50), disabled BOOLEAN NOT NULL,
    failed_attempts INTEGER NOT NULL, locked_until TIMESTAMP, created_at TIMESTAMP NOT NULL,
    created_by VARCHAR(100))"""


def _old_database(engine, schema: str | None) -> None:
    """The users table as databases created before the e-mail column hold it, one account."""
    t = f'"{schema}".users' if schema else "users"
    json = "JSON" if engine.dialect.name == "postgresql" else "TEXT"
    with engine.begin() as conn:
        if schema:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(sa.text(OLD_USERS.format(t=t, json=json)))
        conn.execute(
            sa.text(
                f"INSERT INTO {t} (id, username, password_hash, role, units, disabled, "
                "failed_attempts, created_at) VALUES (1, 'cu', 'x', 'unit_officer', "
                """'["79760"]', false, 0, '2024-01-01 00:00:00')"""
            )
        )


def test_old_sqlite_database_gains_the_column(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    _old_database(sa.create_engine(url), None)
    db = appdb.AppDB(url)
    old = accounts.get_user("cu", app_db=db)
    assert old.units == ("79760",) and old.email is None
    accounts.set_email("cu", "cu@quan1.edu.vn", app_db=db)
    assert accounts.get_user("cu", app_db=db).email == "cu@quan1.edu.vn"
    # a second process starting on the migrated database finds nothing to add
    db2 = appdb.AppDB(url)
    assert accounts.get_user("cu", app_db=db2).email == "cu@quan1.edu.vn"
    db.dispose()
    db2.dispose()


def test_old_postgresql_database_gains_the_column():
    from tests.access.conftest import PG_URL, pg_ok
    from tests.conftest import require

    require(pg_ok(), f"PostgreSQL unreachable at {PG_URL}")
    schema = f"soat_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_URL)
    _old_database(engine, schema)
    db = appdb.AppDB(PG_URL, schema=schema)
    try:
        accounts.set_email("cu", "cu@quan1.edu.vn", app_db=db)
        assert accounts.get_user("cu", app_db=db).email == "cu@quan1.edu.vn"
        assert accounts.get_user("cu", app_db=db).units == ("79760",)
    finally:
        db.drop()
        db.dispose()
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
