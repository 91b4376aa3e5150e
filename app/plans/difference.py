"""What changed between two frozen plan versions, as lines a person reads in their language."""

from __future__ import annotations

import difflib
from typing import Any

from app.i18n import N_, gettext_for
from app.plans.forms import CADENCES, NATURES, SIDES
from app.plans.models import PlanVersion


def readable_lines(document: dict[str, Any], locale: str) -> list[str]:
    """A plan version as lines a person can compare."""
    _ = gettext_for(locale)

    def word(labels: dict[str, str], key: Any) -> str:
        return _(labels[key]) if key in labels else str(key or "")

    target = f"{document.get('goal_metric', '')} {document.get('goal_target')} " \
             f"{document.get('goal_unit', '')}".rstrip()
    lines = [_(N_("Goal: {text}")).format(text=document.get("goal", "")),
             _(N_("Metric: {text}")).format(text=target),
             _(N_("Not quantified because: {text}")).format(
                 text=document.get("goal_unquantified_reason", "")),
             _(N_("Resources: {text}")).format(text=document.get("resources", "")),
             _(N_("Period: {start} – {end}")).format(start=document.get("period_start"),
                                                     end=document.get("period_end")),
             _(N_("Cadence: {text}")).format(text=word(CADENCES, document.get("cadence")))]
    for i, gap in enumerate(document.get("gaps", []), start=1):
        decision = (_(N_("included")) if gap["included"] else
                    _(N_("excluded: {reason}")).format(reason=gap["exclusion_reason"]))
        lines.append(_(N_("Gap {n}: {requirement} / {actual} ({decision})")).format(
            n=i, requirement=gap["requirement"], actual=gap["actual"], decision=decision))
        lines += ["  " + _(N_("Cause ({side}, {nature}): {text}")).format(
            side=word(SIDES, c["side"]), nature=word(NATURES, c["nature"]),
            text=c["catalogue_key"] or c["text"]) for c in gap["causes"]]
    lines += [_(N_("Method: {text}")).format(text=m) for m in document.get("methods", [])]
    lines += [_(N_("Step {date}: {description} → {result}")).format(
        date=s["due_on"], description=s["description"], result=s["expected_result"])
        for s in document.get("steps", [])]
    return lines


def diff(older: PlanVersion, newer: PlanVersion, locale: str) -> list[str]:
    """What changed between two versions, as unified-diff lines without headers."""
    lines = difflib.unified_diff(readable_lines(older.content, locale),
                                 readable_lines(newer.content, locale), lineterm="", n=0)
    return [line for line in lines if not line.startswith(("---", "+++", "@@"))]
