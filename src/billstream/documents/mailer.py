"""Sending e-mail: a `Mailer` protocol, the SMTP mailer, and `MemoryMailer` for tests and demos.

The SMTP mailer opens one connection per message (stdlib `smtplib`), with STARTTLS and login
when configured. It is built at the edge from ``BILLSTREAM_SMTP_*`` settings by
`smtp_mailer`; with no host set there is no mailer, and sending is refused with a clear error.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand `message` over for delivery; raise `OSError`/`smtplib.SMTPException` if not."""
        ...


class MailSettings(Protocol):
    """The settings an SMTP mailer is built from (`billstream.settings.Settings` has them)."""

    @property
    def smtp_host(self) -> str | None: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def smtp_username(self) -> str | None: ...
    @property
    def smtp_password_value(self) -> str | None: ...
    @property
    def smtp_starttls(self) -> bool: ...
    @property
    def smtp_from(self) -> str: ...
    @property
    def smtp_timeout_s(self) -> int: ...


@dataclass(frozen=True, slots=True)
class SmtpMailer:
    host: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout_s: int = 30

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


@dataclass
class MemoryMailer:
    """Keeps every message it is given, in order; `fail_with` makes it refuse them."""

    sent: list[EmailMessage] = field(default_factory=list)
    fail_with: Exception | None = None

    def send(self, message: EmailMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)


def smtp_mailer(settings: MailSettings) -> SmtpMailer | None:
    """The SMTP mailer the settings describe, or None when no host is set."""
    if not settings.smtp_host:
        return None
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password_value,
        starttls=settings.smtp_starttls,
        timeout_s=settings.smtp_timeout_s,
    )
