"""The staffing quota in the reader's language: one shape for the HR page, the API and the CLI."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.assessments.wording import localise, number
from app.i18n import Message, pick_label
from app.promotions.staffing import Line
from app.promotions.staffing_service import BranchQuota, StaffingReport, parents_of
from app.web.labels import unit_name


def _value(value: Any, locale: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, Message):
        return localise(value, locale)
    if isinstance(value, dict):
        return pick_label(value, locale)
    if isinstance(value, int | float):
        return number(value)
    return str(value)


def line_view(line: Line, locale: str) -> dict[str, Any]:
    """One explanation line as text."""
    return {"key": line.key, "label": _value(line.label, locale),
            "value": _value(line.value, locale),
            "explanation": localise(line.explanation, locale), "met": line.met}


def branch_view(b: BranchQuota, locale: str) -> dict[str, Any]:
    """A branch's quota with its figures and lines."""
    f = b.figures
    return {
        "branch_code": b.branch.code, "branch_name": unit_name(b.branch, locale),
        "headcount": b.quota.headcount, "base": b.quota.base, "volume": b.quota.volume,
        "uplift": b.quota.uplift,
        "figures": {
            "second_level_units": f.second_level_units,
            "counted_from_tree": not (b.stored and b.stored.second_level_units is not None),
            "units": [unit_name(u, locale) for u in b.units],
            "asset_liability_size": f.asset_liability_size,
            "corporate_deposit_growth": f.corporate_deposit_growth,
            "corporate_risk_asset_growth": f.corporate_risk_asset_growth,
            "sme_credit_lines_start": f.sme_credit_lines_start,
            "sme_credit_lines_end": f.sme_credit_lines_end, "first_year": f.first_year},
        "lines": [line_view(line, locale) for line in b.quota.lines],
        "missing": list(dict.fromkeys(b.quota.missing)),
    }


def report_view(db: Session, found: StaffingReport, locale: str) -> dict[str, Any]:
    """Every branch and the roll-up."""
    parents = parents_of(db, [b.branch for b in found.branches])
    return {
        "scheme": found.scheme.scheme, "scheme_label": pick_label(found.scheme.label, locale),
        "rule": found.formula.rule, "year": found.year,
        "formula_label": pick_label(found.formula.label, locale),
        "per_unit": number(found.formula.per_unit),
        "branches": [branch_view(b, locale) for b in found.branches],
        "rollup": [{"unit_code": unit.code, "unit_name": unit_name(unit, locale),
                    "branches": count, "headcount": headcount}
                   for unit, count, headcount in found.rollup(parents)],
        "total": found.total,
    }
