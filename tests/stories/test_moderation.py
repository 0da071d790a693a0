"""The moderation pages: who may see them, the queue, one story's page and its decisions,
rejection templates and the private provider's notice page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from localsocial.accounts.models import SiteRole
from localsocial.core.models import AuditEvent
from localsocial.stories.models import (
    ListingScope,
    ProviderDecision,
    ProviderNotice,
    RejectionTemplate,
    Story,
    StoryListing,
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
    UserFactory,
)
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls_loaded():
    # Load the URLconf before any test freezes the clock: the API's schemas, built on import,
    # cannot be made from freezegun's fake datetime class.
    from django.urls import get_resolver

    assert get_resolver().url_patterns

QUEUE = "/stories/moderation/"


@pytest.fixture
def moderator():
    return RoleGrantFactory(role=SiteRole.MODERATOR).user


@pytest.fixture
def mod_client(moderator):
    return sign_in_verified(CommittingClient(), moderator)


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


# --- Who may see the pages ---------------------------------------------------------------------

def story_paths(story: Story) -> list[str]:
    return [f"{QUEUE}{story.pk}/", f"{QUEUE}{story.pk}/edit/", f"{QUEUE}{story.pk}/reject/"]


def test_someone_signed_out_is_sent_to_sign_in():
    story = StoryFactory(status="pending")
    for path in [QUEUE, *story_paths(story), f"{QUEUE}templates/", f"{QUEUE}figures/"]:
        response = Client().get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("accounts:sign_in")), path


@pytest.mark.parametrize("who", ["public", "staff", "author"])
def test_only_moderators_see_the_moderation_pages(who):
    story = StoryFactory(status="pending", author_email="private.author@example.org",
                         body="Original words only moderators read.")
    if who == "public":
        user, client = UserFactory(), Client()
        client.force_login(user)
    elif who == "staff":
        org = story.story_services.first().service.organisation
        user = MembershipFactory(organisation=org, role="administrator").user
        client = sign_in_verified(Client(), user)
    else:
        user = UserFactory(email="private.author@example.org")
        Story.objects.filter(pk=story.pk).update(author=user)
        client = Client()
        client.force_login(user)
    for path in [QUEUE, *story_paths(story), f"{QUEUE}templates/", f"{QUEUE}figures/", f"{QUEUE}templates/add/"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "private.author@example.org" not in response.content.decode()
    for path in [f"{QUEUE}{story.pk}/publish/", f"{QUEUE}{story.pk}/criticality/"]:
        assert client.post(path, {"criticality": "5"}).status_code == 403
    story.refresh_from_db()
    assert story.status == "pending"
    assert story.criticality == 0


def test_the_public_story_page_never_shows_the_original_text_or_the_email(mod_client, moderator):
    story = StoryFactory(status="pending", author_email="hidden@example.org", body="Dr Zebedee was rude.")
    services.story_edit(story_id=story.pk, actor=moderator, title=story.title, body="The doctor was rude.",
                        feelings="", reason="Name")
    services.story_publish(story_id=story.pk, actor=moderator)
    public_path = reverse("stories:story", kwargs={"pk": story.pk})
    for client in (Client(), mod_client):
        html = client.get(public_path).content.decode()
        assert "The doctor was rude." in html
        assert "Zebedee" not in html
        assert "hidden@example.org" not in html


def test_a_post_without_the_csrf_token_is_refused(moderator):
    story = StoryFactory(status="pending")
    client = sign_in_verified(Client(enforce_csrf_checks=True), moderator)
    assert client.post(f"{QUEUE}{story.pk}/publish/").status_code == 403
    story.refresh_from_db()
    assert story.status == "pending"


# --- The queue ---------------------------------------------------------------------------------

@pytest.mark.clock("2026-11-27 12:00:00")
def test_the_queue_shows_urgent_stories_first_then_the_oldest_with_time_waiting(mod_client):
    now = timezone.now()
    plain_old = StoryFactory(status="pending", criticality=None, title="Old plain", submitted_at=now - dt.timedelta(days=2))
    plain_new = StoryFactory(status="pending", criticality=None, title="New plain", submitted_at=now - dt.timedelta(hours=3))
    worded = StoryFactory(status="pending", criticality=None, title="Worded", body="I felt unsafe on the ward.",
                          submitted_at=now - dt.timedelta(minutes=20))
    critical = StoryFactory(status="pending", criticality=5, title="Triaged critical",
                            submitted_at=now - dt.timedelta(hours=1))
    # Triaged as not very critical: a moderator's judgement beats the word list.
    StoryFactory(status="pending", criticality=1, title="Triaged mild", body="My father died peacefully.",
                 submitted_at=now - dt.timedelta(hours=5))
    StoryFactory(title="Already published")
    html = page(mod_client, QUEUE)
    order = [html.index(t) for t in ("Triaged critical", "Worded", "Old plain", "Triaged mild", "New plain")]
    assert order == sorted(order)
    assert "Already published" not in html
    assert "5 stories waiting" in html
    assert "The oldest has waited 2 days." in html
    assert "3 hours" in html
    assert "20 minutes" in html
    assert html.count("May be very critical") == 1
    assert html.count("Very critical") == 1
    assert [plain_old, plain_new, worded, critical]  # all built
    assert 'href="/stories/moderation/responses/"' in html
    assert "Responses waiting" in html


def test_the_queue_pages_with_a_cursor(mod_client, settings):
    settings.PAGE_SIZE = 2
    now = timezone.now()
    titles = [f"Queued {i}" for i in range(5)]
    for i, title in enumerate(titles):
        StoryFactory(status="pending", criticality=None, title=title, submitted_at=now - dt.timedelta(hours=10 - i))
    first = page(mod_client, QUEUE)
    assert "Queued 0" in first
    assert "Queued 1" in first
    assert "Queued 2" not in first
    cursor = first.split("cursor=")[1].split('"')[0].replace("&amp;", "&")
    second = page(mod_client, f"{QUEUE}?cursor={cursor}")
    assert "Queued 2" in second
    assert "Queued 3" in second
    assert "Queued 0" not in second
    assert mod_client.get(f"{QUEUE}?cursor=forged").status_code == 404


@pytest.mark.clock("2026-11-27 10:00:00")
def test_the_queue_shows_held_stories_notices_and_review_requests(mod_client, moderator):
    held = StoryFactory(status="pending", criticality=4, title="Held story")
    services.story_publish(story_id=held.pk, actor=moderator, hold=True)
    provider = OrganisationFactory(name="Acme Care Ltd", is_private_provider=True)
    admin = MembershipFactory(organisation=provider, role="administrator").user
    waiting = StoryFactory(status="pending", title="Waiting for Acme", services=[ServiceFactory(organisation=provider)])
    reviewed = StoryFactory(status="pending", title="Reviewed by Acme", services=[ServiceFactory(organisation=provider)])
    services.story_publish(story_id=waiting.pk, actor=moderator)
    services.story_publish(story_id=reviewed.pk, actor=moderator)
    notice = ProviderNotice.objects.get(story=reviewed)
    services.provider_notice_ask_review(notice_id=notice.pk, actor=admin, note="Names our manager")
    html = page(mod_client, QUEUE)
    reviews = html.index("Providers asked for a review")
    assert reviews < html.index("Reviewed by Acme") < html.index("Waiting for moderation")
    assert "Names our manager" in html
    assert "held until 1 December 2026, 10:00" in html
    assert "Acme Care Ltd: Waiting for the provider (deadline 30 November 2026, 10:00)" in html


# --- One story ---------------------------------------------------------------------------------

def test_the_story_page_shows_private_details_highlights_and_the_diff(mod_client, moderator):
    entered_by = MembershipFactory(role="responder").user
    story = StoryFactory(
        status="pending", author_email="jo@example.org", route="phone", entered_by=entered_by,
        consent_given_at=timezone.now(), consent_note="Said yes on the phone",
        body="Nurse Jones said <b>no</b>. Ring 07700 900123.", criticality=None,
    )
    services.story_edit(story_id=story.pk, actor=moderator, title=story.title,
                        body="The nurse said <b>no</b>.", feelings=story.feelings, reason="Removed a name")
    Story.objects.filter(pk=story.pk).update(body="The nurse said <b>no</b>. Ring 07700 900123.")
    duplicate = StoryFactory(status="rejected", text_hash=story.text_hash, title="Sent twice")
    TagSuggestion.objects.create(story=story, name="Kind porter", polarity="good")
    html = page(mod_client, f"{QUEUE}{story.pk}/")
    assert "jo@example.org" in html
    assert "Phone call (assisted)" in html
    assert entered_by.email in html
    assert "Said yes on the phone" in html
    # The original, the moderator's edit as a diff (escaped), and the reason.
    assert "Nurse Jones said &lt;b&gt;no&lt;/b&gt;" in html
    assert "<b>no</b>" not in html
    assert '<del class="ls-diff__del"><span class="govuk-visually-hidden">[removed: </span>' in html
    assert "Reason: Removed a name" in html
    # Personal data in the current text is marked.
    assert '<mark class="ls-personal-data">07700 900123' in html
    assert "Sent twice" in html
    assert f"{QUEUE}{duplicate.pk}/" in html
    assert "Kind porter" in html


def test_the_diff_escapes_and_marks_changes():
    from localsocial.stories.selectors.moderation import text_diff_html

    html = str(text_diff_html("a <i>b</i> c", "a <i>B</i> c d"))
    assert "<i>" not in html
    assert "&lt;i&gt;" in html
    assert '<del class="ls-diff__del"><span class="govuk-visually-hidden">[removed: </span>b' in html
    assert "[added: </span>B" in html
    assert "[added: </span> d" in html


def test_editing_needs_a_reason_and_then_keeps_the_original(mod_client):
    story = StoryFactory(status="pending", body="Dr Quentin was rude.")
    response = mod_client.post(f"{QUEUE}{story.pk}/edit/",
                               {"title": story.title, "body": "The doctor was rude.", "feelings": "", "reason": ""})
    assert response.status_code == 200
    assert "Enter why you are changing the story" in response.content.decode()
    story.refresh_from_db()
    assert story.body == "Dr Quentin was rude."
    response = mod_client.post(f"{QUEUE}{story.pk}/edit/", {
        "title": story.title, "body": "The doctor was rude.", "feelings": "", "reason": "Removed a name",
    })
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.body == "The doctor was rude."
    assert StoryRevision.objects.get(story=story, kind="original").body == "Dr Quentin was rude."
    assert AuditEvent.objects.filter(action="stories.story_edit", target_id=str(story.pk)).exists()


@pytest.mark.parametrize("value", ["6", "-1", "five", ""])
def test_bad_criticality_shows_an_error(mod_client, value):
    story = StoryFactory(status="pending", criticality=None)
    response = mod_client.post(f"{QUEUE}{story.pk}/criticality/", {"criticality": value})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Choose how critical the story is" in html
    story.refresh_from_db()
    assert story.criticality is None


def test_setting_criticality_and_tags_from_the_page(mod_client):
    good = TagFactory(name="Kind staff", polarity="good")
    story = StoryFactory(criticality=0)
    assert mod_client.post(f"{QUEUE}{story.pk}/criticality/", {"criticality": "4"}).status_code == 302
    assert mod_client.post(f"{QUEUE}{story.pk}/tags/", {"tags": [str(good.pk)]}).status_code == 302
    story.refresh_from_db()
    assert story.criticality == 4
    assert list(story.tags.all()) == [good]
    assert StoryListing.objects.filter(story=story, scope=ListingScope.TAG, scope_id=good.pk).exists()
    bad = mod_client.post(f"{QUEUE}{story.pk}/tags/", {"tags": ["999999"]})
    assert bad.status_code == 200
    assert "Choose tags from the list" in bad.content.decode()


def test_accepting_and_declining_suggestions_from_the_page(mod_client):
    story = StoryFactory(status="pending")
    keep = TagSuggestion.objects.create(story=story, name="Quiet ward", polarity="good")
    drop = TagSuggestion.objects.create(story=story, name="Awful", polarity="improve")
    assert mod_client.post(f"{QUEUE}{story.pk}/suggestions/{keep.pk}/accept/").status_code == 302
    assert mod_client.post(f"{QUEUE}{story.pk}/suggestions/{drop.pk}/decline/").status_code == 302
    assert list(story.tags.values_list("name", flat=True)) == ["Quiet ward"]
    other = StoryFactory(status="pending")
    assert mod_client.post(f"{QUEUE}{other.pk}/suggestions/{keep.pk}/accept/").status_code == 404


def test_publishing_from_the_page_tells_the_author(mod_client):
    story = StoryFactory(status="pending", author_email="author@example.org")
    response = mod_client.post(f"{QUEUE}{story.pk}/publish/")
    assert response.status_code == 302
    assert "The story is published." in page(mod_client, response["Location"])
    story.refresh_from_db()
    assert story.status == "published"
    assert [m.to for m in mail.outbox] == [["author@example.org"]]


def test_a_decision_from_the_page_is_audited_with_the_moderator_and_their_address(moderator):
    client = sign_in_verified(CommittingClient(REMOTE_ADDR="198.51.100.41"), moderator)
    story = StoryFactory(status="pending")

    assert client.post(f"{QUEUE}{story.pk}/criticality/", {"criticality": "3"}).status_code == 302
    assert client.post(f"{QUEUE}{story.pk}/publish/").status_code == 302

    events = AuditEvent.objects.filter(target_id=str(story.pk)).order_by("id")
    assert [(e.action, e.actor, e.ip_address) for e in events] == [
        ("stories.story_criticality", moderator, "198.51.100.41"),
        ("stories.story_publish", moderator, "198.51.100.41"),
    ]


def test_the_hold_option_is_offered_only_for_very_critical_stories(mod_client):
    mild = StoryFactory(status="pending", criticality=2)
    assert "Hold it before publishing" not in page(mod_client, f"{QUEUE}{mild.pk}/")
    critical = StoryFactory(status="pending", criticality=4)
    assert "Hold it before publishing" in page(mod_client, f"{QUEUE}{critical.pk}/")
    response = mod_client.post(f"{QUEUE}{critical.pk}/publish/", {"hold": "on"})
    assert response.status_code == 302
    critical.refresh_from_db()
    assert critical.status == "held"
    refused = mod_client.post(f"{QUEUE}{mild.pk}/publish/", {"hold": "on"})
    assert refused.status_code == 200
    assert "Only a very critical story can be held" in refused.content.decode()


def test_rejecting_from_the_page_needs_a_reason_and_emails_the_author(mod_client):
    RejectionTemplate.objects.create(title="Retired one", body="Old", is_active=False)
    template = RejectionTemplate.objects.create(title="Not a service", body="Your story is not about a service.")
    story = StoryFactory(status="pending", author_email="author@example.org")
    form = page(mod_client, f"{QUEUE}{story.pk}/reject/")
    assert "Not a service" in form
    assert "Retired one" not in form
    response = mod_client.post(f"{QUEUE}{story.pk}/reject/", {"note": "Sorry"})
    assert response.status_code == 200
    assert "Choose a reason" in response.content.decode()
    response = mod_client.post(f"{QUEUE}{story.pk}/reject/", {"template": str(template.pk), "note": "Sorry"})
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.status == "rejected"
    assert "Your story is not about a service." in mail.outbox[0].body
    assert "Sorry" in mail.outbox[0].body
    # The private link in the email opens the author's page.
    path = "/stories/mine/" + mail.outbox[0].body.split("/stories/mine/")[1].split()[0]
    assert Client().get(path).status_code == 200


def test_restricting_from_the_page_and_publishing_again(mod_client):
    story = StoryFactory()
    assert "Restrict this story" in page(mod_client, f"{QUEUE}{story.pk}/")
    empty = mod_client.post(f"{QUEUE}{story.pk}/restrict/", {"restricted_by": "the moderators", "reason": ""})
    assert empty.status_code == 200
    assert "Enter why the story is restricted" in empty.content.decode()
    response = mod_client.post(f"{QUEUE}{story.pk}/restrict/",
                               {"restricted_by": "the moderators", "reason": "legal advice"})
    assert response.status_code == 302
    html = page(mod_client, f"{QUEUE}{story.pk}/")
    assert "Restricted by the moderators: legal advice" in html
    assert not StoryListing.objects.filter(story=story).exists()
    assert mod_client.post(f"{QUEUE}{story.pk}/unrestrict/").status_code == 302
    story.refresh_from_db()
    assert story.status == "published"


def test_a_restricted_story_shows_the_public_a_stub_saying_who_and_why(mod_client):
    story = StoryFactory(body="Words that are now restricted.")
    mod_client.post(f"{QUEUE}{story.pk}/restrict/", {"restricted_by": "the moderators", "reason": "legal advice"})
    html = page(Client(), reverse("stories:story", kwargs={"pk": story.pk}))
    assert "restricted by the moderators: legal advice" in html
    assert "Words that are now restricted." not in html


def test_every_decision_is_in_the_story_history(mod_client, moderator):
    story = StoryFactory(status="pending")
    mod_client.post(f"{QUEUE}{story.pk}/criticality/", {"criticality": "2"})
    mod_client.post(f"{QUEUE}{story.pk}/publish/")
    html = page(mod_client, f"{QUEUE}{story.pk}/")
    assert "Set the criticality" in html
    assert "Published it" in html
    assert moderator.email in html


# --- Rejection templates -----------------------------------------------------------------------

def test_moderators_add_change_and_retire_reasons(mod_client):
    response = mod_client.post(f"{QUEUE}templates/add/", {"title": "", "body": ""})
    assert response.status_code == 200
    assert "Enter a name for the reason" in response.content.decode()
    assert mod_client.post(f"{QUEUE}templates/add/", {"title": "Duplicate", "body": "Sent twice."}).status_code == 302
    template = RejectionTemplate.objects.get(title="Duplicate")
    clash = mod_client.post(f"{QUEUE}templates/add/", {"title": "duplicate", "body": "Again"})
    assert "There is already a reason with this name" in clash.content.decode()
    mod_client.post(f"{QUEUE}templates/{template.pk}/", {"title": "Duplicate", "body": "You sent this twice."})
    mod_client.post(f"{QUEUE}templates/{template.pk}/retire/")
    template.refresh_from_db()
    assert template.body == "You sent this twice."
    assert not template.is_active
    assert "Retired" in page(mod_client, f"{QUEUE}templates/")
    mod_client.post(f"{QUEUE}templates/{template.pk}/retire/", {"restore": "1"})
    template.refresh_from_db()
    assert template.is_active


# --- The provider's notice page ----------------------------------------------------------------

@pytest.fixture
def notice_setup(moderator):
    provider = OrganisationFactory(name="Acme Care Ltd", is_private_provider=True)
    home = OrganisationFactory(name="Acme House", parent=provider)
    admin = MembershipFactory(organisation=provider, role="administrator").user
    member = MembershipFactory(organisation=provider, role="member").user
    outsider = MembershipFactory(organisation=OrganisationFactory(), role="administrator").user
    story = StoryFactory(status="pending", title="About Acme", body="The carers were late every day.",
                         author_email="secret.author@example.org", services=[ServiceFactory(organisation=home)])
    services.story_publish(story_id=story.pk, actor=moderator)
    notice = ProviderNotice.objects.get(story=story)
    return {"admin": admin, "member": member, "outsider": outsider, "story": story, "notice": notice}


def test_the_provider_sees_the_story_and_the_deadline_but_not_the_author(notice_setup):
    client = sign_in_verified(Client(), notice_setup["admin"])
    html = page(client, f"{QUEUE}notices/{notice_setup['notice'].pk}/")
    assert "The carers were late every day." in html
    assert timezone.localtime(notice_setup["notice"].deadline).strftime("%H:%M") in html
    assert "secret.author@example.org" not in html
    assert "Go ahead and publish" in html
    assert "Ask for a review" in html


@pytest.mark.parametrize("who", ["outsider", "member", "moderator", "anonymous"])
def test_nobody_else_sees_or_answers_the_notice(notice_setup, who, moderator):
    notice = notice_setup["notice"]
    if who == "anonymous":
        client = Client()
        assert client.get(f"{QUEUE}notices/{notice.pk}/").status_code == 302
    else:
        user = moderator if who == "moderator" else notice_setup[who]
        client = sign_in_verified(Client(), user)
        assert client.get(f"{QUEUE}notices/{notice.pk}/").status_code == 404
        assert client.post(f"{QUEUE}notices/{notice.pk}/go-ahead/").status_code == 404
        assert client.post(f"{QUEUE}notices/{notice.pk}/review/", {"note": "x"}).status_code == 404
    notice.refresh_from_db()
    assert notice.decision == ProviderDecision.WAITING


def test_go_ahead_from_the_page_publishes(notice_setup):
    client = sign_in_verified(CommittingClient(), notice_setup["admin"])
    response = client.post(f"{QUEUE}notices/{notice_setup['notice'].pk}/go-ahead/")
    assert response.status_code == 302
    assert "The story is published." in page(client, response["Location"])
    assert Story.objects.get(pk=notice_setup["story"].pk).status == "published"


def test_asking_for_a_review_from_the_page_needs_a_note(notice_setup, mod_client):
    client = sign_in_verified(Client(), notice_setup["admin"])
    path = f"{QUEUE}notices/{notice_setup['notice'].pk}/review/"
    empty = client.post(path, {"note": ""})
    assert empty.status_code == 200
    assert "Enter what you would like the moderators to review" in empty.content.decode()
    assert client.post(path, {"note": "It is not true."}).status_code == 302
    assert "You asked for a review" in page(client, f"{QUEUE}notices/{notice_setup['notice'].pk}/")
    queue = page(mod_client, QUEUE)
    assert "Providers asked for a review" in queue
    assert "It is not true." in queue
