"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for mail tests."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any

from aiosmtpd.controller import Controller

from app import clock
from app.config import Settings


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    """One message as the server got it."""

    to: str
    kind: str
    day: date  # the Date header, in the organisation's timezone
    message: EmailMessage

    @property
    def text(self) -> str:
        """The plain-text part."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    @property
    def html(self) -> str:
        """The HTML part."""
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part else ""


class SmtpSink:
    """Start, stop (the server 'goes down') and start again on the same port."""

    def __init__(self, delay: float = 0.0, overlap: int = 0) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.refuse: set[str] = set()  # addresses answered with 550 (a permanent failure)
        self.delay = delay  # seconds the server takes over each message (a slow server)
        self.overlap = overlap  # hold the first messages until this many clients are sending
        self._clients: set[int] = set()
        self._all_there: asyncio.Event | None = None
        self._lock = threading.Condition()
        self._controller: Controller | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        """aiosmtpd hook: accept a recipient unless told to refuse it."""
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """aiosmtpd hook: keep the message (slowly, and once enough clients are sending)."""
        if self.overlap:
            if self._all_there is None:
                self._all_there = asyncio.Event()
            self._clients.add(id(session))
            if len(self._clients) >= self.overlap:
                self._all_there.set()
            await asyncio.wait_for(self._all_there.wait(), timeout=60)
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        sent_at = parsedate_to_datetime(message["Date"]).astimezone(clock.zone())
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append(Received(rcpt, message["X-Stepwise-Kind"] or "",
                                              sent_at.date(), message))
            self._lock.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 60) -> bool:
        """Block until at least `count` messages have arrived (False after the timeout)."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.received) >= count, timeout=timeout)

    def start(self) -> None:
        """Listen on the sink's port."""
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until start() again."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self, **overrides: Any) -> Settings:
        """Settings that deliver to this sink."""
        values: dict[str, Any] = {
            "environment": "test", "secret_key": "test-secret", "scheduler_enabled": False,
            "smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_timeout_seconds": 5,
            "base_url": "http://stepwise.test",
        }
        values.update(overrides)
        return Settings(**values)

    def summary(self) -> list[tuple[str, str, date]]:
        """(recipient, kind, day) of everything received, in order."""
        with self._lock:
            return [(r.to, r.kind, r.day) for r in self.received]

    def to(self, address: str) -> list[Received]:
        """What one address received."""
        with self._lock:
            return [r for r in self.received if parseaddr(r.to)[1] == address]
