"""Browser checks of the public story pages, lists, search, widget and open data: axe on each,
and "this happened to me too" and following without JavaScript."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from localsocial.directory.models import OrganisationType
from localsocial.stories.services.events import story_hidden_effects
from tests.factories import OrganisationFactory, ServiceFactory, StoryFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stories():
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside", org_type=OrganisationType.NHS_TRUST)
    service = ServiceFactory(organisation=OrganisationFactory(parent=trust), name="Antenatal clinic", slug="antenatal")
    good = TagFactory(name="Kind staff", slug="kind-staff", polarity="good")
    bad = TagFactory(name="Waiting time", slug="waiting-time", polarity="improve")
    published = StoryFactory(
        title="The midwife listened", body="I was scared.\n\nThe midwife sat with me and explained every step.",
        feelings="Safe.", services=[service], tags=[good, bad], age_group="25_34",
    )
    for n in range(24):
        StoryFactory(title=f"Clinic story {n}", body="The clinic nurse was kind. We waited.", services=[service])
    restricted = StoryFactory(title="Restricted", services=[service])
    restricted.status, restricted.restricted_by = "restricted", "the moderators"
    restricted.restriction_reason = "it may identify a member of staff"
    restricted.save()
    story_hidden_effects(story=restricted)
    withdrawn = StoryFactory(title="Withdrawn", services=[service])
    withdrawn.status, withdrawn.withdrawn_at = "withdrawn", timezone.now()
    withdrawn.save()
    story_hidden_effects(story=withdrawn)
    return {"published": published, "restricted": restricted, "withdrawn": withdrawn}


def test_story_pages_and_stubs_are_accessible(page, assert_accessible, stories):
    page.goto(f"/stories/{stories['published'].pk}/")
    assert page.locator("h1").inner_text() == "The midwife listened"
    assert page.locator("[aria-current=step]").inner_text().startswith("Unheard")
    assert_accessible(page)
    page.goto(f"/stories/{stories['restricted'].pk}/")
    assert "restricted by the moderators: it may identify a member of staff" in page.locator("#stub").inner_text()
    assert_accessible(page)
    page.goto(f"/stories/{stories['withdrawn'].pk}/")
    assert page.locator("#stub").inner_text() == "The author withdrew this story."
    assert_accessible(page)


def test_lists_filters_search_and_errors_are_accessible(page, assert_accessible, stories):
    page.goto("/stories/")
    assert_accessible(page)
    # Search, then filter, with the form
    page.get_by_label("Search stories").fill("midwife")
    page.get_by_role("button", name="Search and filter").click()
    page.wait_for_url("**q=midwife**")
    expect(page.get_by_role("link", name="The midwife listened")).to_be_visible()
    assert_accessible(page)
    page.goto("/stories/organisations/riverside/?progress=0&sort=oldest")
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url("**cursor=**")
    expect(page.get_by_role("link", name="Previous page")).to_be_visible()
    assert_accessible(page)
    # A bad date: the error summary links to the field
    page.goto("/stories/?published_from=31/2/2026")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)


def test_widget_help_widget_and_open_data_are_accessible(page, assert_accessible, stories):
    page.goto("/stories/widget/?service=antenatal")
    assert "widget/services/antenatal/" in page.locator("#snippet").input_value()
    assert_accessible(page)
    page.goto("/stories/widget/services/antenatal/")
    assert page.locator("h1").inner_text() == "Stories about Antenatal clinic"
    assert_accessible(page)
    page.goto("/stories/open-data/")
    assert_accessible(page)


def test_me_too_and_follow_work_without_javascript(no_js_page, stories):
    url = f"/stories/{stories['published'].pk}/"
    no_js_page.goto(url)
    no_js_page.get_by_role("button", name="This happened to me too").click()
    no_js_page.wait_for_url(f"**{url}**")
    assert "We have added you to the people this happened to." in no_js_page.locator(".govuk-notification-banner").inner_text()
    assert no_js_page.locator("#me-too-count").inner_text() == "1 person has said this happened to them too."
    # Following by email
    no_js_page.get_by_role("link", name="Follow this story by email").click()
    no_js_page.get_by_label("Email address").fill("reader@example.org")
    no_js_page.get_by_role("button", name="Send me a link to confirm").click()
    assert no_js_page.locator("h1").inner_text() == "Check your email"
