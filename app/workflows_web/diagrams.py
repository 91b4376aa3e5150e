"""State diagrams as SVG, drawn with Graphviz in the reader's words, coloured by meaning.

Colours say one thing each: the current step in the brand colour, steps already passed in
green, endings that stop a case (cancelled, rejected, withdrawn) in grey; red is kept for what
is overdue or wrong, never for an ordinary step. Actions open from every step (cancelling) are
not drawn as a dozen arrows: they are listed under the diagram.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import graphviz
from markupsafe import Markup, escape
from sqlmodel import Session, select

from app.engine.definitions import TransitionSpec, WorkflowSpec
from app.engine.models import AuditEvent, WorkflowInstance
from app.engine.registry import CompiledWorkflow
from app.i18n import gettext_for, pick_label

TITLE = re.compile(rb"<title>[^<]*</title>|<!--.*?-->")
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
INK, MUTED, LINE = "#1f2933", "#5b6b7a", "#9aa8b5"
BRAND, BRAND_BG = "#1d4e89", "#e3edf8"
DONE, DONE_BG = "#2f7d4f", "#e6f4ec"
STOPPED, STOPPED_BG = "#8a96a3", "#eef1f4"
OVERDUE, OVERDUE_BG = "#b03a2e", "#fdf0ee"

NODE = {"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": "11",
        "color": MUTED, "fillcolor": "#ffffff", "fontcolor": INK, "penwidth": "1.2",
        "margin": "0.18,0.08"}
STYLES = {
    "current": {"color": BRAND, "fillcolor": BRAND_BG, "penwidth": "2.6",
                "fontcolor": BRAND},
    "overdue": {"color": OVERDUE, "fillcolor": OVERDUE_BG, "penwidth": "2.6",
                "fontcolor": OVERDUE},
    "done": {"color": DONE, "fillcolor": DONE_BG, "fontcolor": DONE},
    "stopped": {"color": STOPPED, "fillcolor": STOPPED_BG, "fontcolor": "#4a5561",
                "style": "rounded,filled,dashed"},
    "end": {"peripheries": "2"},
}


@dataclass(frozen=True)
class Marks:
    """Where one case stands on its diagram: its step, the steps it passed, whether it is late."""

    current: str | None = None
    done: frozenset[str] = frozenset()
    walked: frozenset[tuple[str, str]] = frozenset()
    overdue: bool = False


def stopping_states(spec: WorkflowSpec) -> set[str]:
    """Endings reached only by side actions (cancel, reject, withdraw): they stop a case."""
    ways_in: dict[str, list[TransitionSpec]] = {}
    for transition in spec.transitions:
        for dest in transition.destinations:
            ways_in.setdefault(dest, []).append(transition)
    return {name for name, state in spec.states.items()
            if state.terminal and ways_in.get(name)
            and all(t.style != "primary" or t.optional for t in ways_in[name])}


def everywhere_actions(spec: WorkflowSpec) -> list[TransitionSpec]:
    """Actions that can be taken from every step ('*'): listed under the diagram, not drawn."""
    return [t for t in spec.transitions if "*" in t.sources]


def _node_style(name: str, spec: WorkflowSpec, marks: Marks, stopped: set[str]) -> dict:
    style: dict[str, str] = {}
    if spec.states[name].terminal:
        style.update(STYLES["end"])
        if name in stopped:
            style.update(STYLES["stopped"])
    if name in marks.done:
        style.update(STYLES["done"])
    if name == marks.current:
        style.update(STYLES["overdue" if marks.overdue else "current"])
        style["class"] = "current"  # the page scrolls a wide diagram to it
    return style


def render_svg(spec: WorkflowSpec, locale: str, marks: Marks | None = None) -> bytes:
    """Draw a workflow top to bottom; a case's marks (if any) colour its steps."""
    marks = marks or Marks()
    stopped = stopping_states(spec)
    graph = graphviz.Digraph(format="svg", engine="dot")
    graph.attr(rankdir="TB", fontname=FONT, bgcolor="transparent", nodesep="0.35",
               ranksep="0.45", pad="0.1")
    graph.attr("node", **NODE)
    graph.attr("edge", fontname=FONT, fontsize="9.5", color=LINE, fontcolor=MUTED,
               arrowsize="0.7", penwidth="1.1")
    for name, state in spec.states.items():
        graph.node(name, label=pick_label(state.label, locale), id=f"state_{name}",
                   **_node_style(name, spec, marks, stopped))
    edges: dict[tuple[str, str], list[str]] = {}
    for transition in spec.transitions:
        if "*" in transition.sources:
            continue
        for source in spec.source_states(transition):
            for dest in transition.destinations:
                label = pick_label(transition.label, locale)
                names = edges.setdefault((source, dest), [])
                if label not in names:
                    names.append(label)
    for (source, dest), labels in edges.items():
        side = all(t.style != "primary" for t in spec.transitions
                   if source in spec.source_states(t) and dest in t.destinations)
        walked = (source, dest) in marks.walked
        graph.edge(source, dest, label=" / ".join(labels), weight="1" if side else "4",
                   id=f"move_{source}__{dest}",
                   **({"color": DONE, "penwidth": "1.8"} if walked
                      else {"style": "dashed"} if side else {}))
    linked = {state for pair in edges for state in pair}
    with graph.subgraph() as bottom:  # endings only reached "from any step" sit at the foot
        bottom.attr(rank="sink")
        for name in spec.states:
            if name not in linked:
                bottom.node(name)
    svg: bytes = graph.pipe(format="svg")
    svg = svg[max(0, svg.find(b"<svg")):]
    # Graphviz titles every shape with its internal name (a tooltip nobody should read) and
    # notes it in a comment: both go.
    return TITLE.sub(b"", svg)


def diagram_svg(compiled: CompiledWorkflow, locale: str, highlight: str | None = None,
                marks: Marks | None = None) -> str:
    """The diagram of a workflow version, cached per language and marks (a highlighted step,
    or a case's whole marks)."""
    if marks is None:
        marks = Marks(highlight) if highlight in compiled.spec.states else Marks()
    key = (locale, marks)
    svg = compiled.diagrams.get(key)
    if svg is None:
        svg = render_svg(compiled.spec, locale, marks)
        compiled.diagrams[key] = svg
    return svg.decode("utf-8")


def case_marks(session: Session, instance: WorkflowInstance, states: Iterable[str]) -> Marks:
    """Where a case stands: its step, and the steps and moves its audit trail passed through."""
    known = set(states)
    moves = session.exec(select(AuditEvent.from_state, AuditEvent.to_state)
                         .where(AuditEvent.instance_id == instance.id)).all()
    walked = frozenset((a, b) for a, b in moves if a in known and b in known and a != b)
    done = {state for move in walked for state in move} - {instance.state}
    return Marks(instance.state if instance.state in known else None, frozenset(done), walked)


def case_diagram(session: Session, compiled: CompiledWorkflow, instance: WorkflowInstance,
                 locale: str) -> Markup:
    """A case's diagram (its step, the steps it passed) and the actions open from every step."""
    marks = case_marks(session, instance, compiled.spec.states)
    svg = diagram_svg(compiled, locale, marks=marks)
    return Markup(svg) + everywhere_note(compiled.spec, locale)  # noqa: S704 - Graphviz SVG


def everywhere_note(spec: WorkflowSpec, locale: str) -> Markup:
    """One line under a diagram for each action open from every step (not drawn as arrows)."""
    _ = gettext_for(locale)
    lines = [
        _("From any step: {action} → {state}").format(
            action=pick_label(t.label, locale),
            state=" / ".join(pick_label(spec.states[d].label, locale) for d in t.destinations))
        for t in everywhere_actions(spec)
    ]
    if not lines:
        return Markup("")
    items = Markup("").join(Markup("<li>{}</li>").format(escape(line)) for line in lines)
    return Markup('<figcaption><ul class="diagram-note">{}</ul></figcaption>').format(items)
