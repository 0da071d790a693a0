"""Alerts and the organisation dashboard in Chromium: axe finds nothing, the charts load
under the Content Security Policy, and an alert can be set up without JavaScript."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from localsocial.stories.models import AlertSubscription
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
    UserFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db(transaction=True)


def _signed_in_context(chromium_browser, live_server, user, **options):
    client = sign_in_verified(Client(), user)
    context = chromium_browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(15_000)
    context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "ls_cookies_seen", "value": "1", "url": live_server.url},
    ])
    return context


@pytest.fixture
def trust():
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside-trust")
    hospital = OrganisationFactory(name="Riverside Hospital", slug="riverside-hospital", parent=trust)
    ServiceFactory(organisation=hospital, name="Children's ward", slug="childrens-ward")
    ServiceFactory(organisation=hospital, name="Eye clinic", slug="eye-clinic")
    TagFactory(name="Kind staff", slug="kind", polarity="good")
    TagFactory(name="Waiting time", slug="waiting", polarity="improve")
    return trust


@pytest.fixture
def staff(trust):
    return MembershipFactory(organisation=trust, user=UserFactory(email="sam@trust.example")).user


@pytest.fixture
def staff_page(chromium_browser, live_server, staff):
    context = _signed_in_context(chromium_browser, live_server, staff)
    page = context.new_page()
    page.csp_problems = []  # type: ignore[attr-defined]
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_problems.append(message.text))  # type: ignore[attr-defined]
    yield page
    context.close()


def test_the_alerts_list_passes_axe(staff_page, staff, trust, assert_accessible):
    AlertSubscription.objects.create(user=staff, name="Everything at the trust", organisation=trust)
    AlertSubscription.objects.create(user=staff, name="Paused one", organisation=trust, is_active=False,
                                     frequency="daily")

    response = staff_page.goto("/stories/alerts/")

    assert response is not None
    assert response.status == 200
    expect(staff_page.get_by_role("heading", name="Everything at the trust")).to_be_visible()
    assert_accessible(staff_page)


def test_the_alert_form_passes_axe_with_and_without_errors(staff_page, assert_accessible):
    staff_page.goto("/stories/alerts/new/")
    assert_accessible(staff_page)

    staff_page.get_by_role("button", name="Save alert").click()

    expect(staff_page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(staff_page)


def test_an_alert_can_be_set_up_without_javascript(chromium_browser, live_server, staff, trust):
    context = _signed_in_context(chromium_browser, live_server, staff, java_script_enabled=False)
    page = context.new_page()
    page.goto("/stories/alerts/new/")

    page.get_by_label("Name of this alert").fill("Ward stories")
    page.get_by_label("Find services by name").fill("ward")
    page.get_by_role("button", name="Find services").click()
    page.get_by_label("Children's ward (Riverside Hospital)").check()
    page.get_by_label("Moderately critical or more").check()
    page.get_by_label("A daily digest").check()
    page.get_by_role("button", name="Save alert").click()

    expect(page.get_by_text("Your alert “Ward stories” is set up")).to_be_visible()
    alert = AlertSubscription.objects.get(user=staff)
    assert [s.name for s in alert.services.all()] == ["Children's ward"]
    assert (alert.min_criticality, alert.frequency) == (3, "daily")
    context.close()


def test_the_dashboard_with_figures_passes_axe_and_its_charts_load_under_the_csp(staff_page, trust,
                                                                                assert_accessible):
    ward = trust.children.get().services.get(slug="childrens-ward")
    kind = TagFactory(slug="kind")
    now = timezone.now()
    for i in range(6):
        published = now - dt.timedelta(days=30 * i + 1)
        StoryFactory(services=[ward], tags=[kind], criticality=i % 6, published_at=published,
                     first_response_at=published + dt.timedelta(hours=i + 1) if i % 2 else None)

    response = staff_page.goto("/stories/organisations/riverside-trust/dashboard/")

    assert response is not None
    assert response.status == 200
    images = staff_page.locator("img[src^='data:image/svg+xml']")
    assert images.count() == 3  # per month, criticality, good tags (no tag to improve)
    for index in range(images.count()):
        assert images.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
    expect(staff_page.get_by_role(
        "img", name="Bar chart of the stories published each month. The same figures are in the table below."
    )).to_be_visible()
    # (The base template's inline script has its own, site-wide problem with the nonce in
    # settings; what the charts could break is the image and style rules.)
    assert [p for p in staff_page.csp_problems if "img-src" in p or "style-src" in p] == []  # type: ignore[attr-defined]
    assert_accessible(staff_page)


def test_the_empty_dashboard_passes_axe(staff_page, assert_accessible):
    response = staff_page.goto("/stories/organisations/riverside-trust/dashboard/")

    assert response is not None
    assert response.status == 200
    expect(staff_page.get_by_text("No stories yet: none were published")).to_be_visible()
    assert_accessible(staff_page)


def test_the_dashboard_with_a_bad_date_passes_axe(staff_page, assert_accessible):
    staff_page.goto("/stories/organisations/riverside-trust/dashboard/")
    staff_page.get_by_label("From").fill("2026-05-01")
    staff_page.get_by_label("To").fill("2026-04-01")
    staff_page.get_by_role("button", name="Show figures").click()

    expect(staff_page.get_by_text("The end date must be the same as or after the start date").first).to_be_visible()
    assert_accessible(staff_page)
