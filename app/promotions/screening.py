"""Qualification screening: the declared facts against the scheme's hard and "generally" rules.

A hard rule not met refuses the application. A "generally" rule not met is an exception: the
application goes on only with a written justification, kept with the case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.assessments.rules import RuleBook
from app.assessments.wording import as_data
from app.i18n import Message
from app.promotions.conditions import Evaluator, Record
from app.promotions.eligibility import labeller
from app.promotions.schemes import FactSpec, Scheme

TRUE = {"1", "true", "yes", "on", "y"}
FALSE = {"0", "false", "no", "off", "n", ""}


@dataclass
class Screening:
    """Each qualification's result, the exceptions justified, and what is still missing."""

    results: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, Message] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Every hard rule holds and every exception is justified."""
        return not self.errors

    def to_data(self) -> dict[str, Any]:
        """What the case keeps of its screening."""
        return {"passed": self.passed, "results": self.results}


def exception_field(rule: str) -> str:
    """The form field carrying the justification of an exception to a rule."""
    return f"exception_{rule.lower().replace('.', '_')}"


def clean_fact(spec: FactSpec, raw: Any) -> Any:
    """A declared fact as its typed value, or ValueError carrying a Message."""
    if spec.type == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError(Message("Answer yes or no."))
    if spec.type == "number":
        try:
            value = float(str(raw).strip())
        except ValueError:
            raise ValueError(Message("Enter a number.")) from None
        if spec.min is not None and value < spec.min:
            raise ValueError(Message("At least {n}.", {"n": spec.min}))
        if spec.max is not None and value > spec.max:
            raise ValueError(Message("At most {n}.", {"n": spec.max}))
        return int(value) if value.is_integer() else value
    key = str(raw).strip()
    if key not in spec.choices:
        raise ValueError(Message("Choose one of the offered options."))
    return key


def clean_facts(scheme: Scheme, raw: dict[str, Any]) -> tuple[dict[str, Any],
                                                               dict[str, Message]]:
    """Every declared fact typed, with an error per missing or malformed one."""
    facts: dict[str, Any] = {}
    errors: dict[str, Message] = {}
    for name, spec in scheme.facts.items():
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip() and spec.type != "bool"):
            errors[f"fact_{name}"] = Message("This field is required.")
            continue
        try:
            facts[name] = clean_fact(spec, value)
        except ValueError as exc:
            errors[f"fact_{name}"] = exc.args[0]
    return facts, errors


def screen(scheme: Scheme, book: RuleBook, facts: dict[str, Any],
           justifications: dict[str, str]) -> Screening:
    """Evaluate the qualifications on the facts; refuse hard misses, ask for exceptions' reasons."""
    evaluator = Evaluator(Record(year=0, facts=facts), labeller(scheme, book), scheme.reading)
    screening = Screening()
    for rule in scheme.qualifications:
        verdict = evaluator.evaluate(rule.when)
        key = exception_field(rule.rule)
        justification = (justifications.get(key) or justifications.get(rule.rule) or "").strip()
        result: dict[str, Any] = {
            "rule": rule.rule, "label": rule.label, "strength": rule.strength,
            "passed": verdict.holds, "details": [as_data(m) for m in verdict.details],
        }
        if not verdict.holds and rule.strength == "hard":
            screening.errors[key] = Message("{rule} {label} is required and not met.",
                                            {"rule": rule.rule, "label": rule.label})
        elif not verdict.holds and not justification:
            screening.errors[key] = Message(
                "{rule} {label} is not met: write why an exception is justified.",
                {"rule": rule.rule, "label": rule.label})
        elif not verdict.holds:
            result["exception"] = justification[:5000]
        screening.results.append(result)
    return screening
