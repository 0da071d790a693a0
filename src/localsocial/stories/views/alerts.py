"""Staff alerts: a person's own list of alerts, setting one up, changing, pausing and deleting.

Anyone signed in may see their own list (and pause or delete what is on it); setting up or
changing an alert is for people who work for an organisation.  Another person's alert is a
404, never a 403: nobody learns which alerts exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from localsocial.accounts.actors import signed_in_actor
from localsocial.core.forms import form_errors_apply, page_title
from localsocial.directory.models import Organisation
from localsocial.stories.forms.alerts import CRITICALITY_THRESHOLDS, AlertForm
from localsocial.stories.models import AlertSubscription
from localsocial.stories.selectors import alerts as selectors
from localsocial.stories.services import alerts as services


def _organisations_or_403(request: HttpRequest) -> list[Organisation]:
    organisations = selectors.alert_organisations_for_user(user=signed_in_actor(request))
    if not organisations:
        raise PermissionDenied(_("Alerts are for people who work for an organisation in the directory."))
    return organisations


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()][:500]


def _initial_from(data: QueryDict) -> dict[str, Any]:
    """What the person had entered, to show again after a search for services."""
    return {
        "name": data.get("name", ""),
        "organisation": data.get("organisation", ""),
        "services": data.getlist("services"),
        "service_query": data.get("service_query", ""),
        "tags_good": data.getlist("tags_good"),
        "tags_improve": data.getlist("tags_improve"),
        "min_criticality": data.get("min_criticality", ""),
        "frequency": data.get("frequency", ""),
    }


def _initial_from_alert(alert: AlertSubscription | None) -> dict[str, Any]:
    if alert is None:
        return {}
    tags = list(alert.tags.values_list("pk", "polarity"))
    return {
        "name": alert.name,
        "organisation": alert.organisation_id or "",
        "services": list(alert.services.values_list("pk", flat=True)),
        "tags_good": [pk for pk, polarity in tags if polarity == "good"],
        "tags_improve": [pk for pk, polarity in tags if polarity == "improve"],
        "min_criticality": alert.min_criticality,
        "frequency": alert.frequency,
    }


def _alert_form_page(request: HttpRequest, *, alert: AlertSubscription | None) -> HttpResponse:
    organisations = _organisations_or_403(request)
    searching = request.method == "POST" and request.POST.get("action") == "find"
    if request.method == "POST":
        initial = _initial_from(request.POST)
        query = request.POST.get("service_query", "")
    else:
        initial = _initial_from_alert(alert)
        query = ""
    selected_services = _ids(initial.get("services", []))
    listed, more = selectors.alert_service_choices(
        organisations=organisations, query=query, selected_ids=selected_services
    )
    tags = selectors.alert_tag_choices(
        selected_ids=_ids([*initial.get("tags_good", []), *initial.get("tags_improve", [])])
    )
    options: dict[str, Any] = {
        "organisations": organisations,
        "services_allowed": selectors.alert_services_allowed(organisations=organisations),
        "services_listed": listed,
        "tags": tags,
    }
    if request.method == "POST" and not searching:
        form = AlertForm(request.POST, **options)
        if form.is_valid():
            try:
                if alert is None:
                    saved = services.alert_create(actor=signed_in_actor(request), choices=form.choices())
                    messages.success(request, _("Your alert “%(name)s” is set up") % {"name": saved.name})
                else:
                    saved = services.alert_update(
                        actor=signed_in_actor(request), alert=alert, choices=form.choices()
                    )
                    messages.success(request, _("Your alert “%(name)s” has been changed") % {"name": saved.name})
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                return redirect("stories:alerts")
    else:
        form = AlertForm(initial=initial or None, **options)
    heading = _("Set up an alert") if alert is None else _("Change your alert")
    return render(
        request,
        "stories/alerts/form.html",
        {
            "page_title": page_title(heading, form),
            "heading": heading,
            "form": form,
            "alert": alert,
            "searching": searching,
            "service_query": query.strip(),
            "more_services": more,
            "has_tags": form.has_tags,
            "back_href": reverse("stories:alerts"),
        },
    )


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = selectors.alert_list_for_user(user=signed_in_actor(request))
    organisations = selectors.alert_organisations_for_user(user=signed_in_actor(request))
    return render(
        request,
        "stories/alerts/list.html",
        {
            "page_title": _("Your story alerts"), "alerts": alerts, "organisations": organisations,
            "thresholds": dict(CRITICALITY_THRESHOLDS),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def alert_new(request: HttpRequest) -> HttpResponse:
    return _alert_form_page(request, alert=None)


@login_required
@require_http_methods(["GET", "POST"])
def alert_edit(request: HttpRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_get_for_owner(user=signed_in_actor(request), alert_id=pk)
    return _alert_form_page(request, alert=alert)


@login_required
@require_http_methods(["GET", "POST"])
def alert_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_get_for_owner(user=signed_in_actor(request), alert_id=pk)
    if request.method == "POST":
        services.alert_delete(actor=signed_in_actor(request), alert=alert)
        messages.success(request, _("Your alert “%(name)s” has been deleted") % {"name": alert.name})
        return redirect("stories:alerts")
    return render(
        request,
        "stories/alerts/delete.html",
        {"page_title": _("Delete your alert"), "alert": alert, "back_href": reverse("stories:alerts")},
    )


@login_required
@require_POST
def alert_pause(request: HttpRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_get_for_owner(user=signed_in_actor(request), alert_id=pk)
    services.alert_set_active(actor=signed_in_actor(request), alert=alert, is_active=False)
    messages.success(request, _("Your alert “%(name)s” is paused") % {"name": alert.name})
    return redirect("stories:alerts")


@login_required
@require_POST
def alert_resume(request: HttpRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_get_for_owner(user=signed_in_actor(request), alert_id=pk)
    services.alert_set_active(actor=signed_in_actor(request), alert=alert, is_active=True)
    messages.success(request, _("Your alert “%(name)s” is on again") % {"name": alert.name})
    return redirect("stories:alerts")


urlpatterns: list[URLPattern] = [
    path("alerts/", alert_list, name="alerts"),
    path("alerts/new/", alert_new, name="alert_new"),
    path("alerts/<int:pk>/", alert_edit, name="alert_edit"),
    path("alerts/<int:pk>/delete/", alert_delete, name="alert_delete"),
    path("alerts/<int:pk>/pause/", alert_pause, name="alert_pause"),
    path("alerts/<int:pk>/resume/", alert_resume, name="alert_resume"),
]
