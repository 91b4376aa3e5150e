"""Org units as plain rows: cheap to load by the thousand, and they outlive the session."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """A unit as reports and checks read it (the columns of OrgUnit they need)."""

    id: int
    code: str
    name: str
    name_en: str
    kind: str
    parent_id: int | None
    path: str
