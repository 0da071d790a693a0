"""Members, their membership years and the payments they (or their family and friends) make."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def email_is_placeholder(email: str) -> bool:
    """Addresses ending ``.invalid`` (members who joined by phone with no email) get no mail."""
    return not email or email.strip().lower().endswith(".invalid")


class JoinRoute(models.TextChoices):
    ONLINE = "online", _("Online")
    ASSISTED = "assisted", _("By phone or in person, with a coordinator")


class ContactPreference(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    POST = "post", _("Post")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LAPSED = "lapsed", _("Lapsed")  # the membership year ended unpaid
    LEFT = "left", _("Left")


class Member(models.Model):
    """A person's membership of one circle.  Everyone has a user account; someone who joined
    by phone without an email address has one with a placeholder address and no password, and
    a coordinator acts for them (``route`` assisted, consent recorded)."""

    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="circle_memberships")
    display_name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone number"), max_length=40, blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    contact_preference = models.CharField(
        _("how we contact you"), max_length=10, choices=ContactPreference.choices, default=ContactPreference.PHONE
    )
    accessibility_needs = models.TextField(_("accessibility needs"), blank=True)
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=200, blank=True)
    emergency_contact_phone = models.CharField(_("emergency contact's phone number"), max_length=40, blank=True)
    eligibility_confirmed = models.BooleanField(
        _("says they meet the circle's eligibility (for example 50 or over)"), default=False
    )
    wellbeing_opt_in = models.BooleanField(
        _("happy to answer three short questions about loneliness now and then"), default=False
    )
    status = models.CharField(max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    route = models.CharField(max_length=10, choices=JoinRoute.choices, default=JoinRoute.ONLINE)
    consent_given_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the member agreed to a coordinator acting for them.")
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["circle", "display_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "user"], name="circles_member_once_per_circle"),
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in MemberStatus]), name="circles_member_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(route__in=[c.value for c in JoinRoute]), name="circles_member_route_valid"
            ),
            # A member who joined through a coordinator agreed to it, and we know who entered them.
            models.CheckConstraint(
                condition=~models.Q(route=JoinRoute.ASSISTED)
                | models.Q(consent_given_at__isnull=False, entered_by__isnull=False),
                name="circles_member_assisted_has_consent",
            ),
            models.CheckConstraint(condition=~models.Q(display_name=""), name="circles_member_name_present"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.circle})"


class PaymentPurpose(models.TextChoices):
    FEE = "fee", _("Membership fee")
    TOKENS = "tokens", _("Tokens")
    GIFT = "gift", _("Tokens given as a gift")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Card")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the card payment")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")


class Payment(models.Model):
    """Money received for a member: their fee, tokens they bought, or tokens someone bought
    them as a gift (``payer_name``).  Cash, cheques and bank transfers are recorded by a
    coordinator; cards go through the payment provider interface."""

    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="payments")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="payments")
    purpose = models.CharField(max_length=10, choices=PaymentPurpose.choices)
    method = models.CharField(max_length=15, choices=PaymentMethod.choices)
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    amount_pence = models.PositiveIntegerField()
    bundle = models.ForeignKey(
        "circles.TokenBundle", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    payer_name = models.CharField(_("who paid, for a gift"), max_length=200, blank=True)
    payer_email = models.EmailField(_("their email address"), blank=True)
    provider = models.CharField(max_length=40, blank=True)
    provider_reference = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "idempotency_key"], name="circles_payment_idempotent"),
            models.CheckConstraint(condition=models.Q(amount_pence__gt=0), name="circles_payment_positive"),
            models.CheckConstraint(
                condition=models.Q(purpose=PaymentPurpose.FEE) | models.Q(bundle__isnull=False),
                name="circles_payment_tokens_have_bundle",
            ),
            models.CheckConstraint(
                condition=~models.Q(purpose=PaymentPurpose.GIFT) | ~models.Q(payer_name=""),
                name="circles_payment_gift_has_payer",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=PaymentStatus.SUCCEEDED) | models.Q(completed_at__isnull=False),
                name="circles_payment_paid_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} £{self.amount_pence / 100:.2f} for {self.member}"


class MembershipYear(models.Model):
    """A year of membership and its fee; paid when ``payment`` is set."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="years")
    starts_on = models.DateField()
    ends_on = models.DateField()
    fee_pence = models.PositiveIntegerField()
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="membership_year"
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["member", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["member", "starts_on"], name="circles_year_once"),
            models.CheckConstraint(condition=models.Q(ends_on__gt=models.F("starts_on")), name="circles_year_ends_after"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.starts_on:%Y-%m-%d} to {self.ends_on:%Y-%m-%d}"
