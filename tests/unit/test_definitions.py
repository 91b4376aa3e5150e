"""The workflow definition language: valid files load, broken ones say exactly what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import definitions as defs
from app.errors import DefinitionError

PROJECT = Path(__file__).resolve().parents[2]
WORKFLOWS = PROJECT / "workflows"
BROKEN = Path(__file__).resolve().parents[1] / "data" / "workflows_broken"


@pytest.fixture(scope="module")
def vocabulary() -> defs.Vocabulary:
    return defs.load_vocabulary(WORKFLOWS / "organisation.yaml")


def _expectations(path: Path) -> list[str]:
    return [
        line.removeprefix("# expect:").strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("# expect:")
    ]


@pytest.mark.parametrize("path", defs.workflow_files(WORKFLOWS), ids=lambda p: p.name)
def test_every_shipped_workflow_passes_the_static_checks(path: Path, vocabulary) -> None:
    loaded = defs.load_file(path, vocabulary)
    assert loaded.spec.workflow
    assert len(loaded.content_hash) == 64


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.yaml")), ids=lambda p: p.name)
def test_broken_workflow_is_refused_with_a_message_naming_file_and_path(
    path: Path, vocabulary
) -> None:
    expected = _expectations(path)
    assert expected, f"{path.name} has no '# expect:' line"
    with pytest.raises(DefinitionError) as caught:
        defs.parse(path.read_text(encoding="utf-8"), path.name, vocabulary)
    text = "\n".join(caught.value.problems)
    for fragment in expected:
        assert fragment in text


def test_all_problems_of_a_file_are_reported_together(vocabulary) -> None:
    source = (BROKEN / "unknown_guard.yaml").read_text().replace(
        "actors: [subject]", "actors: [\"role:janitor@subject.branch\"]"
    )
    with pytest.raises(DefinitionError) as caught:
        defs.parse(source, "two.yaml", vocabulary)
    assert len(caught.value.problems) == 2


def test_equal_text_gives_equal_content_hash_and_any_edit_changes_it() -> None:
    text = (WORKFLOWS / "improvement_plan.yaml").read_text(encoding="utf-8")
    assert defs.content_hash(text) == defs.content_hash(text)
    assert defs.content_hash(text) != defs.content_hash(text + "\n# edited\n")


def test_star_source_means_every_non_terminal_state(vocabulary) -> None:
    spec = defs.load_file(WORKFLOWS / "improvement_plan.yaml", vocabulary).spec
    cancel = spec.transition("cancel")
    assert cancel is not None
    sources = spec.source_states(cancel)
    assert "draft" in sources and "hr_decision" in sources
    assert not any(spec.states[s].terminal for s in sources)


def test_same_trigger_may_leave_different_states_to_different_places(vocabulary) -> None:
    spec = defs.load_file(WORKFLOWS / "improvement_plan.yaml", vocabulary).spec
    assert spec.transition("send_back", "plan_proposed").dest == "plan_drafted"
    assert spec.transition("send_back", "under_review").dest == "in_progress"
