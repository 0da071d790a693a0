"""API tokens and webhooks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A secret a developer sends as ``Authorization: Bearer <token>``.  Only a SHA-256 of it
    is kept; ``prefix`` (its first characters) lets people tell their tokens apart.  A token
    acts as its ``user`` and, for organisation scopes, only for ``organisation`` and its
    subtree, and only while that user still holds the role there.  ``scopes`` is a list of
    scope names, each registered by the module it belongs to (``api.registry``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    organisation = models.ForeignKey(
        "directory.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ApiIdempotencyKey(models.Model):
    """An ``Idempotency-Key`` a token sent with a POST, and what that request made.  Unique
    per token, so a retried request finds what it made instead of making a second one;
    ``request_hash`` (SHA-256 of the body) and ``operation`` (the service it called, as
    ``<module>.<service>``: ``stories.story_submit``, ``circles.payment_record`` …) catch a
    key reused for another request; ``object_id`` is the id of what it made, in the model
    the operation makes (see ``api.idempotency``)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    operation = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="api_idempotency_once"),
            models.CheckConstraint(condition=~models.Q(operation=""), name="api_idempotency_operation_named"),
        ]

    def __str__(self) -> str:
        return f"{self.token_id}:{self.key} → {self.operation} {self.object_id}"


class WebhookEndpoint(models.Model):
    """An address an organisation wants events posted to, signed as Standard Webhooks with
    ``secret`` (``whsec_`` and base64 key bytes).  The secret is kept as it is, because signing
    needs it; it is shown once, when made or rotated.  After a rotation ``previous_secret``
    signs too, until ``previous_secret_expires_at`` (api.webhooks.PREVIOUS_SECRET_GRACE).
    ``events`` are names of registered event types (api.webhook_registry), checked by the
    services, not by the database, so that a module adds events without an api migration."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("address"), max_length=500)
    secret = models.CharField(max_length=128)
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    previous_secret = models.CharField(max_length=128, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "url", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(url__startswith="https://") | models.Q(url__startswith="http://"),
                name="api_webhook_url_http",
            ),
        ]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SUCCEEDED = "succeeded", _("Delivered")
    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Gave up")


class WebhookDelivery(models.Model):
    """One event for one endpoint, with every attempt's outcome.  ``event_id`` is unique per
    endpoint, so an event is never queued twice; receivers use it to ignore repeats.

    ``next_attempt_at`` is when it may be tried next.  A worker claims a delivery with a
    conditional UPDATE that also moves ``next_attempt_at`` a minute on (a lease): a second
    worker then finds nothing to claim, and a worker that dies mid-send leaves a delivery the
    retry sweep picks up after the lease.  ``attempts`` counts attempts since it was (re)queued;
    every attempt is also kept in ``WebhookAttempt``."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # A registered event type's name (api.webhook_registry); no choices, see WebhookEndpoint.
    event = models.CharField(max_length=40)
    event_id = models.CharField(max_length=80)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at", "-id"], name="api_delivery_endpoint"),
            models.Index(fields=["status", "next_attempt_at"], name="api_delivery_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="api_delivery_once"),
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in DeliveryStatus]), name="api_delivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}: {self.status}"


class WebhookAttempt(models.Model):
    """One try at sending a delivery: when, what came back (or what went wrong), how long."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "attempted_at", "id"]
        indexes = [models.Index(fields=["delivery", "attempted_at"], name="api_attempt_delivery")]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
