"""Races that only PostgreSQL can show (SQLite runs one writer at a time): two workers given the
same delivery (the idempotency key race is in tests/stories/test_api_races.py)."""

from __future__ import annotations

import pytest
from django.db import connection

from localsocial.api.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from localsocial.api.webhooks import webhook_delivery_attempt
from tests.factories import OrganisationFactory, ServiceFactory, StoryFactory
from tests.races import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")


def test_two_workers_given_the_same_delivery_send_it_once(receiver):
    receiver.delay = 0.3
    organisation = OrganisationFactory()
    story = StoryFactory(services=[ServiceFactory(organisation=organisation)])
    endpoint = WebhookEndpoint.objects.create(organisation=organisation, url=receiver.url,
                                              events=["story.published"], secret="whsec_cmFjZQ==")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="story.published", event_id=f"story.published:{story.pk}",
        payload={"event": "story.published", "data": {"story": {"id": story.pk}}},
    )
    attempt = lambda: webhook_delivery_attempt(delivery_id=delivery.pk)  # noqa: E731
    results = race(attempt, attempt)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(results) == ["skipped", "succeeded"]
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
