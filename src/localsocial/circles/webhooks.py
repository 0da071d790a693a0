"""The circles module's webhook events, registered with the platform's webhook engine
(api.webhook_registry; found by ApiConfig.ready()).

* ``request.matched`` (subject: the visit's id): a helper accepted a request and the visit
  is arranged.
* ``visit.completed`` (subject: the visit's id): the member and the helper, or a
  coordinator, confirmed the visit happened.

Both go to the organisation that runs the circle (``Circle.organisation``) and every one
above it; a circle not linked to an organisation sends nothing.  The payloads carry no
personal data: ids, the circle's slug, the kind and place of help, times, quarter hours and
the payment state; never a name, an address, a phone number or what the member wrote.  The
help services queue them after commit with
``api.webhooks.webhook_event_queue(event=…, subject_id=visit.pk)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Schema
from pydantic import Field

from localsocial.api.representations import iso_time
from localsocial.api.webhook_registry import WebhookMessage, webhook_event_register
from localsocial.circles.models import Visit

REQUEST_MATCHED = "request.matched"
VISIT_COMPLETED = "visit.completed"


# --- The payloads' schemas (for the OpenAPI document's `webhooks` section) -----------------------

class CircleRef(Schema):
    slug: str


class RequestRef(Schema):
    id: int
    category: str = Field(description="The kind of help.")
    place: str = Field(description="home, out or remote.")
    starts_at: datetime
    estimated_quarters: int = Field(description="Quarter hours (4 make one token).")


class VisitArranged(Schema):
    id: int
    match_id: int
    planned_start: datetime
    planned_end: datetime


class VisitDone(VisitArranged):
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    completed_at: datetime
    confirmed_by: Literal["member_and_helper", "coordinator"]
    quarters: int = Field(description="Quarter hours the member paid (or owes) for.")
    payment: str = Field(description="paid, or owed when the member had too few tokens.")


class RequestMatchedData(Schema):
    circle: CircleRef
    request: RequestRef
    visit: VisitArranged


class VisitCompletedData(Schema):
    circle: CircleRef
    request: RequestRef
    visit: VisitDone


class RequestMatchedPayload(Schema):
    event: Literal["request.matched"]
    id: str = Field(description="request.matched:<request id> (a request is matched once).")
    occurred_at: datetime = Field(description="When the helper accepted.")
    data: RequestMatchedData


class VisitCompletedPayload(Schema):
    event: Literal["visit.completed"]
    id: str = Field(description="visit.completed:<visit id>.")
    occurred_at: datetime = Field(description="When the visit was confirmed.")
    data: VisitCompletedData


# --- Building them --------------------------------------------------------------------------------

def circle_event_id_for(*, event: str, request_id: int, visit_id: int) -> str:
    """Stable per subject and event: a request is matched once (it has at most one visit) and
    a visit completes once."""
    return f"{event}:{request_id}" if event == REQUEST_MATCHED else f"{event}:{visit_id}"


def circle_webhook_payload(*, event: str, visit: Visit) -> dict[str, Any]:
    """The JSON posted for a circles event.  Ids, the circle's slug, the kind and place of
    help, times, quarter hours and the payment state only: never a name, an address, a phone
    number or what the member wrote (see docs/api.md)."""
    help_request = visit.request
    visit_data: dict[str, Any] = {
        "id": visit.pk,
        "match_id": visit.match_id,
        "planned_start": iso_time(visit.planned_start),
        "planned_end": iso_time(visit.planned_end),
    }
    if event == VISIT_COMPLETED:
        occurred_at = visit.completed_at or timezone.now()
        visit_data.update({
            "checked_in_at": iso_time(visit.checked_in_at) if visit.checked_in_at else None,
            "checked_out_at": iso_time(visit.checked_out_at) if visit.checked_out_at else None,
            "completed_at": iso_time(occurred_at),
            "confirmed_by": "coordinator" if visit.coordinator_confirmed_at else "member_and_helper",
            "quarters": visit.quarters,
            "payment": visit.payment,
        })
    else:
        occurred_at = visit.match.responded_at or visit.created_at or timezone.now()
    return {
        "event": event,
        "id": circle_event_id_for(event=event, request_id=help_request.pk, visit_id=visit.pk),
        "occurred_at": iso_time(occurred_at),
        "data": {
            "circle": {"slug": visit.circle.slug},
            "request": {
                "id": help_request.pk,
                "category": help_request.category,
                "place": help_request.place,
                "starts_at": iso_time(help_request.starts_at),
                "estimated_quarters": help_request.estimated_quarters,
            },
            "visit": visit_data,
        },
    }


def _message(event: str, visit_id: int) -> WebhookMessage | None:
    """Nothing for a circle not run by an organisation in the directory, or for a visit not
    yet complete (visit.completed)."""
    visit = Visit.objects.select_related("circle__organisation", "request", "match").filter(pk=visit_id).first()
    if visit is None or visit.circle.organisation is None:
        return None
    if event == VISIT_COMPLETED and visit.completed_at is None:
        return None
    return WebhookMessage(
        payload=circle_webhook_payload(event=event, visit=visit),
        organisation_ids=visit.circle.organisation.lineage_ids,
    )


def request_matched_message(visit_id: int) -> WebhookMessage | None:
    return _message(REQUEST_MATCHED, visit_id)


def visit_completed_message(visit_id: int) -> WebhookMessage | None:
    return _message(VISIT_COMPLETED, visit_id)


# Circles payloads carry nothing public that could be withdrawn, and a visit is never
# withdrawn: the default "still public" check (always) is right for both.
webhook_event_register(
    name=REQUEST_MATCHED,
    label=_("In a circle the organisation runs, a helper accepted a request for help and a visit is arranged"),
    summary="In a circle the organisation runs, a helper accepted a request: the visit is arranged",
    description="No personal data: ids, the circle's slug, the kind and place of help and the planned times.",
    payload_schema=RequestMatchedPayload,
    build=request_matched_message,
)
webhook_event_register(
    name=VISIT_COMPLETED,
    label=_("In a circle the organisation runs, a visit was confirmed as done"),
    summary="In a circle the organisation runs, a visit was confirmed as done",
    description=(
        "Confirmed by both the member and the helper, or by a coordinator. No personal data: ids, "
        "times, quarter hours and the payment state."
    ),
    payload_schema=VisitCompletedPayload,
    build=visit_completed_message,
)
