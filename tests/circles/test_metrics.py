"""The circles module's platform metrics (for Insight): hours of help given and active members,
by the circle's area and month, counted by hand here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from localsocial.circles.models import (
    MembershipYear,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
)
from localsocial.core.metrics import Observation, metric_observations
from tests.circles.factories import CircleFactory, MemberFactory
from tests.circles.test_reports import at, completed_visit
from tests.factories import AreaFactory

pytestmark = pytest.mark.django_db

A, B = "E09000001", "E09000002"
START, END = dt.date(2025, 1, 1), dt.date(2025, 7, 31)


def month(m: int) -> dt.date:
    return dt.date(2025, m, 1)


@pytest.fixture
def circles():
    return (
        CircleFactory(area=AreaFactory(gss_code=A, name="Ayton")),
        CircleFactory(area=AreaFactory(gss_code=B, name="Beeton")),
        CircleFactory(area=None),
    )


def year(member, starts_on, ends_on, *, fee_pence=0, paid=False):  # type: ignore[no-untyped-def]
    payment = None
    if paid:
        payment = Payment.objects.create(
            circle=member.circle, member=member, purpose=PaymentPurpose.FEE, method=PaymentMethod.CASH,
            status=PaymentStatus.SUCCEEDED, amount_pence=fee_pence, idempotency_key=f"fee-{member.pk}-{starts_on}",
            completed_at=timezone.now(),
        )
    return MembershipYear.objects.create(
        member=member, starts_on=starts_on, ends_on=ends_on, fee_pence=fee_pence, payment=payment
    )


def test_hours_of_help_given_by_area_and_month(circles, django_assert_max_num_queries):
    ayton, beeton, nowhere = circles
    completed_visit(ayton, minutes=90, completed_at=at(2025, 1, 20))  # 1.5 hours
    completed_visit(ayton, minutes=60, completed_at=at(2025, 1, 31, 23, 30))  # 1 hour, still January
    completed_visit(ayton, minutes=30, completed_at=at(2025, 3, 5))  # half an hour
    completed_visit(beeton, minutes=60, completed_at=at(2025, 1, 2))
    completed_visit(beeton, minutes=60, completed_at=at(2024, 12, 31))  # before the period
    completed_visit(nowhere, minutes=60, completed_at=at(2025, 1, 2))  # a circle with no area

    with django_assert_max_num_queries(1):
        found = metric_observations("circles-help-hours", area_gss_codes=None, start=START, end=END)

    assert found == [
        Observation(A, month(1), Decimal("2.5")), Observation(A, month(3), Decimal("0.5")),
        Observation(B, month(1), Decimal("1")),
    ]
    assert metric_observations("circles-help-hours", area_gss_codes=[B], start=START, end=END) == [
        Observation(B, month(1), Decimal("1")),
    ]


def test_active_members_are_those_whose_paid_or_free_year_covers_part_of_the_month(
    circles, django_assert_max_num_queries
):
    ayton, beeton, nowhere = circles
    long_standing = MemberFactory(circle=ayton)
    year(long_standing, dt.date(2024, 6, 15), dt.date(2025, 6, 15))  # free: Jan to 14 June
    year(long_standing, dt.date(2025, 6, 15), dt.date(2026, 6, 15))  # and on: June counted once
    paying = MemberFactory(circle=ayton)
    year(paying, dt.date(2025, 3, 1), dt.date(2026, 3, 1), fee_pence=1000, paid=True)  # March on
    year(MemberFactory(circle=ayton), dt.date(2025, 1, 1), dt.date(2026, 1, 1), fee_pence=1000)  # never paid
    year(MemberFactory(circle=ayton), dt.date(2024, 1, 1), dt.date(2025, 1, 1))  # ended 31 December
    year(MemberFactory(circle=beeton), dt.date(2025, 2, 10), dt.date(2025, 2, 20))
    year(MemberFactory(circle=nowhere), dt.date(2025, 1, 1), dt.date(2026, 1, 1))  # a circle with no area

    with django_assert_max_num_queries(1):
        found = metric_observations("circles-active-members", area_gss_codes=None, start=START, end=END)

    assert found == [
        Observation(A, month(1), 1), Observation(A, month(2), 1), Observation(A, month(3), 2),
        Observation(A, month(4), 2), Observation(A, month(5), 2), Observation(A, month(6), 2),
        Observation(A, month(7), 2), Observation(B, month(2), 1),
    ]
    assert metric_observations(
        "circles-active-members", area_gss_codes=[B], start=dt.date(2025, 2, 1), end=dt.date(2025, 2, 9)
    ) == []
