"""Reads for the developer pages and the platform's own endpoints (tokens, webhooks), each a
fixed number of queries.  Modules keep their API reads in their own selectors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from localsocial.api.models import ApiToken, WebhookDelivery, WebhookEndpoint
from localsocial.core.pagination import KeysetPage, keyset_paginate
from localsocial.directory.models import Organisation, OrganisationMembership, StaffRole

if TYPE_CHECKING:
    from localsocial.accounts.models import User

DELIVERY_ORDERING = ("-created_at", "-id")


# --- Developer pages ---------------------------------------------------------------------------

def api_tokens_for_user(*, user: User) -> list[ApiToken]:
    """Every token ``user`` has made, newest first, revoked ones included.  One query."""
    return list(ApiToken.objects.filter(user=user).select_related("organisation").order_by("-created_at", "-id"))


def api_token_get_for_owner(*, user: User, token_id: int) -> ApiToken:
    """One of ``user``'s own tokens; Http404 for anybody else's."""
    token = ApiToken.objects.select_related("organisation").filter(pk=token_id, user=user).first()
    if token is None:
        raise Http404
    return token


def organisations_for_tokens(*, user: User) -> list[tuple[Organisation, str]]:
    """The organisations ``user`` may make organisation tokens for: where they are a
    responder or an administrator, with that role.  One query."""
    memberships = (
        OrganisationMembership.objects.filter(
            user=user, role__in=(StaffRole.RESPONDER, StaffRole.ADMINISTRATOR)
        )
        .select_related("organisation")
        .order_by("organisation__name", "organisation__id")
    )
    return [(m.organisation, m.role) for m in memberships]


def organisations_for_webhooks(*, user: User) -> list[Organisation]:
    """The organisations ``user`` administers directly (their webhooks pages).  One query."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        m.organisation
        for m in OrganisationMembership.objects.filter(user=user, role=StaffRole.ADMINISTRATOR)
        .select_related("organisation")
        .order_by("organisation__name", "organisation__id")
    ]


def organisation_get_for_webhooks(*, user: User, slug: str) -> Organisation:
    """The organisation whose webhooks ``user`` manages: Http404 if there is none with the
    slug, PermissionDenied unless they hold ``stories.manage_organisation`` on it."""
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404
    if not user.has_perm("stories.manage_organisation", organisation):
        raise PermissionDenied("Only the organisation's administrators can manage its webhooks.")
    return organisation


def webhook_endpoints_for_organisation(*, organisation: Organisation) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(organisation=organisation).order_by("url", "id"))


def webhook_endpoint_get(*, organisation: Organisation, endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(organisation=organisation, pk=endpoint_id).first()
    if endpoint is None:
        raise Http404
    return endpoint


def webhook_delivery_page(*, endpoint: WebhookEndpoint, cursor: str | None, page_size: int) -> KeysetPage[Any]:
    """The delivery log of ``endpoint``, newest first.  One query."""
    return keyset_paginate(
        WebhookDelivery.objects.filter(endpoint=endpoint).defer("payload"),
        ordering=DELIVERY_ORDERING, cursor=cursor, page_size=page_size,
    )


def webhook_delivery_get(*, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    """One delivery of ``endpoint`` with its attempts (two queries)."""
    delivery = (
        WebhookDelivery.objects.filter(endpoint=endpoint, pk=delivery_id).prefetch_related("attempt_log").first()
    )
    if delivery is None:
        raise Http404
    return delivery

