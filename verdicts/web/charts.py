"""The dashboard's charts as server-rendered SVG: no script, no CDN, nothing to load.

Pure: numbers in, markup and CSV out (no session, no settings). Every chart is a ``Chart``
carrying its SVG and the same numbers as columns and rows, which the page shows as a table
(for screen readers, and for anyone who wants the figures) and ``/dashboard.csv`` serves.
Every text that reaches the SVG is escaped: reviewer names and ratings are user data.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from verdicts.queue import DeskStats

Cell = str | int | float
WIDTH = 640
BAR_HEIGHT = 200
ROW_HEIGHT = 24
COLOURS = ("#2f5d8a", "#d08a2e")  # series also differ by their legend's words
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("under 1 day", 1),
    ("1–3 days", 3),
    ("3–7 days", 7),
    ("1–2 weeks", 14),
    ("over 2 weeks", math.inf),
)
HOUR_BUCKETS: tuple[tuple[str, float], ...] = (
    ("under 6 hours", 6),
    ("6–24 hours", 24),
    ("1–3 days", 72),
    ("3–7 days", 168),
    ("over a week", math.inf),
)
_CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Chart:
    key: str  # the ?chart= of the CSV download
    title: str
    summary: str  # one sentence read at a glance
    svg: Markup
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def _nice_max(value: float) -> float:
    """A round top for the axis: 1, 2, 5 × 10^n at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _open(title: str, height: int, key: str) -> list[str]:
    ident = f"chart-{escape(key)}-title"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="{ident}" font-size="11" '
        'font-family="system-ui, sans-serif">',
        f'<title id="{ident}">{escape(title)}</title>',
    ]


def column_chart(
    key: str, title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]
) -> Markup:
    """Vertical bars per label, one bar per series side by side, with a legend in words."""
    top, bottom, left = 28, 30, 36
    plot_h = BAR_HEIGHT - top - bottom
    peak = _nice_max(max((v for _, values in series for v in values), default=0))
    parts = _open(title, BAR_HEIGHT, key)
    for fraction in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{left}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(peak * fraction)}</text>"
        )
    slot = (WIDTH - left) / max(1, len(labels))
    bar = max(2.0, slot * 0.8 / max(1, len(series)))
    for i, label in enumerate(labels):
        x0 = left + i * slot + slot * 0.1
        for s, (name, values) in enumerate(series):
            value = values[i]
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x0 + s * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}">'
                f"<title>{escape(label)}: {_number(value)} {escape(name)}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + slot * 0.4:.1f}" y="{BAR_HEIGHT - bottom + 14}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    x = left
    for s, (name, _values) in enumerate(series):
        parts.append(
            f'<rect x="{x}" y="6" width="10" height="10" fill="{COLOURS[s % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="15">{escape(name)}</text>'
        )
        x += 14 + 7 * len(name) + 20
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(key: str, title: str, labels: Sequence[str], values: Sequence[float]) -> Markup:
    """Horizontal bars, one per label, each with its number written at its end."""
    left, right = 170, 50
    height = ROW_HEIGHT * max(1, len(labels)) + 10
    peak = _nice_max(max(values, default=0))
    parts = _open(title, height, key)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + i * ROW_HEIGHT
        w = (WIDTH - left - right) * value / peak
        shown = label if len(label) <= 26 else label[:25] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(shown)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{ROW_HEIGHT - 8}" '
            f'fill="{COLOURS[0]}"><title>{escape(label)}: {_number(value)}</title></rect>'
            f'<text x="{left + w + 4:.1f}" y="{y + 15}">{_number(value)}</text>'
        )
    if not labels:
        parts.append(f'<text x="{left}" y="20">nothing yet</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bucket(values: Sequence[float], buckets: Sequence[tuple[str, float]]) -> list[int]:
    """How many values fall in each bucket (upper bounds exclusive, in ascending order)."""
    counts = [0] * len(buckets)
    for value in values:
        counts[next(i for i, (_, bound) in enumerate(buckets) if value < bound)] += 1
    return counts


def csv_text(columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """CSV with a header; a text cell that a spreadsheet would run as a formula is quoted
    with a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [f"'{c}" if isinstance(c, str) and c.startswith(_CSV_RISKY) else c for c in row]
        )
    return out.getvalue()


def _rate(agreed: int, compared: int) -> str:
    return f"{round(100 * agreed / compared)} %" if compared else "–"


def _hours(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} hours" if value < 48 else f"{value / 24:.1f} days"


def desk_charts(stats: DeskStats) -> list[Chart]:
    """The dashboard's five charts, in the order an editor reads them."""
    days = [d.isoformat() for d in stats.days]
    flow = Chart(
        "flow",
        "Claims in and out per day",
        f"{sum(stats.claims_in)} claims added and {sum(stats.verdicts_out)} verdicts published "
        f"in the last {len(days)} days.",
        column_chart(
            "flow",
            "Claims added and verdicts published per day",
            [d[5:] for d in days],
            [("claims added", stats.claims_in), ("verdicts published", stats.verdicts_out)],
        ),
        ("day", "claims added", "verdicts published"),
        list(zip(days, stats.claims_in, stats.verdicts_out, strict=True)),
    )
    spread = bucket(stats.intake_hours, HOUR_BUCKETS)
    speed = Chart(
        "time-to-verdict",
        "Time from intake to verdict",
        f"Median {_hours(stats.median_hours)}, 90th percentile {_hours(stats.p90_hours)} "
        f"({len(stats.intake_hours)} claims with a published verdict).",
        bar_chart(
            "time-to-verdict",
            "Claims by time from intake to first published verdict",
            [label for label, _ in HOUR_BUCKETS],
            spread,
        ),
        ("time to verdict", "claims"),
        [(label, n) for (label, _), n in zip(HOUR_BUCKETS, spread, strict=True)],
    )
    ratings = Chart(
        "ratings",
        "Verdicts by rating",
        f"{sum(stats.by_rating.values())} published verdicts.",
        bar_chart(
            "ratings",
            "Published verdicts by rating",
            list(stats.by_rating),
            list(stats.by_rating.values()),
        ),
        ("rating", "verdicts"),
        list(stats.by_rating.items()),
    )
    people = stats.reviewers
    reviewers = Chart(
        "reviewers",
        "Reviewers: throughput and agreement",
        f"{sum(r.verdicts for r in people)} verdicts by {len(people)} "
        f"reviewer{'' if len(people) == 1 else 's'} "
        f"in the last {len(days)} days.",
        bar_chart(
            "reviewers",
            f"Verdicts per reviewer, last {len(days)} days",
            [r.reviewer for r in people],
            [r.verdicts for r in people],
        ),
        (
            "reviewer",
            f"verdicts ({len(days)} days)",
            "agreed with suggestion",
            "compared with suggestion",
            "suggestion agreement",
            "agreed in blind double review",
            "blind double reviews",
            "blind agreement",
        ),
        [
            (
                r.reviewer,
                r.verdicts,
                r.suggestion_agreed,
                r.suggestion_compared,
                _rate(r.suggestion_agreed, r.suggestion_compared),
                r.blind_agreed,
                r.blind_compared,
                _rate(r.blind_agreed, r.blind_compared),
            )
            for r in people
        ],
    )
    ages = bucket([s / 86400 for s in stats.open_age_seconds], AGE_BUCKETS)
    queue_age = Chart(
        "queue-age",
        "Age of the open queue",
        f"{len(stats.open_age_seconds)} open tasks; {sum(ages[2:])} older than 3 days.",
        bar_chart("queue-age", "Open tasks by age", [label for label, _ in AGE_BUCKETS], ages),
        ("age", "open tasks"),
        [(label, n) for (label, _), n in zip(AGE_BUCKETS, ages, strict=True)],
    )
    return [flow, speed, ratings, reviewers, queue_age]
