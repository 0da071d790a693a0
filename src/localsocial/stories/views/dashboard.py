"""The organisation dashboard: figures about the stories of an organisation and everything in
it, as tables with charts, and the same figures as CSV.  For its staff (any role, at it or
above it), moderators and site administrators (``stories.view_dashboard``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from localsocial.core.charts import Chart, bar_chart
from localsocial.core.csv import protect_cell
from localsocial.core.jinja2env import date_format
from localsocial.core.text import HOUR, duration_words, percent_text
from localsocial.directory.models import Organisation
from localsocial.stories.forms.alerts import DateRangeForm
from localsocial.stories.selectors.dashboard import Dashboard, dashboard_for_organisation_cached


def _organisation_for_dashboard(request: HttpRequest, slug: str) -> Organisation:
    organisation = get_object_or_404(Organisation, slug=slug)
    if not request.user.has_perm("stories.view_dashboard", organisation):
        raise PermissionDenied(_("The dashboard is for the staff of this organisation."))
    return organisation


def _charts(data: Dashboard) -> dict[str, Chart]:
    """The pictures of the tables: stories per month, criticality and the two kinds of tag."""
    see_table = _("The same figures are in the table below.")
    charts = {
        "months": bar_chart(
            title=_("Stories published each month"),
            labels=[date_format(m.month, "M Y") for m in data.months],
            values=[m.stories for m in data.months],
            alt=_("Bar chart of the stories published each month.") + " " + see_table,
        ),
        "criticality": bar_chart(
            title=_("Stories by criticality"),
            labels=[row.label or _("Not rated") for row in data.criticality],
            values=[row.count for row in data.criticality],
            alt=_("Bar chart of the stories at each criticality.") + " " + see_table,
            horizontal=True,
        ),
    }
    if data.good_tags:
        charts["good_tags"] = bar_chart(
            title=_("What was good: commonest tags"),
            labels=[row.label for row in data.good_tags], values=[row.count for row in data.good_tags],
            alt=_("Bar chart of the commonest tags for what was good.") + " " + see_table, horizontal=True,
        )
    if data.improve_tags:
        charts["improve_tags"] = bar_chart(
            title=_("What could be improved: commonest tags"),
            labels=[row.label for row in data.improve_tags], values=[row.count for row in data.improve_tags],
            alt=_("Bar chart of the commonest tags for what could be improved.") + " " + see_table, horizontal=True,
        )
    return charts


def _query_string(start: dt.date, end: dt.date) -> str:
    return f"from={start.isoformat()}&to={end.isoformat()}"


@login_required
@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation_for_dashboard(request, slug)
    form = DateRangeForm(request.GET or None, today=timezone.localdate())
    context: dict[str, Any] = {"org": organisation, "form": form}
    if form.is_bound and not form.is_valid():
        context["page_title"] = _("Error: Stories dashboard for %(name)s") % {"name": organisation.name}
        return render(request, "stories/dashboard/dashboard.html", context)
    start, end = form.period()
    data = dashboard_for_organisation_cached(organisation=organisation, start=start, end=end)
    context.update(
        page_title=_("Stories dashboard for %(name)s") % {"name": organisation.name},
        data=data,
        charts=_charts(data) if data.stories else {},
        period_query=_query_string(start, end),
        duration_words=duration_words,
        percent_text=percent_text,
    )
    return render(request, "stories/dashboard/dashboard.html", context)


def dashboard_csv_rows(data: Dashboard) -> list[list[Any]]:
    """The dashboard as one tidy table: ``measure, period, category, value``.  ``period`` is
    a month (``2026-01``) or the whole period (``2025-12-01/2026-11-27``); ``category`` is a
    criticality (0-5, or "not rated") or a tag's name; empty values are figures that do not
    exist (no responses, no ratings)."""
    whole = f"{data.start.isoformat()}/{data.end.isoformat()}"
    rows: list[list[Any]] = [["measure", "period", "category", "value"]]
    for month in data.months:
        period = f"{month.month:%Y-%m}"
        rows += [
            ["stories", period, "", month.stories],
            ["responded", period, "", month.responded],
            ["change_planned", period, "", month.change_planned],
            ["change_made", period, "", month.changed],
        ]

    def hours(seconds: float | None) -> str:
        return "" if seconds is None else f"{seconds / HOUR:.2f}"

    rows += [
        ["stories", whole, "", data.stories],
        ["responded", whole, "", data.responded],
        ["percent_responded", whole, "", "" if data.percent_responded is None else data.percent_responded],
        ["median_hours_to_first_response", whole, "", hours(data.median_seconds)],
        ["p90_hours_to_first_response", whole, "", hours(data.p90_seconds)],
        ["change_planned", whole, "", data.change_planned],
        ["change_made", whole, "", data.changed],
    ]
    rows += [
        ["criticality", whole, "not rated" if row.value is None else row.value, row.count] for row in data.criticality
    ]
    rows += [["tag_good", whole, protect_cell(row.label), row.count] for row in data.good_tags]
    rows += [["tag_improve", whole, protect_cell(row.label), row.count] for row in data.improve_tags]
    rows += [
        ["helpful_ratings", whole, "", data.helpful_ratings],
        ["all_ratings", whole, "", data.all_ratings],
        ["percent_helpful", whole, "", "" if data.percent_helpful is None else data.percent_helpful],
    ]
    return rows


@login_required
@require_GET
def dashboard_csv(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation_for_dashboard(request, slug)
    form = DateRangeForm(request.GET or None, today=timezone.localdate())
    if form.is_bound and not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    start, end = form.period()
    data = dashboard_for_organisation_cached(organisation=organisation, start=start, end=end)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(dashboard_csv_rows(data))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"stories-dashboard-{organisation.slug}-{start.isoformat()}-to-{end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns: list[URLPattern] = [
    path("organisations/<slug:slug>/dashboard/", dashboard, name="dashboard"),
    path("organisations/<slug:slug>/dashboard.csv", dashboard_csv, name="dashboard_csv"),
]
