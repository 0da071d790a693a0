"""The webhook registry: the modules bring their event types; the platform's engine, the
developer pages and the OpenAPI document read them from the registry."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import TestCase
from ninja import Schema

from localsocial.api import webhook_registry
from localsocial.api.models import WebhookDelivery, WebhookEndpoint
from localsocial.api.services import webhook_endpoint_create
from localsocial.api.webhook_registry import (
    WebhookMessage,
    webhook_event_names,
    webhook_event_register,
    webhook_event_type,
)
from localsocial.api.webhooks import webhook_delivery_attempt, webhook_event_queue
from localsocial.stories.services.events import response_published_effects, story_published_effects
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    ResponseFactory,
    ServiceFactory,
    StoryFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db

MODULE_EVENTS = ["story.published", "response.published", "change.marked", "request.matched", "visit.completed"]
API_DIR = Path(__file__).resolve().parents[2] / "src" / "localsocial" / "api"


def test_the_modules_register_their_events():
    assert set(MODULE_EVENTS) <= set(webhook_event_names())
    assert webhook_event_type("story.published").module == "localsocial.stories.webhooks"
    assert webhook_event_type("visit.completed").module == "localsocial.circles.webhooks"


@pytest.mark.parametrize("filename", ["webhooks.py", "webhook_registry.py", "models.py", "forms.py", "views.py"])
def test_the_webhook_engine_imports_no_module(filename):
    tree = ast.parse((API_DIR / filename).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules = ("localsocial.stories", "localsocial.circles", "localsocial.green", "localsocial.engage",
               "localsocial.communities", "localsocial.insight")
    assert not [name for name in imported if name.startswith(modules)]


def test_an_event_name_is_registered_once():
    with pytest.raises(ImproperlyConfigured):
        webhook_event_register(name="story.published", label="Again", summary="Again",
                               payload_schema={"type": "object"}, build=lambda subject_id: None)


def test_every_registered_event_is_in_the_openapi_webhooks_with_its_payload_schema(client):
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    webhooks = document["webhooks"]
    assert set(webhooks) == set(webhook_event_names())
    for name in webhook_event_names():
        operation = webhooks[name]["post"]
        assert operation["summary"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert {"event", "id", "occurred_at", "data"} <= set(schema["properties"]), name
        assert schema["properties"]["event"].get("const") == name or schema["properties"]["event"].get("enum") == [name]
        assert "$ref" not in str(schema)  # self-contained: no clash with the API's own schemas
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    story = webhooks["story.published"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "body" in story["properties"]["data"]["properties"]["story"]["properties"]
    visit = webhooks["visit.completed"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "payment" in visit["properties"]["data"]["properties"]["visit"]["properties"]


def test_the_payloads_sent_match_their_registered_schemas(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    org = OrganisationFactory()
    WebhookEndpoint.objects.create(organisation=org, url="https://hooks.example.org/in",
                                   events=MODULE_EVENTS, secret="whsec_c2VjcmV0")
    story = StoryFactory(services=[ServiceFactory(organisation=org)])
    response = ResponseFactory(story=story, organisation=org, change="planned", change_description="A ramp.")
    with TestCase.captureOnCommitCallbacks(execute=True):
        story_published_effects(story=story)
        response_published_effects(response=response)
    deliveries = list(WebhookDelivery.objects.all())
    assert {d.event for d in deliveries} == {"story.published", "response.published", "change.marked"}
    for delivery in deliveries:
        model = webhook_event_type(delivery.event).payload_schema
        assert isinstance(model, type)
        model.model_validate(delivery.payload)


def test_the_add_webhook_page_lists_the_registered_events(client):
    org = OrganisationFactory(slug="riverside-trust")
    admin = MembershipFactory(organisation=org, role="administrator").user
    sign_in_verified(client, admin)
    page = client.get(f"/developers/organisations/{org.slug}/webhooks/new/").content.decode()
    for name in webhook_event_names():
        assert f'value="{name}"' in page
        assert str(webhook_event_type(name).label).replace("'", "&#39;") in page


def test_only_registered_events_can_be_subscribed_to():
    endpoint = webhook_endpoint_create(actor=None, organisation=OrganisationFactory(),
                                       url="https://hooks.example.org/x",
                                       events=["visit.completed", "made.up", "story.published"])
    assert endpoint.events == ["story.published", "visit.completed"]


class _ThingPayload(Schema):
    event: str
    id: str
    occurred_at: str
    data: dict[str, Any]


@pytest.fixture
def thing_event():
    """A module's new event type, registered as a module's webhooks.py would: no migration."""
    published: dict[int, bool] = {}
    org = OrganisationFactory(slug="green-org")

    def build(subject_id: int) -> WebhookMessage | None:
        if not published.get(subject_id):
            return None
        return WebhookMessage(
            payload={"event": "thing.done", "id": f"thing.done:{subject_id}",
                     "occurred_at": "2026-12-01T10:00:00Z", "data": {"thing": {"id": subject_id}}},
            organisation_ids=[org.pk],
        )

    webhook_event_register(name="thing.done", label="A thing was done", summary="A thing was done",
                           payload_schema=_ThingPayload, build=build,
                           still_public=lambda payload: published.get(payload["data"]["thing"]["id"], False))
    yield {"org": org, "published": published}
    webhook_registry._EVENT_TYPES.pop("thing.done")


def test_a_new_module_event_is_queued_and_delivered_by_the_engine(thing_event, receiver):
    endpoint = webhook_endpoint_create(actor=None, organisation=thing_event["org"], url=receiver.url,
                                       events=["thing.done"])
    assert endpoint.events == ["thing.done"]
    # Nothing while the module's builder says there is nothing to send
    webhook_event_queue(event="thing.done", subject_id=7)
    assert not WebhookDelivery.objects.exists()
    thing_event["published"][7] = True
    with TestCase.captureOnCommitCallbacks(execute=True):
        webhook_event_queue(event="thing.done", subject_id=7)
    assert [r.json()["id"] for r in receiver.requests] == ["thing.done:7"]
    assert receiver.requests[0].headers["webhook-id"] == "thing.done:7"


def test_the_modules_still_public_check_runs_before_each_attempt(thing_event, receiver, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    webhook_endpoint_create(actor=None, organisation=thing_event["org"], url=receiver.url, events=["thing.done"])
    thing_event["published"][8] = True
    with TestCase.captureOnCommitCallbacks(execute=True):
        webhook_event_queue(event="thing.done", subject_id=8)
    thing_event["published"][8] = False
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "cancelled"
    delivery.refresh_from_db()
    assert "no longer public" in delivery.last_error
    assert not receiver.requests


def test_an_unknown_event_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhook_event_queue(event="made.up", subject_id=1)
