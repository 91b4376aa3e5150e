"""Current workflow definitions as the reader sees them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from app.engine.registry import CompiledWorkflow, Registry
from app.i18n import pick_label
from app.web.labels import actor_label


@dataclass
class StateRow:
    """A state of a workflow."""

    name: str
    label: str
    terminal: bool
    initial: bool
    description: str = ""


@dataclass
class TransitionRow:
    """An action of a workflow: from where, to where, by whom."""

    trigger: str
    label: str
    sources: list[str]
    destinations: list[str]
    actors: list[str]
    fields: list[str]
    optional: bool
    sign_offs: list[str] = field(default_factory=list)


@dataclass
class WorkflowView:
    """A current workflow definition."""

    name: str
    label: str
    description: str
    version: int
    definition_id: int
    states: list[StateRow]
    transitions: list[TransitionRow]


def workflow_view(compiled: CompiledWorkflow, registry: Registry, locale: str) -> WorkflowView:
    """One definition version in the reader's language."""
    spec = compiled.spec

    def state(name: str) -> str:
        return pick_label(spec.states[name].label, locale) if name in spec.states else name

    def who(expr: str) -> str:
        return actor_label(expr, registry.vocabulary, locale)

    return WorkflowView(
        name=spec.workflow,
        label=pick_label(spec.label, locale),
        description=pick_label(spec.description, locale) if spec.description else "",
        version=compiled.version,
        definition_id=compiled.definition_id,
        states=[
            StateRow(name, pick_label(s.label, locale), s.terminal, name == spec.initial,
                     pick_label(s.description, locale) if s.description else "")
            for name, s in spec.states.items()
        ],
        transitions=[
            TransitionRow(
                trigger=t.trigger,
                label=pick_label(t.label, locale),
                sources=[state(s) for s in spec.source_states(t)],
                destinations=[state(d) for d in t.destinations],
                actors=[who(a) for a in t.actors],
                fields=[pick_label(spec.fields[f].label, locale) for f in t.form
                        if f in spec.fields],
                optional=t.optional,
                sign_offs=[who(s.signer) for s in t.sign_offs],
            )
            for t in spec.transitions
        ],
    )


def current_workflows(session: Session, registry: Registry) -> list[CompiledWorkflow]:
    """The current version of every workflow file, ordered by name."""
    return [registry.compiled_current(session, name) for name in sorted(registry.files)]
