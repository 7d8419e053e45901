"""Where digests go: an SMTP server (STARTTLS or TLS, see soat.notify.settings) or, for a
dry run, `.eml` files in a folder. Errors are one Vietnamese line naming the server (never
the password); the library's English is kept only as the detail after it."""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import Message
from pathlib import Path

from soat.errors import SoatError
from soat.notify.settings import SmtpSettings


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """Certificates verified (chain and host name); SOAT_SMTP_CAFILE for a private CA."""
    return ssl.create_default_context(cafile=settings.cafile)


def error_text(exc: BaseException, settings: SmtpSettings) -> str:
    """A failed SMTP step as an officer can act on it."""
    where = f"máy chủ thư {settings.host}:{settings.port}"
    if isinstance(exc, SoatError):
        return str(exc)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"{where} từ chối đăng nhập của '{settings.username}': sai tên hoặc mật khẩu thư"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{where} không nhận đăng nhập (AUTH); bỏ tên đăng nhập khỏi SOAT_SMTP_URL nếu máy chủ không cần"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(exc.recipients)
        return f"{where} từ chối địa chỉ nhận {refused}"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"{where} từ chối địa chỉ gửi {exc.sender} (kiểm tra SOAT_SMTP_FROM)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"chứng chỉ TLS của {where} không được tin cậy ({exc.verify_message}); "
            "nếu máy chủ dùng CA riêng, đặt SOAT_SMTP_CAFILE"
        )
    if isinstance(exc, ssl.SSLError):
        return f"không thiết lập được kết nối mã hoá TLS với {where}"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} từ chối kết nối (sai cổng, hoặc máy chủ chưa chạy)"
    if isinstance(exc, socket.gaierror):
        return f"không tìm thấy {where} (kiểm tra tên máy chủ trong SOAT_SMTP_URL)"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"hết thời gian chờ {where}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where} trả lời lỗi {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPException | OSError):
        return f"lỗi khi gửi thư qua {where}"
    return f"lỗi không mong đợi khi gửi thư qua {where}"


class SmtpTransport:
    """`with SmtpTransport(settings) as t: t.send(message)`: one connection for a run."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None
        self.encrypted = False

    def __enter__(self) -> SmtpTransport:
        s = self.settings
        try:
            if s.scheme == "smtps":
                self.smtp = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=tls_context(s)
                )
                self.encrypted = True
            else:
                self.smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                self.smtp.ehlo()
                if self.smtp.has_extn("starttls"):
                    self.smtp.starttls(context=tls_context(s))
                    self.smtp.ehlo()
                    self.encrypted = True
                elif not s.loopback:
                    raise SoatError(
                        f"máy chủ thư {s.host}:{s.port} không hỗ trợ STARTTLS: không gửi mật "
                        "khẩu và nội dung thư qua mạng không mã hoá (dùng smtps:// hoặc một "
                        "máy chủ có STARTTLS)"
                    )
            if s.username:
                self.smtp.login(s.username, s.password or "")
        except Exception as exc:
            self._close()
            if isinstance(exc, SoatError):
                raise
            raise SoatError(error_text(exc, s)) from None
        return self

    def send(self, message: Message) -> None:
        assert self.smtp is not None
        self.smtp.send_message(message)

    def _close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()
        self.smtp = None

    def __exit__(self, *exc) -> None:
        self._close()


class FileTransport:
    """A dry run: each message written as `NN_address.eml` in a folder."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.written: list[Path] = []

    def __enter__(self) -> FileTransport:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def send(self, message: Message) -> None:
        import re

        to = re.sub(r"[^A-Za-z0-9@._-]+", "_", str(message["To"]))[:80]
        path = self.folder / f"{len(self.written) + 1:03d}_{to}.eml"
        path.write_bytes(message.as_bytes())
        self.written.append(path)

    def __exit__(self, *exc) -> None:
        pass
