"""The mailer's header caches change how fast a message is written, never its bytes."""

from __future__ import annotations

import copy
import io
import random
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator

import pytest

from app.config import Settings
from app.notifications import mailer

CASES = [
    ("张三", "zhang@example.com", "提醒：绩效改进计划（张三）将于2027年2月16日到期" * 3,
     "你好，\n\n" + "x" * 200 + "\n", "<p>你好</p>"),
    ("John Smith", "john@example.com", "Reminder: Improvement plan (John Smith) is due",
     "plain ascii\nbody\n", "<p>ascii</p>\n"),
    ("", "mailbox@stepwise.invalid", "Due today", "a" * 100 + "\n", "<b>" + "é" * 300 + "</b>"),
    ("O'Brien, Pat", "pat@example.com", "Escalation: «case» is overdue by 3 working days",
     "line\r\nwith crlf\n", ""),
]


def smtp_bytes(message) -> bytes:
    """What smtplib.send_message writes to the wire (a copy, CRLF line ends)."""
    random.seed(7)  # the multipart boundary is drawn when the message is written out
    out = io.BytesIO()
    BytesGenerator(out).flatten(copy.copy(message), linesep="\r\n")
    return out.getvalue()


def stored_bytes(message) -> bytes:
    random.seed(7)
    return message.as_bytes()


@pytest.mark.parametrize("repeat", [1, 2])  # the second round comes from the caches
def test_a_message_has_the_same_bytes_as_with_the_standard_policy(monkeypatch, repeat) -> None:
    settings = Settings(environment="test", secret_key="x",
                        smtp_from="Stepwise 通知 <noreply@stepwise.example>")
    at = datetime(2027, 2, 16, 1, 2, 3, tzinfo=UTC)
    for _ in range(repeat):
        for name, address, subject, text, html in CASES:
            fields = {"settings": settings, "key": f"k:{address}", "kind": "before_due",
                      "to_name": name, "to_address": address, "subject": subject,
                      "text": text, "html": html, "at": at}
            ours = mailer.build_message(**fields)
            with monkeypatch.context() as patch:
                patch.setattr(mailer, "MAIL_POLICY", policy.default)
                standard = mailer.build_message(**fields)
            assert ours.policy is not policy.default
            assert (smtp_bytes(ours) == smtp_bytes(standard)
                    == smtp_bytes(mailer.build_message(**fields)))
            assert stored_bytes(ours) == stored_bytes(standard)
