"""Period arithmetic for dashboards and reports: a period is a pair of dates, both days
included, read in the site's time zone."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period as [first moment, moment after the last day) in the site's time zone."""
    zone = timezone.get_current_timezone()
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), zone),
        timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), zone),
    )


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of every month from ``start``'s to ``end``'s."""
    months = []
    index, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    while index <= last:
        months.append(dt.date(index // 12, index % 12 + 1, 1))
        index += 1
    return months


def year_after(day: dt.date) -> dt.date:
    """The same day a year later; 28 February after a 29 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)
