"""Every circles page passes axe: for the public, a member, a helper and a coordinator, and a
form with errors."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from localsocial.circles.models import Account
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory, TokenBundleFactory
from tests.circles.test_help_support import HelpRequestFactory, arranged_visit, give_tokens
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    circle = CircleFactory(name="Southwark Circle", slug="southwark")
    TokenBundleFactory(circle=circle, name="Three tokens")
    member = MemberFactory(circle=circle, display_name="Ada Lovelace", consent_given_at=timezone.now())
    give_tokens(member, 16)
    helper = HelperFactory(circle=circle, display_name="Grace Hopper")
    visit, coordinator = arranged_visit(circle=circle, helper=helper, member=member)
    waiting = HelpRequestFactory(member=member, description="Help with my new phone")
    return {
        "circle": circle, "member": member, "helper": helper, "visit": visit, "coordinator": coordinator,
        "waiting": waiting, "account": Account.objects.get(member=member),
    }


@pytest.fixture
def browser_for(chromium_browser, live_server):
    """Open a browser, signed in with a test client's session or not; every one is closed
    before the live server stops (an open page keeps a connection, and its thread, alive)."""
    contexts = []

    def open_context(client: Client | None):
        context = chromium_browser.new_context(base_url=live_server.url, locale="en-GB")
        context.set_default_timeout(15_000)
        cookies = [{"name": "ls_cookies_seen", "value": "1", "url": live_server.url}]
        if client is not None:
            cookies.append({"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url})
        context.add_cookies(cookies)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def visit_all(context, assert_accessible, paths) -> None:
    page = context.new_page()
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        assert_accessible(page)


def test_public_pages_pass_axe(browser_for, assert_accessible, world):
    context = browser_for(None)
    visit_all(context, assert_accessible, ["/circles/", "/circles/southwark/", "/circles/southwark/gift/"])


def test_member_pages_pass_axe(browser_for, assert_accessible, world):
    context = browser_for(signed_in(world["member"].user))
    visit_all(context, assert_accessible, [
        "/circles/southwark/membership/", "/circles/southwark/membership/details/", "/circles/southwark/join/",
        "/circles/statement/", f"/circles/accounts/{world['account'].pk}/statement/",
        "/circles/help/", "/circles/southwark/help/ask/", "/circles/southwark/help/offers/",
        "/circles/southwark/help/incident/", f"/circles/help/visits/{world['visit'].pk}/",
    ])


def test_helper_pages_pass_axe(browser_for, assert_accessible, world):
    context = browser_for(signed_in(world["helper"].user))
    visit_all(context, assert_accessible, [
        "/circles/help/visits/", "/circles/southwark/help/helper/", "/circles/southwark/help/offers/new/",
        f"/circles/help/visits/{world['visit'].pk}/",
    ])


def test_coordinator_pages_pass_axe(browser_for, assert_accessible, world):
    member, slug = world["member"], "/circles/southwark/coordinate"
    context = browser_for(sign_in_verified(Client(), world["coordinator"]))
    visit_all(context, assert_accessible, [
        f"{slug}/", f"{slug}/members/new/", f"{slug}/members/{member.pk}/", f"{slug}/members/{member.pk}/details/",
        f"{slug}/members/{member.pk}/payments/new/?purpose=fee", f"{slug}/members/{member.pk}/payments/new/?purpose=tokens",
        f"{slug}/members/{member.pk}/gifts/new/", f"{slug}/members/{member.pk}/grant/", f"{slug}/to-contact/",
        f"{slug}/settings/", f"{slug}/bundles/", f"{slug}/partners/", f"{slug}/coordinators/",
        "/circles/southwark/help/queue/", f"/circles/southwark/help/requests/{world['waiting'].pk}/candidates/",
        f"/circles/southwark/help/helpers/{world['helper'].pk}/",
        f"/circles/southwark/help/helpers/{world['helper'].pk}/vetting/", f"/circles/accounts/{world['account'].pk}/statement/",
        f"/circles/southwark/help/ask/for/{member.pk}/",
    ])


def test_a_coordinator_form_with_errors_passes_axe(browser_for, assert_accessible, world):
    context = browser_for(sign_in_verified(Client(), world["coordinator"]))
    page = context.new_page()
    page.goto("/circles/southwark/coordinate/members/new/")
    page.locator("form button[type=submit]").last.click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(page)
