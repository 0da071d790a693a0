"""The pages the registries added (site search, open data) and the account page's "Your work"
pass axe, and the search works without JavaScript."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from localsocial.accounts.models import SiteRole
from tests.circles.factories import CircleFactory, CoordinatorFactory, MemberFactory
from tests.circles.test_help_support import HelpRequestFactory
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    RoleGrantFactory,
    ServiceFactory,
    StoryFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def riverside():
    council = OrganisationFactory(name="Riverside Council", slug="riverside")
    bins = ServiceFactory(organisation=council, name="Bin collection", slug="bin-collection")
    StoryFactory(services=[bins], title="The bin men were kind")
    return council


@pytest.mark.parametrize("path", ["/search/", "/search/?q=bin", "/search/?q=nothingatall", "/open-data/"])
def test_search_and_open_data_pages_pass_axe(page, assert_accessible, riverside, path):
    response = page.goto(path)
    assert response is not None
    assert response.status == 200
    assert_accessible(page)


def test_a_search_too_long_shows_its_error_and_passes_axe(page, assert_accessible):
    response = page.goto("/search/?q=" + "x" * 201)
    assert response is not None
    assert response.status == 400
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)


def test_searching_without_javascript(no_js_page, riverside):
    no_js_page.goto("/search/")
    no_js_page.get_by_label("Search Local Social").fill("bin")
    no_js_page.get_by_role("button", name="Search").click()
    expect(no_js_page.get_by_role("link", name="The bin men were kind")).to_be_visible()
    expect(no_js_page.get_by_role("link", name="Bin collection")).to_be_visible()


def test_the_account_page_with_work_from_every_role_passes_axe(chromium_browser, live_server, assert_accessible):
    person = RoleGrantFactory(role=SiteRole.MODERATOR).user
    MembershipFactory(user=person, organisation=OrganisationFactory(name="Riverside Council"), role="administrator")
    MemberFactory(user=person, circle=CircleFactory(name="Peckham Circle"))
    circle = CircleFactory(name="Camberwell Circle")
    CoordinatorFactory(user=person, circle=circle)
    HelpRequestFactory(member=MemberFactory(circle=circle))
    StoryFactory(status="pending")
    client = sign_in_verified(Client(), person)
    context = chromium_browser.new_context(base_url=live_server.url)
    context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "ls_cookies_seen", "value": "1", "url": live_server.url},
    ])
    pg = context.new_page()
    pg.goto("/accounts/profile/")
    expect(pg.get_by_role("heading", name="Your work")).to_be_visible()
    expect(pg.get_by_role("link", name="Matching queue: Camberwell Circle")).to_be_visible()
    expect(pg.get_by_role("link", name="Your membership of Peckham Circle")).to_be_visible()
    assert_accessible(pg)
    context.close()
