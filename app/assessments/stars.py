"""Star rating (星级评定): the highest band whose conditions all hold, and why, plus champions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from app.assessments.datafile import Labels
from app.assessments.models import AnnualAssessment
from app.assessments.rules import LOAN_COUNTS, StarRules, Threshold, rule_book
from app.assessments.wording import number, require_year, unit_after_number
from app.i18n import Message, plural_message
from app.org.models import OrgUnit, Person

LOAN_COUNT_LABELS: dict[str, Labels] = {
    "liability_loans": {"en": "Liability loans", "zh": "责任贷款"},
    "violating_loans": {"en": "Rule-violating loans", "zh": "违规贷款"},
}


@dataclass(frozen=True)
class Check:
    """One inclusive threshold compared with the person's value."""

    metric: str
    label: Labels
    unit: str
    op: str  # "≥" or "≤"
    threshold: float
    value: float | None
    holds: bool

    def message(self) -> Message:
        """What the comparison found, in words."""
        params = {"label": self.label, "value": number(self.value), "op": self.op,
                  "threshold": number(self.threshold), "unit": unit_after_number(self.unit)}
        if self.value is None:
            return Message("{label} is not recorded (needs {op} {threshold}{unit}).", params)
        if self.holds:
            return Message("{label} {value}{unit} meets {op} {threshold}{unit}.", params)
        return Message("{label} {value}{unit} misses {op} {threshold}{unit}.", params)


@dataclass(frozen=True)
class BandResult:
    """A band and how each of its conditions went."""

    stars: int
    reward: float
    checks: list[Check]

    @property
    def holds(self) -> bool:
        """Every condition of the band holds."""
        return all(check.holds for check in self.checks)


@dataclass(frozen=True)
class StarRating:
    """The rating of one annual result with the conditions that decided it."""

    stars: int
    reward: float
    admitted: bool
    filter_checks: list[Check]
    bands: list[BandResult]
    deciding: list[Check] = field(default_factory=list)

    def explanation(self) -> list[Message]:
        """Why this many stars: the filter, the band reached, and what kept the next one out."""
        if not self.admitted:
            lines = [Message("No stars: the entry filter excludes this result "
                             "(no liability or rule-violating loans allowed).")]
            return lines + [c.message() for c in self.filter_checks if not c.holds]
        if self.stars:
            lines = [plural_message(
                "{stars} star: every condition of the {stars}-star band holds (reward {reward}).",
                "{stars} stars: every condition of the {stars}-star band holds (reward {reward}).",
                self.stars, stars=self.stars, reward=number(self.reward))]
        else:
            lines = [Message("No stars: no band has all its conditions met.")]
        above = [band for band in self.bands if band.stars > self.stars]
        if above:
            lines.append(plural_message("Not {stars} star, because:", "Not {stars} stars, because:",
                                        above[-1].stars, stars=above[-1].stars))
            lines += [check.message() for check in self.deciding]
        return lines


def _value(values: Mapping[str, Any], name: str) -> float | None:
    raw = values.get(name)
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _check(rules: StarRules, name: str, bound: Threshold, values: Mapping[str, Any]) -> Check:
    metric = rules.metrics.get(name)
    label = metric.label if metric else LOAN_COUNT_LABELS.get(name, {"en": name, "zh": name})
    unit = metric.unit if metric else ""
    value = _value(values, name)
    if name in LOAN_COUNTS and value is None:
        value = 0.0  # a loan count left blank means none were recorded
    op, threshold = ("≥", bound.gte) if bound.gte is not None else ("≤", bound.lte)
    assert threshold is not None
    holds = value is not None and (value >= threshold if op == "≥" else value <= threshold)
    return Check(name, label, unit, op, threshold, value, holds)


def rate(values: Mapping[str, Any], rules: StarRules) -> StarRating:
    """Rate one annual result: entry filter first, then the highest band whose conditions hold."""
    filter_checks = [_check(rules, c.metric, c, values) for c in rules.entry_filter]
    bands = [
        BandResult(band.stars, band.reward,
                   [_check(rules, name, bound, values) for name, bound in band.conditions.items()])
        for band in rules.bands
    ]
    if not all(check.holds for check in filter_checks):
        return StarRating(0, 0, False, filter_checks, bands)
    reached = next((band for band in bands if band.holds), None)
    stars = reached.stars if reached else 0
    above = [band for band in bands if band.stars > stars]
    deciding = [check for check in above[-1].checks if not check.holds] if above else []
    return StarRating(stars, reached.reward if reached else 0, True, filter_checks, bands,
                      deciding)


def result_values(row: AnnualAssessment) -> dict[str, Any]:
    """An annual result as the flat name → value mapping the rules read."""
    return {**(row.metrics or {}), "liability_loans": row.liability_loans,
            "violating_loans": row.violating_loans, "level": row.level,
            "targets_met": row.targets_met,
            "effective_client_target_met": row.effective_client_target_met, "year": row.year}


def star_rating(session: Session, *, person_id: int, year: int,
                registry: Any = None) -> StarRating | None:
    """The star rating of a person's year, or None when no annual result is recorded."""
    require_year(year)
    row = session.exec(select(AnnualAssessment).where(AnnualAssessment.person_id == person_id,
                                                      AnnualAssessment.year == year)).first()
    if row is None:
        return None
    return rate(result_values(row), rule_book(registry).stars)


@dataclass(frozen=True)
class ChampionResult:
    """The winners of one champion award within one unit."""

    award: str
    label: Labels
    unit_id: int
    person_ids: list[int]
    value: float | None


def _scope_unit(units: Mapping[int, OrgUnit], unit_id: int, scope: str) -> int | None:
    unit = units.get(unit_id)
    if unit is None:
        return None
    chain = [units[int(p)] for p in reversed(unit.path.strip("/").split("/"))
             if p and int(p) in units]
    if scope == "head_office":
        return chain[-1].id if chain else None
    return next((u.id for u in chain if u.kind == scope), None)


def champions(session: Session, *, year: int, registry: Any = None) -> list[ChampionResult]:
    """Champion awards of a year: per award and competing unit, the winners (same filter)."""
    require_year(year)
    rules = rule_book(registry).stars
    rows = session.exec(
        select(AnnualAssessment, Person).join(Person, Person.id == AnnualAssessment.person_id)
        .where(AnnualAssessment.year == year)
    ).all()
    units = {u.id: u for u in session.exec(select(OrgUnit))}
    admitted = [(row, person) for row, person in rows
                if rate(result_values(row), rules).admitted]
    results = []
    for award, spec in rules.champions.items():
        groups: dict[int, list[tuple[float, int]]] = {}
        for row, person in admitted:
            value = _value(result_values(row), spec.metric)
            scope = _scope_unit(units, person.org_unit_id, spec.scope)
            if value is not None and scope is not None:
                groups.setdefault(scope, []).append((value, person.id))
        for unit_id, entries in sorted(groups.items()):
            best = (max if spec.pick == "highest" else min)(v for v, _ in entries)
            winners = sorted(pid for v, pid in entries if v == best)
            if len(winners) > 1 and spec.ties == "none":
                winners = []
            results.append(ChampionResult(award, spec.label, unit_id, winners, best))
    return results
