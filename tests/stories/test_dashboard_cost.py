"""The organisation dashboard costs the same few queries whatever the number of stories."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def tree():
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside-trust")
    hospital = OrganisationFactory(name="Riverside Hospital", slug="riverside-hospital", parent=trust)
    return {"trust": trust, "hospital": hospital, "ward": ServiceFactory(organisation=hospital)}


@pytest.fixture
def staff_client(client, tree):
    return sign_in_verified(client, MembershipFactory(organisation=tree["trust"], role="member").user)


def test_the_dashboard_and_its_csv_take_the_same_queries_for_10_or_200_stories(
    tree, staff_client, django_assert_max_num_queries, settings
):
    settings.STORIES_DASHBOARD_CACHE_SECONDS = 0  # count the queries that work the figures out
    tags = [TagFactory(polarity="good"), TagFactory(polarity="improve")]
    other = ServiceFactory(organisation=tree["hospital"])
    paths = [f"/stories/organisations/riverside-trust/{page}?from=2026-01-01&to=2026-12-31"
             for page in ("dashboard/", "dashboard.csv")]

    def add(count):
        for i in range(count):
            published = dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC) + dt.timedelta(days=i % 300)
            StoryFactory(services=[tree["ward"], other], tags=tags, published_at=published,
                         first_response_at=published + (i + 1) * HOUR, criticality=i % 6)

    def queries_for_each_page():
        counts = []
        for path in paths:
            with django_assert_max_num_queries(20) as captured:
                response = staff_client.get(path)
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        return counts

    add(10)
    few = queries_for_each_page()
    add(190)
    assert queries_for_each_page() == few
