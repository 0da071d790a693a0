"""The organisation dashboard: what happened to the stories about an organisation and
everything in it, over a period of publication dates.

Every figure but one counts ``StoryListing`` rows of scope "org" (one per published story
per organisation on its services' lineage), so a figure counts each published story once,
whichever of the organisation's parts it is about, and stories that are not (or no longer)
published never count.  The counts are summed from the daily totals kept beside those rows
(``StoryDayTotal``, ``StoryDayTagTotal``: a row per organisation and day, so a year is at
most 366 rows however many stories); only the response times, since a median cannot be
added up from days, are read from the list rows themselves (the index alone, on
PostgreSQL).  Helpful ratings come from the responses of the organisation's subtree.  See
docs/stories-alerts-and-dashboard.md for the exact definition of each figure.

The page costs four queries whatever the number of stories (three when nothing was
answered): the database aggregates, Python only fills in months and formats.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import RowNumber, TruncMonth
from django.utils import timezone, translation

from localsocial.core.periods import months_between, period_bounds
from localsocial.directory.models import Organisation
from localsocial.stories.models import (
    Criticality,
    ListingScope,
    Response,
    ResponseStatus,
    StoryDayTagTotal,
    StoryDayTotal,
    StoryListing,
    TagPolarity,
)

TOP_TAGS = 10
PERCENTILES = (0.5, 0.9)


@dataclass(frozen=True)
class MonthFigures:
    month: dt.date  # the first day of the month
    stories: int = 0
    responded: int = 0
    change_planned: int = 0
    changed: int = 0


@dataclass(frozen=True)
class CountRow:
    label: str
    count: int
    value: Any = None  # the criticality (0-5, or None for "not rated") or the tag's id


@dataclass
class Dashboard:
    """The dashboard's figures for one organisation and period (both dates included)."""

    organisation: Organisation
    start: dt.date
    end: dt.date
    months: list[MonthFigures] = field(default_factory=list)
    criticality: list[CountRow] = field(default_factory=list)
    good_tags: list[CountRow] = field(default_factory=list)
    improve_tags: list[CountRow] = field(default_factory=list)
    # Seconds from publication to first response, over the stories that have one.
    median_seconds: float | None = None
    p90_seconds: float | None = None
    helpful_ratings: int = 0
    all_ratings: int = 0
    computed_at: dt.datetime | None = None

    @property
    def stories(self) -> int:
        return sum(m.stories for m in self.months)

    @property
    def responded(self) -> int:
        return sum(m.responded for m in self.months)

    @property
    def change_planned(self) -> int:
        return sum(m.change_planned for m in self.months)

    @property
    def changed(self) -> int:
        return sum(m.changed for m in self.months)

    @property
    def percent_responded(self) -> float | None:
        """Stories with a response as a percentage of stories; None when there are none."""
        return percentage(self.responded, self.stories)

    @property
    def percent_helpful(self) -> float | None:
        return percentage(self.helpful_ratings, self.all_ratings)


def percentage(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``, to one decimal place; None when ``whole`` is 0."""
    if not whole:
        return None
    return round(100 * part / whole, 1)


def _positions_needed(count: int) -> dict[float, tuple[int, int]]:
    """For each percentile, the 0-based positions of the two sorted values it interpolates,
    as PostgreSQL's ``percentile_cont`` does: around position ``fraction * (count - 1)`` (so
    the median of an even number of values is the mean of the middle two)."""
    needed = {}
    for fraction in PERCENTILES:
        low = math.floor(fraction * (count - 1))
        needed[fraction] = (low, min(low + 1, count - 1))
    return needed


class _PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: ``percentile_cont(f) WITHIN GROUP (ORDER BY x)``."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float) -> None:
        super().__init__(expression, fraction=f"{float(fraction)!r}")


class _EpochSeconds(Func):
    """A PostgreSQL interval in seconds, as a double."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::double precision"
    output_field = FloatField()


def _listing_rows(organisation: Organisation, start: dt.date, end: dt.date) -> QuerySet[StoryListing]:
    first, after = period_bounds(start, end)
    return StoryListing.objects.filter(
        scope=ListingScope.ORGANISATION, scope_id=organisation.pk, published_at__gte=first, published_at__lt=after
    )


def _wait() -> ExpressionWrapper:
    return ExpressionWrapper(F("first_response_at") - F("published_at"), output_field=DurationField())


LEVELS = [c.value for c in Criticality]
_COUNTERS = ("stories", "responded", "change_planned", "changed", "unrated", *(f"criticality_{n}" for n in LEVELS))


def _month_and_criticality(organisation: Organisation, dashboard: Dashboard) -> None:
    """Query 1: per month, the stories, those responded to, changes planned and made, and the
    stories at each criticality, summed from the organisation's daily totals in the period."""
    days = StoryDayTotal.objects.filter(organisation=organisation, day__gte=dashboard.start, day__lte=dashboard.end)
    summed: list[dict[str, Any]] = list(
        days.annotate(month=TruncMonth("day")).values("month").annotate(**{name: Sum(name) for name in _COUNTERS})
        .order_by("month")  # type: ignore[arg-type]  # sums by computed names
    )
    per_month = {row["month"]: row for row in summed}
    dashboard.months = []
    level_totals = dict.fromkeys(LEVELS, 0)
    unrated = 0
    for month in months_between(dashboard.start, dashboard.end):
        cell = per_month.get(month)
        if cell is None:
            dashboard.months.append(MonthFigures(month=month))
            continue
        dashboard.months.append(MonthFigures(
            month=month, stories=cell["stories"], responded=cell["responded"],
            change_planned=cell["change_planned"], changed=cell["changed"],
        ))
        for level in LEVELS:
            level_totals[level] += cell[f"criticality_{level}"]
        unrated += cell["unrated"]
    dashboard.criticality = [
        CountRow(label=str(Criticality(level).label), count=level_totals[level], value=level) for level in LEVELS
    ]
    if unrated:
        dashboard.criticality.append(CountRow(label="", count=unrated, value=None))


def _response_times(rows: QuerySet[StoryListing], dashboard: Dashboard) -> None:
    """Query 2: the median and 90th percentile of the time to first response.  PostgreSQL
    computes them with ``percentile_cont``; elsewhere the database numbers the waits in order
    and returns only the few rows the same interpolation needs."""
    count = dashboard.responded
    if not count:
        return
    answered = rows.filter(first_response_at__isnull=False)
    if connection.vendor == "postgresql":
        seconds = _EpochSeconds(_wait())
        figures = answered.aggregate(
            median=_PercentileCont(seconds, PERCENTILES[0]), p90=_PercentileCont(seconds, PERCENTILES[1])
        )
        dashboard.median_seconds, dashboard.p90_seconds = figures["median"], figures["p90"]
        return
    needed = _positions_needed(count)
    wanted = sorted({pos + 1 for pair in needed.values() for pos in pair})  # ROW_NUMBER counts from 1
    ranked = answered.annotate(
        wait=_wait(), position=Window(RowNumber(), order_by=[F("wait").asc(), F("story_id").asc()])
    ).filter(position__in=wanted)
    values = {row["position"] - 1: row["wait"] for row in ranked.values("position", "wait")}

    def interpolate(fraction: float) -> float | None:
        low, high = needed[fraction]
        if low not in values or high not in values:
            return None
        low_s, high_s = values[low].total_seconds(), values[high].total_seconds()
        position = fraction * (count - 1)
        return low_s + (position - math.floor(position)) * (high_s - low_s)

    dashboard.median_seconds, dashboard.p90_seconds = interpolate(PERCENTILES[0]), interpolate(PERCENTILES[1])


def _tags(organisation: Organisation, dashboard: Dashboard) -> None:
    """Query 3: how many of the stories carry each tag, summed from the organisation's daily
    tag totals in the period; the ten commonest of each polarity (ties by name)."""
    counts = (
        StoryDayTagTotal.objects.filter(
            organisation=organisation, day__gte=dashboard.start, day__lte=dashboard.end, stories__gt=0
        )
        .values("tag_id", "tag__name", "tag__polarity")
        .annotate(n=Sum("stories"))
        .order_by("-n", "tag__name", "tag_id")
    )
    good: list[CountRow] = []
    improve: list[CountRow] = []
    for row in counts:
        target = good if row["tag__polarity"] == TagPolarity.GOOD else improve
        if len(target) < TOP_TAGS:
            target.append(CountRow(label=row["tag__name"], count=row["n"], value=row["tag_id"]))
    dashboard.good_tags, dashboard.improve_tags = good, improve


def _ratings(organisation: Organisation, dashboard: Dashboard) -> None:
    """Query 4: helpful ratings of the responses the organisation and its parts published in
    the period, from the counts kept on each response (``services.responses.response_rate``
    keeps them with the ratings, in one transaction): one index range over the responses
    rather than a scan of every rating."""
    first, after = period_bounds(dashboard.start, dashboard.end)
    within = (
        Q(organisation__path__startswith=organisation.path)
        if organisation.path else Q(organisation_id=organisation.pk)
    )
    figures = Response.objects.filter(
        within, status=ResponseStatus.PUBLISHED, published_at__gte=first, published_at__lt=after,
    ).aggregate(helpful=Sum("helpful_count"), unhelpful=Sum("not_helpful_count"))
    helpful, unhelpful = figures["helpful"] or 0, figures["unhelpful"] or 0
    dashboard.helpful_ratings, dashboard.all_ratings = helpful, helpful + unhelpful


def dashboard_for_organisation(*, organisation: Organisation, start: dt.date, end: dt.date) -> Dashboard:
    """Every figure of the dashboard for stories about ``organisation`` (and everything in it)
    published from ``start`` to ``end`` (both included, in the site's time zone).  At most
    four queries, whatever the number of stories.  The caller checks permission
    (``stories.view_dashboard``)."""
    dashboard = Dashboard(organisation=organisation, start=start, end=end, computed_at=timezone.now())
    _month_and_criticality(organisation, dashboard)
    _response_times(_listing_rows(organisation, start, end), dashboard)
    _tags(organisation, dashboard)
    _ratings(organisation, dashboard)
    return dashboard


def dashboard_for_organisation_cached(
    *, organisation: Organisation, start: dt.date, end: dt.date, seconds: int | None = None
) -> Dashboard:
    """``dashboard_for_organisation``, kept in the cache for ``seconds`` (the setting
    ``STORIES_DASHBOARD_CACHE_SECONDS``, 300 by default; 0 turns the cache off).  A large
    organisation's figures take a moment to work out and change slowly; the page says when
    they were worked out.  No queries when the figures are in the cache."""
    if seconds is None:
        seconds = int(getattr(settings, "STORIES_DASHBOARD_CACHE_SECONDS", 300))
    if seconds <= 0:
        return dashboard_for_organisation(organisation=organisation, start=start, end=end)
    # The labels (criticality) are in the reader's language.
    key = f"stories:dashboard:{organisation.pk}:{start.isoformat()}:{end.isoformat()}:{translation.get_language()}"
    cached = cache.get(key)
    if isinstance(cached, Dashboard):
        return cached
    dashboard = dashboard_for_organisation(organisation=organisation, start=start, end=end)
    cache.set(key, dashboard, seconds)
    return dashboard
