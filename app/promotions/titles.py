"""The bank's names for titles, mapped to the schemes' titles (for CSV import and display).

A person's file says "三级" or "高级客户经理"; the schemes know `grade_3` and `senior_cm`.
Each scheme lists its titles' names (key, both labels, aliases); a name that belongs to one
scheme maps on its own, a name several schemes share needs the scheme said ("scheme:name").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from app.i18n import pick_label
from app.org.models import Person
from app.promotions.grades import hold_title, titles_held
from app.promotions.schemes import Scheme, Title, name_key

SEPARATORS = re.compile(r"[;；\n]")


@dataclass(frozen=True)
class HeldTitle:
    """A title of a scheme, as a CSV entry named it."""

    scheme: str
    title: str
    staff_grade: int | None


class TitleBook:
    """Every scheme's titles by every name the bank uses for them."""

    def __init__(self, schemes: dict[str, Scheme]) -> None:
        self.schemes = schemes

    def _scheme(self, text: str) -> Scheme | None:
        wanted = name_key(text)
        return next((s for s in self.schemes.values() if wanted in {
            name_key(s.scheme), name_key(s.label["zh"]), name_key(s.label["en"])}), None)

    def _known(self, scheme: Scheme) -> str:
        return "、".join(t.label["zh"] for t in scheme.titles)

    def resolve(self, entry: str) -> tuple[HeldTitle | None, str]:
        """One entry ("三级", "bocom_post_grades:三级") as a title, or the reason it is not one."""
        text = entry.strip()
        scheme_text, sep, name = text.partition(":") if ":" in text else text.partition("：")
        if sep:
            scheme = self._scheme(scheme_text)
            if scheme is None:
                return None, (f"unknown scheme '{scheme_text.strip()}' in '{text}' (known: "
                              f"{', '.join(sorted(self.schemes))})")
            title = scheme.title_named(name)
            if title is None:
                return None, (f"'{name.strip()}' is not a title of {scheme.scheme} "
                              f"(its titles: {self._known(scheme)})")
            return self._held(scheme, title), ""
        found = [(s, t) for s in self.schemes.values() if (t := s.title_named(text))]
        if not found:
            known = "; ".join(f"{s.scheme}: {self._known(s)}" for s in self.schemes.values())
            return None, f"unknown title '{text}' (titles by scheme: {known})"
        if len(found) > 1:
            return None, (f"'{text}' is a title in several schemes "
                          f"({', '.join(s.scheme for s, _ in found)}): say which in the titles "
                          f"column, e.g. {found[0][0].scheme}:{text}")
        return self._held(*found[0]), ""

    @staticmethod
    def _held(scheme: Scheme, title: Title) -> HeldTitle:
        return HeldTitle(scheme.scheme, title.name, title.staff_grade)

    def parse(self, grade: str | None, titles: str | None) -> tuple[list[HeldTitle], list[str]]:
        """The titles a people.csv row names in its grade and titles columns, with problems."""
        held: dict[str, HeldTitle] = {}
        problems: list[str] = []
        entries = [("grade", grade.strip())] if grade and grade.strip() else []
        entries += [("titles", e.strip()) for e in SEPARATORS.split(titles or "") if e.strip()]
        for column, entry in entries:
            found, why = self.resolve(entry)
            if found is None:
                problems.append(f"{column}: {why}")
                continue
            other = held.get(found.scheme)
            if other is not None and other.title != found.title:
                problems.append(f"{column}: '{entry}' gives {found.scheme} a second title "
                                f"({other.title} and {found.title})")
                continue
            held[found.scheme] = found
        return list(held.values()), problems

    def hold(self, session: Session, person: Person, titles: list[HeldTitle],
             on: date | None = None) -> bool:
        """Record the titles for the person (history rows only where something changes)."""
        changed = False
        for item in titles:
            changed |= hold_title(session, person=person, scheme=item.scheme, title=item.title,
                                  staff_grade=item.staff_grade, on=on, source="import")
        return changed


def default_title_book(registry: Any = None) -> TitleBook:
    """The title book of the schemes in use."""
    from app.promotions.schemes import schemes_of

    return TitleBook(schemes_of(registry))


def titles_view(session: Session, person: Person, schemes: dict[str, Scheme], locale: str
                ) -> list[dict[str, str]]:
    """The person's titles, one per scheme, in the reader's language (no keys shown)."""
    out = []
    for name, title in sorted(titles_held(session, person_id=person.id).items()):
        scheme = schemes.get(name)
        held = scheme.title(title) if scheme else None
        if scheme is None or held is None:
            continue
        out.append({"scheme_label": pick_label(scheme.label, locale),
                    "title_label": pick_label(held.label, locale)})
    return out
