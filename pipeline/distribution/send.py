"""Delivery over SMTP (starttls, ssl or plain): one connection, each message on its own.

A refused recipient or a dropped connection fails that message only: the next one
reconnects. When the server cannot be reached at all the rest fail at once with the
same answer rather than waiting for each. The password is read from the environment
when logging in and never kept, printed or written.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage

from ..errors import MailError
from .settings import PASSWORD_VARIABLE, MailSettings


def _answer(exc: BaseException) -> str:
    """The server's answer (code and text) or the network error, in one line."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "；".join(f"{addr}：{code} {_text(text)}" for addr, (code, text) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if "timed out" in str(exc):
            return "连接超时：邮件服务器没有响应，请检查 [mail] host、port 与网络"
        return "邮件服务器断开了连接"
    if isinstance(exc, ssl.SSLError):
        return f"加密连接失败（{exc.reason or exc}）：请检查 [mail] security、port 与 ca_file"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "连接超时"
    if isinstance(exc, ConnectionRefusedError):
        return "服务器拒绝连接：请检查 [mail] host 与 port，或服务器是否在运行"
    if isinstance(exc, socket.gaierror):
        return "找不到邮件服务器：请检查 [mail] host"
    if isinstance(exc, OSError):
        return f"网络错误（{exc.strerror or exc}）"
    return str(exc)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in; a user name or password beyond ASCII goes as UTF-8 in AUTH PLAIN (RFC 4616), which smtplib
    cannot do (it encodes the credentials as ASCII)."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    import base64
    smtp.ehlo_or_helo_if_needed()
    if "plain" not in smtp.esmtp_features.get("auth", "").lower().split():
        raise MailError("密码或用户名含有中文等非英文字符，但邮件服务器不支持 AUTH PLAIN 登录方式，无法使用。")
    token = base64.b64encode(f"\0{user}\0{password}".encode("utf-8")).decode("ascii")
    code, answer = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, answer)


class Postman:
    """An SMTP session that reconnects after a dropped connection."""

    def __init__(self, settings: MailSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: str | None = None  # the answer that made the server unreachable for this run

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.ca_file:
            try:
                context.load_verify_locations(self.settings.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise MailError(f"无法读取 [mail] ca_file 指定的证书文件 {self.settings.ca_file}：{exc}") from None
        return context

    def connect(self) -> None:
        s = self.settings
        try:
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    smtp.ehlo()
                    if not smtp.has_extn("starttls"):
                        smtp.close()
                        raise MailError(f"邮件服务器 {s.host}:{s.port} 不支持 STARTTLS。请把 [mail] security 改为 ssl"
                                        "（常用端口 465），内网中继才可用 none。")
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
            if s.username:
                password = s.password()
                if not password:
                    smtp.close()
                    raise MailError(f"环境变量 {PASSWORD_VARIABLE} 中没有密码。")
                _login(smtp, s.username, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"邮件服务器拒绝登录（{exc.smtp_code} {_text(exc.smtp_error)}）：请检查 [mail] username 和"
                            f"环境变量 {PASSWORD_VARIABLE}。") from None
        except smtplib.SMTPNotSupportedError:
            raise MailError("邮件服务器不支持登录（AUTH）：若服务器不需要登录，请把 [mail] username 留空。") from None
        except MailError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self.unreachable = _answer(exc)
            raise MailError(f"无法连接邮件服务器 {s.host}:{s.port}：{self.unreachable}") from None
        self.smtp = smtp

    def send(self, msg: EmailMessage) -> str:
        """Send one message; returns the server's answer, raises MailError with the answer on failure."""
        if self.unreachable:
            raise MailError(self.unreachable)
        if self.smtp is None:
            try:
                self.connect()
            except MailError as exc:
                self.unreachable = str(exc)
                raise
        try:
            refused = self.smtp.send_message(msg)
        except UnicodeEncodeError:
            self._reset()
            raise MailError("收件人地址含有中文等非英文字符，邮件服务器无法接收：请改用英文邮箱地址") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise MailError(_answer(exc)) from None
        except smtplib.SMTPException as exc:
            self._reset()
            raise MailError(_answer(exc)) from None
        if refused:
            return "；".join(f"{addr}：{code} {_text(text)}" for addr, (code, text) in refused.items())
        return "250 已接收"

    def _reset(self) -> None:
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                try:
                    self.smtp.close()
                except OSError:
                    pass
            self.smtp = None

    def __enter__(self) -> "Postman":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
