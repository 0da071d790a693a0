"""Shared set-up for the events tests: an event factory, times relative to now, a member whose
consent to assisted use is on record.  (No tests here.)"""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from localsocial.circles.models import Event, EventKind, Member
from tests.circles.factories import CircleFactory, MemberFactory


def in_days(days: float, hour: int = 14) -> dt.datetime:
    """``hour`` o'clock local time, ``days`` from today."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


class EventFactory(factory.django.DjangoModelFactory):
    """A published coffee morning in a week, two hours long, with 10 places."""

    class Meta:
        model = Event

    circle = factory.SubFactory(CircleFactory)
    kind = EventKind.SOCIAL
    title = factory.Sequence(lambda n: f"Coffee morning {n}")
    starts_at = factory.LazyFunction(lambda: in_days(7))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=2))
    place_name = "St Mary's Church Hall"
    places = 10


def consenting_member(**fields: object) -> Member:
    """A member who joined by phone and agreed to coordinators acting for them."""
    member = MemberFactory(**fields)
    member.consent_given_at = timezone.now()
    member.save(update_fields=["consent_given_at"])
    return member
