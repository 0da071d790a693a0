"""API tokens and webhooks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TokenScope(models.TextChoices):
    """What a token may do.  Reading public data needs no token at all."""

    STORIES_WRITE = "stories:write", _("Submit stories")
    RESPONSES_WRITE = "responses:write", _("Post responses for the organisation")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Manage the organisation's webhooks")


class ApiToken(models.Model):
    """A secret a developer sends as ``Authorization: Bearer <token>``.  Only a SHA-256 of it
    is kept; ``prefix`` (its first characters) lets people tell their tokens apart.  A token
    acts as its ``user`` and, for organisation scopes, only for ``organisation`` and its
    subtree, and only while that user still holds the role there."""

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


class WebhookEvent(models.TextChoices):
    STORY_PUBLISHED = "story.published", "story.published"
    RESPONSE_PUBLISHED = "response.published", "response.published"
    CHANGE_MARKED = "change.marked", "change.marked"


class WebhookEndpoint(models.Model):
    """An address an organisation wants events posted to, signed with ``secret`` (HMAC-SHA256
    of the body, in the ``X-LocalSocial-Signature`` header)."""

    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("address"), max_length=500)
    secret = models.CharField(max_length=64)
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organisation", "url"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SUCCEEDED = "succeeded", _("Delivered")
    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Gave up")


class WebhookDelivery(models.Model):
    """One event for one endpoint, with every attempt's outcome.  ``event_id`` is unique per
    endpoint, so an event is never queued twice; receivers use it to ignore repeats."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
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
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="api_delivery_endpoint")]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="api_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}: {self.status}"
