"""The rules a valid plan and review must meet (DOMAIN §2, §2a), as field-by-field messages."""

from __future__ import annotations

from collections.abc import Sequence

from app.i18n import Message
from app.plans.models import Gap, ImprovementPlan, ReviewIndicator, ReviewProblem, Step

EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
EVIDENCE_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# First bytes of the binary types, so a renamed executable is not taken for a PDF.
EVIDENCE_SIGNATURES = {
    ".pdf": (b"%PDF",),
    ".png": (b"\x89PNG",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".xlsx": (b"PK\x03\x04",),
    ".docx": (b"PK\x03\x04",),
}


def gap_problems(gaps: Sequence[Gap]) -> dict[str, Message]:
    """At least one gap, and every gap decided (an exclusion with its reason)."""
    errors: dict[str, Message] = {}
    if not gaps:
        errors["gaps"] = Message("Record at least one performance gap.")
        return errors
    for i, gap in enumerate(gaps):
        if gap.included is None:
            errors[f"gaps[{i}].included"] = Message("Decide whether this gap enters the plan.")
        elif not gap.included and not gap.exclusion_reason.strip():
            errors[f"gaps[{i}].exclusion_reason"] = Message("Say why this gap is left out.")
    if not errors and not any(g.included for g in gaps):
        errors["gaps"] = Message(
            "At least one gap must enter the plan: one the employee's own effort can close."
        )
    return errors


def plan_problems(plan: ImprovementPlan, gaps: Sequence[Gap], steps: Sequence[Step],
                  chosen_methods: int) -> dict[str, Message]:
    """Every rule a plan must meet before it is proposed for signature."""
    errors = gap_problems(gaps)
    if chosen_methods == 0:
        errors["methods"] = Message("Choose at least one method both sides accept.")
    if not plan.goal.strip():
        errors["goal"] = Message("State the improvement goal.")
    quantified = plan.goal_target is not None and bool(plan.goal_metric.strip())
    if not quantified and not plan.goal_unquantified_reason.strip():
        errors["goal_target"] = Message(
            "Quantify the goal (metric and target), or explain why it cannot be quantified."
        )
    if plan.period_start is None:
        errors["period_start"] = Message("Give the date the plan starts.")
    if plan.period_end is None:
        errors["period_end"] = Message("Give the date the plan ends.")
    elif plan.period_start and plan.period_end <= plan.period_start:
        errors["period_end"] = Message("The plan must end after it starts.")
    if not steps:
        errors["steps"] = Message("Add at least one step.")
    for i, step in enumerate(steps):
        if step.due_on is None:
            errors[f"steps[{i}].due_on"] = Message("Every step needs a date.")
        elif plan.period_start and plan.period_end and not (
            plan.period_start <= step.due_on <= plan.period_end
        ):
            errors[f"steps[{i}].due_on"] = Message("The date must lie inside the plan period.")
        if not step.expected_result.strip():
            errors[f"steps[{i}].expected_result"] = Message("Say what result the step must give.")
    return errors


def completion(row: ReviewIndicator) -> float | None:
    """Completion of plan in percent (may exceed 100)."""
    if row.actual is None or not row.plan_value:
        return None
    return round(row.actual / row.plan_value * 100, 1)


def behind_time_target(row: ReviewIndicator) -> bool | None:
    """Whether the actual is behind the time-proportional target (序时任务): the at-risk sign."""
    if row.actual is None or row.time_proportional_target is None:
        return None
    return row.actual < row.time_proportional_target


def review_problems(indicators: Sequence[ReviewIndicator], problems: Sequence[ReviewProblem],
                    cut_off_set: bool) -> dict[str, Message]:
    """A review has a cut-off date, indicators, and a problem for each indicator under plan."""
    errors: dict[str, Message] = {}
    if not cut_off_set:
        errors["cut_off_on"] = Message("Give the data cut-off date.")
    if not indicators:
        errors["indicators"] = Message("Add at least one indicator row.")
    explained = {p.indicator_id for p in problems if p.indicator_id}
    for i, row in enumerate(indicators):
        done = completion(row)
        if done is not None and done < 100 and row.id not in explained:
            errors[f"indicators[{i}]"] = Message(
                "Below plan: describe the problem and its cause for '{name}'.",
                {"name": row.indicator},
            )
    return errors


def check_evidence(filename: str, data: bytes) -> tuple[str, Message | None]:
    """The content type of an allowed evidence file, or why it is refused."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in EVIDENCE_TYPES:
        return "", Message("Files of this type are not accepted (PDF, images, Excel, Word, text).")
    if len(data) > EVIDENCE_MAX_BYTES:
        return "", Message("The file is larger than {mb} MB.", {"mb": EVIDENCE_MAX_BYTES // 2**20})
    if not data:
        return "", Message("The file is empty.")
    signatures = EVIDENCE_SIGNATURES.get(suffix)
    if signatures and not data.startswith(signatures):
        return "", Message("The file's content does not match its name.")
    return EVIDENCE_TYPES[suffix], None
