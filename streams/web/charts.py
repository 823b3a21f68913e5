"""Bar charts for the dashboard: the geometry here, the SVG in ``templates/charts.html``.

Horizontal bars, one per row of a figure, each with its label on the left and its value as
text at its end, so the chart reads without colour and without JavaScript; the template adds
``role="img"`` with a ``<title>`` and a ``<desc>`` that lists every value for screen readers.
Pure functions of plain data: the page and the tests call them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Drawing sizes in SVG user units (CSS pixels at 100% zoom).
WIDTH = 640
LABEL_WIDTH = 220
#: Room for a value's text after its bar: a character of the 13-unit font is at most about 8.
CHARACTER_WIDTH = 8
BAR_HEIGHT = 22
GAP = 8
TOP = 6


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value as shown, and where it is drawn."""

    label: str
    text: str
    y: float
    width: float
    #: The value is withheld (fewer than K cases): the label and the text, no bar.
    withheld: bool = False


@dataclass(frozen=True)
class BarChart:
    """A chart ready for the template: an id for its title and description, and its bars."""

    chart_id: str
    title: str
    description: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    bar_height: int


def bar_chart(
    chart_id: str,
    title: str,
    rows: list[tuple[str, float | None, str]],
    full: float | None = None,
    width: int = WIDTH,
) -> BarChart:
    """The bars of ``rows`` (label, value, value as shown), scaled to ``full`` or the largest.

    Args:
        chart_id: unique on the page; the ids of the chart's title and description start with it.
        title: what the chart shows, for its ``<title>``.
        rows: one per bar, in the order they are drawn; a value below 0 is drawn as 0, a
            withheld one (None) as no bar.
        full: the value of a bar across the whole plot (1 for a rate), else the largest value.
        width: the chart's width in SVG units.

    Returns:
        The chart, its description listing every label with its value as shown.
    """
    longest = max((len(text) for _, _, text in rows), default=0)
    plot = width - LABEL_WIDTH - CHARACTER_WIDTH * (longest + 1)
    largest = full or max((value or 0.0 for _, value, _ in rows), default=0.0)
    bars = tuple(
        Bar(
            label=label,
            text=text,
            y=TOP + index * (BAR_HEIGHT + GAP),
            width=_width(value, plot, largest),
            withheld=value is None,
        )
        for index, (label, value, text) in enumerate(rows)
    )
    height = TOP * 2 + max(len(bars), 1) * (BAR_HEIGHT + GAP)
    description = "; ".join(f"{label}: {text}" for label, _, text in rows)
    return BarChart(chart_id, title, description, bars, width, height, LABEL_WIDTH, BAR_HEIGHT)


def _width(value: float | None, plot: float, largest: float) -> float:
    if value is None or largest <= 0:
        return 0.0
    return round(plot * min(max(value, 0.0), largest) / largest, 2)
