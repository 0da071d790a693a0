"""Webhook deliveries to a real HTTP receiver on 127.0.0.1: who hears what, signatures,
retries with backoff, giving up, no duplicates, no redirects, nothing private."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from localsocial.api.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from localsocial.api.webhooks import (
    BACKOFF,
    MAX_ATTEMPTS,
    webhook_delivery_attempt,
    webhook_event_queue,
    webhook_url_problem,
    webhooks_retry_due,
)
from localsocial.stories.services.events import response_published_effects, story_published_effects
from tests.factories import OrganisationFactory, ResponseFactory, ServiceFactory, StoryFactory

pytestmark = pytest.mark.django_db

ALL_EVENTS = ["story.published", "response.published", "change.marked"]
SECRET = "whsec_" + base64.b64encode(b"the test secret's 32 key bytes!!").decode()


@pytest.fixture
def tree(db):
    trust = OrganisationFactory(name="Riverside Trust", slug="trust")
    hospital = OrganisationFactory(name="Riverside General", slug="hospital", parent=trust)
    ward = OrganisationFactory(name="Ward 7", slug="ward-7", parent=hospital)
    other = OrganisationFactory(name="Elsewhere", slug="elsewhere")
    service = ServiceFactory(organisation=ward, slug="ward-7-care", name="Ward 7 care")
    return {"trust": trust, "hospital": hospital, "ward": ward, "other": other, "service": service}


def _endpoint(organisation, url, events=ALL_EVENTS, **kwargs):
    return WebhookEndpoint.objects.create(
        organisation=organisation, url=url, events=list(events), secret=SECRET, **kwargs
    )


def _publish(story):
    """Publish as the stories services do: effects in the transaction, webhooks on commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        story_published_effects(story=story)


def _verify(received, secret=SECRET) -> bool:
    """What a receiver does: check the Standard Webhooks signature over the id, the timestamp
    and the raw body with the reference library."""
    try:
        Webhook(secret).verify(received.body, received.headers)
    except WebhookVerificationError:
        return False
    return True


def test_a_published_story_is_posted_signed_to_the_trusts_webhook(tree, receiver):
    endpoint = _endpoint(tree["trust"], receiver.url)
    story = StoryFactory(services=[tree["service"]], author_email="secret.author@example.org",
                         title="Night nurse", body="She stayed with us.")
    _publish(story)

    assert len(receiver.requests) == 1
    received = receiver.requests[0]
    assert _verify(received)
    assert not _verify(received, secret="whsec_" + base64.b64encode(b"another secret").decode())
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert received.headers["X-LocalSocial-Event"] == "story.published"
    assert received.headers["X-LocalSocial-Delivery"] == str(delivery.pk)
    assert received.headers["webhook-id"] == delivery.event_id == f"story.published:{story.pk}"
    assert received.headers["Content-Type"] == "application/json"
    payload = received.json()
    assert payload["event"] == "story.published"
    assert payload["id"] == f"story.published:{story.pk}"
    assert payload["data"]["story"]["id"] == story.pk
    assert payload["data"]["story"]["body"] == "She stayed with us."
    assert payload["data"]["story"]["url"].endswith(f"/stories/{story.pk}/")
    assert payload["data"]["story"]["url"].startswith("http")
    assert "secret.author@example.org" not in received.body.decode()
    assert "author_email" not in received.body.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.delivered_at is not None
    assert WebhookAttempt.objects.filter(delivery=delivery, status_code=200).count() == 1


def test_only_subscribed_active_endpoints_of_the_storys_organisations_hear_of_it(tree, receiver):
    heard = [
        _endpoint(tree["trust"], receiver.url + "?trust"),
        _endpoint(tree["ward"], receiver.url + "?ward"),
    ]
    _endpoint(tree["other"], receiver.url + "?other")
    _endpoint(tree["hospital"], receiver.url + "?paused", is_active=False)
    _endpoint(tree["hospital"], receiver.url + "?responses-only", events=["response.published"])
    _publish(StoryFactory(services=[tree["service"]]))
    assert set(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == {e.pk for e in heard}
    assert len(receiver.requests) == 2


def test_queueing_the_same_event_twice_delivers_it_once(tree, receiver):
    _endpoint(tree["trust"], receiver.url)
    story = StoryFactory(services=[tree["service"]])
    _publish(story)
    with TestCase.captureOnCommitCallbacks(execute=True):
        webhook_event_queue(event="story.published", subject_id=story.pk)
    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.requests) == 1


def test_a_response_and_a_change_are_two_events(tree, receiver):
    _endpoint(tree["ward"], receiver.url)
    story = StoryFactory(services=[tree["service"]])
    response = ResponseFactory(story=story, organisation=tree["ward"], change="made",
                               change_description="New chairs in the day room.")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response_published_effects(response=response)
    events = sorted(r.headers["X-LocalSocial-Event"] for r in receiver.requests)
    assert events == ["change.marked", "response.published"]
    payload = next(r.json() for r in receiver.requests if r.headers["X-LocalSocial-Event"] == "change.marked")
    assert payload["id"] == f"change.marked:{story.pk}:{response.pk}"
    assert payload["data"]["response"]["change"] == "made"
    assert payload["data"]["response"]["organisation"] == {"slug": "ward-7", "name": "Ward 7"}
    assert payload["data"]["story"]["id"] == story.pk
    assert "responder" not in payload["data"]["response"]


def test_an_authors_reply_and_an_unpublished_story_send_nothing(tree, receiver):
    _endpoint(tree["trust"], receiver.url)
    story = StoryFactory(services=[tree["service"]], status="pending")
    webhook_event_queue(event="story.published", subject_id=story.pk)
    published = StoryFactory(services=[tree["service"]])
    reply = ResponseFactory(story=published, organisation=None, is_author_reply=True, responder=None)
    webhook_event_queue(event="response.published", subject_id=reply.pk)
    assert not WebhookDelivery.objects.exists()


def test_a_500_is_retried_with_backoff_and_then_delivered(tree, receiver):
    receiver.answers = [500]
    _endpoint(tree["trust"], receiver.url)
    _publish(StoryFactory(services=[tree["service"]]))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert "answered 500" in delivery.last_error
    first_try = WebhookAttempt.objects.get(delivery=delivery).attempted_at
    assert delivery.next_attempt_at == first_try + BACKOFF[0]

    # Not due yet: nothing is sent.
    assert webhooks_retry_due(now=first_try + BACKOFF[0] - timedelta(seconds=1)) == 0
    assert len(receiver.requests) == 1
    assert webhooks_retry_due(now=first_try + BACKOFF[0] + timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 2
    assert delivery.last_status_code == 200
    assert delivery.last_error == ""
    assert len(receiver.requests) == 2
    # The same event id both times, so a receiver can ignore a repeat; signed afresh each time.
    assert receiver.requests[0].json()["id"] == receiver.requests[1].json()["id"]
    assert all(_verify(r) for r in receiver.requests)
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [500, 200]


def test_it_gives_up_after_the_last_attempt_on_the_backoff_schedule(tree, receiver):
    receiver.answers = [503] * 20
    _endpoint(tree["trust"], receiver.url)
    _publish(StoryFactory(services=[tree["service"]]))
    delivery = WebhookDelivery.objects.get()
    gaps = []
    while delivery.status == DeliveryStatus.RETRYING:
        last = WebhookAttempt.objects.filter(delivery=delivery).latest("attempted_at", "id").attempted_at
        gaps.append(delivery.next_attempt_at - last)
        webhook_delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)
        delivery.refresh_from_db()
    assert gaps == list(BACKOFF)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == MAX_ATTEMPTS == 6
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == MAX_ATTEMPTS
    # Nothing more, however long we wait.
    assert webhooks_retry_due(now=timezone.now() + timedelta(days=30)) == 0
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_a_timeout_is_a_failed_attempt_that_is_retried(tree, receiver, settings):
    settings.WEBHOOKS_TIMEOUT = 0.3
    receiver.delay = 1.0
    _endpoint(tree["trust"], receiver.url)
    _publish(StoryFactory(services=[tree["service"]]))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_status_code is None
    assert "No answer within 0.3 seconds" in delivery.last_error


def test_a_redirect_is_not_followed(tree, receiver):
    receiver.answers = [302]
    receiver.location = "http://127.0.0.1:1/elsewhere"
    _endpoint(tree["trust"], receiver.url)
    _publish(StoryFactory(services=[tree["service"]]))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_status_code == 302
    assert "redirect" in delivery.last_error
    assert len(receiver.requests) == 1


def test_a_refused_connection_is_retried(tree):
    _endpoint(tree["trust"], "http://127.0.0.1:1/nobody-listens")
    _publish(StoryFactory(services=[tree["service"]]))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error.startswith("Could not connect")


def test_a_delivery_being_sent_is_not_sent_again_by_a_second_worker(tree, receiver, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    _endpoint(tree["trust"], receiver.url)
    _publish(StoryFactory(services=[tree["service"]]))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert not receiver.requests
    now = timezone.now()
    # A first worker has claimed it (its lease runs) ...
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=1, next_attempt_at=now + timedelta(minutes=1))
    # ... so a second worker given the same task leaves it alone.
    assert webhook_delivery_attempt(delivery_id=delivery.pk, now=now) == "skipped"
    assert not receiver.requests
    # Once sent, nobody sends it again.
    assert webhook_delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(minutes=2)) == "succeeded"
    assert webhook_delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(minutes=3)) == "skipped"
    assert len(receiver.requests) == 1


def test_retries_are_enqueued_with_run_after_when_the_backend_can_defer(tree, receiver, settings):
    from django_tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    receiver.answers = [500]
    _endpoint(tree["trust"], receiver.url)
    _publish(StoryFactory(services=[tree["service"]]))
    backend = task_backends["default"]
    sends = [r for r in backend.results if r.task.name == "webhook_deliver_task"]
    assert [r.task.run_after for r in sends] == [None]  # the first send, at once
    delivery = WebhookDelivery.objects.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "retrying"
    delivery.refresh_from_db()
    retry = backend.results[-1]
    assert retry.task.run_after == delivery.next_attempt_at
    assert retry.kwargs == {"delivery_id": delivery.pk}


def test_a_story_withdrawn_before_delivery_is_not_sent(tree, receiver, settings):
    from localsocial.stories.services.submission import story_withdraw

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    _endpoint(tree["trust"], receiver.url)
    story = StoryFactory(services=[tree["service"]])
    _publish(story)
    story_withdraw(story_id=story.pk)
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "cancelled"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "no longer public" in delivery.last_error
    assert not receiver.requests


def test_the_retry_command_sends_what_is_due(tree, receiver, capsys):
    receiver.answers = [500]
    _endpoint(tree["trust"], receiver.url)
    _publish(StoryFactory(services=[tree["service"]]))
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    call_command("webhooks_retry")
    assert "1 webhook deliveries attempted." in capsys.readouterr().out
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_the_payload_is_the_public_representation(tree, receiver, client):
    _endpoint(tree["trust"], receiver.url)
    story = StoryFactory(services=[tree["service"]])
    _publish(story)
    sent = receiver.requests[0].json()["data"]["story"]
    from_api = client.get(f"/api/stories/{story.pk}").json()
    from_api.pop("responses")
    from_api.pop("more_responses")
    from_api["url"] = sent["url"]
    assert sent == from_api
    assert json.loads(json.dumps(sent)) == sent


@pytest.mark.parametrize(
    ("url", "allow_local", "problem"),
    [
        ("https://hooks.example.org/in", False, None),
        ("http://hooks.example.org/in", False, "must start with https://"),
        ("http://127.0.0.1:8000/in", True, None),
        ("http://localhost/in", True, None),
        ("http://127.0.0.1:8000/in", False, "must start with https://"),
        ("https://127.0.0.1/in", False, "public internet"),
        ("https://10.1.2.3/in", False, "public internet"),
        ("https://169.254.169.254/latest", False, "public internet"),
        ("https://[::1]/in", False, "public internet"),
        ("https://printer.local/in", False, "public internet"),
        ("ftp://example.org/in", False, "must start with https://"),
        ("javascript:alert(1)", False, "must start with https://"),
        ("https://user:pw@example.org/", False, "user name or password"),
        ("https://example.org:99999/", False, "not a valid URL"),
    ],
)
def test_where_events_may_be_sent(settings, url, allow_local, problem):
    settings.WEBHOOKS_ALLOW_LOCAL = allow_local
    found = webhook_url_problem(url)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
