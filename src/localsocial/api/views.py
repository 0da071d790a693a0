"""The developer pages: API tokens for everyone signed in, and each organisation's webhooks
for its administrators.  Staff reach them only after two-factor sign-in (the middleware)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from localsocial.accounts.actors import signed_in_actor
from localsocial.api import selectors, services
from localsocial.api.errors import PROBLEM_TYPES, problem_type_uri
from localsocial.api.forms import TokenCreateForm, WebhookCreateForm
from localsocial.api.models import DeliveryStatus
from localsocial.api.webhook_registry import webhook_event_types
from localsocial.api.webhooks import BACKOFF, MAX_ATTEMPTS
from localsocial.core.forms import form_errors_apply, page_title
from localsocial.core.pagination import InvalidCursorError

# Secrets shown once: kept in the session between the POST that makes them and the page that
# shows them, and removed as that page is drawn.
_TOKEN_SECRET = "api_token_secret"
_WEBHOOK_SECRET = "api_webhook_secret"


# --- Tokens ------------------------------------------------------------------------------------

@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "api/index.html", {
        "page_title": _("API tokens and webhooks"),
        "tokens": selectors.api_tokens_for_user(user=signed_in_actor(request)),
        "organisations": selectors.organisations_for_webhooks(user=signed_in_actor(request)),
    })


@login_required
@require_http_methods(["GET", "POST"])
def token_create(request: HttpRequest) -> HttpResponse:
    organisations = selectors.organisations_for_tokens(user=signed_in_actor(request))
    form = TokenCreateForm(request.POST if request.method == "POST" else None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.api_token_create(
                user=signed_in_actor(request), name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                organisation=form.organisation_chosen(), expires_at=form.expires_at(),
            )
        except ValidationError as error:
            form_errors_apply(form, error, {"expires_at": "expires_on"})
        else:
            request.session[_TOKEN_SECRET] = {"id": token.pk, "secret": secret}
            return redirect("developers:token_created", token_id=token.pk)
    return render(request, "api/token_create.html", {
        "page_title": page_title(_("Create an API token"), form),
        "form": form,
        "back_href": reverse("developers:index"),
    }, status=400 if form.errors else 200)


@login_required
def token_created(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.api_token_get_for_owner(user=signed_in_actor(request), token_id=token_id)
    shown = request.session.pop(_TOKEN_SECRET, None)
    if not shown or shown.get("id") != token.pk:
        messages.info(request, _("A token is shown only once, when it is created. Create a new one if you lost it."))
        return redirect("developers:index")
    response = render(request, "api/token_created.html", {
        "page_title": _("Your new API token"), "token": token, "secret": shown["secret"],
    })
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.api_token_get_for_owner(user=signed_in_actor(request), token_id=token_id)
    if request.method == "POST":
        if services.api_token_revoke(user=signed_in_actor(request), token_id=token.pk):
            messages.success(request, _("The token “%(name)s” has been revoked. It no longer works.") % {"name": token.name})
        return redirect("developers:index")
    return render(request, "api/token_revoke.html", {
        "page_title": _("Revoke the token “%(name)s”") % {"name": token.name},
        "token": token,
        "back_href": reverse("developers:index"),
    })


# --- Webhooks ----------------------------------------------------------------------------------

def _event_items(form: WebhookCreateForm) -> list[dict[str, Any]]:
    chosen = set(form["events"].value() or [])
    return [
        {"value": event.name, "text": event.name, "checked": event.name in chosen, "hint": {"text": str(event.label)}}
        for event in webhook_event_types()
    ]


@login_required
def webhook_list(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = selectors.organisation_get_for_webhooks(user=signed_in_actor(request), slug=slug)
    return render(request, "api/webhook_list.html", {
        "page_title": _("Webhooks of %(name)s") % {"name": organisation.name},
        "org": organisation,
        "endpoints": selectors.webhook_endpoints_for_organisation(organisation=organisation),
        "back_href": reverse("developers:index"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = selectors.organisation_get_for_webhooks(user=signed_in_actor(request), slug=slug)
    form = WebhookCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.webhook_endpoint_create(
                actor=signed_in_actor(request), organisation=organisation, url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            request.session[_WEBHOOK_SECRET] = {"id": endpoint.pk, "secret": endpoint.secret}
            return redirect("developers:webhook_secret", slug=organisation.slug, endpoint_id=endpoint.pk)
    return render(request, "api/webhook_create.html", {
        "page_title": page_title(_("Add a webhook for %(name)s") % {"name": organisation.name}, form),
        "org": organisation,
        "form": form,
        "event_items": _event_items(form),
        "back_href": reverse("developers:webhooks", kwargs={"slug": organisation.slug}),
    }, status=400 if form.errors else 200)


@login_required
def webhook_detail(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    organisation = selectors.organisation_get_for_webhooks(user=signed_in_actor(request), slug=slug)
    endpoint = selectors.webhook_endpoint_get(organisation=organisation, endpoint_id=endpoint_id)
    try:
        page = selectors.webhook_delivery_page(
            endpoint=endpoint, cursor=request.GET.get("cursor") or None, page_size=settings.PAGE_SIZE
        )
    except InvalidCursorError as exc:
        raise Http404 from exc
    return render(request, "api/webhook_detail.html", {
        "page_title": _("Webhook %(url)s") % {"url": endpoint.url},
        "org": organisation,
        "endpoint": endpoint,
        "page": page,
        "pagination": page.govuk_params(request, landmark_label=_("Delivery log pages")),
        "resendable": (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED),
        "max_attempts": MAX_ATTEMPTS,
        "backoff_minutes": [int(step.total_seconds() // 60) for step in BACKOFF],
        "back_href": reverse("developers:webhooks", kwargs={"slug": organisation.slug}),
    })


@login_required
def webhook_secret(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    organisation = selectors.organisation_get_for_webhooks(user=signed_in_actor(request), slug=slug)
    endpoint = selectors.webhook_endpoint_get(organisation=organisation, endpoint_id=endpoint_id)
    shown = request.session.pop(_WEBHOOK_SECRET, None)
    if not shown or shown.get("id") != endpoint.pk:
        messages.info(request, _("A secret is shown only once. Rotate it to get a new one."))
        return redirect("developers:webhook", slug=organisation.slug, endpoint_id=endpoint.pk)
    response = render(request, "api/webhook_secret.html", {
        "page_title": _("The webhook's signing secret"), "org": organisation, "endpoint": endpoint,
        "secret": shown["secret"],
    })
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def webhook_rotate(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    organisation = selectors.organisation_get_for_webhooks(user=signed_in_actor(request), slug=slug)
    endpoint = selectors.webhook_endpoint_get(organisation=organisation, endpoint_id=endpoint_id)
    endpoint = services.webhook_endpoint_rotate_secret(actor=signed_in_actor(request), endpoint=endpoint)
    request.session[_WEBHOOK_SECRET] = {"id": endpoint.pk, "secret": endpoint.secret}
    return redirect("developers:webhook_secret", slug=organisation.slug, endpoint_id=endpoint.pk)


@login_required
@require_POST
def webhook_toggle(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    organisation = selectors.organisation_get_for_webhooks(user=signed_in_actor(request), slug=slug)
    endpoint = selectors.webhook_endpoint_get(organisation=organisation, endpoint_id=endpoint_id)
    active = request.POST.get("active") == "1"
    if services.webhook_endpoint_set_active(actor=signed_in_actor(request), endpoint=endpoint, active=active):
        messages.success(request, _("The webhook has been resumed.") if active else _("The webhook has been paused."))
    return redirect("developers:webhook", slug=organisation.slug, endpoint_id=endpoint.pk)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    organisation = selectors.organisation_get_for_webhooks(user=signed_in_actor(request), slug=slug)
    endpoint = selectors.webhook_endpoint_get(organisation=organisation, endpoint_id=endpoint_id)
    if request.method == "POST":
        services.webhook_endpoint_delete(actor=signed_in_actor(request), endpoint=endpoint)
        messages.success(request, _("The webhook has been deleted."))
        return redirect("developers:webhooks", slug=organisation.slug)
    return render(request, "api/webhook_delete.html", {
        "page_title": _("Delete the webhook %(url)s") % {"url": endpoint.url},
        "org": organisation,
        "endpoint": endpoint,
        "back_href": reverse("developers:webhook", kwargs={"slug": organisation.slug, "endpoint_id": endpoint.pk}),
    })


@login_required
@require_POST
def delivery_resend(request: HttpRequest, slug: str, endpoint_id: int, delivery_id: int) -> HttpResponse:
    organisation = selectors.organisation_get_for_webhooks(user=signed_in_actor(request), slug=slug)
    endpoint = selectors.webhook_endpoint_get(organisation=organisation, endpoint_id=endpoint_id)
    delivery = selectors.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
    if services.webhook_delivery_resend(actor=signed_in_actor(request), delivery=delivery):
        messages.success(request, _("Delivery %(id)s will be sent again now.") % {"id": delivery.pk})
    else:
        messages.info(request, _("Delivery %(id)s is already waiting to be sent.") % {"id": delivery.pk})
    return redirect("developers:webhook", slug=organisation.slug, endpoint_id=endpoint.pk)


@login_required
def delivery_detail(request: HttpRequest, slug: str, endpoint_id: int, delivery_id: int) -> HttpResponse:
    organisation = selectors.organisation_get_for_webhooks(user=signed_in_actor(request), slug=slug)
    endpoint = selectors.webhook_endpoint_get(organisation=organisation, endpoint_id=endpoint_id)
    delivery = selectors.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
    return render(request, "api/delivery_detail.html", {
        "page_title": _("Delivery %(id)s") % {"id": delivery.pk},
        "org": organisation,
        "endpoint": endpoint,
        "delivery": delivery,
        "payload": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
        "resendable": delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED),
        "back_href": reverse("developers:webhook", kwargs={"slug": organisation.slug, "endpoint_id": endpoint.pk}),
    })


# --- The kinds of error (RFC 9457 problem types) ------------------------------------------------

def problem_list(request: HttpRequest) -> HttpResponse:
    """Every kind of problem the API answers with; each problem's ``type`` is one of their
    addresses.  Public: a developer reading an error need not sign in."""
    return render(request, "api/problems.html", {
        "page_title": _("Errors from the API"),
        "problem_types": list(PROBLEM_TYPES.values()),
        "example_type": problem_type_uri("invalid-request"),
    })


def problem_detail(request: HttpRequest, slug: str) -> HttpResponse:
    problem_type = PROBLEM_TYPES.get(slug)
    if problem_type is None:
        raise Http404
    return render(request, "api/problem.html", {
        "page_title": problem_type.title,
        "problem_type": problem_type,
        "type_uri": problem_type_uri(slug),
    })
