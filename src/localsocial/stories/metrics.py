"""The stories module's platform metrics (registered in ``stories.registrations``), by area and
month, for Insight to publish.

A story's areas are those its lists use (``StoryListing`` with scope "area"): every area served
by the organisation running one of its services or by any organisation above it.  A story about
services in two areas counts once in each.  Only stories published now are counted: a story
restricted or withdrawn since leaves the figures, as it leaves the lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncMonth

from localsocial.core.metrics import Observation, metric_month, metric_period_bounds
from localsocial.directory.models import Area
from localsocial.stories.models import ListingScope, StoryListing


def _by_area_and_month(
    moment: str, area_gss_codes: Collection[str] | None, start: dt.date, end: dt.date
) -> list[Observation]:
    """Stories whose ``moment`` (a datetime column of the listing) falls in the period, by
    area and month.  Two queries."""
    first, after = metric_period_bounds(start, end)
    rows: Any = StoryListing.objects.filter(
        scope=ListingScope.AREA, **{f"{moment}__gte": first, f"{moment}__lt": after}
    )
    areas = Area.objects.all()
    if area_gss_codes is not None:
        areas = areas.filter(gss_code__in=list(area_gss_codes))
        rows = rows.filter(scope_id__in=areas.values("pk"))
    counts = list(
        rows.annotate(month=TruncMonth(moment)).values("scope_id", "month")
        .annotate(n=Count("story_id")).order_by()
    )
    if not counts:
        return []
    gss_by_id = dict(areas.filter(pk__in={row["scope_id"] for row in counts}).values_list("pk", "gss_code"))
    totals: dict[tuple[str, dt.date], int] = {}
    for row in counts:
        key = (gss_by_id[row["scope_id"]], metric_month(row["month"]))
        totals[key] = totals.get(key, 0) + row["n"]
    return [Observation(area_gss=gss, period=month, value=n) for (gss, month), n in totals.items()]


def stories_published(area_gss_codes: Collection[str] | None, start: dt.date, end: dt.date) -> list[Observation]:
    """Stories published in each month about services in each area.  Two queries."""
    return _by_area_and_month("published_at", area_gss_codes, start, end)


def stories_responded(area_gss_codes: Collection[str] | None, start: dt.date, end: dt.date) -> list[Observation]:
    """Published stories about services in each area whose first response came in each month.
    Two queries."""
    return _by_area_and_month("first_response_at", area_gss_codes, start, end)
