"""The rule language of scheme files: conditions on a person's assessments, flags and facts.

A condition is a mapping with exactly one key:
  quarters: {level_at_most: 1, at_least: 2}        quarters of the year at level 1 or better
  annual:   {field: level, lte: 4, year_offset: 0}  a field of the annual result
  flag:     {name: major_marketing_achievement}     a reviewer flag with written justification
  fact:     {name: years_in_banking, gte: 3}        a fact of the person or the application
  setting:  senior_level1_quarters_reading          the condition of the chosen reading
  all_of / any_of: [conditions]   not: condition
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, model_validator

from app.assessments.datafile import Labels, Strict
from app.assessments.wording import number
from app.i18n import Message

Scalar = bool | int | float | str


class Compare(Strict):
    """A comparison with an expected value; exactly one operator."""

    equals: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    gte: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Compare:
        given = [self.equals is not None, self.in_ is not None, self.gte is not None,
                 self.lte is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'equals', 'in', 'gte', 'lte'")
        return self

    def test(self, value: Any) -> bool:
        """Whether a value passes (a missing value never does)."""
        if value is None:
            return False
        if self.equals is not None:
            if isinstance(self.equals, bool) or isinstance(value, bool):
                return isinstance(value, bool) and value == self.equals
            return value == self.equals
        if self.in_ is not None:
            return value in self.in_
        try:
            if self.gte is not None:
                return float(value) >= self.gte
            if self.lte is not None:
                return float(value) <= self.lte
        except (TypeError, ValueError):
            return False
        return False

    def expected(self, show: Callable[[Any], Any]) -> Message:
        """The requirement in words (“yes”, “one of …”, “at least 3”)."""
        if self.equals is not None:
            return Message("{value}", {"value": show(self.equals)})
        if self.in_ is not None:
            return Message("one of {values}", {"values": [show(v) for v in self.in_]})
        if self.gte is not None:
            return Message("at least {n}", {"n": number(self.gte)})
        return Message("at most {n}", {"n": number(self.lte)})


class QuartersTest(Strict):
    """How many quarters of a year were at (or better / worse than) a level."""

    level_at_most: Annotated[int, Field(ge=1, le=5)] | None = None  # this level or better
    level_at_least: Annotated[int, Field(ge=1, le=5)] | None = None  # this level or worse
    at_least: Annotated[int, Field(ge=0, le=4)] | None = None
    exactly: Annotated[int, Field(ge=0, le=4)] | None = None
    consecutive: Annotated[int, Field(ge=1, le=4)] | None = None
    year_offset: Annotated[int, Field(ge=-5, le=0)] = 0

    @model_validator(mode="after")
    def _complete(self) -> QuartersTest:
        if (self.level_at_most is None) == (self.level_at_least is None):
            raise ValueError("give exactly one of 'level_at_most' or 'level_at_least'")
        counts = [self.at_least, self.exactly, self.consecutive]
        if sum(c is not None for c in counts) != 1:
            raise ValueError("give exactly one of 'at_least', 'exactly', 'consecutive'")
        return self


class AnnualTest(Compare):
    """A field of the annual result (level, targets_met, a star metric…)."""

    field: str
    year_offset: Annotated[int, Field(ge=-5, le=0)] = 0


class FlagTest(Strict):
    """A reviewer flag set with a written justification."""

    name: str
    year_offset: Annotated[int, Field(ge=-5, le=0)] = 0


class FactTest(Compare):
    """A fact about the person or the application (declared qualification facts included)."""

    name: str


class Condition(Strict):
    """One condition of the rule language (see the module docstring)."""

    quarters: QuartersTest | None = None
    annual: AnnualTest | None = None
    flag: FlagTest | None = None
    fact: FactTest | None = None
    setting: str | None = None
    all_of: list[Condition] | None = None
    any_of: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a condition has exactly one of quarters, annual, flag, fact, "
                             "setting, all_of, any_of, not")
        return self

    def walk(self, path: str) -> Iterator[tuple[str, Condition]]:
        """This condition and every nested one, each with its path in the file."""
        yield path, self
        for name in ("all_of", "any_of"):
            for i, child in enumerate(getattr(self, name) or []):
                yield from child.walk(f"{path}.{name}[{i}]")
        if self.not_ is not None:
            yield from self.not_.walk(f"{path}.not")


@dataclass
class Record:
    """What the rules may look at for one person and assessment year."""

    year: int
    quarters: dict[int, dict[int, int]] = field(default_factory=dict)  # year → quarter → level
    annual: dict[int, dict[str, Any]] = field(default_factory=dict)  # year → field → value
    flags: dict[int, set[str]] = field(default_factory=dict)  # year → justified flag names
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Verdict:
    """Whether a condition holds, and what was found."""

    holds: bool
    details: list[Message]


class Labeller:
    """Names of fields, facts, flags and settings for explanations (from the rule files)."""

    def __init__(self, field_label: Callable[[str], Labels], fact_label: Callable[[str], Labels],
                 flag_label: Callable[[str], Labels],
                 fact_value: Callable[[str, Any], Any]) -> None:
        self.field_label = field_label
        self.fact_label = fact_label
        self.flag_label = flag_label
        self.fact_value = fact_value


def shown(value: Any) -> Any:
    """A value ready to go into a message (yes/no translated, numbers formatted)."""
    if value is None:
        return Message("not recorded")
    if isinstance(value, bool):
        return Message("yes") if value else Message("no")
    if isinstance(value, int | float):
        return number(value)
    return value


def _runs(levels: dict[int, int], passes: Callable[[int], bool]) -> tuple[int, int]:
    count = longest = run = 0
    for quarter in range(1, 5):
        level = levels.get(quarter)
        if level is not None and passes(level):
            count += 1
            run += 1
            longest = max(longest, run)
        else:
            run = 0
    return count, longest


def _quarters(test: QuartersTest, record: Record, block: bool) -> Verdict:
    year = record.year + test.year_offset
    levels = record.quarters.get(year, {})
    if test.level_at_most is not None:
        level, better = test.level_at_most, True
        count, longest = _runs(levels, lambda v: v <= test.level_at_most)  # type: ignore[operator]
    else:
        level, better = test.level_at_least, False
        count, longest = _runs(levels, lambda v: v >= test.level_at_least)  # type: ignore[operator]
    if test.at_least is not None:
        holds = count >= test.at_least
        need = Message("at least {n} such quarter(s)", {"n": test.at_least})
    elif test.exactly is not None:
        holds = count == test.exactly
        need = Message("exactly {n} such quarter(s)", {"n": test.exactly})
    else:
        holds = longest >= (test.consecutive or 0)
        need = Message("{n} such quarter(s) in a row", {"n": test.consecutive})
    recorded = len(levels)
    params = {"year": year, "count": longest if test.consecutive else count, "level": level,
              "recorded": recorded}
    if not recorded:
        found = Message("No quarterly level is recorded for {year}.", params)
    elif test.consecutive and better:
        found = Message("In {year}, at most {count} quarter(s) in a row were at level {level} "
                        "or better ({recorded} recorded).", params)
    elif test.consecutive:
        found = Message("In {year}, at most {count} quarter(s) in a row were at level {level} "
                        "or worse ({recorded} recorded).", params)
    elif better:
        found = Message("In {year}, {count} of {recorded} recorded quarter(s) were at level "
                        "{level} or better.", params)
    else:
        found = Message("In {year}, {count} of {recorded} recorded quarter(s) were at level "
                        "{level} or worse.", params)
    return Verdict(holds, [found] if block else [found, Message("The rule asks for {need}.",
                                                                {"need": need})])


class Evaluator:
    """Evaluates conditions against one record, resolving settings to their chosen reading.

    Explanations are plain sentences: what was found, and (for a requirement) what the rule
    asks for. For a block or cap (`block=True`) the caller says whether the rule applies.
    """

    def __init__(self, record: Record, labeller: Labeller,
                 reading: Callable[[str], tuple[Labels, Condition]], block: bool = False) -> None:
        self.record = record
        self.labeller = labeller
        self.reading = reading
        self.block = block

    def _asks(self, found: Message, expected: Message) -> list[Message]:
        if self.block:
            return [found]
        return [found, Message("The rule asks for: {expected}.", {"expected": expected})]

    def evaluate(self, condition: Condition) -> Verdict:
        """Whether the condition holds for the record, with what was found."""
        c = condition
        if c.quarters is not None:
            return _quarters(c.quarters, self.record, self.block)
        if c.annual is not None:
            year = self.record.year + c.annual.year_offset
            value = self.record.annual.get(year, {}).get(c.annual.field)
            what = self.labeller.field_label(c.annual.field)
            if value is None:
                found = Message("No “{what}” is recorded for {year}.", {"what": what,
                                                                        "year": year})
            else:
                found = Message("In {year}, “{what}”: {value}.", {"year": year, "what": what,
                                                                  "value": shown(value)})
            return Verdict(c.annual.test(value), self._asks(found, c.annual.expected(shown)))
        if c.flag is not None:
            year = self.record.year + c.flag.year_offset
            holds = c.flag.name in self.record.flags.get(year, set())
            params = {"year": year, "what": self.labeller.flag_label(c.flag.name)}
            if holds:
                return Verdict(True, [Message(
                    "In {year}, “{what}” is recorded with a written justification.", params)])
            return Verdict(False, [Message("In {year}, “{what}” is not recorded.", params)])
        if c.fact is not None:
            value = self.record.facts.get(c.fact.name)
            show = lambda v: self.labeller.fact_value(c.fact.name, v)  # noqa: E731
            what = self.labeller.fact_label(c.fact.name)
            found = (Message("“{what}” is not declared.", {"what": what}) if value is None
                     else Message("“{what}”: {value}.", {"what": what, "value": show(value)}))
            return Verdict(c.fact.test(value), self._asks(found, c.fact.expected(show)))
        if c.setting is not None:
            label, chosen = self.reading(c.setting)
            inner = self.evaluate(chosen)
            return Verdict(inner.holds, [Message("Reading in use: {reading}.",
                                                 {"reading": label}), *inner.details])
        if c.all_of is not None:
            parts = [self.evaluate(child) for child in c.all_of]
            return Verdict(all(p.holds for p in parts), [d for p in parts for d in p.details])
        if c.any_of is not None:
            parts = [self.evaluate(child) for child in c.any_of]
            if not parts:
                return Verdict(False, [Message("Applies to nobody.")])
            return Verdict(any(p.holds for p in parts), [d for p in parts for d in p.details])
        assert c.not_ is not None
        inner = self.evaluate(c.not_)
        return Verdict(not inner.holds, inner.details)
