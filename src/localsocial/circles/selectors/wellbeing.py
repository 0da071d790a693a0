"""Reading wellbeing check-ins: a member's own history, and a circle's trend.

The trend is by calendar quarter, not by month: members are asked about once every 91 days, so
a month holds a third of the people a quarter does and its figures would swing with who
happened to answer.  In each quarter a member counts once (their latest answers in it), so
somebody answering twice does not weigh double.

Small numbers: every group of fewer than ``SMALL_GROUP`` people is marked on the coordinators'
page (they already see each member's answers, so nothing is hidden from them there), and its
figures are left out of the CSV download, which is made to be shared with partners.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from localsocial.circles.models import Circle, Member, WellbeingCheckIn
from localsocial.circles.models.reports import LONELY_FROM

SMALL_GROUP = 5
QUARTERS_SHOWN = 8


def wellbeing_history(*, member: Member) -> list[WellbeingCheckIn]:
    """``member``'s check-ins, newest first, with who entered them.  One query."""
    return list(
        WellbeingCheckIn.objects.filter(member=member).select_related("entered_by").order_by("-taken_on", "-id")
    )


@dataclass(frozen=True)
class Quarter:
    start: dt.date
    people: int
    mean_score: float | None
    lonely: int  # people whose score is LONELY_FROM or more

    @property
    def label(self) -> str:
        return _("%(year)d quarter %(n)d") % {"year": self.start.year, "n": (self.start.month - 1) // 3 + 1}

    @property
    def short_label(self) -> str:
        return f"{self.start.year} Q{(self.start.month - 1) // 3 + 1}"

    @property
    def lonely_percent(self) -> int | None:
        return round(100 * self.lonely / self.people) if self.people else None

    @property
    def small(self) -> bool:
        return self.people < SMALL_GROUP


@dataclass(frozen=True)
class PairedChange:
    """Members with two check-ins or more: their first score against their latest."""

    people: int = 0
    better: int = 0  # the latest score is lower: less lonely
    same: int = 0
    worse: int = 0
    mean_change: float | None = None  # latest minus first; below 0 is better

    @property
    def small(self) -> bool:
        return self.people < SMALL_GROUP


@dataclass(frozen=True)
class WellbeingTrend:
    quarters: list[Quarter] = field(default_factory=list)
    change: PairedChange = field(default_factory=PairedChange)
    people: int = 0  # members with any check-in
    lonely_from: int = LONELY_FROM
    small_group: int = SMALL_GROUP


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _previous_quarter(start: dt.date) -> dt.date:
    return dt.date(start.year - 1, 10, 1) if start.month == 1 else dt.date(start.year, start.month - 3, 1)


def wellbeing_trend(*, circle: Circle, today: dt.date | None = None) -> WellbeingTrend:
    """The circle's check-ins over the last ``QUARTERS_SHOWN`` quarters (oldest first, empty
    quarters included), with each member counted once a quarter, and the paired change of
    every member with two check-ins or more (all time).  One query."""
    today = today or timezone.localdate()
    starts = [quarter_start(today)]
    while len(starts) < QUARTERS_SHOWN:
        starts.append(_previous_quarter(starts[-1]))
    starts.reverse()
    rows = (
        WellbeingCheckIn.objects.filter(circle=circle, taken_on__lte=today)
        .order_by("member_id", "taken_on", "id").values_list("member_id", "taken_on", "score")
    )
    latest_in_quarter: dict[tuple[dt.date, int], int] = {}
    first: dict[int, int] = {}
    latest: dict[int, int] = {}
    count: dict[int, int] = {}
    for member_id, taken_on, score in rows:
        latest_in_quarter[(quarter_start(taken_on), member_id)] = score  # rows are in date order
        first.setdefault(member_id, score)
        latest[member_id] = score
        count[member_id] = count.get(member_id, 0) + 1
    quarters = []
    for start in starts:
        scores = [score for (q, _member), score in latest_in_quarter.items() if q == start]
        quarters.append(Quarter(
            start=start, people=len(scores), mean_score=round(sum(scores) / len(scores), 1) if scores else None,
            lonely=sum(1 for s in scores if s >= LONELY_FROM),
        ))
    changes = [latest[m] - first[m] for m, n in count.items() if n >= 2]
    change = PairedChange(
        people=len(changes), better=sum(1 for c in changes if c < 0), same=sum(1 for c in changes if c == 0),
        worse=sum(1 for c in changes if c > 0),
        mean_change=round(sum(changes) / len(changes), 1) if changes else None,
    )
    return WellbeingTrend(quarters=quarters, change=change, people=len(count))


def wellbeing_csv(trend: WellbeingTrend) -> str:
    """The trend as CSV for sharing: figures of a group of fewer than ``SMALL_GROUP`` people
    are left empty and marked ``suppressed`` (counts under 5 can point at a person)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["period", "quarter_start", "people", "mean_score_3_to_9", f"percent_scoring_{LONELY_FROM}_or_more",
                     "note"])
    for q in trend.quarters:
        if q.people == 0:
            writer.writerow([q.short_label, q.start.isoformat(), 0, "", "", ""])
        elif q.small:
            writer.writerow([q.short_label, q.start.isoformat(), f"<{SMALL_GROUP}", "", "", "suppressed"])
        else:
            writer.writerow([q.short_label, q.start.isoformat(), q.people, f"{q.mean_score:.1f}", q.lonely_percent, ""])
    writer.writerow([])
    writer.writerow(["paired_change_first_to_latest", "people", "better", "same", "worse", "mean_change", "note"])
    c = trend.change
    if c.people == 0:
        writer.writerow(["all_time", 0, "", "", "", "", ""])
    elif c.small:
        writer.writerow(["all_time", f"<{SMALL_GROUP}", "", "", "", "", "suppressed"])
    else:
        writer.writerow(["all_time", c.people, c.better, c.same, c.worse, f"{c.mean_change:+.1f}", ""])
    return buffer.getvalue()


def _svg_data_uri(chart: Any) -> str:
    """The chart as a ``data:`` address, without pygal's script (an image runs none anyway)."""
    svg = chart.render()
    svg = re.sub(rb"<script\b.*?</script>", b"", svg, flags=re.DOTALL)
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _style():  # type: ignore[no-untyped-def]
    from pygal.style import Style

    return Style(
        background="#ffffff", plot_background="#ffffff", foreground="#0b0c0c", foreground_strong="#0b0c0c",
        foreground_subtle="#505a5f", colors=("#1d70b8", "#d4351c"), font_family="Arial, sans-serif",
        label_font_size=14, major_label_font_size=14, legend_font_size=14, title_font_size=16,
    )


def wellbeing_trend_chart(trend: WellbeingTrend) -> str:
    """The quarters' mean scores as an SVG line chart (pygal, no script) in a ``data:``
    address for an ``<img>``; "" when there is nothing to draw.  The page's table holds the
    same figures (decision 0010)."""
    if not any(q.people for q in trend.quarters):
        return ""
    import pygal

    chart = pygal.Line(
        style=_style(), js=[], width=800, height=360, show_dots=True, dots_size=5, allow_interruptions=True,
        legend_at_bottom=True, range=(3, 9), y_labels=list(range(3, 10)), x_label_rotation=30,
        title=_("Mean loneliness score each quarter (3 to 9, lower is better)"),
    )
    chart.x_labels = [q.short_label for q in trend.quarters]
    chart.add(_("Mean score"), [q.mean_score for q in trend.quarters])
    return _svg_data_uri(chart)


def wellbeing_history_chart(history: list[WellbeingCheckIn]) -> str:
    """A member's own scores over time (oldest first) as a small line chart; "" for fewer
    than two check-ins (one dot says nothing the table does not)."""
    if len(history) < 2:
        return ""
    import pygal

    points = list(reversed(history))
    chart = pygal.Line(
        style=_style(), js=[], width=600, height=300, show_dots=True, dots_size=5, show_legend=False,
        range=(3, 9), y_labels=list(range(3, 10)), x_label_rotation=30,
        title=_("Your score each time (3 to 9, lower is better)"),
    )
    chart.x_labels = [formats.date_format(c.taken_on, "j M Y") for c in points]
    chart.add(_("Score"), [c.score for c in points])
    return _svg_data_uri(chart)
