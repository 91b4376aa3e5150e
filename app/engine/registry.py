"""Definition versions: sync files to stored versions, and one shared Machine per version."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select
from transitions import Machine, State

from app.engine import definitions as defs
from app.engine.conditions import route_condition
from app.engine.models import WorkflowDefinition
from app.errors import DefinitionError, NotFound

VOCABULARY_FILE = "organisation.yaml"


@dataclass
class CompiledWorkflow:
    """A definition version ready to run: its spec and the one Machine all instances share."""

    definition_id: int
    version: int
    spec: defs.WorkflowSpec
    machine: Machine
    content_hash: str
    diagrams: dict[tuple[str, object], bytes] = field(default_factory=dict)  # per language, marks


class _Token:
    """The stand-in a shared Machine moves: only its `state` attribute matters."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def build_machine(spec: defs.WorkflowSpec) -> Machine:
    """The transitions Machine for a spec: states, and every route as a conditional transition."""
    states = [State(name, final=state.terminal) for name, state in spec.states.items()]
    transitions: list[dict[str, Any]] = []
    for t in spec.transitions:
        source = spec.source_states(t)
        if t.dest:
            transitions.append({"trigger": t.trigger, "source": source, "dest": t.dest})
            continue
        for route in t.routes:
            entry: dict[str, Any] = {"trigger": t.trigger, "source": source, "dest": route.dest}
            if route.when is not None:
                entry["conditions"] = [route_condition(route.when)]
            transitions.append(entry)
    return Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=spec.initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
        name=spec.workflow,
    )


def run_machine(compiled: CompiledWorkflow, state: str, trigger: str, ctx: Any) -> str | None:
    """Fire a trigger on the shared Machine; the new state, or None if no route held."""
    token = _Token(state)
    moved = compiled.machine.events[trigger].trigger(token, ctx=ctx)
    return token.state if moved else None


# One compiled workflow per content hash for the whole process (DESIGN rule 4).
_compiled_by_hash: dict[str, CompiledWorkflow] = {}
_lock = threading.Lock()


def compiled_count() -> int:
    """How many Machines this process holds (one per definition version)."""
    return len(_compiled_by_hash)


class Registry:
    """The workflow files of one directory and the stored versions they correspond to."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.vocabulary = defs.Vocabulary({}, {})
        self.files: dict[str, defs.LoadedDefinition] = {}
        self.current_ids: dict[str, int] = {}
        self._ids: dict[int, CompiledWorkflow] = {}

    def load(self) -> None:
        """Read and check every workflow file; report every problem of every file at once."""
        vocab_path = self.directory / VOCABULARY_FILE
        if vocab_path.exists():
            self.vocabulary = defs.load_vocabulary(vocab_path)
        problems: list[str] = []
        files: dict[str, defs.LoadedDefinition] = {}
        for path in defs.workflow_files(self.directory):
            try:
                loaded = defs.load_file(path, self.vocabulary)
            except DefinitionError as exc:
                problems += exc.problems
                continue
            if loaded.spec.workflow in files:
                problems.append(
                    f"{path.name}: workflow '{loaded.spec.workflow}' is already defined in "
                    f"{files[loaded.spec.workflow].origin}"
                )
                continue
            files[loaded.spec.workflow] = loaded
        if problems:
            raise DefinitionError(problems)
        self.files = files

    def sync(self, session: Session) -> None:
        """Store a new version for every file whose content is new; remember the current ones."""
        if not self.files:
            self.load()
        for name, loaded in self.files.items():
            row = session.exec(
                select(WorkflowDefinition).where(
                    WorkflowDefinition.name == name,
                    WorkflowDefinition.content_hash == loaded.content_hash,
                )
            ).first()
            if row is None:
                latest = session.exec(
                    select(func.max(WorkflowDefinition.version)).where(
                        WorkflowDefinition.name == name
                    )
                ).one()
                row = WorkflowDefinition(
                    name=name,
                    version=(latest or 0) + 1,
                    content_hash=loaded.content_hash,
                    source=loaded.source,
                )
                session.add(row)
                session.flush()
            self.current_ids[name] = row.id

    def current_definition_id(self, session: Session, name: str) -> int:
        """The stored version new instances of a workflow start on."""
        if name not in self.current_ids:
            self.sync(session)
        if name not in self.current_ids:
            raise NotFound("No workflow named '{name}'.", name=name)
        return self.current_ids[name]

    def compiled(self, session: Session, definition_id: int) -> CompiledWorkflow:
        """The shared compiled workflow of a stored version."""
        cached = self._ids.get(definition_id)
        if cached is not None:
            return cached
        row = session.get(WorkflowDefinition, definition_id)
        if row is None:
            raise NotFound("No workflow version {id}.", id=definition_id)
        with _lock:
            compiled = _compiled_by_hash.get(row.content_hash)
            if compiled is None or compiled.definition_id != row.id:
                # A stored version keeps running even if today's vocabulary changed.
                spec = defs.parse_shape(row.source, f"{row.name} v{row.version}")
                compiled = CompiledWorkflow(
                    definition_id=row.id,
                    version=row.version,
                    spec=spec,
                    machine=build_machine(spec),
                    content_hash=row.content_hash,
                )
                _compiled_by_hash[row.content_hash] = compiled
            self._ids[definition_id] = compiled
        return compiled

    def compiled_current(self, session: Session, name: str) -> CompiledWorkflow:
        """The compiled current version of a workflow."""
        return self.compiled(session, self.current_definition_id(session, name))
