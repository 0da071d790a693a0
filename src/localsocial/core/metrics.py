"""The registry of platform metrics: figures per area and month that Insight will publish.

A module registers each of its metrics in its ``AppConfig.ready()``:

    metric_register(
        "stories-published", label=gettext_lazy("Stories published"), unit="stories",
        description=gettext_lazy("Stories published about services in the area, by month."),
        fn=stories_published,
    )

``fn(area_gss_codes, start, end) -> list[Observation]``:

* ``area_gss_codes`` is a collection of ONS GSS codes to limit the figures to, or None for
  every area;
* ``start`` and ``end`` are dates, both included; the figures are by calendar month in the
  site's time zone, ``period`` being the month's first day;
* an observation is returned only for an area and month with something to count (a missing one
  means zero), in a fixed number of queries whatever the period or the number of areas.

The slug is the metric's lasting identifier (it will be part of open data addresses); registering
the same slug twice replaces the earlier metric, so reloading a module is safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone


@dataclass(frozen=True, order=True)
class Observation:
    area_gss: str
    period: dt.date  # the first day of the month
    value: int | Decimal


MetricFunction = Callable[[Collection[str] | None, dt.date, dt.date], list[Observation]]


@dataclass(frozen=True)
class Metric:
    slug: str
    label: Any  # lazy translations
    unit: str  # what one counts: "stories", "hours", "people"
    description: Any
    fn: MetricFunction


_metrics: dict[str, Metric] = {}


def metric_register(slug: str, *, label: Any, unit: str, description: Any, fn: MetricFunction) -> None:
    """Add (or replace) the metric ``slug``."""
    _metrics[slug] = Metric(slug=slug, label=label, unit=unit, description=description, fn=fn)


def metrics() -> list[Metric]:
    """Every registered metric, by slug."""
    return [_metrics[slug] for slug in sorted(_metrics)]


def metric_get(slug: str) -> Metric:
    """The metric ``slug``; KeyError when none is registered."""
    return _metrics[slug]


def metric_observations(
    slug: str, *, area_gss_codes: Collection[str] | None, start: dt.date, end: dt.date
) -> list[Observation]:
    """The metric's observations, sorted by area then month."""
    if end < start:
        raise ValueError("The period ends before it starts.")
    return sorted(metric_get(slug).fn(area_gss_codes, start, end))


# --- For the modules' metric functions ---------------------------------------------------------

def metric_period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The days ``start`` to ``end`` as [first moment, moment after the last) in the site's
    time zone, for filtering a datetime column."""
    zone = timezone.get_current_timezone()
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), zone),
        timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), zone),
    )


def metric_month(value: dt.date | dt.datetime) -> dt.date:
    """The first day of the month of a ``TruncMonth`` value (a date for a date column, an aware
    datetime for a datetime column), in the site's time zone."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)
