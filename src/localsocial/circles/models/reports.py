"""What the reports need beyond the circle's own records: members' optional wellbeing
check-ins, and the proxy values behind the estimate of savings to public services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from localsocial.circles.models.help import HelpCategory


class LonelinessAnswer(models.IntegerChoices):
    """The three-item UCLA loneliness scale's answers (Hughes et al. 2004; used by the ONS)."""

    HARDLY_EVER = 1, _("Hardly ever or never")
    SOME_OF_THE_TIME = 2, _("Some of the time")
    OFTEN = 3, _("Often")


# A check-in scoring this or more (of 3 to 9) is counted as lonely in the reports.
LONELY_FROM = 6


class WellbeingCheckIn(models.Model):
    """One member's answers to the three questions on one day.  ``score`` (3 to 9, higher is
    lonelier) is the sum, kept by the database.  Only members who said yes to check-ins are
    asked (``Member.wellbeing_opt_in``); a coordinator may ask on the phone (``entered_by``)."""

    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="wellbeing_checkins")
    member = models.ForeignKey("circles.Member", on_delete=models.CASCADE, related_name="wellbeing_checkins")
    taken_on = models.DateField()
    lack_companionship = models.PositiveSmallIntegerField(
        _("How often do you feel that you lack companionship?"), choices=LonelinessAnswer.choices
    )
    left_out = models.PositiveSmallIntegerField(_("How often do you feel left out?"), choices=LonelinessAnswer.choices)
    isolated = models.PositiveSmallIntegerField(
        _("How often do you feel isolated from others?"), choices=LonelinessAnswer.choices
    )
    score = models.PositiveSmallIntegerField()
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Set when a coordinator asked the questions for the member (assisted use)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["member", "-taken_on", "-id"]
        indexes = [models.Index(fields=["circle", "taken_on"], name="circles_wellbeing_trend")]
        constraints = [
            # One a day: a form sent twice (or a phone call and a web form) keeps one answer.
            models.UniqueConstraint(fields=["member", "taken_on"], name="circles_wellbeing_once_a_day"),
            models.CheckConstraint(
                condition=models.Q(lack_companionship__gte=1, lack_companionship__lte=3)
                & models.Q(left_out__gte=1, left_out__lte=3)
                & models.Q(isolated__gte=1, isolated__lte=3),
                name="circles_wellbeing_answers_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    score=models.F("lack_companionship") + models.F("left_out") + models.F("isolated")
                ),
                name="circles_wellbeing_score_is_sum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.taken_on}: {self.score}"


class SavingsBasis(models.TextChoices):
    PER_HOUR = "hour", _("For each hour of help")
    PER_VISIT = "visit", _("For each visit")


class SavingsProxy(models.Model):
    """What an hour (or a visit) of one kind of help is assumed to save public services, with
    where the figure comes from and how much of it the circle may claim (``attribution_percent``:
    the share that would not have happened anyway).  Coordinators set these; the report shows
    them beside the estimate."""

    circle = models.ForeignKey("circles.Circle", on_delete=models.CASCADE, related_name="savings_proxies")
    category = models.CharField(_("kind of help"), max_length=20, choices=HelpCategory.choices)
    basis = models.CharField(_("counted"), max_length=5, choices=SavingsBasis.choices, default=SavingsBasis.PER_HOUR)
    value_pence = models.PositiveIntegerField(_("value in pence"))
    attribution_percent = models.PositiveSmallIntegerField(
        _("share we claim, in per cent"), default=100,
        help_text=_("Lower it for help that would partly have happened anyway."),
    )
    source = models.TextField(
        _("where the figure comes from"),
        help_text=_("For example: a unit cost from the PSSRU Unit Costs of Health and Social Care, with the year."),
    )
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["circle", "category"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "category"], name="circles_savings_proxy_once"),
            models.CheckConstraint(
                condition=models.Q(category__in=[c.value for c in HelpCategory]),
                name="circles_savings_proxy_category_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(basis__in=[c.value for c in SavingsBasis]), name="circles_savings_proxy_basis_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(attribution_percent__gte=0, attribution_percent__lte=100),
                name="circles_savings_proxy_attribution_percent",
            ),
            models.CheckConstraint(condition=~models.Q(source=""), name="circles_savings_proxy_sourced"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.value_pence}p per {self.basis} ({self.circle_id})"
