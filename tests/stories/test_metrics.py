"""The stories module's platform metrics (for Insight): stories published and stories first
responded to, by area and month, counted by hand here."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from localsocial.core.metrics import Observation, metric_observations
from tests.factories import AreaFactory, OrganisationFactory, ServiceFactory, StoryFactory

pytestmark = pytest.mark.django_db

A, B = "E09000001", "E09000002"
START, END = dt.date(2025, 1, 1), dt.date(2025, 7, 31)


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A moment in the site's time zone (Europe/London)."""
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))


def month(m: int) -> dt.date:
    return dt.date(2025, m, 1)


@pytest.fixture
def stories():
    area_a, area_b = AreaFactory(gss_code=A, name="Ayton"), AreaFactory(gss_code=B, name="Beeton")
    council = OrganisationFactory(name="Ayton Council")
    council.areas_served.add(area_a)
    trust = OrganisationFactory(name="Beeton Trust")
    trust.areas_served.add(area_b)
    hospital = OrganisationFactory(name="Beeton Hospital", parent=trust)  # serves B through its trust
    both = OrganisationFactory(name="Both Charity")
    both.areas_served.add(area_a, area_b)
    bins, ward, advice = (
        ServiceFactory(organisation=council), ServiceFactory(organisation=hospital), ServiceFactory(organisation=both),
    )
    StoryFactory(services=[bins], published_at=at(2025, 1, 10))  # A Jan
    StoryFactory(services=[bins], published_at=at(2025, 7, 1, 0, 30))  # A Jul (30 June, 23:30 UTC)
    StoryFactory(services=[ward], published_at=at(2025, 1, 15))  # B Jan
    StoryFactory(services=[advice], published_at=at(2025, 2, 3), first_response_at=at(2025, 3, 1))  # A, B
    # About services in A twice over: counted once in A (and once in B).
    StoryFactory(services=[bins, advice], published_at=at(2025, 1, 20), first_response_at=at(2025, 1, 25))
    StoryFactory(services=[bins], status="pending")  # not published
    StoryFactory(services=[bins], status="withdrawn")  # published once, withdrawn since
    StoryFactory(services=[bins], published_at=at(2024, 12, 31))  # before the period
    StoryFactory(services=[ServiceFactory()], published_at=at(2025, 1, 10))  # an organisation with no area


def test_stories_published_by_area_and_month(stories):
    assert metric_observations("stories-published", area_gss_codes=None, start=START, end=END) == [
        Observation(A, month(1), 2), Observation(A, month(2), 1), Observation(A, month(7), 1),
        Observation(B, month(1), 2), Observation(B, month(2), 1),
    ]


def test_stories_responded_by_area_and_month_of_their_first_response(stories):
    assert metric_observations("stories-responded", area_gss_codes=None, start=START, end=END) == [
        Observation(A, month(1), 1), Observation(A, month(3), 1),
        Observation(B, month(1), 1), Observation(B, month(3), 1),
    ]


def test_only_the_areas_asked_for(stories, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        found = metric_observations("stories-published", area_gss_codes=[B], start=START, end=END)

    assert found == [Observation(B, month(1), 2), Observation(B, month(2), 1)]


def test_a_period_of_part_of_a_month_counts_only_its_days(stories):
    found = metric_observations("stories-published", area_gss_codes=[A], start=dt.date(2025, 1, 15),
                                end=dt.date(2025, 2, 2))

    assert found == [Observation(A, month(1), 1)]
