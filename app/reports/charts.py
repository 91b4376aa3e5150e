"""Dashboard charts drawn by pygal on the server: static SVG, no JavaScript, any language.

pygal embeds a small configuration script for its optional tooltips; it is removed, so a chart
is pure SVG that pages inline (and print) as is. The numbers are always in a table beside it.
"""

from __future__ import annotations

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
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    legend_font_size=13,
    title_font_size=15,
)


SCRIPT_TAGS = ("{http://www.w3.org/2000/svg}script", "script")


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


def _config(title: str, height: int, **extra: object) -> dict[str, object]:
    return {
        "title": title,
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 640,
        "height": height,
        "print_values": True,
        "print_zeroes": False,
        "show_y_guides": True,
        "margin": 12,
        "truncate_label": 18,
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


def _render(chart: pygal.graph.graph.Graph) -> Markup:
    chart.add_xml_filter(_without_scripts)
    return Markup(chart.render(is_unicode=True))  # noqa: S704 - pygal escapes every text


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
              *, horizontal: bool = False, stacked: bool = False) -> Markup:
    """Bars per label, one colour per series (stacked when asked)."""
    kind = {(False, False): pygal.Bar, (True, False): pygal.HorizontalBar,
            (False, True): pygal.StackedBar, (True, True): pygal.HorizontalStackedBar}
    height = max(260, 34 * len(labels) + 120) if horizontal else 320
    chart = kind[(horizontal, stacked)](
        **_config(title, height), show_legend=len(series) > 1, legend_at_bottom=True,
        x_label_rotation=0 if horizontal or len(labels) <= 6 else 30)
    chart.x_labels = list(labels)
    chart.y_labels = _whole_ticks(series, stacked=stacked)
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]
               ) -> Markup:
    """A line over time (labels are dates), one line per series."""
    chart = pygal.Line(**_config(title, 300, print_values=False), show_legend=len(series) > 1,
                       legend_at_bottom=True, x_label_rotation=30, show_dots=len(labels) < 40,
                       show_minor_x_labels=False, x_labels_major_every=max(1, len(labels) // 8))
    chart.x_labels = list(labels)
    chart.y_labels = _whole_ticks(series, stacked=False)
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)


def pie_chart(title: str, slices: Sequence[tuple[str, int]]) -> Markup:
    """Shares of a whole, one slice per label."""
    chart = pygal.Pie(**_config(title, 320), inner_radius=0.45, legend_at_bottom=True)
    for name, value in slices:
        chart.add(name, value)
    return _render(chart)
