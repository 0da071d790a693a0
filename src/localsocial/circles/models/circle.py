"""A circle: a membership network in one place, run by a few coordinators, with its own fee,
token bundles, eligibility and partner organisations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Tokens are counted in quarter hours everywhere: 1 token = 1 hour = 4 quarters.
QUARTERS_PER_TOKEN = 4


class Circle(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name for web addresses"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    area = models.ForeignKey(
        "directory.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="circles",
        verbose_name=_("area"),
    )
    organisation = models.ForeignKey(
        "directory.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="circles",
        help_text=_("The organisation that runs the circle, if it is in the directory."),
    )
    annual_fee_pence = models.PositiveIntegerField(_("annual fee in pence"), default=1000)
    minimum_age = models.PositiveSmallIntegerField(
        _("minimum age"), null=True, blank=True, default=50,
        help_text=_("Members say they are this age or older when they join; empty for any age."),
    )
    welcome_quarters = models.PositiveIntegerField(
        _("welcome tokens, in quarter hours"), default=0, help_text=_("Granted to each new member.")
    )
    minimum_balance_quarters = models.IntegerField(
        _("lowest balance a member may reach, in quarter hours"), default=0,
        help_text=_("0: members cannot spend tokens they do not have; -8: up to two hours of credit."),
    )
    missed_checkout_minutes = models.PositiveIntegerField(
        _("minutes after a visit's planned end before a missing check-out alerts the coordinators"), default=60
    )
    renewal_reminder_days = models.PositiveSmallIntegerField(
        _("days before a membership year ends to send a reminder"), default=30
    )
    is_active = models.BooleanField(_("open to new members"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="circles_circle_name_present"),
            models.CheckConstraint(
                condition=models.Q(minimum_balance_quarters__lte=0), name="circles_circle_minimum_balance_not_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CircleCoordinator(models.Model):
    """Someone who runs a circle: matches help, acts for members on the phone, sees reports."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="coordinators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coordinated_circles")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["circle", "user"], name="circles_coordinator_unique")]

    def __str__(self) -> str:
        return f"{self.user} coordinates {self.circle}"


class TokenBundle(models.Model):
    """Tokens sold together at one price, e.g. 3 tokens for £30."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="bundles")
    name = models.CharField(_("name"), max_length=100)
    quarters = models.PositiveIntegerField(_("tokens, in quarter hours"))
    price_pence = models.PositiveIntegerField(_("price in pence"))
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        ordering = ["circle", "quarters"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quarters__gt=0), name="circles_bundle_has_tokens"),
            models.UniqueConstraint(fields=["circle", "name"], name="circles_bundle_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.circle})"


class CirclePartner(models.Model):
    """An organisation from the directory that refers people to the circle or takes referrals."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="partners")
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="circle_partnerships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["circle", "organisation"], name="circles_partner_unique")]

    def __str__(self) -> str:
        return f"{self.organisation} with {self.circle}"
