"""Dashboard charts drawn by pygal on the server: static SVG, no JavaScript, any language.

pygal embeds a small configuration script for its optional tooltips; it is removed, so a chart
is pure SVG that pages inline (and print) as is. The numbers are always in a table beside it.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

FONT = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#7b8794",
    colors=("#c2410c", "#1d4ed8", "#15803d", "#7c3aed", "#b45309", "#0f766e"),
    # opaque bars: pygal's default 0.7 washes every colour out towards white, and the number
    # printed on a bar is chosen for the colour as it is (value_colour)
    opacity="1",
    opacity_hover="1",
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    label_font_size=15,
    major_label_font_size=15,
    value_font_size=15,
    value_label_font_size=15,
    tooltip_font_size=15,
    legend_font_size=15,
    title_font_size=16,
    no_data_font_size=24,
)
# Charts are drawn 400 units wide and scaled to their box: on a 390 px phone the box is about
# 337 px, so 15-unit text is still 12.6 px; on a desktop they are shown at most 480 px wide.
WIDTH = 400
LABEL_ROOM = 0.42  # share of the width a horizontal bar chart's labels may take
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


SCRIPT_TAGS = ("{http://www.w3.org/2000/svg}script", "script")
STYLE_TAGS = ("{http://www.w3.org/2000/svg}style", "style")
INK, LIGHT_TEXT = "#1f2933", "#ffffff"


def _without_scripts(root):  # noqa: ANN001, ANN202 - an lxml or ElementTree element
    """xml_filter: drop pygal's <script> nodes; the chart stays a static picture.

    pygal builds with lxml when it is installed and with the standard ElementTree otherwise;
    only the one-argument `iter()` exists in both.
    """
    for script in [node for node in root.iter() if node.tag in SCRIPT_TAGS]:
        parent = script.getparent() if hasattr(script, "getparent") else None
        if parent is not None:
            parent.remove(script)
        else:  # ElementTree has no parent links: search for it
            for node in root.iter():
                if script in list(node):
                    node.remove(script)
                    break
    return root


# Colours by meaning: overdue work in reds that deepen with age, plans in the brand blue, a
# plan that met its requirement in green, a cancelled one in grey. Each is dark or light enough
# that the number printed on it, white or in ink, reaches 4.5:1 (WCAG AA).
OVERDUE_SHADES = ("#f2c14e", "#e8873a", "#c0503a", "#8e2c22")
OVERDUE = "#c0503a"
BRAND = "#1d4e89"
MET, CONTINUED, DECIDED, CANCELLED = "#2f7d4f", "#1d4e89", "#c28528", "#8a96a3"


def _luminance(color: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def value_colour(bar: str) -> str:
    """The colour of a number printed on a bar: white or the ink, whichever stands out more
    (pygal only turns it white on nearly black bars, so numbers on the brand blue were dark)."""
    return LIGHT_TEXT if contrast(LIGHT_TEXT, bar) >= contrast(INK, bar) else INK


def _halo(root, colors: Sequence[str]):  # noqa: ANN001, ANN202 - an lxml or ElementTree element
    """xml_filter: each series' printed numbers get an outline in their bar's colour, so a
    number wider than a thin bar (or slice) still reads where it runs over its neighbour."""
    chart_id = root.get("id")
    rules = "".join(
        f"#{chart_id} .text-overlay .color-{i} text.value{{stroke:{colour};stroke-width:3px;"
        f"stroke-linejoin:round;paint-order:stroke;font-weight:600}}"
        for i, colour in enumerate(colors))
    for node in root.iter():
        if node.tag in STYLE_TAGS:
            node.text = (node.text or "") + rules
            break
    return root


def _config(height: int, colors: Sequence[str] | None = None, **extra: object
            ) -> dict[str, object]:
    style = copy.copy(STYLE)
    style.colors = tuple(colors or STYLE.colors)
    style.value_colors = tuple(value_colour(c) for c in style.colors)
    return {
        "title": None,  # the panel's heading names the chart; drawn again it only takes room
        "style": style,
        "js": [],
        "disable_xml_declaration": True,
        "width": WIDTH,
        "height": height,
        "print_values": True,
        "print_zeroes": False,
        "show_y_guides": True,
        "margin": 10,
        "spacing": 8,
        "truncate_legend": -1,
        "legend_at_bottom_columns": 1,
        "no_data_text": "—",
        "classes": ["pygal-chart", "report-chart"],
        **extra,
    }


def _whole_ticks(series: Sequence[tuple[str, Sequence[int]]], *, stacked: bool) -> list[int]:
    """Whole-number ticks for counts (pygal would draw 0.2, 0.4, ... for small ones)."""
    columns = [list(values) for _name, values in series]
    if stacked:
        top = max((sum(v or 0 for v in row) for row in zip(*columns, strict=False)), default=0)
    else:
        top = max((v or 0 for values in columns for v in values), default=0)
    step = max(1, -(-top // 8))
    return list(range(0, top + step + 1, step)) if top else [0, 1]


def text_width(text: str, size: float) -> float:
    """About how wide a text is drawn: a Chinese character as wide as the font size, a Latin
    letter or digit about 0.6 of it (pygal counts every character as 0.6, which clips Chinese
    labels and, with long English ones, left no room for the bars at all)."""
    return sum(size if CJK.match(char) else 0.6 * size for char in text)


def fit_label(text: str, room: float, size: float) -> str:
    """The label, cut with an ellipsis when it is wider than `room` (the table beside the chart
    always has it in full)."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _label_margin(labels: Sequence[str]) -> dict[str, float]:
    """margin_left so that pygal, which adds its own estimate of the labels' width, leaves
    exactly the room the (fitted) labels need."""
    size = STYLE.label_font_size
    needed = max((text_width(label, size) for label in labels), default=0)
    estimated = max((0.6 * size * len(label) for label in labels), default=0)
    return {"margin_left": max(4.0, 10 + needed - estimated)}


def _render(chart: pygal.graph.graph.Graph, title: str,
            colors: Sequence[str] | None = None) -> Markup:
    """The chart as inline SVG: static, named by its title, numbers outlined."""
    def named(root):  # noqa: ANN001, ANN202 - the chart's accessible name is its title
        root.set("role", "img")
        root.set("aria-label", title)
        return root

    chart.add_xml_filter(_without_scripts)
    chart.add_xml_filter(named)
    chart.add_xml_filter(functools.partial(_halo, colors=tuple(colors or STYLE.colors)))
    return Markup(chart.render(is_unicode=True))  # noqa: S704 - pygal escapes every text


# Drawing is most of a dashboard request's time, and the pictures change only when a number or
# a label does: each is kept by everything it shows (title, labels, numbers, colours, kind; the
# language is in the texts), so a changed figure is simply a new picture, never a stale one.
# Pictures kept per kind and process: a dashboard view has about 7 (per area, round, language);
# an SVG is 10-35 KB, so the three kinds hold at most about 15 MB.
CACHE_SIZE = 256
Series = tuple[tuple[str, tuple[int, ...]], ...]


def _frozen(series: Sequence[tuple[str, Sequence[int]]]) -> Series:
    return tuple((name, tuple(values)) for name, values in series)


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
              *, horizontal: bool = False, stacked: bool = False,
              colors: Sequence[str] | None = None) -> Markup:
    """Bars per label, one colour per series (stacked when asked), drawn once per picture."""
    return _bar_chart(title, tuple(labels), _frozen(series), horizontal, stacked,
                      tuple(colors) if colors else None)


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
               colors: Sequence[str] | None = None) -> Markup:
    """A line over time (labels are dates), one line per series, drawn once per picture."""
    return _line_chart(title, tuple(labels), _frozen(series), tuple(colors) if colors else None)


def pie_chart(title: str, slices: Sequence[tuple[str, int]],
              colors: Sequence[str] | None = None) -> Markup:
    """Shares of a whole, one slice per label, drawn once per picture."""
    return _pie_chart(title, tuple((name, value) for name, value in slices),
                      tuple(colors) if colors else None)


def clear_cache() -> None:
    """Forget every drawn picture (tests, or after a change to how charts are drawn)."""
    for drawn in (_bar_chart, _line_chart, _pie_chart):
        drawn.cache_clear()


@functools.lru_cache(maxsize=CACHE_SIZE)
def _bar_chart(title: str, labels: tuple[str, ...], series: Series, horizontal: bool,
               stacked: bool, colors: tuple[str, ...] | None) -> Markup:
    """Horizontal bars read from the top down, in the order of the table beside them (pygal
    draws the first at the foot)."""
    if horizontal:
        labels = labels[::-1]
        series = tuple((name, values[::-1]) for name, values in series)
    kind = {(False, False): pygal.Bar, (True, False): pygal.HorizontalBar,
            (False, True): pygal.StackedBar, (True, True): pygal.HorizontalStackedBar}
    size = STYLE.label_font_size
    legend = len(series) if len(series) > 1 else 0
    height = (max(200, 36 * len(labels) + 90) if horizontal else 300) + 26 * legend
    room = WIDTH * LABEL_ROOM if horizontal else (WIDTH - 60) / max(1, len(labels)) - 6
    shown = [fit_label(label, room, size) for label in labels]
    chart = kind[(horizontal, stacked)](
        **_config(height, colors, **(_label_margin(shown) if horizontal else {})),
        show_legend=bool(legend), legend_at_bottom=True, truncate_label=-1, x_label_rotation=0)
    chart.x_labels = shown
    chart.y_labels = _whole_ticks(series, stacked=stacked)
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart, title, colors)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _line_chart(title: str, labels: tuple[str, ...], series: Series,
                colors: tuple[str, ...] | None) -> Markup:
    """The line chart, drawn."""
    chart = pygal.Line(**_config(300, colors, print_values=False), truncate_label=-1,
                       show_legend=len(series) > 1, legend_at_bottom=True, x_label_rotation=0,
                       show_dots=len(labels) < 40, show_minor_x_labels=False,
                       x_labels_major_every=max(1, -(-len(labels) // 4)))
    chart.x_labels = list(labels)
    chart.y_labels = _whole_ticks(series, stacked=False)
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart, title, colors)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _pie_chart(title: str, slices: tuple[tuple[str, int], ...],
               colors: tuple[str, ...] | None) -> Markup:
    """The pie chart, drawn."""
    chart = pygal.Pie(**_config(300 + 26 * len(slices), colors), inner_radius=0.45,
                      truncate_label=-1, legend_at_bottom=True)
    for name, value in slices:
        chart.add(name, value)
    return _render(chart, title, colors)
