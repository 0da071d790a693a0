"""Reads for the events pages: a circle's calendar (by month, with the viewer's own answer and
the places left), past events, one event, the coordinators' list of who is coming and waiting,
and a member's own upcoming events.

Every selector runs a fixed number of queries however many rows it returns.  Unpublished
events are shown only to the circle's coordinators: to anyone else they do not exist (404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from localsocial.circles.models import Circle, Event, EventRsvp, Member, MemberStatus, RsvpStatus
from localsocial.circles.selectors.membership import member_prefers_phone

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User

# Events that ended this long ago are still in the circle's calendar feed.
FEED_PAST_DAYS = 60


def _events(circle: Circle, *, include_unpublished: bool) -> QuerySet[Event]:
    events = Event.objects.filter(circle=circle)
    if not include_unpublished:
        events = events.filter(is_published=True)
    return events


def _with_own_answer(events: QuerySet[Event], member: Member | None) -> QuerySet[Event]:
    """Each event with ``own_answers``: the viewer's answer in a list of none or one."""
    if member is None:
        return events
    return events.prefetch_related(
        Prefetch("rsvps", queryset=EventRsvp.objects.filter(member=member), to_attr="own_answers")
    )


def own_answer(event: Event) -> EventRsvp | None:
    answers = getattr(event, "own_answers", None) or []
    return answers[0] if answers else None


@dataclass
class CalendarMonth:
    first_day: dt.date
    events: list[Event] = field(default_factory=list)

    @property
    def label(self) -> str:
        return formats.date_format(self.first_day, "F Y")


def events_calendar(
    *, circle: Circle, member: Member | None, include_unpublished: bool = False, limit: int = 200
) -> list[CalendarMonth]:
    """The circle's events that have not ended yet, soonest first, grouped by month (in the
    site's time zone), each with the viewer's own answer (``own_answer(event)``) when
    ``member`` is given.  Cancelled events stay on the calendar, marked.  Two queries."""
    events = _with_own_answer(
        _events(circle, include_unpublished=include_unpublished).filter(ends_at__gt=timezone.now()), member
    ).order_by("starts_at", "id")[:limit]
    months: list[CalendarMonth] = []
    for event in events:
        day = timezone.localtime(event.starts_at).date().replace(day=1)
        if not months or months[-1].first_day != day:
            months.append(CalendarMonth(first_day=day))
        months[-1].events.append(event)
    return months


def events_past(*, circle: Circle, include_unpublished: bool = False, limit: int = 50) -> list[Event]:
    """The circle's events that have ended, latest first.  One query."""
    return list(
        _events(circle, include_unpublished=include_unpublished)
        .filter(ends_at__lte=timezone.now()).order_by("-starts_at", "-id")[:limit]
    )


def events_for_feed(*, circle: Circle) -> list[Event]:
    """The published events for the circle's calendar feed: everything still to come and what
    ended in the last two months, cancelled ones included (calendars then show them
    cancelled).  One query."""
    since = timezone.now() - dt.timedelta(days=FEED_PAST_DAYS)
    return list(
        _events(circle, include_unpublished=False).select_related("circle")
        .filter(ends_at__gt=since).order_by("starts_at", "id")[:500]
    )


def event_get(*, circle: Circle, event_id: int, member: Member | None = None,
              include_unpublished: bool = False) -> Event:
    """One event of ``circle`` with the viewer's own answer; Http404 for an event of another
    circle, or an unpublished one when ``include_unpublished`` is false.  Two queries."""
    event = (
        _with_own_answer(_events(circle, include_unpublished=include_unpublished), member)
        .select_related("circle").filter(pk=event_id).first()
    )
    if event is None:
        raise Http404(_("There is no such event in this circle."))
    return event


@dataclass
class Attendees:
    going: list[EventRsvp]
    waiting: list[EventRsvp]
    not_going: list[EventRsvp]

    @property
    def places_going(self) -> int:
        return sum(r.places for r in self.going)

    @property
    def places_waiting(self) -> int:
        return sum(r.places for r in self.waiting)


def event_attendees(*, event: Event) -> Attendees:
    """Who answered, for the coordinators: coming (in the order they answered), the waiting list
    (in its order), and not coming; each answer with the member, their user and who entered it,
    and ``to_phone`` set for members told by phone.  One query."""
    rows = list(
        EventRsvp.objects.filter(event=event).select_related("member__user", "entered_by")
        .order_by("created_at", "id")
    )
    for row in rows:
        row.to_phone = member_prefers_phone(row.member)  # type: ignore[attr-defined]
    return Attendees(
        going=[r for r in rows if r.status == RsvpStatus.GOING],
        waiting=[r for r in rows if r.status == RsvpStatus.WAITING],
        not_going=[r for r in rows if r.status == RsvpStatus.NOT_GOING],
    )


def rsvps_for_user(*, user: User, limit: int = 100) -> list[EventRsvp]:
    """The signed-in person's answers "coming" or "waiting" to events that have not ended, in
    every circle they belong to, soonest first, with the event and its circle.  One query."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        EventRsvp.objects.filter(
            member__user=user, status__in=[RsvpStatus.GOING, RsvpStatus.WAITING], event__ends_at__gt=timezone.now(),
        ).select_related("event__circle").order_by("event__starts_at", "event_id")[:limit]
    )


def member_active_get(*, circle: Circle, user: User | AnonymousUser) -> Member | None:
    """``user``'s active membership of ``circle`` (with their user), or None.  One query."""
    if not user.is_authenticated:
        return None
    return (
        Member.objects.select_related("user").filter(circle=circle, user=user, status=MemberStatus.ACTIVE).first()
    )


def member_active_in_circle(*, circle: Circle, member_id: int) -> Member:
    """An active member of ``circle``, for a coordinator answering for them; else Http404."""
    member = (
        Member.objects.select_related("user", "circle")
        .filter(circle=circle, pk=member_id, status=MemberStatus.ACTIVE).first()
    )
    if member is None:
        raise Http404(_("There is no such active member in this circle."))
    return member


def rsvp_of(*, event: Event, member: Member) -> EventRsvp | None:
    """``member``'s answer to ``event``, or None.  One query."""
    return EventRsvp.objects.filter(event=event, member=member).first()
