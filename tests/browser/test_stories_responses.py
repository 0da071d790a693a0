"""Responding in a browser: the respond page (with and without errors, with and without
JavaScript), the conversation on a story page, the moderation queue, the author's answer about
a change, and an organisation's settings and templates all pass axe."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from localsocial.directory.models import StaffRole
from localsocial.stories.models import Progress, Response, ResponseTemplate, Story
from localsocial.stories.services.common import secret_new
from tests.factories import ResponseFactory, RoleGrantFactory
from tests.helpers import sign_in_verified
from tests.stories.test_responses import responder_of, ward_story

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(chromium_browser, live_server, user, *, javascript=True):
    """A browser page signed in as ``user`` with the second factor verified."""
    client = sign_in_verified(Client(), user)
    context = chromium_browser.new_context(base_url=live_server.url, java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "ls_cookies_seen", "value": "1", "url": live_server.url},
    ])
    return context, context.new_page()


def test_the_respond_page_passes_axe_empty_and_with_errors(chromium_browser, live_server, assert_accessible):
    given = ward_story()
    ResponseTemplate.objects.create(organisation=given.hospital, title="Thank you", body="Dear {author_name}, thank you.")
    sam = responder_of(given.hospital)
    context, page = signed_in(chromium_browser, live_server, sam)

    page.goto(f"/stories/{given.story.pk}/respond/")
    assert_accessible(page)

    page.get_by_label("Yes, a change has been made").check()
    expect(page.get_by_label("What change has been made?")).to_be_visible()
    page.get_by_role("button", name="Send response").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(page)
    context.close()


def test_a_responder_uses_a_template_and_claims_a_change_without_javascript(chromium_browser, live_server):
    given = ward_story()
    ResponseTemplate.objects.create(organisation=given.hospital, title="Thank you", body="Dear {author_name}, thank you.")
    sam = responder_of(given.hospital, trusted=True)
    context, page = signed_in(chromium_browser, live_server, sam, javascript=False)

    page.goto(f"/stories/{given.story.pk}/respond/")
    page.get_by_label("Start from a template").select_option(label="Thank you")
    page.get_by_role("button", name="Use this template").click()
    assert page.get_by_label("Your response").input_value() == "Dear Jo from Riverside, thank you."
    page.get_by_label("Yes, a change has been made").check()
    page.get_by_label("What change has been made?").fill("Night staff now check every hour.")
    page.get_by_role("button", name="Send response").click()

    expect(page.get_by_text("Your response has been sent to a moderator")).to_be_visible()
    response = Response.objects.get(story=given.story)
    assert (response.change, response.status) == ("made", "pending")
    assert response.body == "Dear Jo from Riverside, thank you."
    context.close()


def test_the_conversation_with_a_confirmed_change_passes_axe(page, assert_accessible):
    given = ward_story()
    ResponseFactory(story=given.story, organisation=given.hospital, body="Thank you for telling us.")
    ResponseFactory(
        story=given.story, organisation=given.trust, signature="Ali Khan, Chief nurse, Riverside NHS Trust",
        body="We have changed the night rota.", change="made", change_description="A nurse checks every hour.",
        author_confirmed=True, author_confirmed_at=timezone.now(), author_confirmation_note="It is much better.",
        helpful_count=4, not_helpful_count=1,
    )
    Response.objects.create(
        story=given.story, is_author_reply=True, signature="Jo from Riverside (the author)",
        body="Thank you both.", status="published", published_at=timezone.now(),
    )

    page.goto(f"/stories/{given.story.pk}/")

    expect(page.get_by_text("The author confirmed this change happened on")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, helpful").first.click()
    expect(page.get_by_text("Thank you for rating this response")).to_be_visible()
    expect(page.get_by_text("You said it was helpful").first).to_be_visible()


def test_the_moderation_queue_and_reject_page_pass_axe(chromium_browser, live_server, assert_accessible):
    given = ward_story()
    newcomer = responder_of(given.hospital)
    Response.objects.create(
        story=given.story, organisation=given.hospital, responder=newcomer, signature="Sam Patel, Riverside Hospital",
        body="We are sorry.", change="planned", change_description="A new rota from May.",
    )
    Response.objects.create(story=given.story, is_author_reply=True, signature="Jo (the author)", body="Thanks.")
    moderator = RoleGrantFactory().user
    context, page = signed_in(chromium_browser, live_server, moderator)

    page.goto("/stories/moderation/responses/")
    assert_accessible(page)
    page.get_by_role("link", name="Do not publish").first.click()
    page.get_by_role("button", name="Do not publish and email the reason").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(page)
    page.goto("/stories/moderation/responses/")
    page.get_by_role("button", name="Publish").first.click()
    expect(page.get_by_text("has been published")).to_be_visible()
    context.close()


def test_the_author_confirms_a_change_and_progress_shows_changed(page, assert_accessible):
    given = ward_story()
    response = ResponseFactory(
        story=given.story, organisation=given.hospital, change="planned", change_description="A new night rota.",
    )
    secret, token_hash = secret_new()
    Story.objects.filter(pk=given.story.pk).update(author_token_hash=token_hash)

    page.goto(f"/stories/mine/{secret}/responses/{response.pk}/confirm/")
    assert_accessible(page)
    page.get_by_role("button", name="Send your answer").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Yes, it happened").check()
    page.get_by_role("button", name="Send your answer").click()

    expect(page.get_by_text("The author confirmed this change happened on")).to_be_visible()
    assert Story.objects.get(pk=given.story.pk).progress == Progress.CHANGED


@pytest.mark.parametrize("suffix", ["settings/", "templates/", "templates/add/"])
def test_settings_and_template_pages_pass_axe(chromium_browser, live_server, assert_accessible, suffix):
    given = ward_story()
    ResponseTemplate.objects.create(organisation=given.hospital, title="Thank you", body="Thanks.")
    admin = responder_of(given.hospital, role=StaffRole.ADMINISTRATOR)
    context, page = signed_in(chromium_browser, live_server, admin)

    response = page.goto(f"/stories/organisations/{given.hospital.slug}/{suffix}")
    assert response is not None
    assert response.status == 200
    assert_accessible(page)
    if suffix != "templates/":
        page.locator("form[method=post] button[type=submit]").last.click()
        assert_accessible(page)
    context.close()
