"""Dashboard charts are drawn once per picture, and their printed numbers read on every bar.

A picture is kept by everything it shows: the same figures in the same language are not drawn
again; a changed number, label, title or colour is a new picture (never a stale one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pygal
import pytest

from app.reports import charts

UNITS = ["甲一支行", "甲二支行"]
AGES = [("0–2 天", [3, 1]), ("3–5 天", [0, 2])]


def printed(svg: str) -> list[str]:
    """The numbers printed on the bars, series by series (zeroes are not printed)."""
    return re.findall(r'<text [^>]*class="value"[^>]*>([^<]+)</text>', svg)


@pytest.fixture
def drawings(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every time pygal really draws a chart, its kind is appended (the cache starts empty)."""
    drawn: list[str] = []
    render = pygal.graph.graph.Graph.render

    def counted(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        drawn.append(type(self).__name__)
        return render(self, *args, **kwargs)

    monkeypatch.setattr(pygal.graph.graph.Graph, "render", counted)
    charts.clear_cache()
    yield drawn
    charts.clear_cache()


def test_the_same_figures_are_drawn_once(drawings: list[str]) -> None:
    first = charts.bar_chart("各机构逾期待办", UNITS, AGES, horizontal=True, stacked=True,
                             colors=charts.OVERDUE_SHADES)
    again = charts.bar_chart("各机构逾期待办", list(UNITS), [(n, list(v)) for n, v in AGES],
                             horizontal=True, stacked=True, colors=list(charts.OVERDUE_SHADES))
    assert again == first
    charts.pie_chart("计划结果", [("已关闭", 2), ("已取消", 1)])
    charts.pie_chart("计划结果", [("已关闭", 2), ("已取消", 1)])
    charts.line_chart("逾期趋势", ["3月1日", "3月2日"], [("逾期", [4, 5])])
    charts.line_chart("逾期趋势", ["3月1日", "3月2日"], [("逾期", [4, 5])])
    assert drawings == ["HorizontalStackedBar", "Pie", "Line"]


def test_a_changed_figure_is_a_new_picture(drawings: list[str]) -> None:
    before = charts.bar_chart("各机构逾期待办", UNITS, AGES, horizontal=True, stacked=True)
    after = charts.bar_chart("各机构逾期待办", UNITS, [("0–2 天", [3, 4]), AGES[1]],
                             horizontal=True, stacked=True)
    assert len(drawings) == 2 and after != before
    assert sorted(printed(before)) == ["1", "2", "3"]
    assert sorted(printed(after)) == ["2", "3", "4"]


def test_each_language_has_its_own_picture(drawings: list[str]) -> None:
    zh = charts.bar_chart("计划周期分布", ["第 1 周期"], [("在办计划", [2])])
    en = charts.bar_chart("Open plans by cycle", ["Cycle 1"], [("Open plans", [2])])
    assert len(drawings) == 2
    assert "第 1 周期" in zh and "Cycle 1" in en and "第 1 周期" not in en


def test_the_cache_forgets_its_oldest_picture_beyond_its_bound(drawings: list[str]) -> None:
    for n in range(charts.CACHE_SIZE + 1):
        charts.bar_chart("Open plans by cycle", ["Cycle 1"], [("Open plans", [n])])
    assert len(drawings) == charts.CACHE_SIZE + 1
    assert charts._bar_chart.cache_info().currsize == charts.CACHE_SIZE
    charts.bar_chart("Open plans by cycle", ["Cycle 1"], [("Open plans", [0])])
    assert len(drawings) == charts.CACHE_SIZE + 2  # the oldest was dropped: drawn again


def test_numbers_printed_on_bars_stand_out_from_every_bar_colour() -> None:
    colours = {*charts.OVERDUE_SHADES, charts.OVERDUE, charts.BRAND, charts.MET,
               charts.CONTINUED, charts.DECIDED, charts.CANCELLED, *charts.STYLE.colors}
    for colour in colours:
        text = charts.value_colour(colour)
        assert charts.contrast(text, colour) >= 4.5, colour
    assert charts.STYLE.opacity == "1"  # bars show the very colour the text is chosen for
    # the brand blue was printed on in near-black by pygal; now white
    assert charts.value_colour(charts.BRAND) == charts.LIGHT_TEXT
    assert charts.value_colour(charts.OVERDUE_SHADES[0]) == charts.INK
    svg = str(charts.bar_chart("Open plans by cycle", ["Cycle 1"], [("Open plans", [2])],
                               colors=[charts.BRAND]))
    assert re.search(r"\.text-overlay \.color-0 text\{fill:#ffffff\}", svg)
    # a number wider than its thin bar keeps an outline in the bar's colour
    assert re.search(r"\.color-0 text\.value\{stroke:#1d4e89", svg)
