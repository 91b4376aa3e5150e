"""The plan page's forms: fields with labels in the reader's language, refilled after errors."""

from __future__ import annotations

from typing import Any

from app.i18n import N_, gettext_for, pick_label
from app.plans import content
from app.web.forms import FieldView, FormState

SOURCES = {
    "requirement_comparison": N_("Comparison with the job requirement"),
    "customer_evaluation": N_("Customer evaluation"),
    "self_inspection": N_("Self-inspection"),
    "open_inspection": N_("Open inspection"),
    "unannounced_inspection": N_("Unannounced inspection"),
    "skills_test": N_("Skills test"),
    "periodic_assessment": N_("Periodic assessment"),
}
SIDES = {"employee": N_("Employee"), "supervisor": N_("Supervisor"),
         "environment": N_("Environment")}
NATURES = {"objective": N_("Objective"), "subjective": N_("Subjective")}
ORIGINS = {"discussion": N_("Discussion"), "brainstorming": N_("Brainstorming"),
           "process_remapping": N_("Re-mapping the process"), "other": N_("Other")}
CADENCES = {"weekly": N_("Weekly"), "ten_days": N_("Every ten days (旬)"),
            "monthly": N_("Monthly")}
CHECK_RESULTS = {"on_track": N_("On track"), "at_risk": N_("At risk"), "behind": N_("Behind")}
BALANCE_KINDS = {"point": N_("Point in time"), "daily_avg": N_("Daily average"),
                 "cumulative": N_("Cumulative")}
YES_NO = {"true": N_("Enters the plan"), "false": N_("Left out")}


class FormBuilder:
    """Builds FieldViews for one form, in one language, from one form state."""

    def __init__(self, locale: str, state: FormState | None = None,
                 initial: dict[str, Any] | None = None) -> None:
        self.gettext = gettext_for(locale)
        self.locale = locale
        self.state = state or FormState()
        self.initial = initial or {}

    def _value(self, name: str) -> str:
        if name in self.state.values:
            return self.state.values[name]
        value = self.initial.get(name)
        return "" if value is None else str(value).lower() if isinstance(value, bool) \
            else str(value)

    def field(self, name: str, label: str, kind: str = "text", *, required: bool = False,
              choices: dict[str, str] | None = None, max_length: int | None = None,
              help: str = "") -> FieldView:
        """One input."""
        return FieldView(
            name=name, label=self.gettext(label), type=kind, required=required,
            value=self._value(name), error=self.state.errors.get(name, ""),
            help=self.gettext(help) if help else "",
            choices=[(k, self.gettext(v)) for k, v in (choices or {}).items()],
            max_length=max_length,
        )


def gap_fields(b: FormBuilder) -> list[FieldView]:
    """Recording a gap: requirement against actual result."""
    return [
        b.field("requirement", N_("Job requirement"), "textarea", required=True,
                max_length=2000, help=N_("e.g. the report is due on the 6th of each month")),
        b.field("actual", N_("Actual result"), "textarea", required=True, max_length=2000,
                help=N_("e.g. sent on the 8th at the earliest")),
        b.field("metric", N_("Metric"), max_length=120),
        b.field("unit", N_("Unit"), max_length=20),
        b.field("baseline", N_("Baseline"), "number"),
        b.field("target", N_("Target"), "number"),
        b.field("source", N_("Where the gap was found"), "choice", required=True,
                choices=SOURCES),
    ]


def decision_fields(b: FormBuilder) -> list[FieldView]:
    """Whether a gap enters the plan."""
    return [
        b.field("included", N_("Decision"), "choice", required=True, choices=YES_NO,
                help=N_("A gap enters the plan only if the employee's own effort can close it.")),
        b.field("exclusion_reason", N_("Why it is left out"), "textarea", max_length=2000),
    ]


def cause_fields(b: FormBuilder) -> list[FieldView]:
    """A cause, from the catalogue or in own words."""
    catalogue: dict[str, str] = {}
    for side, entries in content.cause_catalogue().items():
        for key, labels in entries.items():
            catalogue[key] = f"{b.gettext(SIDES[side])} · {pick_label(labels, b.locale)}"
    field = b.field("catalogue_key", N_("Cause from the list"), "choice")
    field.choices = list(catalogue.items())
    return [
        b.field("side", N_("Side"), "choice", required=True, choices=SIDES),
        b.field("nature", N_("Objective or subjective"), "choice", required=True,
                choices=NATURES),
        field,
        b.field("text", N_("Or in your own words"), "textarea", max_length=2000),
    ]


def method_fields(b: FormBuilder) -> list[FieldView]:
    """A candidate method."""
    return [
        b.field("description", N_("Method"), "textarea", required=True, max_length=2000),
        b.field("origin", N_("Found by"), "choice", required=True, choices=ORIGINS),
        b.field("chosen", N_("Both sides accept this method"), "bool"),
    ]


def details_fields(b: FormBuilder) -> list[FieldView]:
    """Goal, resources, period, cadence."""
    return [
        b.field("goal", N_("Improvement goal"), "textarea", required=True, max_length=4000),
        b.field("goal_metric", N_("Goal metric"), max_length=120),
        b.field("goal_target", N_("Goal target value"), "number"),
        b.field("goal_unit", N_("Goal unit"), max_length=20),
        b.field("goal_unquantified_reason", N_("If it cannot be quantified: why not"),
                "textarea", max_length=2000),
        b.field("resources", N_("Resources the supervisor commits"), "textarea",
                max_length=4000),
        b.field("period_start", N_("Plan starts"), "date", required=True),
        b.field("period_end", N_("Plan ends"), "date", required=True),
        b.field("cadence", N_("Check cadence"), "choice", required=True, choices=CADENCES),
    ]


def step_fields(b: FormBuilder, owners: dict[str, str]) -> list[FieldView]:
    """A dated step."""
    owner = b.field("owner_id", N_("Owner"), "choice")
    owner.choices = list(owners.items())
    return [
        b.field("description", N_("Step"), "textarea", required=True, max_length=2000),
        b.field("due_on", N_("Date"), "date", required=True),
        b.field("expected_result", N_("Required result"), "textarea", required=True,
                max_length=2000),
        owner,
    ]


def progress_fields(b: FormBuilder) -> list[FieldView]:
    """What the employee records at a checkpoint."""
    return [
        b.field("progress", N_("Progress"), "textarea", required=True, max_length=4000),
        b.field("evidence_text", N_("Evidence (text)"), "textarea", max_length=4000),
    ]


def check_fields(b: FormBuilder) -> list[FieldView]:
    """The supervisor's check."""
    return [
        b.field("result", N_("Check result"), "choice", required=True, choices=CHECK_RESULTS),
        b.field("comment", N_("Comment"), "textarea", max_length=4000,
                help=N_("Required when at risk or behind: what must change.")),
    ]


def review_header_fields(b: FormBuilder) -> list[FieldView]:
    """The review header and narrative parts."""
    return [
        b.field("period_label", N_("Period"), max_length=60, help=N_("e.g. 2026 first half")),
        b.field("cut_off_on", N_("Data cut-off date"), "date", required=True),
        b.field("post", N_("Post"), max_length=120),
        b.field("honours", N_("Honours"), "textarea", max_length=4000),
        b.field("next_measures", N_("Measures for the next period"), "textarea",
                max_length=4000),
    ]
