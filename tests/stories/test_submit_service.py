"""Telling a story: what story_submit stores, refuses and sends (also used by the API)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from localsocial.accounts import services as account_services
from localsocial.core.logging import client_ip_var
from localsocial.core.models import AuditEvent
from localsocial.stories.models import (
    Story,
    StoryListing,
    StoryRevision,
    StoryStatus,
    TagSuggestion,
)
from localsocial.stories.selectors.common import secret_hash
from localsocial.stories.selectors.submission import story_duplicates, story_ids_with_duplicates
from localsocial.stories.services.common import story_author_secret
from localsocial.stories.services.submission import (
    month_add,
    story_author_edit,
    story_author_links_send,
    story_submit,
    story_withdraw,
    submission_was_duplicate,
)
from tests.factories import (
    MembershipFactory,
    ResponseFactory,
    RoleGrantFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def this_month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def service(db):
    return ServiceFactory(name="Ward 7", organisation__name="City Hospital")


def story_input(service, **overrides):
    data = {
        "title": "Kind staff on the ward",
        "body": "The nurses explained everything and the wait was short.",
        "feelings": "Reassured.",
        "service_ids": [service.pk],
        "tag_ids": [],
        "suggested_tags": [],
        "author_role": "patient",
        "age_group": "",
        "happened_month": month_add(this_month(), -1),
        "pseudonym": "Grateful patient",
        "email": "Author@Example.org",
    }
    data.update(overrides)
    return data


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# --- What is stored --------------------------------------------------------------------------

def test_a_story_is_stored_waiting_for_moderation_with_everything_the_author_gave(service, django_capture_on_commit_callbacks):
    second = ServiceFactory(name="Pharmacy")
    good = TagFactory(name="Kind staff", slug="kind-staff", polarity="good")
    improve = TagFactory(name="Waiting time", slug="waiting-time", polarity="improve")

    # The client's address comes from the request, through the context the middleware sets.
    address = client_ip_var.set("203.0.113.9")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            story, secret = story_submit(**story_input(
                service, service_ids=[second.pk, service.pk], tag_ids=[good.pk, improve.pk],
                suggested_tags=[("Clean ward", "good"), ("Parking", "improve")], age_group="35_49",
            ))
    finally:
        client_ip_var.reset(address)

    story.refresh_from_db()
    assert story.status == StoryStatus.PENDING
    assert story.author_email == "author@example.org"
    assert story.author_token_hash == secret_hash(secret)
    assert [link.service for link in story.story_services.order_by("position")] == [second, service]
    assert set(story.tags.all()) == {good, improve}
    assert {(s.name, s.polarity) for s in TagSuggestion.objects.filter(story=story)} == {
        ("Clean ward", "good"), ("Parking", "improve")
    }
    assert story.route == "web"
    assert story.consent_given_at is not None
    assert story.submitted_ip == "203.0.113.9"
    assert len(story.text_hash) == 64
    original = StoryRevision.objects.get(story=story)
    assert (original.kind, original.title, original.body) == ("original", story.title, story.body)
    assert not StoryListing.objects.filter(story=story).exists()  # not public yet


def test_the_author_is_emailed_their_private_link_and_what_happens_next(service, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        story, secret = story_submit(**story_input(service))

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["author@example.org"]
    assert f"/stories/mine/{secret}/" in message.body
    assert "What happens next" in message.body
    assert story.title in message.body


def test_a_suggested_tag_that_already_exists_becomes_that_tag(service):
    tag = TagFactory(name="Kind staff", slug="kind-staff", polarity="good")

    story, _secret = story_submit(**story_input(service, suggested_tags=[("kind STAFF", "good")]))

    assert list(story.tags.all()) == [tag]
    assert not TagSuggestion.objects.filter(story=story).exists()


def test_html_is_kept_as_plain_text_and_control_characters_are_dropped(service):
    story, _secret = story_submit(**story_input(
        service, title="<b>Bold</b> title", body="<script>alert('x')</script>\x00 and more\r\nlines",
    ))

    assert story.title == "<b>Bold</b> title"
    assert story.body == "<script>alert('x')</script> and more\nlines"


def test_a_signed_in_author_is_linked_and_their_account_address_is_used(service):
    user = UserFactory(email="member@example.org")

    story, _secret = story_submit(**story_input(service, email="", actor=user))

    assert story.author == user
    assert story.author_email == "member@example.org"


# --- Bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "  "}, "title", "Enter a title for your story"),
        ({"title": "x" * 151}, "title", "The title must be 150 characters or fewer"),
        ({"body": ""}, "body", "Enter what happened"),
        ({"service_ids": []}, "service_ids", "Choose at least one service your story is about"),
        ({"service_ids": [999999]}, "service_ids", "We could not find one of the services you chose. Search for it again"),
        ({"service_ids": ["x"]}, "service_ids", "Choose services from the directory"),
        ({"tag_ids": [999999]}, "tag_ids", "Choose tags from the list"),
        ({"author_role": "king"}, "author_role", "Choose who you are"),
        ({"age_group": "ancient"}, "age_group", "Choose an age group from the list"),
        ({"happened_month": None}, "happened_month", "Enter the month and year it happened"),
        ({"pseudonym": ""}, "pseudonym", "Enter a name to show with your story"),
        ({"email": ""}, "email", "Enter your email address"),
        ({"email": "not-an-address"}, "email", "Enter an email address in the correct format, like name@example.com"),
        ({"suggested_tags": [("x" * 61, "good")]}, "suggest_good", "Each suggested tag must be 60 characters or fewer"),
    ],
)
def test_each_bad_input_gets_a_clear_message_and_nothing_is_stored(service, overrides, field, message):
    with pytest.raises(ValidationError) as excinfo:
        story_submit(**story_input(service, **overrides))

    assert message in errors_of(excinfo)[field]
    assert not Story.objects.exists()
    assert not mail.outbox


def test_a_service_no_longer_provided_is_refused_by_name(service):
    closed = ServiceFactory(name="Old clinic", is_active=False)

    with pytest.raises(ValidationError) as excinfo:
        story_submit(**story_input(service, service_ids=[closed.pk]))

    assert errors_of(excinfo)["service_ids"] == [
        "Old clinic is no longer provided, so you cannot tell a story about it here"
    ]


def test_the_word_limit_allows_exactly_the_limit_and_refuses_one_more(service, settings):
    settings.STORIES_WORD_LIMIT = 50

    story, _secret = story_submit(**story_input(service, body=" ".join(["word"] * 50)))
    assert story.pk

    with pytest.raises(ValidationError) as excinfo:
        story_submit(**story_input(service, body=" ".join(["word"] * 51), email="other@example.org"))
    assert errors_of(excinfo)["body"] == ["What happened must be 50 words or fewer. It has 51 words"]


def test_a_huge_text_is_refused_with_a_clear_message(service):
    with pytest.raises(ValidationError) as excinfo:
        story_submit(**story_input(service, body="word " * 200_000))

    assert errors_of(excinfo)["body"] == ["What happened must be 1,000 words or fewer. It has 200,000 words"]


def test_the_month_may_be_exactly_the_limit_ago_or_this_month(service, settings):
    settings.STORIES_MAX_AGE_MONTHS = 24
    oldest = month_add(this_month(), -24)

    story, _secret = story_submit(**story_input(service, happened_month=oldest))
    recent, _secret = story_submit(**story_input(service, happened_month=this_month(), email="b@example.org"))

    assert story.happened_month == oldest
    assert recent.happened_month == this_month()


def test_a_month_older_than_the_limit_is_refused_naming_the_limit(service, settings):
    settings.STORIES_MAX_AGE_MONTHS = 24
    too_old = month_add(this_month(), -25)
    earliest = month_add(this_month(), -24)

    with pytest.raises(ValidationError) as excinfo:
        story_submit(**story_input(service, happened_month=too_old))

    assert errors_of(excinfo)["happened_month"] == [
        f"We can only publish stories about the last 24 months. It must have happened in "
        f"{earliest:%B %Y} or later"
    ]


def test_a_month_in_the_future_is_refused(service):
    with pytest.raises(ValidationError) as excinfo:
        story_submit(**story_input(service, happened_month=month_add(this_month(), 1)))

    assert errors_of(excinfo)["happened_month"] == ["The month it happened must be this month or in the past"]


# --- Duplicates ---------------------------------------------------------------------------------

def test_the_same_text_from_the_same_address_is_not_stored_twice(service, django_capture_on_commit_callbacks):
    first, _first_secret = story_submit(**story_input(service))
    with django_capture_on_commit_callbacks(execute=True):
        again, again_secret = story_submit(**story_input(service, body="  The nurses EXPLAINED everything and the wait was short. "))

    assert again.pk == first.pk
    assert submission_was_duplicate(story=again)
    assert Story.objects.count() == 1
    assert "You sent us this story before" in mail.outbox[-1].body
    assert f"/stories/mine/{again_secret}/" in mail.outbox[-1].body
    first.refresh_from_db()
    assert first.author_token_hash == secret_hash(again_secret)


def test_the_same_text_from_the_same_address_after_30_days_is_a_new_story(service):
    first, _secret = story_submit(**story_input(service))
    Story.objects.filter(pk=first.pk).update(submitted_at=timezone.now() - timedelta(days=31))

    second, _secret = story_submit(**story_input(service))

    assert second.pk != first.pk
    assert not submission_was_duplicate(story=second)


def test_the_same_text_from_another_address_within_a_day_is_flagged_for_moderators(service):
    first, _secret = story_submit(**story_input(service))
    second, _secret = story_submit(**story_input(service, email="someone.else@example.org"))
    unrelated, _secret = story_submit(**story_input(service, body="A different story", email="c@example.org"))

    assert story_duplicates(story=second) == [first]
    assert story_duplicates(story=unrelated) == []
    assert story_ids_with_duplicates(stories=[first, second, unrelated]) == {first.pk, second.pk}


# --- Assisted entry -----------------------------------------------------------------------------

@pytest.fixture
def staff(db):
    user = UserFactory(email="staff@example.org")
    MembershipFactory(user=user)
    return user


def test_an_assisted_story_records_route_consent_and_who_entered_it(service, staff):
    story, _secret = story_submit(**story_input(
        service, route="phone", actor=staff, consent=True, consent_note="Agreed on the phone",
    ))

    assert (story.route, story.entered_by, story.consent_note) == ("phone", staff, "Agreed on the phone")
    assert story.consent_given_at is not None
    event = AuditEvent.objects.get(action="story.assisted_entry")
    assert event.actor == staff
    assert event.target_id == str(story.pk)


def test_an_assisted_story_needs_consent_and_how_it_was_given(service, staff):
    with pytest.raises(ValidationError) as excinfo:
        story_submit(**story_input(service, route="paper", actor=staff, consent=False, consent_note=""))

    errors = errors_of(excinfo)
    assert errors["consent"] == ["Confirm that the person agreed to us sharing their story"]
    assert errors["consent_note"] == ["Say how the person gave their consent"]
    assert not Story.objects.exists()


def test_only_staff_and_moderators_may_enter_an_assisted_story(service):
    member_of_public = UserFactory()

    with pytest.raises(PermissionDenied):
        story_submit(**story_input(service, route="phone", actor=member_of_public, consent=True, consent_note="x"))


def test_an_author_without_email_gets_a_placeholder_and_the_link_goes_to_staff(service, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        story, secret = story_submit(**story_input(
            service, email="", route="paper", actor=staff, consent=True, consent_note="Signed the form",
        ))

    assert story.author_email.endswith("@no-email.invalid")
    assert [m.to for m in mail.outbox] == [["staff@example.org"]]
    assert f"/stories/mine/{secret}/" in mail.outbox[0].body


def test_a_moderator_may_enter_an_assisted_story(service):
    moderator = RoleGrantFactory(role="moderator").user

    story, _secret = story_submit(**story_input(service, route="phone", actor=moderator, consent=True, consent_note="On the phone"))

    assert story.entered_by == moderator


# --- Edit, withdraw, lost links -----------------------------------------------------------------

def test_an_author_edit_keeps_the_original_and_adds_a_revision(service):
    story, _secret = story_submit(**story_input(service))

    story_author_edit(
        story_id=story.pk, title="New title", body="New body", feelings="", tag_ids=[], suggested_tags=[],
        author_role="carer", age_group="", happened_month=this_month(), pseudonym="Carer",
    )

    story.refresh_from_db()
    assert (story.title, story.body, story.author_role) == ("New title", "New body", "carer")
    kinds = list(StoryRevision.objects.filter(story=story).values_list("kind", "title"))
    assert kinds == [("original", "Kind staff on the ward"), ("author", "New title")]


def test_withdrawing_takes_a_published_story_out_of_every_list_and_keeps_its_revisions(service):
    story = StoryFactory(services=[service])
    assert StoryListing.objects.filter(story=story).exists()

    story_withdraw(story_id=story.pk)

    story.refresh_from_db()
    assert story.status == "withdrawn"
    assert story.withdrawn_at is not None
    assert not StoryListing.objects.filter(story=story).exists()
    assert StoryRevision.objects.filter(story=story).exists()


def test_lost_links_send_the_same_working_link_for_every_story_from_the_address(
    service, django_capture_on_commit_callbacks, client
):
    with django_capture_on_commit_callbacks(execute=True):
        _story, secret = story_submit(**story_input(service, email="lost@example.org", title="First story"))
    second = StoryFactory(author_email="lost@example.org", title="Second story", status="pending")
    StoryFactory(author_email="someone@example.org", title="Not theirs")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        sent = story_author_links_send(email="LOST@example.org")

    assert sent == 2
    body = mail.outbox[0].body
    assert "First story" in body
    assert "Second story" in body
    assert "Not theirs" not in body
    # The link in the first email still works, and is the one sent again.
    assert f"/stories/mine/{secret}/" in body
    assert client.get(f"/stories/mine/{secret}/").status_code == 200
    second.refresh_from_db()
    second_secret = story_author_secret(story=second)
    assert f"/stories/mine/{second_secret}/" in body
    assert client.get(f"/stories/mine/{second_secret}/").status_code == 200
    assert story_author_links_send(email="nobody@example.org") == 0


def test_the_private_link_depends_on_the_secret_key(service, settings):
    story, secret = story_submit(**story_input(service, email="key@example.org"))

    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"

    assert story_author_secret(story=story) != secret


# --- Personal data: download and erasure --------------------------------------------------------

def test_the_data_export_holds_the_persons_stories_and_the_answers(service):
    user = UserFactory(email="teller@example.org")
    by_account = StoryFactory(author=user, author_email="old@example.org", title="Told signed in", services=[service])
    by_address = StoryFactory(author_email="teller@example.org", title="Told by email")
    StoryFactory(author_email="stranger@example.org", title="Someone else's")
    ResponseFactory(story=by_account, body="Thank you for telling us.")

    data = account_services.user_export_data(user=user)

    stories = {s["title"]: s for s in data["stories"]}
    assert set(stories) == {"Told signed in", "Told by email"}
    assert stories["Told signed in"]["services"][0]["service"] == "Ward 7"
    assert stories["Told signed in"]["responses"][0]["text"] == "Thank you for telling us."
    assert stories["Told by email"]["what_happened"] == by_address.body


def test_an_unconfirmed_address_does_not_export_the_stories_told_from_it():
    user = UserFactory(email="claimed@example.org", email_verified_at=None)
    StoryFactory(author_email="claimed@example.org")

    assert account_services.user_export_data(user=user)["stories"] == []


def test_erasing_an_account_unlinks_its_stories_and_keeps_the_text(service):
    user = UserFactory(email="leaving@example.org")
    mine = StoryFactory(author=user, author_email="leaving@example.org", pseudonym="Jo from Leeds")
    other = StoryFactory(author_email="leaving@example.org")
    kept = StoryFactory(author_email="staying@example.org")

    account_services.user_erase(user=user)

    mine.refresh_from_db()
    other.refresh_from_db()
    kept.refresh_from_db()
    assert mine.author is None
    assert mine.pseudonym == "Former member"
    assert mine.author_email == f"erased-story-{mine.pk}@invalid"
    assert other.author_email == f"erased-story-{other.pk}@invalid"
    assert mine.body == "The nurse explained everything and the wait was short. I felt listened to."
    assert kept.author_email == "staying@example.org"
