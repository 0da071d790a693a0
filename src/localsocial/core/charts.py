"""Server-drawn SVG bar charts (pygal) for dashboards and reports, as ``data:`` images.

Why ``data:`` images: the Content Security Policy allows styles only from our own files, and
an SVG drawn into the page would bring its own ``<style>``.  An SVG *image* is a separate
document: its styles do not touch the page and the page's policy (``img-src 'self' data:``)
allows it, without a second request.  pygal's script is taken out (an image runs none
anyway).  Each chart is a picture of a table printed next to it: it never holds a figure the
table lacks, and its ``alt`` text says so.

Drawing a chart takes a few milliseconds, so the last charts drawn are remembered: the same
figures give the same picture.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from functools import lru_cache
from xml.etree import ElementTree

import pygal
from pygal.style import Style

# GOV.UK Frontend's colours: text, blue for bars, mid grey for guides.
_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#0b0c0c",
    foreground_strong="#0b0c0c",
    foreground_subtle="#505a5f",
    colors=("#1d70b8",),
    font_family="arial, sans-serif",
    title_font_size=24,
    label_font_size=18,
    major_label_font_size=18,
    value_font_size=18,
    value_colors=("#0b0c0c",),
    tooltip_font_size=18,
    opacity="1",
    opacity_hover="1",
    transition="0ms",
)
_CACHE_SIZE = 256


@dataclass(frozen=True)
class Chart:
    """An image to put in an ``<img src=… alt=…>``."""

    src: str
    alt: str


def _ticks(values: tuple[int, ...]) -> list[int]:
    """Whole-number axis marks from 0 past the largest value, about five of them."""
    top = max(values, default=0)
    step = max(1, math.ceil(top / 5))
    return list(range(0, top + step + 1, step)) if top else [0, 1]


@lru_cache(maxsize=_CACHE_SIZE)
def _draw(title: str, labels: tuple[str, ...], values: tuple[int, ...], horizontal: bool) -> str:
    chart_class = pygal.HorizontalBar if horizontal else pygal.Bar
    if horizontal:
        # pygal draws the first bar at the bottom; the table reads from the top.
        labels, values = labels[::-1], values[::-1]
    many = len(labels) > 6
    chart = chart_class(
        style=_STYLE,
        title=title,
        show_legend=False,
        print_values=True,
        print_zeroes=False,
        print_values_position="top",
        js=[],
        disable_xml_declaration=True,
        width=800,
        height=max(260, 80 + 44 * len(labels)) if horizontal else 440,
        x_label_rotation=45 if many and not horizontal else 0,
        truncate_label=-1,
        y_labels=_ticks(values),
        show_minor_y_labels=True,
        margin=16,
        spacing=12,
        no_prefix=False,
    )
    chart.x_labels = list(labels)
    chart.add(title, list(values))
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    svg = ElementTree.tostring(tree, encoding="unicode") if isinstance(tree, ElementTree.Element) else _lxml(tree)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _lxml(tree: object) -> str:
    from lxml import etree  # pygal draws with lxml when it is installed

    return str(etree.tostring(tree, encoding="unicode"))


def bar_chart(*, title: str, labels: list[str], values: list[int], alt: str, horizontal: bool = False) -> Chart:
    """A bar chart of ``values`` (whole numbers) labelled ``labels``.  ``alt`` is the text a
    screen reader reads instead: say what the chart shows and where the table is."""
    return Chart(src=_draw(title, tuple(labels), tuple(values), horizontal), alt=alt)
