"""Counted words go through ngettext: "1 plan", "2 plans"; Chinese has one form."""

from __future__ import annotations

from app.i18n import gettext_for, plural_message, translations
from app.web.templating import make_environment


def _render(source: str, locale: str, **context: object) -> str:
    template = make_environment().from_string(source)
    return template.render(translations=translations(locale), **context)


def test_templates_count_plans_in_the_right_form() -> None:
    source = "{% trans count=n %}{{ count }} plan{% pluralize %}{{ count }} plans{% endtrans %}"
    assert _render(source, "en", n=1) == "1 plan"
    assert _render(source, "en", n=3) == "3 plans"
    assert _render(source, "zh_CN", n=1) == "共 1 项计划"


def test_messages_with_a_count_pick_singular_or_plural_when_shown() -> None:
    one = plural_message("Not {stars} star, because:", "Not {stars} stars, because:", 1, stars=1)
    four = plural_message("Not {stars} star, because:", "Not {stars} stars, because:", 4,
                          stars=4)
    assert one.render(gettext_for("en")) == "Not 1 star, because:"
    assert four.render(gettext_for("en")) == "Not 4 stars, because:"
    assert one.render(gettext_for("zh_CN")) == "未达到1星，原因："
    # a catalogue's own bound gettext (as templates pass it) finds ngettext too
    assert four.render(translations("en").gettext) == "Not 4 stars, because:"
    assert str(one) == "Not 1 star, because:"
