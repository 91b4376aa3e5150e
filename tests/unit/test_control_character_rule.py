"""The check that refuses control characters and the pattern the API document states are one
rule: they refuse exactly the same characters."""

from __future__ import annotations

import re

from app.text import STORABLE_PATTERN, has_control_characters
from app.web.text import TEXT_PATTERN

SURROGATES = range(0xD800, 0xE000)


def test_the_documented_pattern_refuses_exactly_what_the_check_refuses() -> None:
    pattern = re.compile(STORABLE_PATTERN)
    differ = [hex(code) for code in range(0x110000) if code not in SURROGATES
              and has_control_characters(chr(code)) == bool(pattern.fullmatch(chr(code)))]
    assert differ == []


def test_tab_line_feed_and_carriage_return_are_text_and_lone_surrogates_are_not() -> None:
    assert re.fullmatch(STORABLE_PATTERN, "第一行\r\n\t第二行 😀") is not None
    assert not has_control_characters("第一行\r\n\t第二行 😀")
    assert has_control_characters("\ud800") and has_control_characters("a\x00b")


def test_the_text_fields_pattern_is_the_same_rule_with_a_stray_bom_besides() -> None:
    for text in ("a\x00", "a\x1b", "a\x7f", "a\x9f", "\ufeffa"):
        assert re.fullmatch(TEXT_PATTERN, text) is None
    assert re.fullmatch(TEXT_PATTERN, "客户满意率\n") is not None
