"""The message catalogues: every msgid has a Chinese translation, and the app uses them.

New strings in the code reach the catalogues with `scripts/i18n.sh extract && update`;
`scripts/i18n.sh check` lists strings in the code that have no translation yet.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.i18n import gettext_for, negotiate, pick_label

PROJECT = Path(__file__).resolve().parent.parent.parent
LOCALE_DIR = PROJECT / "app" / "locale"
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}|%\([a-z_]+\)s")


def _catalogue(locale: str):
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def _messages(locale: str):
    return [m for m in _catalogue(locale) if m.id]


def test_every_chinese_msgid_is_translated_and_none_is_fuzzy():
    untranslated = [m.id for m in _messages("zh_CN") if not m.string]
    fuzzy = [m.id for m in _messages("zh_CN") if m.fuzzy]
    assert untranslated == [], f"untranslated in zh_CN: {untranslated}"
    assert fuzzy == [], f"fuzzy in zh_CN: {fuzzy}"


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A message's singular and plural forms (ngettext entries have several)."""
    return (text,) if isinstance(text, str) else tuple(text)


def test_chinese_translations_keep_every_placeholder():
    broken = [
        (m.id, m.string) for m in _messages("zh_CN")
        if any(sorted(PLACEHOLDER.findall(_forms(m.id)[-1])) != sorted(PLACEHOLDER.findall(form))
               for form in _forms(m.string))
    ]
    assert broken == []


def test_english_catalogue_leaves_msgstr_empty_so_msgids_show():
    assert [m.id for m in _messages("en") if any(_forms(m.string))] == []
    assert {m.id for m in _messages("en")} == {m.id for m in _messages("zh_CN")}


def test_compiled_catalogue_translates_a_known_string():
    assert gettext_for("zh_CN")("Please correct the marked fields.") == "请更正标出的字段。"
    assert gettext_for("en")("Please correct the marked fields.") == (
        "Please correct the marked fields."
    )


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
    ("en-US,en;q=0.9", "en"),
    ("fr-FR,en;q=0.5", "en"),
    ("de", "zh_CN"),
    (None, "zh_CN"),
])
def test_browser_language_is_negotiated_with_a_default(header, expected):
    assert negotiate(header, "zh_CN") == expected


def test_workflow_labels_are_picked_in_the_readers_language():
    labels = {"en": "Send back", "zh": "退回"}
    assert pick_label(labels, "zh_CN") == "退回"
    assert pick_label(labels, "en") == "Send back"
