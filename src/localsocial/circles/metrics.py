"""The circles module's platform metrics (registered in ``circles.registrations``), by area and
month, for Insight to publish.  A circle's area is the one it was set up with (``Circle.area``);
circles without an area are not counted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth

from localsocial.circles.models import MembershipYear, Visit, VisitDayTotal
from localsocial.circles.services.help_totals import help_totals_kept
from localsocial.core.metrics import Observation, metric_month, metric_period_bounds

QUARTERS_PER_HOUR = 4
AREA_GSS = "circle__area__gss_code"


def _in_areas(rows: Any, area_gss_codes: Collection[str] | None, field: str = AREA_GSS) -> Any:
    rows = rows.filter(**{f"{field}__isnull": False})
    return rows if area_gss_codes is None else rows.filter(**{f"{field}__in": list(area_gss_codes)})


def help_hours(area_gss_codes: Collection[str] | None, start: dt.date, end: dt.date) -> list[Observation]:
    """Hours of help given: the length of the visits completed in each month (what the members
    paid in tokens; an older visit without it counts the request's estimate), in hours.  One
    query, on the daily totals where the database keeps them (as the circle's reports do)."""
    if help_totals_kept():
        rows = _in_areas(VisitDayTotal.objects.filter(day__gte=start, day__lte=end), area_gss_codes)
        grouped = rows.annotate(month=TruncMonth("day")).values(AREA_GSS, "month").annotate(q=Sum("quarters"))
    else:
        first, after = metric_period_bounds(start, end)
        rows = _in_areas(Visit.objects.filter(completed_at__gte=first, completed_at__lt=after), area_gss_codes)
        grouped = (
            rows.annotate(month=TruncMonth("completed_at")).values(AREA_GSS, "month")
            .annotate(q=Sum(Coalesce("quarters", "request__estimated_quarters")))
        )
    totals: dict[tuple[str, dt.date], int] = {}
    for row in grouped.order_by():
        key = (row[AREA_GSS], metric_month(row["month"]))
        totals[key] = totals.get(key, 0) + (row["q"] or 0)
    return [
        Observation(area_gss=gss, period=month, value=Decimal(quarters) / QUARTERS_PER_HOUR)
        for (gss, month), quarters in totals.items()
        if quarters
    ]


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, index, last = [], start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    while index <= last:
        months.append(dt.date(index // 12, index % 12 + 1, 1))
        index += 1
    return months


def active_members(area_gss_codes: Collection[str] | None, start: dt.date, end: dt.date) -> list[Observation]:
    """Active members: people whose membership year covers at least one day of the month (of
    the month's days inside the period), paid for or free.  A year joined but not yet paid for
    does not count; nor does it once it has lapsed.  One query, with a count per month."""
    field = f"member__{AREA_GSS}"
    months = _months(start, end)
    counts: dict[str, Any] = {}
    for number, month in enumerate(months):
        first = max(month, start)
        following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        last = min(following - dt.timedelta(days=1), end)
        # A year covers the days from starts_on up to the day before ends_on.
        counts[f"m{number}"] = Count("member", distinct=True, filter=Q(starts_on__lte=last, ends_on__gt=first))
    rows = _in_areas(
        MembershipYear.objects.filter(starts_on__lte=end, ends_on__gt=start)
        .filter(Q(payment__isnull=False) | Q(fee_pence=0)),
        area_gss_codes, field,
    )
    observations = []
    for row in rows.values(field).annotate(**counts).order_by():
        for number, month in enumerate(months):
            if row[f"m{number}"]:
                observations.append(Observation(area_gss=row[field], period=month, value=row[f"m{number}"]))
    return observations
