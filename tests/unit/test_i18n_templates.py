"""Templates: autoescaped, translated per render, form macros in the reader's language."""

from __future__ import annotations

from markupsafe import Markup

from app.i18n import translations
from app.web.forms import FieldView
from app.web.templating import make_environment


def _render(source: str, locale: str, **context: object) -> str:
    env = make_environment()
    template = env.from_string(source)
    return template.render(translations=translations(locale), **context)


def test_trans_blocks_follow_the_locale_of_each_render():
    source = "{% trans %}My work{% endtrans %} / {{ _('Sign out') }}"
    assert _render(source, "zh_CN") == "我的待办 / 退出"
    assert _render(source, "en") == "My work / Sign out"


def test_translated_text_escapes_its_variables():
    source = "{% trans name=name %}On behalf of {{ name }}{% endtrans %}"
    assert _render(source, "en", name="<b>x</b>") == "On behalf of &lt;b&gt;x&lt;/b&gt;"


def test_values_are_autoescaped_and_markup_is_kept():
    assert _render("{{ v }}", "en", v="<script>") == "&lt;script&gt;"
    assert _render("{{ v }}", "en", v=Markup("<svg></svg>")) == "<svg></svg>"


def test_field_macro_shows_label_required_mark_value_and_error():
    source = '{% import "_forms.html" as forms with context %}{{ forms.field(f) }}'
    field = FieldView(name="reason", label="原因", type="textarea", required=True,
                      value="a < b", error="此项为必填项。")
    html = _render(source, "zh_CN", f=field)
    assert '<label for="f-reason">原因 <span class="required" title="必填">*</span>' in html
    assert ">a &lt; b</textarea>" in html
    assert 'aria-invalid="true"' in html
    assert '<p class="error" id="f-reason-error">此项为必填项。</p>' in html


def test_choice_field_keeps_the_chosen_option():
    source = '{% import "_forms.html" as forms with context %}{{ forms.field(f) }}'
    field = FieldView(name="outcome", label="Outcome", type="choice", required=True,
                      value="b", choices=[("a", "A"), ("b", "B")])
    html = _render(source, "en", f=field)
    assert '<option value="b" selected>B</option>' in html
    assert '<option value="a">A</option>' in html
