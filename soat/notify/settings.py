"""Settings of `soat notify`, from the environment (docs/outreach.md):

    SOAT_SMTP_URL              smtp://user@host:587 (STARTTLS) or smtps://user@host:465 (TLS)
    SOAT_SMTP_PASSWORD         the SMTP password (never in the URL, never logged)
    SOAT_SMTP_PASSWORD_FILE    or a file holding it (systemd LoadCredential=, a secret mount)
    SOAT_SMTP_FROM             the sender, e.g. "Soát – Sở GD&ĐT <soat@sgddt.example.vn>"
                               (default: the SMTP user when it is an address)
    SOAT_SMTP_CAFILE           a CA bundle for a server whose certificate a private CA signed
    SOAT_BASE_URL              the dashboard's address, for the links in the digests
    SOAT_NOTIFY_INTERVAL_DAYS  days before an item already sent is sent again (default 7)

TLS: `smtps://` speaks TLS from the first byte; `smtp://` upgrades with STARTTLS whenever the
server offers it, and a server that does not offer it is refused unless it is this machine
(localhost, 127.0.0.1, ::1: a local relay), so neither the password nor the digests cross a
network in clear. The server's certificate is verified (name and chain).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from soat.errors import SoatError

ENV_URL = "SOAT_SMTP_URL"
ENV_PASSWORD = "SOAT_SMTP_PASSWORD"
ENV_PASSWORD_FILE = "SOAT_SMTP_PASSWORD_FILE"
ENV_FROM = "SOAT_SMTP_FROM"
ENV_CAFILE = "SOAT_SMTP_CAFILE"
ENV_BASE_URL = "SOAT_BASE_URL"
ENV_INTERVAL = "SOAT_NOTIFY_INTERVAL_DAYS"
DEFAULT_INTERVAL_DAYS = 7
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
DRY_RUN_SENDER = "soat@localhost"


@dataclass(frozen=True)
class SmtpSettings:
    scheme: str  # smtp (STARTTLS) | smtps (implicit TLS)
    host: str
    port: int
    username: str | None
    password: str | None = field(default=None, repr=False)  # never printed
    sender: str = DRY_RUN_SENDER
    cafile: str | None = None
    timeout: float = 30.0

    def describe(self) -> str:
        """The server as logs and pages may show it: no password."""
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"

    @property
    def loopback(self) -> bool:
        if self.host.casefold() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def sender(env: Mapping[str, str] | None = None, username: str | None = None) -> str:
    """The From address: SOAT_SMTP_FROM, else the SMTP user when it is an address."""
    value = (_env(env).get(ENV_FROM) or "").strip()
    if value:
        _, address = parseaddr(value)
        if "@" not in address:
            raise SoatError(f"{ENV_FROM} '{value}' không phải địa chỉ thư (dạng ten@donvi.vn)")
        return value
    if username and "@" in username:
        return username
    raise SoatError(f"thiếu {ENV_FROM}: địa chỉ người gửi thư (ví dụ soat@sgddt.example.vn)")


def smtp_settings(env: Mapping[str, str] | None = None) -> SmtpSettings:
    """The SMTP server, or SoatError saying what is missing or wrong."""
    env = _env(env)
    url = (env.get(ENV_URL) or "").strip()
    if not url:
        raise SoatError(
            f"chưa cấu hình máy chủ thư: đặt {ENV_URL}=smtp://ten@may-chu:587 "
            f"và mật khẩu trong {ENV_PASSWORD} (hoặc dùng --dry-run -o THƯ_MỤC)"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SoatError(f"{ENV_URL} không đúng dạng smtp://ten@may-chu:587") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise SoatError(f"{ENV_URL} không đúng dạng smtp://ten@may-chu:587 (hoặc smtps://…:465)")
    if parts.password is not None:
        raise SoatError(
            f"{ENV_URL} không được chứa mật khẩu: đặt mật khẩu trong biến môi trường {ENV_PASSWORD}"
        )
    username = unquote(parts.username) if parts.username else None
    password = env.get(ENV_PASSWORD) or _password_file(env.get(ENV_PASSWORD_FILE))
    if username and not password:
        raise SoatError(f"{ENV_URL} có tên đăng nhập '{username}' nhưng thiếu {ENV_PASSWORD}")
    if password and not username:
        raise SoatError(
            f"đã đặt {ENV_PASSWORD} nhưng {ENV_URL} không có tên đăng nhập (smtp://ten@may-chu:587)"
        )
    cafile = (env.get(ENV_CAFILE) or "").strip() or None
    if cafile and not os.path.isfile(cafile):
        raise SoatError(f"không tìm thấy tệp chứng chỉ {cafile}", column=ENV_CAFILE)
    return SmtpSettings(
        scheme=scheme,
        host=parts.hostname,
        port=port or DEFAULT_PORTS[scheme],
        username=username,
        password=password,
        sender=sender(env, username),
        cafile=cafile,
    )


def _password_file(path: str | None) -> str | None:
    """The password from a file (its first line), for secrets kept out of the environment."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().rstrip("\r\n") or None
    except OSError:
        raise SoatError(
            f"không đọc được tệp mật khẩu thư {path}", column=ENV_PASSWORD_FILE
        ) from None


def interval_days(env: Mapping[str, str] | None = None, given: int | None = None) -> int:
    if given is not None:
        value: object = given
    else:
        value = (_env(env).get(ENV_INTERVAL) or "").strip() or DEFAULT_INTERVAL_DAYS
    try:
        days = int(value)  # type: ignore[arg-type]
    except ValueError:
        raise SoatError(f"{ENV_INTERVAL} '{value}' không phải số ngày") from None
    if days < 0:
        raise SoatError(f"khoảng nhắc lại phải ≥ 0 ngày (đang là {days})")
    return days


def base_url(env: Mapping[str, str] | None = None, given: str | None = None) -> str | None:
    value = (given if given is not None else _env(env).get(ENV_BASE_URL) or "").strip()
    if not value:
        return None
    if urlsplit(value).scheme not in ("http", "https"):
        raise SoatError(f"{ENV_BASE_URL} '{value}' cần bắt đầu bằng http:// hoặc https://")
    return value.rstrip("/")
