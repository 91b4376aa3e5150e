"""Staffing quota (DOMAIN §6), rule by rule, with the corporate scheme's shipped formula:
base = second-level units × 4; volume = corporate assets and liabilities ÷ CNY 400m; the larger
of the two; +1 when two of the uplift conditions hold; SMEs by credit line 5m–20m inclusive;
a new branch's first year by units only; rounding a setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.assessments.wording import localise
from app.promotions.schemes import load_schemes
from app.promotions.staffing import Figures, StaffingFormula, compute, sme_count

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
M = 1_000_000


@pytest.fixture(scope="module")
def formula() -> StaffingFormula:
    formula = load_schemes(WORKFLOWS)["corporate_cm_2012"].staffing
    assert formula is not None
    return formula


def lines(quota, locale: str = "en") -> dict[str, str]:
    return {line.key: localise(line.explanation, locale) for line in quota.lines}


def test_base_is_second_level_units_times_four_when_larger_than_volume(formula) -> None:
    quota = compute(formula, Figures(5, ["一支行"] * 5, asset_liability_size=1_600 * M))
    assert (quota.base, quota.volume, quota.headcount) == (20, 4, 20)
    assert lines(quota)["base"] == "5 unit(s) × 4 = 20"


def test_volume_is_size_over_400m_and_wins_when_larger(formula) -> None:
    quota = compute(formula, Figures(2, asset_liability_size=4_400 * M))
    assert (quota.base, quota.volume, quota.headcount) == (8, 11, 11)
    assert lines(quota)["quota"] == "The larger of base (8) and volume (11): 11"


@pytest.mark.parametrize(("rounding", "expected"), [("floor", 11), ("ceil", 12),
                                                    ("half_up", 12)])
def test_rounding_of_the_volume_is_a_setting(formula, rounding: str, expected: int) -> None:
    chosen = formula.model_copy(update={"rounding": rounding})
    assert compute(chosen, Figures(1, asset_liability_size=4_600 * M)).volume == expected


def test_the_uplift_needs_at_least_two_conditions(formula) -> None:
    one = compute(formula, Figures(3, asset_liability_size=0,
                                   corporate_deposit_growth=250 * M,
                                   corporate_risk_asset_growth=150 * M))
    assert (one.uplift, one.headcount) == (0, 12)
    two = compute(formula, Figures(3, asset_liability_size=0,
                                   corporate_deposit_growth=250 * M,
                                   corporate_risk_asset_growth=200 * M))
    assert (two.uplift, two.headcount) == (1, 13)
    met = [line.met for line in two.lines if line.key.startswith("uplift:")]
    assert met == [True, True, False]
    assert lines(two)["uplift"] == "2 of 3 condition(s) hold; 2 needed: +1"


def test_an_sme_has_a_credit_line_from_5m_to_20m_both_ends_included(formula) -> None:
    assert sme_count(formula, [5 * M, 20 * M, 12 * M]) == 3
    assert sme_count(formula, [4.99 * M, 20.01 * M, 1 * M, 50 * M]) == 0


def test_sme_growth_of_ten_counts_towards_the_uplift(formula) -> None:
    start = [6 * M] * 4 + [30 * M] * 5
    end = [6 * M] * 14 + [30 * M] * 2
    quota = compute(formula, Figures(1, asset_liability_size=0, corporate_deposit_growth=200 * M,
                                     sme_credit_lines_start=start, sme_credit_lines_end=end))
    assert quota.uplift == 1
    sme = next(line for line in quota.lines if line.key == "sme")
    assert sme.value == 10
    assert "from CNY 5m to CNY 20m, both ends included" in localise(sme.explanation, "en")
    assert "500万元" in localise(sme.explanation, "zh_CN")


def test_a_new_branch_in_its_first_year_counts_units_only(formula) -> None:
    quota = compute(formula, Figures(3, asset_liability_size=8_000 * M, first_year=True,
                                     corporate_deposit_growth=900 * M,
                                     corporate_risk_asset_growth=900 * M))
    assert (quota.headcount, quota.volume, quota.uplift) == (12, None, 0)
    assert lines(quota)["quota"] == "First year of a new branch: by units only, 12."


def test_missing_figures_are_named_and_not_guessed(formula) -> None:
    quota = compute(formula, Figures(2))
    assert quota.headcount == 8
    assert set(quota.missing) >= {"asset_liability_size", "corporate_deposit_growth"}
    assert "not given" in lines(quota)["volume"]


def test_the_explanation_reads_in_chinese_with_amounts_in_yi_yuan(formula) -> None:
    quota = compute(formula, Figures(2, asset_liability_size=4_400 * M))
    assert lines(quota, "zh_CN")["volume"].startswith("44亿元 ÷ 4亿元 = 11")
