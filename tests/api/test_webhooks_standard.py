"""Standard Webhooks: deliveries to a real receiver verify with the reference library
(``standardwebhooks``), during a secret's rotation with the old and the new secret, and every
secret we make or migrate is one the library reads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from localsocial.api.models import WebhookDelivery, WebhookEndpoint
from localsocial.api.services import webhook_endpoint_create, webhook_endpoint_rotate_secret
from localsocial.api.webhooks import (
    PREVIOUS_SECRET_GRACE,
    secret_generate,
    secret_key,
    signature_for,
    webhook_delivery_attempt,
)
from localsocial.stories.services.events import story_published_effects
from tests.factories import OrganisationFactory, ServiceFactory, StoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return OrganisationFactory(slug="riverside-trust")


def _endpoint(org, receiver):
    return webhook_endpoint_create(actor=None, organisation=org, url=receiver.url, events=["story.published"])


def _publish(org):
    story = StoryFactory(services=[ServiceFactory(organisation=org)], body="Kind nurses on ward 7.")
    with TestCase.captureOnCommitCallbacks(execute=True):
        story_published_effects(story=story)
    return story


def _verifies(secret: str, received) -> bool:
    try:
        Webhook(secret).verify(received.body, received.headers)
    except WebhookVerificationError:
        return False
    return True


def test_a_delivery_verifies_with_the_reference_library(org, receiver):
    # Given a webhook made as on the developer pages, with a real receiver on 127.0.0.1
    endpoint = _endpoint(org, receiver)
    # When a story about the organisation is published
    story = _publish(org)
    # Then the receiver got one message that the reference library verifies with the secret
    assert len(receiver.requests) == 1
    received = receiver.requests[0]
    payload = Webhook(endpoint.secret).verify(received.body, received.headers)
    assert payload["id"] == f"story.published:{story.pk}"
    assert payload["data"]["story"]["body"] == "Kind nurses on ward 7."
    # The id header is the event's stable id, the timestamp is now, one v1 signature
    assert received.headers["webhook-id"] == payload["id"] == WebhookDelivery.objects.get().event_id
    assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 60
    assert received.headers["webhook-signature"].startswith("v1,")
    assert " " not in received.headers["webhook-signature"]
    # A changed body, another secret or an old timestamp is refused
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(received.body.replace(b"Kind", b"Rude"), received.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_generate()).verify(received.body, received.headers)
    stale = {**received.headers, "webhook-timestamp": str(int(time.time()) - 3600)}
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(received.body, stale)


def test_during_a_rotation_both_the_old_and_the_new_secret_verify(org, receiver):
    # Given a webhook whose secret was just rotated
    endpoint = _endpoint(org, receiver)
    old_secret = endpoint.secret
    endpoint = webhook_endpoint_rotate_secret(actor=None, endpoint=endpoint)
    new_secret = endpoint.secret
    assert new_secret != old_secret
    # When an event is delivered within the grace period
    _publish(org)
    received = receiver.requests[0]
    # Then it carries two signatures, and a receiver with either secret accepts it
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert _verifies(new_secret, received)
    assert _verifies(old_secret, received)
    assert not _verifies(secret_generate(), received)


def test_after_the_grace_period_only_the_new_secret_verifies(org, receiver):
    # Given a rotation whose grace period is over
    endpoint = _endpoint(org, receiver)
    old_secret = endpoint.secret
    endpoint = webhook_endpoint_rotate_secret(actor=None, endpoint=endpoint)
    assert endpoint.previous_secret_expires_at is not None
    assert endpoint.previous_secret_expires_at - endpoint.secret_rotated_at == PREVIOUS_SECRET_GRACE
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    # When an event is delivered
    _publish(org)
    received = receiver.requests[0]
    # Then it is signed with the new secret only
    assert " " not in received.headers["webhook-signature"]
    assert _verifies(endpoint.secret, received)
    assert not _verifies(old_secret, received)


def test_rotating_twice_keeps_only_the_secret_just_replaced(org, receiver):
    endpoint = _endpoint(org, receiver)
    first = endpoint.secret
    second = webhook_endpoint_rotate_secret(actor=None, endpoint=endpoint).secret
    third = webhook_endpoint_rotate_secret(actor=None, endpoint=endpoint).secret
    _publish(org)
    received = receiver.requests[0]
    assert _verifies(third, received)
    assert _verifies(second, received)
    assert not _verifies(first, received)


def test_every_secret_made_is_one_the_reference_library_reads():
    made = {secret_generate() for _ in range(300)}
    assert len(made) == 300
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    for secret in made:
        assert secret.startswith("whsec_")
        assert len(secret) <= 128
        assert base64.b64decode(secret.removeprefix("whsec_"), validate=True) == secret_key(secret)
        assert len(secret_key(secret)) == 32
        # What we sign is what the library computes with the same secret
        ours = signature_for(secret=secret, message_id="story.published:1", timestamp=str(int(moment.timestamp())),
                             body=b'{"a":1}')
        assert ours == Webhook(secret).sign("story.published:1", moment, b'{"a":1}')


def test_the_old_headers_are_still_sent_for_one_release_with_the_same_key(org, receiver):
    # Given a webhook made before Standard Webhooks, whose receiver checks the old header with
    # the old secret's text (migration 0003 keeps those bytes as the key)
    old_text = "whsec_Ab-_old-style-urlsafe-secret-text"
    converted = "whsec_" + base64.b64encode(old_text.encode()).decode()
    WebhookEndpoint.objects.create(organisation=org, url=receiver.url, events=["story.published"], secret=converted)
    # When an event is delivered
    _publish(org)
    received = receiver.requests[0]
    # Then the receiver's old check still passes ...
    timestamp = received.headers["X-LocalSocial-Timestamp"]
    expected = "sha256=" + hmac.new(old_text.encode(), timestamp.encode() + b"." + received.body,
                                    hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, received.headers["X-LocalSocial-Signature"])
    # ... and the reference library verifies the new headers with the same old text as key
    assert Webhook(old_text.encode()).verify(received.body, received.headers)["event"] == "story.published"
    assert _verifies(converted, received)


def test_an_unreadable_secret_is_a_failed_attempt_not_a_crash(org, receiver, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    WebhookEndpoint.objects.create(organisation=org, url=receiver.url, events=["story.published"], secret="whsec_")
    _publish(org)
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert "secret cannot be used" in delivery.last_error
    assert not receiver.requests
