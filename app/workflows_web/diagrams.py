"""State diagrams as SVG, drawn by transitions' GraphMachine with Graphviz, in reader's words."""

from __future__ import annotations

import copy
import re
from typing import Any

from transitions import State
from transitions.extensions.diagrams import GraphMachine

from app.engine.definitions import WorkflowSpec
from app.engine.registry import CompiledWorkflow
from app.i18n import pick_label

FONT = "sans-serif"
_SVG_START = re.compile(rb"<svg\b")


class LabelledState(State):
    """A state that carries the label the diagram shows instead of its name."""

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label


class ReaderGraphMachine(GraphMachine):
    """A drawing-only machine: our colours, labels, and one optional highlighted state."""

    state_cls = LabelledState
    style_attributes = copy.deepcopy(GraphMachine.style_attributes)
    style_attributes["node"]["default"].update(
        {"fontname": FONT, "fontsize": "12", "color": "#5b6b7a", "fillcolor": "#ffffff"}
    )
    style_attributes["node"]["active"] = {
        "color": "#b03a2e", "fillcolor": "#fde2dc", "peripheries": "2", "penwidth": "2"
    }
    style_attributes["edge"]["default"].update({"fontname": FONT, "fontsize": "10",
                                                "color": "#5b6b7a"})
    style_attributes["graph"]["default"].update({"fontname": FONT, "fontsize": "14"})


class _Token:
    """The model the drawing machine marks: it sits in the highlighted state."""

    def __init__(self) -> None:
        self.state = ""


def _machine_config(spec: WorkflowSpec, locale: str) -> dict[str, Any]:
    states = [
        {"name": name, "label": pick_label(state.label, locale), "final": state.terminal}
        for name, state in spec.states.items()
    ]
    transitions = []
    for t in spec.transitions:
        label = pick_label(t.label, locale)
        for dest in t.destinations:
            transitions.append({"trigger": t.trigger, "source": spec.source_states(t),
                                "dest": dest, "label": label})
    return {"states": states, "transitions": transitions}


def render_svg(spec: WorkflowSpec, locale: str, highlight: str | None = None) -> bytes:
    """Draw a workflow; the highlighted state (if any) stands out."""
    token = _Token()
    machine = ReaderGraphMachine(
        model=token,
        initial=highlight if highlight in spec.states else spec.initial,
        auto_transitions=False,
        graph_engine="graphviz",
        title=pick_label(spec.label, locale),
        **_machine_config(spec, locale),
    )
    if highlight not in spec.states:
        machine.style_attributes = copy.deepcopy(machine.style_attributes)
        machine.style_attributes["node"]["active"] = {}
    svg: bytes = token.get_graph().draw(None, format="svg", prog="dot")  # type: ignore[attr-defined]
    start = _SVG_START.search(svg)
    return svg[start.start():] if start else svg


def diagram_svg(compiled: CompiledWorkflow, locale: str, highlight: str | None = None) -> str:
    """The diagram of a workflow version, cached per (locale, highlighted state)."""
    key = (locale, highlight if highlight in compiled.spec.states else None)
    svg = compiled.diagrams.get(key)
    if svg is None:
        svg = render_svg(compiled.spec, locale, key[1])
        compiled.diagrams[key] = svg
    return svg.decode("utf-8")
