"""Writes of the API app: tokens, webhook endpoints and deliveries.  Every change a person
makes is in the audit log.  (Idempotency keys: ``api.idempotency``.)"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from localsocial.accounts.models import User
from localsocial.api.auth import token_generate
from localsocial.api.idempotency import request_fingerprint
from localsocial.api.models import (
    ApiToken,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from localsocial.api.registry import scope_get
from localsocial.api.webhook_registry import webhook_event_names
from localsocial.api.webhooks import (
    PREVIOUS_SECRET_GRACE,
    delivery_enqueue,
    secret_generate,
    webhook_url_problem,
)
from localsocial.core.services import audit_record
from localsocial.directory.models import Organisation, OrganisationMembership

__all__ = [  # request_fingerprint: kept importable from here, where it used to live
    "api_token_create", "api_token_revoke", "request_fingerprint", "webhook_delivery_resend",
    "webhook_endpoint_create", "webhook_endpoint_delete", "webhook_endpoint_rotate_secret",
    "webhook_endpoint_set_active",
]

# --- Tokens ------------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    scopes: list[str],
    organisation: Organisation | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user``: returns ``(token, secret)``.  The secret is shown once and
    never stored (only its SHA-256).  Raises ValidationError (by field) for no name, an
    unknown scope, an organisation scope without an organisation, an organisation where the
    person lacks the role the scope needs, or an expiry in the past."""
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = ["Enter a name for the token"]
    elif len(name) > 100:
        errors["name"] = ["The name must be 100 characters or fewer"]
    scopes = list(dict.fromkeys(scopes or []))
    if not scopes:
        errors["scopes"] = ["Choose what the token may do"]
    elif any(scope_get(scope) is None for scope in scopes):
        errors["scopes"] = ["Choose what the token may do from the list"]
    registered = [found for found in (scope_get(scope) for scope in scopes) if found is not None]
    organisation_scopes = [scope for scope in registered if scope.needs_organisation]
    if organisation_scopes and organisation is None:
        errors["organisation"] = ["Choose the organisation the token acts for"]
    elif organisation is not None:
        for scope in organisation_scopes:
            allowed = OrganisationMembership.objects.filter(
                user=user, organisation=organisation, role__in=scope.organisation_roles
            ).exists()
            if not allowed:
                errors.setdefault("organisation", []).append(
                    f"You do not have the role at {organisation.name} needed to “{scope.label}”"
                )
    if not organisation_scopes:
        organisation = None  # a token without organisation scopes acts for nobody but its person
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry date must be in the future"]
    if errors:
        raise ValidationError(errors)
    secret, prefix, hashed = token_generate()
    token = ApiToken.objects.create(
        user=user, organisation=organisation, name=name, prefix=prefix, token_hash=hashed,
        scopes=scopes, expires_at=expires_at,
    )
    audit_record(
        actor=user, action="api.token_create", target=token,
        after={"name": name, "prefix": prefix, "scopes": scopes,
               "organisation": organisation.pk if organisation else None, "expires_at": expires_at},
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of ``user``'s tokens: it stops working at once.  Returns False when it was
    already revoked (or is not theirs)."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token = ApiToken.objects.get(pk=token_id)
        audit_record(actor=user, action="api.token_revoke", target=token,
                     after={"revoked_at": now})
    return bool(revoked)


# --- Webhook endpoints -------------------------------------------------------------------------

def _endpoint_checked(url: str, events: list[str]) -> tuple[str, list[str]]:
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    if not url:
        errors["url"] = ["Enter the address to send events to"]
    elif len(url) > 500:
        errors["url"] = ["The address must be 500 characters or fewer"]
    else:
        problem = webhook_url_problem(url)
        if problem:
            errors["url"] = [problem.rstrip(".")]
    # Only registered event types (the modules' webhooks.py), in the order registered.
    events = [event for event in webhook_event_names() if event in (events or [])]
    if not events:
        errors["events"] = ["Choose at least one event"]
    if errors:
        raise ValidationError(errors)
    return url, events


@transaction.atomic
def webhook_endpoint_create(
    *, actor: User | None, organisation: Organisation, url: str, events: list[str]
) -> WebhookEndpoint:
    """A new, active endpoint with a new secret.  Raises ValidationError (``url``,
    ``events``) for an address events may not be sent to or no events."""
    url, events = _endpoint_checked(url, events)
    endpoint = WebhookEndpoint.objects.create(
        organisation=organisation, url=url, events=events, secret=secret_generate(), created_by=actor
    )
    audit_record(actor=actor, action="api.webhook_create", target=endpoint,
                 after={"organisation": organisation.pk, "url": url, "events": events})
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, actor: User | None, endpoint: WebhookEndpoint
) -> WebhookEndpoint:
    """Replace the secret: deliveries from now on are signed with the new one and, for
    PREVIOUS_SECRET_GRACE (24 hours), with the one it replaces as well, so the receiver can
    switch without refusing a message.  Rotating again within that time drops the oldest."""
    now = timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + PREVIOUS_SECRET_GRACE
    endpoint.secret = secret_generate()
    endpoint.secret_rotated_at = now
    endpoint.save(update_fields=["secret", "secret_rotated_at", "previous_secret", "previous_secret_expires_at"])
    audit_record(actor=actor, action="api.webhook_rotate_secret", target=endpoint)
    return endpoint


@transaction.atomic
def webhook_endpoint_set_active(
    *, actor: User | None, endpoint: WebhookEndpoint, active: bool
) -> bool:
    """Pause or resume an endpoint; a paused one is sent nothing.  Returns True if it changed."""
    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=not active).update(is_active=active)
    if changed:
        endpoint.is_active = active
        audit_record(actor=actor, action="api.webhook_resume" if active else "api.webhook_pause",
                     target=endpoint, after={"is_active": active})
    return bool(changed)


@transaction.atomic
def webhook_endpoint_delete(*, actor: User | None, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint and its delivery log."""
    audit_record(actor=actor, action="api.webhook_delete", target=endpoint,
                 before={"organisation": endpoint.organisation_id, "url": endpoint.url, "events": endpoint.events})
    endpoint.delete()


@transaction.atomic
def webhook_delivery_resend(
    *, actor: User | None, delivery: WebhookDelivery
) -> bool:
    """Send a delivery again, now, with a fresh round of retries (its earlier attempts stay in
    the log).  Returns False while it is already waiting to be sent."""
    queued = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .exclude(status__in=(DeliveryStatus.PENDING, DeliveryStatus.RETRYING))
        .update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None)
    )
    if not queued:
        return False
    audit_record(actor=actor, action="api.webhook_resend", target=delivery.endpoint,
                 after={"delivery": delivery.pk, "event_id": delivery.event_id})
    delivery_id = delivery.pk
    transaction.on_commit(lambda: delivery_enqueue(delivery_id=delivery_id))
    return True

