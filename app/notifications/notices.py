"""Notices that ask nothing of their readers (a filing notice, 报备): one mail to each person
they are for, when they are made; they never wait on anyone, so no reminder follows."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from sqlmodel import Session

from app import clock
from app.config import get_settings
from app.engine.models import WorkflowInstance
from app.i18n import N_, Gettext, pick_label
from app.notifications.models import MessageKind
from app.notifications.outbox import enqueue
from app.org.models import Person
from app.reminders.recipients import group_holders

FILING_SUBJECT = N_("Filing notice: {name} is appointed {title} from {date}")
FILING_SENTENCE = N_("For your information, nothing to approve: {name} is appointed {title}, "
                     "effective {date} ({case}).")
FILING_ACTION = N_("Acknowledge the filing notice")
FILING_PAGE = "/promotions/queue"


class Addressed(Protocol):
    """Whom a notice is for: a person, or the holders of a seat at a unit."""

    id: int | None
    assignee_id: int | None
    group_kind: str | None
    group_name: str | None
    org_unit_id: int | None


def mail_filing_notice(session: Session, *, notice: Addressed, instance: WorkflowInstance,
                       appointee: Person, title: dict[str, str], effective_from: date) -> int:
    """Queue the filing notice's mail to everyone it is for; how many were queued."""
    if notice.assignee_id is not None:
        people = [notice.assignee_id]
    elif notice.group_kind and notice.group_name and notice.org_unit_id is not None:
        people = group_holders(session, notice.group_kind, notice.group_name,
                               notice.org_unit_id)
    else:
        people = []
    queued = 0
    for person_id in people:
        reader = session.get(Person, person_id)
        if reader is None or not reader.active:
            continue
        queued += enqueue(
            session, key=f"filing:n{notice.id}:p{reader.id}", kind=MessageKind.filing_notice,
            recipient=reader, now=clock.now(), digest_default=get_settings().digest_default,
            instance_id=instance.id,
            params={"notice_id": notice.id, "appointee_id": appointee.id, "title": title,
                    "effective_from": effective_from.isoformat()},
        ) is not None
    return queued


def filing_item(session: Session, params: dict[str, Any], case: str, locale: str,
                gettext: Gettext, show_date: Any, name_of: Any, base_url: str
                ) -> dict[str, Any]:
    """What a filing notice's mail says: who is appointed to what from when, and where it is
    acknowledged."""
    name = name_of(session.get(Person, params.get("appointee_id")), locale)
    title = pick_label(params.get("title") or {}, locale)
    effective = show_date(date.fromisoformat(params["effective_from"]), locale)
    return {
        "subject": gettext(FILING_SUBJECT).format(name=name, title=title, date=effective),
        "sentence": gettext(FILING_SENTENCE).format(name=name, title=title, date=effective,
                                                    case=case),
        "actions": [{"label": gettext(FILING_ACTION), "url": f"{base_url}{FILING_PAGE}",
                     "needs_login": True}],
    }
