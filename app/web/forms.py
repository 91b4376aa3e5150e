"""Form fields as templates show them, and the state of a form re-rendered after an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.engine.definitions import FieldSpec
from app.errors import DomainError, ValidationFailed
from app.i18n import pick_label


@dataclass
class FieldView:
    """One input: its label in the reader's language, the typed value and its error."""

    name: str
    label: str
    type: str = "text"  # text, textarea, choice, date, number, bool, password, hidden
    required: bool = False
    value: str = ""
    error: str = ""
    help: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None
    min: float | None = None
    max: float | None = None


@dataclass
class FormState:
    """What the reader typed and what was wrong, so the same form can be shown again."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @classmethod
    def from_error(
        cls, error: DomainError, values: dict[str, str], gettext: Callable[[str], str]
    ) -> FormState:
        """The form's state after a domain error: field errors next to fields, else on top."""
        errors = error.field_texts(gettext) if isinstance(error, ValidationFailed) else {}
        return cls(values=dict(values), errors=errors, message=error.text(gettext))


def spec_field(
    name: str, spec: FieldSpec, locale: str, state: FormState | None = None
) -> FieldView:
    """A workflow form field (workflows/*.yaml `fields:`) ready for the `field` macro."""
    state = state or FormState()
    return FieldView(
        name=name,
        label=pick_label(spec.label, locale),
        type=spec.type,
        required=spec.required,
        value=state.values.get(name, ""),
        error=state.errors.get(name, ""),
        help=pick_label(spec.help, locale) if spec.help else "",
        choices=[(key, pick_label(labels, locale)) for key, labels in spec.choices.items()],
        max_length=spec.max_length if spec.type in ("text", "textarea") else None,
        min=spec.min,
        max=spec.max,
    )
