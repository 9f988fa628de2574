"""The view's charts: inline SVG that says what it draws, places values where they belong,
and shows provider text as text."""

from datetime import UTC, date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from portal.view.charts import Series, bars, lines

SVG = "{http://www.w3.org/2000/svg}"


def _svg(markup: str) -> Element:
    figure = ElementTree.fromstring(str(markup))
    svg = figure.find(f"{SVG}svg")
    assert svg is not None, markup
    return svg


def test_bars_draw_one_bar_per_value_with_its_value_in_words() -> None:
    chart = bars(
        "Money in and out",
        [
            Series("In", [("2026-01", Decimal("100.50")), ("2026-02", Decimal("20"))]),
            Series("Out", [("2026-01", Decimal("-40")), ("2026-02", Decimal("-75.25"))]),
        ],
        unit="GBP",
    )
    svg = _svg(chart)
    assert svg.get("data-points") == "4"
    assert svg.get("role") == "img"
    rects = svg.findall(f"{SVG}rect")
    titles = [r.find(f"{SVG}title").text for r in rects]  # type: ignore[union-attr]
    assert titles == [
        "In, 2026-01: 100.50 GBP",
        "In, 2026-02: 20 GBP",
        "Out, 2026-01: -40 GBP",
        "Out, 2026-02: -75.25 GBP",
    ]
    heights = [float(r.get("height")) for r in rects]  # type: ignore[arg-type]
    # Heights are proportional to the values: 100.50 is the tallest, 20 the shortest.
    assert max(heights) == heights[0] and min(heights) == heights[1]
    assert abs(heights[0] / heights[3] - 100.50 / 75.25) < 0.01
    # A money-out bar hangs below the zero line, a money-in bar stands on it.
    tops = [float(r.get("y")) for r in rects]  # type: ignore[arg-type]
    assert tops[2] == tops[3] and tops[0] < tops[2]


def test_lines_place_irregular_moments_by_time() -> None:
    points = [
        (date(2026, 1, 1), Decimal("10")),
        (date(2026, 1, 2), Decimal("20")),
        (date(2026, 1, 11), Decimal("15")),
    ]
    svg = _svg(lines("Balance", [Series("Current account", points)], unit="GBP"))
    xs = [float(c.get("cx")) for c in svg.findall(f"{SVG}circle")]  # type: ignore[arg-type]
    assert len(xs) == 3 and svg.get("data-points") == "3"
    # One day between the first two, nine between the last two.
    assert abs((xs[2] - xs[1]) / (xs[1] - xs[0]) - 9) < 0.01


def test_many_points_keep_the_line_without_a_mark_each() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    points = [
        (datetime.fromtimestamp(start + i * 1800, tz=UTC), Decimal(i % 7)) for i in range(5000)
    ]
    svg = _svg(lines("Use per half hour", [Series("Meter", points)], unit="kWh"))
    assert svg.get("data-points") == "5000"
    assert not svg.findall(f"{SVG}circle")
    polyline = svg.find(f"{SVG}polyline")
    assert polyline is not None and len(polyline.get("points", "").split()) == 5000


def test_provider_text_in_a_chart_is_text() -> None:
    hostile = '<script>alert(1)</script>\u202e"'
    chart = str(bars(hostile, [Series(hostile, [(hostile, Decimal("1"))])]))
    assert "<script>" not in chart
    svg = _svg(chart)
    assert "<script>" in (svg.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
    assert "\u202e" not in chart  # the bidi override is shown as a visible escape


def test_an_empty_chart_says_so() -> None:
    svg = _svg(bars("Nothing yet", [Series("In", [])]))
    assert svg.get("data-points") == "0"
    texts = [t.text for t in svg.findall(f"{SVG}text")]
    assert texts == ["Nothing to show"]
