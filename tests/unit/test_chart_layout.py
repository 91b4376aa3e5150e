"""Dashboard charts lay out in both languages: bars always drawn, labels fitted, read top down.

How big the text ends up on a phone, and that no label is cut off, is measured in the browser
by tests/e2e/test_whole_site_on_a_phone.py; these check the layout pygal is given.
"""

from __future__ import annotations

import re

from app.reports import charts

# The promotion panel's labels: "route · step", long in English, short in Chinese.
ENGLISH = ["Senior customer manager (private finance) · President's office decides",
           "Senior customer manager (private finance) · Leadership group checks",
           "Customer-manager post grade · Customer-manager management group reviews"]
CHINESE = ["高级客户经理晋升（私人金融） · 行长室审定",
           "高级客户经理晋升（私人金融） · 分行领导小组审核",
           "客户经理岗位等级聘任 · 客户经理管理小组资格审查"]


def _bars(svg: str) -> list[float]:
    return [float(w) for w in re.findall(
        r'<rect [^>]*width="([\d.]+)"[^>]*class="rect reactive', svg)]


def _labels(svg: str) -> list[tuple[float, str]]:
    """The category labels of a horizontal chart with their heights, top first."""
    found = re.findall(r'<text x="-5" y="([\d.]+)" class="">([^<]+)</text>', svg)
    return sorted((float(y), text) for y, text in found)


def test_long_english_labels_still_leave_room_for_every_bar() -> None:
    for labels in (ENGLISH, CHINESE):
        svg = str(charts.bar_chart("Promotion requests by step", labels,
                                   [("Requests", [3, 1, 2])], horizontal=True))
        widths = _bars(svg)
        assert len(widths) == 3 and min(widths) > 20, (labels[0], widths)


def test_labels_are_fitted_to_their_room_with_an_ellipsis() -> None:
    room = charts.WIDTH * charts.LABEL_ROOM
    size = charts.STYLE.label_font_size
    for label in ENGLISH + CHINESE:
        shown = charts.fit_label(label, room, size)
        assert charts.text_width(shown, size) <= room
        assert shown == label or shown.endswith("…")
    assert charts.fit_label("江城分行", room, size) == "江城分行"
    # a Chinese character is counted as wide as the font size, not pygal's 0.6 of it
    assert charts.text_width("江城", 15) == 30 and charts.text_width("ab", 15) == 18


def test_horizontal_bars_read_from_the_top_in_the_tables_order() -> None:
    svg = str(charts.bar_chart("Aging", ["0–2", "3–5", "6–10", "10+"],
                               [("Overdue", [5, 0, 0, 2])], horizontal=True))
    assert [text for _y, text in _labels(svg)] == ["0–2", "3–5", "6–10", "10+"]


def test_colours_follow_meaning_and_charts_name_themselves() -> None:
    svg = str(charts.pie_chart("Plan outcomes", [("Closed", 1), ("Cancelled", 2)],
                               colors=[charts.MET, charts.CANCELLED]))
    assert charts.MET in svg and charts.CANCELLED in svg
    assert 'aria-label="Plan outcomes"' in svg and 'role="img"' in svg
    assert "<script" not in svg and ">Plan outcomes<" not in svg  # the panel heading names it
