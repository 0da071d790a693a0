"""A circle's social life: events (socials, learning sessions) with a number of places, and
members' answers.

What the database keeps true, whatever the code does:

* ``Event.places_taken`` never passes ``Event.places`` (a CHECK), so two members answering at
  once for the last place cannot both get it: the service takes a place with a conditional
  UPDATE and puts the loser on the waiting list;
* a member answers once per event (UNIQUE); changing their mind updates that answer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    SOCIAL = "social", _("Social")
    LEARNING = "learning", _("Learning session")
    OUTING = "outing", _("Trip or outing")
    OTHER = "other", _("Other")


class Event(models.Model):
    circle = models.ForeignKey("circles.Circle", on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind of event"), max_length=10, choices=EventKind.choices, default=EventKind.SOCIAL)
    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("what happens"), blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place_name = models.CharField(_("place"), max_length=200)
    place_address = models.TextField(_("address"), blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    accessibility = models.TextField(
        _("access"), blank=True,
        help_text=_("Step-free access, hearing loop, toilets, parking, how to get there."),
    )
    places = models.PositiveIntegerField(
        _("places"), null=True, blank=True, help_text=_("Leave empty if anyone can come.")
    )
    places_taken = models.PositiveIntegerField(default=0)
    cost_pence = models.PositiveIntegerField(_("cost in pence"), default=0)
    is_published = models.BooleanField(_("shown to members"), default=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("why it is cancelled"), max_length=300, blank=True)
    idempotency_key = models.CharField(
        max_length=100, blank=True, default="",
        help_text=_("The add-event form's key: the same form sent twice adds one event."),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["circle", "starts_at"], name="circles_event_calendar")]
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                name="circles_event_idempotent",
            ),
            models.CheckConstraint(condition=~models.Q(title=""), name="circles_event_titled"),
            models.CheckConstraint(condition=~models.Q(place_name=""), name="circles_event_has_place"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="circles_event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[c.value for c in EventKind]), name="circles_event_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(places__isnull=True) | models.Q(places__gt=0), name="circles_event_places_positive"
            ),
            # The last place goes to one member only: taking a place is a conditional UPDATE
            # that this CHECK backs up.
            models.CheckConstraint(
                condition=models.Q(places__isnull=True) | models.Q(places_taken__lte=models.F("places")),
                name="circles_event_not_overbooked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def places_left(self) -> int | None:
        return None if self.places is None else max(self.places - self.places_taken, 0)


class RsvpStatus(models.TextChoices):
    GOING = "going", _("Coming")
    WAITING = "waiting", _("On the waiting list")
    NOT_GOING = "not_going", _("Not coming")


class EventRsvp(models.Model):
    """A member's answer to an event.  ``places`` counts the member and anyone they bring
    (a carer, a friend); a GOING answer holds that many of the event's places."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    member = models.ForeignKey("circles.Member", on_delete=models.CASCADE, related_name="rsvps")
    status = models.CharField(max_length=10, choices=RsvpStatus.choices)
    places = models.PositiveSmallIntegerField(default=1)
    note = models.CharField(_("anything we should know"), max_length=300, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Set when a coordinator answered for the member (assisted use)."),
    )
    attended = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event", "created_at", "id"]
        indexes = [models.Index(fields=["event", "status", "created_at"], name="circles_rsvp_waiting")]
        constraints = [
            models.UniqueConstraint(fields=["event", "member"], name="circles_rsvp_once"),
            models.CheckConstraint(
                condition=models.Q(status__in=[c.value for c in RsvpStatus]), name="circles_rsvp_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(places__gte=1, places__lte=4), name="circles_rsvp_places_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.status} for event {self.event_id}"
