"""One mail as the standard library's ``email`` package builds it: UTF-8 subject and bodies (plain text
with an HTML alternative), attachments whose Chinese names are encoded by RFC 2231."""
from __future__ import annotations

import datetime as dt
import mimetypes
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from .settings import MailSettings, Recipient

_XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
WIRE = policy.SMTP  # CRLF line ends, as on the wire and in an .eml file


def _mime_type(path: Path) -> tuple[str, str]:
    if path.suffix.lower() == ".xlsx":
        return _XLSX
    guessed, _ = mimetypes.guess_type(path.name)
    return tuple(guessed.split("/", 1)) if guessed else ("application", "octet-stream")


def build_message(settings: MailSettings, recipient: Recipient, subject: str, text: str, html: str | None,
                  attachments: list[tuple[str, bytes]], *, period: str, kind: str,
                  now: dt.datetime | None = None) -> EmailMessage:
    """The message, ready for ``smtplib.send_message`` or an .eml file."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr((settings.sender_name, settings.sender or "crm@localhost"))
    msg["To"] = formataddr((recipient.name, recipient.address))
    msg["Date"] = format_datetime((now or dt.datetime.now()).astimezone())
    msg["Message-ID"] = make_msgid("crm", domain=settings.domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-CRM-Period"] = period
    msg["X-CRM-Kind"] = kind
    msg.set_content(text, cte="base64")
    if html:
        msg.add_alternative(html, subtype="html", cte="base64")
    for name, data in attachments:
        maintype, subtype = _mime_type(Path(name))
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def message_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=WIRE)
