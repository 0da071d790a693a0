"""The Circles loop in Chromium, as the people in it would live it:

a coordinator joins someone up on the phone (assisted, consent recorded) → records their fee
paid in cash → sells them a bundle of tokens → asks for help for them → matches a vetted
helper (a member who helps, so they earn the tokens) → the helper accepts, checks in and out
and confirms → the coordinator confirms for the member → the tokens move → the member's and
the helper's statements both show it.  axe checks every page on the way."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from localsocial.circles.models import Account, HelperKind, Member, Visit
from tests.circles.factories import (
    CircleFactory,
    CoordinatorFactory,
    HelperFactory,
    MemberFactory,
    TokenBundleFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=[True, False], ids=["with-javascript", "without-javascript"])
def javascript(request) -> bool:
    return bool(request.param)


@pytest.fixture
def browser_as(javascript, chromium_browser, live_server):
    """Open a browser signed in with a test client's session, once with JavaScript and once
    without (every page must work both ways); every one is closed before the live server
    stops (an open page keeps a connection, and its thread, alive)."""
    contexts = []

    def open_page(client: Client):
        context = chromium_browser.new_context(
            base_url=live_server.url, locale="en-GB", java_script_enabled=javascript
        )
        context.set_default_timeout(15_000)
        context.add_cookies([
            {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
            {"name": "ls_cookies_seen", "value": "1", "url": live_server.url},
        ])
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def test_a_member_joined_by_phone_gets_help_and_the_tokens_move(browser_as, assert_accessible, javascript):
    if not javascript:
        # axe is itself JavaScript and cannot run in a page with JavaScript turned off; the
        # same pages are checked by the run with JavaScript.
        def assert_accessible(pg) -> None:
            return None

    # Given a circle with a bundle of three tokens for £30, a coordinator, and a vetted member
    # who helps (so the tokens they earn land in their own account)
    circle = CircleFactory(name="Southwark Circle", slug="southwark", annual_fee_pence=2000)
    TokenBundleFactory(circle=circle, name="Three tokens", quarters=12, price_pence=3000)
    coordinator = CoordinatorFactory(circle=circle).user
    neighbour = MemberFactory(circle=circle, display_name="Grace Hopper")
    helper = HelperFactory(circle=circle, user=neighbour.user, member=neighbour, kind=HelperKind.MEMBER,
                           display_name="Grace Hopper")
    staff = browser_as(sign_in_verified(Client(), coordinator))

    # The coordinator joins Ada up while she is on the phone.
    staff.goto("/circles/southwark/coordinate/members/new/")
    assert_accessible(staff)
    staff.get_by_label("Full name", exact=True).fill("Ada Lovelace")
    staff.get_by_label("Phone number", exact=True).fill("020 7946 0123")
    staff.get_by_label("Postal address", exact=True).fill("1 Long Lane, London")
    staff.get_by_label("Postcode", exact=True).fill("SE1 4PU")
    staff.get_by_label("Phone", exact=True).check()
    staff.get_by_label("They say they are 50 or over").check()
    staff.get_by_label("The person agreed to me entering this for them").check()
    staff.locator("form button[type=submit]").last.click()
    expect(staff.get_by_role("heading", level=1, name="Ada Lovelace")).to_be_visible()
    assert_accessible(staff)
    ada = Member.objects.get(display_name="Ada Lovelace")
    assert ada.route == "assisted"
    assert ada.consent_given_at is not None
    assert ada.entered_by == coordinator

    # She pays the year's fee in cash.
    staff.get_by_role("link", name="Record the fee").click()
    expect(staff.get_by_label("Cash")).to_be_visible()
    assert_accessible(staff)
    staff.get_by_label("Cash").check()
    staff.locator("form button[type=submit]").last.click()
    expect(staff.get_by_role("heading", level=1, name="Ada Lovelace")).to_be_visible()
    assert ada.years.get().payment is not None

    # And buys three tokens.
    staff.get_by_role("link", name="Sell a bundle of tokens").click()
    expect(staff.get_by_label("Cash")).to_be_visible()
    assert_accessible(staff)
    staff.get_by_label("Bundle (for tokens)").select_option(index=1)  # the only bundle: Three tokens
    staff.get_by_label("Cash").check()
    staff.locator("form button[type=submit]").last.click()
    expect(staff.get_by_role("heading", level=1, name="Ada Lovelace")).to_be_visible()
    account = Account.objects.get(member=ada)
    assert account.balance_quarters == 12

    # The coordinator asks for help for her: an hour in the garden at home tomorrow.
    staff.get_by_role("link", name="Ask for help for them").click()
    expect(staff.get_by_label("What do you need help with?")).to_be_visible()
    assert_accessible(staff)
    staff.get_by_label("Gardening").check()
    staff.get_by_label("What do you need help with?").fill("Cut back the hedge by the front door")
    staff.get_by_label("Which day?").fill((timezone.localdate() + dt.timedelta(days=1)).isoformat())
    staff.get_by_label("At the member's home").check()
    staff.locator("form button[type=submit]").last.click()

    # And matches Grace, who is vetted for home visits.
    staff.goto("/circles/southwark/help/queue/")
    assert_accessible(staff)
    staff.get_by_role("link", name="Find a helper for Ada Lovelace").click()
    expect(staff.get_by_role("button", name="Offer to Grace Hopper")).to_be_visible()
    assert_accessible(staff)
    staff.get_by_role("button", name="Offer to Grace Hopper").click()

    # Grace says yes.
    grace = browser_as(sign_in_verified(Client(), helper.user))
    grace.goto("/circles/help/visits/")
    assert_accessible(grace)
    grace.get_by_role("button", name="Yes, I can help Ada Lovelace").click()
    visit = Visit.objects.get(helper=helper)
    # The day comes.
    Visit.objects.filter(pk=visit.pk).update(planned_start=timezone.now())

    # She checks in, checks out and confirms.
    grace.goto(f"/circles/help/visits/{visit.pk}/")
    assert_accessible(grace)
    grace.get_by_role("button", name="Check in").click()
    expect(grace.get_by_role("button", name="Check out")).to_be_visible()
    grace.get_by_role("button", name="Check out").click()
    expect(grace.get_by_role("button", name="Confirm the visit happened")).to_be_visible()
    grace.get_by_role("button", name="Confirm the visit happened").click()
    assert_accessible(grace)

    # The coordinator confirms for Ada, who has no computer.
    staff.goto(f"/circles/help/visits/{visit.pk}/")
    staff.get_by_role("button", name="Confirm the visit for both sides").click()
    assert_accessible(staff)

    # The tokens moved: a quarter of an hour (the visit's real length, rounded up to the
    # smallest amount) from Ada to Grace.
    visit.refresh_from_db()
    assert visit.completed_at is not None
    account.refresh_from_db()
    earned = Account.objects.get(helper=helper)
    assert account.balance_quarters == 11
    assert earned.balance_quarters == 1

    # Both statements show it.
    staff.goto(f"/circles/accounts/{account.pk}/statement/")
    expect(staff.locator("main table")).to_be_visible()
    assert_accessible(staff)
    statement = staff.locator("main").inner_text()
    assert "Help: Gardening with Grace Hopper" in statement
    assert "Made by" in statement  # the coordinator confirmed for Ada
    assert "15 minutes" in statement
    assert "Bought: Three tokens" in statement
    grace.goto(f"/circles/accounts/{earned.pk}/statement/")
    assert_accessible(grace)
    assert "15 minutes" in grace.locator("main").inner_text()
