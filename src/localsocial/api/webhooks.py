"""Webhooks: the platform's engine that tells an organisation's systems when something about
it happens.  It imports no module: the modules register their event types (name, payload
builder, "still public?" check; ``api.webhook_registry``) from their own ``webhooks.py`` and
call ``webhook_event_queue(event=…, subject_id=…)`` after their transaction commits.  It writes
one ``WebhookDelivery`` per subscribed, active endpoint of every organisation the event
concerns and enqueues a task per delivery.

Each delivery is a POST of JSON signed as Standard Webhooks (https://www.standardwebhooks.com)
so that receivers can check it with the reference libraries::

    webhook-id: story.published:1234           (the event's id: the same on every attempt)
    webhook-timestamp: 1795000000
    webhook-signature: v1,<base64 HMAC-SHA256(secret's bytes, f"{id}.{timestamp}.{body}")>

For ``PREVIOUS_SECRET_GRACE`` after a rotation the signature header holds two signatures, with
the new secret and the previous one.  ``X-LocalSocial-Event`` and ``X-LocalSocial-Delivery``
stay; the older ``X-LocalSocial-Timestamp`` and ``X-LocalSocial-Signature`` are still sent for
this release only (decision 0016).

2xx is success.  Anything else (another status, a redirect, a timeout, a refused connection)
is retried after 1 minute, 5 minutes, 30 minutes, 2 hours and 12 hours, and then given up.
Retries are enqueued with django-tasks' ``run_after`` when the backend supports it; the
``localsocial webhooks_retry`` command (from cron) sends whatever is due on any backend.
"""

from __future__ import annotations

import base64
import binascii
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

from localsocial.api.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from localsocial.api.webhook_registry import WebhookEventType, webhook_event_type

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
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# After a rotation, deliveries are signed with the previous secret too for this long, so a
# receiver has a day to switch to the new one without refusing anything.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT", 10))


def local_addresses_allowed() -> bool:
    """Plain http:// to this machine, for development and tests only."""
    default = bool(settings.DEBUG or getattr(settings, "TESTING", False))
    return bool(getattr(settings, "WEBHOOKS_ALLOW_LOCAL", default))


def secret_generate() -> str:
    """A new signing secret: ``whsec_`` and the base64 of 32 random bytes, as Standard
    Webhooks secrets are written."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret, read exactly as the reference library reads it
    (``standardwebhooks.Webhook``), so that what we sign is what receivers check.  Raises
    ValueError for a secret that holds no key."""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX) + "==")
    except (binascii.Error, ValueError) as exc:
        raise ValueError("The webhook's secret is not valid base64.") from exc
    if not key:
        raise ValueError("The webhook's secret is empty.")
    return key


def signature_for(*, secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """One Standard Webhooks signature: ``v1,`` and the base64 HMAC-SHA256 of
    ``{webhook-id}.{webhook-timestamp}.{body}``, keyed with the secret's bytes."""
    message = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signing_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets a delivery is signed with: the endpoint's, and during the grace period
    after a rotation, the previous one as well."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        found.append(endpoint.previous_secret)
    return found


def signature_header(*, secrets_: list[str], message_id: str, timestamp: str, body: bytes) -> str:
    """The ``webhook-signature`` header: one signature per secret, separated by spaces."""
    return " ".join(
        signature_for(secret=secret, message_id=message_id, timestamp=timestamp, body=body) for secret in secrets_
    )


def legacy_signature_for(*, secret: str, timestamp: str, body: bytes) -> str:
    """``X-LocalSocial-Signature`` as sent before Standard Webhooks (kept for one release):
    ``sha256=`` and the hex HMAC-SHA256 of ``{timestamp}.{body}``.  Keyed with the same bytes;
    for a webhook made before the change these are its old secret's, so its receiver's check
    still passes (migration 0003)."""
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret_key(secret), message, hashlib.sha256).hexdigest()


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

def webhook_event_queue(*, event: str, subject_id: int) -> None:
    """Queue ``event`` (a registered event type) about ``subject_id`` for every active
    endpoint, subscribed to it, of the organisations the event's builder names (it includes
    every organisation above them).  Call after the change commits (``transaction.on_commit``).

    Idempotent: a delivery is unique per endpoint and event id, and the builder gives a stable
    id, so queueing the same event twice makes no second delivery and sends nothing twice.
    Nothing is queued when the builder finds nothing to send (a story no longer public).  A
    failure here is logged, never raised: the change it follows has already committed and must
    not turn into an error page.  An event no module registered is a programming error."""
    event_type = webhook_event_type(event)
    if event_type is None:
        raise ValueError(f"Unknown webhook event: {event}")
    try:
        created_ids = _deliveries_create(event_type=event_type, subject_id=subject_id)
    except Exception:
        logger.exception("could not queue webhook event %s (subject %s)", event, subject_id)
        return
    for delivery_id in created_ids:
        transaction.on_commit(partial(delivery_enqueue, delivery_id=delivery_id))


def _deliveries_create(*, event_type: WebhookEventType, subject_id: int) -> list[int]:
    """The new deliveries for an event (none for those already queued)."""
    message = event_type.build(subject_id)
    if message is None:
        return []
    payload = message.payload
    if payload.get("event") != event_type.name or not payload.get("id") or len(str(payload["id"])) > 80:
        raise ValueError(f"The {event_type.name} builder gave a payload without its event or a stable id.")
    endpoints = _endpoints_subscribed(event=event_type.name, organisation_ids=message.organisation_ids)
    if not endpoints:
        return []
    return _deliveries_for(event=event_type.name, endpoints=endpoints, payload=payload)


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


def _not_sendable(delivery: WebhookDelivery) -> str:
    """Why a delivery must not be sent now ("" when it may): its event type is no longer
    registered, or its module says what it is about stopped being public (a story withdrawn
    or a response rejected since the event was queued)."""
    event_type = webhook_event_type(delivery.event)
    if event_type is None:
        return "Not sent: this kind of event is no longer sent."
    if not event_type.still_public(delivery.payload or {}):
        return "Not sent: what the event is about is no longer public."
    return ""


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


def _headers(delivery: WebhookDelivery, *, now: datetime, timestamp: str, body: bytes) -> dict[str, str]:
    endpoint = delivery.endpoint
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.event_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature_header(
            secrets_=signing_secrets(endpoint, now=now), message_id=delivery.event_id, timestamp=timestamp, body=body
        ),
        "X-LocalSocial-Event": delivery.event,
        "X-LocalSocial-Delivery": str(delivery.pk),
        # Deprecated, for receivers written before Standard Webhooks; dropped in the next release.
        "X-LocalSocial-Timestamp": timestamp,
        "X-LocalSocial-Signature": legacy_signature_for(secret=endpoint.secret, timestamp=timestamp, body=body),
    }


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
    not_sendable = _not_sendable(delivery)
    if not_sendable:
        _finish(delivery, status=DeliveryStatus.FAILED, now=now, code=None, next_at=None, error=not_sendable)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") - 1)
        return "cancelled"

    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    timestamp = str(int(now.timestamp()))
    problem = webhook_url_problem(endpoint.url, resolve=True)
    started = time.monotonic()
    headers: dict[str, str] = {}
    if not problem:
        try:
            headers = _headers(delivery, now=now, timestamp=timestamp, body=body)
        except ValueError:
            problem = "The webhook's secret cannot be used: rotate it to get a new one."
    if problem:
        code, error = None, problem
    else:
        code, error = _post(endpoint.url, body, headers)
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
