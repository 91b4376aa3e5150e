"""Star rating (DOMAIN §3): entry filter, the highest band whose conditions all hold, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.assessments.rules import load_rules
from app.assessments.stars import rate
from app.assessments.wording import localise

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
METRICS = ("maturing_loan_collection", "interest_collection", "annual_interest_income",
           "avg_daily_deposits", "avg_monthly_loans")
# Each band's thresholds exactly, from the §3 table.
EXACT = {
    5: (100, 99, 1_500_000, 6_000_000, 10_000_000),
    4: (99, 98, 1_000_000, 5_000_000, 9_000_000),
    3: (98.5, 97, 800_000, 4_000_000, 8_000_000),
    2: (98, 96, 600_000, 3_000_000, 7_000_000),
}
REWARD = {5: 1500, 4: 1000, 3: 800, 2: 500, 1: 0}


@pytest.fixture(scope="module")
def rules():
    return load_rules(WORKFLOWS).stars


def values(stars: int, **override: float) -> dict[str, float]:
    return {**dict(zip(METRICS, EXACT[stars], strict=True)), **override}


@pytest.mark.parametrize("stars", [5, 4, 3, 2])
def test_a_result_exactly_at_a_bands_thresholds_earns_that_band(rules, stars: int) -> None:
    rating = rate(values(stars), rules)
    assert (rating.stars, rating.reward) == (stars, REWARD[stars])


@pytest.mark.parametrize("stars", [5, 4, 3, 2])
@pytest.mark.parametrize("metric", METRICS)
def test_just_below_one_threshold_drops_a_band_and_names_that_condition(
    rules, stars: int, metric: str
) -> None:
    below = values(stars, **{metric: values(stars)[metric] - 0.01})
    rating = rate(below, rules)
    assert rating.stars == stars - 1
    assert [check.metric for check in rating.deciding] == [metric]


def test_five_stars_needs_every_maturing_loan_collected(rules) -> None:
    rating = rate(values(5, maturing_loan_collection=99.99), rules)
    assert rating.stars == 4
    assert [c.metric for c in rating.deciding] == ["maturing_loan_collection"]
    text = [localise(m, "en") for m in rating.explanation()]
    assert text[0].startswith("4 stars")
    assert text[1] == "Not 5 stars, because:"
    assert text[2] == "Maturing-loan collection rate 99.99% misses ≥ 100%."


def test_one_star_needs_only_a_million_of_average_daily_deposits(rules) -> None:
    assert rate({"avg_daily_deposits": 1_000_000}, rules).stars == 1
    rating = rate({"avg_daily_deposits": 999_999.99}, rules)
    assert rating.stars == 0 and rating.admitted
    assert [c.metric for c in rating.deciding] == ["avg_daily_deposits"]
    first = localise(rating.explanation()[0], "en")
    assert first == "No stars: no band has all its conditions met."


def test_one_star_is_neither_rewarded_nor_penalised(rules) -> None:
    rating = rate({"avg_daily_deposits": 2_000_000, "maturing_loan_collection": 100}, rules)
    assert (rating.stars, rating.reward) == (1, 0)


@pytest.mark.parametrize("loan", ["liability_loans", "violating_loans"])
def test_a_liability_or_rule_violating_loan_excludes_from_every_band(rules, loan: str) -> None:
    rating = rate({**values(5), loan: 1}, rules)
    assert (rating.stars, rating.admitted) == (0, False)
    text = [localise(m, "en") for m in rating.explanation()]
    assert text[0].startswith("No stars: the entry filter excludes this result")
    assert "misses ≤ 0" in text[1]


def test_the_highest_band_whose_conditions_all_hold_wins(rules) -> None:
    # meets 4-star deposits and loans but only 2-star interest income: 2 stars
    rating = rate(values(4, annual_interest_income=650_000), rules)
    assert rating.stars == 2
    assert [c.metric for c in rating.deciding] == ["annual_interest_income"]


def test_a_metric_not_recorded_fails_the_bands_that_need_it(rules) -> None:
    rating = rate(values(3, interest_collection=None), rules)
    assert rating.stars == 1
    assert "not recorded" in localise(rating.deciding[0].message(), "en")


def test_the_explanation_reads_in_chinese(rules) -> None:
    rating = rate(values(4, interest_collection=98.5), rules)
    text = [localise(m, "zh_CN") for m in rating.explanation()]
    assert any("利息收回率" in line for line in text)
