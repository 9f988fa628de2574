"""Charts drawn on the server as inline SVG: bars (money in and out per month, use per day)
and lines (balances over time).

Why by hand, in about 200 lines, rather than a charting library: the view's pages carry a
Content-Security-Policy that allows no inline script and no inline style, and the static
report must work with no script at all and print well. Browser libraries (Chart.js, uPlot)
draw with script on a canvas, which neither the report's archive nor a screen reader can
read; the Python ones (pygal, matplotlib) write SVG with an inline ``<style>`` element and,
for pygal, script from an external origin, and matplotlib takes 100 ms and more per chart.
These SVGs carry classes styled by ``view.css``, a ``<title>`` on every mark (the value a
person hovers or a screen reader reads), and ``data-points`` (how many values are drawn),
which the browser tests read.

Every piece of text is escaped here (markupsafe), since series names and labels can be
provider text; the result is ``Markup`` so templates print it as it is.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from markupsafe import Markup, escape

from portal.shown import shown

WIDTH = 720
HEIGHT = 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 96, 16, 12, 28  # room for "-£12,345" and "1,445 points"
_MAX_MARKS = 400  # a circle per point beyond this would weigh more than it tells
_ids = itertools.count(1)

X = str | date | datetime


@dataclass(frozen=True)
class Series:
    """One named series of a chart: (x, value) points in order, x a label or a moment."""

    name: str
    points: Sequence[tuple[X, Decimal]]


def bars(
    title: str, series: Sequence[Series], *, unit: str = "", labels: Sequence[str] = ()
) -> Markup:
    """A bar chart: one group of bars per x label (in the order of the first series), one bar
    per series in each group. ``labels`` (optional) names each x label as a person reads it.
    """
    xs = _x_order(series)
    names = dict(zip(xs, labels, strict=False)) if labels else {}
    values = [float(v) for s in series for _, v in s.points]
    low, high = _range(values, include_zero=True)
    plot_w = WIDTH - _LEFT - _RIGHT
    group = plot_w / max(len(xs), 1)
    bar = max(group * 0.8 / max(len(series), 1), 0.5)
    index = {x: i for i, x in enumerate(xs)}
    marks = []
    for number, one in enumerate(series):
        for x, value in one.points:
            left = _LEFT + index[_key(x)] * group + group * 0.1 + number * bar
            top, bottom = sorted((_y(float(value), low, high), _y(0.0, low, high)))
            what = f"{one.name}, {names.get(_key(x), _key(x))}: {_number(value)}{_unit(unit)}"
            marks.append(
                f'<rect class="bar s{number}" x="{left:.1f}" y="{top:.1f}" width="{bar:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}"><title>{_text(what)}</title></rect>'
            )
    first = [names.get(x, x) for x in xs]
    return _svg(title, series, unit, low, high, marks, first, len(values))


def lines(title: str, series: Sequence[Series], *, unit: str = "") -> Markup:
    """A line chart: one line per series. Moments (dates, datetimes) are placed by time, so
    irregular snapshots keep their spacing; text x values are placed evenly in order."""
    values = [float(v) for s in series for _, v in s.points]
    low, high = _range(values, include_zero=False)
    xs = [x for s in series for x, _ in s.points]
    timed = bool(xs) and all(isinstance(x, date) for x in xs)
    order = _x_order(series)
    place = {x: i for i, x in enumerate(order)}
    if timed:
        stamps = [_stamp(x) for x in xs]
        start, end = min(stamps), max(stamps)
    plot_w = WIDTH - _LEFT - _RIGHT
    marks = []
    for number, one in enumerate(series):
        points = []
        for x, value in one.points:
            if timed:
                share = (_stamp(x) - start) / (end - start) if end > start else 0.5
            else:
                share = place[_key(x)] / max(len(order) - 1, 1)
            points.append((_LEFT + share * plot_w, _y(float(value), low, high), x, value))
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points)
        marks.append(f'<polyline class="line s{number}" points="{path}"/>')
        if len(points) <= _MAX_MARKS:
            for px, py, x, value in points:
                what = f"{one.name}, {_key(x)}: {_number(value)}{_unit(unit)}"
                marks.append(
                    f'<circle class="point s{number}" cx="{px:.1f}" cy="{py:.1f}" r="2.5">'
                    f"<title>{_text(what)}</title></circle>"
                )
    ends = [_key(min(xs, key=_stamp)), _key(max(xs, key=_stamp))] if timed and xs else order
    return _svg(title, series, unit, low, high, marks, ends, len(values))


def _svg(
    title: str,
    series: Sequence[Series],
    unit: str,
    low: float,
    high: float,
    marks: list[str],
    xs: Sequence[str],
    count: int,
) -> Markup:
    ident = f"chart-{next(_ids)}"
    base = HEIGHT - _BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ident}" data-points="{count}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}">{_text(title)}</title>',
    ]
    if not count:
        parts.append(f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}">Nothing to show</text>')
    else:
        for value in sorted({low, high, 0.0} if low < 0 < high else {low, high}):
            y = _y(value, low, high)
            parts.append(
                f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            )
            label = _text(f"{_short(value)}{_unit(unit)}")
            parts.append(f'<text class="axis y" x="{_LEFT - 6}" y="{y + 4:.1f}">{label}</text>')
        shown_xs = _spread(list(xs))
        for position, x in shown_xs:
            share = position / max(len(xs) - 1, 1)
            px = _LEFT + share * (WIDTH - _LEFT - _RIGHT)
            # The first and last labels line up with the plot's edges instead of overflowing.
            edge = " first" if position == 0 else " last" if position == len(xs) - 1 else ""
            edge = "" if len(xs) == 1 else edge
            parts.append(
                f'<text class="axis x{edge}" x="{px:.1f}" y="{base + 18}">{_text(x)}</text>'
            )
        parts.extend(marks)
    parts.append("</svg>")
    legend = "".join(
        f'<li><span class="swatch s{number}"></span>{_text(one.name)}</li>'
        for number, one in enumerate(series)
    )
    # Every text and attribute above went through _text (escaped) or is a number we wrote.
    return Markup(  # noqa: S704
        f'<figure class="chart">{"".join(parts)}<ul class="legend">{legend}</ul></figure>'
    )


def _x_order(series: Sequence[Series]) -> list[str]:
    seen: dict[str, None] = {}
    for one in series:
        for x, _ in one.points:
            seen.setdefault(_key(x), None)
    return list(seen)


def _key(x: X) -> str:
    if isinstance(x, datetime):
        return x.strftime("%Y-%m-%d %H:%M")
    return x.isoformat() if isinstance(x, date) else str(x)


def _stamp(x: X) -> float:
    if isinstance(x, datetime):
        return x.timestamp()
    if isinstance(x, date):
        return float(x.toordinal() * 86400)
    return 0.0


def _range(values: list[float], *, include_zero: bool) -> tuple[float, float]:
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    if include_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if low == high:
        low, high = low - 1, high + 1
    return low, high


def _y(value: float, low: float, high: float) -> float:
    plot_h = HEIGHT - _TOP - _BOTTOM
    return _TOP + (high - value) / (high - low) * plot_h


def _spread(xs: list[str], most: int = 6) -> list[tuple[int, str]]:
    """At most ``most`` x labels, evenly spread, always the first and the last."""
    if len(xs) <= most:
        return list(enumerate(xs))
    step = (len(xs) - 1) / (most - 1)
    picks = sorted({round(i * step) for i in range(most)})
    return [(i, xs[i]) for i in picks]


def _number(value: Decimal) -> str:
    return f"{value:,}"


def _short(value: float) -> str:
    size = abs(value)
    if size >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if size >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}" if size >= 100 or value == int(value) else f"{value:,.2f}"


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


def _text(value: str) -> str:
    return str(escape(shown(value)))
