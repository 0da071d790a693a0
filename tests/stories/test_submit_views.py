"""Telling a story through the website: the guided form, the warnings, the assisted form,
the author's private page and "lost your link?"."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from localsocial.stories.models import Story, StoryListing, StoryRevision
from localsocial.stories.services.common import secret_new
from localsocial.stories.services.submission import month_add
from tests.factories import MembershipFactory, ServiceFactory, StoryFactory, TagFactory, UserFactory
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db

TELL = "/stories/tell/"
ASSISTED = "/stories/tell/assisted/"


def this_month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def client():
    return CommittingClient()


@pytest.fixture
def service(db):
    return ServiceFactory(name="Riverside Ward", organisation__name="City Hospital")


def story_post(chosen, **overrides):
    month = month_add(this_month(), -2)
    data = {
        "service": [str(chosen.pk)],
        "title": "Kind staff on the ward",
        "body": "The nurses explained everything and the wait was short.",
        "feelings": "Reassured.",
        "author_role": "patient",
        "age_group": "",
        "happened_month": str(month.month),
        "happened_year": str(month.year),
        "pseudonym": "Grateful patient",
        "email": "teller@example.org",
        "website": "",
        "action": "send",
    }
    data.update(overrides)
    return data


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def main_text(response) -> str:
    """The words of the page's main content, without tokens that differ on every request."""
    main = re.search(r"<main.*</main>", text(response)).group(0)
    return re.sub(r"<[^>]+>", " ", main)


# --- Step 1: choosing services ------------------------------------------------------------------

def test_the_service_search_works_without_javascript_and_keeps_chosen_services(client, service):
    other = ServiceFactory(name="Riverside Pharmacy")
    ServiceFactory(name="Hillside Clinic")

    response = client.get(TELL, {"q": "riverside", "service": [str(service.pk)]})

    page = text(response)
    assert response.status_code == 200
    assert "Services you have chosen" in page
    assert f'name="service" type="checkbox" value="{service.pk}" checked' in page
    assert f'value="{other.pk}"' in page  # a result to tick
    assert "Hillside Clinic" not in page


def test_a_search_that_matches_nothing_says_so(client, service):
    response = client.get(TELL, {"q": "zzzz"})

    assert "No services match “zzzz”" in text(response)


def test_continuing_without_a_service_asks_for_one(client):
    response = client.get(TELL, {"q": "", "continue": "1"})

    page = text(response)
    assert "There is a problem" in page
    assert "Choose at least one service your story is about" in page
    assert "<title>Error:" in page


def test_continuing_with_services_shows_the_story_form_with_them(client, service):
    TagFactory(name="Kind staff", slug="kind-staff", polarity="good")
    TagFactory(name="Waiting time", slug="waiting-time", polarity="improve")

    response = client.get(TELL, {"service": [str(service.pk)], "continue": "1"})

    page = text(response)
    assert "Riverside Ward" in page
    assert f'<input type="hidden" name="service" value="{service.pk}">' in page
    assert "What was good? (optional)" in page
    assert "Kind staff" in page
    assert "What could be improved? (optional)" in page
    assert "Waiting time" in page
    assert 'data-maxwords="1000"' in page
    assert "Only our moderators see it" in page
    assert "stories-tell.js" in page


# --- Step 2: sending ----------------------------------------------------------------------------

def test_a_story_sent_without_javascript_is_stored_and_the_author_is_told_what_happens_next(client, service):
    response = client.post(TELL, story_post(service))

    assert response.status_code == 302
    assert response["Location"] == reverse("stories:tell_sent")
    story = Story.objects.get()
    assert (story.status, story.route, story.author_email) == ("pending", "web", "teller@example.org")
    assert story.happened_month == month_add(this_month(), -2)
    sent = text(client.get(response["Location"]))
    assert "Story sent" in sent
    assert "teller@example.org" in sent
    assert "What happens next" in sent
    assert len(mail.outbox) == 1
    assert re.search(r"/stories/mine/[\w-]+/", mail.outbox[0].body)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "Enter a title for your story"),
        ({"body": ""}, "Enter what happened"),
        ({"body": "word " * 1001}, "What happened must be 1,000 words or fewer. It has 1,001 words"),
        ({"service": []}, "Choose at least one service your story is about"),
        ({"service": ["987654"]}, "We could not find one of the services you chose. Search for it again"),
        ({"author_role": ""}, "Choose who you are"),
        ({"happened_month": "", "happened_year": ""}, "Enter the month and year it happened"),
        ({"happened_month": "13"}, "Enter the month as a number from 1 to 12"),
        ({"happened_year": "24"}, "Enter the year as 4 numbers, like 2025"),
        ({"happened_year": ""}, "The date must include a year"),
        ({"happened_year": str(this_month().year - 3)}, "We can only publish stories about the last 24 months"),
        ({"pseudonym": ""}, "Enter a name to show with your story"),
        ({"email": "nope"}, "Enter an email address in the correct format, like name@example.com"),
        ({"tags_good": ["999"]}, "Choose tags from the list"),
    ],
)
def test_bad_input_gives_a_clear_error_and_keeps_what_was_typed(client, service, overrides, message):
    data = story_post(service, **overrides)

    response = client.post(TELL, data)

    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert message in page
    assert "Kind staff on the ward" in page or overrides.get("title") == ""
    assert not Story.objects.exists()


def test_html_in_a_story_is_shown_as_text_when_the_form_comes_back(client, service):
    response = client.post(TELL, story_post(service, title="<script>alert(1)</script>", pseudonym=""))

    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- Personal-data warnings ---------------------------------------------------------------------

def test_personal_data_at_submit_is_shown_highlighted_and_nothing_is_stored_yet(client, service):
    body = "Dr Patel was kind. Call me on 07700 900123."

    response = client.post(TELL, story_post(service, body=body))

    page = text(response)
    assert response.status_code == 200
    assert "Check before you send" in page
    assert "We found 2 things that could identify someone" in page
    assert "<mark>Patel</mark>" in page
    assert "<mark>07700 900123</mark>" in page
    assert "This looks like a phone number" in page
    assert "I have checked, send it anyway" in page
    assert not Story.objects.exists()


def test_the_author_may_confirm_and_send_with_the_warnings(client, service):
    response = client.post(TELL, story_post(service, body="Dr Patel was kind.", personal_data_confirmed="on"))

    assert response.status_code == 302
    assert Story.objects.get().body == "Dr Patel was kind."


def test_fixing_the_personal_data_sends_without_asking(client, service):
    client.post(TELL, story_post(service, body="Dr Patel was kind."))

    response = client.post(TELL, story_post(service, body="The doctor was kind."))

    assert response.status_code == 302
    assert Story.objects.count() == 1


def test_the_check_button_shows_warnings_without_javascript_and_sends_nothing(client, service):
    response = client.post(TELL, story_post(service, title="Seen on 3 March 2025", action="check"))

    page = text(response)
    assert "We found 1 thing that could identify someone" in page
    assert "<mark>3 March 2025</mark>" in page
    assert "There is a problem" not in page
    assert not Story.objects.exists()


def test_the_check_button_says_when_it_found_nothing(client, service):
    response = client.post(TELL, story_post(service, action="check"))

    assert "found nothing that could identify someone" in text(response)


def test_the_check_endpoint_returns_each_finding_with_its_reason(client):
    response = client.post("/stories/tell/check/", {"body": "My son Jack was seen. Email me at jo@example.org", "title": ""})

    data = response.json()
    assert response.status_code == 200
    assert data["count"] == 2
    kinds = [(f["kind"], f["text"]) for f in data["fields"]["body"]["findings"]]
    assert kinds == [("name", "Jack"), ("email", "jo@example.org")]
    assert data["fields"]["body"]["findings"][0]["reason"].startswith("This looks like a person's name")
    assert data["fields"]["title"]["findings"] == []
    assert data["summary"] == "We found 2 things that could identify someone."


def test_the_check_endpoint_needs_a_csrf_token_and_a_post(db):
    strict = Client(enforce_csrf_checks=True)

    assert strict.post("/stories/tell/check/", {"body": "x"}).status_code == 403
    assert strict.get("/stories/tell/check/").status_code == 405


def test_the_check_endpoint_is_rate_limited(client, settings):
    settings.STORIES_CHECK_RATE = "2/h"

    statuses = [client.post("/stories/tell/check/", {"body": "x"}).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


# --- Spam and abuse -----------------------------------------------------------------------------

def test_a_filled_honeypot_looks_accepted_but_nothing_is_stored_or_sent(client, service):
    response = client.post(TELL, story_post(service, website="http://spam.example"))

    assert response.status_code == 302
    assert response["Location"] == reverse("stories:tell_sent")
    assert not Story.objects.exists()
    assert not mail.outbox


def test_the_honeypot_is_hidden_from_people_and_assistive_technology(client, service):
    page = text(client.get(TELL, {"service": [str(service.pk)], "continue": "1"}))

    assert re.search(r'<div class="govuk-visually-hidden" aria-hidden="true"> <label for="id_website">', page)
    assert 'name="website" value="" tabindex="-1" autocomplete="off"' in page


def test_the_senders_address_is_kept_with_the_story(service):
    # The service reads it from the request's context (set by the middleware), not from the view.
    client = CommittingClient(REMOTE_ADDR="198.51.100.23")

    assert client.post(TELL, story_post(service)).status_code == 302

    assert Story.objects.get().submitted_ip == "198.51.100.23"


def test_sending_is_rate_limited_per_address(client, service, settings):
    settings.STORIES_SUBMIT_RATE = "2/h"

    statuses = [
        client.post(TELL, story_post(service, title=f"Story {n}")).status_code for n in range(3)
    ]

    assert statuses == [302, 302, 429]
    assert Story.objects.count() == 2


def test_sending_is_rate_limited_per_account_whatever_the_address(service, settings):
    settings.STORIES_SUBMIT_RATE = "1/h"
    user = UserFactory()
    first, second = CommittingClient(REMOTE_ADDR="198.51.100.1"), CommittingClient(REMOTE_ADDR="198.51.100.2")
    first.force_login(user)
    second.force_login(user)

    assert first.post(TELL, story_post(service, title="One")).status_code == 302
    assert second.post(TELL, story_post(service, title="Two")).status_code == 429


def test_sending_the_same_story_twice_stores_it_once_and_says_so(client, service):
    client.post(TELL, story_post(service))
    response = client.post(TELL, story_post(service), follow=True)

    assert Story.objects.count() == 1
    assert "We already have this story" in text(response)
    assert "You sent us this story before" in mail.outbox[-1].body


def test_a_signed_in_author_uses_their_account_address(client, service):
    user = UserFactory(email="member@example.org")
    client.force_login(user)

    page = text(client.get(TELL, {"service": [str(service.pk)], "continue": "1"}))
    assert "member@example.org" in page
    assert 'name="email"' not in page

    client.post(TELL, story_post(service, email="someone-else@example.org"))
    story = Story.objects.get()
    assert (story.author, story.author_email) == (user, "member@example.org")


# --- Assisted entry -----------------------------------------------------------------------------

def test_assisted_entry_needs_a_signed_in_member_of_staff(client, service):
    assert client.get(ASSISTED).status_code == 302  # to sign in

    client.force_login(UserFactory())
    assert client.get(ASSISTED).status_code == 403


def test_staff_without_two_factor_are_sent_to_set_it_up(client):
    staff = MembershipFactory().user
    client.force_login(staff)

    response = client.get(ASSISTED)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor_setup"))


def test_staff_enter_a_story_from_a_phone_call_with_consent(client, service):
    staff = MembershipFactory(user__email="staff@example.org").user
    sign_in_verified(client, staff)

    page = text(client.get(ASSISTED, {"service": [str(service.pk)], "continue": "1"}))
    assert "The person agreed to us sharing their story" in page

    response = client.post(ASSISTED, story_post(
        service, email="", route="phone", consent="on", consent_note="Agreed on the phone",
    ))

    assert response.status_code == 302
    story = Story.objects.get()
    assert (story.route, story.entered_by, story.consent_note) == ("phone", staff, "Agreed on the phone")
    assert story.author_email.endswith("@no-email.invalid")
    assert mail.outbox[0].to == ["staff@example.org"]
    assert "sent the private link to their story to you" in text(client.get(response["Location"]))


def test_an_assisted_story_without_consent_is_refused_with_a_clear_message(client, service):
    staff = MembershipFactory().user
    sign_in_verified(client, staff)

    response = client.post(ASSISTED, story_post(service, route="paper", consent_note=""))

    page = text(response)
    assert "Confirm that the person agreed to us sharing their story" in page
    assert "Say how the person gave their consent" in page
    assert not Story.objects.exists()


# --- The author's private page ------------------------------------------------------------------

def story_with_secret(**kwargs):
    secret, token_hash = secret_new()
    return StoryFactory(author_token_hash=token_hash, **kwargs), secret


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("pending", "waiting for a moderator to read it"),
        ("held", "it will be published on"),
        ("notice", "private provider"),
        ("published", "Your story was published on"),
        ("restricted", "its text is now hidden from the public"),
        ("rejected", "We could not publish your story"),
        ("withdrawn", "You withdrew this story on"),
    ],
)
def test_the_private_page_says_where_the_story_is_in_plain_words(client, status, words):
    _story, secret = story_with_secret(status=status, rejection_reason="It named a member of staff.")

    response = client.get(f"/stories/mine/{secret}/")

    page = text(response)
    assert response.status_code == 200
    assert words in page
    assert response["Referrer-Policy"] == "same-origin"
    if status == "rejected":
        assert "It named a member of staff." in page


def test_an_unknown_secret_is_not_found(client):
    StoryFactory()

    assert client.get("/stories/mine/not-a-real-secret/").status_code == 404
    assert client.get("/stories/mine/not-a-real-secret/edit/").status_code == 404
    assert client.get("/stories/mine/not-a-real-secret/withdraw/").status_code == 404


def test_the_author_edits_a_pending_story_and_the_first_version_is_kept(client, service):
    client.post(TELL, story_post(service))
    secret = re.search(r"/stories/mine/([\w-]+)/", mail.outbox[0].body).group(1)

    form = client.get(f"/stories/mine/{secret}/edit/")
    assert "Kind staff on the ward" in text(form)
    response = client.post(f"/stories/mine/{secret}/edit/", story_post(service, title="Better title"))

    assert response.status_code == 302
    story = Story.objects.get()
    assert story.title == "Better title"
    assert list(StoryRevision.objects.filter(story=story).values_list("kind", flat=True)) == ["original", "author"]
    assert "Your changes are saved" in text(client.get(response["Location"]))


def test_an_edit_with_bad_input_is_refused_and_the_story_unchanged(client):
    story, secret = story_with_secret(status="pending")

    response = client.post(f"/stories/mine/{secret}/edit/", {"title": "", "body": "x", "author_role": "patient",
                                                              "happened_month": "1", "happened_year": "1999", "pseudonym": "P"})

    page = text(response)
    assert "Enter a title for your story" in page
    assert "We can only publish stories about the last 24 months" in page
    story.refresh_from_db()
    assert story.title.startswith("Story number")


def test_an_edit_shows_personal_data_warnings_too(client):
    _story, secret = story_with_secret(status="pending")
    month = this_month()

    response = client.post(f"/stories/mine/{secret}/edit/", {
        "title": "T", "body": "Nurse Jones helped", "author_role": "patient",
        "happened_month": str(month.month), "happened_year": str(month.year), "pseudonym": "P",
    })

    assert "<mark>Jones</mark>" in text(response)


def test_a_moderated_story_cannot_be_edited_and_the_author_is_told_why(client):
    story, secret = story_with_secret(status="published")

    get = client.get(f"/stories/mine/{secret}/edit/")
    post = client.post(f"/stories/mine/{secret}/edit/", {"title": "Changed", "body": "Changed"})

    assert "You can no longer change this story" in text(get)
    assert "You can no longer change this story" in text(post)
    story.refresh_from_db()
    assert story.title != "Changed"


def test_withdrawing_asks_first_then_hides_the_story_everywhere(client):
    story, secret = story_with_secret(status="published", body="A very particular story text.")

    confirm = client.get(f"/stories/mine/{secret}/withdraw/")
    assert "Are you sure you want to withdraw your story?" in text(confirm)
    response = client.post(f"/stories/mine/{secret}/withdraw/", follow=True)

    story.refresh_from_db()
    assert story.status == "withdrawn"
    assert story.withdrawn_at is not None
    assert not StoryListing.objects.filter(story=story).exists()
    assert StoryRevision.objects.filter(story=story).exists()
    page = text(response)
    assert "Your story is withdrawn" in page
    assert "A very particular story text." not in page
    try:
        public = client.get(reverse("stories:story", kwargs={"pk": story.pk}))
    except NoReverseMatch:  # the public story page is another part's; check it when it exists
        return
    assert "A very particular story text." not in text(public)


def test_a_rejected_story_cannot_be_withdrawn(client):
    story, secret = story_with_secret(status="rejected")

    client.post(f"/stories/mine/{secret}/withdraw/")

    story.refresh_from_db()
    assert story.status == "rejected"


# --- Lost your link? ----------------------------------------------------------------------------

def test_lost_links_are_sent_and_the_answer_is_the_same_whether_or_not_there_are_stories(client):
    StoryFactory(author_email="lost@example.org", title="My lost story")

    known = client.post("/stories/mine/", {"email": "lost@example.org"}, follow=True)
    unknown = client.post("/stories/mine/", {"email": "never@example.org"}, follow=True)

    assert known.redirect_chain == unknown.redirect_chain
    assert main_text(known) == main_text(unknown)
    assert "Check your email" in main_text(known)
    assert [m.to for m in mail.outbox] == [["lost@example.org"]]
    assert "My lost story" in mail.outbox[0].body


def test_lost_links_need_a_real_address(client):
    response = client.post("/stories/mine/", {"email": "nope"})

    assert "Enter an email address in the correct format" in text(response)


def test_lost_links_are_rate_limited(client, settings):
    settings.ACCOUNT_EMAIL_RATE = "2/h"

    statuses = [client.post("/stories/mine/", {"email": "a@example.org"}).status_code for _ in range(3)]

    assert statuses == [302, 302, 429]


# --- Fixed number of queries --------------------------------------------------------------------

@pytest.mark.parametrize("count", [10, 200])
def test_the_search_step_has_a_fixed_number_of_queries(client, django_assert_max_num_queries, count):
    services = [ServiceFactory(name=f"Riverside unit {n}") for n in range(count)]
    chosen = [str(s.pk) for s in services[: min(count, 10)]]

    with django_assert_max_num_queries(4):
        response = client.get(TELL, {"q": "riverside", "service": chosen})

    assert response.status_code == 200


@pytest.mark.parametrize("count", [10, 200])
def test_the_story_step_has_a_fixed_number_of_queries(client, service, django_assert_max_num_queries, count):
    for n in range(count):
        TagFactory(name=f"Tag {n}", slug=f"tag-q-{n}", polarity="good" if n % 2 else "improve")
    services = [str(ServiceFactory().pk) for _ in range(10)]

    with django_assert_max_num_queries(4):
        response = client.get(TELL, {"service": services, "continue": "1"})

    assert response.status_code == 200


@pytest.mark.parametrize("count", [10, 200])
def test_the_private_page_has_a_fixed_number_of_queries(client, django_assert_max_num_queries, count):
    tags = [TagFactory(name=f"Tag {n}", slug=f"tag-p-{n}") for n in range(count)]
    services = [ServiceFactory() for _ in range(count)]
    _story, secret = story_with_secret(status="pending", tags=tags, services=services)

    with django_assert_max_num_queries(8):
        response = client.get(f"/stories/mine/{secret}/")

    assert response.status_code == 200
