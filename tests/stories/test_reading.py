"""The public story page: what it shows, the stubs, staff reads, "this happened to me too",
following a story and the emails to followers."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from localsocial.directory.models import OrganisationType, StaffRole
from localsocial.stories.models import MeToo, Progress, Story, StoryFollower, StoryRead
from localsocial.stories.services.events import followers_notify, story_hidden_effects
from localsocial.stories.services.reading import followers_notify_send
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    ResponseFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
    UserFactory,
)
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db


def hide(story: Story, status: str, **fields) -> Story:
    """Withdraw or restrict a story as the moderation services do: status, then lists."""
    story.status = status
    if status == "withdrawn":
        story.withdrawn_at = timezone.now()
    for name, value in fields.items():
        setattr(story, name, value)
    story.save()
    story_hidden_effects(story=story)
    return story


def page_text(response) -> str:
    return response.content.decode()


# --- What the page shows ----------------------------------------------------------------------

def test_a_published_story_shows_its_text_services_tags_and_author(client):
    # Given a published story about a service, with a good and an improve tag
    service = ServiceFactory(name="Antenatal clinic", slug="antenatal")
    kind = TagFactory(name="Kind staff", slug="kind-staff", polarity="good")
    wait = TagFactory(name="Waiting time", slug="waiting-time", polarity="improve")
    story = StoryFactory(
        title="Looked after well", body="First paragraph.\n\nSecond paragraph.", feelings="Relieved.",
        services=[service], tags=[kind, wait], pseudonym="Riverside mum", author_role="carer", age_group="25_34",
    )
    # When anyone opens it
    response = client.get(f"/stories/{story.pk}/")
    # Then they see the title, both paragraphs, how it felt, the service, tags and author
    text = page_text(response)
    assert response.status_code == 200
    assert "<h1 class=\"govuk-heading-l\">Looked after well</h1>" in text
    assert '<p class="govuk-body">First paragraph.</p>' in text
    assert '<p class="govuk-body">Second paragraph.</p>' in text
    assert "Relieved." in text
    assert 'href="/directory/services/antenatal/">Antenatal clinic</a>' in text
    assert re.search(r"What was good</h3>\s*<ul[^>]*>\s*<li><a class=\"govuk-link\" href=\"/stories/tags/kind-staff/\">Kind staff", text)
    assert re.search(r"What could be improved</h3>\s*<ul[^>]*>\s*<li><a class=\"govuk-link\" href=\"/stories/tags/waiting-time/\">Waiting time", text)
    assert "Told by Riverside mum, a carer (aged 25 to 34)." in text
    assert f"It happened in {story.happened_month:%B %Y}" in text


def test_html_from_an_author_is_shown_as_text_never_run(client):
    # Given a story whose text holds HTML and a script
    story = StoryFactory(title="<i>Title</i>", body='<script>alert("x")</script>\n<b>bold</b>')
    # When it is shown
    text = page_text(client.get(f"/stories/{story.pk}/"))
    # Then every tag is escaped: shown as the characters the author typed
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;<br>&lt;b&gt;bold&lt;/b&gt;" in text
    assert "<i>Title</i>" not in text


def test_progress_shows_five_steps_in_words_with_the_current_one_marked(client):
    # Given a story that has been responded to
    story = StoryFactory(progress=Progress.RESPONDED)
    text = page_text(client.get(f"/stories/{story.pk}/"))
    # Then the steps read in order, the earlier ones "Done", this one "Now", the last "Not yet"
    steps = re.findall(r'<li class="ls-progress__step ls-progress__step--(\w+)"( aria-current="step")?>\s*'
                       r'<span class="govuk-!-font-weight-bold">(\w+)</span>\s*<span class="govuk-tag[^"]*">([\w ]+)</span>', text)
    assert [(s[2], s[3]) for s in steps] == [
        ("Unheard", "Done"), ("Heard", "Done"), ("Read", "Done"), ("Responded", "Now"), ("Changed", "Not yet"),
    ]
    assert [s[2] for s in steps if s[1]] == ["Responded"]


def test_a_restricted_story_shows_only_a_stub_saying_who_and_why(client):
    story = StoryFactory(title="Secret title", body="Secret body text")
    hide(story, "restricted", restricted_by="the Local Social moderators", restriction_reason="a court case is under way")
    response = client.get(f"/stories/{story.pk}/")
    text = page_text(response)
    assert response.status_code == 200
    assert "This story has been restricted by the Local Social moderators: a court case is under way" in text
    assert "Secret title" not in text
    assert "Secret body text" not in text


def test_a_withdrawn_story_shows_a_stub_without_its_title_or_text(client):
    story = StoryFactory(title="Secret title", body="Secret body text", feelings="Secret feelings")
    hide(story, "withdrawn")
    response = client.get(f"/stories/{story.pk}/")
    text = page_text(response)
    assert response.status_code == 200
    assert "The author withdrew this story." in text
    for secret in ("Secret title", "Secret body text", "Secret feelings", story.pseudonym):
        assert secret not in text


@pytest.mark.parametrize("status", ["pending", "held", "notice", "rejected"])
def test_a_story_that_is_not_public_is_not_found(client, status):
    story = StoryFactory(status=status)
    assert client.get(f"/stories/{story.pk}/").status_code == 404
    assert client.post(f"/stories/{story.pk}/me-too/").status_code == 404
    assert client.get(f"/stories/{story.pk}/follow/").status_code == 404


def test_a_story_that_does_not_exist_is_not_found(client):
    assert client.get("/stories/999999/").status_code == 404


# --- Staff read -------------------------------------------------------------------------------

@pytest.fixture
def trust_story():
    trust = OrganisationFactory(name="Riverside NHS Trust", org_type=OrganisationType.NHS_TRUST)
    hospital = OrganisationFactory(name="Riverside General", org_type=OrganisationType.HOSPITAL, parent=trust)
    story = StoryFactory(services=[ServiceFactory(organisation=hospital)])
    return trust, hospital, story


def test_a_responder_opening_a_story_marks_it_read_once(client, trust_story):
    # Given a responder of the trust above the story's hospital
    trust, _hospital, story = trust_story
    responder = MembershipFactory(organisation=trust, role=StaffRole.RESPONDER).user
    sign_in_verified(client, responder)
    # When they open the story, twice
    first = client.get(f"/stories/{story.pk}/")
    client.get(f"/stories/{story.pk}/")
    # Then one read is recorded, for the trust, and the story's progress is "read"
    assert StoryRead.objects.filter(story=story).count() == 1
    assert StoryRead.objects.get(story=story).organisation_id == trust.pk
    story.refresh_from_db()
    assert story.progress == Progress.READ
    assert story.read_at is not None
    assert story.listings.filter(progress=Progress.READ).count() == story.listings.count()
    # And the page they saw already said so
    assert "Staff have read this." in page_text(first)


def test_other_people_opening_a_story_record_nothing(client, trust_story):
    _trust, _hospital, story = trust_story
    # A member of staff of another organisation, a reader with an account, and a visitor
    other_staff = MembershipFactory(organisation=OrganisationFactory(), role=StaffRole.RESPONDER).user
    for user in (other_staff, UserFactory(), None):
        client.logout()
        if user is not None:
            sign_in_verified(client, user)
        text = page_text(client.get(f"/stories/{story.pk}/"))
        assert "Staff have read this." not in text
    assert not StoryRead.objects.exists()
    story.refresh_from_db()
    assert story.progress == Progress.UNHEARD


def test_a_member_of_staff_who_cannot_respond_is_not_a_reader(client, trust_story):
    # A plain member of the hospital's staff cannot respond, so their visit is not a read
    _trust, hospital, story = trust_story
    sign_in_verified(client, MembershipFactory(organisation=hospital, role=StaffRole.MEMBER).user)
    client.get(f"/stories/{story.pk}/")
    assert not StoryRead.objects.exists()


# --- This happened to me too ------------------------------------------------------------------

def test_me_too_without_an_account_counts_once_per_person(client):
    story = StoryFactory()
    # When a visitor says it happened to them too
    response = client.post(f"/stories/{story.pk}/me-too/", follow=True)
    # Then the count is 1, they are told, and a cookie remembers them
    assert "Thank you. We have added you to the people this happened to." in page_text(response)
    assert "1 person has said this happened to them too." in page_text(response)
    assert "ls_person" in client.cookies
    # When they say it again
    again = client.post(f"/stories/{story.pk}/me-too/", follow=True)
    # Then the count stays at 1 and they are told why
    assert "You have already said this happened to you too" in page_text(again)
    story.refresh_from_db()
    assert story.me_too_count == 1
    # And another visitor counts
    from django.test import Client

    Client().post(f"/stories/{story.pk}/me-too/")
    story.refresh_from_db()
    assert story.me_too_count == 2
    assert MeToo.objects.filter(story=story).count() == 2


def test_me_too_with_an_account_counts_once_across_browsers(client):
    from django.test import Client

    story = StoryFactory()
    user = UserFactory()
    for browser in (client, Client()):
        browser.force_login(user)
        browser.post(f"/stories/{story.pk}/me-too/")
    story.refresh_from_db()
    assert story.me_too_count == 1
    text = page_text(client.get(f"/stories/{story.pk}/"))
    assert "You have said this happened to you too." in text


def test_a_forged_person_cookie_is_ignored(client):
    story = StoryFactory()
    client.cookies["ls_person"] = "made-up"
    client.post(f"/stories/{story.pk}/me-too/")
    # A new signed id replaced it
    assert client.cookies["ls_person"].value != "made-up"
    story.refresh_from_db()
    assert story.me_too_count == 1


def test_me_too_is_rate_limited_per_address(client, settings):
    settings.STORIES_REACTION_RATE = "3/m"
    stories = StoryFactory.create_batch(4)
    codes = [client.post(f"/stories/{s.pk}/me-too/").status_code for s in stories]
    assert codes == [302, 302, 302, 429]
    assert Story.objects.filter(me_too_count=1).count() == 3


def test_me_too_on_a_withdrawn_story_is_not_found(client):
    story = hide(StoryFactory(), "withdrawn")
    assert client.post(f"/stories/{story.pk}/me-too/").status_code == 404
    assert not MeToo.objects.exists()


def test_me_too_needs_a_post(client):
    story = StoryFactory()
    assert client.get(f"/stories/{story.pk}/me-too/").status_code == 405


# --- Following --------------------------------------------------------------------------------

def _link(message, name: str) -> str:
    match = re.search(rf"http://[^\s]+/stories/follow/[0-9a-f]+/{name}/", message.body)
    assert match, message.body
    return match.group(0).split("testserver", 1)[-1].split("8000", 1)[-1]


def test_following_by_email_needs_confirming_and_every_email_can_stop_it():
    client = CommittingClient()
    story = StoryFactory(title="Parking at the hospital")
    # When a visitor asks to follow with their email
    response = client.post(f"/stories/{story.pk}/follow/", {"email": "Reader@Example.org"})
    # Then they are asked to check their email, which holds a confirmation link
    assert "Check your email" in page_text(response)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["reader@example.org"]
    assert "Parking at the hospital" in mail.outbox[0].body
    follower = StoryFollower.objects.get(story=story)
    assert follower.confirmed_at is None
    confirm = _link(mail.outbox[0], "confirm")
    # And the token is kept only as a hash
    assert confirm.split("/")[3] not in follower.token_hash
    # When they open the link and press the button
    assert "Confirm you want to follow this story" in page_text(client.get(confirm))
    client.post(confirm)
    follower.refresh_from_db()
    assert follower.confirmed_at is not None
    # When they use the stop link: a page with a button, then it stops
    stop = _link(mail.outbox[0], "stop")
    assert "Stop following this story" in page_text(client.get(stop))
    assert StoryFollower.objects.filter(story=story).exists()  # a GET alone stops nothing
    assert "You have stopped following this story" in page_text(client.post(stop))
    assert not StoryFollower.objects.filter(story=story).exists()


def test_following_again_shows_the_same_page_so_nobody_learns_who_follows():
    client = CommittingClient()
    story = StoryFactory()
    StoryFollower.objects.create(story=story, email="known@example.org", token_hash="x" * 64, confirmed_at=timezone.now())
    known = client.post(f"/stories/{story.pk}/follow/", {"email": "known@example.org"})
    unknown = client.post(f"/stories/{story.pk}/follow/", {"email": "new@example.org"})

    def strip(html: str) -> str:
        return re.sub(r"known@example.org|new@example.org|csrfmiddlewaretoken\" value=\"[^\"]+\"|nonce=\"[^\"]+\"", "", html)

    assert strip(page_text(known)) == strip(page_text(unknown))
    # Only the address that already follows is told so, by email, with a way to stop
    already = next(m for m in mail.outbox if m.to == ["known@example.org"])
    assert "You already follow it" in already.body
    assert "/stop/" in already.body


def test_a_signed_in_reader_follows_at_once():
    client = CommittingClient()
    story = StoryFactory()
    user = UserFactory(email="member@example.org")
    client.force_login(user)
    response = client.post(f"/stories/{story.pk}/follow/", follow=True)
    text = page_text(response)
    assert "You are following this story. We will email member@example.org" in text
    follower = StoryFollower.objects.get(story=story)
    assert follower.user == user
    assert follower.confirmed_at is not None
    assert "Stop following this story" in text
    assert mail.outbox == []


def test_follow_asks_for_a_valid_email(client):
    story = StoryFactory()
    response = client.post(f"/stories/{story.pk}/follow/", {"email": "not an email"})
    assert "Enter an email address in the correct format" in page_text(response)
    assert not StoryFollower.objects.exists()


def test_follow_is_rate_limited_per_email_address(settings):
    settings.ACCOUNT_EMAIL_RATE = "2/h"
    client = CommittingClient()
    stories = StoryFactory.create_batch(3)
    codes = [client.post(f"/stories/{s.pk}/follow/", {"email": "flood@example.org"}).status_code for s in stories]
    assert codes == [200, 200, 429]
    assert len(mail.outbox) == 2


def test_a_made_up_follow_link_does_not_work(client):
    assert client.get("/stories/follow/abc123/confirm/").status_code == 404
    assert client.get("/stories/follow/abc123/stop/").status_code == 404


# --- Telling followers ------------------------------------------------------------------------

def _follower(story, email, confirmed=True):
    from localsocial.stories.selectors.common import secret_hash
    from localsocial.stories.services.reading import follower_token

    return StoryFollower.objects.create(
        story=story, email=email, token_hash=secret_hash(follower_token(story_id=story.pk, email=email)),
        confirmed_at=timezone.now() if confirmed else None,
    )


def test_followers_are_told_of_a_response_once_even_if_the_task_runs_twice(django_capture_on_commit_callbacks):
    # Given a story with a confirmed and an unconfirmed follower
    story = StoryFactory(title="Parking at the hospital")
    _follower(story, "confirmed@example.org")
    _follower(story, "unconfirmed@example.org", confirmed=False)
    response = ResponseFactory(story=story)
    # When the notification runs twice (a retried task)
    with django_capture_on_commit_callbacks(execute=True):
        followers_notify(response_id=response.pk)
        followers_notify(response_id=response.pk)
    # Then only the confirmed follower is emailed, once, with the story and who answered
    assert [m.to for m in mail.outbox] == [["confirmed@example.org"]]
    body = mail.outbox[0].body
    assert "Parking at the hospital" in body
    assert f"{response.organisation.name} has responded" in body
    assert f"/stories/{story.pk}/#responses" in body
    assert "/stop/" in body
    response.refresh_from_db()
    assert response.followers_notified_at is not None


def test_followers_are_told_when_a_change_is_made(django_capture_on_commit_callbacks):
    story = StoryFactory()
    _follower(story, "reader@example.org")
    response = ResponseFactory(story=story, change="made", change_description="We added ten parking spaces.")
    with django_capture_on_commit_callbacks(execute=True):
        assert followers_notify_send(response_id=response.pk) == 1
    assert "They say they have made a change because of it" in mail.outbox[0].body
    assert "We added ten parking spaces." in mail.outbox[0].body


def test_a_response_that_is_not_published_is_not_sent():
    story = StoryFactory()
    _follower(story, "reader@example.org")
    response = ResponseFactory(story=story, status="pending", published_at=None)
    assert followers_notify_send(response_id=response.pk) == 0
    assert mail.outbox == []
    response.refresh_from_db()
    assert response.followers_notified_at is None


def test_the_unfollow_link_in_a_news_email_works(django_capture_on_commit_callbacks):
    client = CommittingClient()
    story = StoryFactory()
    _follower(story, "reader@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        followers_notify_send(response_id=ResponseFactory(story=story).pk)
    stop = _link(mail.outbox[0], "stop")
    client.post(stop)
    assert not StoryFollower.objects.exists()


# --- Fixed number of queries ------------------------------------------------------------------

def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_story_page_takes_the_same_queries_at_10_and_200_stories(client, django_assert_max_num_queries, signed_in):
    # Given a story with several services, tags and responses, among 10 stories
    tags = [TagFactory(polarity="good"), TagFactory(polarity="improve"), TagFactory(polarity="good")]
    services = ServiceFactory.create_batch(3)
    story = StoryFactory(services=services, tags=tags)
    for _ in range(3):
        ResponseFactory(story=story)
    StoryFactory.create_batch(9)
    if signed_in:
        sign_in_verified(client, MembershipFactory(organisation=services[0].organisation).user)
        client.get(f"/stories/{story.pk}/")  # the first visit records the read
    url = f"/stories/{story.pk}/"
    at_10 = _count_queries(client, url)
    # When there are 200 stories, and more tags and responses on this one
    StoryFactory.create_batch(190, services=[services[0]])
    story.tags.add(*TagFactory.create_batch(5))
    for _ in range(10):
        ResponseFactory(story=story)
    # Then the page takes no more queries
    with django_assert_max_num_queries(at_10):
        assert client.get(url).status_code == 200
