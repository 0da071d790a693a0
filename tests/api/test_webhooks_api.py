"""/api/webhooks/: the delivery log through the API, for a webhooks:manage token."""

from __future__ import annotations

import pytest

from localsocial.api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.api.tokens import bearer
from tests.factories import MembershipFactory, OrganisationFactory, ServiceFactory, StoryFactory
from tests.helpers import CommittingClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_token, receiver):
    org = OrganisationFactory(slug="riverside")
    admin = MembershipFactory(organisation=org, role="administrator").user
    endpoint = WebhookEndpoint.objects.create(organisation=org, url=receiver.url, events=["story.published"],
                                              secret="whsec_YXBp")
    story = StoryFactory(services=[ServiceFactory(organisation=org)])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="story.published", event_id=f"story.published:{story.pk}",
        payload={"event": "story.published", "data": {"story": {"id": story.pk}}},
        status=DeliveryStatus.FAILED, attempts=6, last_status_code=500, last_error="The receiver answered 500.",
    )
    _token, secret = make_token(admin, scopes=["webhooks:manage"], organisation=org)
    return {"org": org, "admin": admin, "endpoint": endpoint, "delivery": delivery, "headers": bearer(secret)}


def test_list_webhooks_and_their_log_without_secrets(client, setup):
    body = client.get("/api/webhooks/", **setup["headers"]).json()
    assert [e["id"] for e in body] == [setup["endpoint"].pk]
    assert "secret" not in body[0]
    assert "whsec_api" not in str(body)
    log = client.get(f"/api/webhooks/{setup['endpoint'].pk}/deliveries/", **setup["headers"]).json()
    assert log["items"][0]["status"] == "failed"
    assert log["items"][0]["last_error"] == "The receiver answered 500."


def test_send_again_through_the_api(setup, receiver):
    client = CommittingClient()
    url = f"/api/webhooks/{setup['endpoint'].pk}/deliveries/{setup['delivery'].pk}/send-again"
    response = client.post(url, **setup["headers"])
    assert response.status_code == 202
    assert response.json()["status"] == "pending"  # queued; sent by the task after the request
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get(pk=setup["delivery"].pk).status == DeliveryStatus.SUCCEEDED
    WebhookDelivery.objects.filter(pk=setup["delivery"].pk).update(status=DeliveryStatus.RETRYING)
    assert client.post(url, **setup["headers"]).status_code == 409


def test_another_organisations_webhook_is_404_and_other_tokens_are_refused(client, setup, make_token):
    other = WebhookEndpoint.objects.create(organisation=OrganisationFactory(), url="https://x.example.org/",
                                           events=["story.published"], secret="s")
    assert client.get(f"/api/webhooks/{other.pk}/deliveries/", **setup["headers"]).status_code == 404
    _token, stories_only = make_token(setup["admin"], scopes=["stories:write"])
    assert client.get("/api/webhooks/", **bearer(stories_only)).status_code == 403
    assert client.get("/api/webhooks/").status_code == 401
    # The administrator steps down: the token stops working for the organisation.
    setup["admin"].organisation_memberships.update(role="responder")
    assert client.get("/api/webhooks/", **setup["headers"]).status_code == 403
