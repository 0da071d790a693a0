"""The whole Stories loop in Chromium, as the people in it would live it:

a resident tells a story (and fixes a personal-data warning the page shows as they type) →
a moderator edits it and sets its criticality → publishes it → the service's responder gets
the alert email → responds in public → the author rates the response helpful → the service
marks a change made → a moderator publishes the claim → the author confirms it happened → the
public page shows the story's progress as *Changed*.  axe checks every page on the way."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from localsocial.accounts.models import SiteRole
from localsocial.stories.models import AlertSubscription, Progress, Response, Story
from localsocial.stories.services.submission import month_add
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    RoleGrantFactory,
    ServiceFactory,
    TagFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db(transaction=True)


def _signed_in_page(chromium_browser, live_server, user):
    client = sign_in_verified(Client(), user)
    context = chromium_browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "ls_cookies_seen", "value": "1", "url": live_server.url},
    ])
    return context.new_page()


def _link_in_last_email_to(address: str, pattern: str) -> str:
    for message in reversed(mail.outbox):
        if address in message.to:
            match = re.search(pattern, message.body)
            if match:
                return match.group(0)
    raise AssertionError(f"No email to {address} with {pattern}; subjects: {[m.subject for m in mail.outbox]}")


def test_a_story_goes_from_told_to_changed(page, chromium_browser, live_server, assert_accessible, settings):
    settings.STORIES_RESPONDER_TRUSTED_AFTER = 0  # this responder is trusted; change claims are still moderated
    # Given a council with a ward service, its responder with an immediate alert, and a moderator.
    council = OrganisationFactory(name="Riverside Council", slug="riverside")
    ServiceFactory(organisation=council, name="Riverside Ward", slug="riverside-ward")
    TagFactory(name="Kind staff", slug="kind-staff", polarity="good")
    responder = MembershipFactory(
        organisation=council, role="responder", job_title="Patient experience lead",
        user__display_name="Sam Patel", user__email="sam@riverside.example",
    ).user
    AlertSubscription.objects.create(user=responder, name="All Riverside stories", organisation=council)
    moderator = RoleGrantFactory(role=SiteRole.MODERATOR).user
    page.context.add_cookies([{"name": "ls_cookies_seen", "value": "1", "url": live_server.url}])

    # 1. The resident finds the service without knowing its organisation.
    page.goto("/stories/tell/")
    assert_accessible(page)
    page.get_by_label("Search for a service").fill("riverside")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Riverside Ward").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("What happened?")).to_be_visible()
    assert_accessible(page)

    # 2. They write their story; the page warns about a phone number as they type.
    month = month_add(timezone.localdate().replace(day=1), -1)
    page.get_by_label("Give your story a title").fill("Left waiting for pain relief at night")
    page.get_by_label("What happened?").fill(
        "My mother waited three hours for pain relief. The nurses were kind but too few. "
        "Call me on 07700 900123 if you want to know more."
    )
    warning = page.locator("#pd-body mark")
    warning.wait_for()
    assert warning.inner_text() == "07700 900123"
    assert_accessible(page)
    page.get_by_label("What happened?").fill(
        "My mother waited three hours for pain relief. The nurses were kind but too few."
    )
    page.locator("#pd-body mark").wait_for(state="detached")
    page.get_by_label("Kind staff").check()
    page.get_by_label("Month").fill(str(month.month))
    page.get_by_label("Year").fill(str(month.year))
    page.get_by_label("I am a relative or friend").check()
    page.get_by_label("The name to show with your story").fill("Worried daughter")
    page.get_by_label("Your email address").fill("daughter@example.org")
    page.get_by_role("button", name="Send your story").click()
    expect(page.get_by_role("heading", name="Story sent")).to_be_visible()
    assert_accessible(page)
    story = Story.objects.get()
    assert "07700" not in story.body
    author_link = _link_in_last_email_to("daughter@example.org", r"/stories/mine/[\w-]+/")
    page.goto(author_link)
    expect(page.get_by_text("waiting for a moderator to read it")).to_be_visible()
    assert_accessible(page)

    # 3. A moderator edits it, sets its criticality and publishes it.
    mod = _signed_in_page(chromium_browser, live_server, moderator)
    mod.goto("/stories/moderation/")
    assert_accessible(mod)
    with mod.expect_navigation():
        mod.get_by_role("link", name="Left waiting for pain relief at night").click()
    assert_accessible(mod)
    with mod.expect_navigation():
        mod.get_by_role("link", name="Change the text").click()
    assert_accessible(mod)
    mod.get_by_label("What happened").fill("My mother waited three hours for pain relief. The nurses were kind.")
    mod.get_by_label("Why are you changing it?").fill("Shortened a sentence that could identify a shift")
    mod.get_by_role("button", name="Save changes").click()
    expect(mod.get_by_text("Your changes are saved.")).to_be_visible()
    assert_accessible(mod)  # with the diff against the original
    mod.get_by_label("Moderately critical").check()
    mod.get_by_role("button", name="Save criticality").click()
    expect(mod.get_by_text("Criticality saved.")).to_be_visible()
    mod.get_by_role("button", name="Publish", exact=True).click()
    expect(mod.get_by_text("The story is published.")).to_be_visible()

    # 4. The public page shows it; the responder gets the alert email.
    page.goto(f"/stories/{story.pk}/")
    expect(page.get_by_role("heading", name="Left waiting for pain relief at night")).to_be_visible()
    assert_accessible(page)
    alert_link = _link_in_last_email_to("sam@riverside.example", rf"/stories/{story.pk}/")
    assert alert_link

    # 5. The responder opens it (staff have read it) and responds in public.
    staff = _signed_in_page(chromium_browser, live_server, responder)
    staff.goto(f"/stories/{story.pk}/")
    with staff.expect_navigation():
        staff.get_by_role("link", name="Respond").first.click()
    assert_accessible(staff)
    staff.get_by_label("Your response").fill(
        "Thank you for telling us. We are sorry your mother waited so long. We are looking at night staffing."
    )
    staff.get_by_role("button", name="Send response").click()
    expect(staff.get_by_text("Your response has been published")).to_be_visible()
    assert_accessible(staff)

    # 6. The author rates the response helpful from their private page.
    page.goto(author_link)
    page.get_by_role("button", name="Yes, helpful").first.click()
    expect(page.get_by_text("Thank you for rating this response")).to_be_visible()
    assert_accessible(page)

    # 7. The service marks a change made; a moderator publishes the claim.
    staff.goto(f"/stories/{story.pk}/respond/")
    staff.get_by_label("Your response").fill("We have added a second nurse to the night shift.")
    staff.get_by_label("Yes, a change has been made").check()
    staff.get_by_label("What change has been made?").fill("A second nurse on every night shift from this month.")
    staff.get_by_role("button", name="Send response").click()
    expect(staff.get_by_text("Your response has been sent to a moderator")).to_be_visible()
    mod.goto("/stories/moderation/responses/")
    assert_accessible(mod)
    mod.get_by_role("button", name="Publish").first.click()
    expect(mod.get_by_text("has been published")).to_be_visible()

    # 8. The author is asked whether it happened, and confirms.
    confirm_link = _link_in_last_email_to("daughter@example.org", r"/stories/mine/[\w-]+/")
    page.goto(confirm_link)
    change = Response.objects.get(story=story, change="made")
    page.goto(f"{author_link}responses/{change.pk}/confirm/")
    assert_accessible(page)
    page.get_by_label("Yes, it happened").check()
    page.get_by_role("button", name="Send your answer").click()

    # 9. Everyone sees the story has led to a change.
    page.goto(f"/stories/{story.pk}/")
    expect(page.get_by_text("The author confirmed this change happened on")).to_be_visible()
    assert_accessible(page)
    story.refresh_from_db()
    assert story.progress == Progress.CHANGED
    assert story.read_at is not None
    assert story.heard_at is not None
    progress_text = page.locator("main").inner_text()
    assert "Changed" in progress_text
    assert Response.objects.get(story=story, change="").helpful_count == 1
    for context_page in (mod, staff):
        context_page.context.close()


def test_the_form_for_entering_a_story_for_someone_passes_axe_with_and_without_errors(
    chromium_browser, live_server, assert_accessible
):
    council = OrganisationFactory(name="Riverside Council", slug="riverside")
    ServiceFactory(organisation=council, name="Riverside Ward", slug="riverside-ward")
    staff = MembershipFactory(organisation=council, role="member").user
    page = _signed_in_page(chromium_browser, live_server, staff)

    page.goto("/stories/tell/assisted/")
    assert_accessible(page)
    page.get_by_label("Search for a service").fill("riverside")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Riverside Ward").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("What happened?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send the story").or_(page.get_by_role("button", name="Send your story")).click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(page)  # with every error, consent included
    page.context.close()
