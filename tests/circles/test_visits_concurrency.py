"""Races on PostgreSQL (SQLite runs one writer at a time, so there is no race to show): two
coordinators confirming the same visit at once pay for it once; two coordinators offering the
same request to different helpers at once make one match."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from localsocial.circles.models import Match, Transfer, Visit, VisitPayment
from localsocial.circles.services.help import match_propose, visit_confirm
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory
from tests.circles.test_help_support import (
    HelpRequestFactory,
    arranged_visit,
    coordinator_of,
    give_tokens,
)
from tests.races import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")


def test_two_coordinators_confirming_at_once_pay_for_the_visit_once():
    visit, first = arranged_visit(estimated_quarters=4)
    second = coordinator_of(visit.circle)
    give_tokens(visit.request.member, 20)

    results = race(
        lambda: visit_confirm(visit=visit, actor=first, now=visit.planned_end),
        lambda: visit_confirm(visit=visit, actor=second, now=visit.planned_end),
    )

    assert not [r for r in results if isinstance(r, Exception)]
    done = Visit.objects.get(pk=visit.pk)
    assert done.payment == VisitPayment.PAID
    assert Transfer.objects.filter(idempotency_key=f"visit:{visit.pk}").count() == 1
    assert done.transfer.entries.get(quarters__lt=0).account.balance_quarters == 16


def test_two_coordinators_offering_one_request_at_once_make_one_match():
    circle = CircleFactory()
    first, second = coordinator_of(circle), coordinator_of(circle)
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle))
    asha, bea = HelperFactory(circle=circle), HelperFactory(circle=circle)

    results = race(
        lambda: match_propose(help_request=help_request, helper=asha, actor=first),
        lambda: match_propose(help_request=help_request, helper=bea, actor=second),
    )

    assert Match.objects.filter(request=help_request).count() == 1
    assert sum(isinstance(r, Match) for r in results) == 1
    assert sum(isinstance(r, ValidationError) for r in results) == 1
