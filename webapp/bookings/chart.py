"""The visits-per-month bar chart, laid out on the server for an inline SVG (no script, no inline style)."""

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 640, 160
TOP, BOTTOM, LEFT, RIGHT = 14, 20, 16, 16
GAP = 4


@dataclass
class Bar:
    """One month's bar and its labels, in SVG user units."""

    month: date
    value: int
    x: float
    y: float
    width: float
    height: float
    label: str  # shown under every third bar, ending with the current month


@dataclass
class Chart:
    """The whole chart: its size, bars, and a sentence describing it."""

    width: int
    height: int
    baseline: float
    bars: list[Bar]
    summary: str


def visits_chart(months: list[tuple[date, int]]) -> Chart:
    """Bars scaled to the busiest month (an empty chart draws a thin line per month)."""
    peak = max((n for _, n in months), default=0)
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    bars = []
    for i, (month, n) in enumerate(months):
        h = max(plot_h * n / peak, 2) if peak and n else 1
        label = month.strftime("%b %y") if (len(months) - 1 - i) % 3 == 0 else ""
        x = LEFT + i * slot + GAP / 2
        bars.append(
            Bar(month, n, round(x, 1), round(TOP + plot_h - h, 1), round(slot - GAP, 1), round(h, 1), label)
        )
    return Chart(WIDTH, HEIGHT, TOP + plot_h, bars, describe(months, peak))


def describe(months: list[tuple[date, int]], peak: int) -> str:
    """A sentence for screen readers: the total and the busiest month."""
    total = sum(n for _, n in months)
    if not months:
        return "No months to show."
    span = f"{months[0][0]:%B %Y} to {months[-1][0]:%B %Y}"
    if not total:
        return f"No visits from {span}."
    busiest = max(months, key=lambda m: (m[1], m[0]))[0]
    return (
        f"{total} visit{'s' if total != 1 else ''} from {span}; "
        f"the busiest month was {busiest:%B %Y} with {peak}."
    )
