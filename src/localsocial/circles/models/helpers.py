"""Helpers: volunteers and paid helpers, with their vetting.  (Skills, availability, requests,
offers, matching and visits build on these.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class HelperKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    PAID = "paid", _("Paid helper")
    MEMBER = "member", _("Member who helps")  # earns tokens for the help they give


class DbsStatus(models.TextChoices):
    NONE = "none", _("No DBS check")
    APPLIED = "applied", _("Applied for")
    CLEAR = "clear", _("Clear")
    REVIEW = "review", _("Needs a coordinator's review")


class Helper(models.Model):
    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="helpers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="circle_helper_roles")
    member = models.OneToOneField(
        "circles.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="helper",
        help_text=_("Set when a member became a helper."),
    )
    kind = models.CharField(max_length=10, choices=HelperKind.choices)
    display_name = models.CharField(_("name"), max_length=200)
    hourly_rate_pence = models.PositiveIntegerField(_("hourly rate in pence"), null=True, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    travel_radius_km = models.DecimalField(_("how far they will travel, in km"), max_digits=5, decimal_places=1, default=5)
    dbs_status = models.CharField(_("DBS check"), max_length=10, choices=DbsStatus.choices, default=DbsStatus.NONE)
    dbs_checked_on = models.DateField(_("DBS checked on"), null=True, blank=True)
    dbs_expires_on = models.DateField(_("DBS check expires on"), null=True, blank=True)
    references_checked = models.BooleanField(_("references checked"), default=False)
    training_completed_on = models.DateField(_("induction training completed on"), null=True, blank=True)
    is_active = models.BooleanField(default=True)
    became_helper_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["circle", "display_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "user"], name="circles_helper_once_per_circle"),
            models.CheckConstraint(
                condition=models.Q(kind__in=[c.value for c in HelperKind]), name="circles_helper_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=HelperKind.PAID) | models.Q(hourly_rate_pence__isnull=False),
                name="circles_helper_paid_has_rate",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=HelperKind.MEMBER) | models.Q(member__isnull=False),
                name="circles_helper_member_kind_has_member",
            ),
            models.CheckConstraint(
                condition=~models.Q(dbs_status=DbsStatus.CLEAR)
                | models.Q(dbs_checked_on__isnull=False, dbs_expires_on__isnull=False),
                name="circles_helper_clear_dbs_has_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_kind_display()}, {self.circle})"
