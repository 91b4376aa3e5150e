"""Eligibility: which titles of a scheme a person may enter the evaluation for, and why (not).

Eligibility opens the evaluation; it is not the promotion. Every verdict cites the scheme's
rules with what was found in the person's record, and lists everything an application still
needs (skip-level flag and justification, the round's window, who may start it): the
application service refuses exactly what this verdict says is missing, and nothing else.
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
from app.promotions.grades import title_on
from app.promotions.rounds import Window, next_window, round_row
from app.promotions.schemes import BUILTIN_FACTS, Scheme, Title, get_scheme

LOOK_BACK_YEARS = 5
NO_RULES = Message("No entry conditions")
SKIP_LEVEL = Message("Skip-level")
KIND_LABELS = {"self_application": Message("self-application"),
               "nomination": Message("nomination")}
WINDOW_LABEL = Message("Application round")
KIND_LABEL = Message("Who may start it")


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
class Requirement:
    """Something an application still needs: what, the rule it comes from, where to give it.

    `field` names the form field that supplies it (the application answers 422 with the field
    marked); None means the application cannot supply it now (403: window, who may start it).
    """

    key: str  # window, kind, existing, skip_level, justification, fact, qualification
    rule: str
    label: Labels | Message
    detail: Message
    field: str | None = None


@dataclass
class TitleVerdict:
    """Whether the person may enter the evaluation for one title, with reasons or why not,
    and what an application for it still needs."""

    title: Title
    eligible: bool
    skip_level: bool
    reasons: list[Citation]
    why_not: list[Citation]
    missing: list[Requirement] = field(default_factory=list)

    @property
    def may_apply(self) -> bool:
        """Eligible, and nothing is missing for an application now."""
        return self.eligible and not self.missing


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


@dataclass
class Application:
    """What an application brings besides the person's record (None fields: not asked)."""

    kind: str | None = None  # self_application | nomination
    outstanding_contribution: bool = False
    justification: str = ""


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
                  facts: dict[str, Any] | None = None, book: RuleBook | None = None) -> Record:
    """What the rules may look at: levels, annual results and flags of recent years, facts.

    A reviewer's skip-level flag (outstanding contribution) on the weighed year counts as the
    fact `outstanding_contribution`, its justification as the written one.
    """
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
            if book is not None and flag.year == year and (
                    flag.name == book.assessment.skip_level_requires_flag):
                record.facts["outstanding_contribution"] = True
                record.facts["outstanding_justification"] = flag.justification.strip()
    return record


def current_title(session: Session, *, person: Person, scheme: Scheme,
                  on: date | None = None) -> Title | None:
    """The title the person holds in the scheme (from their title history)."""
    return scheme.title(title_on(session, person_id=person.id, scheme=scheme.scheme, on=on))


def _skip_level(scheme: Scheme, evaluator: Evaluator, title: Title, skip: bool,
                application: Application, record: Record
                ) -> tuple[list[Citation], list[Citation], list[Requirement]]:
    """What skip-level means for this title under the scheme's rule: reasons, refusals, needs."""
    rule = scheme.skip_level
    if not skip or rule is None:
        return [], [], []
    if not rule.allowed:
        return [], [Citation(rule.rule, rule.label, False, [Message(
            "{title} is more than one title above the current one, and this scheme takes "
            "one title at a time.", {"title": title.label})])], []
    needs: list[Requirement] = []
    found: list[Message] = [Message(
        "{title} is more than one title above the current one: a skip-level appointment.",
        {"title": title.label})]
    if rule.requires is not None:
        verdict = evaluator.evaluate(rule.requires)
        found += verdict.details
        if not verdict.holds:
            needs.append(Requirement("skip_level", rule.rule, rule.label, Message(
                "Mark the outstanding contribution on the application ({label}).",
                {"label": rule.label}), field="outstanding_contribution"))
    written = application.justification.strip() or str(
        record.facts.get("outstanding_justification") or "")
    if rule.justification and not written:
        needs.append(Requirement("justification", rule.rule, rule.label, Message(
            "Write the justification of the outstanding contribution."), field="justification"))
    return [Citation(rule.rule, rule.label, True, found)], [], needs


def evaluate(scheme: Scheme, book: RuleBook, record: Record, current: Title | None,
             person_id: int = 0, application: Application | None = None) -> Eligibility:
    """Eligibility from a record (pure: no database), every verdict citing its rules."""
    application = application or Application()
    facts = dict(record.facts)
    if application.outstanding_contribution:
        facts["outstanding_contribution"] = True
    record = Record(record.year, record.quarters, record.annual, record.flags, facts)
    names = labeller(scheme, book)
    evaluator = Evaluator(record, names, scheme.reading)
    as_block = Evaluator(record, names, scheme.reading, block=True)

    def cite(rule: Any, *, block: bool = False) -> Citation | None:
        if rule.years is not None and not rule.years.covers(record.year):
            return None  # the rule does not cover this assessment year
        verdict = (as_block if block else evaluator).evaluate(rule.when)
        if not block:
            return Citation(rule.rule, rule.label, verdict.holds, verdict.details)
        tail = Message("So the rule applies.") if verdict.holds else Message(
            "So the rule does not apply.")
        return Citation(rule.rule, rule.label, not verdict.holds, [*verdict.details, tail])

    blocks = [c for b in scheme.blocks if (c := cite(b, block=True))]
    caps = [(scheme.index(cap.highest), c) for cap in scheme.caps
            if (c := cite(cap, block=True))]
    here = scheme.index(current.name if current else None)
    verdicts = []
    for position, title in enumerate(scheme.titles):
        if position <= here:
            continue
        rules = [c for rule in scheme.eligibility.get(title.name, []) if (c := cite(rule))]
        if not rules:
            rules = [Citation("—", NO_RULES, True, [])]
        limits = blocks + [c for highest, c in caps if position > highest]
        skip = scheme.is_skip_level(current, title)
        skip_reasons, skip_refusals, needs = _skip_level(scheme, evaluator, title, skip,
                                                         application, record)
        checks = rules + limits + skip_refusals
        reasons = [c for c in checks if c.passed] + skip_reasons
        why_not = [c for c in checks if not c.passed]
        verdicts.append(TitleVerdict(title, not why_not, skip, reasons, why_not, needs))
    return Eligibility(person_id, scheme, record.year, current, verdicts)


def eligibility(session: Session, *, person: Person, scheme: str | Scheme, year: int,
                facts: dict[str, Any] | None = None, registry: Any = None,
                application: Application | None = None) -> Eligibility:
    """For a person, scheme and assessment year: the titles they may enter, and why (not)."""
    found = scheme if isinstance(scheme, Scheme) else get_scheme(scheme, registry)
    book = rule_book(registry)
    record = person_record(session, person=person, year=year, facts=facts, book=book)
    current = current_title(session, person=person, scheme=found)
    return evaluate(found, book, record, current, person.id or 0, application)


def application_kind(session: Session, person: Person, applicant: Person) -> str | None:
    """How an application by `applicant` for `person` would start (None: they may not)."""
    from app.assessments.service import is_supervisor_of

    if applicant.id == person.id:
        return "self_application"
    if is_supervisor_of(session, applicant, person):
        return "nomination"
    return None


def add_round_needs(session: Session, found: Eligibility, person: Person, kind: str | None,
                    on: date | None = None) -> Window:
    """Add what the round asks of every title's application: the window open, no case yet
    this round, and the right person starting it. Returns the round's window."""
    from app.promotions.models import PromotionRequest

    scheme = found.scheme
    today = on or clock.today()
    window = next_window(scheme, today, session)
    common: list[Requirement] = []
    params = {"opens": window.opens_on.isoformat(), "closes": window.closes_on.isoformat()}
    if not window.is_open(today):
        common.append(Requirement("window", "—", WINDOW_LABEL, Message(
            "Applications open on {opens} and close on {closes}.", params)))
    else:
        row = round_row(session, scheme, window.year)
        if row is not None and session.exec(select(PromotionRequest.id).where(
                PromotionRequest.round_id == row.id,
                PromotionRequest.person_id == person.id)).first() is not None:
            common.append(Requirement("existing", "—", WINDOW_LABEL, Message(
                "There is already an application for this person in the {year} round (one a "
                "year per scheme).", {"year": window.year})))
    for verdict in found.titles:
        needs = list(common)
        kinds = scheme.route(verdict.title).application_kinds
        if kind is not None and kind not in kinds:
            needs.append(Requirement("kind", "—", KIND_LABEL, Message(
                "{title} is applied for only by {kinds}.",
                {"title": verdict.title.label, "kinds": [KIND_LABELS[k] for k in kinds]})))
        verdict.missing[:0] = needs
    return window
