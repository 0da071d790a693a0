"""Browser journeys through the directory, with and without JavaScript, checked by axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from localsocial.directory.models import OrganisationType
from tests.factories import OrganisationFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def directory():
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside-trust", org_type=OrganisationType.NHS_TRUST,
                                ods_code="RJ1")
    hospital = OrganisationFactory(name="Riverside General Hospital", slug="riverside-general",
                                   org_type=OrganisationType.HOSPITAL, parent=trust, postcode="SE1 7EH",
                                   website="https://riverside.example.org", phone="020 7946 0000")
    OrganisationFactory(name="Maternity", slug="riverside-maternity", org_type=OrganisationType.DEPARTMENT,
                        parent=hospital)
    ServiceFactory(organisation=hospital, name="Antenatal clinic", slug="antenatal", lgsl_id=1234,
                   address="1 River Road\nNorthgate", postcode="SE1 7EH")
    for n in range(25):
        OrganisationFactory(name=f"Council {n:02d}", slug=f"council-{n:02d}")
    return hospital


def test_find_an_organisation_and_its_service(page, assert_accessible, directory):
    # From the home page, follow "Directory"
    page.goto("/")
    page.get_by_role("link", name="Directory", exact=True).first.click()
    page.wait_for_url("**/directory/")
    assert page.locator("h1").inner_text() == "Directory of organisations and services"
    assert_accessible(page)
    # Search for the organisation
    page.get_by_label("Search the directory").fill("riverside general")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/directory/search/**")
    assert "Results for “riverside general”" in page.locator("#results").inner_text()
    assert_accessible(page)
    # Open it
    page.get_by_role("link", name="Riverside General Hospital").click()
    page.wait_for_url("**/organisations/riverside-general/")
    assert page.locator("h1").inner_text() == "Riverside General Hospital"
    assert page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Riverside NHS Trust").is_visible()
    assert_accessible(page)
    # Open one of its services
    page.get_by_role("link", name="Antenatal clinic").click()
    page.wait_for_url("**/services/antenatal/")
    assert page.locator("h1").inner_text() == "Antenatal clinic"
    assert "1234" in page.locator(".govuk-summary-list").inner_text()
    assert_accessible(page)


def test_search_works_without_javascript(no_js_page, directory):
    # (axe runs as JavaScript, so it cannot check this page; the journey above checks the same
    # pages with JavaScript on.)
    no_js_page.goto("/directory/")
    no_js_page.get_by_label("Search the directory").fill("se1")
    no_js_page.get_by_role("button", name="Search").click()
    no_js_page.wait_for_url("**/directory/search/**")
    results = no_js_page.locator("#results + ul").inner_text()
    assert "Riverside General Hospital" in results
    assert "Antenatal clinic" in results
    # Narrow to services, still without JavaScript
    no_js_page.get_by_label("Services only").check()
    no_js_page.get_by_role("button", name="Search").click()
    assert no_js_page.locator("#results + ul a").all_inner_texts() == ["Antenatal clinic"]
    # An empty search shows the error summary
    no_js_page.get_by_label("Search the directory").fill("")
    no_js_page.get_by_role("button", name="Search").click()
    expect(no_js_page.locator(".govuk-error-summary")).to_be_visible()


def test_the_paginated_directory_is_accessible(page, assert_accessible, directory):
    page.goto("/directory/")
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url("**cursor=**")
    expect(page.get_by_role("link", name="Previous page")).to_be_visible()
    assert_accessible(page)


def test_the_directory_fits_a_320px_screen(chromium_browser, live_server, directory):
    context = chromium_browser.new_context(base_url=live_server.url, viewport={"width": 320, "height": 640})
    pg = context.new_page()
    for url in ("/directory/", "/directory/search/?q=riverside", "/directory/organisations/riverside-general/",
                "/directory/services/antenatal/"):
        pg.goto(url)
        assert pg.evaluate("document.documentElement.scrollWidth") <= 320, url
    context.close()
