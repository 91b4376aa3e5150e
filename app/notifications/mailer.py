"""Sending mail: SMTP in production, the built-in mailbox when no SMTP host is configured."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from datetime import datetime
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr
from functools import lru_cache
from types import TracebackType
from typing import Any

from app.config import Settings


class PermanentFailure(Exception):
    """The server refused the message for good (bad address, rejected sender): do not retry."""


class _SharedHeaders(HeaderRegistry):
    """The standard header registry, parsing each distinct header once: parsed headers are
    immutable, so every message shares its From, Date, Content-Type… (most of the cost of
    building a message was parsing the same few headers again)."""

    def __init__(self) -> None:
        super().__init__()
        self._parsed = lru_cache(maxsize=1024)(super().__call__)
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        # The standard registry makes a new class at every call (asked once per header set).
        cls = self._classes.get(name)
        if cls is None:
            cls = self._classes[name] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: str) -> BaseHeader:
        try:
            return self._parsed(name, value)
        except TypeError:  # an unhashable value: parse it afresh
            return super().__call__(name, value)


class _MailPolicy(EmailPolicy):
    """email.policy.default that also keeps how each shared header folds: a header object is
    immutable, so folding it again under the same line rules gives the same text."""

    def _fold(self, name: str, value: Any, refold_binary: bool = False) -> str:
        if not hasattr(value, "name"):
            return super()._fold(name, value, refold_binary)  # type: ignore[misc]
        key = (id(value), self.linesep, self.max_line_length, self.utf8)
        cached = _FOLDED.get(key)
        if cached is None or cached[0] is not value:
            if len(_FOLDED) >= 4096:
                _FOLDED.clear()
            cached = _FOLDED[key] = (value, value.fold(policy=self))
        return cached[1]


# Header object (kept, so its id stays its own) -> its folded text, per line rules.
_FOLDED: dict[tuple[int, str, int | None, bool], tuple[Any, str]] = {}

# email.policy.default in every respect but the caches, so the bytes are the same.
MAIL_POLICY = _MailPolicy(header_factory=_SharedHeaders())


def build_message(*, settings: Settings, key: str, kind: str, to_name: str, to_address: str,
                  subject: str, text: str, html: str, at: datetime,
                  request_id: str | None = None) -> EmailMessage:
    """A multipart text + HTML email; its Message-ID derives from the outbox key, so a
    re-delivery after a crash can be recognised downstream; X-Request-ID names the request
    that caused it, to find its log lines."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = subject
    message["From"] = settings.smtp_from
    message["To"] = formataddr((to_name, to_address))
    message["Date"] = format_datetime(at)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@stepwise>"
    message["X-Stepwise-Kind"] = kind
    if request_id:
        message["X-Request-ID"] = request_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class Mailer:
    """Where delivered messages go; used as a context manager around one batch."""

    transport = "mailbox"

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        """Hand one message over (the mailbox keeps it as the outbox row itself)."""

    def close(self) -> None:
        """Release the connection, if any."""


class SmtpMailer(Mailer):
    """Delivers over SMTP; one connection per batch, opened on the first message."""

    transport = "smtp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
        if s.smtp_user:
            smtp.login(s.smtp_user, s.smtp_password)
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send one message; PermanentFailure when the server refuses it for good."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
            raise
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            self.close()
            raise

    def close(self) -> None:
        """Say goodbye to the server (errors on the way out do not matter)."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp = None


class NoMail(Mailer):
    """Mail is off (disabled, or no server outside demo mode): nothing leaves; the outbox row
    says so, and keeps no usable link."""

    transport = "off"


def mailer_for(settings: Settings) -> Mailer:
    """SMTP when a host is configured; the built-in mailbox in demo mode; else no mail."""
    transport = settings.mail_transport
    if transport == "smtp":
        return SmtpMailer(settings)
    return Mailer() if transport == "mailbox" else NoMail()
