"""Telling a story in Chromium: the journey's first step with a personal-data warning shown
as you type and fixed, without JavaScript too, and axe on every page of it."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from localsocial.stories.models import Story
from localsocial.stories.services.submission import month_add
from tests.factories import ServiceFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def services(db):
    TagFactory(name="Kind staff", slug="kind-staff", polarity="good")
    TagFactory(name="Waiting time", slug="waiting-time", polarity="improve")
    return [
        ServiceFactory(name="Riverside Ward", organisation__name="City Hospital"),
        ServiceFactory(name="Riverside Pharmacy", organisation__name="High Street Pharmacy"),
    ]


def _quiet_cookies(pg, live_server) -> None:
    pg.context.add_cookies([{"name": "ls_cookies_seen", "value": "1", "url": live_server.url}])


def _choose_service(pg, assert_accessible) -> None:
    response = pg.goto("/stories/tell/")
    assert response is not None
    assert response.status == 200
    assert_accessible(pg)  # the empty search step
    pg.get_by_label("Search for a service").fill("riverside")
    pg.get_by_role("button", name="Search").click()
    pg.get_by_label("Riverside Ward").check()
    assert_accessible(pg)  # with results
    pg.get_by_role("button", name="Continue").click()
    expect(pg.get_by_role("heading", name="Your story", exact=True)).to_be_visible()


def _fill_story(pg, body: str) -> None:
    month = month_add(timezone.localdate().replace(day=1), -1)
    pg.get_by_label("Give your story a title").fill("Kind staff, long wait")
    pg.get_by_label("What happened?").fill(body)
    pg.get_by_label("Kind staff").check()
    pg.get_by_label("Month").fill(str(month.month))
    pg.get_by_label("Year").fill(str(month.year))
    pg.get_by_label("I used the service").check()
    pg.get_by_label("The name to show with your story").fill("Local resident")
    pg.get_by_label("Your email address").fill("teller@example.org")


def test_telling_a_story_with_a_warning_shown_as_you_type_and_fixed(page, live_server, services, assert_accessible):
    _quiet_cookies(page, live_server)
    _choose_service(page, assert_accessible)
    assert_accessible(page)  # the empty story step

    _fill_story(page, "The doctor was kind. Ring me on 07700 900123 if you need to.")
    warning = page.locator("#pd-body mark")
    warning.wait_for()
    assert warning.inner_text() == "07700 900123"
    assert "This looks like a phone number" in page.locator("#pd-body").inner_text()
    assert_accessible(page)  # with a warning drawn by JavaScript

    page.get_by_label("What happened?").fill("The doctor was kind and the wait was short.")
    page.locator("#pd-body mark").wait_for(state="detached")
    page.get_by_role("button", name="Send your story").click()

    expect(page.get_by_role("heading", name="Story sent")).to_be_visible()
    assert_accessible(page)
    story = Story.objects.get()
    assert story.body == "The doctor was kind and the wait was short."

    secret = re.search(r"/stories/mine/([\w-]+)/", mail.outbox[0].body).group(1)
    page.goto(f"/stories/mine/{secret}/")
    expect(page.get_by_text("waiting for a moderator to read it")).to_be_visible()
    assert_accessible(page)
    page.goto(f"/stories/mine/{secret}/edit/")
    assert_accessible(page)
    page.goto(f"/stories/mine/{secret}/withdraw/")
    assert_accessible(page)


def test_a_form_with_errors_passes_axe(page, live_server, services, assert_accessible):
    _quiet_cookies(page, live_server)
    _choose_service(page, assert_accessible)

    page.get_by_role("button", name="Send your story").click()

    expect(page.get_by_text("There is a problem")).to_be_visible()
    expect(page.get_by_role("link", name="Enter a title for your story")).to_be_visible()
    assert_accessible(page)


def _choose_service_without_axe(pg) -> None:
    pg.goto("/stories/tell/")
    pg.get_by_label("Search for a service").fill("riverside")
    pg.get_by_role("button", name="Search").click()
    pg.get_by_label("Riverside Ward").check()
    pg.get_by_role("button", name="Continue").click()
    expect(pg.get_by_role("heading", name="Your story", exact=True)).to_be_visible()


def test_telling_a_story_without_javascript_with_the_warnings_confirmed(no_js_page, live_server, services):
    # (axe needs JavaScript: the same server-drawn pages are checked in the next test.)
    page = no_js_page
    _quiet_cookies(page, live_server)
    _choose_service_without_axe(page)
    _fill_story(page, "Nurse Jones was lovely.")

    page.get_by_role("button", name="Check for personal details").click()
    assert page.locator("#pd-body mark").inner_text() == "Jones"

    page.get_by_role("button", name="Send your story").click()
    expect(page.get_by_text("Check before you send")).to_be_visible()
    assert not Story.objects.exists()

    page.get_by_label("I have checked, send it anyway").check()
    page.get_by_role("button", name="Send your story").click()
    expect(page.get_by_role("heading", name="Story sent")).to_be_visible()
    assert Story.objects.get().body == "Nurse Jones was lovely."


def test_the_checked_form_and_the_warning_panel_pass_axe(page, live_server, services, assert_accessible):
    _quiet_cookies(page, live_server)
    _choose_service_without_axe(page)
    _fill_story(page, "Nurse Jones was lovely. My postcode is SE1 7EH.")

    page.get_by_role("button", name="Check for personal details").click()
    expect(page.locator("#pd-checked")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Send your story").click()
    expect(page.get_by_text("Check before you send")).to_be_visible()
    assert_accessible(page)


def test_the_lost_link_pages_pass_axe(page, live_server, assert_accessible):
    _quiet_cookies(page, live_server)
    page.goto("/stories/mine/")
    assert_accessible(page)
    page.get_by_role("button", name="Send me the links").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email address").fill("someone@example.org")
    page.get_by_role("button", name="Send me the links").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_accessible(page)
