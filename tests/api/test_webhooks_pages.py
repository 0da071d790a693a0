"""The webhooks pages of an organisation: only its administrators; add (secret shown once),
rotate, pause, delete, the delivery log and "send again"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from localsocial.api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from localsocial.core.models import AuditEvent
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db

BASE = "/developers/organisations/riverside/webhooks/"


@pytest.fixture
def org(db):
    return OrganisationFactory(name="Riverside Council", slug="riverside")


@pytest.fixture
def admin_client(org):
    admin = MembershipFactory(organisation=org, role="administrator").user
    client = sign_in_verified(CommittingClient(), admin)
    client.user = admin
    return client


def _secret_on(page) -> str:
    found = re.search(r'id="webhook-secret" type="text" value="([^"]+)"', page.content.decode())
    assert found, page.content.decode()[:2000]
    return found.group(1)


@pytest.mark.parametrize("role", ["responder", "member"])
def test_only_administrators_may_manage_webhooks(client, org, role):
    user = MembershipFactory(organisation=org, role=role).user
    sign_in_verified(client, user)
    assert client.get(BASE).status_code == 403
    assert client.post(BASE + "new/", {"url": "https://example.org/in", "events": ["story.published"]}).status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_an_administrator_of_the_organisation_above_may_manage(client, org):
    part = OrganisationFactory(name="Waste team", slug="waste", parent=org)
    admin = MembershipFactory(organisation=org, role="administrator").user
    sign_in_verified(client, admin)
    assert client.get(f"/developers/organisations/{part.slug}/webhooks/").status_code == 200


def test_an_unknown_organisation_is_404(admin_client):
    assert admin_client.get("/developers/organisations/nowhere/webhooks/").status_code == 404


def test_adding_a_webhook_shows_its_secret_once(admin_client, org):
    response = admin_client.post(BASE + "new/", {"url": "https://hooks.example.org/in",
                                                 "events": ["story.published", "change.marked"]})
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.organisation == org
    assert endpoint.is_active
    assert endpoint.events == ["story.published", "change.marked"]
    page = admin_client.get(response["Location"])
    assert page["Cache-Control"] == "no-store"
    assert _secret_on(page) == endpoint.secret
    assert endpoint.secret.startswith("whsec_")
    # Not shown again: the detail page does not carry it.
    assert admin_client.get(response["Location"]).status_code == 302
    assert endpoint.secret not in admin_client.get(f"{BASE}{endpoint.pk}/").content.decode()
    assert AuditEvent.objects.filter(action="api.webhook_create", target_id=str(endpoint.pk)).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "", "events": ["story.published"]}, "Enter the address to send events to"),
        ({"url": "http://hooks.example.org/in", "events": ["story.published"]}, "must start with https://"),
        ({"url": "https://hooks.example.org/in"}, "Choose at least one event"),
        ({"url": "https://hooks.example.org/in", "events": ["story.deleted"]}, "Choose events from the list"),
    ],
)
def test_add_form_errors(admin_client, data, message):
    response = admin_client.post(BASE + "new/", data)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotating_pausing_and_deleting(admin_client, org):
    endpoint = WebhookEndpoint.objects.create(organisation=org, url="https://hooks.example.org/in",
                                              events=["story.published"], secret="whsec_b2xk")
    rotated = admin_client.post(f"{BASE}{endpoint.pk}/rotate/")
    assert rotated.status_code == 302
    secret_page = admin_client.get(rotated["Location"])
    new_secret = _secret_on(secret_page)
    endpoint.refresh_from_db()
    assert endpoint.secret == new_secret != "whsec_b2xk"
    assert endpoint.secret_rotated_at is not None
    # The previous secret signs too for a day, and the page says until when
    assert endpoint.previous_secret == "whsec_b2xk"
    assert "signed with the previous secret as well" in secret_page.content.decode()
    assert "Standard Webhooks" in secret_page.content.decode()

    assert admin_client.post(f"{BASE}{endpoint.pk}/active/", {"active": "0"}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert "Paused: nothing is sent" in admin_client.get(f"{BASE}{endpoint.pk}/").content.decode()
    admin_client.post(f"{BASE}{endpoint.pk}/active/", {"active": "1"})
    endpoint.refresh_from_db()
    assert endpoint.is_active is True

    assert admin_client.get(f"{BASE}{endpoint.pk}/delete/").status_code == 200
    assert admin_client.post(f"{BASE}{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"api.webhook_rotate_secret", "api.webhook_pause", "api.webhook_resume", "api.webhook_delete"} <= actions


def test_another_organisations_webhook_is_404(admin_client):
    other = WebhookEndpoint.objects.create(organisation=OrganisationFactory(), url="https://x.example.org/",
                                           events=["story.published"], secret="s")
    assert admin_client.get(f"{BASE}{other.pk}/").status_code == 404
    assert admin_client.post(f"{BASE}{other.pk}/delete/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=other.pk).exists()


def _deliveries(endpoint, count):
    start = timezone.now() - timedelta(hours=1)
    return [
        WebhookDelivery.objects.create(
            endpoint=endpoint, event="story.published", event_id=f"story.published:{n}",
            payload={"event": "story.published"}, status=DeliveryStatus.FAILED if n % 2 else DeliveryStatus.SUCCEEDED,
            attempts=6 if n % 2 else 1, last_status_code=500 if n % 2 else 200,
            last_error="The receiver answered 500." if n % 2 else "",
            created_at=start + timedelta(minutes=n // 2),  # pairs share a time: the id breaks ties
        )
        for n in range(count)
    ]


def test_the_delivery_log_is_newest_first_and_paginated(admin_client, org, django_assert_max_num_queries):
    endpoint = WebhookEndpoint.objects.create(organisation=org, url="https://hooks.example.org/in",
                                              events=["story.published"], secret="s")
    made = _deliveries(endpoint, 45)
    seen: list[int] = []
    url = f"{BASE}{endpoint.pk}/"
    while url:
        page = admin_client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        seen += [int(n) for n in re.findall(r'/deliveries/(\d+)/">', html)]
        nxt = re.search(r'<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == [d.pk for d in sorted(made, key=lambda d: (d.created_at, d.pk), reverse=True)]
    html = admin_client.get(f"{BASE}{endpoint.pk}/").content.decode()
    assert "The receiver answered 500." in html
    assert "Gave up" in html
    assert "Delivered" in html


@pytest.mark.parametrize("count", [5, 60])
def test_the_log_page_is_a_fixed_number_of_queries(admin_client, org, django_assert_num_queries, count):
    endpoint = WebhookEndpoint.objects.create(organisation=org, url="https://hooks.example.org/in",
                                              events=["story.published"], secret="s")
    _deliveries(endpoint, count)
    admin_client.get(f"{BASE}{endpoint.pk}/")  # warm the session
    with django_assert_num_queries(8):
        assert admin_client.get(f"{BASE}{endpoint.pk}/").status_code == 200


def test_send_again_delivers_a_failed_delivery_now(admin_client, org, receiver):
    endpoint = WebhookEndpoint.objects.create(organisation=org, url=receiver.url, events=["story.published"],
                                              secret="whsec_c2VjcmV0")
    from tests.factories import ServiceFactory, StoryFactory

    story = StoryFactory(services=[ServiceFactory(organisation=org)])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="story.published", event_id=f"story.published:{story.pk}",
        payload={"event": "story.published", "id": f"story.published:{story.pk}", "data": {"story": {"id": story.pk}}},
        status=DeliveryStatus.FAILED, attempts=6, last_status_code=500,
    )
    response = admin_client.post(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/send-again/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
    assert len(receiver.requests) == 1
    assert AuditEvent.objects.filter(action="api.webhook_resend").exists()
    detail = admin_client.get(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/")
    assert detail.status_code == 200
    assert "story.published" in detail.content.decode()


def test_send_again_does_nothing_while_a_delivery_waits(admin_client, org):
    endpoint = WebhookEndpoint.objects.create(organisation=org, url="https://hooks.example.org/in",
                                              events=["story.published"], secret="s")
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="story.published", event_id="e:1",
                                              payload={}, status=DeliveryStatus.RETRYING, attempts=2)
    admin_client.post(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/send-again/")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.attempts == 2


def test_the_developers_page_links_to_the_webhooks_you_administer(client, org):
    user = UserFactory()
    MembershipFactory(user=user, organisation=org, role="administrator")
    sign_in_verified(client, user)
    assert BASE in client.get("/developers/").content.decode()
