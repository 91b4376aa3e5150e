"""Names and labels in the reader's language: people, units, roles, workflow items."""

from __future__ import annotations

from app.engine import actors as actor_exprs
from app.engine.definitions import Vocabulary
from app.i18n import N_, gettext_for, pick_label
from app.org.models import OrgUnit, Person

UNIT_LEVEL_LABELS = {
    "unit": N_("own unit"),
    "sub_branch": N_("sub-branch"),
    "branch": N_("branch"),
    "province": N_("provincial branch"),
    "head_office": N_("head office"),
    "supervising_branch": N_("supervising branch"),
}
PERSON_LABELS = {
    ("subject", 0): N_("Employee"),
    ("subject", 1): N_("Supervisor"),
    ("subject", 2): N_("Supervisor's supervisor"),
    ("initiator", 0): N_("Initiator"),
    ("initiator", 1): N_("Initiator's supervisor"),
}


def person_name(person: Person | None, locale: str) -> str:
    """A person's name in the reader's language."""
    if person is None:
        return ""
    return person.name if locale == "zh_CN" or not person.name_en else person.name_en


def unit_name(unit: OrgUnit | None, locale: str) -> str:
    """An org unit's name in the reader's language."""
    if unit is None:
        return ""
    return unit.name if locale == "zh_CN" or not unit.name_en else unit.name_en


def seat_label(kind: str, name: str, vocabulary: Vocabulary, locale: str) -> str:
    """A role's or committee's label from organisation.yaml (its name when unknown)."""
    known = vocabulary.roles if kind == "role" else vocabulary.committees
    return pick_label(known.get(name), locale) or name


def actor_label(expr: str, vocabulary: Vocabulary, locale: str) -> str:
    """An actor expression in words: 'Supervisor', 'HR (branch)'."""
    gettext = gettext_for(locale)
    try:
        ref = actor_exprs.parse(expr)
    except ValueError:
        return expr
    if isinstance(ref, actor_exprs.PersonRef):
        msgid = PERSON_LABELS.get((ref.base, ref.hops))
        return gettext(msgid) if msgid else expr
    level = UNIT_LEVEL_LABELS.get(ref.unit.level)
    where = gettext(level) if level else ref.unit.level
    # Chinese takes full-width brackets: 人力资源部（分行）
    return gettext("{seat} ({where})").format(
        seat=seat_label(ref.kind, ref.name, vocabulary, locale), where=where)
