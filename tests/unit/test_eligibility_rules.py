"""Eligibility rules of the three schemes (DOMAIN §4), each ambiguous reading as its setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.assessments.rules import load_rules
from app.assessments.wording import localise
from app.promotions.conditions import Record
from app.promotions.eligibility import Eligibility, evaluate
from app.promotions.schemes import load_schemes
from app.promotions.screening import screen

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
YEAR = 2025


@pytest.fixture(scope="module")
def book():
    return load_rules(WORKFLOWS)


@pytest.fixture(scope="module")
def schemes():
    return load_schemes(WORKFLOWS)


@pytest.fixture(scope="module")
def corporate(schemes):
    return schemes["corporate_cm_2012"]


def record(levels: list[int | None], *, annual: dict | None = None, flags: set[str] = frozenset(),
           previous: dict | None = None) -> Record:
    found = Record(year=YEAR)
    found.quarters[YEAR] = {q: lvl for q, lvl in enumerate(levels, 1) if lvl is not None}
    found.annual[YEAR] = annual or {}
    if previous:
        found.annual[YEAR - 1] = previous
    found.flags[YEAR] = set(flags)
    return found


def titles(result: Eligibility) -> list[str]:
    return [v.title.name for v in result.eligible]


def why_not(result: Eligibility, title: str) -> list[str]:
    verdict = result.verdict(title)
    assert verdict is not None
    return [c.rule for c in verdict.why_not]


def test_the_ambiguous_rules_of_scheme_a_are_settings_with_the_sources_defaults(corporate):
    defaults = {name: s.chosen for name, s in corporate.settings.items()}
    assert defaults == {
        "senior_level1_quarters_reading": "at_least_two",
        "cm_level_reading": "every_quarter",
        "level5_reading": "any_quarter",
        "block_applies_to_year": "same",
    }


def test_all_four_quarters_at_level_1_with_a_major_marketing_achievement_open_chief(
    corporate, book
) -> None:
    result = evaluate(corporate, book, record([1, 1, 1, 1],
                                              flags={"major_marketing_achievement"}), None)
    assert titles(result) == ["assistant_cm", "cm", "senior_cm", "chief_cm"]


def test_four_level_1_quarters_without_the_achievement_flag_stop_at_senior(corporate, book):
    result = evaluate(corporate, book, record([1, 1, 1, 1]), None)
    assert "chief_cm" not in titles(result)
    assert why_not(result, "chief_cm") == ["A.1"]
    details = [localise(d, "en") for c in result.verdict("chief_cm").why_not for d in c.details]
    assert details == ["In 2025, “Major marketing achievement” is not recorded."]


def test_three_level_1_quarters_do_not_open_chief(corporate, book) -> None:
    result = evaluate(corporate, book, record([1, 1, 1, 2],
                                              flags={"major_marketing_achievement"}), None)
    assert why_not(result, "chief_cm") == ["A.1"]


@pytest.mark.parametrize(("reading", "levels", "senior"), [
    ("at_least_two", [1, 2, 1, 1], True),
    ("at_least_two", [1, 2, 2, 1], True),
    ("at_least_two", [1, 2, 2, 2], False),
    ("exactly_two", [1, 2, 2, 1], True),
    ("exactly_two", [1, 2, 1, 1], False),
    ("two_consecutive", [1, 1, 2, 2], True),
    ("two_consecutive", [1, 2, 1, 2], False),
])
def test_two_quarters_at_level_1_for_senior_under_each_reading(
    corporate, book, reading: str, levels: list[int], senior: bool
) -> None:
    scheme = corporate.with_settings(senior_level1_quarters_reading=reading)
    result = evaluate(scheme, book, record(levels), None)
    assert ("senior_cm" in titles(result)) is senior
    if not senior:
        assert why_not(result, "senior_cm") == ["A.2"]


@pytest.mark.parametrize(("reading", "levels", "annual_level", "cm"), [
    ("every_quarter", [4, 3, 4, 2], None, True),
    ("every_quarter", [4, 3, 4, None], None, False),  # a quarter not assessed
    ("every_quarter", [3, 3, 4, 5], 3, False),
    ("annual", [4, 4, 4, None], 4, True),
    ("annual", [2, 2, 2, 2], None, False),
    ("any_quarter", [5, 5, 5, 4], None, False),  # level 5 caps at assistant anyway
    ("any_quarter", [4, 4, 4, 4], None, True),
])
def test_level_4_or_better_in_the_year_for_cm_under_each_reading(
    corporate, book, reading: str, levels: list, annual_level: int | None, cm: bool
) -> None:
    scheme = corporate.with_settings(cm_level_reading=reading)
    result = evaluate(scheme, book, record(levels, annual={"level": annual_level}), None)
    assert ("cm" in titles(result)) is cm


def test_a_level_5_quarter_allows_only_assistant(corporate, book) -> None:
    result = evaluate(corporate, book, record([1, 1, 1, 5]), None)
    assert titles(result) == ["assistant_cm"]
    assert why_not(result, "senior_cm") == ["A.4"]
    assert "A.4" in why_not(result, "cm")


def test_with_the_annual_reading_a_level_5_quarter_does_not_cap(corporate, book) -> None:
    scheme = corporate.with_settings(level5_reading="annual",
                                     cm_level_reading="any_quarter")
    result = evaluate(scheme, book, record([4, 1, 1, 5], annual={"level": 3}), None)
    assert "senior_cm" in titles(result)
    capped = evaluate(scheme, book, record([4, 1, 1, 5], annual={"level": 5}), None)
    assert titles(capped) == ["assistant_cm"]


def test_a_missed_effective_client_target_blocks_promotion_in_that_year(corporate, book):
    result = evaluate(corporate, book, record([1, 1, 1, 1],
                                              annual={"effective_client_target_met": False}), None)
    assert titles(result) == []
    assert all("A.5" in why_not(result, t.name) for t in corporate.titles)
    text = [localise(d, "zh_CN") for c in result.verdict("cm").why_not for d in c.details]
    assert "评定未完成指标的当年" in text[0]


def test_with_the_next_year_reading_the_miss_blocks_the_following_round(corporate, book):
    scheme = corporate.with_settings(block_applies_to_year="next")
    missed_this_year = record([1, 1, 1, 1], annual={"effective_client_target_met": False})
    assert "senior_cm" in titles(evaluate(scheme, book, missed_this_year, None))
    missed_last_year = record([1, 1, 1, 1], previous={"effective_client_target_met": False})
    assert titles(evaluate(scheme, book, missed_last_year, None)) == []
    assert titles(evaluate(corporate, book, missed_last_year, None)) != []


def test_missed_targets_block_promotion_in_every_scheme(schemes, book) -> None:
    for scheme in schemes.values():
        result = evaluate(scheme, book, record([1, 1, 1, 1], annual={"targets_met": False}), None)
        assert titles(result) == [], scheme.scheme
        assert "§3" in why_not(result, scheme.titles[-1].name)


def test_titles_more_than_one_step_up_are_marked_skip_level_where_the_scheme_has_the_rule(
    schemes, book
) -> None:
    """DOMAIN §3/§4 C: 越级高聘 is the private-finance scheme's; corporate titles are rated."""
    private = schemes["bocom_private_finance_2002"]
    result = evaluate(private, book, record([1, 1, 1, 1]), private.title("assistant_cm"))
    assert {v.title.name: v.skip_level for v in result.titles} == {"cm": False,
                                                                   "senior_cm": True}
    corporate = schemes["corporate_cm_2012"]
    result = evaluate(corporate, book, record([1, 1, 1, 1]), corporate.title("assistant_cm"))
    assert {v.title.name: v.skip_level for v in result.titles} == {
        "cm": False, "senior_cm": False, "chief_cm": False}


def test_titles_at_or_below_the_current_one_are_not_offered(corporate, book) -> None:
    result = evaluate(corporate, book, record([1, 1, 1, 1]), corporate.title("senior_cm"))
    assert [v.title.name for v in result.titles] == ["chief_cm"]


def test_eligibility_reasons_cite_the_rule_and_what_was_found(corporate, book) -> None:
    result = evaluate(corporate, book, record([1, 2, 1, 3]), None)
    reasons = result.verdict("senior_cm").reasons
    a2 = next(c for c in reasons if c.rule == "A.2")
    lines = [localise(d, "en") for d in a2.details]
    assert lines == ["Reading in use: At least two quarters at level 1.",
                     "In 2025, 2 of 4 recorded quarter(s) were at level 1 or better.",
                     "The rule asks for at least 2 such quarter(s)."]


def test_post_grades_map_to_staff_grades(schemes) -> None:
    post = schemes["bocom_post_grades"]
    assert [(t.label["zh"], t.staff_grade) for t in reversed(post.titles)] == [
        ("高级客户经理", 5), ("一级客户经理", 6), ("二级客户经理", 7), ("三级客户经理", 8),
        ("四级客户经理", 9), ("见习客户经理", 9)]


FACTS = {"good_conduct": True, "healthy": True, "education": "bachelor",
         "years_in_banking": 5, "years_in_private_finance": 0, "professional_title": "economist"}


@pytest.mark.parametrize("fact", ["good_conduct", "healthy"])
def test_a_hard_qualification_not_met_refuses_even_with_a_justification(
    schemes, book, fact: str
) -> None:
    scheme = schemes["bocom_private_finance_2002"]
    rule = {"good_conduct": "q1", "healthy": "q2"}[fact]
    result = screen(scheme, book, {**FACTS, fact: False}, {f"exception_{rule}": "特殊情况"})
    assert not result.passed
    assert list(result.errors) == [f"exception_{rule}"]


@pytest.mark.parametrize(("facts", "rule"), [
    ({"education": "secondary"}, "q3"),
    ({"years_in_banking": 2, "years_in_private_finance": 0.5}, "q4"),
    ({"professional_title": "none"}, "q5"),
])
def test_a_generally_qualification_not_met_needs_a_written_justification(
    schemes, book, facts: dict, rule: str
) -> None:
    scheme = schemes["bocom_private_finance_2002"]
    refused = screen(scheme, book, {**FACTS, **facts}, {})
    assert list(refused.errors) == [f"exception_{rule}"]
    accepted = screen(scheme, book, {**FACTS, **facts}, {f"exception_{rule}": "业绩突出，破格"})
    assert accepted.passed
    kept = [r for r in accepted.results if r.get("exception")]
    assert [(r["rule"], r["exception"]) for r in kept] == [(rule.upper(), "业绩突出，破格")]


def test_one_year_in_private_finance_meets_q4_without_three_years_in_banking(schemes, book):
    scheme = schemes["bocom_private_finance_2002"]
    assert screen(scheme, book, {**FACTS, "years_in_banking": 1,
                                 "years_in_private_finance": 1}, {}).passed


@pytest.mark.parametrize(("reading", "subordinate", "outstanding", "via"), [
    ("outstanding_contributors", True, True, True),
    ("outstanding_contributors", True, False, False),
    ("outstanding_contributors", False, True, False),
    ("all_candidates", True, False, True),
    ("all_candidates", False, True, False),
    ("nobody", True, True, False),
])
def test_who_goes_to_the_supervising_branch_first_under_each_reading(
    schemes, book, reading: str, subordinate: bool, outstanding: bool, via: bool
) -> None:
    from app.promotions.conditions import Evaluator
    from app.promotions.eligibility import labeller

    scheme = schemes["bocom_private_finance_2002"].with_settings(
        supervising_branch_first_for=reading)
    route = scheme.routes["senior"]
    facts = {"in_subordinate_branch": subordinate, "outstanding_contribution": outstanding}
    evaluator = Evaluator(Record(year=YEAR, facts=facts), labeller(scheme, book), scheme.reading)
    assert evaluator.evaluate(route.via_supervising_branch).holds is via


def test_the_junior_private_finance_route_never_goes_to_the_supervising_branch(schemes):
    scheme = schemes["bocom_private_finance_2002"]
    assert scheme.routes["junior"].via_supervising_branch is None
    assert scheme.routes["junior"].filing == []
    assert scheme.routes["senior"].filing == ["role:head_office_filing@head_office"]


def test_the_effective_client_block_covers_only_the_years_the_scheme_names(corporate, book):
    """§4 A, LN-P6: the block may be limited to the scheme's years, not only shifted."""
    missed = {"effective_client_target_met": False}
    limited = corporate.model_copy(update={"blocks": [
        b.model_copy(update={"years": b.years.model_copy(update={"from_": 2026, "to": 2027})})
        if b.rule == "A.5" else b for b in corporate.blocks]})
    found = evaluate(limited, book, record([1, 1, 1, 1], annual=missed), None)
    assert "A.5" not in why_not(found, "cm")  # 2025 lies outside 2026–2027
    found = evaluate(corporate, book, record([1, 1, 1, 1], annual=missed), None)
    assert "A.5" in why_not(found, "cm")  # the shipped block covers 2012 on
