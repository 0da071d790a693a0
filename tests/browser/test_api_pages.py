"""The developer pages (API tokens and webhooks) pass axe, with and without form errors, and
work without JavaScript."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from localsocial.api.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from localsocial.api.services import api_token_create
from tests.factories import MembershipFactory, OrganisationFactory
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def developer_page(chromium_browser, live_server):
    """A browser signed in (two-factor verified) as an administrator of Riverside Council, with
    a token, a webhook and a few deliveries."""
    council = OrganisationFactory(name="Riverside Council", slug="riverside")
    admin = MembershipFactory(organisation=council, role="administrator").user
    token, _secret = api_token_create(user=admin, name="Kiosk", scopes=["stories:write"])
    endpoint = WebhookEndpoint.objects.create(
        organisation=council, url="https://hooks.example.org/localsocial", events=["story.published"],
        secret="whsec_YnJvd3Nlcg==",
    )
    for n, status in enumerate([DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.RETRYING]):
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event="story.published", event_id=f"story.published:{n}",
            payload={"event": "story.published", "id": f"story.published:{n}"}, status=status,
            attempts=1, last_status_code=200 if n == 0 else 500,
            last_error="" if n == 0 else "The receiver answered 500.",
        )
        WebhookAttempt.objects.create(delivery=delivery, status_code=delivery.last_status_code,
                                      error=delivery.last_error, duration_ms=42)
    client = sign_in_verified(Client(), admin)
    context = chromium_browser.new_context(base_url=live_server.url)
    context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "ls_cookies_seen", "value": "1", "url": live_server.url},
    ])
    page = context.new_page()
    page.ids = {"token": token.pk, "endpoint": endpoint.pk, "delivery": delivery.pk}  # type: ignore[attr-defined]
    yield page
    context.close()


def test_the_developer_pages_pass_axe(developer_page, assert_accessible):
    ids = developer_page.ids
    base = "/developers/organisations/riverside/webhooks/"
    for path in [
        "/developers/",
        "/developers/tokens/new/",
        f"/developers/tokens/{ids['token']}/revoke/",
        base,
        base + "new/",
        f"{base}{ids['endpoint']}/",
        f"{base}{ids['endpoint']}/delete/",
        f"{base}{ids['endpoint']}/deliveries/{ids['delivery']}/",
    ]:
        response = developer_page.goto(path)
        assert response is not None
        assert response.status == 200, path
        assert_accessible(developer_page)


def test_forms_with_errors_pass_axe(developer_page, assert_accessible):
    developer_page.goto("/developers/tokens/new/")
    developer_page.get_by_role("button", name="Create token").click()
    expect(developer_page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(developer_page)
    developer_page.goto("/developers/organisations/riverside/webhooks/new/")
    developer_page.get_by_label("Address to send events to").fill("http://insecure.example.org/")
    developer_page.get_by_role("button", name="Add webhook").click()
    expect(developer_page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(developer_page)


def test_making_a_token_shows_it_once_and_passes_axe(developer_page, assert_accessible):
    developer_page.goto("/developers/tokens/new/")
    developer_page.get_by_label("Name").fill("Reporting script")
    developer_page.get_by_label("Submit stories").check()
    developer_page.get_by_role("button", name="Create token").click()
    expect(developer_page.get_by_role("heading", name="Your new API token")).to_be_visible()
    secret = developer_page.locator("#token-secret").input_value()
    assert secret.startswith("ls_")
    assert_accessible(developer_page)
    developer_page.reload()
    assert secret not in developer_page.content()


def test_adding_a_webhook_and_rotating_its_secret_pass_axe(developer_page, assert_accessible):
    developer_page.goto("/developers/organisations/riverside/webhooks/new/")
    developer_page.get_by_label("Address to send events to").fill("https://receiver.example.org/in")
    developer_page.get_by_label("response.published").check()
    developer_page.get_by_role("button", name="Add webhook").click()
    expect(developer_page.get_by_role("heading", name="The webhook's signing secret")).to_be_visible()
    assert developer_page.locator("#webhook-secret").input_value().startswith("whsec_")
    assert_accessible(developer_page)
    developer_page.get_by_role("link", name="Go to the webhook").click()
    developer_page.get_by_role("button", name="Rotate secret").click()
    assert developer_page.locator("#webhook-secret").input_value().startswith("whsec_")


def test_the_api_documentation_page_passes_axe_and_shows_the_operations(page, assert_accessible):
    # Given anyone, signed in or not, when they open /api/docs
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    response = page.goto("/api/docs")
    assert response is not None
    assert response.status == 200
    # Then Swagger UI draws every operation inside the site's own page, under the site's CSP
    expect(page.locator(".opblock-summary-path", has_text="/api/stories/").first).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="API documentation")).to_be_visible()
    expect(page.get_by_role("link", name="Developer pages: API tokens and webhooks")).to_be_visible()
    assert page.locator("html").get_attribute("lang")
    assert page.locator("main").count() == 1
    assert not [e for e in errors if "Content Security Policy" in e], errors
    assert_accessible(page)
    # And so does an operation opened, tried out and run, and the dialog for a token
    page.locator(".opblock-summary", has_text="/api/stories/").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    expect(page.locator(".live-responses-table").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("Available authorizations")).to_be_visible()
    assert_accessible(page)


def test_the_api_error_pages_pass_axe(page, assert_accessible):
    for path in ["/developers/problems/", "/developers/problems/invalid-request/"]:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200
        assert_accessible(page)
