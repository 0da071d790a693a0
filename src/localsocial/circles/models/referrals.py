"""Referrals between a circle and its partner organisations (from the directory).

* **In**: a partner (a GP practice, adult social care, a housing officer) refers someone who
  might join.  The person agreed to be referred (``consent_given_at``); the coordinators
  contact them, and the referral ends as joined (linked to the new ``member``), declined or
  closed.
* **Out**: a coordinator refers a member to a partner (benefits advice, a falls service),
  with the member's consent; the partner's staff see it and record what happened.

Consent is required in both directions and the database refuses a referral without it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReferralDirection(models.TextChoices):
    IN = "in", _("To the circle from a partner")
    OUT = "out", _("From the circle to a partner")


class ReferralStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("In touch")
    ACCEPTED = "accepted", _("Accepted")  # in: joined the circle; out: the partner took it on
    DECLINED = "declined", _("Declined")  # the person said no, or the partner could not help
    CLOSED = "closed", _("Closed")  # ended another way (could not reach them, moved away …)


OPEN_REFERRAL_STATUSES = [ReferralStatus.NEW, ReferralStatus.CONTACTED]


class Referral(models.Model):
    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="referrals")
    direction = models.CharField(max_length=3, choices=ReferralDirection.choices)
    partner = models.ForeignKey(
        "directory.Organisation", on_delete=models.PROTECT, related_name="circle_referrals",
        verbose_name=_("partner organisation"),
    )
    member = models.ForeignKey(
        "circles.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals",
        help_text=_("Out: the member referred.  In: the member they became, once they joined."),
    )
    person_name = models.CharField(_("name"), max_length=200)
    person_phone = models.CharField(_("phone number"), max_length=40, blank=True)
    person_email = models.EmailField(_("email address"), blank=True)
    person_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    reason = models.TextField(_("why you are referring them"))
    needs = models.TextField(_("anything we should know before we get in touch"), blank=True)
    consent_given_at = models.DateTimeField(_("when they agreed to be referred"))
    status = models.CharField(max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.NEW)
    outcome = models.TextField(_("what happened"), blank=True)
    idempotency_key = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["circle", "direction", "status", "created_at"], name="circles_referral_queue"),
            models.Index(fields=["partner", "direction", "created_at"], name="circles_referral_partner"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["circle", "idempotency_key"], name="circles_referral_idempotent"),
            models.CheckConstraint(
                condition=models.Q(direction__in=[c.value for c in ReferralDirection]),
                name="circles_referral_direction_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in ReferralStatus]), name="circles_referral_status_valid"
            ),
            models.CheckConstraint(condition=~models.Q(person_name=""), name="circles_referral_has_name"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="circles_referral_has_reason"),
            models.CheckConstraint(condition=~models.Q(idempotency_key=""), name="circles_referral_key_present"),
            # Someone referred in must be reachable.
            models.CheckConstraint(
                condition=~models.Q(direction=ReferralDirection.IN) | ~models.Q(person_phone="")
                | ~models.Q(person_email=""),
                name="circles_referral_in_reachable",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in OPEN_REFERRAL_STATUSES], closed_at__isnull=True)
                | (~models.Q(status__in=[s.value for s in OPEN_REFERRAL_STATUSES]) & models.Q(closed_at__isnull=False)),
                name="circles_referral_closed_when_ended",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} {self.direction} {self.partner_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REFERRAL_STATUSES
