"""The conversation under a story: the thread as readers and the author see it, the author's
replies, change confirmation and helpful ratings."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from localsocial.stories.models import HelpfulRating, Progress, Response, ResponseStatus, Story
from localsocial.stories.selectors.responses import story_thread
from localsocial.stories.services.change_confirmation import change_confirmation_send
from localsocial.stories.services.common import person_key, secret_new
from localsocial.stories.services.responses import (
    response_create,
    response_publish,
    response_rate,
)
from localsocial.stories.tasks.responses import change_confirmation_send_task
from tests.factories import ResponseFactory, RoleGrantFactory, UserFactory
from tests.helpers import CommittingClient, sign_in_verified
from tests.stories.test_responses import responder_of, ward_story

pytestmark = pytest.mark.django_db


def with_secret(story) -> str:
    """Give the story a private link we know, as the submission service does."""
    secret, token_hash = secret_new()
    Story.objects.filter(pk=story.pk).update(author_token_hash=token_hash)
    story.author_token_hash = token_hash
    return secret


def render_thread(thread, *, user=None, path="/stories/1/") -> str:
    request = RequestFactory().get(path)
    request.user = user or AnonymousUser()
    return render_to_string("stories/responses/_thread.html", {"thread": thread}, request=request)


def rate(client, response, helpful, **extra):
    return client.post(
        reverse("stories:response_rate", kwargs={"response_id": response.pk}),
        {"helpful": "yes" if helpful else "no", **extra},
    )


def change_claim(given, *, change="made", description="Night staff now check on patients every hour."):
    """A published change claim from the hospital (published by a moderator, as it must be)."""
    sam = responder_of(given.hospital, trusted=True)
    response = response_create(
        story=given.story, actor=sam, organisation=given.hospital, body="We have listened.", change=change,
        change_description=description,
    )
    moderator = RoleGrantFactory().user
    response_publish(response_id=response.pk, actor=moderator)
    response.refresh_from_db()
    return response


# --- The thread ------------------------------------------------------------------------------


def test_the_thread_shows_published_responses_in_order_with_signature_and_organisation():
    given = ward_story()
    first = ResponseFactory(story=given.story, organisation=given.hospital, signature="Sam Patel, Ward manager, Riverside Hospital",
                            body="First answer.", created_at=timezone.now() - timezone.timedelta(hours=2))
    ResponseFactory(story=given.story, organisation=given.trust, signature="Ali Khan, Chief nurse, Riverside NHS Trust",
                    body="Second answer.")
    ResponseFactory(story=given.story, organisation=given.trust, status="pending", published_at=None, body="Not yet.")
    ResponseFactory(story=given.story, organisation=given.trust, status="rejected", published_at=None, body="Never.")

    html = render_thread(story_thread(story=given.story))

    assert html.index("First answer.") < html.index("Second answer.")
    assert "Response from Riverside Hospital" in html
    assert "Sam Patel, Ward manager, Riverside Hospital" in html
    assert "Response from Riverside NHS Trust" in html
    assert "Not yet." not in html
    assert "Never." not in html
    assert f'id="response-{first.pk}"' in html


def test_a_responder_sees_their_own_response_waiting_for_moderation_and_others_do_not():
    given = ward_story()
    newcomer = responder_of(given.hospital)
    response_create(story=given.story, actor=newcomer, organisation=given.hospital, body="My first response.")

    theirs = render_thread(story_thread(story=given.story, user=newcomer), user=newcomer)
    public = render_thread(story_thread(story=given.story))

    assert "My first response." in theirs
    assert "Waiting for moderation" in theirs
    assert "My first response." not in public


def test_someone_who_may_respond_gets_a_respond_link_and_readers_do_not():
    given = ward_story()
    sam = responder_of(given.hospital)
    reader = UserFactory()
    href = reverse("stories:respond", kwargs={"pk": given.story.pk})

    assert href in render_thread(story_thread(story=given.story, user=sam), user=sam)
    assert href not in render_thread(story_thread(story=given.story, user=reader), user=reader)
    assert href not in render_thread(story_thread(story=given.story))


def test_the_writer_gets_a_change_link_within_the_edit_window():
    given = ward_story()
    sam = responder_of(given.hospital, trusted=True)
    response = response_create(story=given.story, actor=sam, organisation=given.hospital, body="Thank you.")
    href = reverse("stories:response_edit", kwargs={"response_id": response.pk})

    assert href in render_thread(story_thread(story=given.story, user=sam), user=sam)
    Response.objects.filter(pk=response.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=31))
    assert href not in render_thread(story_thread(story=given.story, user=sam), user=sam)


# --- Author replies ----------------------------------------------------------------------------


def test_the_authors_reply_is_moderated_then_shown_in_the_thread():
    given = ward_story()
    ResponseFactory(story=given.story, organisation=given.hospital)
    secret = with_secret(given.story)
    client = CommittingClient()

    posted = client.post(
        reverse("stories:response_author_reply", kwargs={"secret": secret}), {"body": "Thank you, that helps."}
    )

    assert posted.status_code == 302
    assert posted["Location"] == reverse("stories:mine", kwargs={"secret": secret})
    reply = Response.objects.get(story=given.story, is_author_reply=True)
    assert reply.status == ResponseStatus.PENDING
    assert reply.organisation is None
    assert reply.signature == "Jo from Riverside (the author)"
    assert "Thank you, that helps." not in render_thread(story_thread(story=given.story))
    authors_view = render_thread(story_thread(story=given.story, author_token=secret))
    assert "Thank you, that helps." in authors_view
    assert "Waiting for moderation" in authors_view

    moderator = RoleGrantFactory().user
    sign_in_verified(client, moderator)
    client.post(reverse("stories:response_publish", kwargs={"response_id": reply.pk}))

    html = render_thread(story_thread(story=given.story))
    assert "Thank you, that helps." in html
    assert "Reply from Jo from Riverside, the author" in html
    story = Story.objects.get(pk=given.story.pk)
    assert story.response_count == 2
    assert story.progress == Progress.UNHEARD  # a reply from the author is not a response from a service


def test_a_reply_with_a_wrong_link_is_not_found_and_nothing_is_stored(client):
    given = ward_story()
    with_secret(given.story)

    posted = client.post(reverse("stories:response_author_reply", kwargs={"secret": "not-the-secret"}), {"body": "Hi"})

    assert posted.status_code == 404
    assert not Response.objects.filter(story=given.story).exists()


def test_an_empty_reply_shows_an_error(client):
    given = ward_story()
    secret = with_secret(given.story)

    page = client.post(reverse("stories:response_author_reply", kwargs={"secret": secret}), {"body": "  "})

    assert page.status_code == 200
    assert "Enter your reply" in page.content.decode()
    assert not Response.objects.filter(story=given.story).exists()


def test_author_replies_are_rate_limited(client, settings):
    settings.STORIES_SUBMIT_RATE = "2/h"
    given = ward_story()
    secret = with_secret(given.story)
    url = reverse("stories:response_author_reply", kwargs={"secret": secret})

    codes = [client.post(url, {"body": f"Reply {n}"}).status_code for n in range(3)]

    assert codes == [302, 302, 429]
    assert Response.objects.filter(story=given.story).count() == 2


def test_the_authors_page_offers_the_reply_form():
    given = ward_story()
    secret = with_secret(given.story)

    html = render_thread(story_thread(story=given.story, author_token=secret))

    assert reverse("stories:response_author_reply", kwargs={"secret": secret}) in html
    assert "Send your reply" in html
    assert "Send your reply" not in render_thread(story_thread(story=given.story, author_token="wrong"))


# --- Changes and their confirmation --------------------------------------------------------------


def test_publishing_a_change_made_moves_progress_to_changed():
    given = ward_story()
    change_claim(given, change="made")

    story = Story.objects.get(pk=given.story.pk)
    assert story.progress == Progress.CHANGED
    assert story.changed_at is not None
    assert story.response_count == 1
    assert story.listings.filter(progress=Progress.CHANGED).exists()


def test_publishing_a_change_planned_records_the_plan_but_not_a_change():
    given = ward_story()
    change_claim(given, change="planned")

    story = Story.objects.get(pk=given.story.pk)
    assert story.progress == Progress.RESPONDED
    assert story.change_planned_at is not None
    assert story.changed_at is None


def test_the_author_is_asked_once_whether_the_change_happened(django_capture_on_commit_callbacks):
    given = ward_story()
    sam = responder_of(given.hospital, trusted=True)
    response = response_create(
        story=given.story, actor=sam, organisation=given.hospital, body="We have listened.", change="made",
        change_description="Night staff now check on patients every hour.",
    )
    moderator = RoleGrantFactory().user
    with django_capture_on_commit_callbacks(execute=True):
        response_publish(response_id=response.pk, actor=moderator)
    with django_capture_on_commit_callbacks(execute=True):
        change_confirmation_send_task.enqueue(response_id=response.pk)
        assert change_confirmation_send(response_id=response.pk) is False

    asked = [m for m in mail.outbox if m.subject == "Did this change happen?"]
    assert len(asked) == 1
    assert asked[0].to == [given.story.author_email]
    assert "Night staff now check on patients every hour." in asked[0].body
    # The link in the email opens the author's private page (a fresh link, as only a hash is kept).
    link = next(line for line in asked[0].body.splitlines() if "/stories/mine/" in line).strip()
    secret = link.split("/stories/mine/")[1].split("/")[0]
    assert story_thread(story=Story.objects.get(pk=given.story.pk), author_token=secret)["is_author"]
    response.refresh_from_db()
    assert response.confirmation_requested_at is not None


def test_no_one_is_asked_about_a_response_without_a_change(django_capture_on_commit_callbacks):
    given = ward_story()
    response = ResponseFactory(story=given.story, organisation=given.hospital)

    with django_capture_on_commit_callbacks(execute=True):
        assert change_confirmation_send(response_id=response.pk) is False

    assert not [m for m in mail.outbox if m.subject == "Did this change happen?"]


def test_the_author_confirms_the_change_and_everyone_sees_it():
    given = ward_story()
    response = change_claim(given)
    secret = with_secret(given.story)
    client = CommittingClient()
    url = reverse("stories:response_change_confirm", kwargs={"secret": secret, "response_id": response.pk})

    page = client.get(url)
    posted = client.post(url, {"happened": "yes", "note": "The night staff came round every hour."})

    assert "Did this change happen?" in page.content.decode()
    assert posted.status_code == 302
    response.refresh_from_db()
    assert response.author_confirmed is True
    html = render_thread(story_thread(story=Story.objects.get(pk=given.story.pk)))
    assert "The author confirmed this change happened on" in html
    assert "The night staff came round every hour." in html
    assert "Change made" in html


def test_the_author_may_say_not_yet_and_change_their_answer_later(client):
    given = ward_story()
    response = change_claim(given, change="planned")
    secret = with_secret(given.story)
    url = reverse("stories:response_change_confirm", kwargs={"secret": secret, "response_id": response.pk})

    client.post(url, {"happened": "no"})
    html_not_yet = render_thread(story_thread(story=Story.objects.get(pk=given.story.pk)))
    client.post(url, {"happened": "yes"})

    assert "The author says this change has not happened yet." in html_not_yet
    assert "Change planned" in html_not_yet
    story = Story.objects.get(pk=given.story.pk)
    # A planned change the author says has happened is a change.
    assert story.progress == Progress.CHANGED
    response.refresh_from_db()
    assert response.author_confirmed is True


def test_only_the_author_can_confirm_and_only_a_change_claim(client):
    given = ward_story()
    claim = change_claim(given)
    plain = ResponseFactory(story=given.story, organisation=given.hospital)
    secret = with_secret(given.story)
    other = ward_story()
    other_secret = with_secret(other.story)

    wrong_story = client.post(
        reverse("stories:response_change_confirm", kwargs={"secret": other_secret, "response_id": claim.pk}),
        {"happened": "yes"},
    )
    no_claim = client.post(
        reverse("stories:response_change_confirm", kwargs={"secret": secret, "response_id": plain.pk}),
        {"happened": "yes"},
    )

    assert wrong_story.status_code == 404
    assert no_claim.status_code == 404
    claim.refresh_from_db()
    assert claim.author_confirmed is None


def test_the_authors_page_links_each_change_to_its_confirmation():
    given = ward_story()
    response = change_claim(given)
    secret = with_secret(given.story)

    html = render_thread(story_thread(story=given.story, author_token=secret))

    assert reverse("stories:response_change_confirm", kwargs={"secret": secret, "response_id": response.pk}) in html
    assert "Tell us whether this change happened" in html
    assert "Tell us whether this change happened" not in render_thread(story_thread(story=given.story))


# --- Helpful ratings --------------------------------------------------------------------------


def test_a_reader_rates_a_response_and_changes_their_mind(client):
    given = ward_story()
    response = ResponseFactory(story=given.story, organisation=given.hospital)
    reader = UserFactory()
    client.force_login(reader)

    rate(client, response, True)
    response.refresh_from_db()
    assert (response.helpful_count, response.not_helpful_count) == (1, 0)

    rate(client, response, True)  # the same again: still one
    response.refresh_from_db()
    assert (response.helpful_count, response.not_helpful_count) == (1, 0)

    posted = rate(client, response, False)
    response.refresh_from_db()
    assert (response.helpful_count, response.not_helpful_count) == (0, 1)
    assert HelpfulRating.objects.filter(response=response).count() == 1
    assert posted["Location"].endswith(f"#response-{response.pk}")


def test_people_without_an_account_rate_once_each_through_their_cookie():
    given = ward_story()
    response = ResponseFactory(story=given.story, organisation=given.hospital)
    first, second = CommittingClient(), CommittingClient()

    rate(first, response, True)
    rate(first, response, True)
    rate(second, response, True)
    rate(second, response, False)

    response.refresh_from_db()
    assert (response.helpful_count, response.not_helpful_count) == (1, 1)
    assert HelpfulRating.objects.filter(response=response).count() == 2


def test_counts_are_shown_with_the_readers_own_rating():
    given = ward_story()
    response = ResponseFactory(story=given.story, organisation=given.hospital)
    reader = UserFactory()
    for n in range(3):
        response_rate(response_id=response.pk, person_key=f"{n:064x}", helpful=True)
    response_rate(response_id=response.pk, person_key=person_key(user=reader), helpful=False)

    html = render_thread(story_thread(story=given.story, user=reader, person_key=person_key(user=reader)), user=reader)

    assert "3 people found this helpful" in html
    assert "1 person did not" in html
    assert "You said it was not helpful" in html
    assert "Yes, helpful" in html
    assert "No, not helpful" in html


def test_the_author_rates_from_their_page_and_it_is_marked_as_theirs(client):
    given = ward_story()
    response = ResponseFactory(story=given.story, organisation=given.hospital)
    secret = with_secret(given.story)

    posted = rate(client, response, True, author_token=secret)

    assert posted["Location"] == reverse("stories:mine", kwargs={"secret": secret}) + f"#response-{response.pk}"
    rating = HelpfulRating.objects.get(response=response)
    assert rating.by_author is True
    assert "The author found it helpful." in render_thread(story_thread(story=given.story))


def test_a_wrong_author_token_does_not_count_as_the_author(client):
    given = ward_story()
    response = ResponseFactory(story=given.story, organisation=given.hospital)
    other = ward_story()
    other_secret = with_secret(other.story)

    posted = rate(client, response, True, author_token=other_secret)

    assert posted.status_code == 403
    assert not HelpfulRating.objects.filter(response=response).exists()


def test_only_published_responses_can_be_rated(client):
    given = ward_story()
    pending = ResponseFactory(story=given.story, organisation=given.hospital, status="pending", published_at=None)

    assert rate(client, pending, True).status_code == 404
    assert not HelpfulRating.objects.exists()


def test_ratings_are_rate_limited(client, settings):
    settings.STORIES_REACTION_RATE = "2/h"
    given = ward_story()
    response = ResponseFactory(story=given.story, organisation=given.hospital)

    codes = [rate(client, response, n % 2 == 0).status_code for n in range(3)]

    assert codes == [302, 302, 429]


def test_a_rating_needs_a_yes_or_no(client):
    given = ward_story()
    response = ResponseFactory(story=given.story, organisation=given.hospital)

    posted = client.post(reverse("stories:response_rate", kwargs={"response_id": response.pk}), {"helpful": "maybe"})

    assert posted.status_code == 400


def test_a_change_of_mind_never_loses_a_count():
    # Many people, some changing their minds several times: the counts always equal the ratings.
    given = ward_story()
    response = ResponseFactory(story=given.story, organisation=given.hospital)
    answers = {f"{n:064x}": [True, False, True][: (n % 3) + 1] for n in range(9)}
    for key, sequence in answers.items():
        for helpful in sequence:
            response_rate(response_id=response.pk, person_key=key, helpful=helpful)

    response.refresh_from_db()
    assert response.helpful_count == HelpfulRating.objects.filter(response=response, helpful=True).count() == 6
    assert response.not_helpful_count == HelpfulRating.objects.filter(response=response, helpful=False).count() == 3


# --- Query counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 200])
def test_rendering_the_thread_takes_the_same_queries_however_long(django_assert_max_num_queries, count):
    given = ward_story()
    sam = responder_of(given.hospital)
    responses = [
        ResponseFactory(story=given.story, organisation=given.hospital, responder=sam,
                        change="made" if n % 5 == 0 else "", change_description="A change." if n % 5 == 0 else "")
        for n in range(count)
    ]
    Response.objects.filter(pk=responses[0].pk).update(author_confirmed=True, author_confirmed_at=timezone.now())
    for response in responses[:: max(1, count // 10)]:
        response_rate(response_id=response.pk, person_key=person_key(user=sam), helpful=True)
    secret = with_secret(given.story)
    story = Story.objects.get(pk=given.story.pk)

    with django_assert_max_num_queries(4):
        html = render_thread(story_thread(story=story, user=sam, person_key=person_key(user=sam)), user=sam)
    with django_assert_max_num_queries(2):
        author_html = render_thread(story_thread(story=story, author_token=secret))

    assert html.count('class="ls-response ') == count
    assert author_html.count("Tell us whether this change happened") + author_html.count("Change your answer") == len(
        [r for r in responses if r.change]
    )


# --- On the real pages ---------------------------------------------------------------------------


def test_the_story_page_shows_the_conversation_with_a_confirmed_change(client):
    given = ward_story()
    response = change_claim(given)
    Response.objects.filter(pk=response.pk).update(author_confirmed=True, author_confirmed_at=timezone.now())

    html = client.get(reverse("stories:story", kwargs={"pk": given.story.pk})).content.decode()

    assert "Response from Riverside Hospital" in html
    assert "Change made" in html
    assert "The author confirmed this change happened on" in html
    assert "Yes, helpful" in html


def test_the_authors_private_page_offers_reply_confirm_and_rate(client):
    given = ward_story()
    change_claim(given)
    secret = with_secret(given.story)

    html = client.get(reverse("stories:mine", kwargs={"secret": secret})).content.decode()

    assert "Send your reply" in html
    assert "Tell us whether this change happened" in html
    assert 'name="author_token"' in html
