"""A circle's reports for its coordinators and site administrators: members, helpers, help
given, waiting times, tokens, money and the estimated savings to public services, over a
period; each section as figures, a chart (a picture of its table, decision 0010) and a table,
and as CSV.  The savings proxies page sets the values behind the estimate.

Every page authorises with ``coordinator_page`` (``circles.coordinate`` on the circle): a
coordinator of another circle gets 403, an unknown circle 404."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, re_path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from localsocial.accounts.actors import signed_in_actor
from localsocial.circles.forms.membership import money
from localsocial.circles.forms.reports import ReportPeriodForm, SavingsProxyForm
from localsocial.circles.models import Circle, HelpCategory, SavingsBasis
from localsocial.circles.selectors import reports as selectors
from localsocial.circles.services.circles import SLUG_URL
from localsocial.circles.services.payments import tokens_text
from localsocial.circles.services.reports import savings_proxy_remove, savings_proxy_set
from localsocial.circles.views.coordinate import coordinator_page
from localsocial.core.charts import Chart, bar_chart
from localsocial.core.csv import protect_cell
from localsocial.core.forms import form_errors_apply, page_title
from localsocial.core.jinja2env import date_format
from localsocial.core.text import duration_words

SECTIONS = ("members", "helpers", "help", "waits", "tokens", "money", "savings")


@dataclass
class Reports:
    members: selectors.MembersReport
    helpers: selectors.HelpersReport
    help: selectors.HelpReport
    waits: selectors.WaitReport
    tokens: selectors.TokensReport
    money: selectors.MoneyReport
    savings: selectors.SavingsEstimate


_SELECTORS: dict[str, Callable[..., Any]] = {
    "members": selectors.members_report,
    "helpers": selectors.helpers_report,
    "help": selectors.help_report,
    "waits": selectors.wait_report,
    "tokens": selectors.tokens_report,
    "money": selectors.money_report,
    "savings": selectors.savings_estimate,
}


def hours_text(hours: float) -> str:
    return f"{hours:.2f}".rstrip("0").rstrip(".")


def _month_labels(months: list[Any]) -> list[str]:
    return [date_format(m.month, "M Y") for m in months]


def _charts(data: Reports) -> dict[str, Chart]:
    """The pictures of the tables, each drawn only when there is something to show."""
    see_table = _("The same figures are in the table below.")
    charts: dict[str, Chart] = {}
    if data.members.joined or data.members.lapsed:
        charts["members"] = bar_chart(
            title=_("Members who joined each month"), labels=_month_labels(data.members.months),
            values=[m.joined for m in data.members.months],
            alt=_("Bar chart of the members who joined each month.") + " " + see_table,
        )
    if data.help.quarters:
        charts["help"] = bar_chart(
            title=_("Hours of help by kind, to the nearest hour"),
            labels=[row.label for row in data.help.categories],
            values=[round(row.hours) for row in data.help.categories],
            alt=_("Bar chart of the hours of help given for each kind of help, to the nearest hour.") + " " + see_table,
            horizontal=True,
        )
    spent = [m.spent for m in data.tokens.months]
    if any(spent):
        charts["tokens"] = bar_chart(
            title=_("Tokens spent on help each month, to the nearest token"), labels=_month_labels(data.tokens.months),
            values=[round(q / 4) for q in spent],
            alt=_("Bar chart of the tokens members spent on help each month, to the nearest token.") + " " + see_table,
        )
    if data.money.total:
        charts["money"] = bar_chart(
            title=_("Money received each month, to the nearest pound"), labels=_month_labels(data.money.months),
            values=[round(m.total / 100) for m in data.money.months],
            alt=_("Bar chart of the money received each month, to the nearest pound.") + " " + see_table,
        )
    if data.savings.total_pence:
        charts["savings"] = bar_chart(
            title=_("Estimated savings added up month by month, to the nearest pound"),
            labels=_month_labels(data.savings.months),
            values=[round(m.cumulative_pence / 100) for m in data.savings.months],
            alt=_("Bar chart of the estimated savings to public services, added up month by month, "
                  "to the nearest pound.") + " " + see_table,
        )
    return charts


def _period_form(request: HttpRequest) -> ReportPeriodForm:
    form = ReportPeriodForm(request.GET or None, today=timezone.localdate())
    if form.is_bound:
        form.is_valid()
    return form


def _reports(circle: Circle, form: ReportPeriodForm) -> Reports:
    start, end = form.period()
    return Reports(**{name: select(circle=circle, start=start, end=end) for name, select in _SELECTORS.items()})


@coordinator_page
@require_GET
def reports(request: HttpRequest, circle: Circle) -> HttpResponse:
    form = _period_form(request)
    title = _("Reports for %(circle)s") % {"circle": circle.name}
    context: dict[str, Any] = {
        "circle": circle, "form": form, "page_title": page_title(title, form), "money": money,
        "tokens_text": tokens_text, "hours_text": hours_text, "duration_words": duration_words,
        "bases": SavingsBasis, "sections": SECTIONS,
    }
    if form.errors:
        return render(request, "circles/reports/reports.html", context, status=400)
    data = _reports(circle, form)
    start, end = form.period()
    context.update(data=data, charts=_charts(data), start=start, end=end, period_query=form.query_string())
    return render(request, "circles/reports/reports.html", context)


# --- CSV -------------------------------------------------------------------------------------------

Rows = list[list[Any]]


def _members_rows(report: selectors.MembersReport, whole: str) -> Rows:
    rows: Rows = []
    for month in report.months:
        period = f"{month.month:%Y-%m}"
        rows += [["members_joined", period, "", month.joined], ["members_lapsed", period, "", month.lapsed],
                 ["members_became_helpers", period, "", month.became_helpers]]
    rows += [
        ["members_joined", whole, "", report.joined], ["members_lapsed", whole, "", report.lapsed],
        ["members_became_helpers", whole, "", report.became_helpers],
        ["members_active_now", whole, "", report.active_now], ["members_paid_at_end", whole, "", report.paid_at_end],
    ]
    return rows


def _helpers_rows(report: selectors.HelpersReport, whole: str) -> Rows:
    rows: Rows = []
    for row in report.rows:
        rows += [["helpers_active_now", whole, row.kind, row.active], ["helpers_vetted_now", whole, row.kind, row.vetted],
                 ["helpers_who_helped", whole, row.kind, row.helped], ["helpers_joined", whole, row.kind, row.joined]]
    return rows


def _help_rows(report: selectors.HelpReport, whole: str) -> Rows:
    rows: Rows = []
    for month in report.months:
        period = f"{month.month:%Y-%m}"
        rows += [["requests", period, "", month.requests], ["visits_completed", period, "", month.visits],
                 ["hours_of_help", period, "", hours_text(month.hours)]]
    for row in report.categories:
        rows += [
            ["requests", whole, row.category, row.requests], ["requests_open", whole, row.category, row.open],
            ["requests_arranged", whole, row.category, row.arranged], ["requests_done", whole, row.category, row.done],
            ["requests_cancelled", whole, row.category, row.cancelled],
            ["visits_completed", whole, row.category, row.visits],
            ["hours_of_help", whole, row.category, hours_text(row.hours)],
        ]
    return rows


def _wait_rows(report: selectors.WaitReport, whole: str) -> Rows:
    def hours(seconds: float | None) -> str:
        return "" if seconds is None else f"{seconds / 3600:.2f}"

    return [["visits_checked_in", whole, "", report.count],
            ["median_hours_request_to_visit", whole, "", hours(report.median_seconds)],
            ["p90_hours_request_to_visit", whole, "", hours(report.p90_seconds)]]


def _tokens_rows(report: selectors.TokensReport, whole: str) -> Rows:
    rows: Rows = []
    for month in report.months:
        rows += [[f"tokens_{name}", f"{month.month:%Y-%m}", "", tokens_text(getattr(month, name))]
                 for name in selectors.TOKEN_MEASURES]
    rows += [[f"tokens_{name}", whole, "", tokens_text(report.total(name))] for name in selectors.TOKEN_MEASURES]
    return [*rows, ["corrections", whole, "", report.reversals]]


def _money_rows(report: selectors.MoneyReport, whole: str) -> Rows:
    def pounds(pence: int) -> str:
        return f"{pence / 100:.2f}"

    rows: Rows = []
    for month in report.months:
        period = f"{month.month:%Y-%m}"
        rows += [["pounds_fees", period, "", pounds(month.fees)], ["pounds_tokens", period, "", pounds(month.tokens)],
                 ["pounds_gifts", period, "", pounds(month.gifts)]]
    rows += [["pounds_fees", whole, "", pounds(report.fees)], ["pounds_tokens", whole, "", pounds(report.tokens)],
             ["pounds_gifts", whole, "", pounds(report.gifts)], ["payments", whole, "", report.payments]]
    return rows


def _savings_rows(report: selectors.SavingsEstimate, whole: str) -> Rows:
    rows: Rows = []
    for month in report.months:
        period = f"{month.month:%Y-%m}"
        rows += [["savings_pounds", period, "", f"{month.pence / 100:.2f}"],
                 ["savings_pounds_cumulative", period, "", f"{month.cumulative_pence / 100:.2f}"]]
    for row in report.rows:
        proxy = row.proxy
        rows += [
            ["savings_pounds", whole, row.category, f"{row.pence / 100:.2f}" if proxy else "not counted"],
            ["hours_of_help", whole, row.category, hours_text(row.hours)],
            ["visits_completed", whole, row.category, row.visits],
        ]
        if proxy is not None:
            rows += [
                ["proxy_pounds", whole, row.category, f"{proxy.value_pence / 100:.2f}"],
                ["proxy_basis", whole, row.category, proxy.basis],
                ["proxy_percent_claimed", whole, row.category, proxy.attribution_percent],
                ["proxy_source", whole, row.category, protect_cell(proxy.source)],
            ]
    return [*rows, ["savings_pounds", whole, "", f"{report.total_pence / 100:.2f}"]]


_CSV_ROWS: dict[str, Callable[[Any, str], Rows]] = {
    "members": _members_rows, "helpers": _helpers_rows, "help": _help_rows, "waits": _wait_rows,
    "tokens": _tokens_rows, "money": _money_rows, "savings": _savings_rows,
}


def report_csv_rows(section: str, report: Any) -> Rows:
    """One section as a tidy table: ``measure, period, category, value``.  ``period`` is a
    month (``2026-01``) or the whole period (``2025-12-01/2026-11-27``); ``category`` is a kind
    of help or of helper, or empty; an empty value is a figure that does not exist (no visits)."""
    whole = f"{report.start.isoformat()}/{report.end.isoformat()}"
    return [["measure", "period", "category", "value"], *_CSV_ROWS[section](report, whole)]


@coordinator_page
@require_GET
def reports_csv(request: HttpRequest, circle: Circle) -> HttpResponse:
    section = request.GET.get("section", "")
    if section not in _SELECTORS:
        raise Http404
    form = _period_form(request)
    if form.errors:
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    start, end = form.period()
    report = _SELECTORS[section](circle=circle, start=start, end=end)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so that spreadsheets read the file as UTF-8
    csv.writer(buffer).writerows(report_csv_rows(section, report))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"circle-{circle.slug}-{section}-{start.isoformat()}-to-{end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Savings proxies -------------------------------------------------------------------------------

def _proxies_page(request: HttpRequest, circle: Circle, form: SavingsProxyForm, status: int = 200) -> HttpResponse:
    title = _("Values for the savings estimate")
    return render(request, "circles/reports/savings.html", {
        "circle": circle, "form": form, "page_title": page_title(title, form), "heading": title,
        "proxies": selectors.savings_proxies(circle=circle), "money": money, "bases": SavingsBasis,
    }, status=status)


@coordinator_page
@require_http_methods(["GET", "POST"])
def savings_proxies(request: HttpRequest, circle: Circle) -> HttpResponse:
    if request.method != "POST":
        initial: dict[str, Any] = {}
        category = request.GET.get("category", "")
        if category in HelpCategory.values:
            proxy = next((p for p in selectors.savings_proxies(circle=circle) if p.category == category), None)
            initial = {"category": category}
            if proxy is not None:
                initial.update(basis=proxy.basis, value=f"{proxy.value_pence / 100:.2f}",
                               attribution_percent=proxy.attribution_percent, source=proxy.source)
        return _proxies_page(request, circle, SavingsProxyForm(initial=initial))
    form = SavingsProxyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            proxy, _changed = savings_proxy_set(
                circle=circle, actor=signed_in_actor(request), category=data["category"], basis=data["basis"],
                value_pence=data["value"], attribution_percent=data["attribution_percent"], source=data["source"],
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("The value for %(kind)s is saved.") % {"kind": proxy.get_category_display()})
            return redirect("circles:coordinate_savings_proxies", slug=circle.slug)
    return _proxies_page(request, circle, form, status=400)


@coordinator_page
@require_POST
def savings_proxy_delete(request: HttpRequest, circle: Circle) -> HttpResponse:
    category = request.POST.get("category", "")
    if savings_proxy_remove(circle=circle, actor=signed_in_actor(request), category=category):
        messages.success(request, _("%(kind)s is no longer counted in the savings estimate.") % {
            "kind": HelpCategory(category).label})
    return redirect("circles:coordinate_savings_proxies", slug=circle.slug)


S = SLUG_URL
urlpatterns: list[URLPattern] = [
    re_path(rf"^{S}/coordinate/reports/$", reports, name="coordinate_reports"),
    re_path(rf"^{S}/coordinate/reports/export\.csv$", reports_csv, name="coordinate_reports_csv"),
    re_path(rf"^{S}/coordinate/reports/savings/$", savings_proxies, name="coordinate_savings_proxies"),
    re_path(rf"^{S}/coordinate/reports/savings/remove/$", savings_proxy_delete, name="coordinate_savings_proxy_remove"),
]
