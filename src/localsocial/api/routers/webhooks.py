"""/api/webhooks/: an organisation's webhooks and their delivery logs, for a token with the
``webhooks:manage`` scope (its person must be an administrator of the token's organisation).
Adding, rotating and deleting webhooks is done on the developer pages, where the secret is
shown once; the API never returns a secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from localsocial.api.auth import WEBHOOKS_MANAGE, token_auth, token_require_scope, write_throttle
from localsocial.api.models import ApiToken, WebhookDelivery, WebhookEndpoint
from localsocial.api.selectors import webhook_delivery_get, webhook_delivery_page
from localsocial.api.services import webhook_delivery_resend
from localsocial.core.pagination import InvalidCursorError

router = Router(auth=token_auth)

MAX_ID = 2**63 - 1


class ErrorOut(Schema):
    detail: Any


class EndpointOut(Schema):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    secret_rotated_at: datetime | None


class DeliveryOut(Schema):
    id: int
    event: str
    event_id: str = Field(description="The same for every endpoint and every attempt: ignore repeats by it.")
    status: str = Field(description="pending, retrying, succeeded or failed.")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None
    previous_cursor: str | None


class PageParams(Schema):
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(20, ge=1, le=100)


def _endpoint_out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"id": endpoint.pk, "url": endpoint.url, "events": endpoint.events, "active": endpoint.is_active,
            "created_at": endpoint.created_at, "secret_rotated_at": endpoint.secret_rotated_at}


def _delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    return {"id": delivery.pk, "event": delivery.event, "event_id": delivery.event_id, "status": delivery.status,
            "attempts": delivery.attempts, "next_attempt_at": delivery.next_attempt_at,
            "last_status_code": delivery.last_status_code, "last_error": delivery.last_error,
            "created_at": delivery.created_at, "delivered_at": delivery.delivered_at}


def _endpoint_for(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    token_require_scope(token=token, scope=WEBHOOKS_MANAGE)
    assert token.organisation_id is not None  # the scope needs an organisation
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, organisation_id=token.organisation_id).first()
    if endpoint is None:
        raise HttpError(404, f"Your organisation has no webhook with the id {endpoint_id}.")
    return endpoint


@router.get("/webhooks/", response={200: list[EndpointOut], 401: ErrorOut, 403: ErrorOut},
            summary="Your organisation's webhooks (scope webhooks:manage)")
def webhook_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The webhooks of the token's organisation, without their secrets."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    token_require_scope(token=token, scope=WEBHOOKS_MANAGE)
    assert token.organisation_id is not None
    endpoints = WebhookEndpoint.objects.filter(organisation_id=token.organisation_id).order_by("url", "id")
    return [_endpoint_out(e) for e in endpoints]


@router.get("/webhooks/{endpoint_id}/deliveries/",
            response={200: DeliveryPage, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
            summary="A webhook's delivery log, newest first (scope webhooks:manage)")
def delivery_list(
    request: HttpRequest, params: Query[PageParams], endpoint_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    endpoint = _endpoint_for(request, endpoint_id)
    try:
        page = webhook_delivery_page(endpoint=endpoint, cursor=params.cursor or None, page_size=params.limit)
    except InvalidCursorError as exc:
        raise HttpError(422, "cursor is not valid: use next_cursor or previous_cursor from a response.") from exc
    return {"items": [_delivery_out(d) for d in page.items], "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/send-again", throttle=[write_throttle],
             response={202: DeliveryOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="Send a delivery again now (scope webhooks:manage)")
def delivery_resend(
    request: HttpRequest,
    endpoint_id: int = Path(..., ge=1, le=MAX_ID),
    delivery_id: int = Path(..., ge=1, le=MAX_ID),
) -> Status[dict[str, Any]]:
    """A delivered or given-up delivery is sent again at once, with a fresh round of retries.
    409 while it is still waiting to be sent."""
    endpoint = _endpoint_for(request, endpoint_id)
    try:
        delivery = webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
    except Http404 as exc:
        raise HttpError(404, f"This webhook has no delivery with the id {delivery_id}.") from exc
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    if not webhook_delivery_resend(actor=token.user, delivery=delivery):
        raise HttpError(409, "This delivery is already waiting to be sent.")
    delivery.refresh_from_db()
    return Status(202, _delivery_out(delivery))
