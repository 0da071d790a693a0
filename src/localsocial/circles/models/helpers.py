"""Helpers: volunteers and paid helpers, with their vetting, the kinds of help they give
(``HelperSkill``) and when they are usually free (``HelperAvailability``).  Requests, offers,
matching and visits are in ``help``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from localsocial.circles.models.help import HelpCategory


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


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class HelperSkill(models.Model):
    """A kind of help a helper says they give (one row per category)."""

    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="skills")
    category = models.CharField(_("kind of help"), max_length=20, choices=HelpCategory.choices)
    note = models.CharField(_("what exactly"), max_length=200, blank=True)

    class Meta:
        ordering = ["helper", "category"]
        constraints = [
            models.UniqueConstraint(fields=["helper", "category"], name="circles_helper_skill_once"),
            models.CheckConstraint(
                condition=models.Q(category__in=[c.value for c in HelpCategory]), name="circles_helper_skill_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.helper_id}: {self.get_category_display()}"


class HelperAvailability(models.Model):
    """A time in the week a helper is usually free, e.g. Tuesdays 10:00 to 13:00."""

    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        ordering = ["helper", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="circles_availability_weekday_valid"),
            models.CheckConstraint(condition=models.Q(ends__gt=models.F("starts")), name="circles_availability_ends_after"),
            models.UniqueConstraint(fields=["helper", "weekday", "starts"], name="circles_availability_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"
