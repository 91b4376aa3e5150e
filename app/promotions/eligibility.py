"""Eligibility: which titles of a scheme a person may enter the evaluation for, and why (not).

Eligibility opens the evaluation; it is not the promotion. Every verdict cites the scheme's
rules with what was found in the person's record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, select

from app import clock
from app.assessments.datafile import Labels
from app.assessments.models import AnnualAssessment, AssessmentFlag, QuarterlyAssessment
from app.assessments.rules import RuleBook, rule_book
from app.assessments.stars import result_values
from app.assessments.wording import as_data, from_data
from app.i18n import Message
from app.org.models import OrgUnit, Person, UnitKind
from app.promotions.conditions import Evaluator, Labeller, Record, shown
from app.promotions.grades import grade_on
from app.promotions.schemes import BUILTIN_FACTS, Scheme, Title, get_scheme

LOOK_BACK_YEARS = 5
NO_RULES = Message("No entry conditions")
SKIP_LEVEL = Message("Skip-level")


@dataclass
class Citation:
    """A rule as applied to the person: did it pass, and what was found."""

    rule: str
    label: Labels | Message
    passed: bool
    details: list[Message] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        """JSON-able form, to keep the verdict a case was started on."""
        label = as_data(self.label) if isinstance(self.label, Message) else self.label
        return {"rule": self.rule, "label": label, "passed": self.passed,
                "details": [as_data(m) for m in self.details]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Citation:
        """A stored citation back."""
        label = data["label"]
        if isinstance(label, dict) and "msgid" in label:
            label = from_data(label)
        return cls(data["rule"], label, data["passed"],
                   [from_data(d) for d in data.get("details", [])])


@dataclass
class TitleVerdict:
    """Whether the person may enter the evaluation for one title, with reasons or why not."""

    title: Title
    eligible: bool
    skip_level: bool
    reasons: list[Citation]
    why_not: list[Citation]


@dataclass
class Eligibility:
    """A person's eligibility in one scheme for one assessment year."""

    person_id: int
    scheme: Scheme
    year: int
    current: Title | None
    titles: list[TitleVerdict]

    def verdict(self, title: str) -> TitleVerdict | None:
        """The verdict for one title (None for titles at or below the current one)."""
        return next((v for v in self.titles if v.title.name == title), None)

    @property
    def eligible(self) -> list[TitleVerdict]:
        """The titles the person may enter the evaluation for."""
        return [v for v in self.titles if v.eligible]


def labeller(scheme: Scheme, book: RuleBook) -> Labeller:
    """Names for the explanations of one scheme's rules."""

    def fact_label(name: str) -> Any:
        if name in scheme.facts:
            return scheme.facts[name].label
        return BUILTIN_FACTS.get(name, Message(name))

    def fact_value(name: str, value: Any) -> Any:
        spec = scheme.facts.get(name)
        if spec is not None and spec.type == "choice" and value in spec.choices:
            return spec.choices[value]
        if name == "application_kind" and value in ("self_application", "nomination"):
            return Message("self-application") if value == "self_application" else Message(
                "nomination")
        return shown(value)

    return Labeller(book.field_label, fact_label,
                    lambda name: book.assessment.flags.get(name, {"en": name, "zh": name}),
                    fact_value)


def in_subordinate_branch(session: Session, person: Person) -> bool:
    """Whether the person works under a branch that itself has a supervising branch."""
    unit = session.get(OrgUnit, person.org_unit_id)
    if unit is None:
        return False
    ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    kinds = session.exec(select(OrgUnit.kind).where(OrgUnit.id.in_(ids))).all()
    return sum(1 for k in kinds if k in (UnitKind.branch, UnitKind.province)) >= 2


def person_record(session: Session, *, person: Person, year: int,
                  facts: dict[str, Any] | None = None) -> Record:
    """What the rules may look at: levels, annual results and flags of recent years, facts."""
    first = year - LOOK_BACK_YEARS
    record = Record(year=year, facts={"in_subordinate_branch": in_subordinate_branch(
        session, person), "outstanding_contribution": False, **(facts or {})})
    for row in session.exec(select(QuarterlyAssessment).where(
            QuarterlyAssessment.person_id == person.id, QuarterlyAssessment.year >= first,
            QuarterlyAssessment.year <= year)):
        record.quarters.setdefault(row.year, {})[row.quarter] = row.level
    for annual in session.exec(select(AnnualAssessment).where(
            AnnualAssessment.person_id == person.id, AnnualAssessment.year >= first,
            AnnualAssessment.year <= year)):
        record.annual[annual.year] = result_values(annual)
    for flag in session.exec(select(AssessmentFlag).where(
            AssessmentFlag.person_id == person.id, AssessmentFlag.year >= first,
            AssessmentFlag.year <= year)):
        if flag.justification.strip():
            record.flags.setdefault(flag.year, set()).add(flag.name)
    return record


def current_title(session: Session, *, person: Person, scheme: Scheme,
                  on: date | None = None) -> Title | None:
    """The person's title in the scheme: the grade history, else their grade if it is one."""
    row = grade_on(session, person_id=person.id, on=on or clock.today(), scheme=scheme.scheme)
    if row is not None:
        return scheme.title(row.title)
    return scheme.title(person.grade)


def evaluate(scheme: Scheme, book: RuleBook, record: Record, current: Title | None,
             person_id: int = 0) -> Eligibility:
    """Eligibility from a record (pure: no database), every verdict citing its rules."""
    evaluator = Evaluator(record, labeller(scheme, book), scheme.reading)

    def cite(rule: Any, *, block: bool = False) -> Citation:
        verdict = evaluator.evaluate(rule.when)
        return Citation(rule.rule, rule.label, not verdict.holds if block else verdict.holds,
                        verdict.details)

    blocks = [cite(b, block=True) for b in scheme.blocks]
    caps = [(scheme.index(cap.highest), cite(cap, block=True)) for cap in scheme.caps]
    here = scheme.index(current.name if current else None)
    verdicts = []
    for position, title in enumerate(scheme.titles):
        if position <= here:
            continue
        rules = [cite(rule) for rule in scheme.eligibility.get(title.name, [])]
        if not rules:
            rules = [Citation("—", NO_RULES, True, [Message(
                "The scheme sets no entry conditions for this title.")])]
        limits = blocks + [c for highest, c in caps if position > highest]
        checks = rules + limits
        skip = position > here + 1
        reasons = [c for c in checks if c.passed]
        if skip:
            reasons.append(Citation("—", SKIP_LEVEL, True, [Message(
                "More than one step above the current title: skip-level, only for an "
                "outstanding contribution with a written justification.")]))
        why_not = [c for c in checks if not c.passed]
        verdicts.append(TitleVerdict(title, not why_not, skip, reasons, why_not))
    return Eligibility(person_id, scheme, record.year, current, verdicts)


def eligibility(session: Session, *, person: Person, scheme: str | Scheme, year: int,
                facts: dict[str, Any] | None = None, registry: Any = None) -> Eligibility:
    """For a person, scheme and assessment year: the titles they may enter, and why (not)."""
    found = scheme if isinstance(scheme, Scheme) else get_scheme(scheme, registry)
    record = person_record(session, person=person, year=year, facts=facts)
    current = current_title(session, person=person, scheme=found)
    return evaluate(found, rule_book(registry), record, current, person.id or 0)
