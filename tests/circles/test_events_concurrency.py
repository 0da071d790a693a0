"""Races on PostgreSQL (SQLite runs one writer at a time, so there is no race to show): members
answering at once for the last place; exactly one gets it and the others wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from localsocial.circles.models import Event, EventRsvp, RsvpStatus
from localsocial.circles.services.events import rsvp_set
from tests.circles.factories import CircleFactory, MemberFactory
from tests.circles.test_events_support import EventFactory
from tests.races import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")


def _answer(event: Event, member: Any) -> Callable[[], Any]:
    return lambda: rsvp_set(event=event, member=member, actor=member.user, status=RsvpStatus.GOING)


def test_members_answering_at_once_for_the_last_place_one_gets_it_the_others_wait():
    circle = CircleFactory()
    event = EventFactory(circle=circle, places=2)
    first = MemberFactory(circle=circle)
    rsvp_set(event=event, member=first, actor=first.user, status=RsvpStatus.GOING)
    racers = [MemberFactory(circle=circle) for _i in range(4)]

    results = race(*[_answer(event, m) for m in racers])

    assert not [r for r in results if isinstance(r, Exception)]
    assert sorted(r.status for r in results) == [RsvpStatus.GOING] + [RsvpStatus.WAITING] * 3
    assert Event.objects.get(pk=event.pk).places_taken == 2
    assert EventRsvp.objects.filter(status=RsvpStatus.GOING).count() == 2


def test_a_place_given_back_while_others_answer_goes_to_one_person_only():
    circle = CircleFactory()
    event = EventFactory(circle=circle, places=1)
    holder, waiting = MemberFactory(circle=circle), MemberFactory(circle=circle)
    rsvp_set(event=event, member=holder, actor=holder.user, status=RsvpStatus.GOING)
    rsvp_set(event=event, member=waiting, actor=waiting.user, status=RsvpStatus.GOING)
    newcomer = MemberFactory(circle=circle)

    results = race(
        lambda: rsvp_set(event=event, member=holder, actor=holder.user, status=RsvpStatus.NOT_GOING),
        _answer(event, newcomer),
    )

    assert not [r for r in results if isinstance(r, Exception)]
    assert Event.objects.get(pk=event.pk).places_taken == 1
    assert EventRsvp.objects.filter(status=RsvpStatus.GOING).count() == 1
    # In either order the member already waiting gets the place: it is handed on in the same
    # transaction that gives it back, before the newcomer can see it free.
    assert EventRsvp.objects.get(member=waiting).status == RsvpStatus.GOING
    assert EventRsvp.objects.get(member=newcomer).status == RsvpStatus.WAITING
