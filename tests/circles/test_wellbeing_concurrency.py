"""Races on PostgreSQL (SQLite runs one writer at a time, so there is no race to show): two
daily clocks at once invite a member once; the same answers sent twice at once keep one row."""

from __future__ import annotations

import pytest
from django.db import connection

from localsocial.circles.models import WellbeingCheckIn
from localsocial.circles.services.wellbeing import (
    Answers,
    wellbeing_checkin_record,
    wellbeing_reminders_send,
)
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, MemberFactory
from tests.races import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")


def test_two_clocks_at_once_invite_a_member_once():
    member = MemberFactory(circle=CircleFactory(), wellbeing_opt_in=True, contact_preference="email")

    results = race(wellbeing_reminders_send, wellbeing_reminders_send)

    assert not [r for r in results if isinstance(r, Exception)]
    assert sorted(r.emailed for r in results) == [0, 1]
    assert AuditEvent.objects.filter(action="circles.wellbeing_invite", target_id=str(member.pk)).count() == 1


def test_the_same_answers_sent_twice_at_once_keep_one_row():
    member = MemberFactory(circle=CircleFactory(), wellbeing_opt_in=True)

    def send():  # type: ignore[no-untyped-def]
        return wellbeing_checkin_record(member=member, actor=member.user, answers=Answers(2, 3, 1))

    results = race(send, send)

    assert not [r for r in results if isinstance(r, Exception)]
    assert sorted(r.outcome for r in results) == ["created", "same"]
    assert WellbeingCheckIn.objects.filter(member=member).count() == 1
