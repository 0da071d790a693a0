"""Help: what members ask for, what helpers offer, the coordinator's matches, and the visits
that follow (check-in, check-out, confirmations, payment in tokens, feedback, incidents).

The rules that matter most are kept by the database as well as by the services:

* a request has at most one live match (offered or accepted) at a time;
* a visit belongs to one accepted match, is checked out only after it was checked in, and is
  complete only once confirmed by both sides or by a coordinator;
* feedback is given once per side of a visit.

Whether a helper may be sent into someone's home is decided by
``services.helpers.helper_is_vetted_for_home_visits``, which every matching service calls.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class HelpCategory(models.TextChoices):
    HOME_JOBS = "home_jobs", _("Jobs around the home")
    GARDEN = "garden", _("Gardening")
    TECH = "tech", _("Help with phones, computers and the internet")
    TRIPS = "trips", _("Trips and transport")
    SHOPPING = "shopping", _("Shopping")
    COMPANY = "company", _("Company")
    LEARNING = "learning", _("Learning something new")


class HelpPlace(models.TextChoices):
    HOME = "home", _("At the member's home")
    OUT = "out", _("Out and about (not in the home)")
    REMOTE = "remote", _("By phone or video call")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a helper")
    OFFERED = "offered", _("Offered to a helper")
    ARRANGED = "arranged", _("Helper found")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class HelpRequest(models.Model):
    """A member's request for help, posted by them or by a coordinator for them
    (``on_behalf_of`` is then the member's user and ``created_by`` the coordinator)."""

    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="help_requests")
    member = models.ForeignKey("circles.Member", on_delete=models.PROTECT, related_name="help_requests")
    category = models.CharField(_("kind of help"), max_length=20, choices=HelpCategory.choices)
    description = models.TextField(_("what you need help with"))
    starts_at = models.DateTimeField(_("when"))
    when_note = models.CharField(_("anything else about when"), max_length=200, blank=True)
    estimated_quarters = models.PositiveIntegerField(_("how long it should take, in quarter hours"))
    place = models.CharField(_("where"), max_length=10, choices=HelpPlace.choices)
    place_details = models.CharField(_("address or meeting place"), max_length=300, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    offer = models.ForeignKey(
        "circles.Offer", null=True, blank=True, on_delete=models.SET_NULL, related_name="requests",
        help_text=_("Set when the member asked for help from an offer."),
    )
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    idempotency_key = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["circle", "status", "starts_at"], name="circles_request_queue")]
        constraints = [
            models.UniqueConstraint(fields=["circle", "idempotency_key"], name="circles_request_idempotent"),
            models.CheckConstraint(
                condition=models.Q(category__in=[c.value for c in HelpCategory]), name="circles_request_category_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(place__in=[c.value for c in HelpPlace]), name="circles_request_place_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in RequestStatus]), name="circles_request_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(estimated_quarters__gt=0), name="circles_request_takes_time"),
            models.CheckConstraint(condition=~models.Q(description=""), name="circles_request_described"),
            models.CheckConstraint(condition=~models.Q(idempotency_key=""), name="circles_request_key_present"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} for {self.member_id} ({self.starts_at:%Y-%m-%d})"

    @property
    def is_home_visit(self) -> bool:
        return self.place == HelpPlace.HOME


class Offer(models.Model):
    """What a helper (a volunteer, a paid helper, or a member who helps) says they can do;
    members ask for help from an offer.  A member who wants to offer help becomes a helper
    first, so that vetting applies to everyone who helps."""

    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="offers")
    helper = models.ForeignKey("circles.Helper", on_delete=models.CASCADE, related_name="offers")
    category = models.CharField(_("kind of help"), max_length=20, choices=HelpCategory.choices)
    title = models.CharField(_("what you offer"), max_length=120)
    description = models.TextField(_("more about it"), blank=True)
    place = models.CharField(_("where"), max_length=10, choices=HelpPlace.choices)
    is_active = models.BooleanField(_("listed"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["circle", "category", "title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__in=[c.value for c in HelpCategory]), name="circles_offer_category_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(place__in=[c.value for c in HelpPlace]), name="circles_offer_place_valid"
            ),
            models.CheckConstraint(condition=~models.Q(title=""), name="circles_offer_titled"),
        ]

    def __str__(self) -> str:
        return self.title


class MatchStatus(models.TextChoices):
    OFFERED = "offered", _("Waiting for the helper's answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn by a coordinator")


LIVE_MATCH_STATUSES = [MatchStatus.OFFERED, MatchStatus.ACCEPTED]


class Match(models.Model):
    """A coordinator offering a request to one helper, and the helper's answer.  ``reason`` keeps
    the ranking's explanation as it was when the coordinator chose."""

    request = models.ForeignKey(HelpRequest, on_delete=models.PROTECT, related_name="matches")
    helper = models.ForeignKey("circles.Helper", on_delete=models.PROTECT, related_name="matches")
    status = models.CharField(max_length=10, choices=MatchStatus.choices, default=MatchStatus.OFFERED)
    score = models.IntegerField(default=0)
    reason = models.TextField(blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(_("why not"), max_length=300, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in MatchStatus]), name="circles_match_status_valid"
            ),
            # One helper at a time: a second live match for the same request fails in the database.
            models.UniqueConstraint(
                fields=["request"], condition=models.Q(status__in=LIVE_MATCH_STATUSES), name="circles_match_one_live"
            ),
            models.UniqueConstraint(fields=["request", "helper"], name="circles_match_helper_once"),
            models.CheckConstraint(
                condition=models.Q(status=MatchStatus.OFFERED) | models.Q(responded_at__isnull=False)
                | models.Q(status=MatchStatus.WITHDRAWN),
                name="circles_match_answer_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Request {self.request_id} to helper {self.helper_id} ({self.status})"


class VisitPayment(models.TextChoices):
    NOT_DUE = "not_due", _("Not due yet")
    PAID = "paid", _("Paid in tokens")
    OWED = "owed", _("Owed: the member did not have enough tokens")


class Visit(models.Model):
    """The help itself, once a helper accepted.  Complete when both sides confirmed it, or a
    coordinator did; then the member's tokens pay for it (``transfer``), or it is ``owed``."""

    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="visits")
    request = models.OneToOneField(HelpRequest, on_delete=models.PROTECT, related_name="visit")
    match = models.OneToOneField(Match, on_delete=models.PROTECT, related_name="visit")
    helper = models.ForeignKey("circles.Helper", on_delete=models.PROTECT, related_name="visits")
    planned_start = models.DateTimeField()
    planned_end = models.DateTimeField()
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    missed_checkout_alerted_at = models.DateTimeField(null=True, blank=True)
    member_confirmed_at = models.DateTimeField(null=True, blank=True)
    helper_confirmed_at = models.DateTimeField(null=True, blank=True)
    coordinator_confirmed_at = models.DateTimeField(null=True, blank=True)
    coordinator_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    quarters = models.PositiveIntegerField(null=True, blank=True, help_text=_("Tokens due, in quarter hours."))
    payment = models.CharField(max_length=10, choices=VisitPayment.choices, default=VisitPayment.NOT_DUE)
    transfer = models.OneToOneField(
        "circles.Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="visit"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["planned_start", "id"]
        indexes = [
            models.Index(fields=["checked_out_at", "checked_in_at"], name="circles_visit_open"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(planned_end__gt=models.F("planned_start")),
                                   name="circles_visit_ends_after_start"),
            models.CheckConstraint(
                condition=models.Q(checked_out_at__isnull=True)
                | models.Q(checked_in_at__isnull=False, checked_out_at__gte=models.F("checked_in_at")),
                name="circles_visit_checkout_after_checkin",
            ),
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True)
                | models.Q(coordinator_confirmed_at__isnull=False)
                | models.Q(member_confirmed_at__isnull=False, helper_confirmed_at__isnull=False),
                name="circles_visit_complete_when_confirmed",
            ),
            models.CheckConstraint(
                condition=models.Q(payment__in=[c.value for c in VisitPayment]), name="circles_visit_payment_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(payment=VisitPayment.PAID) | models.Q(transfer__isnull=False),
                name="circles_visit_paid_has_transfer",
            ),
            models.CheckConstraint(
                condition=models.Q(payment=VisitPayment.NOT_DUE) | models.Q(completed_at__isnull=False),
                name="circles_visit_due_when_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Visit {self.pk} for request {self.request_id}"


class FeedbackSide(models.TextChoices):
    MEMBER = "member", _("From the member")
    HELPER = "helper", _("From the helper")


class VisitFeedback(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="feedback")
    side = models.CharField(max_length=10, choices=FeedbackSide.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    rating = models.PositiveSmallIntegerField(_("how did it go"))
    comment = models.TextField(_("anything else"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["visit", "side"], name="circles_feedback_once_per_side"),
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="circles_feedback_rating_1_to_5"),
            models.CheckConstraint(
                condition=models.Q(side__in=[c.value for c in FeedbackSide]), name="circles_feedback_side_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 on visit {self.visit_id}"


class IncidentReport(models.Model):
    """Something that went wrong or worried someone; sent to the circle's coordinators at once."""

    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="incidents")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    description = models.TextField(_("what happened"))
    anyone_hurt = models.BooleanField(_("someone was hurt or is at risk"), default=False)
    idempotency_key = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "idempotency_key"], name="circles_incident_idempotent"),
            models.CheckConstraint(condition=~models.Q(description=""), name="circles_incident_described"),
        ]

    def __str__(self) -> str:
        return f"Incident {self.pk} ({self.circle_id})"


class HelperTransition(models.Model):
    """A member became a helper: when, who recorded it (for reports of members who help)."""

    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="helper_transitions")
    member = models.OneToOneField("circles.Member", on_delete=models.PROTECT, related_name="helper_transition")
    helper = models.OneToOneField("circles.Helper", on_delete=models.PROTECT, related_name="transition")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Member {self.member_id} became helper {self.helper_id}"
