"""Guards of the promotion workflows: window open, screening passed, skip-level justified.

The application service checks all of this before it starts a case and stores the outcome in
the instance context; these guards hold the workflow to it whoever fires the action.
"""

from __future__ import annotations

from datetime import date

from app import clock
from app.engine.guards import GuardContext, guard
from app.i18n import Message

# The engine imports this module before it reads any workflow file; the promotion reactions
# (appointment, grade history, filing notice) must be registered by then as well.
from app.promotions import reactions  # noqa: F401


@guard("promotion_window_open")
def promotion_window_open(ctx: GuardContext) -> Message | None:
    """Applications are taken only inside the round's window (once a year per scheme)."""
    window = ctx.instance.context.get("window") or {}
    try:
        opens, closes = date.fromisoformat(window["opens"]), date.fromisoformat(window["closes"])
    except (KeyError, TypeError, ValueError):
        return Message("This application belongs to no round.")
    today = clock.today()
    if not opens <= today <= closes:
        return Message("Applications are taken from {opens} to {closes}.",
                       {"opens": opens.isoformat(), "closes": closes.isoformat()})
    return None


@guard("qualification_screened")
def qualification_screened(ctx: GuardContext) -> Message | None:
    """Hard qualifications hold, and every 'generally' one not met has a written justification."""
    if not ctx.instance.context.get("screening_passed"):
        return Message("The qualification screening has not passed.")
    return None


@guard("skip_level_justified")
def skip_level_justified(ctx: GuardContext) -> Message | None:
    """Skip-level only as the scheme allows it (e.g. an outstanding contribution, justified)."""
    context = ctx.instance.context
    if not context.get("skip_level"):
        return None
    needs = context.get("skip_level_needs") or {"outstanding_contribution": True,
                                                "justification": True}
    if (needs.get("outstanding_contribution") and not context.get("outstanding_contribution")) \
            or (needs.get("justification") and not context.get("justification_given")):
        return Message("Skip-level appointment needs the outstanding-contribution flag and its "
                       "written justification.")
    return None
