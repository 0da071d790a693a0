"""The moderation pages in Chromium: they pass axe, and a moderator can change a story's text,
set its criticality and publish it by clicking, with JavaScript on or off."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from localsocial.accounts.models import SiteRole
from localsocial.stories.models import (
    ProviderNotice,
    RejectionTemplate,
    Story,
    StoryRevision,
    TagSuggestion,
)
from localsocial.stories.services import moderation as services
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    RoleGrantFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_page(chromium_browser, live_server, user, *, javascript: bool = True):
    """A browser page signed in as ``user`` with the second factor verified (the session is
    made by Django's test client)."""
    client = sign_in_verified(Client(), user)
    context = chromium_browser.new_context(base_url=live_server.url, java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "ls_cookies_seen", "value": "1", "url": live_server.url},
    ])
    return context, context.new_page()


@pytest.fixture
def moderation_data():
    moderator = RoleGrantFactory(role=SiteRole.MODERATOR).user
    TagFactory(name="Kind staff", slug="kind-staff", polarity="good")
    TagFactory(name="Waiting time", slug="waiting-time", polarity="improve")
    RejectionTemplate.objects.create(title="Not about a service", body="Your story is not about a public service.")
    story = StoryFactory(
        status="pending", criticality=None, title="Left waiting on the ward",
        body="Nurse Jones left my mum for hours. I felt unsafe. Call me on 07700 900123.",
    )
    services.story_edit(story_id=story.pk, actor=moderator, title=story.title,
                        body="The nurse left my mum for hours. I felt unsafe.", feelings=story.feelings,
                        reason="Removed a name and a phone number")
    TagSuggestion.objects.create(story=story, name="Night staff", polarity="improve")
    held = StoryFactory(status="pending", criticality=5, title="Held story")
    services.story_publish(story_id=held.pk, actor=moderator, hold=True)
    provider = OrganisationFactory(name="Acme Care Ltd", is_private_provider=True)
    admin = MembershipFactory(organisation=provider, role="administrator").user
    noticed = StoryFactory(status="pending", title="About Acme", services=[ServiceFactory(organisation=provider)])
    services.story_publish(story_id=noticed.pk, actor=moderator)
    StoryFactory(title="A published story")
    return {"moderator": moderator, "story": story, "notice": ProviderNotice.objects.get(story=noticed),
            "provider_admin": admin}


@pytest.fixture
def moderator_page(chromium_browser, live_server, moderation_data):
    context, pg = signed_in_page(chromium_browser, live_server, moderation_data["moderator"])
    yield pg
    context.close()


def test_moderation_pages_pass_axe(moderator_page, moderation_data, assert_accessible):
    story = moderation_data["story"]
    for path in [
        "/stories/moderation/",
        f"/stories/moderation/{story.pk}/",
        f"/stories/moderation/{story.pk}/edit/",
        f"/stories/moderation/{story.pk}/reject/",
        f"/stories/moderation/{Story.objects.get(title='A published story').pk}/restrict/",
        "/stories/moderation/templates/",
        "/stories/moderation/templates/add/",
        "/stories/moderation/figures/",
    ]:
        response = moderator_page.goto(path)
        assert response is not None
        assert response.status == 200, path
        assert_accessible(moderator_page)


def test_the_story_page_shows_the_diff_to_screen_readers(moderator_page, moderation_data):
    moderator_page.goto(f"/stories/moderation/{moderation_data['story'].pk}/")
    removed = moderator_page.locator("del.ls-diff__del").all_text_contents()
    assert any(text.startswith("[removed: ") and "Jones" in text and text.endswith("end of removed text]")
               for text in removed), removed
    added = moderator_page.locator("ins.ls-diff__ins").all_text_contents()
    assert any(text.startswith("[added: ") for text in added), added


def test_forms_with_errors_pass_axe(moderator_page, moderation_data, assert_accessible):
    story = moderation_data["story"]
    moderator_page.goto(f"/stories/moderation/{story.pk}/reject/")
    moderator_page.get_by_role("button", name="Do not publish and tell the author").click()
    expect(moderator_page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(moderator_page)
    moderator_page.goto(f"/stories/moderation/{story.pk}/edit/")
    moderator_page.get_by_label("Why are you changing it?").fill("")
    moderator_page.get_by_role("button", name="Save changes").click()
    expect(moderator_page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(moderator_page)


def test_the_provider_notice_page_passes_axe(chromium_browser, live_server, moderation_data, assert_accessible):
    context, pg = signed_in_page(chromium_browser, live_server, moderation_data["provider_admin"])
    try:
        response = pg.goto(f"/stories/moderation/notices/{moderation_data['notice'].pk}/")
        assert response is not None
        assert response.status == 200
        assert_accessible(pg)
        pg.get_by_role("button", name="Ask for a review").click()
        expect(pg.get_by_text("There is a problem")).to_be_visible()
        assert_accessible(pg)
        pg.get_by_label("What would you like the moderators to review?").fill("It names our manager.")
        pg.get_by_role("button", name="Ask for a review").click()
        expect(pg.get_by_text("You asked for a review")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_moderator_edits_sets_criticality_and_publishes(chromium_browser, live_server, moderation_data, javascript):
    context, pg = signed_in_page(chromium_browser, live_server, moderation_data["moderator"], javascript=javascript)
    try:
        pg.goto("/stories/moderation/")
        pg.get_by_role("link", name="Left waiting on the ward").click()
        pg.get_by_role("link", name="Change the text").click()
        pg.get_by_label("What happened").fill("The nurse left my mum for hours.")
        pg.get_by_label("Why are you changing it?").fill("Shortened")
        pg.get_by_role("button", name="Save changes").click()
        expect(pg.get_by_text("Your changes are saved.")).to_be_visible()
        pg.get_by_label("Moderately critical").check()
        pg.get_by_role("button", name="Save criticality").click()
        expect(pg.get_by_text("Criticality saved.")).to_be_visible()
        pg.get_by_label("Kind staff (What was good)").check()
        pg.get_by_role("button", name="Save tags").click()
        expect(pg.get_by_text("Tags saved.")).to_be_visible()
        pg.get_by_role("button", name="Publish", exact=True).click()
        expect(pg.get_by_text("The story is published.")).to_be_visible()
    finally:
        context.close()
    story = Story.objects.get(pk=moderation_data["story"].pk)
    assert story.status == "published"
    assert story.criticality == 3
    assert list(story.tags.values_list("name", flat=True)) == ["Kind staff"]
    assert StoryRevision.objects.filter(story=story, kind="moderator").count() == 2
