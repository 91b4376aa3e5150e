"""The staffing quota page for HR: every branch's headcount, one branch's figures and the
headcount explained line by line (amounts entered in 万元, as branch reports give them)."""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import clock
from app.errors import NotAllowed, ValidationFailed
from app.i18n import N_, Message, gettext_for, pick_label
from app.org.models import Person
from app.promotions import service, staffing_service
from app.promotions.schemes import Scheme
from app.promotions.staffing_presenters import report_view
from app.web.deps import CurrentUser, FormDep, GettextDep, LocaleDep, SessionDep
from app.web.forms import FieldView, FormState
from app.web.sessions import flash
from app.web.templating import render

router = APIRouter(include_in_schema=False)
TEN_THOUSAND = 10_000  # the form takes 万元; the figures are kept in CNY
LIST_SPLIT = re.compile(r"[\s,，;；、]+")
MONEY_FIELDS = ("asset_liability_size", "corporate_deposit_growth",
                "corporate_risk_asset_growth")
LINE_FIELDS = ("sme_credit_lines_start", "sme_credit_lines_end")
LABELS = {
    "second_level_units": N_("Second-level units"),
    "asset_liability_size": N_("Corporate assets and liabilities (CNY 10,000)"),
    "corporate_deposit_growth": N_("Growth of corporate deposits in the year (CNY 10,000)"),
    "corporate_risk_asset_growth": N_("Growth of corporate risk assets in the year "
                                      "(CNY 10,000)"),
    "sme_credit_lines_start": N_("Credit lines of credit clients at the start of the year "
                                 "(CNY 10,000)"),
    "sme_credit_lines_end": N_("Credit lines of credit clients at the end of the year "
                               "(CNY 10,000)"),
    "first_year": N_("A new branch in its first year"),
}
HELP = {
    "second_level_units": N_("Leave empty to count them from the organisation tree "
                             "({count} now: {names})."),
    "sme_credit_lines_start": N_("One amount per client, separated by spaces, commas or new "
                                 "lines; the SME definition decides which clients count."),
    "sme_credit_lines_end": N_("One amount per client, as at the start of the year."),
    "first_year": N_("The first year counts units only."),
}


def _schemes(request: Request) -> list[Scheme]:
    return [s for s in service.schemes_for_display(request.app.state.registry) if s.staffing]


def _shown(value: float | None) -> str:
    if value is None:
        return ""
    text = f"{value / TEN_THOUSAND:.4f}".rstrip("0").rstrip(".")
    return text


def _form_values(branch: dict[str, Any] | None) -> dict[str, str]:
    if branch is None:
        return {}
    f = branch["figures"]
    return {
        "second_level_units": "" if f["counted_from_tree"] else str(f["second_level_units"]),
        **{name: _shown(f[name]) for name in MONEY_FIELDS},
        **{name: "\n".join(_shown(v) for v in f[name]) for name in LINE_FIELDS},
        "first_year": "true" if f["first_year"] else "",
    }


def _fields(locale: str, state: FormState, branch: dict[str, Any] | None) -> list[FieldView]:
    gettext = gettext_for(locale)
    values = state.values or _form_values(branch)
    units = branch["figures"]["units"] if branch else []
    help_texts = {name: gettext(msgid) for name, msgid in HELP.items()}
    help_texts["second_level_units"] = help_texts["second_level_units"].format(
        count=len(units), names="、".join(units) if locale.startswith("zh") else ", ".join(units))
    kinds = {"second_level_units": "number", "first_year": "bool",
             **dict.fromkeys(MONEY_FIELDS, "number"),
             **dict.fromkeys(LINE_FIELDS, "textarea")}
    return [FieldView(name=name, label=gettext(LABELS[name]), type=kinds[name],
                      value=values.get(name, ""), error=state.errors.get(name, ""),
                      help=help_texts.get(name, ""), min=0 if name == "second_level_units"
                      or name == "asset_liability_size" else None,
                      max_length=20000 if name in LINE_FIELDS else None)
            for name in LABELS]


def _page(request: Request, db: Session, user: Person, locale: str, scheme: str | None,
          year: int | None, branch: str | None, state: FormState | None = None,
          status_code: int = 200) -> Response:
    if not staffing_service.may_view_staffing(db, user):
        raise NotAllowed("Only HR may see the staffing quota.")
    schemes = _schemes(request)
    if not schemes:
        return render(request, "promotions/staffing.html", {"schemes": [], "report": None})
    chosen = next((s for s in schemes if s.scheme == scheme), schemes[0])
    found = staffing_service.report(db, scheme=chosen.scheme, viewer=user, year=year,
                                    registry=request.app.state.registry)
    view = report_view(db, found, locale)
    selected = next((b for b in view["branches"] if b["branch_code"] == branch), None)
    state = state or FormState()
    return render(request, "promotions/staffing.html", {
        "schemes": [(s.scheme, pick_label(s.label, locale)) for s in schemes],
        "report": view, "selected": selected,
        "fields": _fields(locale, state, selected) if selected else [],
        "message": state.message}, status_code=status_code)


@router.get("/promotions/staffing")
def staffing_page(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
                  scheme: str | None = Query(default=None, max_length=60),
                  year: int | None = Query(default=None, ge=2000, le=2100),
                  branch: str | None = Query(default=None, max_length=40)) -> Response:
    """HR: the headcount of every branch in the area, one branch's figures and explanation."""
    return _page(request, db, user, locale, scheme, year, branch)


def _number(text: str, name: str, errors: dict[str, Message], *, whole: bool = False,
            scale: float = 1) -> float | int | None:
    text = text.strip().replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[name] = Message("Enter a number.")
        return None
    if not math.isfinite(value) or abs(value) > 1e11:
        errors[name] = Message("Enter a number.")
        return None
    if whole and (value < 0 or not value.is_integer()):
        errors[name] = Message("Enter a whole number, 0 or more.")
        return None
    return int(value) if whole else value * scale


def _amounts(text: str, name: str, errors: dict[str, Message]) -> list[float]:
    out = []
    for part in (p for p in LIST_SPLIT.split(text.strip()) if p):
        try:
            value = float(part)
        except ValueError:
            errors[name] = Message("“{part}” is not an amount.", {"part": part})
            return []
        if not math.isfinite(value) or value < 0 or value > 1e11:
            errors[name] = Message("“{part}” is not an amount.", {"part": part})
            return []
        out.append(value * TEN_THOUSAND)
    return out


def parse_figures(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, Message]]:
    """The form's figures in CNY, or a message per field that is not a number."""
    errors: dict[str, Message] = {}
    values: dict[str, Any] = {
        "second_level_units": _number(form.get("second_level_units", ""),
                                      "second_level_units", errors, whole=True),
        **{name: _number(form.get(name, ""), name, errors, scale=TEN_THOUSAND)
           for name in MONEY_FIELDS},
        **{name: _amounts(form.get(name, ""), name, errors) for name in LINE_FIELDS},
        "first_year": form.get("first_year", "").lower() in ("true", "on", "1", "yes"),
    }
    if values["asset_liability_size"] is not None and values["asset_liability_size"] < 0:
        errors["asset_liability_size"] = Message("Enter a number, 0 or more.")
    return values, errors


@router.post("/promotions/staffing")
def save(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
         gettext: GettextDep, form: FormDep) -> Response:
    """Keep a branch's figures; the same page with the input and the errors when one is wrong."""
    scheme, branch = form.get("scheme", ""), form.get("branch", "")
    year = int(form["year"]) if form.get("year", "").isdigit() else clock.today().year
    values, errors = parse_figures(dict(form))
    if errors:
        failure = ValidationFailed("Please correct the marked fields.", field_errors=errors)
        return _page(request, db, user, locale, scheme, year, branch,
                     FormState.from_error(failure, dict(form), gettext), status_code=422)
    staffing_service.save_figures(db, scheme=scheme, branch_code=branch, year=year,
                                  values=values, actor=user, registry=request.app.state.registry)
    flash(request, Message("The figures are saved; the headcount below is computed from them."))
    return RedirectResponse(f"/promotions/staffing?scheme={scheme}&year={year}&branch={branch}"
                            "#quota", status_code=303)
