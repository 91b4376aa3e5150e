"""Scheme files: the shipped ones load; a broken one is refused naming its file and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import DefinitionError
from app.promotions.schemes import check_directory, load_schemes
from tests.promotion_helpers import copy_workflows

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"

BASE = """\
scheme: broken_example
label: {en: Example, zh: 示例}
titles:
  - {name: junior, label: {en: Junior, zh: 初级}, tier: junior, aliases: [初]}
  - {name: senior, label: {en: Senior, zh: 高级}, tier: junior}
window: {opens: "03-01", closes: "03-31"}
skip_level:
  rule: S.1
  label: {en: Skip-level, zh: 越级}
  requires: {fact: {name: outstanding_contribution, equals: true}}
  first_appointment: [junior]
facts:
  healthy: {type: bool, label: {en: Healthy, zh: 健康}}
qualifications:
  - {rule: Q1, label: {en: Healthy, zh: 健康}, strength: hard,
     when: {fact: {name: healthy, equals: true}}}
settings:
  reading:
    label: {en: Reading, zh: 理解}
    default: strict
    choices:
      strict: {label: {en: Strict, zh: 严格}, when: {quarters: {level_at_most: 1, at_least: 4}}}
      loose: {label: {en: Loose, zh: 宽松}, when: {quarters: {level_at_most: 2, at_least: 2}}}
blocks:
  - {rule: B.1, label: {en: Block, zh: 限制}, when: {annual: {field: targets_met, equals: false}}}
caps:
  - {rule: C.1, label: {en: Cap, zh: 上限}, when: {flag: {name: outstanding_contribution}},
     highest: junior}
eligibility:
  senior:
    - {rule: X.1, label: {en: Rule, zh: 规则}, when: {setting: reading}}
routes:
  junior: {workflow: promotion_pf_junior, filing: ["role:head_office_filing@head_office"]}
"""

BROKEN = {
    "unknown_setting": (("when: {setting: reading}}", "when: {setting: readnig}}"),
                        "eligibility.senior[0].when.setting: unknown setting 'readnig'"),
    "default_not_a_choice": (("default: strict", "default: strictest"),
                             "settings.reading.default: 'strictest' is not one of its choices"),
    "cap_unknown_title": (("highest: junior", "highest: chief"),
                          "caps[0].highest: unknown title 'chief'"),
    "tier_without_route": (("tier: junior}\nwindow", "tier: senior}\nwindow"),
                           "titles[1].tier: no route for tier 'senior' (add routes.senior)"),
    "unknown_workflow": (("workflow: promotion_pf_junior", "workflow: promotion_nowhere"),
                         "routes.junior.workflow: no workflow file defines 'promotion_nowhere'"),
    "bad_window": (('opens: "03-01"', 'opens: "3-1"'),
                   'window.opens: write the date as "MM-DD"'),
    "impossible_day": (('closes: "03-31"', 'closes: "02-30"'),
                       "window.closes: '02-30' is not a day of the year"),
    "two_kinds_in_one_condition": (
        ("when: {setting: reading}}", "when: {setting: reading, flag: {name: x}}}"),
        "eligibility.senior[0].when: a condition has exactly one of"),
    "two_counts": (("{level_at_most: 1, at_least: 4}",
                    "{level_at_most: 1, at_least: 4, exactly: 2}"),
                   "settings.reading.choices.strict.when.quarters: give exactly one of "
                   "'at_least', 'exactly', 'consecutive'"),
    "unknown_fact": (("{fact: {name: healthy,", "{fact: {name: wealthy,"),
                     "qualifications[0].when.fact.name: unknown fact 'wealthy'"),
    "unknown_annual_field": (("field: targets_met", "field: clients"),
                             "blocks[0].when.annual.field: unknown field 'clients'"),
    "unknown_flag": (("{name: outstanding_contribution}", "{name: heroism}"),
                     "caps[0].when.flag.name: unknown flag 'heroism'"),
    "typo_key": (("eligibility:", "eligibilty:"), "eligibilty: Extra inputs are not permitted"),
    "missing_chinese_label": (("label: {en: Example, zh: 示例}", "label: {en: Example}"),
                              "label: label needs both 'en' and 'zh' (missing: zh)"),
    "unknown_filing_role": (("role:head_office_filing@head_office", "role:archivist@head_office"),
                            "routes.junior.filing[0]: unknown role 'archivist'"),
    "bad_strength": (("strength: hard", "strength: usually"),
                     "qualifications[0].strength: Input should be 'hard' or 'generally'"),
    "malformed_yaml": (("titles:\n", "titles: [\n"), "malformed YAML"),
    "alias_names_two_titles": (("aliases: [初]", "aliases: [高级]"),
                               "titles[1]: '高级' names both 'junior' and 'senior'"),
    "first_appointment_unknown": (("first_appointment: [junior]",
                                   "first_appointment: [chief]"),
                                  "skip_level.first_appointment: unknown title 'chief'"),
    "skip_level_unknown_fact": (("{fact: {name: outstanding_contribution, equals: true}}",
                                 "{fact: {name: heroism, equals: true}}"),
                                "skip_level.requires.fact.name: unknown fact 'heroism'"),
    "block_years_backwards": (("when: {annual: {field: targets_met, equals: false}}}",
                               "when: {annual: {field: targets_met, equals: false}},\n"
                               "     years: {from: 2014, to: 2012}}"),
                              "blocks[0].years: 'from' must not be after 'to'"),
}


def test_exits_and_staffing_are_checked_against_their_workflow(tmp_path: Path) -> None:
    root = copy_workflows(tmp_path / "wf")
    extra = BASE + """exits:
  team: {workflow: promotion_nowhere, label: {en: Leaving, zh: 退出}, reasons: {a: {en: A, zh: 甲}}}
staffing:
  label: {en: Quota, zh: 编制}
  volume_divisor: 0
  sme_credit_line: {gte: 5, gt: 4}
"""
    (root / "promotion" / "scheme_example.yaml").write_text(extra, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_schemes(root)
    text = "\n".join(caught.value.problems)
    assert "staffing.volume_divisor: Input should be greater than 0" in text
    assert "give 'gte' or 'gt', not both" in text


def test_the_shipped_schemes_load() -> None:
    assert sorted(load_schemes(WORKFLOWS)) == [
        "bocom_post_grades", "bocom_private_finance_2002", "corporate_cm_2012"]


def test_the_base_example_is_valid(tmp_path: Path) -> None:
    root = copy_workflows(tmp_path / "wf")
    (root / "promotion" / "scheme_example.yaml").write_text(BASE, encoding="utf-8")
    assert "broken_example" in load_schemes(root)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_scheme_is_refused_with_a_message_naming_file_and_path(
    tmp_path: Path, name: str
) -> None:
    (old, new), expected = BROKEN[name]
    assert old in BASE
    root = copy_workflows(tmp_path / "wf")
    (root / "promotion" / "scheme_example.yaml").write_text(BASE.replace(old, new, 1),
                                                             encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_schemes(root)
    problems = caught.value.problems
    assert all(p.startswith("promotion/scheme_example.yaml: ") for p in problems), problems
    assert any(expected in p for p in problems), problems


def test_two_files_may_not_define_the_same_scheme(tmp_path: Path) -> None:
    root = copy_workflows(tmp_path / "wf")
    (root / "promotion" / "scheme_one.yaml").write_text(BASE, encoding="utf-8")
    (root / "promotion" / "scheme_two.yaml").write_text(BASE, encoding="utf-8")
    with pytest.raises(DefinitionError, match="already defined in promotion/scheme_one.yaml"):
        load_schemes(root)


def test_the_directory_check_lists_the_problems_and_nothing_when_all_is_well(tmp_path: Path):
    assert check_directory(WORKFLOWS) == []
    root = copy_workflows(tmp_path / "wf")
    (root / "promotion" / "scheme_example.yaml").write_text(
        BASE.replace("highest: junior", "highest: chief"), encoding="utf-8")
    assert check_directory(root) == [
        "promotion/scheme_example.yaml: caps[0].highest: unknown title 'chief'"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_directory(empty) == []
