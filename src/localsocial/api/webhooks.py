"""Webhooks: telling an organisation's systems when something about it becomes public.

Events: ``story.published``, ``response.published``, ``change.marked`` (a response that
claims a change planned or made); and for circles ``request.matched`` and
``visit.completed``, sent to the organisation that runs the circle and every one above it
(``circle_webhook_queue``, called by circles.services.help after commit).  The stories services call ``webhook_event_queue`` after
their transaction commits; it writes one ``WebhookDelivery`` per subscribed, active endpoint
of every organisation the story is about (its services' organisations and every one above
them: a trust's webhook hears about its wards) and enqueues a task per delivery.

Each delivery is a POST of JSON, signed::

    X-LocalSocial-Event: story.published
    X-LocalSocial-Delivery: 1234
    X-LocalSocial-Timestamp: 1795000000
    X-LocalSocial-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>

2xx is success.  Anything else (another status, a redirect, a timeout, a refused connection)
is retried after 1 minute, 5 minutes, 30 minutes, 2 hours and 12 hours, and then given up.
Retries are enqueued with django-tasks' ``run_after`` when the backend supports it; the
``localsocial webhooks_retry`` command (from cron) sends whatever is due on any backend.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from localsocial.api.models import (
    CIRCLE_EVENTS,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from localsocial.api.representations import iso_time, response_public, story_detail, story_summary
from localsocial.circles.models import Visit
from localsocial.stories.models import Response, ResponseStatus, Story, StoryStatus

logger = logging.getLogger(__name__)

# After attempt n fails (n = 1 … 5), wait BACKOFF[n - 1]; after attempt 6, give up.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# A claimed delivery is not claimed again for this long (well over the request timeout).
LEASE = timedelta(minutes=1)
# Deliveries still waiting this long after being queued lost their task (a worker restart):
# the retry sweep sends them.
STALE_PENDING = timedelta(minutes=5)
USER_AGENT = "LocalSocial-Webhooks/1"
RESPONSE_BYTES_READ = 1024
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT", 10))


def local_addresses_allowed() -> bool:
    """Plain http:// to this machine, for development and tests only."""
    default = bool(settings.DEBUG or getattr(settings, "TESTING", False))
    return bool(getattr(settings, "WEBHOOKS_ALLOW_LOCAL", default))


def secret_generate() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature_for(*, secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-LocalSocial-Signature for ``body`` sent at ``timestamp``."""
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def webhook_url_problem(url: str, *, resolve: bool = False) -> str | None:
    """Why events may not be sent to ``url`` (None when they may): only https:// (or
    http:// to this machine in development and tests), and, unless that is allowed, never
    to a private, loopback or link-local address.  ``resolve`` also looks the name up."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:
        return "The address is not a valid URL."
    if parts.scheme not in ("http", "https") or not host:
        return "The address must start with https://."
    if parts.username or parts.password:
        return "The address must not contain a user name or password."
    local = host in LOCAL_HOSTS
    if parts.scheme == "http" and not (local and local_addresses_allowed()):
        return "The address must start with https://."
    if local_addresses_allowed():
        return None
    if local or host.endswith((".localhost", ".local", ".internal")):
        return "The address must be on the public internet."
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not _address_is_public(host):
        return "The address must be on the public internet."
    if resolve and literal is None:
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return "The address's host name could not be found."
        if not infos or not all(_address_is_public(str(info[4][0])) for info in infos):
            return "The address must be on the public internet."
    return None


# --- Queueing ----------------------------------------------------------------------------------

def event_id_for(*, event: str, story_id: int, response_id: int | None) -> str:
    """The same for every endpoint, and the same each time the event is queued: receivers
    use it to ignore a repeat."""
    return f"{event}:{story_id}" if response_id is None else f"{event}:{story_id}:{response_id}"


def _story_loaded(story_id: int) -> Story | None:
    from localsocial.api.selectors import _stories_with_links

    return _stories_with_links().filter(pk=story_id).first()


def webhook_payload(*, event: str, story: Story, response: Response | None) -> dict[str, Any]:
    """The JSON posted for an event: only what the public pages show (see docs/api.md)."""
    base = settings.SITE_URL
    if response is None:
        occurred_at = story.published_at or timezone.now()
        data: dict[str, Any] = {"story": story_detail(story, base=base)}
    else:
        occurred_at = response.published_at or timezone.now()
        data = {"story": story_summary(story, base=base), "response": response_public(response)}
    return {
        "event": event,
        "id": event_id_for(event=event, story_id=story.pk, response_id=response.pk if response else None),
        "occurred_at": iso_time(occurred_at),
        "data": data,
    }


def webhook_event_queue(*, event: str, story_id: int | None = None, response_id: int | None = None) -> None:
    """Queue ``event`` for every active endpoint, subscribed to it, of the organisations the
    story is about (with every organisation above them).  Call after the change commits.

    Idempotent: a delivery is unique per endpoint and event id, so queueing the same event
    twice makes no second delivery and sends nothing twice.  Nothing is queued for a story or
    response that is not public (any more).  A failure here is logged, never raised: the
    publication it follows has already committed and must not turn into an error page."""
    if event not in WebhookEvent.values or event in CIRCLE_EVENTS:
        raise ValueError(f"Unknown webhook event: {event}")
    if story_id is None and response_id is None:
        raise ValueError("webhook_event_queue needs a story_id or a response_id.")
    try:
        created_ids = _deliveries_create(event=event, story_id=story_id, response_id=response_id)
    except Exception:
        logger.exception("could not queue webhook event %s (story %s, response %s)", event, story_id, response_id)
        return
    for delivery_id in created_ids:
        transaction.on_commit(partial(delivery_enqueue, delivery_id=delivery_id))


def _deliveries_create(*, event: str, story_id: int | None, response_id: int | None) -> list[int]:
    """The new deliveries for an event (none for those already queued)."""
    from localsocial.stories.selectors.common import story_organisation_ids

    response = None
    if response_id is not None:
        response = (
            Response.objects.select_related("organisation")
            .filter(pk=response_id, status=ResponseStatus.PUBLISHED, is_author_reply=False)
            .first()
        )
        if response is None:
            return []
        story_id = response.story_id
    assert story_id is not None
    story = _story_loaded(story_id)
    if story is None or story.status != StoryStatus.PUBLISHED:
        return []
    endpoints = _endpoints_subscribed(event=event, organisation_ids=story_organisation_ids(story=story))
    if not endpoints:
        return []
    return _deliveries_for(
        event=event, endpoints=endpoints, payload=webhook_payload(event=event, story=story, response=response)
    )


def _endpoints_subscribed(*, event: str, organisation_ids: Any) -> list[WebhookEndpoint]:
    """The active endpoints of these organisations that asked for ``event``."""
    return [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(organisation_id__in=organisation_ids, is_active=True).order_by("id")
        if event in (endpoint.events or [])
    ]


def _deliveries_for(*, event: str, endpoints: list[WebhookEndpoint], payload: dict[str, Any]) -> list[int]:
    """One delivery of ``payload`` per endpoint, unless it is already queued there; returns
    the ids of those made now."""
    created_ids: list[int] = []
    for endpoint in endpoints:
        try:
            with transaction.atomic():
                delivery, created = WebhookDelivery.objects.get_or_create(
                    endpoint=endpoint, event_id=payload["id"], defaults={"event": event, "payload": payload}
                )
        except IntegrityError:  # queued at the same moment by another process
            continue
        if created:
            created_ids.append(delivery.pk)
    return created_ids


# --- Circles events ----------------------------------------------------------------------------

def circle_event_id_for(*, event: str, request_id: int, visit_id: int) -> str:
    """Stable per subject and event: a request is matched once (it has at most one visit) and
    a visit completes once."""
    return f"{event}:{request_id}" if event == WebhookEvent.REQUEST_MATCHED else f"{event}:{visit_id}"


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
    if event == WebhookEvent.VISIT_COMPLETED:
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


def circle_webhook_queue(*, event: str, visit_id: int) -> None:
    """Queue a circles event (``request.matched`` when a helper accepted and the visit is
    arranged, ``visit.completed`` when both sides or a coordinator confirmed it) for every
    active endpoint, subscribed to it, of the organisation that runs the visit's circle and of
    every organisation above it.  Call after the change commits (``transaction.on_commit``).

    Idempotent like ``webhook_event_queue``: the event id is stable per request or visit.
    Nothing is queued for a circle not run by an organisation in the directory, or for a visit
    not yet complete.  A failure is logged, never raised."""
    if event not in CIRCLE_EVENTS:
        raise ValueError(f"Unknown circles webhook event: {event}")
    try:
        created_ids = _circle_deliveries_create(event=event, visit_id=visit_id)
    except Exception:
        logger.exception("could not queue webhook event %s (visit %s)", event, visit_id)
        return
    for delivery_id in created_ids:
        transaction.on_commit(partial(delivery_enqueue, delivery_id=delivery_id))


def _circle_deliveries_create(*, event: str, visit_id: int) -> list[int]:
    visit = (
        Visit.objects.select_related("circle__organisation", "request", "match").filter(pk=visit_id).first()
    )
    if visit is None or visit.circle.organisation is None:
        return []
    if event == WebhookEvent.VISIT_COMPLETED and visit.completed_at is None:
        return []
    endpoints = _endpoints_subscribed(event=event, organisation_ids=visit.circle.organisation.lineage_ids)
    if not endpoints:
        return []
    return _deliveries_for(event=event, endpoints=endpoints, payload=circle_webhook_payload(event=event, visit=visit))


def delivery_enqueue(*, delivery_id: int, run_after: datetime | None = None) -> bool:
    """Enqueue the task that sends a delivery (at ``run_after`` when given).  Returns False
    when the task backend cannot defer a task: the ``webhooks_retry`` sweep then sends it
    when it is due."""
    from localsocial.api.tasks import webhook_deliver_task

    task = webhook_deliver_task
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return False
        task = task.using(run_after=run_after)
    task.enqueue(delivery_id=delivery_id)
    return True


# --- Sending -----------------------------------------------------------------------------------

def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST and return ``(status code, error)``: the code when the receiver answered, an
    error message when it did not (or answered with something other than 2xx).  http.client
    follows no redirects and uses no proxy; https verifies the certificate."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout_seconds())
    try:
        connection.request("POST", path, body=body, headers=headers)
        reply = connection.getresponse()
        reply.read(RESPONSE_BYTES_READ)
        code = reply.status
    except TimeoutError:
        return None, f"No answer within {timeout_seconds():g} seconds."
    except (OSError, http.client.HTTPException) as exc:
        return None, f"Could not connect: {exc or type(exc).__name__}"[:500]
    finally:
        connection.close()
    if 200 <= code < 300:
        return code, ""
    if 300 <= code < 400:
        return code, "The receiver answered with a redirect, which is not followed."
    return code, f"The receiver answered {code}."


def _subject_still_public(delivery: WebhookDelivery) -> bool:
    """A story withdrawn (or a response rejected) since the event is not sent on.  Circles
    events carry no public content and a visit is never withdrawn: they are always sent."""
    payload = delivery.payload or {}
    if delivery.event in CIRCLE_EVENTS:
        return True
    data = payload.get("data") or {}
    story_id = (data.get("story") or {}).get("id")
    response_id = (data.get("response") or {}).get("id")
    if story_id is None or not Story.objects.filter(pk=story_id, status=StoryStatus.PUBLISHED).exists():
        return False
    if response_id is not None:
        return Response.objects.filter(pk=response_id, status=ResponseStatus.PUBLISHED).exists()
    return True


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the delivery for one attempt: a conditional UPDATE, so that of two workers given
    the same delivery only one sends it."""
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status__in=(DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    )


def _finish(delivery: WebhookDelivery, *, status: str, now: datetime, code: int | None, error: str,
            next_at: datetime | None) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        next_attempt_at=next_at,
        last_status_code=code,
        last_error=error[:500],
        delivered_at=now if status == DeliveryStatus.SUCCEEDED else delivery.delivered_at,
    )


def webhook_delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> str:
    """Make one attempt at a delivery, if it is due and nobody else is making it.  Records
    the attempt and either marks it delivered, schedules the next try, or gives up.
    Returns what happened: "skipped", "succeeded", "retrying", "failed" or "cancelled"."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _finish(delivery, status=DeliveryStatus.FAILED, now=now, code=None, next_at=None,
                error="Not sent: the webhook is paused. Send it again once it is resumed.")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") - 1)
        return "cancelled"
    if not _subject_still_public(delivery):
        _finish(delivery, status=DeliveryStatus.FAILED, now=now, code=None, next_at=None,
                error="Not sent: the story or response is no longer public.")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") - 1)
        return "cancelled"

    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    timestamp = str(int(now.timestamp()))
    problem = webhook_url_problem(endpoint.url, resolve=True)
    started = time.monotonic()
    if problem:
        code, error = None, problem
    else:
        code, error = _post(endpoint.url, body, {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-LocalSocial-Event": delivery.event,
            "X-LocalSocial-Delivery": str(delivery.pk),
            "X-LocalSocial-Timestamp": timestamp,
            "X-LocalSocial-Signature": signature_for(secret=endpoint.secret, timestamp=timestamp, body=body),
        })
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = code is not None and 200 <= code < 300 and not error
    WebhookAttempt.objects.create(
        delivery=delivery, attempted_at=now, status_code=code, error=error[:500], duration_ms=duration_ms
    )
    attempts = delivery.attempts  # already counted by the claim
    if succeeded:
        _finish(delivery, status=DeliveryStatus.SUCCEEDED, now=now, code=code, error="", next_at=None)
        return "succeeded"
    if attempts >= MAX_ATTEMPTS:
        _finish(delivery, status=DeliveryStatus.FAILED, now=now, code=code, error=error, next_at=None)
        logger.warning("webhook delivery %s failed after %s attempts: %s", delivery.pk, attempts, error)
        return "failed"
    next_at = now + BACKOFF[attempts - 1]
    _finish(delivery, status=DeliveryStatus.RETRYING, now=now, code=code, error=error, next_at=next_at)
    transaction.on_commit(lambda: delivery_enqueue(delivery_id=delivery_id, run_after=next_at))
    return "retrying"


def webhooks_retry_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Attempt every delivery that is due: retries whose time has come, and new deliveries
    whose task was lost.  For backends that cannot defer tasks, run it every minute (cron);
    harmless alongside workers, because each attempt claims its delivery first.  Returns how
    many were attempted."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=True, created_at__lte=now - STALE_PENDING)
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    attempted = 0
    for delivery_id in due:
        if webhook_delivery_attempt(delivery_id=delivery_id, now=now) != "skipped":
            attempted += 1
    return attempted
