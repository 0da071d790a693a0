"""Races that only PostgreSQL can show (SQLite runs one writer at a time): two workers given the
same delivery, and two requests with the same idempotency key."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from localsocial.api.models import (
    ApiIdempotencyKey,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from localsocial.api.services import api_story_submit, request_fingerprint
from localsocial.api.webhooks import webhook_delivery_attempt
from localsocial.stories.models import Story
from tests.factories import OrganisationFactory, ServiceFactory, StoryFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(target, count=2):
    start = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def worker():
        try:
            start.wait()
            results.append(target())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


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
    results = _at_once(lambda: webhook_delivery_attempt(delivery_id=delivery.pk))
    assert sorted(results) == ["skipped", "succeeded"]
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1


def test_two_requests_with_the_same_idempotency_key_make_one_story():
    from localsocial.api.services import api_token_create

    service = ServiceFactory()
    token, _secret = api_token_create(user=UserFactory(), name="race", scopes=["stories:write"])
    fields = {
        "title": "Same story twice", "body": "Sent twice at the same moment.", "feelings": "",
        "service_ids": [service.pk], "tag_ids": [], "suggested_tags": [], "author_role": "patient",
        "age_group": "", "happened_month": timezone.localdate().replace(day=1), "pseudonym": "Sam",
        "email": "sam@example.org",
    }
    results = _at_once(lambda: api_story_submit(
        token=token, idempotency_key="race-key", fingerprint=request_fingerprint(fields), fields=fields,
    ))
    assert Story.objects.count() == 1
    assert ApiIdempotencyKey.objects.count() == 1
    assert {story.pk for story, _replayed in results} == {Story.objects.get().pk}  # type: ignore[union-attr]
