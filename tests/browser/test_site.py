import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_page_is_accessible_and_branded(page, assert_accessible):
    page.goto("/")
    assert page.title().endswith("Local Social")
    assert page.locator("h1").inner_text().startswith("Local services")
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "GDS Transport" not in font
    assert page.locator(".govuk-header__logo, .govuk-logo").count() == 0
    assert_accessible(page)


def test_cookie_message_can_be_hidden_without_javascript(no_js_page):
    no_js_page.goto("/cookies/")
    expect(no_js_page.get_by_text("Cookies on Local Social").first).to_be_visible()
    no_js_page.get_by_role("button", name="Hide cookie message").click()
    assert no_js_page.locator(".govuk-cookie-banner").count() == 0
    assert no_js_page.url.endswith("/cookies/")


def test_home_page_fits_a_320px_screen(chromium_browser, live_server):
    context = chromium_browser.new_context(base_url=live_server.url, viewport={"width": 320, "height": 640})
    pg = context.new_page()
    pg.goto("/")
    scroll_width = pg.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 320
    context.close()


def test_switching_to_welsh_keeps_the_page_and_stays_accessible(page, assert_accessible):
    page.goto("/directory/")
    page.get_by_role("button", name="Cymraeg").click()
    page.wait_for_url("**/directory/")
    assert page.locator("html").get_attribute("lang") == "cy"
    expect(page.get_by_role("link", name="Straeon")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/directory/")
    assert page.locator("html").get_attribute("lang") == "en-gb"


@pytest.mark.parametrize(
    "path",
    ["/accounts/sign-in/", "/accounts/sign-up/", "/cookies/", "/accessibility/",
     "/directory/organisations/riverside-council/", "/directory/services/bin-collection/", "/stories/"],
)
def test_pages_fit_a_320px_screen_and_pass_axe(chromium_browser, live_server, axe, path):
    from tests.factories import OrganisationFactory, ServiceFactory

    council = OrganisationFactory(name="Riverside Council", slug="riverside-council", gss_code="E09000099")
    ServiceFactory(organisation=council, name="Bin collection", slug="bin-collection", lgsl_id=524)
    context = chromium_browser.new_context(base_url=live_server.url, viewport={"width": 320, "height": 640})
    pg = context.new_page()
    response = pg.goto(path)
    assert response is not None
    assert response.status == 200
    assert pg.evaluate("document.documentElement.scrollWidth") <= 320, path
    violations = axe.run(pg).response["violations"]
    context.close()
    assert violations == [], [v["id"] for v in violations]


def test_gov_uk_frontend_starts_and_the_content_security_policy_blocks_nothing(page):
    # The policy must let the nonce'd start-up script run: without it GOV.UK Frontend never
    # marks the page as supported and no component (character count, accordions…) starts.
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert "govuk-frontend-supported" in (page.locator("body").get_attribute("class") or "")
    assert violations == []
