"""Pages for staff and administrators pass axe, with and without errors on their forms."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from localsocial.accounts.models import SiteRole
from tests.factories import MembershipFactory, OrganisationFactory, RoleGrantFactory
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_page(chromium_browser, live_server):
    """A browser signed in as a site administrator who is also an organisation administrator,
    with the second factor verified (the session is made by Django's test client)."""
    council = OrganisationFactory(name="Riverside Council", slug="riverside")
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    MembershipFactory(user=admin, organisation=council, role="administrator")
    staff = MembershipFactory(organisation=council, role="responder")
    client = sign_in_verified(Client(), admin)
    context = chromium_browser.new_context(base_url=live_server.url)
    context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "ls_cookies_seen", "value": "1", "url": live_server.url},
    ])
    page = context.new_page()
    page.staff_membership_id = staff.pk  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/people/",
        "/accounts/profile/",
        "/accounts/profile/your-data/",
        "/accounts/profile/delete/",
        "/directory/import/",
        "/directory/organisations/riverside/staff/",
        "/directory/organisations/riverside/staff/add/",
    ],
)
def test_staff_and_admin_pages_pass_axe(admin_page, assert_accessible, path):
    response = admin_page.goto(path)
    assert response is not None
    assert response.status == 200
    assert_accessible(admin_page)


def test_staff_change_and_remove_pages_pass_axe(admin_page, assert_accessible):
    membership_id = admin_page.staff_membership_id
    for path in [f"/directory/organisations/riverside/staff/{membership_id}/",
                 f"/directory/organisations/riverside/staff/{membership_id}/remove/"]:
        response = admin_page.goto(path)
        assert response is not None
        assert response.status == 200, path
        assert_accessible(admin_page)


def test_a_form_with_errors_passes_axe(admin_page, assert_accessible):
    admin_page.goto("/directory/organisations/riverside/staff/add/")
    admin_page.get_by_role("button", name="Add").first.click()
    expect(admin_page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(admin_page)
