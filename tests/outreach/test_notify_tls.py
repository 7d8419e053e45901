"""`soat notify` and TLS: STARTTLS (and smtps://) against aiosmtpd with a self-signed
certificate made in the test; an untrusted certificate and a network server without
STARTTLS are refused before anything is sent."""

from __future__ import annotations

import ssl

import pytest
from aiosmtpd.controller import Controller

from soat import accounts
from soat.errors import SoatError
from soat.notify import settings
from soat.notify.mailer import SmtpTransport
from soat.testing import cli

from . import smtp_server as smtp
from .fixtures import build_file

PW = "Bi-mat-2024!"


@pytest.fixture
def duck(tmp_path, sqlite_db, monkeypatch):
    path = tmp_path / "soat.duckdb"
    build_file(str(path))
    accounts.create_user("quan1", PW, "unit_officer", units=["79760"], email="canbo@q1.edu.vn")
    monkeypatch.setenv("SOAT_SMTP_PASSWORD", smtp.PASSWORD)
    monkeypatch.delenv("SOAT_SMTP_FROM", raising=False)  # the user is an address: it sends
    monkeypatch.delenv("SOAT_SMTP_CAFILE", raising=False)
    return path


@pytest.fixture
def cert(tmp_path):
    return smtp.self_signed(tmp_path)


def server_context(cert) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*map(str, cert))
    return ctx


def test_starttls_with_the_servers_ca(duck, cert, monkeypatch):
    controller, inbox = smtp.start(tls_context=server_context(cert))
    try:
        url = f"smtp://{smtp.USER}@127.0.0.1:{controller.port}"
        monkeypatch.setenv("SOAT_SMTP_URL", url)
        # a certificate nobody vouches for: refused, nothing sent
        code, _, err = cli("notify", "--db", str(duck))
        assert code == 1 and "chứng chỉ TLS" in err and "SOAT_SMTP_CAFILE" in err
        assert not inbox.received
        monkeypatch.setenv("SOAT_SMTP_CAFILE", str(cert[0]))
        code, out, err = cli("notify", "--db", str(duck))
        assert code == 0, err
        assert [m.rcpt_tos for m in inbox.received if "canbo@q1.edu.vn" in m.rcpt_tos]
        assert inbox.logins == [(smtp.USER, True)]  # the login went inside TLS
        assert smtp.PASSWORD not in out + err
        with SmtpTransport(settings.smtp_settings()) as t:
            assert t.encrypted
    finally:
        controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtps_implicit_tls(duck, cert, monkeypatch):
    inbox = smtp.Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=smtp.free_port(),
        ssl_context=server_context(cert),
        authenticator=smtp.authenticator(inbox),
        auth_required=True,
        auth_require_tls=False,  # aiosmtpd counts only STARTTLS as TLS; this one is TLS throughout
    )
    controller.start()
    try:
        monkeypatch.setenv("SOAT_SMTP_URL", f"smtps://{smtp.USER}@127.0.0.1:{controller.port}")
        monkeypatch.setenv("SOAT_SMTP_CAFILE", str(cert[0]))
        code, _, err = cli("notify", "--db", str(duck))
        assert code == 0, err
        assert any("canbo@q1.edu.vn" in m.rcpt_tos for m in inbox.received)
    finally:
        controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_network_server_without_starttls_is_refused(duck, monkeypatch):
    ip = smtp.lan_address()
    if ip is None:
        pytest.skip("this machine has no network address besides loopback")
    controller, inbox = smtp.start(host=ip)
    try:
        monkeypatch.setenv("SOAT_SMTP_URL", f"smtp://{smtp.USER}@{ip}:{controller.port}")
        code, _, err = cli("notify", "--db", str(duck))
        assert code == 1 and "không hỗ trợ STARTTLS" in err
        assert not inbox.received and not inbox.logins  # the password never went out
    finally:
        controller.stop()


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("smtp.example.vn", False),
        ("10.0.0.5", False),
    ],
)
def test_plain_smtp_only_on_this_machine(host, loopback):
    s = settings.SmtpSettings("smtp", host, 25, None)
    assert s.loopback is loopback


def test_settings_never_show_the_password():
    env = {
        "SOAT_SMTP_URL": "smtp://soat%40sgddt.example.vn@mail.example.vn",
        "SOAT_SMTP_PASSWORD": "bi-mat-lam",
    }
    s = settings.smtp_settings(env)
    assert (s.scheme, s.host, s.port, s.username) == (
        "smtp",
        "mail.example.vn",
        587,
        "soat@sgddt.example.vn",
    )
    assert s.sender == "soat@sgddt.example.vn"
    assert "bi-mat-lam" not in repr(s) + s.describe()
    assert settings.smtp_settings({**env, "SOAT_SMTP_URL": "smtps://u%40x.vn@m.vn"}).port == 465
    with pytest.raises(SoatError, match="thiếu SOAT_SMTP_FROM"):
        settings.smtp_settings({"SOAT_SMTP_URL": "smtp://relay.local:25"})
    assert (
        settings.interval_days({}) == 7
        and settings.interval_days({"SOAT_NOTIFY_INTERVAL_DAYS": "3"}) == 3
    )
    with pytest.raises(SoatError):
        settings.interval_days({"SOAT_NOTIFY_INTERVAL_DAYS": "tuần"})
    assert settings.base_url({"SOAT_BASE_URL": "https://soat.vn/"}) == "https://soat.vn"


def test_password_from_a_file(tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("mat-khau-trong-tep\n", encoding="utf-8")
    env = {"SOAT_SMTP_URL": "smtp://u%40x.vn@m.vn", "SOAT_SMTP_PASSWORD_FILE": str(secret)}
    assert settings.smtp_settings(env).password == "mat-khau-trong-tep"
    with pytest.raises(SoatError, match="không đọc được tệp mật khẩu thư"):
        settings.smtp_settings({**env, "SOAT_SMTP_PASSWORD_FILE": str(tmp_path / "khong-co")})
