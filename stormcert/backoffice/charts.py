"""Report charts: pygal SVG rendered on the server and inlined in the page.

No chart script reaches the browser (the site ships no external JavaScript): pygal is asked
for no scripts, and the one inline config script it always writes is removed. The SVG is one
image to assistive technology (`role="img"` with a summary as its name); the figures
themselves are in the table beside each chart. A report with nothing to show gets no chart
(the template says "No data in this period") rather than an empty frame.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pygal
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from stormcert.backoffice.reports import (
    Expiring,
    MonthActivity,
    PassRate,
    Revenue,
    TimeToQualify,
    TrainerActivity,
)

# The site's palette (site.css): brand green first, then colours that stay apart for colour-
# blind readers and keep 3:1 contrast against white for the bars.
BRAND = "#0b5d4b"
ACCENT = "#1d4f91"
PALETTE = (BRAND, ACCENT, "#a35a00", "#6b4c9a", "#2f7f6e", "#5b6b67", "#8a3d6b")
REFUND_COLOUR = "#a3221a"  # --error: refunds read as money going out
INK = "#1c2b27"
MUTED = "#4f605b"
LINE = "#d5dedb"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground=INK,
    foreground_strong=INK,
    foreground_subtle=MUTED,
    guide_stroke_color=LINE,
    major_guide_stroke_color=LINE,
    opacity="1",
    opacity_hover=".85",
    transition="0s",
    colors=PALETTE,
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    legend_font_family=FONT,
    value_font_family=FONT,
    title_font_family=FONT,
    tooltip_font_family=FONT,
    no_data_font_family=FONT,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=13,
    # Printed values sit inside the bars: white on the palette's dark colours.
    value_colors=("#ffffff",) * 8,
)

# Drawn in these units; the page scales the SVG to its column (viewBox only, no fixed size).
WIDTH, HEIGHT = 800, 360

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    summary: str  # the chart's name for screen readers, also used as its caption


def _base(kind: type[Any], **options: Any) -> Any:
    config: dict[str, Any] = {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": False,
        "width": WIDTH,
        "height": HEIGHT,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "margin": 12,
        # pygal under-reserves room for a bottom legend at this font size; without this it is clipped.
        "margin_bottom": 36,
        "spacing": 12,
        "show_minor_y_labels": True,
        "tooltip_border_radius": 4,
    }
    config.update(options)
    return kind(**config)


# pygal splits a bottom legend into equal columns and lets a long name run into the next one
# (the revenue chart's fee names overlapped and were cut off). Its text runs about 0.6 em per
# character at LEGEND_FONT, after a colour box.
LEGEND_FONT = 14


def _legend(labels: Sequence[str]) -> dict[str, Any]:
    """Options for a bottom legend of these names: as many columns as the longest name leaves room
    for (1 to 4). pygal adds the rows' height itself."""
    longest = max((len(label) for label in labels), default=0)
    per_column = longest * LEGEND_FONT * 0.62 + 40
    return {"legend_at_bottom_columns": max(1, min(4, len(labels), int((WIDTH - 24) // per_column)))}


def _render(chart: Any, summary: str) -> Chart:
    svg: str = chart.render(is_unicode=True)
    svg = _COMMENT.sub("", _SCRIPT.sub("", svg))
    name = escape(summary)
    # One image with a name; pygal's own "Pygal" title would otherwise be what a tooltip shows.
    svg = svg.replace("<title>Pygal</title>", f"<title>{name}</title>", 1)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{name}" focusable="false" ', 1)
    return Chart(svg=mark_safe(svg), summary=summary)  # noqa: S308 - pygal's SVG, labels escaped by it


def _counts_axis(largest: int) -> list[int]:
    """Whole-number ticks (people and certificates do not come in fifths), at most about eight."""
    step = max(1, -(-largest // 8))
    return list(range(0, max(largest, 1) + step, step))


def _month_label(month: date) -> str:
    return f"{month:%b %Y}"


def _list(parts: Sequence[str]) -> str:
    return "; ".join(parts)


def enrollment_chart(rows: Sequence[MonthActivity]) -> Chart | None:
    if not any(r.registrations or r.completions for r in rows):
        return None
    largest = max(max(r.registrations, r.completions) for r in rows)
    chart = _base(
        pygal.Bar,
        y_title="People",
        y_labels=_counts_axis(largest),
        x_label_rotation=-35,
        **_legend(["Registrations", "Completions"]),
    )
    chart.x_labels = [_month_label(r.month) for r in rows]
    chart.add("Registrations", [r.registrations for r in rows])
    chart.add("Completions", [r.completions for r in rows])
    summary = (
        f"Registrations and completions per month, {_month_label(rows[0].month)} to "
        f"{_month_label(rows[-1].month)}: {sum(r.registrations for r in rows)} registrations and "
        f"{sum(r.completions for r in rows)} completions in all."
    )
    return _render(chart, summary)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}%"


def pass_rate_chart(rows: Sequence[PassRate]) -> Chart | None:
    if not rows:
        return None

    # Several programs may have an exam of the same title: then each label names its program.
    several = len({r.program for r in rows}) > 1

    def exam_name(r: PassRate) -> str:
        named = several and not r.exam_title.startswith(f"{r.program} ")
        return f"{r.program} {r.exam_title}" if named else r.exam_title

    forms: list[tuple[str, str]] = []
    for r in rows:
        if (exam_name(r), r.form) not in forms:
            forms.append((exam_name(r), r.form))
    attempts = sorted({r.attempt for r in rows})
    rate = {(exam_name(r), r.form, r.attempt): r.rate for r in rows}
    # The form (question bank) is named only for an exam drawn from several: long labels side by
    # side ran into each other, and the table under the chart names every form.
    several_forms = {exam for exam, _ in forms if sum(1 for e, _ in forms if e == exam) > 1}
    labels = [f"{exam} · {form}" if exam in several_forms else exam for exam, form in forms]
    chart = _base(
        pygal.Bar,
        range=(0, 100),
        y_title="% passed",
        print_values=True,
        value_formatter=_percent,
        y_labels=[0, 20, 40, 60, 80, 100],
        **_legend([_ordinal(n) + " attempt" for n in attempts]),
    )
    chart.x_labels = labels
    for n in attempts:
        values = [rate.get((exam, form, n)) for exam, form in forms]
        chart.add(_ordinal(n) + " attempt", [None if v is None else float(v) for v in values])
    summary = "Pass rate by exam form and attempt: " + _list(
        [f"{exam_name(r)} ({r.form}), {_ordinal(r.attempt)} attempt {r.rate}% of {r.taken}" for r in rows]
    )
    return _render(chart, summary)


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def time_to_qualify_chart(result: TimeToQualify) -> Chart | None:
    if not result.count:
        return None
    largest = max(b.count for b in result.buckets)
    chart = _base(
        pygal.Bar,
        print_values=True,
        show_legend=False,
        y_title="Candidates",
        x_title="Days",
        y_labels=_counts_axis(largest),
    )
    chart.x_labels = [b.label for b in result.buckets]
    chart.add("Candidates", [b.count for b in result.buckets])
    summary = (
        f"Days from registration to qualifying for {result.count} candidates: median {result.median}, "
        f"middle half {result.p25} to {result.p75} days."
    )
    return _render(chart, summary)


def _dollars(value: float | None) -> str:
    return "" if value is None else f"${value:,.0f}"


def revenue_chart(result: Revenue) -> Chart | None:
    if result.is_empty:
        return None
    # Stacked: each month's bar is its sales by fee; refunds hang below zero in red.
    colours = (*(PALETTE[i % len(PALETTE)] for i in range(len(result.fees))), REFUND_COLOUR)
    style = Style(**{**STYLE.to_dict(), "colors": colours})
    chart = _base(
        pygal.StackedBar,
        style=style,
        y_title="US dollars",
        value_formatter=_dollars,
        x_label_rotation=-35,
        **_legend([*(fee.label for fee in result.fees), "Refunds"]),
    )
    chart.x_labels = [_month_label(m.month) for m in result.months]
    for fee in result.fees:
        chart.add(fee.label, [float(m.by_fee.get(fee.key, 0)) or None for m in result.months])
    chart.add("Refunds", [-float(m.refunds) or None for m in result.months])
    summary = (
        f"Revenue per month by fee: {_dollars(float(result.gross))} sold, {_dollars(float(result.refunds))} "
        f"refunded, {_dollars(float(result.net))} net."
    )
    return _render(chart, summary)


def trainer_chart(rows: Sequence[TrainerActivity]) -> Chart | None:
    if not rows:
        return None
    largest = max(max(r.held, r.registered, r.attended, r.surveys) for r in rows)
    chart = _base(
        pygal.HorizontalBar,
        print_values=True,
        height=max(240, 110 + 90 * len(rows)),
        y_labels=_counts_axis(largest),
        **_legend(["Sessions held", "Seats registered", "Attended", "Surveys answered"]),
    )
    names = [r.name for r in rows]
    chart.x_labels = names
    chart.add("Sessions held", [r.held for r in rows])
    chart.add("Seats registered", [r.registered for r in rows])
    chart.add("Attended", [r.attended for r in rows])
    chart.add("Surveys answered", [r.surveys for r in rows])
    summary = "Trainer of Record activity: " + _list(
        [
            f"{r.name}: {r.held} sessions held, {r.registered} registered, {r.attended} attended, "
            f"{r.surveys} surveys" + (f", average rating {r.rating} of 5" if r.rating is not None else "")
            for r in rows
        ]
    )
    return _render(chart, summary)


def expiring_chart(result: Expiring) -> Chart | None:
    if not result.certificates:
        return None
    largest = max(w.count for w in result.weeks)
    chart = _base(
        pygal.Bar,
        print_values=True,
        show_legend=False,
        y_title="Certificates",
        y_labels=_counts_axis(largest),
        x_label_rotation=-35,
    )
    chart.x_labels = [f"{w.week:%b} {w.week.day}" for w in result.weeks]
    chart.add("Certificates expiring", [w.count or None for w in result.weeks])
    summary = (
        f"{len(result.certificates)} certificates expire between {result.start:%B} {result.start.day} and "
        f"{result.end:%B} {result.end.day}, {result.end.year}, counted by the week they expire."
    )
    return _render(chart, summary)
