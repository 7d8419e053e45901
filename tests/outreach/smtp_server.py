"""A real SMTP server for the tests (aiosmtpd on a free port), keeping what it receives;
optionally with AUTH, and with STARTTLS under a self-signed certificate made by openssl."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

USER = "soat@sgddt.example.vn"
PASSWORD = "Mk-thu-7f3a9c21"  # searched for in logs, audit rows and messages


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.data, policy=email.policy.default)

    @property
    def body(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def attachments(self) -> list[tuple[str, bytes]]:
        return [(p.get_filename(), p.get_content()) for p in self.message.iter_attachments()]


@dataclass
class Inbox:
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received if address.lower() in (a.lower() for a in m.rcpt_tos)]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def authenticator(inbox: Inbox):
    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        inbox.logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)

    return check


def start(host: str = "127.0.0.1", tls_context=None, auth: bool = True) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    kw: dict = {}
    if auth:
        kw.update(authenticator=authenticator(inbox), auth_required=True)
        kw["auth_require_tls"] = tls_context is not None
    if tls_context is not None:
        kw.update(tls_context=tls_context, require_starttls=True)
    controller = Controller(inbox, hostname=host, port=free_port(host), **kw)
    controller.start()
    return controller, inbox


def self_signed(folder: Path, ip: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for `ip` (subjectAltName) and its key, made by openssl."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make the test certificate"
    cert, key = folder / "smtp.crt", folder / "smtp.key"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={ip}",
            "-addext",
            f"subjectAltName=IP:{ip}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def lan_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.123", 9))  # no packet is sent for a UDP connect
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip
