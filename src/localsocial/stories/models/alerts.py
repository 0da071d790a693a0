"""Alerts for staff: which new stories they want to hear about, and which they have been sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AlertFrequency(models.TextChoices):
    IMMEDIATE = "immediate", _("As each story is published")
    DAILY = "daily", _("A daily digest")


class AlertSubscription(models.Model):
    """A member of staff's alert: new published stories about an organisation's subtree, or
    chosen services, optionally only with chosen tags and at or above a criticality."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="story_alerts")
    name = models.CharField(_("name of this alert"), max_length=100)
    organisation = models.ForeignKey(
        "directory.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("Stories about this organisation and everything in it."),
    )
    services = models.ManyToManyField("directory.Service", blank=True, related_name="+")
    tags = models.ManyToManyField("stories.Tag", blank=True, related_name="+")
    min_criticality = models.PositiveSmallIntegerField(_("only stories at least this critical"), default=0)
    frequency = models.CharField(max_length=10, choices=AlertFrequency.choices, default=AlertFrequency.IMMEDIATE)
    is_active = models.BooleanField(default=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user", "name"]
        indexes = [models.Index(fields=["organisation", "is_active"], name="stories_alert_org")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_criticality__gte=0, min_criticality__lte=5), name="stories_alert_criticality_range"
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__in=[c.value for c in AlertFrequency]), name="stories_alert_frequency_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AlertDelivery(models.Model):
    """A story matched a subscription.  The unique constraint is what makes every alert go
    once: the task that sends it first claims this row.  ``sent_at`` is set when the email
    (immediate, or the digest it was part of) was handed to the mail queue."""

    subscription = models.ForeignKey(AlertSubscription, on_delete=models.CASCADE, related_name="deliveries")
    story = models.ForeignKey("stories.Story", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["subscription", "sent_at"], name="stories_alertdelivery_pending")]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "story"], name="stories_alertdelivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} ← {self.story_id}"
